//! What a JPEG file proves about its pixels: its quantisation tables, and the projection of
//! a restoration onto the images that would have compressed to the same file.

pub mod consistency;
pub mod dct;
pub mod tables;

pub use consistency::jpeg_consistent;
pub use tables::{ColourModel, JpegTables, is_jpeg};
