//! Errors of the pixel types.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum PixelError {
    #[error("size mismatch: {0}")]
    SizeMismatch(String),
    #[error("JPEG: {0}")]
    Jpeg(String),
}

pub type Result<T> = std::result::Result<T, PixelError>;
