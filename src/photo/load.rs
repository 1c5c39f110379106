use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits};

use super::budget::{BYTES_PER_PIXEL, default_pixel_limit, describe_size};
use super::error::PhotoError;
use super::guard::guarded;
use super::jpeg_end::jpeg_is_complete;
use super::metadata::{self, Metadata};
use crate::pixels::{JpegTables, Mask, Planar, is_jpeg};

/// Largest side accepted (decoding a bigger image would exhaust memory).
const MAX_SIDE: u32 = 20_000;

/// A decoded photo: the original pixels (kept for exact compositing and alpha) and the
/// engine's view of them.
#[derive(Debug, Clone)]
pub struct Photo {
    pub path: Option<PathBuf>,
    pub original: DynamicImage,
    pub rgb: Planar,
    /// The quantisation tables, when the photo came from a JPEG file (restoration keeps its
    /// result consistent with them).
    pub jpeg: Option<JpegTables>,
    /// The white-noise level measured in the photo as loaded (restoration's damage), where
    /// a caller measured it (`engine::noise_level::estimate_noise`).
    pub noise: Option<f32>,
    /// EXIF and colour profile of the file, written back into results.
    pub metadata: Metadata,
}

impl Photo {
    pub fn width(&self) -> usize {
        self.original.width() as usize
    }
    pub fn height(&self) -> usize {
        self.original.height() as usize
    }
    pub fn from_image(original: DynamicImage, path: Option<PathBuf>) -> Photo {
        let rgb = planar_from_image(&original);
        Photo {
            path,
            original,
            rgb,
            jpeg: None,
            noise: None,
            metadata: Metadata::default(),
        }
    }
}

/// RGB in [-1, 1], channel-major. Grey images are replicated to three channels; alpha is
/// left to the original.
pub fn planar_from_image(img: &DynamicImage) -> Planar {
    let rgb = img.to_rgb32f();
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let mut data = vec![0.0f32; 3 * w * h];
    for (i, px) in rgb.pixels().enumerate() {
        for c in 0..3 {
            data[c * w * h + i] = px.0[c].clamp(0.0, 1.0) * 2.0 - 1.0;
        }
    }
    Planar {
        channels: 3,
        height: h,
        width: w,
        data,
    }
}

/// Whether the planar image made from `original` holds its pixels exactly (8-bit RGB or grey
/// decodes; wider formats are rounded on the way).
pub fn converts_exactly(original: &DynamicImage) -> bool {
    matches!(
        original,
        DynamicImage::ImageRgb8(_) | DynamicImage::ImageLuma8(_)
    )
}

/// Whether `img` still holds exactly the pixels of `original` (an 8-bit RGB or grey
/// decode), without converting the whole image.
pub fn matches_decoded(img: &Planar, original: &DynamicImage) -> bool {
    let (w, h) = (original.width() as usize, original.height() as usize);
    if (img.channels, img.width, img.height) != (3, w, h) {
        return false;
    }
    let n = w * h;
    let level = |v: u8| f32::from(v) / 255.0 * 2.0 - 1.0;
    let close = |c: usize, i: usize, v: u8| (img.data[c * n + i] - level(v)).abs() < 1e-6;
    match original {
        DynamicImage::ImageRgb8(rgb) => rgb
            .pixels()
            .enumerate()
            .all(|(i, p)| (0..3).all(|c| close(c, i, p.0[c]))),
        DynamicImage::ImageLuma8(grey) => grey
            .pixels()
            .enumerate()
            .all(|(i, p)| (0..3).all(|c| close(c, i, p.0[0]))),
        _ => false,
    }
}

/// Decode bytes (format from the content, not the name), turned upright as its EXIF says.
pub fn decode(bytes: &[u8], origin: &Path) -> Result<DynamicImage, PhotoError> {
    decode_limited(bytes, origin, default_pixel_limit())
}

/// [`decode`], refusing images of more than `max_pixels` before their pixels are decoded.
pub fn decode_limited(
    bytes: &[u8],
    origin: &Path,
    max_pixels: u64,
) -> Result<DynamicImage, PhotoError> {
    Ok(decode_upright(bytes, origin, max_pixels)?.0)
}

