//! Bidirectional consistency distillation: the model being trained learns, for pairs of
//! levels (t, u) in both directions, to land where a frozen teacher's probability-flow ODE
//! carries x_t. The teacher is the run's starting model used as a denoiser, followed with Heun
//! hops (as the long ladders do, which bring a photo back through σ 80 at 44 dB): each step
//! takes a few crops, noises them to the bottom level, follows their ODE path up to σ_max, and
//! trains on pairs of points of those paths. One path gives every pair along it, so the teacher's
//! cost is shared by many targets — why this needs far fewer steps than consistency training,
//! which only compares neighbouring levels.

use burn::tensor::{Tensor, TensorData};

use super::loss::BctLoss;
#[cfg(doc)]
use super::paths::PathLevels;
use crate::engine::model::Bcm;
use crate::engine::network::{DropoutMasks, UNet};
use crate::engine::schedule::{SIGMA_MIN, c_out};

/// Highest level the denoising part of a distillation (`denoise_share`) trains at: where
/// restoration uses the model as a denoiser.
pub const DENOISE_CAP: f32 = 0.5;

/// Default weight of the denoising part against the pairs' part: the EDM-weighted denoising loss at
/// low levels is about 20 times the pairs' loss (medians 0.24 and 0.035 on the photo preset),
/// and would otherwise take over the gradient.
pub const DENOISE_WEIGHT: f32 = 0.1;

/// The teacher's points along the paths of `start` (a batch at the paths' start, `levels[0]`,
/// see [`PathLevels`]): one tensor per level of `levels`, then the clean end, which is the teacher's plain hop from the bottom level
/// to σ_min (a Heun hop cannot end at σ_min; the ladders end the same way).
pub fn teacher_path(teacher: &Bcm, start: Tensor<4>, levels: &[f32]) -> Vec<Tensor<4>> {
    let n = start.dims()[0];
    let denoise = |x: Tensor<4>, s: f32| teacher.forward(x, &vec![s; n], &vec![SIGMA_MIN; n], None);
    let mut points = vec![start.clone()];
    let mut x = start.clone();
    for hop in levels.windows(2) {
        x = heun_hop(&denoise, x, hop[0], hop[1]);
        points.push(x.clone());
    }
    points.push(denoise(start, levels[0]));
    points
}

/// One Heun hop from `t` to `u` of the ODE dx/dσ = (x − D(x, σ))/σ (tensor form of
/// [`crate::engine::ode::heun`]).
fn heun_hop(
    denoise: &impl Fn(Tensor<4>, f32) -> Tensor<4>,
    x: Tensor<4>,
    t: f32,
    u: f32,
) -> Tensor<4> {
    let d = denoise(x.clone(), t);
    let slope = (x.clone() - d) / t;
    let euler = x.clone() + slope.clone() * (u - t);
    let d_end = denoise(euler.clone(), u);
    let slope_end = (euler - d_end) / u;
    x + (slope + slope_end) * (0.5 * (u - t))
}

