//! bcm-studio: an image editor built on a Bidirectional Consistency Model.
//!
//! - [`app`]: the editor (egui panels and state; sends jobs, draws results).
//! - [`jobs`]: worker threads between the editor and the engine.
//! - [`engine`]: the BCM itself (network, noise schedule, samplers, editing tasks, weights).
//! - [`photo`]: reading and writing image files, recipes, exact compositing.
//! - [`pixels`]: the pixel types both build on (planar images, masks, JPEG tables).
//! - [`util`]: small shared helpers.

pub mod app;
pub mod engine;
pub mod jobs;
pub mod photo;
pub mod pixels;
pub mod util;