/// The upright image, the EXIF orientation that was applied, and the metadata to keep.
fn decode_upright(
    bytes: &[u8],
    origin: &Path,
    max_pixels: u64,
) -> Result<(DynamicImage, Orientation, Metadata), PhotoError> {
    let decode_error = |e: image::ImageError| PhotoError::Decode {
        path: origin.into(),
        message: e.to_string(),
    };
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| PhotoError::Decode {
            path: origin.into(),
            message: e.to_string(),
        })?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    reader.limits(limits);
    if reader.format().is_none() {
        return Err(PhotoError::Decode {
            path: origin.into(),
            message: "not a PNG, JPEG or WebP image".into(),
        });
    }
    // The decoder fills a cut-short JPEG with grey and reports success.
    if reader.format() == Some(image::ImageFormat::Jpeg) && !jpeg_is_complete(bytes) {
        return Err(PhotoError::Decode {
            path: origin.into(),
            message: "the JPEG file is cut short (it ends before its image does); \
                      was the download or copy finished?"
                .into(),
        });
    }
    let decoder_failed = |message: String| PhotoError::Decode {
        path: origin.into(),
        message: format!("the decoder failed on this file ({message})"),
    };
    let mut decoder = guarded(|| reader.into_decoder())
        .map_err(decoder_failed)?
        .map_err(decode_error)?;
    let (w, h) = decoder.dimensions();
    if w > MAX_SIDE || h > MAX_SIDE || u64::from(w) * u64::from(h) > max_pixels {
        return Err(PhotoError::TooLarge(format!(
            "{} is {}; the limit is {:.0} MP ({} bytes per pixel while it is worked on, from \
             the memory free now; --max-megapixels sets another) and {MAX_SIDE} pixels a side",
            origin.display(),
            describe_size(w, h),
            max_pixels as f64 / 1e6,
            BYTES_PER_PIXEL,
        )));
    }
    let (orientation, metadata) = metadata::take(&mut decoder);
    let mut img = guarded(|| DynamicImage::from_decoder(decoder))
        .map_err(decoder_failed)?
        .map_err(decode_error)?;
    img.apply_orientation(orientation);
    Ok((img, orientation, metadata))
}

pub fn load(path: &Path) -> Result<Photo, PhotoError> {
    load_limited(path, default_pixel_limit())
}

/// [`load`] with a limit of `max_pixels`.
pub fn load_limited(path: &Path, max_pixels: u64) -> Result<Photo, PhotoError> {
    let bytes = std::fs::read(path).map_err(|e| PhotoError::Read {
        path: path.into(),
        cause: e,
    })?;
    let mut photo = from_bytes_limited(&bytes, path, max_pixels)?;
    photo.path = Some(path.into());
    Ok(photo)
}

/// A photo from a file's bytes (`origin` names it in errors); it has no path of its own.
pub fn from_bytes(bytes: &[u8], origin: &Path) -> Result<Photo, PhotoError> {
    from_bytes_limited(bytes, origin, default_pixel_limit())
}

fn from_bytes_limited(bytes: &[u8], origin: &Path, max_pixels: u64) -> Result<Photo, PhotoError> {
    let (img, orientation, metadata) = decode_upright(bytes, origin, max_pixels)?;
    let mut photo = Photo::from_image(img, None);
    photo.metadata = metadata;
    // A header the tables cannot be read from still decoded: the photo is simply restored
    // without the file's evidence.
    photo.jpeg = is_jpeg(bytes)
        .then(|| JpegTables::read(bytes).ok())
        .flatten()
        .map(|tables| JpegTables {
            orientation: orientation.to_exif(),
            ..tables
        });
    Ok(photo)
}

/// A mask from an image: white (or opaque, for images with alpha) means "regenerate".
pub fn mask_from_image(img: &DynamicImage) -> Mask {
    let la = img.to_luma_alpha32f();
    let (w, h) = (la.width() as usize, la.height() as usize);
    let data = la
        .pixels()
        .map(|p| (p.0[0] * p.0[1]).clamp(0.0, 1.0))
        .collect();
    Mask {
        width: w,
        height: h,
        data,
    }
}

/// Load a mask file that must match `width`×`height`.
pub fn load_mask(path: &Path, width: usize, height: usize) -> Result<Mask, PhotoError> {
    let bytes = std::fs::read(path).map_err(|e| PhotoError::Read {
        path: path.into(),
        cause: e,
    })?;
    let mask = mask_from_image(&decode(&bytes, path)?);
    if (mask.width, mask.height) != (width, height) {
        return Err(PhotoError::Size(format!(
            "mask {} is {}x{} but the image is {width}x{height}",
            path.display(),
            mask.width,
            mask.height
        )));
    }
    Ok(mask)
}
