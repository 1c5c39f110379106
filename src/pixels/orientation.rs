//! EXIF orientation on planar images: a phone stores a photo as its sensor read it and a tag
//! (1-8) saying how to turn it upright. The editor works on the upright pixels; a JPEG's
//! coding grid stays in the stored orientation, so its projection turns them back first.

use std::borrow::Cow;

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

/// Whether tag `code` turns the image at all (codes outside 2-8 mean "as stored").
fn turns(code: u8) -> bool {
    (2..=8).contains(&code)
}

/// Copy pixels between the stored `w`×`h` image and its upright view: `upright` says which
/// one `from` is.
fn copy_turned(from: &Planar, code: u8, upright: bool) -> Planar {
    let (w, h) = if upright {
        upright_size(code, from.width, from.height)
    } else {
        (from.width, from.height)
    };
    let (uw, uh) = upright_size(code, w, h);
    let (ow, oh) = if upright { (w, h) } else { (uw, uh) };
    let mut out = Planar::zeros(from.channels, oh, ow);
    for c in 0..from.channels {
        for y in 0..uh {
            for x in 0..uw {
                let (sx, sy) = stored_at(code, x, y, w, h);
                let (stored, shown) = ((c * h + sy) * w + sx, (c * uh + y) * uw + x);
                if upright {
                    out.data[stored] = from.data[shown];
                } else {
                    out.data[shown] = from.data[stored];
                }
            }
        }
    }
    out
}

/// The stored image turned upright as tag `code` says; borrowed when the tag turns nothing
/// (the common case, so a restoration pass copies nothing for it).
pub fn to_upright(stored: &Planar, code: u8) -> Cow<'_, Planar> {
    if turns(code) {
        Cow::Owned(copy_turned(stored, code, false))
    } else {
        Cow::Borrowed(stored)
    }
}

/// The upright image turned back to how tag `code` stores it (the inverse of [`to_upright`]).
pub fn to_stored(upright: &Planar, code: u8) -> Cow<'_, Planar> {
    if turns(code) {
        Cow::Owned(copy_turned(upright, code, true))
    } else {
        Cow::Borrowed(upright)
    }
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
                *upright,
                crate::photo::planar_from_image(&reference),
                "tag {code}"
            );
            assert_eq!(*to_stored(&upright, code), planar, "tag {code} back");
        }
    }
}
