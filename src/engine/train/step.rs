//! The pieces of one optimiser step, shared by the trainer and the step timer: the optimiser,
//! the times of a batch, the objective's loss and the descent.

use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Tensor, TensorData};
use rand::Rng;

use super::config::{Objective, TrainConfig};
use super::distill::{DENOISE_CAP, distill_loss, teacher_path};
use super::error::TrainError;
use super::inpaint_data::hole_batch;
use super::loss::{BctLoss, LossParts, bct_loss, denoise_loss, inpaint_loss};
use super::paths::PathLevels;
use super::round_trip::round_trip_loss;
use super::times::{TimeSampler, Times, sample_denoise, sample_denoise_below};
use crate::engine::model::Bcm;
use crate::engine::network::UNet;
use crate::engine::schedule::SIGMA_MIN;

/// The frozen model a distillation follows, how many of a batch's crops it follows, the
/// share of crops that also train the denoising objective and how many train the model's own
/// round trip.
pub(super) struct Teacher {
    pub model: Bcm,
    pub paths: usize,
    pub denoise_share: f64,
    pub round_trips: usize,
    /// Evaluations each way a round trip's are drawn from.
    pub round_trip_lengths: Vec<usize>,
    /// Weight of the round-trip loss against the pairs'.
    pub round_trip_weight: f32,
    /// Weight of the denoising part against the pairs'.
    pub denoise_weight: f32,
    /// The levels of the paths, for the run's ladder floor (their start), where the round trips
    /// turn too.
    pub path_levels: PathLevels,
}

impl Teacher {
    /// `model` followed with the run's settings for paths, denoising share, round trips and
    /// ladder floor.
    pub fn new(model: Bcm, config: &TrainConfig) -> Result<Self, TrainError> {
        Ok(Self {
            model,
            paths: config.paths,
            denoise_share: config.denoise_share,
            round_trips: config.round_trips,
            round_trip_lengths: config.round_trip_choices(),
            round_trip_weight: config.round_trip_weight,
            denoise_weight: config.denoise_weight,
            path_levels: PathLevels::new(config.ladder_floor)?,
        })
    }
}

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

/// The times of one batch for an objective (for distillation, the levels of its denoising
/// part; its pairs of levels are drawn along the teacher's paths).
pub(super) fn draw_times(
    objective: Objective,
    sampler: &TimeSampler,
    rng: &mut impl Rng,
    n: usize,
) -> Vec<Times> {
    match objective {
        Objective::Denoise | Objective::Inpaint => (0..n).map(|_| sample_denoise(rng)).collect(),
        Objective::Bct | Objective::Ct => (0..n).map(|_| sampler.sample(rng)).collect(),
        Objective::Distill => (0..n)
            .map(|_| sample_denoise_below(rng, DENOISE_CAP))
            .collect(),
    }
}

/// What one batch's loss is computed from.
pub(super) struct BatchInputs<'a> {
    pub x0: Tensor<4>,
    /// Damaged copies of the crops for the denoising objective (None: the clean crops).
    pub input: Option<Tensor<4>>,
    pub z: Tensor<4>,
    pub times: &'a [Times],
    pub seed: u64,
}

/// The loss of an objective for one batch; distillation needs its teacher.
pub(super) fn objective_loss(
    objective: Objective,
    net: &UNet,
    batch: BatchInputs,
    teacher: Option<&Teacher>,
    rng: &mut impl Rng,
) -> Result<BctLoss, TrainError> {
    let BatchInputs {
        x0,
        input,
        z,
        times,
        seed,
    } = batch;
    Ok(match objective {
        Objective::Bct => bct_loss(net, x0, z, times, seed, true),
        Objective::Ct => bct_loss(net, x0, z, times, seed, false),
        Objective::Denoise => {
            let input = input.unwrap_or_else(|| x0.clone());
            denoise_loss(net, x0, input, z, times, seed)
        }
        Objective::Inpaint => {
            let holes = hole_batch(&x0, seed ^ 0x401E)?;
            inpaint_loss(net, x0, holes.start, holes.condition, holes.weight, seed)
        }
        Objective::Distill => {
            let teacher = teacher.ok_or_else(|| {
                TrainError::Setting("distillation needs a teacher model (--init)".into())
            })?;
            let input = input.unwrap_or_else(|| x0.clone());
            distillation_loss(net, teacher, x0, input, z, times, rng, seed)?
        }
    })
}

