//! EXIF orientation and metadata on a JPEG stored as a phone stores it (tests/fixtures).

use std::io::Cursor;
use std::path::Path;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader};

use super::{Metadata, OutputFormat, SaveOptions, encode_with_metadata, from_bytes};

const SIDEWAYS: &[u8] = include_bytes!("../../tests/fixtures/sideways-phone.jpg");

/// The metadata a decoder reads from `bytes`, untouched.
fn raw_metadata(bytes: &[u8]) -> (Orientation, Option<Vec<u8>>, Option<Vec<u8>>) {
    let mut d = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .unwrap()
        .into_decoder()
        .unwrap();
    (
        d.orientation().unwrap(),
        d.exif_metadata().unwrap(),
        d.icc_profile().unwrap(),
    )
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_sideways_phone_jpeg_opens_upright_with_its_metadata() {
    let (orientation, _, icc) = raw_metadata(SIDEWAYS);
    assert_eq!(
        orientation,
        Orientation::Rotate90,
        "the fixture is stored sideways"
    );
    let photo = from_bytes(SIDEWAYS, Path::new("sideways-phone.jpg")).unwrap();
    assert_eq!(
        (photo.width(), photo.height()),
        (240, 128),
        "upright landscape"
    );
    // The pixels are the stored ones turned 90° clockwise.
    let stored = image::load_from_memory(SIDEWAYS).unwrap();
    assert_eq!((stored.width(), stored.height()), (128, 240));
    assert_eq!(
        photo.original.to_rgb8().as_raw(),
        stored.rotate90().to_rgb8().as_raw()
    );
    // The EXIF is kept with its tag now saying "upright"; the profile is kept as it was.
    let exif = photo.metadata.exif.as_deref().unwrap();
    assert_eq!(
        Orientation::from_exif_chunk(exif),
        Some(Orientation::NoTransforms)
    );
    assert!(contains(exif, b"bcm-studio test"), "camera make kept");
    assert_eq!(photo.metadata.icc, icc);
    // Restoration's projection knows the file's grid is the stored one.
    let tables = photo.jpeg.as_ref().unwrap();
    assert_eq!(tables.orientation, 6);
    assert_eq!((tables.width, tables.height), (128, 240));
    tables.check_size(240, 128).unwrap();
}

#[test]
fn results_keep_the_exif_and_profile_and_open_upright_everywhere() {
    let photo = from_bytes(SIDEWAYS, Path::new("sideways-phone.jpg")).unwrap();
    for format in [OutputFormat::Jpeg, OutputFormat::Png, OutputFormat::WebP] {
        let bytes = encode_with_metadata(
            &photo.original,
            format,
            None,
            SaveOptions::default(),
            &photo.metadata,
        )
        .unwrap();
        let (orientation, exif, icc) = raw_metadata(&bytes);
        assert_eq!(orientation, Orientation::NoTransforms, "{format:?}");
        assert_eq!(exif, photo.metadata.exif, "{format:?}: EXIF");
        assert_eq!(icc, photo.metadata.icc, "{format:?}: ICC");
        let back = from_bytes(&bytes, Path::new("out")).unwrap();
        assert_eq!((back.width(), back.height()), (240, 128), "{format:?}");
    }
    // A photo without metadata writes none.
    let plain = DynamicImage::ImageRgb8(image::RgbImage::new(8, 8));
    let bytes = encode_with_metadata(
        &plain,
        OutputFormat::Jpeg,
        None,
        SaveOptions::default(),
        &Metadata::default(),
    )
    .unwrap();
    assert_eq!(raw_metadata(&bytes).1, None);
}
