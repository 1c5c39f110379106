//! Turning engine images and masks into egui textures, with partial updates for strokes.

use egui::{Color32, ColorImage, TextureHandle, TextureOptions};

use crate::engine::mask::{Mask, Rect};
use crate::engine::planar::Planar;

/// Largest texture side the canvas uploads; bigger photos are shown downscaled.
pub const MAX_SIDE: usize = 8192;

fn to_u8(v: f32) -> u8 {
    ((v + 1.0) * 127.5).round().clamp(0.0, 255.0) as u8
}

/// Display pixels of a rectangle of an image (alpha from `alpha` if given).
pub fn image_pixels(img: &Planar, alpha: Option<&[u8]>, r: Rect) -> ColorImage {
    let n = img.pixels();
    let mut px = Vec::with_capacity(r.width() * r.height());
    for y in r.y0..r.y1 {
        for x in r.x0..r.x1 {
            let i = y * img.width + x;
            let a = alpha.map_or(255, |a| a[i]);
            px.push(Color32::from_rgba_unmultiplied(
                to_u8(img.data[i]),
                to_u8(img.data[n + i]),
                to_u8(img.data[2 * n + i]),
                a,
            ));
        }
    }
    ColorImage::new([r.width(), r.height()], px)
}

/// Overlay pixels of a rectangle of a mask: `color` with the mask as opacity.
pub fn mask_pixels(mask: &Mask, color: Color32, opacity: f32, r: Rect) -> ColorImage {
    let mut px = Vec::with_capacity(r.width() * r.height());
    for y in r.y0..r.y1 {
        for x in r.x0..r.x1 {
            let a = (mask.data[y * mask.width + x] * opacity * 255.0)
                .round()
                .clamp(0.0, 255.0) as u8;
            px.push(Color32::from_rgba_unmultiplied(
                color.r(),
                color.g(),
                color.b(),
                a,
            ));
        }
    }
    ColorImage::new([r.width(), r.height()], px)
}

/// Colour strokes: their colour with their coverage as alpha.
pub fn stroke_pixels(color: &Planar, alpha: &Mask, r: Rect) -> ColorImage {
    let n = color.pixels();
    let mut px = Vec::with_capacity(r.width() * r.height());
    for y in r.y0..r.y1 {
        for x in r.x0..r.x1 {
            let i = y * color.width + x;
            let a = (alpha.data[i] * 255.0).round().clamp(0.0, 255.0) as u8;
            px.push(Color32::from_rgba_unmultiplied(
                to_u8(color.data[i]),
                to_u8(color.data[n + i]),
                to_u8(color.data[2 * n + i]),
                a,
            ));
        }
    }
    ColorImage::new([r.width(), r.height()], px)
}

/// Nearest-neighbour downscale so no side exceeds [`MAX_SIDE`] (display only).
pub fn fit_for_display(img: ColorImage) -> ColorImage {
    let [w, h] = img.size;
    let k = w.max(h).div_ceil(MAX_SIDE);
    if k <= 1 {
        return img;
    }
    let (nw, nh) = (w / k, h / k);
    let px = (0..nh)
        .flat_map(|y| (0..nw).map(move |x| (x, y)))
        .map(|(x, y)| img.pixels[y * k * w + x * k])
        .collect();
    ColorImage::new([nw, nh], px)
}

/// Options: smooth when zoomed out, crisp pixels when zoomed in.
pub fn options(zoom: f32) -> TextureOptions {
    if zoom >= 2.0 {
        TextureOptions::NEAREST
    } else {
        TextureOptions::LINEAR
    }
}

/// Update part of a texture; a full upload when the texture is a downscaled display copy.
pub fn update(
    tex: &mut TextureHandle,
    doc_size: [usize; 2],
    full: impl FnOnce() -> ColorImage,
    part: impl FnOnce() -> ColorImage,
    r: Rect,
    opts: TextureOptions,
) {
    if tex.size() == doc_size {
        tex.set_partial([r.x0, r.y0], part(), opts);
    } else {
        tex.set(fit_for_display(full()), opts);
    }
}
