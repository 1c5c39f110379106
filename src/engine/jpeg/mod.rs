//! What a JPEG file proves about its pixels: its quantisation tables, and the projection of
//! a restoration onto the images that would have compressed to the same file.

pub mod consistency;
pub mod dct;
pub use crate::pixels::jpeg_tables as tables;

pub use crate::pixels::{ColourModel, JpegTables, is_jpeg};
pub use consistency::jpeg_consistent;
