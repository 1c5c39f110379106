//! The model's own short round trips as a loss: invert crops to σ_max with its plain ladder of
//! a few evaluations and generate them back the same way, the gradient flowing through
//! every hop, and compare with the crops. For a model that follows the ODE exactly the round
//! trip returns the photo, so this term agrees with the distillation pairs at their optimum;
//! it weighs the errors the pairs leave by what they cost a reconstruction — errors of the
//! inversion that the generation does not undo.

use burn::tensor::Tensor;
use rand::Rng;

use super::error::TrainError;
use crate::engine::model::Bcm;
use crate::engine::network::{DropoutMasks, UNet};
use crate::engine::plan::{LadderStyle, Ladders, Op, Plan, added_noise};
use crate::engine::schedule::SIGMA_MAX;

/// Longest round trip trained (evaluations each way): every hop keeps its activations for the
/// backward pass, so the cost grows with it.
pub const MAX_ROUND_TRIP_NFE: usize = 4;

/// Round trips of 1 to this many evaluations each way are drawn when no length is set.
pub const DRAWN_ROUND_TRIP_NFE: usize = 2;

/// Default weight of the round-trip loss against the pairs' part (`round_trip_weight`): its
/// mean squared error (about 0.03 at stage 3's 2 + 2 reconstruction, in the network's [−1, 1]
/// range) was of the pairs' size (median 0.035), so equal weight.
pub const ROUND_TRIP_WEIGHT: f32 = 1.0;

/// The inversion to σ_max and the generation back of the plain ladders with `nfe` evaluations
/// each way turning at `floor` (see [`LadderStyle::floor`]), as one list of operations from the
/// clean photo.
pub fn round_trip_plan(nfe: usize, floor: f32) -> Result<Plan, TrainError> {
    let err = |e| TrainError::Setting(format!("round trip of {nfe} evaluations: {e}"));
    let style = LadderStyle::new(Ladders::Plain, floor).map_err(err)?;
    let up = Plan::inversion(style, nfe, SIGMA_MAX).map_err(err)?;
    let down = Plan::generation(style, nfe, SIGMA_MAX).map_err(err)?;
    Ok(Plan {
        start: up.start,
        ops: up.ops.into_iter().chain(down.ops).collect(),
    })
}

/// Run `plan` on `x0` with the network (gradients kept), fresh noise from `z`; every hop uses
/// the same dropout masks.
pub fn run_plan(
    net: &UNet,
    plan: &Plan,
    x0: Tensor<4>,
    z: Tensor<4>,
    dropout_seed: u64,
) -> Result<Tensor<4>, TrainError> {
    let n = x0.dims()[0];
    let masks = DropoutMasks::new(dropout_seed);
    let (mut x, mut at) = (x0, plan.start);
    for op in &plan.ops {
        match *op {
            Op::Noise(s) => {
                x = x + z.clone() * added_noise(at, s);
                at = s;
            }
            Op::Hop(l) => {
                x = Bcm::forward_with(net, x, &vec![at; n], &vec![l; n], Some(&masks));
                at = l;
            }
            Op::Heun(_) => {
                return Err(TrainError::Setting(
                    "round trips train plain hops only".into(),
                ));
            }
        }
    }
    Ok(x)
}

/// Mean squared error of the round trip of `nfe` evaluations each way, turning at `floor`,
/// for the crops `x0` with noise `z`.
pub fn round_trip_error(
    net: &UNet,
    nfe: usize,
    floor: f32,
    x0: Tensor<4>,
    z: Tensor<4>,
    dropout_seed: u64,
) -> Result<Tensor<1>, TrainError> {
    let plan = round_trip_plan(nfe, floor)?;
    let back = run_plan(net, &plan, x0.clone(), z, dropout_seed)?;
    Ok((back - x0).square().mean().reshape([1]))
}

