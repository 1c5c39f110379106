//! Sampling plans: a start noise level followed by network hops and noise injections.
//!
//! Text form: levels separated by commas, spaces or `>`; the first is where the input sits,
//! every later number is a hop of the network to that level (one NFE), and `+s` adds fresh
//! Gaussian noise up to level s (standard deviation √(s² − level²); after a hop to σ_min that
//! is the reference zigzag's s·z). Example, the reference zigzag: `80 > 0.002 > +0.1 > 1.2 > 0.002`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::error::{EngineError, Result};
use super::schedule::{SIGMA_MAX, SIGMA_MIN, in_range};

/// One operation of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Op {
    /// Move along the ODE to this level with one network evaluation.
    Hop(f32),
    /// Add fresh Gaussian noise up to level s (variance s² − level²).
    Noise(f32),
}

/// A validated plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub start: f32,
    pub ops: Vec<Op>,
}

/// Named generation schemes of the reference code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GenerationPreset {
    OneStep,
    TwoStep,
    Zigzag,
    Mixed,
}

impl GenerationPreset {
    pub const ALL: [GenerationPreset; 4] =
        [Self::OneStep, Self::TwoStep, Self::Zigzag, Self::Mixed];

    pub fn name(self) -> &'static str {
        match self {
            Self::OneStep => "one-step",
            Self::TwoStep => "2-step",
            Self::Zigzag => "zigzag",
            Self::Mixed => "mixed",
        }
    }

    /// The preset with this many network evaluations (1–4).
    pub fn for_nfe(nfe: usize) -> Option<Self> {
        Self::ALL.get(nfe.checked_sub(1)?).copied()
    }

    /// Generation from level `from` (80 for pure noise). Levels above `from` are dropped, so
    /// the same scheme serves partial generation from an intermediate level.
    pub fn plan_from(self, from: f32) -> Plan {
        let text = match self {
            Self::OneStep => "80 > 0.002",
            Self::TwoStep => "80 > 2.4 > 0.002",
            Self::Zigzag => "80 > 0.002 > +0.1 > 1.2 > 0.002",
            Self::Mixed => "80 > 3.0 > 0.002 > +0.12 > 0.4 > 0.002",
        };
        let full: Plan = text
            .parse()
            .unwrap_or_else(|_| Plan::hops(SIGMA_MAX, &[SIGMA_MIN]));
        full.rebased(from)
    }
}

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

    /// Plain descending or ascending hops through `levels`, starting at `start`.
    pub fn hops(start: f32, levels: &[f32]) -> Plan {
        Plan {
            start,
            ops: levels.iter().map(|&l| Op::Hop(l)).collect(),
        }
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
        let reference: &[f32] = match nfe {
            1 => &[],
            2 => &[15.0],
            3 => &[2.0, 15.0],
            4 => &[0.6, 3.0, 15.0],
            _ => &[],
        };
        let mut ops = vec![Op::Noise(LADDER_FLOOR)];
        if nfe <= 4 {
            ops.extend(reference.iter().filter(|&&l| l < to).map(|&l| Op::Hop(l)));
            ops.push(Op::Hop(to));
        } else {
            ops.extend(log_spaced(LADDER_FLOOR, to, nfe).into_iter().map(Op::Hop));
        }
        let plan = Plan {
            start: SIGMA_MIN,
            ops,
        };
        plan.validate()?;
        Ok(plan)
    }

    /// One restoration pass: add noise up to `sigma`, then come back to σ_min in one hop.
    /// `damage` is the noise level the photo's own grain or compression damage amounts to: the
    /// plan starts there, so only the missing variance is added (none when `sigma` ≤ `damage`).
    pub fn restoration(sigma: f32, damage: f32) -> Result<Plan> {
        if !(0.0..=SIGMA_MAX).contains(&damage) {
            return Err(EngineError::SigmaOutOfRange(damage));
        }
        let start = damage.max(SIGMA_MIN);
        let mut ops = Vec::new();
        if sigma > start {
            ops.push(Op::Noise(sigma));
        }
        ops.push(Op::Hop(SIGMA_MIN));
        let plan = Plan { start, ops };
        plan.validate()?;
        Ok(plan)
    }

    /// The same plan with ops that lie above `from` removed and the start moved to `from`.
    pub fn rebased(&self, from: f32) -> Plan {
        let mut ops = self.ops.clone();
        while let Some(Op::Hop(l)) = ops.first() {
            if *l >= from {
                ops.remove(0);
            } else {
                break;
            }
        }
        Plan { start: from, ops }
    }

    /// Number of network evaluations.
    pub fn nfe(&self) -> usize {
        self.ops
            .iter()
            .filter(|op| matches!(op, Op::Hop(_)))
            .count()
    }

    /// Level after the last op.
    pub fn end(&self) -> f32 {
        self.levels().last().copied().unwrap_or(self.start)
    }

    /// Level after each op.
    pub fn levels(&self) -> Vec<f32> {
        self.ops
            .iter()
            .map(|op| match op {
                Op::Hop(l) | Op::Noise(l) => *l,
            })
            .collect()
    }

    /// Every level must be in [σ_min, σ_max], hops must move, noise must raise the level.
    pub fn validate(&self) -> Result<()> {
        if !in_range(self.start) {
            return Err(EngineError::SigmaOutOfRange(self.start));
        }
        if self.nfe() == 0 {
            return Err(EngineError::Schedule(
                "no network hop in the schedule".into(),
            ));
        }
        let mut at = self.start;
        for op in &self.ops {
            match *op {
                Op::Hop(l) => {
                    if !in_range(l) {
                        return Err(EngineError::SigmaOutOfRange(l));
                    }
                    if l == at {
                        return Err(EngineError::Schedule(format!("hop from {at} to itself")));
                    }
                    at = l;
                }
                Op::Noise(s) => {
                    if !in_range(s) {
                        return Err(EngineError::SigmaOutOfRange(s));
                    }
                    if s <= at {
                        return Err(EngineError::Schedule(format!(
                            "noise injection +{s} must raise the level (image is at {at})"
                        )));
                    }
                    at = s;
                }
            }
        }
        Ok(())
    }
}

