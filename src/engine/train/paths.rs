//! The levels a distillation's teacher paths take and the pairs of points trained along them:
//! the paths start at the run's ladder floor and pass exactly through the levels the model's
//! short ladders and the generation presets stop at, so that half the pairs are the very hops
//! the model takes.

use rand::Rng;

use super::error::TrainError;
use crate::engine::plan::{LadderStyle, Ladders, Op, Plan};
use crate::engine::schedule::{SIGMA_MAX, SIGMA_MIN};

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

#[cfg(test)]
mod tests {
    use super::*;
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
}
