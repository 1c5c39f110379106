use std::path::Path;

use image::{DynamicImage, ExtendedColorType};

use super::error::PhotoError;
use super::metadata::Metadata;
use super::recipe::{RECIPE_KEY, Recipe};
use crate::util::atomic::write_atomic;

/// File formats results can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Png,
    Jpeg,
    WebP,
}

impl OutputFormat {
    /// From the file extension.
    pub fn from_path(path: &Path) -> Result<Self, PhotoError> {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "png" => Ok(Self::Png),
            "jpg" | "jpeg" => Ok(Self::Jpeg),
            "webp" => Ok(Self::WebP),
            _ => Err(PhotoError::Format(ext)),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct SaveOptions {
    /// JPEG quality 1–100.
    pub jpeg_quality: u8,
}

impl Default for SaveOptions {
    fn default() -> Self {
        Self { jpeg_quality: 92 }
    }
}

fn encode_err(format: &str, e: impl std::fmt::Display) -> PhotoError {
    PhotoError::Encode {
        format: format.into(),
        message: e.to_string(),
    }
}

/// PNG through the `png` crate so the recipe can go into a text chunk. 16-bit stays 16-bit;
/// float images are written as 16-bit.
fn encode_png(
    img: &DynamicImage,
    recipe: Option<&Recipe>,
    meta: &Metadata,
) -> Result<Vec<u8>, PhotoError> {
    use png::{BitDepth, ColorType};
    let img = match img {
        DynamicImage::ImageRgb32F(_) => DynamicImage::ImageRgb16(img.to_rgb16()),
        DynamicImage::ImageRgba32F(_) => DynamicImage::ImageRgba16(img.to_rgba16()),
        other => other.clone(),
    };
    let (color, depth) = match img.color() {
        image::ColorType::L8 => (ColorType::Grayscale, BitDepth::Eight),
        image::ColorType::La8 => (ColorType::GrayscaleAlpha, BitDepth::Eight),
        image::ColorType::Rgb8 => (ColorType::Rgb, BitDepth::Eight),
        image::ColorType::Rgba8 => (ColorType::Rgba, BitDepth::Eight),
        image::ColorType::L16 => (ColorType::Grayscale, BitDepth::Sixteen),
        image::ColorType::La16 => (ColorType::GrayscaleAlpha, BitDepth::Sixteen),
        image::ColorType::Rgb16 => (ColorType::Rgb, BitDepth::Sixteen),
        _ => (ColorType::Rgba, BitDepth::Sixteen),
    };
    let img = if color == ColorType::Rgba
        && depth == BitDepth::Sixteen
        && img.color() != image::ColorType::Rgba16
    {
        DynamicImage::ImageRgba16(img.to_rgba16())
    } else {
        img
    };
    let mut data = img.as_bytes().to_vec();
    if depth == BitDepth::Sixteen {
        // PNG stores samples big-endian.
        for pair in data.chunks_exact_mut(2) {
            let v = u16::from_ne_bytes([pair[0], pair[1]]);
            pair.copy_from_slice(&v.to_be_bytes());
        }
    }
    let mut out = Vec::new();
    {
        let mut info = png::Info::with_size(img.width(), img.height());
        info.icc_profile = meta.icc.as_deref().map(Into::into);
        info.exif_metadata = meta.exif.as_deref().map(Into::into);
        let mut enc = png::Encoder::with_info(&mut out, info).map_err(|e| encode_err("PNG", e))?;
        enc.set_color(color);
        enc.set_depth(depth);
        if let Some(r) = recipe {
            // tEXt holds Latin-1 only; a model named in other letters goes in iTXt (UTF-8).
            let json = r.to_json();
            if json.chars().all(|c| u32::from(c) <= 0xFF) {
                enc.add_text_chunk(RECIPE_KEY.into(), json)
            } else {
                enc.add_itxt_chunk(RECIPE_KEY.into(), json)
            }
            .map_err(|e| encode_err("PNG", e))?;
        }
        let mut writer = enc.write_header().map_err(|e| encode_err("PNG", e))?;
        writer
            .write_image_data(&data)
            .map_err(|e| encode_err("PNG", e))?;
        writer.finish().map_err(|e| encode_err("PNG", e))?;
    }
    Ok(out)
}

/// JPEG (8-bit grey or RGB; alpha is dropped) with the recipe in a COM segment.
fn encode_jpeg(
    img: &DynamicImage,
    quality: u8,
    recipe: Option<&Recipe>,
    meta: &Metadata,
) -> Result<Vec<u8>, PhotoError> {
    let mut out = Vec::new();
    let mut enc =
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100));
    attach_metadata(&mut enc, meta, "JPEG")?;
    if img.color().has_color() {
        let rgb = img.to_rgb8();
        enc.encode(
            rgb.as_raw(),
            rgb.width(),
            rgb.height(),
            ExtendedColorType::Rgb8,
        )
    } else {
        let l = img.to_luma8();
        enc.encode(l.as_raw(), l.width(), l.height(), ExtendedColorType::L8)
    }
    .map_err(|e| encode_err("JPEG", e))?;
    if let Some(r) = recipe {
        let text = r.to_json().into_bytes();
        if text.len() + 2 <= usize::from(u16::MAX) && out.len() >= 2 {
            let len = (text.len() + 2) as u16;
            let mut segment = vec![0xFF, 0xFE];
            segment.extend_from_slice(&len.to_be_bytes());
            segment.extend_from_slice(&text);
            let at = after_app_segments(&out);
            out.splice(at..at, segment);
        }
    }
    Ok(out)
}

