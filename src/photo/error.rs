use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum PhotoError {
    // I/O errors are part of the message rather than a `source`, so a printed error chain
    // names them once.
    #[error("cannot read {path}: {cause}")]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("cannot decode {path}: {message}")]
    Decode { path: PathBuf, message: String },
    #[error("cannot write {path}: {cause}")]
    Write {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("cannot encode {format}: {message}")]
    Encode { format: String, message: String },
    #[error("unsupported output format '{0}' (use .png, .jpg or .webp)")]
    Format(String),
    #[error("size mismatch: {0}")]
    Size(String),
    #[error("image too large: {0}")]
    TooLarge(String),
}
