//! How the learning rate moves over a run: a linear warm-up, then constant or a cosine fall.

use serde::{Deserialize, Serialize};

/// Where a cosine schedule ends, as a share of the rate.
pub const COSINE_FLOOR: f64 = 0.1;

/// How the learning rate moves after the warm-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LrSchedule {
    /// The rate until the end.
    #[default]
    Constant,
    /// Half a cosine from the rate down to [`COSINE_FLOOR`] of it at the planned last step,
    /// then that: a plateaued fine-tune settles further at a lower rate, and a run resumed past
    /// its plan still learns.
    Cosine,
}

impl LrSchedule {
    pub fn name(self) -> &'static str {
        match self {
            Self::Constant => "constant",
            Self::Cosine => "cosine",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Constant, Self::Cosine]
            .into_iter()
            .find(|s| s.name() == name)
    }

    /// The rate at `step` of a run planned for `total` steps at `lr`, warming up linearly over
    /// `warmup` steps.
    pub fn rate_at(self, lr: f64, warmup: u64, total: u64, step: u64) -> f64 {
        if step + 1 < warmup {
            return lr * (step + 1) as f64 / warmup as f64;
        }
        match self {
            Self::Constant => lr,
            Self::Cosine => {
                let span = total.saturating_sub(warmup).max(1);
                let done = (step + 1).saturating_sub(warmup) as f64 / span as f64;
                let cos = 0.5 * (1.0 + (std::f64::consts::PI * done.min(1.0)).cos());
                lr * (COSINE_FLOOR + (1.0 - COSINE_FLOOR) * cos)
            }
        }
    }
}
