//! The worker between the editor and the engine: commands in, progress and results out.
//!
//! One thread owns the model. The editor sends a [`Job`]; the worker reports [`Event`]s and
//! calls the waker after each, so the UI repaints without polling. Cancel is a flag checked by
//! the engine between network evaluations and tiles. One job runs at a time; a second one is
//! refused (interpolation frames replace a waiting frame instead, so dragging never queues up).

pub mod blend;
mod job;
pub mod training;
mod worker;

pub use job::{Job, JobError, JobOutput, ModelSource};
pub use worker::{Event, JobHold, JobId, Worker};
