//! Bidirectional consistency training (BCT) on folders of photos: curriculum, time sampling,
//! loss, EMA, data loading, checkpoints, validation.

pub mod checkpoint;
pub mod config;
pub mod curriculum;
pub mod data;
pub mod degrade;
pub mod distill;
pub mod driver;
pub mod ema;
pub mod error;
pub mod inpaint_data;
pub mod inpaint_eval;
pub mod loss;
pub mod lr_schedule;
pub mod metrics;
pub mod paths;
pub mod round_trip;
mod start;
pub mod step;
pub mod times;
pub mod timing;
pub mod trainer;
pub mod validate;

pub use config::{Objective, ResumeChanges, TrainConfig};
pub use error::TrainError;
pub use start::TEACHER_FILE;
pub use trainer::{StepReport, Trainer, run_config};
