//! The training loop around [`Trainer::step`]: checkpoints, validation and sample grids at
//! their intervals, reported as events. Used by the CLI and by the editor's training tab.

use std::path::PathBuf;

use super::data::{CropSpec, PhotoCache, validation_batch};
use super::error::TrainError;
use super::trainer::{StepReport, Trainer, append_log};
use super::validate::{self, ValReport};
use crate::engine::planar::Planar;
use crate::photo::{self, SaveOptions};

/// Something that happened in a run.
#[derive(Debug, Clone)]
pub enum Event {
    Step(StepReport),
    Validation(ValReport),
    Checkpoint { step: u64, dir: PathBuf },
    Samples { step: u64, path: PathBuf },
}

/// What the caller wants before the next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Continue,
    /// End the loop (after a final checkpoint).
    Stop,
    /// Write a checkpoint now, then continue.
    SaveNow,
    /// Validate and write a sample grid now, then continue.
    SampleNow,
}

/// The caller's side of the loop. `next_request` may block (pause) or sleep (yield the
/// device to interactive work).
pub trait Control {
    fn next_request(&mut self) -> Request;
    fn event(&mut self, event: Event);
}

/// Held-out crops used for validation and sample grids (at most eight).
pub fn validation_images(trainer: &Trainer) -> Result<Vec<Planar>, TrainError> {
    let spec = CropSpec {
        patch: trainer.config.patch,
        downscale: trainer.config.downscale,
    };
    let batch = validation_batch(&trainer.photos, &PhotoCache::default(), spec, 8)?;
    Ok(validate::images(&batch))
}

/// Measure the EMA model on the validation crops and log it.
pub fn validate_now(trainer: &Trainer, val: &[Planar]) -> Result<ValReport, TrainError> {
    let report = validate::validation(trainer.ema_model(), val, trainer.step)?;
    append_log(&trainer.run.join("val.jsonl"), &report)?;
    Ok(report)
}

/// Write the sample grid for the current step; returns its path.
pub fn samples_now(trainer: &Trainer, val: &[Planar]) -> Result<PathBuf, TrainError> {
    let grid = validate::sample_grid(trainer.ema_model(), val, trainer.config.patch)?;
    let dir = trainer.run.join("samples");
    std::fs::create_dir_all(&dir)
        .map_err(|e| TrainError::Run(format!("{}: {e}", dir.display())))?;
    let path = dir.join(format!("step-{:08}.png", trainer.step));
    photo::save(
        &path,
        &image::DynamicImage::ImageRgb8(grid),
        None,
        SaveOptions::default(),
    )
    .map_err(|e| TrainError::Run(e.to_string()))?;
    Ok(path)
}

/// Train until `until` steps (or a stop request), with checkpoints, validation and samples at
/// the configured intervals. Always ends with a checkpoint of the last step.
pub fn drive(
    trainer: &mut Trainer,
    until: u64,
    control: &mut dyn Control,
) -> Result<(), TrainError> {
    let val = validation_images(trainer)?;
    let mut saved_at = trainer.step;
    while trainer.step < until {
        match control.next_request() {
            Request::Continue => {}
            Request::Stop => break,
            Request::SaveNow => {
                let dir = trainer.save_checkpoint()?;
                saved_at = trainer.step;
                control.event(Event::Checkpoint {
                    step: trainer.step,
                    dir,
                });
                continue;
            }
            Request::SampleNow => {
                control.event(Event::Validation(validate_now(trainer, &val)?));
                control.event(Event::Samples {
                    step: trainer.step,
                    path: samples_now(trainer, &val)?,
                });
                continue;
            }
        }
        let report = trainer.step()?;
        control.event(Event::Step(report));
        let step = trainer.step;
        if step.is_multiple_of(trainer.config.validate_every) {
            control.event(Event::Validation(validate_now(trainer, &val)?));
        }
        if step.is_multiple_of(trainer.config.sample_every) {
            control.event(Event::Samples {
                step,
                path: samples_now(trainer, &val)?,
            });
        }
        if step.is_multiple_of(trainer.config.checkpoint_every) {
            let dir = trainer.save_checkpoint()?;
            saved_at = step;
            control.event(Event::Checkpoint { step, dir });
        }
    }
    if trainer.step != saved_at {
        let dir = trainer.save_checkpoint()?;
        control.event(Event::Checkpoint {
            step: trainer.step,
            dir,
        });
    }
    Ok(())
}