/// Give the encoder the photo's ICC profile and EXIF to write.
fn attach_metadata(
    enc: &mut impl image::ImageEncoder,
    meta: &Metadata,
    format: &str,
) -> Result<(), PhotoError> {
    if let Some(icc) = &meta.icc {
        enc.set_icc_profile(icc.clone())
            .map_err(|e| encode_err(format, e))?;
    }
    if let Some(exif) = &meta.exif {
        enc.set_exif_metadata(exif.clone())
            .map_err(|e| encode_err(format, e))?;
    }
    Ok(())
}

/// Offset just past the APPn segments that follow a JPEG's SOI: EXIF readers expect their
/// APP1 first, so the recipe's comment goes after them.
fn after_app_segments(jpeg: &[u8]) -> usize {
    let mut at = 2;
    while at + 4 <= jpeg.len() && jpeg[at] == 0xFF && (0xE0..=0xEF).contains(&jpeg[at + 1]) {
        at += 2 + usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
    }
    at.min(jpeg.len())
}

fn encode_webp(img: &DynamicImage, meta: &Metadata) -> Result<Vec<u8>, PhotoError> {
    let mut out = Vec::new();
    let mut enc = image::codecs::webp::WebPEncoder::new_lossless(&mut out);
    attach_metadata(&mut enc, meta, "WebP")?;
    if img.color().has_alpha() {
        let rgba = img.to_rgba8();
        enc.encode(
            rgba.as_raw(),
            rgba.width(),
            rgba.height(),
            ExtendedColorType::Rgba8,
        )
    } else {
        let rgb = img.to_rgb8();
        enc.encode(
            rgb.as_raw(),
            rgb.width(),
            rgb.height(),
            ExtendedColorType::Rgb8,
        )
    }
    .map_err(|e| encode_err("WebP", e))?;
    Ok(out)
}

/// Encode in memory.
pub fn encode(
    img: &DynamicImage,
    format: OutputFormat,
    recipe: Option<&Recipe>,
    opts: SaveOptions,
) -> Result<Vec<u8>, PhotoError> {
    encode_with_metadata(img, format, recipe, opts, &Metadata::default())
}

/// [`encode`] with the input's EXIF and colour profile.
pub fn encode_with_metadata(
    img: &DynamicImage,
    format: OutputFormat,
    recipe: Option<&Recipe>,
    opts: SaveOptions,
    meta: &Metadata,
) -> Result<Vec<u8>, PhotoError> {
    match format {
        OutputFormat::Png => encode_png(img, recipe, meta),
        OutputFormat::Jpeg => encode_jpeg(img, opts.jpeg_quality, recipe, meta),
        OutputFormat::WebP => encode_webp(img, meta),
    }
}

/// Encode and write atomically; the format comes from the extension.
pub fn save(
    path: &Path,
    img: &DynamicImage,
    recipe: Option<&Recipe>,
    opts: SaveOptions,
) -> Result<(), PhotoError> {
    save_with_metadata(path, img, recipe, opts, &Metadata::default())
}

/// [`save`] with the input's EXIF and colour profile.
pub fn save_with_metadata(
    path: &Path,
    img: &DynamicImage,
    recipe: Option<&Recipe>,
    opts: SaveOptions,
    meta: &Metadata,
) -> Result<(), PhotoError> {
    let bytes = encode_with_metadata(img, OutputFormat::from_path(path)?, recipe, opts, meta)?;
    write_atomic(path, &bytes).map_err(|e| PhotoError::Write {
        path: path.into(),
        cause: e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photo::{decode, read_recipe};

    fn png_with(img: &DynamicImage, recipe: &Recipe) -> Vec<u8> {
        encode(img, OutputFormat::Png, Some(recipe), SaveOptions::default()).unwrap()
    }

    #[test]
    fn png_roundtrips_16_bit_grey_and_recipe() {
        let img = DynamicImage::ImageLuma16(image::ImageBuffer::from_fn(5, 3, |x, y| {
            image::Luma([(x * 9000 + y * 7) as u16])
        }));
        let recipe = Recipe::new(
            "restore",
            vec!["0.002 > +0.1 > 0.002".into()],
            5,
            "tiny",
            1,
            serde_json::json!({"sigma": 0.1}),
        );
        let bytes = png_with(&img, &recipe);
        let back = decode(&bytes, Path::new("mem.png")).unwrap();
        assert_eq!(back.color(), image::ColorType::L16);
        assert_eq!(back.as_bytes(), img.as_bytes());
        assert_eq!(read_recipe(&bytes), Some(recipe));
    }

    #[test]
    fn a_recipe_beyond_latin_1_is_kept_too() {
        let img = DynamicImage::ImageRgb8(image::RgbImage::new(4, 4));
        for model in ["a × b", "a + 1.00 × (b − c)", "写真"] {
            let recipe = Recipe::new("generate", vec![], 1, model, 2, serde_json::json!({}));
            assert_eq!(
                read_recipe(&png_with(&img, &recipe)),
                Some(recipe),
                "{model}"
            );
        }
    }

    #[test]
    fn jpeg_and_webp_decode_again() {
        let img = DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(
            16,
            8,
            image::Rgba([200, 100, 50, 255]),
        ));
        for format in [OutputFormat::Jpeg, OutputFormat::WebP] {
            let bytes = encode(&img, format, None, SaveOptions::default()).unwrap();
            let back = decode(&bytes, Path::new("mem")).unwrap();
            assert_eq!((back.width(), back.height()), (16, 8));
        }
    }
}
