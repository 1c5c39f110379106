//! The new-run form's settings: their defaults, and taking a run's recorded settings.

use super::*;
use crate::engine::plan::LadderStyle;
use crate::engine::train::config::{
    DISTILL_DENOISE_SHARE, DISTILL_ROUND_TRIP_NFE, DISTILL_ROUND_TRIPS, LrSchedule,
};
use crate::engine::train::distill::DENOISE_WEIGHT;

/// Settings of a new run, as the form shows them.
#[derive(Debug, Clone)]
pub struct Form {
    pub data: String,
    pub name: String,
    pub preset: String,
    /// Start from this model file instead of random weights.
    pub continue_from: Option<PathBuf>,
    /// What is trained.
    pub objective: Objective,
    pub batch: usize,
    pub patch: usize,
    pub lr: f64,
    /// Steps over which the rate climbs linearly to `lr`.
    pub warmup: u64,
    /// Ease the rate down after the warm-up ([`LrSchedule::Cosine`]).
    pub cosine: bool,
    pub steps: u64,
    pub checkpoint_every: u64,
    pub sample_every: u64,
    /// Denoising warm-up: share of JPEG-compressed inputs.
    pub jpeg_fraction: f64,
    /// Distillation: share of crops that also train the denoising loss.
    pub denoise_share: f64,
    /// Distillation: weight of that denoising loss against the pairs.
    pub denoise_weight: f32,
    /// Distillation: crops per step that also train the model's own short round trip.
    pub round_trips: usize,
    /// Distillation: evaluations each way of those round trips (several: drawn from).
    pub round_trip_lengths: Vec<usize>,
    /// Distillation: weight of the round trips against the pairs.
    pub round_trip_weight: f32,
    /// Distillation: where the round trips (and the model's ladders) turn.
    pub ladder_floor: f32,
    /// Distillation of a model that follows the ODE itself: the denoiser whose ODE it
    /// learns (a denoiser-trained model is its own teacher).
    pub teacher: Option<PathBuf>,
}

impl Default for Form {
    fn default() -> Self {
        let c = TrainConfig::for_preset("tiny", PathBuf::from("data/photos")).ok();
        Self {
            data: "data/photos".into(),
            name: "my-run".into(),
            preset: "tiny".into(),
            continue_from: None,
            objective: Objective::Bct,
            batch: c.as_ref().map_or(8, |c| c.batch),
            patch: c.as_ref().map_or(32, |c| c.patch),
            lr: 2e-4,
            warmup: c.as_ref().map_or(500, |c| c.warmup),
            cosine: false,
            steps: c.as_ref().map_or(2000, |c| c.total_steps),
            checkpoint_every: 100,
            sample_every: 100,
            jpeg_fraction: 0.0,
            denoise_share: DISTILL_DENOISE_SHARE,
            denoise_weight: DENOISE_WEIGHT,
            round_trips: DISTILL_ROUND_TRIPS,
            round_trip_lengths: vec![DISTILL_ROUND_TRIP_NFE],
            round_trip_weight: 1.0,
            ladder_floor: LadderStyle::DEFAULT_FLOOR,
            teacher: None,
        }
    }
}

impl Form {
    /// Continue the shipped model (its file at `shipped`) the way its last run made it, as
    /// its card records (assets/MODEL.md tells why): distillation from its teacher with half
    /// the denoising crops JPEG-damaged (without them Restore would lose its compression
    /// repair), its round trips and weights, its rate, warm-up, schedule and planned steps.
    pub fn continue_shipped(&mut self, shipped: PathBuf) {
        self.continue_from = Some(shipped);
        let training = crate::engine::weights::embedded_card()
            .ok()
            .and_then(|c| c.training);
        match training {
            Some(t) => self.follow(&t),
            None => self.objective = Objective::Distill,
        }
    }

    /// Take a run's settings: what it trained, on which crops, with which weights, rate and
    /// length. Where the photos are, the run's name and the teacher stay the form's.
    pub fn follow(&mut self, t: &TrainConfig) {
        (self.preset, self.batch, self.patch) = (t.preset.clone(), t.batch, t.patch);
        self.objective = t.objective;
        (self.lr, self.warmup, self.steps) = (t.lr, t.warmup, t.total_steps);
        self.cosine = t.lr_schedule == LrSchedule::Cosine;
        (self.denoise_share, self.jpeg_fraction) = (t.denoise_share, t.jpeg_fraction);
        (self.round_trips, self.round_trip_lengths) = (t.round_trips, t.round_trip_choices());
        (self.round_trip_weight, self.denoise_weight) = (t.round_trip_weight, t.denoise_weight);
        self.ladder_floor = t.ladder_floor;
    }
}
