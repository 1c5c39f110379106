//! Image files in and out: decoding any PNG/JPEG/WebP (8/16-bit, grey, RGB, alpha) into the
//! engine's planar RGB, and writing results in the input's own pixel format with the recipe
//! that made them. Pixels outside a result's mask are copied from the original unchanged.

mod budget;
mod composite;
mod error;
mod guard;
mod jpeg_end;
mod load;
mod metadata;
mod recipe;
mod save;

pub use budget::{available_memory, default_pixel_limit, pixel_budget};
pub use composite::compose;
pub use error::PhotoError;
pub use guard::in_guarded_decode;
pub use load::{
    Photo, converts_exactly, decode, decode_limited, from_bytes, load, load_limited, load_mask,
    mask_from_image, matches_decoded, planar_from_image,
};
pub use metadata::Metadata;
pub use recipe::{Recipe, read_recipe};
pub use save::{OutputFormat, SaveOptions, encode, encode_with_metadata, save, save_with_metadata};

#[cfg(test)]
mod metadata_tests;
