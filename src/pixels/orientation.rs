//! EXIF orientation on planar images: a phone stores a photo as its sensor read it and a tag
//! (1-8) saying how to turn it upright. The editor works on the upright pixels; a JPEG's
//! coding grid stays in the stored orientation, so its projection turns them back first.

use super::planar::Planar;

/// Width and height of the upright image for a stored `w`×`h` one.
fn upright_size(code: u8, w: usize, h: usize) -> (usize, usize) {
    if (5..=8).contains(&code) {
        (h, w)
    } else {
        (w, h)
    }
}

/// Where upright pixel (x, y) is stored, for a stored `w`×`h` image.
fn stored_at(code: u8, x: usize, y: usize, w: usize, h: usize) -> (usize, usize) {
    match code {
        2 => (w - 1 - x, y),
        3 => (w - 1 - x, h - 1 - y),
        4 => (x, h - 1 - y),
        5 => (y, x),
        6 => (y, h - 1 - x),
        7 => (w - 1 - y, h - 1 - x),
        8 => (w - 1 - y, x),
        _ => (x, y),
    }
}

/// The stored image turned upright as tag `code` says (codes outside 2-8 change nothing).
pub fn to_upright(stored: &Planar, code: u8) -> Planar {
    let (w, h) = (stored.width, stored.height);
    let (uw, uh) = upright_size(code, w, h);
    let mut out = Planar::zeros(stored.channels, uh, uw);
    for c in 0..stored.channels {
        for y in 0..uh {
            for x in 0..uw {
                let (sx, sy) = stored_at(code, x, y, w, h);
                out.data[(c * uh + y) * uw + x] = stored.data[(c * h + sy) * w + sx];
            }
        }
    }
    out
}

/// The upright image turned back to how tag `code` stores it (the inverse of [`to_upright`]).
pub fn to_stored(upright: &Planar, code: u8) -> Planar {
    let (uw, uh) = (upright.width, upright.height);
    // The stored size is the upright size turned back.
    let (w, h) = upright_size(code, uw, uh);
    let mut out = Planar::zeros(upright.channels, h, w);
    for c in 0..upright.channels {
        for y in 0..uh {
            for x in 0..uw {
                let (sx, sy) = stored_at(code, x, y, w, h);
                out.data[(c * h + sy) * w + sx] = upright.data[(c * uh + y) * uw + x];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::metadata::Orientation;
    use image::{DynamicImage, RgbImage};

    #[test]
    fn every_tag_turns_as_the_image_crate_does_and_back() {
        let stored =
            RgbImage::from_fn(5, 3, |x, y| image::Rgb([(x * 40) as u8, (y * 80) as u8, 7]));
        let planar = crate::photo::planar_from_image(&DynamicImage::ImageRgb8(stored.clone()));
        for code in 1..=8u8 {
            let mut reference = DynamicImage::ImageRgb8(stored.clone());
            reference.apply_orientation(Orientation::from_exif(code).unwrap());
            let upright = to_upright(&planar, code);
            assert_eq!(
                upright,
                crate::photo::planar_from_image(&reference),
                "tag {code}"
            );
            assert_eq!(to_stored(&upright, code), planar, "tag {code} back");
        }
    }
}
