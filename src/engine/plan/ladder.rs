//! Ladders: inversions and generations of any length up to [`MAX_LADDER_NFE`]: hops evenly
//! spaced in log σ of the kind that suits the model ([`Ladders`]). A model read as a denoiser
//! takes the reference code's schemes for one to four evaluations.

use super::style::{LADDER_FLOOR, LadderStyle, Ladders};
use super::{GenerationPreset, Op, Plan};
use crate::engine::error::{EngineError, Result};
use crate::engine::schedule::{SIGMA_MIN, in_range};

/// Most network evaluations a ladder may take (each way).
pub const MAX_LADDER_NFE: usize = 64;

/// From this many evaluations on, ladders run the whole way between σ_min and the top without
/// added noise: every step of the ODE is then followed, and a photo comes back almost exactly
/// (shorter ladders miss too much at low σ this way, and are better off starting at a floor).
pub const EXACT_LADDER_NFE: usize = 32;

/// `n` levels evenly spaced in log σ after `from`, the last one `to` (either direction),
/// rounded to four significant digits so plans read and copy well.
fn log_spaced(from: f32, to: f32, n: usize) -> Vec<f32> {
    let ratio = f64::from(to) / f64::from(from);
    (1..=n)
        .map(|k| {
            if k == n {
                return to;
            }
            let v = f64::from(from) * ratio.powf(k as f64 / n as f64);
            let scale = 10f64.powi(3 - v.log10().floor() as i32);
            ((v * scale).round() / scale) as f32
        })
        .collect()
}

/// The reference code's inversion ladders for 1-4 NFE: the levels below the target.
const REFERENCE_INVERSIONS: [&[f32]; 4] = [&[], &[15.0], &[2.0, 15.0], &[0.6, 3.0, 15.0]];

fn check_ladder_nfe(nfe: usize, what: &str) -> Result<()> {
    if (1..=MAX_LADDER_NFE).contains(&nfe) {
        Ok(())
    } else {
        Err(EngineError::Schedule(format!(
            "{what} NFE must be 1-{MAX_LADDER_NFE}, got {nfe}"
        )))
    }
}

/// Heun hops through `levels`, except the hop at `plain` (if any), which is a plain one.
fn heun_ops(levels: &[f32], plain: Option<usize>) -> impl Iterator<Item = Op> + '_ {
    levels.iter().enumerate().map(move |(i, &l)| {
        if Some(i) == plain {
            Op::Hop(l)
        } else {
            Op::Heun(l)
        }
    })
}

/// Plain hops through `levels`.
fn plain_ops(levels: &[f32]) -> impl Iterator<Item = Op> + '_ {
    levels.iter().map(|&l| Op::Hop(l))
}

/// A long inversion's hops for `nfe` evaluations: how many, and which one is plain (the top
/// one, when the count is odd).
fn inversion_segments(nfe: usize) -> (usize, Option<usize>) {
    let segments = nfe / 2 + nfe % 2;
    (segments, (nfe % 2 == 1).then_some(segments - 1))
}

impl Plan {
    /// The generation a panel offers: one of the reference presets, or a ladder of `ladder`
    /// evaluations (see [`Plan::generation`]) when one is chosen.
    pub fn preset_or_ladder(
        ladders: impl Into<LadderStyle>,
        preset: GenerationPreset,
        ladder: Option<usize>,
        from: f32,
    ) -> Result<Plan> {
        match ladder {
            Some(nfe) => Plan::generation(ladders, nfe, from),
            None => Ok(preset.plan_from(from)),
        }
    }

