//! What a new or resumed run starts from: its initial weights and, for a distillation, the
//! frozen teacher.

use std::path::Path;

use burn::tensor::Device;

use super::config::{Objective, TrainConfig};
use super::error::TrainError;
use super::step::Teacher;
use super::trainer::run_err;
use crate::engine::model::Bcm;
use crate::engine::network::UNet;
use crate::engine::plan::Ladders;
use crate::engine::weights;
use crate::util::atomic::write_atomic;

/// The run's own copy of its teacher (with its card beside it): a resumed distillation must
/// follow the same teacher even after the file it started from is replaced, as the shipped
/// model is when a new one is exported over it.
pub const TEACHER_FILE: &str = "teacher.safetensors";

/// Starting weights: fresh, or from a model file. A consistency model given as the start of
/// a bidirectional run gets its u branch added (the reference's CM → BCM fine-tuning).
pub(super) fn initial_net(config: &mut TrainConfig, device: &Device) -> Result<UNet, TrainError> {
    let Some(path) = &config.init else {
        device.seed(config.seed);
        return Ok(config.model.init(device));
    };
    let (mut model, card) = weights::load_with_card(path, device)?;
    config.init_steps = card.steps;
    if config.objective.is_bidirectional() {
        model = with_end_branch(model, device);
    }
    // An inpainting run from a plain model: the mask's channels are added with zero weights.
    let wanted = config.model.conditioning();
    if wanted > model.config.conditioning() {
        model.net = model
            .net
            .with_extra_inputs(wanted - model.config.conditioning());
        model.config.condition_channels = Some(wanted);
    }
    config.model = model.config;
    Ok(model.net)
}

/// A consistency model as the equal BCM (its u branch added); a BCM as it is.
fn with_end_branch(mut model: Bcm, device: &Device) -> Bcm {
    if !model.config.bidirectional {
        model.net.time = model.net.time.add_end_branch(device);
        model.config.bidirectional = true;
    }
    model
}

/// The teacher of a distillation: `--teacher`, else the run's starting weights; frozen, on the
/// plain device. Read from the run's own copy when it has one; otherwise from the file, then
/// kept in the run.
pub(super) fn load_teacher(
    config: &TrainConfig,
    run: &Path,
    device: &Device,
) -> Result<Option<Teacher>, TrainError> {
    if config.objective != Objective::Distill {
        return Ok(None);
    }
    let kept = run.join(TEACHER_FILE);
    let source = if kept.exists() {
        kept.clone()
    } else {
        config
            .teacher
            .clone()
            .or_else(|| config.init.clone())
            .ok_or_else(|| {
                TrainError::Setting("distillation needs the model to distil (--init)".into())
            })?
    };
    let model = weights::load(&source, device)?;
    // The teacher's ODE is followed with Heun hops of it as a denoiser, which misreads a model
    // that follows the ODE itself (as the ladders would).
    if model.info.ladders.kind == Ladders::Plain {
        return Err(TrainError::Setting(format!(
            "{} follows the ODE itself (its card says plain ladders), so it cannot be a distillation's teacher, which is read as a denoiser: distil a denoiser-trained model (Heun ladders), or continue the distillation that made it with --resume (or as a new run: this model as --init, the denoiser it was distilled from as --teacher; the shipped model's is {})",
            source.display(),
            weights::shipped_file(weights::SHIPPED_TEACHER).display()
        )));
    }
    if source != kept {
        for (from, to) in [
            (source.clone(), kept.clone()),
            (weights::card_path(&source), weights::card_path(&kept)),
        ] {
            let bytes = std::fs::read(&from).map_err(|e| run_err(&from, e))?;
            write_atomic(&to, &bytes).map_err(|e| run_err(&to, e))?;
        }
    }
    Ok(Some(Teacher::new(with_end_branch(model, device), config)?))
}
