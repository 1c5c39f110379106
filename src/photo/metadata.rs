//! What a photo carries besides its pixels and is written back with its results: the EXIF
//! block (camera, date, GPS; its orientation tag reset once the pixels are turned upright)
//! and the ICC colour profile.

use image::ImageDecoder;
use image::metadata::Orientation;

/// Metadata kept from the input file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// The raw EXIF (TIFF) block, orientation set to "upright".
    pub exif: Option<Vec<u8>>,
    pub icc: Option<Vec<u8>>,
}

/// Read the decoder's metadata before it decodes: the orientation to apply and what to keep.
/// A block that cannot be read is dropped rather than failing the photo.
pub(super) fn take(decoder: &mut dyn ImageDecoder) -> (Orientation, Metadata) {
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut exif = decoder.exif_metadata().ok().flatten();
    if let Some(block) = exif.as_mut() {
        // The pixels are turned upright on load, so the tag must say so.
        let _ = Orientation::remove_from_exif_chunk(block);
    }
    let icc = decoder.icc_profile().ok().flatten();
    (orientation, Metadata { exif, icc })
}
