use image::{DynamicImage, ImageBuffer, Pixel, Rgba32FImage};

use crate::pixels::{Mask, Planar};

/// Turn an engine result into an image in the original's pixel format, with the original's
/// alpha. Where `mask` is 0 the original pixel is copied unchanged (bit-identical).
pub fn compose(
    result: &Planar,
    original: Option<&DynamicImage>,
    mask: Option<&Mask>,
) -> DynamicImage {
    let (w, h) = (result.width, result.height);
    let n = w * h;
    let unit = |v: f32| ((v + 1.0) * 0.5).clamp(0.0, 1.0);
    let alpha: Option<Vec<f32>> = original
        .filter(|o| o.color().has_alpha())
        .map(|o| o.to_rgba32f().pixels().map(|p| p.0[3]).collect());
    let rgba = Rgba32FImage::from_fn(w as u32, h as u32, |x, y| {
        let i = y as usize * w + x as usize;
        let a = alpha.as_ref().map_or(1.0, |a| a[i]);
        image::Rgba([
            unit(result.data[i]),
            unit(result.data[n + i]),
            unit(result.data[2 * n + i]),
            a,
        ])
    });
    let Some(original) = original else {
        return DynamicImage::ImageRgb8(DynamicImage::ImageRgba32F(rgba).to_rgb8());
    };
    let mut out = convert_like(DynamicImage::ImageRgba32F(rgba), original);
    if let Some(mask) = mask {
        keep_unmasked(&mut out, original, mask);
    }
    out
}

fn convert_like(img: DynamicImage, like: &DynamicImage) -> DynamicImage {
    match like {
        DynamicImage::ImageLuma8(_) => DynamicImage::ImageLuma8(img.to_luma8()),
        DynamicImage::ImageLumaA8(_) => DynamicImage::ImageLumaA8(img.to_luma_alpha8()),
        DynamicImage::ImageRgb8(_) => DynamicImage::ImageRgb8(img.to_rgb8()),
        DynamicImage::ImageRgba8(_) => DynamicImage::ImageRgba8(img.to_rgba8()),
        DynamicImage::ImageLuma16(_) => DynamicImage::ImageLuma16(img.to_luma16()),
        DynamicImage::ImageLumaA16(_) => DynamicImage::ImageLumaA16(img.to_luma_alpha16()),
        DynamicImage::ImageRgb16(_) => DynamicImage::ImageRgb16(img.to_rgb16()),
        DynamicImage::ImageRgb32F(_) => DynamicImage::ImageRgb32F(img.to_rgb32f()),
        DynamicImage::ImageRgba32F(_) => img,
        _ => DynamicImage::ImageRgba16(img.to_rgba16()),
    }
}

fn copy_where_zero<P: Pixel>(
    out: &mut ImageBuffer<P, Vec<P::Subpixel>>,
    orig: &ImageBuffer<P, Vec<P::Subpixel>>,
    mask: &Mask,
) {
    for ((o, s), &m) in out.pixels_mut().zip(orig.pixels()).zip(&mask.data) {
        if m <= 0.0 {
            *o = *s;
        }
    }
}

fn keep_unmasked(out: &mut DynamicImage, orig: &DynamicImage, mask: &Mask) {
    use DynamicImage as D;
    match (out, orig) {
        (D::ImageLuma8(o), D::ImageLuma8(s)) => copy_where_zero(o, s, mask),
        (D::ImageLumaA8(o), D::ImageLumaA8(s)) => copy_where_zero(o, s, mask),
        (D::ImageRgb8(o), D::ImageRgb8(s)) => copy_where_zero(o, s, mask),
        (D::ImageRgba8(o), D::ImageRgba8(s)) => copy_where_zero(o, s, mask),
        (D::ImageLuma16(o), D::ImageLuma16(s)) => copy_where_zero(o, s, mask),
        (D::ImageLumaA16(o), D::ImageLumaA16(s)) => copy_where_zero(o, s, mask),
        (D::ImageRgb16(o), D::ImageRgb16(s)) => copy_where_zero(o, s, mask),
        (D::ImageRgba16(o), D::ImageRgba16(s)) => copy_where_zero(o, s, mask),
        (D::ImageRgb32F(o), D::ImageRgb32F(s)) => copy_where_zero(o, s, mask),
        (D::ImageRgba32F(o), D::ImageRgba32F(s)) => copy_where_zero(o, s, mask),
        // Formats without a typed buffer here were converted to RGBA16 above; nothing to keep.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photo::planar_from_image;

    #[test]
    fn unmasked_pixels_are_bit_identical_for_every_format() {
        let base = image::RgbaImage::from_fn(9, 7, |x, y| {
            image::Rgba([(x * 29) as u8, (y * 31) as u8, 200, 90 + x as u8])
        });
        let base = DynamicImage::ImageRgba8(base);
        let variants = [
            DynamicImage::ImageLuma8(base.to_luma8()),
            DynamicImage::ImageLumaA8(base.to_luma_alpha8()),
            DynamicImage::ImageRgb8(base.to_rgb8()),
            base.clone(),
            DynamicImage::ImageLuma16(base.to_luma16()),
            DynamicImage::ImageRgb16(base.to_rgb16()),
            DynamicImage::ImageRgba16(base.to_rgba16()),
        ];
        for orig in variants {
            let mut changed = planar_from_image(&orig);
            for v in &mut changed.data {
                *v = (*v * 0.5 + 0.1).clamp(-1.0, 1.0);
            }
            let mut mask = Mask::empty(9, 7);
            mask.data[10] = 1.0;
            let out = compose(&changed, Some(&orig), Some(&mask));
            assert_eq!(out.color(), orig.color());
            let (ob, sb) = (out.as_bytes(), orig.as_bytes());
            let bpp = orig.color().bytes_per_pixel() as usize;
            for i in 0..63 {
                let same = ob[i * bpp..(i + 1) * bpp] == sb[i * bpp..(i + 1) * bpp];
                if i == 10 {
                    assert!(!same, "{:?}: masked pixel unchanged", orig.color());
                } else {
                    assert!(same, "{:?}: pixel {i} changed", orig.color());
                }
            }
        }
    }

    #[test]
    fn alpha_is_kept_without_a_mask() {
        let orig = DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(
            4,
            4,
            image::Rgba([10, 20, 30, 77]),
        ));
        let out = compose(&planar_from_image(&orig), Some(&orig), None);
        assert_eq!(out.to_rgba8().get_pixel(2, 2).0[3], 77);
        assert_eq!(out.to_rgba8().get_pixel(2, 2).0[..3], [10, 20, 30]);
    }
}