impl std::str::FromStr for Plan {
    type Err = EngineError;

    fn from_str(s: &str) -> Result<Plan> {
        let mut tokens = s
            .split(|c: char| c == ',' || c == '>' || c.is_whitespace())
            .filter(|t| !t.is_empty());
        let parse = |t: &str| -> Result<f32> {
            t.parse::<f32>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| EngineError::Schedule(format!("'{t}' is not a noise level")))
        };
        let start = parse(
            tokens
                .next()
                .ok_or_else(|| EngineError::Schedule("empty schedule".into()))?,
        )?;
        let ops = tokens
            .map(|t| match t.strip_prefix('+') {
                Some(rest) => parse(rest).map(Op::Noise),
                None => parse(t).map(Op::Hop),
            })
            .collect::<Result<Vec<_>>>()?;
        let plan = Plan { start, ops };
        plan.validate()?;
        Ok(plan)
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.start)?;
        for op in &self.ops {
            match op {
                Op::Hop(l) => write!(f, " > {l}")?,
                Op::Noise(s) => write!(f, " > +{s}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_match_the_reference() {
        let nfe: Vec<usize> = GenerationPreset::ALL
            .iter()
            .map(|p| p.plan_from(80.0).nfe())
            .collect();
        assert_eq!(nfe, vec![1, 2, 3, 4]);
        let zig = GenerationPreset::Zigzag.plan_from(80.0);
        assert_eq!(
            zig.ops,
            vec![Op::Hop(0.002), Op::Noise(0.1), Op::Hop(1.2), Op::Hop(0.002)]
        );
        let inv = Plan::inversion(2, 80.0).unwrap();
        assert_eq!(inv.ops, vec![Op::Noise(0.07), Op::Hop(15.0), Op::Hop(80.0)]);
        assert_eq!(inv.nfe(), 2);
    }

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

    #[test]
    fn text_roundtrip() {
        let p: Plan = "80 > 0.002 > +0.1 > 1.2 > 0.002".parse().unwrap();
        let again: Plan = p.to_string().parse().unwrap();
        assert_eq!(p, again);
        let commas: Plan = "80,2.4,0.002".parse().unwrap();
        assert_eq!(commas.nfe(), 2);
    }

    #[test]
    fn bad_schedules_are_rejected() {
        for bad in [
            "",
            "80",
            "100 > 0.002",
            "80 > 0.0001",
            "80 > 80",
            "80 > 0.002 > +0.001",
            "80 > x",
        ] {
            assert!(bad.parse::<Plan>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn rebased_drops_levels_above_start() {
        let p = GenerationPreset::TwoStep.plan_from(5.0);
        assert_eq!(p.start, 5.0);
        assert_eq!(p.ops, vec![Op::Hop(2.4), Op::Hop(0.002)]);
        let p = GenerationPreset::TwoStep.plan_from(1.0);
        assert_eq!(p.ops, vec![Op::Hop(0.002)]);
    }

    #[test]
    fn restoration_counts_the_damage_as_noise() {
        let fresh = Plan::restoration(0.1, 0.0).unwrap();
        assert_eq!(fresh.start, SIGMA_MIN);
        assert_eq!(fresh.ops, vec![Op::Noise(0.1), Op::Hop(SIGMA_MIN)]);
        // Damage at the strength: denoise directly, nothing added.
        let direct = Plan::restoration(0.05, 0.05).unwrap();
        assert_eq!(
            (direct.start, direct.ops.clone()),
            (0.05, vec![Op::Hop(SIGMA_MIN)])
        );
        // Damage below the strength: start at the damage, lift to the strength.
        let lifted = Plan::restoration(0.2, 0.05).unwrap();
        assert_eq!(lifted.start, 0.05);
        assert_eq!(lifted.ops, vec![Op::Noise(0.2), Op::Hop(SIGMA_MIN)]);
        assert!(Plan::restoration(0.1, -0.1).is_err());
        assert!(Plan::restoration(0.1, f32::NAN).is_err());
    }
}
