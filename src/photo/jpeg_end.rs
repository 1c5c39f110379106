//! Whether a JPEG file holds its whole image: a file cut short (a download that stopped, a
//! copy that failed) still decodes, with the missing part grey, so it is refused instead.

/// Walks the JPEG's segments from its start: headers by their lengths, scans up to the next
/// marker, until the end-of-image marker. False if the bytes end before it. A thumbnail inside
/// a header and images appended after the end (multi-picture files) do not count.
pub fn jpeg_is_complete(bytes: &[u8]) -> bool {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return false;
    }
    let mut i = 2;
    loop {
        // Markers may be padded with any number of 0xFF bytes.
        while bytes.get(i) == Some(&0xFF) && bytes.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (bytes.get(i), bytes.get(i + 1)) else {
            return false;
        };
        i += 2;
        match marker {
            0xD9 => return true,
            // Markers without a length: restart markers, TEM.
            0xD0..=0xD7 | 0x01 => continue,
            _ => {}
        }
        let Some(len) = bytes
            .get(i..i + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        else {
            return false;
        };
        if len < 2 {
            return false;
        }
        i += len;
        if marker == 0xDA {
            // Entropy-coded data: 0xFF is followed by a stuffed 0x00 or a restart marker
            // inside it; anything else is the next marker.
            loop {
                match (bytes.get(i), bytes.get(i + 1)) {
                    (Some(&0xFF), Some(&next)) if next == 0x00 || (0xD0..=0xD7).contains(&next) => {
                        i += 2
                    }
                    (Some(&0xFF), Some(_)) => break,
                    (Some(_), _) => i += 1,
                    (None, _) => return false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &[u8] = include_bytes!("../../assets/samples/life.jpg");

    #[test]
    fn a_whole_jpeg_is_complete_and_a_cut_one_is_not() {
        assert!(jpeg_is_complete(SAMPLE));
        for keep in [SAMPLE.len() / 2, SAMPLE.len() - 2, 600, 3] {
            assert!(!jpeg_is_complete(&SAMPLE[..keep]), "cut at {keep}");
        }
        // Bytes after the end marker (appended data) do not matter.
        let mut appended = SAMPLE.to_vec();
        appended.extend_from_slice(b"trailing bytes a camera wrote");
        assert!(jpeg_is_complete(&appended));
        assert!(!jpeg_is_complete(b"not a jpeg"));
    }

    #[test]
    fn encoded_jpegs_of_many_sizes_are_complete() {
        for (w, h, q) in [(1, 1, 90), (17, 9, 10), (64, 48, 75), (333, 200, 100)] {
            let img = image::RgbImage::from_fn(w, h, |x, y| {
                image::Rgb([(x * 7) as u8, (y * 13) as u8, ((x ^ y) * 3) as u8])
            });
            let mut bytes = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, q)
                .encode_image(&img)
                .unwrap();
            assert!(jpeg_is_complete(&bytes), "{w}x{h} q{q}");
            assert!(
                !jpeg_is_complete(&bytes[..bytes.len() - 10]),
                "{w}x{h} q{q} cut"
            );
        }
    }
}