/// [`round_trip_error`] of a round trip whose evaluations each way are drawn from `lengths`
/// (one length is kept without a draw).
pub fn round_trip_loss(
    net: &UNet,
    x0: Tensor<4>,
    z: Tensor<4>,
    lengths: &[usize],
    floor: f32,
    rng: &mut impl Rng,
    dropout_seed: u64,
) -> Result<Tensor<1>, TrainError> {
    let nfe = match lengths {
        [] => return Err(TrainError::Setting("no round trip length".into())),
        [n] => *n,
        _ => lengths[rng.random_range(0..lengths.len())],
    };
    round_trip_error(net, nfe, floor, x0, z, dropout_seed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::network::UNetConfig;
    use crate::engine::schedule::SIGMA_MIN;
    use burn::optim::{AdamConfig, GradientsParams};
    use burn::tensor::{Device, TensorData};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// The reference's floor.
    const F: f32 = LadderStyle::DEFAULT_FLOOR;

    #[test]
    fn the_two_step_round_trip_is_the_ladders_both_ways() {
        let plan = round_trip_plan(2, F).unwrap();
        let levels = plan.levels();
        assert_eq!(plan.start, SIGMA_MIN);
        assert!(matches!(plan.ops[0], Op::Noise(s) if s == 0.07), "{plan:?}");
        assert_eq!(plan.nfe(), 4);
        assert_eq!(levels[2], SIGMA_MAX);
        // Down the levels it went up, then straight to the clean end.
        assert_eq!(levels[1], levels[3]);
        assert_eq!(*levels.last().unwrap(), SIGMA_MIN);
        // A lower floor: the noise first, and the one rung between, move with it.
        let low = round_trip_plan(2, 0.05).unwrap();
        assert_eq!(low.ops[0], Op::Noise(0.05));
        assert_eq!(low.levels()[1], 2.0);
        assert!(round_trip_plan(2, 0.5).is_err());
    }

    fn batch(seed: u64, device: &Device) -> Tensor<4> {
        let dims = [2, 3, 16, 16];
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let v: Vec<f32> = (0..dims.iter().product::<usize>())
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        Tensor::<4>::from_data(TensorData::new(v, dims), device)
    }

    #[test]
    fn run_plan_takes_the_model_s_hops() {
        let device = Device::flex();
        let model = Bcm::random(UNetConfig::tiny(), 7, &device).unwrap();
        let (x0, z) = (batch(1, &device), batch(2, &device));
        let plan = round_trip_plan(1, F).unwrap();
        let mut x = x0.clone() + z.clone() * (0.4f32.powi(2) - SIGMA_MIN.powi(2)).sqrt();
        x = model.forward(x, &[0.4; 2], &[SIGMA_MAX; 2], None);
        x = model.forward(x, &[SIGMA_MAX; 2], &[SIGMA_MIN; 2], None);
        let ours = run_plan(&model.net, &plan, x0, z, 0).unwrap();
        let diff: f32 = (ours - x).abs().max().into_scalar();
        assert!(diff < 1e-4, "{diff}");
    }

    #[test]
    fn a_set_length_is_kept_and_none_draws_both() {
        let device = Device::flex();
        let net = Bcm::random(UNetConfig::tiny(), 7, &device).unwrap().net;
        let (x0, z) = (batch(1, &device), batch(2, &device));
        let error = |nfe| -> f32 {
            round_trip_error(&net, nfe, F, x0.clone(), z.clone(), 0)
                .unwrap()
                .into_scalar()
        };
        let (one, two) = (error(1), error(2));
        assert!((one - two).abs() > 1e-6 * one.abs(), "{one} {two}");
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut loss = |lengths: &[usize]| -> f32 {
            round_trip_loss(&net, x0.clone(), z.clone(), lengths, F, &mut rng, 0)
                .unwrap()
                .into_scalar()
        };
        for _ in 0..6 {
            assert_eq!(loss(&[2]), two);
        }
        let drawn: Vec<f32> = (0..16).map(|_| loss(&[1, 2])).collect();
        assert!(drawn.contains(&one) && drawn.contains(&two), "{drawn:?}");
        let four = error(4);
        let longer: Vec<f32> = (0..16).map(|_| loss(&[2, 4])).collect();
        assert!(
            longer.contains(&two) && longer.contains(&four) && !longer.contains(&one),
            "{longer:?}"
        );
        assert!(loss_refused(&net, &[]));
    }

    fn loss_refused(net: &UNet, lengths: &[usize]) -> bool {
        let device = Device::flex();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        round_trip_loss(
            net,
            batch(1, &device),
            batch(2, &device),
            lengths,
            F,
            &mut rng,
            0,
        )
        .is_err()
    }

    #[test]
    fn the_four_step_round_trip_climbs_and_comes_down_the_same_rungs() {
        let plan = round_trip_plan(4, F).unwrap();
        let levels = plan.levels();
        assert_eq!(plan.nfe(), 8);
        assert_eq!(levels[4], SIGMA_MAX);
        for k in 1..4 {
            assert_eq!(levels[4 - k], levels[4 + k], "{levels:?}");
        }
    }

    #[test]
    fn descending_the_loss_shrinks_the_round_trip_error() {
        let ad = Device::flex().autodiff();
        let mut net = Bcm::random(UNetConfig::tiny(), 7, &ad).unwrap().net;
        let (x0, z) = (batch(1, &ad), batch(2, &ad));
        let error = |net: &UNet| -> f32 {
            round_trip_error(net, 2, F, x0.clone(), z.clone(), 0)
                .unwrap()
                .into_scalar()
        };
        let before = error(&net);
        let mut optim = AdamConfig::new().init();
        for _ in 0..40 {
            let loss = round_trip_error(&net, 2, F, x0.clone(), z.clone(), 0).unwrap();
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = optim.step(2e-3, net, grads);
        }
        let after = error(&net);
        assert!(after < 0.6 * before, "{before} -> {after}");
    }
}
