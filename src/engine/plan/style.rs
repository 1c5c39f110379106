//! Which ladders a model takes: the kind of hop that suits it, and where its plain ladders start
//! (the noise added to a photo first), both named by its card.

use serde::{Deserialize, Serialize};

#[cfg(doc)]
use super::ladder::EXACT_LADDER_NFE;
use crate::engine::error::{EngineError, Result};

/// Which hops a model's long ladders take; a model file says which suits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ladders {
    /// Heun hops (two evaluations each), the model used as a denoiser: for a model whose
    /// f(·, t, σ_min) is the denoiser's mean, as denoising training gives. Measured on such a
    /// model, a round trip through σ 80 with Heun hops beats plain hops by far at the same NFE
    /// (23.96 dB at 16 + 16 plain hops, 33.22 dB at 16 + 17 Heun hops; see the model card).
    #[default]
    Heun,
    /// Plain hops of the BCM (one evaluation each): for a model trained to follow the ODE
    /// itself (consistency training or distillation), whose f(·, t, σ_min) is the ODE's end
    /// rather than a mean, which a Heun hop's slope would misread. From [`EXACT_LADDER_NFE`] on
    /// such a model too takes the exact ladders: their generation retraces the inversion's Heun
    /// hops from the clean photo, so the errors cancel on the way back (the first distilled
    /// model came back at 47 dB at 32 + 31 that way; plain hops from 0.07 stayed near 33 dB).
    Plain,
}

impl Ladders {
    pub fn name(self) -> &'static str {
        match self {
            Self::Heun => "Heun",
            Self::Plain => "plain",
        }
    }
}

/// Where ladders shorter than [`EXACT_LADDER_NFE`] turn by default: the inversion noises the
/// photo to this level first (the reference's start) and the generation jumps from it to the
/// clean end.
pub(super) const LADDER_FLOOR: f32 = 0.07;

/// The floors a model may set for its plain ladders: below the reference's start (less noise
/// buries less of the photo; more would only lose detail), above σ_min.
pub const LADDER_FLOOR_RANGE: std::ops::RangeInclusive<f32> = 0.01..=LADDER_FLOOR;

/// Which ladders a model takes: their kind, and where its plain ones turn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LadderStyle {
    pub kind: Ladders,
    /// Where plain ladders shorter than [`EXACT_LADDER_NFE`] turn, but for one evaluation
    /// ([`ONE_HOP_FLOOR`]): 0.07, the reference's start, unless the model was trained to
    /// round-trip from lower (a round trip cannot bring back what the noise buries, and 0.07
    /// held 2 + 2 near 29 dB).
    pub floor: f32,
}

/// The floor of a card or run that names none (serde's default for `ladder_floor`).
pub fn default_ladder_floor() -> f32 {
    LADDER_FLOOR
}

impl LadderStyle {
    /// The reference's floor, 0.07, for models that name none.
    pub const DEFAULT_FLOOR: f32 = LADDER_FLOOR;

    /// A style with a checked floor.
    pub fn new(kind: Ladders, floor: f32) -> Result<Self> {
        if !LADDER_FLOOR_RANGE.contains(&floor) {
            return Err(EngineError::Schedule(format!(
                "a ladder floor must be in [{}, {}], got {floor}",
                LADDER_FLOOR_RANGE.start(),
                LADDER_FLOOR_RANGE.end()
            )));
        }
        Ok(Self { kind, floor })
    }

    /// The kind's name, with the floor where the model moved it ("plain ladders from σ 0.05").
    pub fn describe(self) -> String {
        if self.kind == Ladders::Plain && self.floor != LADDER_FLOOR {
            format!("{} ladders from σ {}", self.kind.name(), self.floor)
        } else {
            format!("{} ladders", self.kind.name())
        }
    }

    /// Where a ladder of `nfe` evaluations to or from `top` turns: for plain ones
    /// [`ONE_HOP_FLOOR`] for one, when `top` is above it, else the model's floor.
    pub(super) fn floor_for(self, nfe: usize, top: f32) -> f32 {
        match self.kind {
            Ladders::Plain if nfe == 1 && ONE_HOP_FLOOR < top => ONE_HOP_FLOOR,
            Ladders::Plain => self.floor,
            Ladders::Heun => LADDER_FLOOR,
        }
    }
}

impl From<Ladders> for LadderStyle {
    fn from(kind: Ladders) -> Self {
        Self {
            kind,
            floor: LADDER_FLOOR,
        }
    }
}

/// Where plain ladders of one evaluation turn instead of [`LADDER_FLOOR`]: more noise first
/// costs detail, but leaves the one hop less to carry. Measured on the distilled model at step
/// 3,300 (round trips through σ 80 of 32 training crops): 1 + 1 at 0.3 / 0.4 / 0.5 gave
/// 16.6 / 16.9 / 16.8 dB against 14.5 at 0.07. Two evaluations turn at the floor like longer
/// ladders: more noise first caps any round trip at what the ODE brings back from it (16 + 16
/// plain hops from 0.25 gave 27 dB, from 0.07 32 dB), and the 2 + 2 round trip trained from
/// 0.07 (`train --round-trip-nfe 2`) passed what it had reached from 0.25.
const ONE_HOP_FLOOR: f32 = 0.4;
