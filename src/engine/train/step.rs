//! The pieces of one optimiser step, shared by the trainer and the step timer: the optimiser,
//! the times of a batch, the objective's loss and the descent.

use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::Tensor;
use rand::Rng;

use super::config::{Objective, TrainConfig};
use super::error::TrainError;
use super::loss::{BctLoss, LossParts, bct_loss, denoise_loss};
use super::times::{TimeSampler, Times, sample_denoise};
use crate::engine::network::UNet;

/// The optimiser of a run.
pub(super) fn optimizer(config: &TrainConfig) -> ModuleOptimizer {
    // Adam stands in for the reference's RAdam (burn has no RAdam); the linear warm-up does
    // the job of RAdam's variance rectification in the first steps.
    AdamConfig::new()
        .with_epsilon(1e-8)
        .with_grad_clipping(
            config
                .grad_clip
                .map(|c| GradientClippingConfig::Norm(c as f32)),
        )
        .init()
}

/// The times of one batch for an objective.
pub(super) fn draw_times(
    objective: Objective,
    sampler: &TimeSampler,
    rng: &mut impl Rng,
    n: usize,
) -> Vec<Times> {
    (0..n)
        .map(|_| match objective {
            Objective::Denoise => sample_denoise(rng),
            Objective::Bct | Objective::Ct => sampler.sample(rng),
        })
        .collect()
}

/// The loss of an objective for one batch. `input`: damaged copies of the crops for the
/// denoising objective (None: the clean crops).
pub(super) fn objective_loss(
    objective: Objective,
    net: &UNet,
    x0: Tensor<4>,
    input: Option<Tensor<4>>,
    z: Tensor<4>,
    times: &[Times],
    seed: u64,
) -> BctLoss {
    match objective {
        Objective::Bct => bct_loss(net, x0, z, times, seed, true),
        Objective::Ct => bct_loss(net, x0, z, times, seed, false),
        Objective::Denoise => {
            let input = input.unwrap_or_else(|| x0.clone());
            denoise_loss(net, x0, input, z, times, seed)
        }
    }
}

/// One optimiser step from a batch's loss; a non-finite loss stops training at `step`.
pub(super) fn descend(
    loss: BctLoss,
    net: UNet,
    optim: &mut ModuleOptimizer,
    lr: f64,
    step: u64,
) -> Result<(UNet, LossParts), TrainError> {
    // The backward pass is queued before the loss is read back, so on a GPU the read waits
    // for one stream of work instead of stalling between the forward and backward passes.
    let grads = loss.loss.backward();
    let parts = loss.parts();
    if !parts.total.is_finite() {
        return Err(TrainError::Diverged(step));
    }
    let grads = GradientsParams::from_grads(grads, &net);
    Ok((optim.step(lr, net, grads), parts))
}