/// Distillation loss: mean over the batch of ‖f(x_t, t, u) − target‖²/D weighted by
/// 1/c_out(t, u)², which weighs the network's own output equally at every pair (the denoising
/// objective's EDM weight is the u = σ_min case). `ct` reports the generation pairs (u < t),
/// `bcm` the inversion pairs (u > t), each as its share of the total.
pub fn distill_loss(
    net: &UNet,
    input: Tensor<4>,
    target: Tensor<4>,
    t: &[f32],
    u: &[f32],
    dropout_seed: u64,
) -> BctLoss {
    let [b, c, h, w] = input.dims();
    let device = input.device();
    let f = Bcm::forward_with(net, input, t, u, Some(&DropoutMasks::new(dropout_seed)));
    let column = |v: Vec<f32>| Tensor::<1>::from_data(TensorData::new(v, [b]), &device);
    let weight: Vec<f32> = t
        .iter()
        .zip(u)
        .map(|(&t, &u)| (1.0 / f64::from(c_out(t, u)).powi(2)) as f32)
        .collect();
    let mse = (f - target)
        .square()
        .reshape([b, c * h * w])
        .mean_dim(1)
        .reshape([b]);
    let term = mse * column(weight);
    let share = |keep: &dyn Fn(f32, f32) -> bool| {
        let mask: Vec<f32> = t
            .iter()
            .zip(u)
            .map(|(&t, &u)| if keep(t, u) { 1.0 / b as f32 } else { 0.0 })
            .collect();
        (term.clone().detach() * column(mask)).sum()
    };
    BctLoss {
        loss: term.clone().mean(),
        ct: share(&|t, u| u < t),
        bcm: share(&|t, u| u > t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::network::UNetConfig;
    use crate::engine::ode;
    use crate::engine::plan::LadderStyle;
    use burn::tensor::Device;

    #[test]
    fn teacher_hops_are_the_ode_heun_step() {
        let device = Device::flex();
        let teacher = Bcm::random(UNetConfig::tiny(), 1, &device).unwrap();
        let (side, levels) = (16usize, [LadderStyle::DEFAULT_FLOOR, 0.3, 1.5]);
        let values: Vec<f32> = (0..3 * side * side)
            .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
            .collect();
        let start =
            Tensor::<4>::from_data(TensorData::new(values.clone(), [1, 3, side, side]), &device);
        let points = teacher_path(&teacher, start, &levels);
        assert_eq!(points.len(), levels.len() + 1);
        let read = |t: &Tensor<4>| t.clone().into_data().try_to_vec::<f32>().unwrap();
        let denoise = |x: &[f32], s: f32| {
            let t =
                Tensor::<4>::from_data(TensorData::new(x.to_vec(), [1, 3, side, side]), &device);
            read(&teacher.forward(t, &[s], &[SIGMA_MIN], None))
        };
        // The same hops with the scalar ODE steps.
        let mut x = values.clone();
        for (k, hop) in levels.windows(2).enumerate() {
            let (t, u) = (hop[0], hop[1]);
            let d = denoise(&x, t);
            let e = ode::euler(&x, &d, t, u);
            x = ode::heun(&x, &d, &e, &denoise(&e, u), t, u);
            let got = read(&points[k + 1]);
            let err = got
                .iter()
                .zip(&x)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(err < 1e-3, "hop {t}->{u}: {err}");
        }
        // The clean end is the plain hop from the start.
        let end = read(&points[levels.len()]);
        let want = denoise(&values, LadderStyle::DEFAULT_FLOOR);
        let err = end
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err < 1e-5, "{err}");
    }

    #[test]
    fn loss_weighs_errors_by_the_output_scale() {
        let device = Device::flex();
        let model = Bcm::random(UNetConfig::tiny(), 2, &device).unwrap();
        let shape = [2, 3, 16, 16];
        let n: usize = shape.iter().product();
        let input = Tensor::<4>::from_data(
            TensorData::new((0..n).map(|i| (i % 7) as f32 / 7.0).collect(), shape),
            &device,
        );
        let (t, u) = ([2.0f32, 0.5], [0.1f32, 15.0]);
        let exact = model.forward(input.clone(), &t, &u, None);
        // Target off by 0.1 everywhere in sample 0 and 0.3 in sample 1.
        let offset = Tensor::<4>::from_data(
            TensorData::new(
                (0..n).map(|i| if i < n / 2 { 0.1 } else { 0.3 }).collect(),
                shape,
            ),
            &device,
        );
        let loss = distill_loss(&model.net, input, exact + offset, &t, &u, 0);
        let parts = loss.parts();
        let down = 0.01 / f64::from(c_out(2.0, 0.1)).powi(2) / 2.0;
        let up = 0.09 / f64::from(c_out(0.5, 15.0)).powi(2) / 2.0;
        let close = |a: f32, b: f64| (f64::from(a) - b).abs() < 1e-4 * b.abs().max(1e-6);
        assert!(close(parts.total, down + up), "{parts:?}");
        assert!(close(parts.ct, down) && close(parts.bcm, up), "{parts:?}");
    }
}
