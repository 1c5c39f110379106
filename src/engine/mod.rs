//! The headless BCM engine: parameterisation, network, sampling plans, tasks, weights and
//! devices. Nothing here knows about the GUI.

pub mod device;
pub mod error;
pub mod fill;
pub mod jpeg;
pub mod latent_file;
// The shared pixel types live in the lowest layer; these paths keep the engine's names.
pub use crate::pixels::{mask, orientation, planar};
pub mod merge;
pub mod model;
pub mod network;
pub mod noise;
pub mod noise_level;
pub mod ode;
pub mod plan;
pub mod resample;
pub mod sampler;
pub mod schedule;
pub mod tasks;
pub mod train;
pub mod weights;

pub use error::{EngineError, Result};
pub use mask::Mask;
pub use model::Bcm;
pub use noise::NoiseRng;
pub use plan::{GenerationPreset, Op, Plan};
pub use planar::Planar;
pub use sampler::{Monitor, Progress, Tiling};
