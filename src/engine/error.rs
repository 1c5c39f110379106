//! Errors of the headless engine.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum EngineError {
    #[error("cancelled")]
    Cancelled,
    #[error("noise level {0} is outside the model's range [0.002, 80]")]
    SigmaOutOfRange(f32),
    #[error("invalid schedule: {0}")]
    Schedule(String),
    #[error("size mismatch: {0}")]
    SizeMismatch(String),
    #[error("invalid parameter: {0}")]
    Parameter(String),
    #[error("JPEG: {0}")]
    Jpeg(String),
    #[error("model weights: {0}")]
    Weights(String),
    #[error("model config: {0}")]
    Config(String),
    #[error("device: {0}")]
    Device(String),
    #[error("tensor backend: {0}")]
    Backend(String),
    // The I/O error is part of the message (what the editor shows) rather than a `source`, so
    // a printed error chain names it once.
    #[error("{context}: {cause}")]
    Io {
        context: String,
        cause: std::io::Error,
    },
}

impl From<crate::pixels::PixelError> for EngineError {
    fn from(e: crate::pixels::PixelError) -> Self {
        match e {
            crate::pixels::PixelError::SizeMismatch(m) => Self::SizeMismatch(m),
            crate::pixels::PixelError::Jpeg(m) => Self::Jpeg(m),
        }
    }
}

impl EngineError {
    pub fn io(context: impl Into<String>, cause: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            cause,
        }
    }
}

pub type Result<T> = std::result::Result<T, EngineError>;