/// Follow the teacher's ODE paths of the first `paths` crops (noised to the bottom level with
/// `z`), then train on as many pairs of their points as the batch has crops, spread over
/// the paths in turn. With a denoising share, the last crops of the batch (`input`: clean or
/// damaged) also train the denoising loss at `times`; with round trips, the first crops also
/// train the model's own short round trip.
#[allow(clippy::too_many_arguments)]
fn distillation_loss(
    net: &UNet,
    teacher: &Teacher,
    x0: Tensor<4>,
    input: Tensor<4>,
    z: Tensor<4>,
    times: &[Times],
    rng: &mut impl Rng,
    seed: u64,
) -> Result<BctLoss, TrainError> {
    let [b, c, h, w] = x0.dims();
    let denoising = (teacher.denoise_share > 0.0).then(|| {
        let k = ((b as f64 * teacher.denoise_share).round() as usize).clamp(1, b);
        let last = |t: &Tensor<4>| t.clone().narrow(0, b - k, k);
        denoise_loss(
            net,
            last(&x0),
            last(&input),
            last(&z),
            &times[b - k..],
            seed ^ 0xD15,
        )
    });
    let round_trip = if teacher.round_trips > 0 {
        let k = teacher.round_trips.min(b);
        let first = |t: &Tensor<4>| t.clone().narrow(0, 0, k);
        Some(round_trip_loss(
            net,
            first(&x0),
            first(&z),
            &teacher.round_trip_lengths,
            teacher.path_levels.start,
            rng,
            seed ^ 0x7219,
        )?)
    } else {
        None
    };
    let paths = teacher.paths.clamp(1, b);
    let on_teacher = |t: Tensor<4>| {
        Tensor::<4>::from_data(t.narrow(0, 0, paths).into_data(), &teacher.model.device)
    };
    let start = on_teacher(x0.clone()) + on_teacher(z) * teacher.path_levels.start;
    let levels = teacher.path_levels.path_levels(rng);
    let points: Vec<Vec<f32>> = teacher_path(&teacher.model, start, &levels)
        .into_iter()
        .map(|p| {
            p.into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .map_err(|e| TrainError::Run(format!("reading the teacher's path: {e:?}")))
        })
        .collect::<Result<_, _>>()?;
    let size = c * h * w;
    let level = |i: usize| levels.get(i).copied().unwrap_or(SIGMA_MIN);
    let (mut inputs, mut target) = (Vec::with_capacity(b * size), Vec::with_capacity(b * size));
    let (mut t, mut u) = (Vec::with_capacity(b), Vec::with_capacity(b));
    for k in 0..b {
        let path = k % paths;
        let (i, j) = teacher.path_levels.draw_pair(rng, &levels);
        inputs.extend_from_slice(&points[i][path * size..(path + 1) * size]);
        target.extend_from_slice(&points[j][path * size..(path + 1) * size]);
        t.push(level(i));
        u.push(level(j));
    }
    let device = x0.device();
    let tensor = |v: Vec<f32>| Tensor::<4>::from_data(TensorData::new(v, [b, c, h, w]), &device);
    let mut loss = distill_loss(net, tensor(inputs), tensor(target), &t, &u, seed);
    if let Some(d) = denoising {
        loss.loss = loss.loss + d.loss * teacher.denoise_weight;
    }
    if let Some(r) = round_trip {
        loss.loss = loss.loss + r * teacher.round_trip_weight;
    }
    Ok(loss)
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