    /// Generation from level `from` with about `nfe` evaluations. From [`EXACT_LADDER_NFE`]
    /// on, for either kind, the inversion of the same length run backwards (same levels, so the
    /// two retrace each other), which takes one evaluation fewer: its last hop, to σ_min, is a
    /// plain one. Below, for [`Ladders::Plain`], the plain inversion's levels retraced, from the
    /// lowest above its floor straight to σ_min (nfe hops); for [`Ladders::Heun`], the
    /// reference presets for 1–4, then ⌊nfe/2⌋ Heun hops evenly spaced in log σ down to 0.07
    /// and a plain hop to σ_min (nfe + 1 evaluations for an even count).
    pub fn generation(ladders: impl Into<LadderStyle>, nfe: usize, from: f32) -> Result<Plan> {
        check_ladder_nfe(nfe, "generation")?;
        let style = ladders.into();
        if style.kind == Ladders::Heun
            && let Some(preset) = GenerationPreset::for_nfe(nfe)
        {
            return Ok(preset.plan_from(from));
        }
        if !in_range(from) || from <= LADDER_FLOOR {
            return Err(EngineError::Schedule(format!(
                "a {nfe}-step generation must start above {LADDER_FLOOR}, got {from}"
            )));
        }
        let mut ops: Vec<Op> = match style.kind {
            _ if nfe >= EXACT_LADDER_NFE => {
                let (segments, plain) = inversion_segments(nfe);
                let mut down = log_spaced(SIGMA_MIN, from, segments);
                down.pop();
                down.reverse();
                heun_ops(&down, plain.map(|_| 0)).collect()
            }
            Ladders::Plain => {
                // The inversion's levels, so that the two retrace each other exactly, but from
                // the lowest straight to σ_min: each hop is the model's own map, so passing
                // the floor on the way would only cost an evaluation.
                let mut up = log_spaced(style.floor_for(nfe, from), from, nfe);
                up.pop();
                up.reverse();
                plain_ops(&up).collect()
            }
            // As many Heun hops as the inversion has, then the plain hop to σ_min. For an even
            // count that is one evaluation more than asked; spending it on a plain hop at the
            // top instead (one Heun hop fewer) cost 5 dB of round trip at 8 + 8.
            Ladders::Heun => heun_ops(&log_spaced(from, LADDER_FLOOR, nfe / 2), None).collect(),
        };
        ops.push(Op::Hop(SIGMA_MIN));
        let plan = Plan { start: from, ops };
        plan.validate()?;
        Ok(plan)
    }

