//! The pixel types every layer shares: planar float images, masks, what a JPEG file's
//! headers say about its coding, and EXIF orientation. The lowest layer: it imports no other
//! part of the crate, so `photo` and `engine` both build on it without depending on each other.

pub mod error;
pub mod jpeg_tables;
pub mod mask;
pub mod orientation;
pub mod planar;

pub use error::PixelError;
pub use jpeg_tables::{ColourModel, JpegTables, is_jpeg};
pub use mask::{Mask, Rect};
pub use planar::Planar;
