//! Bidirectional consistency distillation: the model being trained learns, for pairs of
//! levels (t, u) in both directions, to land where a frozen teacher's probability-flow ODE
//! carries x_t. The teacher is the run's starting model used as a denoiser, followed with Heun
//! hops (as the long ladders do, which bring a photo back through σ 80 at 44 dB): each step
//! takes a few crops, noises them to the bottom level, follows their ODE path up to σ_max, and
//! trains on pairs of points of those paths. One path gives every pair along it, so the teacher's
//! cost is shared by many targets — why this needs far fewer steps than consistency training,
//! which only compares neighbouring levels.

use burn::tensor::{Tensor, TensorData};
use rand::Rng;

use super::error::TrainError;
use super::loss::BctLoss;
use crate::engine::model::Bcm;
use crate::engine::network::{DropoutMasks, UNet};
use crate::engine::plan::{LadderStyle, Ladders, Op, Plan};
use crate::engine::schedule::{SIGMA_MAX, SIGMA_MIN, c_out};

/// Highest level the denoising part of a distillation (`denoise_share`) trains at: where
/// restoration uses the model as a denoiser.
pub const DENOISE_CAP: f32 = 0.5;

/// Default weight of the denoising part against the pairs' part: the EDM-weighted denoising loss at
/// low levels is about 20 times the pairs' loss (medians 0.24 and 0.035 on the photo preset),
/// and would otherwise take over the gradient.
pub const DENOISE_WEIGHT: f32 = 0.1;

/// Hops of the generation presets that start from pure noise (one-step, two-step and the
/// mixed scheme's), which the pairs favour.
const GENERATION_PAIRS: [(f32, f32); 6] = [
    (SIGMA_MAX, SIGMA_MIN),
    (SIGMA_MAX, 2.4),
    (2.4, SIGMA_MIN),
    (SIGMA_MAX, 3.0),
    (3.0, SIGMA_MIN),
    (0.4, SIGMA_MIN),
];

/// Plain ladders up to this many evaluations have their hops favoured: the short round trips
/// a distilled model is used for (its ladders are plain).
const FAVOURED_LADDER_NFE: usize = 4;

/// Largest ratio between evenly spaced neighbouring levels of a path (one Heun hop of the
/// teacher); the random shift stretches a hop to at most 1.4 times this in log σ.
const MAX_HOP_RATIO: f64 = 2.0;

/// The levels a distillation's paths take for the run's ladder floor: where they start (the
/// floor: the crops are noised to it), the hops half the pairs are drawn from and the levels
/// every path passes exactly.
#[derive(Debug, Clone)]
pub struct PathLevels {
    /// The paths' bottom level.
    pub start: f32,
    favoured: Vec<(f32, f32)>,
    anchors: Vec<f32>,
}

impl PathLevels {
    /// The levels for ladders turning at `floor` (see [`LadderStyle::floor`]).
    pub fn new(floor: f32) -> Result<Self, TrainError> {
        let style = LadderStyle::new(Ladders::Plain, floor)
            .map_err(|e| TrainError::Setting(e.to_string()))?;
        let favoured = favoured_pairs(style);
        let mut anchors: Vec<f32> = favoured
            .iter()
            .flat_map(|&(t, u)| [t, u])
            .chain([floor, SIGMA_MAX])
            .filter(|&l| l >= floor)
            .collect();
        anchors.sort_by(f32::total_cmp);
        anchors.dedup();
        Ok(Self {
            start: floor,
            favoured,
            anchors,
        })
    }

    /// The hops half the pairs are drawn from (level values; σ_min is the path's clean end):
    /// the generation presets' and, both ways, those of the plain ladders of 1 to
    /// [`FAVOURED_LADDER_NFE`] evaluations to σ_max, taken from the plans themselves so that
    /// the pairs trained are exactly the hops the model takes.
    pub fn favoured_pairs(&self) -> &[(f32, f32)] {
        &self.favoured
    }

    /// Levels every path passes exactly: its start and every level of the favoured pairs.
    pub fn anchors(&self) -> &[f32] {
        &self.anchors
    }

    /// A path's levels, ascending from [`PathLevels::start`] to σ_max: the anchors, and
    /// between them levels evenly spaced in log σ at most [`MAX_HOP_RATIO`] apart, shifted at
    /// random (so the model sees levels between the anchors too).
    pub fn path_levels(&self, rng: &mut impl Rng) -> Vec<f32> {
        let anchors = &self.anchors;
        let mut levels = vec![anchors[0]];
        for pair in anchors.windows(2) {
            let (a, b) = (f64::from(pair[0]), f64::from(pair[1]));
            let span = (b / a).ln();
            let hops = (span / MAX_HOP_RATIO.ln()).ceil().max(1.0) as usize;
            // Shift the inner levels together by up to ±40 % of a hop: the hops next to the
            // anchors stretch to at most 1.4 hops and never fold back.
            let shift: f64 = if hops > 1 {
                rng.random_range(-0.4..0.4)
            } else {
                0.0
            };
            for k in 1..hops {
                let at = (k as f64 + shift) / hops as f64;
                levels.push((a * (span * at).exp()) as f32);
            }
            levels.push(pair[1]);
        }
        levels
    }

    /// A pair of points of a path with `levels` plus its clean end (index `levels.len()`): a
    /// source, never the clean end, and a different target. Half are favoured pairs.
    pub fn draw_pair(&self, rng: &mut impl Rng, levels: &[f32]) -> (usize, usize) {
        let end = levels.len();
        let index = |v: f32| {
            if v == SIGMA_MIN {
                Some(end)
            } else {
                levels.iter().position(|&l| l == v)
            }
        };
        if rng.random_bool(0.5) {
            let (t, u) = self.favoured[rng.random_range(0..self.favoured.len())];
            if let (Some(i), Some(j)) = (index(t), index(u)) {
                return (i, j);
            }
        }
        let i = rng.random_range(0..end);
        let mut j = rng.random_range(0..end);
        if j >= i {
            j += 1;
        }
        (i, j)
    }
}