    /// Inversion of a clean image up to `to` with `nfe` evaluations. Below
    /// [`EXACT_LADDER_NFE`], for [`Ladders::Plain`]: noise to the model's floor
    /// ([`LadderStyle::floor`]; more for one evaluation, 0.4), then `nfe`
    /// hops evenly spaced in log σ.
    /// For [`Ladders::Heun`], 1–4: the reference ladders (noise 0.07, then hops; 2 is its
    /// default 0.07 → 15 → 80). Otherwise Heun hops evenly spaced in log σ (the last one plain
    /// when the count is odd): from 0.07, and from [`EXACT_LADDER_NFE`] on from σ_min itself
    /// without added noise.
    pub fn inversion(ladders: impl Into<LadderStyle>, nfe: usize, to: f32) -> Result<Plan> {
        check_ladder_nfe(nfe, "inversion")?;
        if !in_range(to) || to <= LADDER_FLOOR {
            return Err(EngineError::Schedule(format!(
                "inversion target {to} must be in ({LADDER_FLOOR}, 80]"
            )));
        }
        let style = ladders.into();
        let mut ops = Vec::new();
        if style.kind == Ladders::Plain && nfe < EXACT_LADDER_NFE {
            let floor = style.floor_for(nfe, to);
            ops.push(Op::Noise(floor));
            ops.extend(plain_ops(&log_spaced(floor, to, nfe)));
        } else if let Some(below) = REFERENCE_INVERSIONS.get(nfe - 1) {
            ops.push(Op::Noise(LADDER_FLOOR));
            let levels = below.iter().copied().filter(|&l| l < to).chain([to]);
            ops.extend(levels.map(Op::Hop));
        } else {
            let (segments, plain) = inversion_segments(nfe);
            if nfe >= EXACT_LADDER_NFE {
                ops.extend(heun_ops(&log_spaced(SIGMA_MIN, to, segments), plain));
            } else {
                ops.push(Op::Noise(LADDER_FLOOR));
                ops.extend(heun_ops(&log_spaced(LADDER_FLOOR, to, segments), plain));
            }
        }
        let plan = Plan {
            start: SIGMA_MIN,
            ops,
        };
        plan.validate()?;
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_ladders_are_even_in_log_sigma() {
        let ratios = |levels: &[f32]| -> bool {
            let r: Vec<f32> = levels.windows(2).map(|w| w[1] / w[0]).collect();
            r.iter().all(|x| (x - r[0]).abs() < 1e-3 * r[0])
        };
        // 8 up: noise to 0.07, then four Heun hops in equal ratios to 80.
        let up = Plan::inversion(Ladders::Heun, 8, 80.0).unwrap();
        assert_eq!((up.nfe(), up.end()), (8, 80.0));
        assert_eq!(up.ops[0], Op::Noise(0.07));
        assert!(up.ops[1..].iter().all(|op| matches!(op, Op::Heun(_))));
        assert!(ratios(&up.levels()), "{up}");
        // An odd count makes the top hop a plain one.
        let odd = Plan::inversion(Ladders::Heun, 9, 80.0).unwrap();
        assert_eq!(odd.nfe(), 9);
        assert_eq!(odd.ops.last(), Some(&Op::Hop(80.0)));
        // 8 down: four Heun hops to 0.07 in equal ratios, a plain one to σ_min (9 NFE).
        let down = Plan::generation(Ladders::Heun, 8, 80.0).unwrap();
        assert_eq!((down.start, down.nfe(), down.end()), (80.0, 9, SIGMA_MIN));
        assert!(down.ops[..4].iter().all(|op| matches!(op, Op::Heun(_))));
        let levels = down.levels();
        assert_eq!(levels[3], 0.07);
        let mut from_top = vec![80.0];
        from_top.extend(&levels[..4]);
        assert!(ratios(&from_top), "{down}");
        assert_eq!(Plan::generation(Ladders::Heun, 9, 80.0).unwrap().nfe(), 9);
    }

    #[test]
    fn exact_ladders_start_at_the_clean_end_and_retrace_each_other() {
        let up = Plan::inversion(Ladders::Heun, EXACT_LADDER_NFE, 80.0).unwrap();
        assert_eq!(up.start, SIGMA_MIN);
        assert!(up.ops.iter().all(|op| matches!(op, Op::Heun(_))), "{up}");
        assert_eq!(up.nfe(), EXACT_LADDER_NFE);
        let down = Plan::generation(Ladders::Heun, EXACT_LADDER_NFE, 80.0).unwrap();
        assert_eq!(down.nfe(), EXACT_LADDER_NFE - 1);
        let mut retraced = down.levels();
        assert_eq!(retraced.pop(), Some(SIGMA_MIN));
        retraced.reverse();
        retraced.push(80.0);
        assert_eq!(retraced, up.levels());
        // Odd: the top hop is plain both ways.
        let up = Plan::inversion(Ladders::Heun, 33, 80.0).unwrap();
        let down = Plan::generation(Ladders::Heun, 33, 80.0).unwrap();
        assert_eq!((up.nfe(), down.nfe()), (33, 32));
        assert!(matches!(up.ops.last(), Some(Op::Hop(_))));
        assert!(matches!(down.ops.first(), Some(Op::Hop(_))));
    }

    #[test]
    fn plain_ladders_hop_evenly_from_their_floor_and_retrace_each_other() {
        for nfe in [1, 2, 3, 4, 5, 8, 16, EXACT_LADDER_NFE - 1] {
            let floor = match nfe {
                1 => 0.4,
                _ => 0.07,
            };
            let up = Plan::inversion(Ladders::Plain, nfe, 80.0).unwrap();
            assert_eq!(
                (up.start, up.ops[0], up.nfe()),
                (SIGMA_MIN, Op::Noise(floor), nfe)
            );
            assert!(
                up.ops[1..].iter().all(|op| matches!(op, Op::Hop(_))),
                "{up}"
            );
            let mut levels = vec![floor];
            levels.extend(up.levels().iter().filter(|&&l| l > floor));
            let ratio = (80.0f64 / f64::from(floor)).powf(1.0 / nfe as f64);
            for w in levels.windows(2) {
                let r = f64::from(w[1]) / f64::from(w[0]);
                assert!((r - ratio).abs() < 2e-3 * ratio, "{up}");
            }
            let down = Plan::generation(Ladders::Plain, nfe, 80.0).unwrap();
            assert_eq!((down.start, down.nfe()), (80.0, nfe));
            assert!(down.ops.iter().all(|op| matches!(op, Op::Hop(_))), "{down}");
            let mut retraced = down.levels();
            assert_eq!(retraced.pop(), Some(SIGMA_MIN));
            retraced.reverse();
            assert_eq!(retraced, levels[1..nfe].to_vec());
        }
        // Two evaluations: 0.07 > 2.366 > 80 and back, unlike the reference's 15 and 2.4.
        assert_eq!(
            Plan::generation(Ladders::Plain, 2, 80.0)
                .unwrap()
                .to_string(),
            "80 > 2.366 > 0.002"
        );
        // A partial inversion below the short floor turns at 0.07, and its generation retraces.
        let up = Plan::inversion(Ladders::Plain, 1, 0.3).unwrap();
        assert_eq!(up.ops, vec![Op::Noise(0.07), Op::Hop(0.3)]);
        let up = Plan::inversion(Ladders::Plain, 2, 0.2).unwrap();
        let down = Plan::generation(Ladders::Plain, 2, 0.2).unwrap();
        assert_eq!(up.ops[0], Op::Noise(0.07));
        assert_eq!(down.levels()[0], up.levels()[1]);
        // The exact ladders do not depend on the kind.
        for nfe in [EXACT_LADDER_NFE, 33, MAX_LADDER_NFE] {
            assert_eq!(
                Plan::generation(Ladders::Plain, nfe, 80.0).unwrap(),
                Plan::generation(Ladders::Heun, nfe, 80.0).unwrap()
            );
            assert_eq!(
                Plan::inversion(Ladders::Plain, nfe, 80.0).unwrap(),
                Plan::inversion(Ladders::Heun, nfe, 80.0).unwrap()
            );
        }
    }

    #[test]
    fn short_ladders_are_the_reference_and_bad_counts_are_errors() {
        assert_eq!(
            Plan::generation(Ladders::Heun, 2, 80.0).unwrap(),
            GenerationPreset::TwoStep.plan_from(80.0)
        );
        assert!(Plan::generation(Ladders::Heun, 65, 80.0).is_err());
        assert!(Plan::generation(Ladders::Heun, 0, 80.0).is_err());
        assert!(Plan::generation(Ladders::Heun, 8, 0.05).is_err());
        assert!(Plan::inversion(Ladders::Heun, 65, 80.0).is_err());
        assert_eq!(Plan::inversion(Ladders::Heun, 16, 5.0).unwrap().end(), 5.0);
        for nfe in 1..=MAX_LADDER_NFE {
            assert_eq!(
                Plan::inversion(Ladders::Heun, nfe, 80.0).unwrap().nfe(),
                nfe
            );
            let g = Plan::generation(Ladders::Heun, nfe, 80.0).unwrap().nfe();
            let expected = match nfe {
                1..=4 => nfe,
                _ if nfe >= EXACT_LADDER_NFE => nfe - 1,
                _ => nfe + 1 - nfe % 2,
            };
            assert_eq!(g, expected, "{nfe}");
        }
    }

    #[test]
    fn a_models_floor_moves_its_plain_ladders() {
        let style = LadderStyle::new(Ladders::Plain, 0.05).unwrap();
        // 2 + 2: 0.05 > 2 > 80 and back the same levels.
        let up = Plan::inversion(style, 2, 80.0).unwrap();
        assert_eq!(up.ops, vec![Op::Noise(0.05), Op::Hop(2.0), Op::Hop(80.0)]);
        assert_eq!(
            Plan::generation(style, 2, 80.0).unwrap().to_string(),
            "80 > 2 > 0.002"
        );
        let at = |style: LadderStyle, nfe| Plan::inversion(style, nfe, 80.0).unwrap().ops[0];
        for nfe in 2..EXACT_LADDER_NFE {
            assert_eq!(at(style, nfe), Op::Noise(0.05), "{nfe}");
        }
        // One hop keeps its own floor, the exact ladders add no noise, and the Heun kind keeps
        // the reference's start.
        assert_eq!(at(style, 1), Op::Noise(0.4));
        assert_eq!(
            Plan::inversion(style, EXACT_LADDER_NFE, 80.0).unwrap(),
            Plan::inversion(Ladders::Plain, EXACT_LADDER_NFE, 80.0).unwrap()
        );
        let heun = LadderStyle::new(Ladders::Heun, 0.05).unwrap();
        assert_eq!(at(heun, 2), Op::Noise(0.07));
        // The default style is the reference's floor.
        assert_eq!(LadderStyle::from(Ladders::Plain).floor, 0.07);
        assert_eq!(
            LadderStyle::from(Ladders::Plain).describe(),
            "plain ladders"
        );
        assert_eq!(style.describe(), "plain ladders from σ 0.05");
        for bad in [0.0, 0.005, 0.08, f32::NAN] {
            assert!(LadderStyle::new(Ladders::Plain, bad).is_err(), "{bad}");
        }
    }
}
