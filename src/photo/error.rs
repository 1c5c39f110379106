use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum PhotoError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot decode {path}: {message}")]
    Decode { path: PathBuf, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
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