/// The generation presets' hops and those of the plain ladders of `style` up to
/// [`FAVOURED_LADDER_NFE`] evaluations, both ways, without repeats.
fn favoured_pairs(style: LadderStyle) -> Vec<(f32, f32)> {
    let mut pairs = GENERATION_PAIRS.to_vec();
    for nfe in 1..=FAVOURED_LADDER_NFE {
        for plan in [
            Plan::inversion(style, nfe, SIGMA_MAX),
            Plan::generation(style, nfe, SIGMA_MAX),
        ]
        .into_iter()
        .flatten()
        {
            // Added noise moves the level without a hop; each hop is a pair.
            let mut at = plan.start;
            for op in &plan.ops {
                match *op {
                    Op::Noise(l) => at = l,
                    Op::Hop(l) | Op::Heun(l) => {
                        pairs.push((at, l));
                        at = l;
                    }
                }
            }
        }
    }
    let mut unique = Vec::new();
    for p in pairs {
        if !unique.contains(&p) {
            unique.push(p);
        }
    }
    unique
}

/// The teacher's points along the paths of `start` (a batch at the paths' start, `levels[0]`): one tensor per
/// level of `levels`, then the clean end, which is the teacher's plain hop from the bottom level
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
    use burn::tensor::Device;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// The paths of the reference's floor, 0.07.
    fn reference() -> PathLevels {
        PathLevels::new(LadderStyle::DEFAULT_FLOOR).unwrap()
    }

    #[test]
    fn paths_pass_the_anchors_in_short_hops() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut inner = Vec::new();
        let paths = reference();
        for _ in 0..50 {
            let levels = paths.path_levels(&mut rng);
            for a in paths.anchors() {
                assert!(levels.contains(a), "{a} missing from {levels:?}");
            }
            for w in levels.windows(2) {
                let r = f64::from(w[1]) / f64::from(w[0]);
                assert!(r > 1.0 && r <= MAX_HOP_RATIO.powf(1.4) + 1e-6, "{levels:?}");
            }
            inner.push(levels[1]);
        }
        // The levels between anchors move from path to path.
        inner.sort_by(f32::total_cmp);
        assert!(inner[49] > inner[0] * 1.2, "{inner:?}");
    }

    #[test]
    fn pairs_are_valid_and_half_are_preset_hops() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let paths = reference();
        let levels = paths.path_levels(&mut rng);
        let end = levels.len();
        let level = |i: usize| if i == end { SIGMA_MIN } else { levels[i] };
        let (mut preset, n) = (0, 4000);
        for _ in 0..n {
            let (i, j) = paths.draw_pair(&mut rng, &levels);
            assert!(i < end && j <= end && i != j);
            if paths.favoured_pairs().contains(&(level(i), level(j))) {
                preset += 1;
            }
        }
        // 1/2 from the list, plus the uniform draws that land on a listed pair by chance.
        let uniform = paths.favoured_pairs().len() as f64 / (end * end) as f64;
        let want = 0.5 + 0.5 * uniform;
        let got = f64::from(preset) / f64::from(n);
        assert!((got - want).abs() < 0.03, "{got} vs {want}");
    }

    #[test]
    fn favoured_pairs_are_the_short_plain_ladders_hops_both_ways() {
        let paths = reference();
        let pairs = paths.favoured_pairs();
        let anchors = paths.anchors();
        // The 2-NFE round trip: 0.07 > 2.366 > 80, and back down the same levels.
        for pair in [
            (0.07, 2.366),
            (2.366, SIGMA_MAX),
            (SIGMA_MAX, 2.366),
            (2.366, SIGMA_MIN),
        ] {
            assert!(pairs.contains(&pair), "{pair:?} missing from {pairs:?}");
        }
        for nfe in 1..=FAVOURED_LADDER_NFE {
            let up = Plan::inversion(Ladders::Plain, nfe, SIGMA_MAX)
                .unwrap()
                .levels();
            for w in up.windows(2) {
                assert!(pairs.contains(&(w[0], w[1])), "{nfe}: {w:?}");
                assert!(anchors.contains(&w[0]) && anchors.contains(&w[1]));
            }
        }
        assert!(pairs.contains(&(SIGMA_MAX, 2.4)) && pairs.contains(&(2.4, SIGMA_MIN)));
        // Each once, every one a move, none starting at the clean end.
        for (k, p) in pairs.iter().enumerate() {
            assert!(
                !pairs[k + 1..].contains(p) && p.0 != p.1 && p.0 != SIGMA_MIN,
                "{p:?}"
            );
        }
    }

    #[test]
    fn a_lower_floor_starts_the_paths_there_and_favours_its_ladders() {
        let paths = PathLevels::new(0.05).unwrap();
        assert_eq!(paths.start, 0.05);
        assert_eq!(paths.anchors()[0], 0.05);
        let levels = paths.path_levels(&mut ChaCha8Rng::seed_from_u64(1));
        assert_eq!(levels[0], 0.05);
        // The 2-NFE round trip from 0.05: 0.05 > 2 > 80 and back.
        for pair in [
            (0.05, 2.0),
            (2.0, SIGMA_MAX),
            (SIGMA_MAX, 2.0),
            (2.0, SIGMA_MIN),
        ] {
            assert!(paths.favoured_pairs().contains(&pair), "{pair:?}");
            assert!(!reference().favoured_pairs().contains(&pair), "{pair:?}");
        }
        assert!(PathLevels::new(0.3).is_err());
    }

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
