//! Sampling plans: a start noise level followed by network hops and noise injections.
//!
//! Text form: levels separated by commas, spaces or `>`; the first is where the input sits,
//! every later number is a hop of the network to that level (one NFE), and `+s` adds fresh
//! Gaussian noise up to level s (standard deviation √(s² − level²); after a hop to σ_min that
//! is the reference zigzag's s·z), and `hu` is a second-order (Heun) hop to u: two evaluations
//! of the network as a denoiser. Example, the reference zigzag: `80 > 0.002 > +0.1 > 1.2 > 0.002`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::error::{EngineError, Result};
use super::schedule::{SIGMA_MAX, SIGMA_MIN, in_range};

mod ladder;
mod style;

pub use ladder::MAX_LADDER_NFE;
pub use style::{LADDER_FLOOR_RANGE, LadderStyle, Ladders, default_ladder_floor};

/// One operation of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Op {
    /// Move along the ODE to this level with one network evaluation.
    Hop(f32),
    /// Add fresh Gaussian noise up to level s (variance s² − level²).
    Noise(f32),
    /// Move along the ODE to this level with a Heun step: the network's denoiser f(·, t, σ_min)
    /// at both ends (two evaluations). Follows the ODE far more closely than a hop when the
    /// model acts as a denoiser between its ends; cannot end at σ_min, where the slope is 0/0.
    Heun(f32),
}

/// Standard deviation of the fresh noise an `Op::Noise(to)` adds to an image at `level`: only
/// the missing variance, so that the image ends at level `to`.
pub fn added_noise(level: f32, to: f32) -> f32 {
    (to * to - level * level).max(0.0).sqrt()
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

impl Plan {
    /// Plain descending or ascending hops through `levels`, starting at `start`.
    pub fn hops(start: f32, levels: &[f32]) -> Plan {
        Plan {
            start,
            ops: levels.iter().map(|&l| Op::Hop(l)).collect(),
        }
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
        while let Some(Op::Hop(l) | Op::Heun(l)) = ops.first() {
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
            .map(|op| match op {
                Op::Hop(_) => 1,
                Op::Heun(_) => 2,
                Op::Noise(_) => 0,
            })
            .sum()
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
                Op::Hop(l) | Op::Noise(l) | Op::Heun(l) => *l,
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
                Op::Hop(l) | Op::Heun(l) => {
                    if !in_range(l) {
                        return Err(EngineError::SigmaOutOfRange(l));
                    }
                    if l == at {
                        return Err(EngineError::Schedule(format!("hop from {at} to itself")));
                    }
                    if matches!(op, Op::Heun(_)) && l <= SIGMA_MIN {
                        return Err(EngineError::Schedule(format!(
                            "a Heun hop cannot end at σ_min ({l}); make the last hop a plain one"
                        )));
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
            .map(|t| {
                if let Some(rest) = t.strip_prefix('+') {
                    parse(rest).map(Op::Noise)
                } else if let Some(rest) = t.strip_prefix('h') {
                    parse(rest).map(Op::Heun)
                } else {
                    parse(t).map(Op::Hop)
                }
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
                Op::Heun(l) => write!(f, " > h{l}")?,
            }
        }
        Ok(())
    }
}

/// Noise levels written as "2, 0.6, 0.2" (commas, `>` or spaces between them), as `inpaint
/// --levels` takes them.
pub fn parse_levels(text: &str) -> Result<Vec<f32>> {
    text.split(|c: char| c == ',' || c == '>' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<f32>()
                .map_err(|_| EngineError::Parameter(format!("'{t}' is not a noise level")))
        })
        .collect()
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
        let inv = Plan::inversion(Ladders::Heun, 2, 80.0).unwrap();
        assert_eq!(inv.ops, vec![Op::Noise(0.07), Op::Hop(15.0), Op::Hop(80.0)]);
        assert_eq!(inv.nfe(), 2);
    }

    #[test]
    fn text_roundtrip() {
        let p: Plan = "80 > 0.002 > +0.1 > 1.2 > 0.002".parse().unwrap();
        let again: Plan = p.to_string().parse().unwrap();
        assert_eq!(p, again);
        let commas: Plan = "80,2.4,0.002".parse().unwrap();
        assert_eq!(commas.nfe(), 2);
        let heun: Plan = "0.002 > +0.07 > h3 > h80 > h0.5 > 0.002".parse().unwrap();
        assert_eq!(heun.ops[1], Op::Heun(3.0));
        assert_eq!(heun.nfe(), 7);
        assert_eq!(heun, heun.to_string().parse().unwrap());
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
            "80 > h0.002",
            "80 > h80",
            "80 > hx",
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
