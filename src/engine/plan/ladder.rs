//! Ladders: inversions and generations of any length up to [`MAX_LADDER_NFE`]. One to four
//! evaluations are the reference code's schemes; longer ones are hops evenly spaced in log σ.

use super::{GenerationPreset, Op, Plan};
use crate::engine::error::{EngineError, Result};
use crate::engine::schedule::{SIGMA_MIN, in_range};

/// Most network evaluations a ladder may take (each way).
pub const MAX_LADDER_NFE: usize = 64;

/// Where long ladders turn: the inversion's starting noise and the generation's last level
/// before the clean end.
const LADDER_FLOOR: f32 = 0.07;

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

impl Plan {
    /// Generation from level `from` with `nfe` evaluations: the reference presets for 1–4;
    /// beyond, hops evenly spaced in log σ down to 0.07 and a last hop to σ_min. With a
    /// model that acts as a denoiser between its trained ends, each hop is a DDIM step, so
    /// more evaluations follow the ODE more closely.
    pub fn generation(nfe: usize, from: f32) -> Result<Plan> {
        check_ladder_nfe(nfe, "generation")?;
        if let Some(preset) = GenerationPreset::for_nfe(nfe) {
            return Ok(preset.plan_from(from));
        }
        if !in_range(from) || from <= LADDER_FLOOR {
            return Err(EngineError::Schedule(format!(
                "a {nfe}-step generation must start above {LADDER_FLOOR}, got {from}"
            )));
        }
        let mut levels = log_spaced(from, LADDER_FLOOR, nfe - 1);
        levels.push(SIGMA_MIN);
        let plan = Plan::hops(from, &levels);
        plan.validate()?;
        Ok(plan)
    }

    /// The reference inversion of a clean image: noise 0.07, then hops up to `to`.
    /// `nfe` 1–4 chooses the reference ladder (2 is its default 0.07 → 15 → 80); beyond 4
    /// the hops are evenly spaced in log σ (see [`Plan::generation`]).
    pub fn inversion(nfe: usize, to: f32) -> Result<Plan> {
        check_ladder_nfe(nfe, "inversion")?;
        if !in_range(to) || to <= LADDER_FLOOR {
            return Err(EngineError::Schedule(format!(
                "inversion target {to} must be in ({LADDER_FLOOR}, 80]"
            )));
        }
        let levels: Vec<f32> = match REFERENCE_INVERSIONS.get(nfe - 1) {
            Some(below) => below
                .iter()
                .copied()
                .filter(|&l| l < to)
                .chain([to])
                .collect(),
            None => log_spaced(LADDER_FLOOR, to, nfe),
        };
        let mut ops = vec![Op::Noise(LADDER_FLOOR)];
        ops.extend(levels.into_iter().map(Op::Hop));
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
        let up = Plan::inversion(8, 80.0).unwrap();
        assert_eq!(up.nfe(), 8);
        assert_eq!(up.ops[0], Op::Noise(0.07));
        assert_eq!(up.end(), 80.0);
        let down = Plan::generation(8, 80.0).unwrap();
        assert_eq!((down.start, down.nfe(), down.end()), (80.0, 8, SIGMA_MIN));
        // Down to 0.07 in equal ratios, then the clean end; up from 0.07 likewise.
        let downs = down.levels();
        assert_eq!(downs[6], 0.07);
        let mut steps = vec![80.0 / downs[0]];
        steps.extend(downs[..7].windows(2).map(|w| w[0] / w[1]));
        assert!(
            steps.iter().all(|r| (r - steps[0]).abs() < 1e-3 * steps[0]),
            "{steps:?}"
        );
        let ups = up.levels();
        let steps: Vec<f32> = ups.windows(2).map(|w| w[1] / w[0]).collect();
        assert!(
            steps.iter().all(|r| (r - steps[0]).abs() < 1e-3 * steps[0]),
            "{steps:?}"
        );
        // Short ones stay the reference presets; out of range is an error, not a panic.
        assert_eq!(
            Plan::generation(2, 80.0).unwrap(),
            GenerationPreset::TwoStep.plan_from(80.0)
        );
        assert!(Plan::generation(65, 80.0).is_err());
        assert!(Plan::generation(0, 80.0).is_err());
        assert!(Plan::generation(8, 0.05).is_err());
        assert!(Plan::inversion(65, 80.0).is_err());
        assert_eq!(Plan::inversion(16, 5.0).unwrap().end(), 5.0);
    }
}
