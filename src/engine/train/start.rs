//! What a new or resumed run starts from: its initial weights and, for a distillation, the
//! frozen teacher.

use burn::tensor::Device;

use super::config::{Objective, TrainConfig};
use super::error::TrainError;
use super::step::Teacher;
use super::trainer::run_err;
use crate::engine::model::Bcm;
use crate::engine::network::UNet;
use crate::engine::weights;

/// Starting weights: fresh, or from a model file. A consistency model given as the start of
/// a bidirectional run gets its u branch added (the reference's CM → BCM fine-tuning).
pub(super) fn initial_net(config: &mut TrainConfig, device: &Device) -> Result<UNet, TrainError> {
    let Some(path) = &config.init else {
        device.seed(config.seed);
        return Ok(config.model.init(device));
    };
    let mut model = weights::load(path, device)?;
    let card = std::fs::read(weights::card_path(path)).map_err(|e| run_err(path, e))?;
    config.init_steps = weights::parse_card(&card, &path.display().to_string())?.steps;
    if config.objective.is_bidirectional() {
        model = with_end_branch(model, device);
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

/// The teacher of a distillation: the run's starting weights, frozen, on the plain device.
pub(super) fn load_teacher(
    config: &TrainConfig,
    device: &Device,
) -> Result<Option<Teacher>, TrainError> {
    if config.objective != Objective::Distill {
        return Ok(None);
    }
    let path = config.init.as_ref().ok_or_else(|| {
        TrainError::Setting("distillation needs the model to distil (--init)".into())
    })?;
    Ok(Some(Teacher {
        model: with_end_branch(weights::load(path, device)?, device),
        paths: config.paths,
        denoise_share: config.denoise_share,
    }))
}
