//! The BCM network: a U-Net with two time embeddings.

mod blocks;
mod config;
mod cpu;
mod dropout;
mod embedding;
mod norm;
mod unet;

pub use config::{NormKind, UNetConfig};
pub use dropout::DropoutMasks;
pub use unet::UNet;
