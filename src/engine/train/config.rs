//! Settings of a training run (saved as `config.json` in the run folder).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::distill::DENOISE_WEIGHT;
use super::error::TrainError;
pub use super::lr_schedule::{COSINE_FLOOR, LrSchedule};
use super::round_trip::{DRAWN_ROUND_TRIP_NFE, MAX_ROUND_TRIP_NFE, ROUND_TRIP_WEIGHT};
use crate::engine::network::UNetConfig;
use crate::engine::plan::{LadderStyle, Ladders};

/// Which loss is trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Objective {
    /// Bidirectional consistency training: CT term + bidirectional term.
    Bct,
    /// Consistency training only (a one-directional CM; start of the fine-tuning route).
    Ct,
    /// Denoising warm-up (EDM loss on f(x_t, t, σ_min) ≈ x0, lognormal t): a cheap way to a
    /// network that already denoises well, to start consistency training from.
    Denoise,
    /// Bidirectional consistency distillation: f(x_t, t, u) learns where the `init` model's
    /// probability-flow ODE (followed with Heun hops, the model as a denoiser) carries x_t,
    /// both ways, for pairs of levels along the paths of the batch's crops.
    Distill,
    /// Inpainting: a model that also reads the photo with a hole blanked and the hole's mask
    /// learns to fill the hole in one evaluation from the classical fill (random boxes,
    /// strokes and blobs). Started from a plain model, the conditioning's weights start at
    /// zero, so it starts as that model.
    Inpaint,
}

impl Objective {
    /// Whether the objective trains hops both ways, so it needs the u branch.
    pub fn is_bidirectional(self) -> bool {
        matches!(self, Objective::Bct | Objective::Distill)
    }

    /// The long ladders that suit what the objective trains: a denoiser reads well through
    /// Heun hops; the consistency objectives learn the ODE's own map, hence plain hops.
    pub fn ladders(self) -> Ladders {
        match self {
            Objective::Denoise | Objective::Inpaint => Ladders::Heun,
            Objective::Bct | Objective::Ct | Objective::Distill => Ladders::Plain,
        }
    }
}

/// A distillation's share of denoising crops unless a run says otherwise: without it the
/// model drifts from the denoiser that restoration reads it as.
pub const DISTILL_DENOISE_SHARE: f64 = 0.5;

/// A distillation's round trips per step unless a run says otherwise (at most the batch).
pub const DISTILL_ROUND_TRIPS: usize = 4;

/// Their length unless a run says otherwise: the editor's default inversion and generation.
pub const DISTILL_ROUND_TRIP_NFE: usize = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub preset: String,
    pub model: UNetConfig,
    pub objective: Objective,
    /// Folder of training photos.
    pub data: PathBuf,
    pub batch: usize,
    /// Side of the square training crops.
    pub patch: usize,
    /// Area-downscale factor applied to every photo before cropping (1 or 2).
    pub downscale: u32,
    /// Adam learning rate (after warm-up).
    pub lr: f64,
    /// Linear learning-rate warm-up, steps.
    pub warmup: u64,
    /// How the rate moves after the warm-up (over `total_steps`).
    #[serde(default)]
    pub lr_schedule: LrSchedule,
    /// Planned length; sets the N(k) curriculum.
    pub total_steps: u64,
    pub checkpoint_every: u64,
    pub sample_every: u64,
    pub validate_every: u64,
    pub ema_decay: f64,
    /// Gradient-norm clipping, per parameter tensor as burn's optimiser does it (the reference
    /// clips the norm of all gradients together at 1.0 in f32 training).
    pub grad_clip: Option<f64>,
    /// Curriculum bounds (iCT: 10 and 1280).
    pub s0: u64,
    pub s1: u64,
    pub seed: u64,
    /// Start from these weights (a model file or a run's checkpoint) instead of random ones.
    #[serde(default)]
    pub init: Option<PathBuf>,
    /// Training steps behind the `init` weights (from their card), counted in this run's cards.
    #[serde(default)]
    pub init_steps: u64,
    /// Photo decoding threads.
    pub loader_threads: usize,
    /// Denoising objective only: the share of crops whose input is JPEG-compressed (quality
    /// 8–60) before the noise is added, while the target stays the clean crop. Teaches the
    /// denoiser to treat compression damage as noise, which is what restoration relies on.
    #[serde(default)]
    pub jpeg_fraction: f64,
    /// Distillation only: crops per step whose ODE path the teacher follows; the batch's
    /// pairs are spread over them (a path costs about twice as many network evaluations as
    /// it has levels, so sharing it between pairs keeps the teacher's cost down).
    #[serde(default = "default_paths")]
    pub paths: usize,
    /// Distillation only: share of each batch's crops that also train the denoising
    /// objective (restoration-aware with `jpeg_fraction`) at levels up to
    /// [`DENOISE_CAP`](super::distill::DENOISE_CAP). Restoration runs the model as a denoiser
    /// at low levels, where the ODE's end is slightly sharper, and worse in PSNR, than the
    /// denoiser's mean; this keeps that use as trained.
    #[serde(default)]
    pub denoise_share: f64,
    /// Distillation only: the model whose ODE is distilled, when it is not the start
    /// (`init`): continuing a distillation from its exported weights after its run folder is
    /// gone (the teacher is then the denoiser it was distilled from).
    #[serde(default)]
    pub teacher: Option<PathBuf>,
    /// Distillation only: crops per step that also train the model's own short round trip
    /// (inverted to σ_max with its plain ladder of a few evaluations and generated back, the
    /// gradient through every hop; see [`round_trip`](super::round_trip)).
    #[serde(default)]
    pub round_trips: usize,
    /// Distillation only: evaluations each way of those round trips, 1 to
    /// [`MAX_ROUND_TRIP_NFE`]; 0 draws 1 or 2 at every step.
    #[serde(default)]
    pub round_trip_nfe: usize,
    /// Distillation only: the lengths a round trip's is drawn from at every step (e.g. 2 and
    /// 4, so that longer ladders are trained too); when set it replaces `round_trip_nfe`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub round_trip_lengths: Vec<usize>,
    /// Distillation only: weight of the round-trip loss against the pairs' part.
    #[serde(default = "default_round_trip_weight")]
    pub round_trip_weight: f32,
    /// Distillation only: weight of the denoising part (`denoise_share`) against the pairs'.
    /// Raised with `round_trip_weight`, it keeps restoration's share of the gradient.
    #[serde(default = "default_denoise_weight")]
    pub denoise_weight: f32,
    /// Distillation only: where the round trips' plain ladders turn (one evaluation's aside),
    /// and where the teacher's paths start; the model's card names it, so its ladders turn
    /// there too. Lower than the reference's 0.07 buries less of the photo under the first noise
    /// (see [`LadderStyle::floor`]).
    #[serde(default = "crate::engine::plan::default_ladder_floor")]
    pub ladder_floor: f32,
}

fn default_denoise_weight() -> f32 {
    DENOISE_WEIGHT
}

fn default_round_trip_weight() -> f32 {
    ROUND_TRIP_WEIGHT
}

/// The teacher's paths per step for a batch unless a run says otherwise: a quarter of it.
fn paths_for(batch: usize) -> usize {
    (batch / 4).max(1)
}

fn default_paths() -> usize {
    3
}

impl TrainConfig {
    /// Defaults for a preset (see README, "Training").
    pub fn for_preset(preset: &str, data: PathBuf) -> Result<Self, TrainError> {
        let model = UNetConfig::preset(preset)
            .ok_or_else(|| TrainError::Setting(format!("unknown preset '{preset}'")))?;
        let (batch, patch, total) = match preset {
            "tiny" => (8, 32, 2_000),
            _ => (12, 64, 40_000),
        };
        Ok(Self {
            preset: preset.into(),
            model,
            objective: Objective::Bct,
            data,
            batch,
            patch,
            downscale: 2,
            lr: 2e-4,
            warmup: 500,
            lr_schedule: LrSchedule::Constant,
            total_steps: total,
            checkpoint_every: 250,
            sample_every: 500,
            validate_every: 500,
            ema_decay: 0.999,
            grad_clip: Some(1.0),
            s0: 10,
            s1: 1280,
            seed: 0,
            init: None,
            init_steps: 0,
            loader_threads: 1,
            jpeg_fraction: 0.0,
            paths: paths_for(batch),
            denoise_share: 0.0,
            teacher: None,
            round_trips: 0,
            round_trip_nfe: 0,
            round_trip_lengths: Vec::new(),
            round_trip_weight: ROUND_TRIP_WEIGHT,
            denoise_weight: DENOISE_WEIGHT,
            ladder_floor: LadderStyle::DEFAULT_FLOOR,
        })
    }

    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |m: &str| Err(TrainError::Setting(m.into()));
        self.model.validate().map_err(TrainError::Setting)?;
        if self.batch == 0 || self.batch > 4096 {
            return bad("batch must be 1-4096");
        }
        if self.patch < 8 || !self.patch.is_multiple_of(self.model.alignment()) {
            return Err(TrainError::Setting(format!(
                "patch must be at least 8 and a multiple of {}",
                self.model.alignment()
            )));
        }
        if !(1..=4).contains(&self.downscale) {
            return bad("downscale must be 1-4");
        }
        if !(self.lr > 0.0 && self.lr < 1.0) {
            return bad("learning rate must be in (0, 1)");
        }
        if self.total_steps == 0
            || self.checkpoint_every == 0
            || self.sample_every == 0
            || self.validate_every == 0
        {
            return bad("steps and intervals must be positive");
        }
        if !(0.0..1.0).contains(&self.ema_decay) {
            return bad("EMA decay must be in [0, 1)");
        }
        if self.s0 == 0 || self.s1 < self.s0 {
            return bad("curriculum needs 0 < s0 <= s1");
        }
        if !(0.0..=1.0).contains(&self.jpeg_fraction) {
            return bad("JPEG input share must be in [0, 1]");
        }
        let denoises = self.objective == Objective::Denoise
            || (self.objective == Objective::Distill && self.denoise_share > 0.0);
        if self.jpeg_fraction > 0.0 && !denoises {
            return bad("JPEG inputs apply to the denoising objective only");
        }
        if !(0.0..=1.0).contains(&self.denoise_share) {
            return bad("denoising share must be in [0, 1]");
        }
        let conditioned = self.model.conditioning() > 0;
        if conditioned != (self.objective == Objective::Inpaint) {
            return bad(
                "a model that reads a mask trains the inpainting objective, and only such a model does",
            );
        }
        if self.objective.is_bidirectional() && !self.model.bidirectional {
            return bad("bidirectional training needs a bidirectional model");
        }
        if self.objective == Objective::Distill {
            if self.init.is_none() {
                return bad("distillation needs the model to distil (--init): it is the teacher");
            }
            if self.paths == 0 || self.paths > self.batch {
                return bad("paths per step must be 1 to the batch size");
            }
            if self.round_trips > self.batch {
                return bad("round trips per step must be at most the batch size");
            }
            let choices = self.round_trip_choices();
            if choices.iter().any(|&n| n == 0 || n > MAX_ROUND_TRIP_NFE) {
                return bad(&format!(
                    "round trips take 1 to {MAX_ROUND_TRIP_NFE} evaluations each way (0: drawn)"
                ));
            }
            if !(self.round_trip_weight.is_finite() && self.round_trip_weight >= 0.0) {
                return bad("the round trips' weight must be a number ≥ 0");
            }
            if !(self.denoise_weight.is_finite() && self.denoise_weight >= 0.0) {
                return bad("the denoising part's weight must be a number ≥ 0");
            }
            LadderStyle::new(Ladders::Plain, self.ladder_floor)
                .map_err(|e| TrainError::Setting(e.to_string()))?;
        } else if self.teacher.is_some() {
            return bad("a teacher applies to distillation only");
        } else if self.round_trips > 0
            || self.round_trip_nfe > 0
            || !self.round_trip_lengths.is_empty()
        {
            return bad("round trips apply to distillation only");
        } else if self.ladder_floor != LadderStyle::DEFAULT_FLOOR {
            return bad("a ladder floor applies to distillation only");
        }
        Ok(())
    }

    /// Train `objective`, with what it needs by default: a one-way model for CT; for a
    /// distillation, denoising crops ([`DISTILL_DENOISE_SHARE`]) and round trips
    /// ([`DISTILL_ROUND_TRIPS`] of [`DISTILL_ROUND_TRIP_NFE`]), so that the CLI and the
    /// Train tab start a distillation alike. Set the batch first: the round trips fit in it.
    pub fn set_objective(&mut self, objective: Objective) {
        self.objective = objective;
        match objective {
            Objective::Ct => self.model.bidirectional = false,
            Objective::Distill => {
                self.denoise_share = DISTILL_DENOISE_SHARE;
                self.round_trips = DISTILL_ROUND_TRIPS.min(self.batch);
                self.set_round_trip_choices(&[DISTILL_ROUND_TRIP_NFE]);
            }
            Objective::Inpaint => {
                self.model.condition_channels = Some(crate::engine::tasks::CONDITION_CHANNELS);
            }
            Objective::Bct | Objective::Denoise => {}
        }
    }

    /// Change the batch, and what follows it: a quarter of it as the teacher's paths (the
    /// default) and no more round trips than crops.
    pub fn set_batch(&mut self, batch: usize) {
        self.batch = batch;
        self.paths = paths_for(batch);
        self.round_trips = self.round_trips.min(batch);
    }

    /// The round trips' lengths (evaluations each way) one is drawn from at every step.
    pub fn round_trip_choices(&self) -> Vec<usize> {
        match (self.round_trip_lengths.is_empty(), self.round_trip_nfe) {
            (false, _) => self.round_trip_lengths.clone(),
            (true, 0) => (1..=DRAWN_ROUND_TRIP_NFE).collect(),
            (true, n) => vec![n],
        }
    }

    /// Set the round trips' lengths: one is kept at every step, several are drawn from.
    pub fn set_round_trip_choices(&mut self, lengths: &[usize]) {
        match lengths {
            [n] => (self.round_trip_nfe, self.round_trip_lengths) = (*n, Vec::new()),
            _ => (self.round_trip_nfe, self.round_trip_lengths) = (0, lengths.to_vec()),
        }
    }

    /// The ladders the trained model takes: the objective's kind, the run's floor.
    pub fn ladder_style(&self) -> LadderStyle {
        LadderStyle {
            kind: self.objective.ladders(),
            floor: self.ladder_floor,
        }
    }

    /// Learning rate at a step: linear warm-up, then as [`LrSchedule`] says.
    pub fn lr_at(&self, step: u64) -> f64 {
        self.lr_schedule
            .rate_at(self.lr, self.warmup, self.total_steps, step)
    }
}

/// What may change when a run resumes: where its photos are (on another machine, say; the
/// validation split goes by path inside the folder, so it stays the same) and how often it
/// reports. What is learned — batch, crops, learning rate, curriculum — stays as planned, so a
/// resumed run continues the same loss curve.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResumeChanges {
    pub data: Option<PathBuf>,
    pub loader_threads: Option<usize>,
    pub checkpoint_every: Option<u64>,
    pub sample_every: Option<u64>,
    pub validate_every: Option<u64>,
}

impl ResumeChanges {
    /// Apply to a run's configuration; true when anything changed.
    pub fn apply(&self, config: &mut TrainConfig) -> bool {
        let before = config.clone();
        if let Some(v) = &self.data {
            config.data = v.clone();
        }
        if let Some(v) = self.loader_threads {
            config.loader_threads = v;
        }
        if let Some(v) = self.checkpoint_every {
            config.checkpoint_every = v;
        }
        if let Some(v) = self.sample_every {
            config.sample_every = v;
        }
        if let Some(v) = self.validate_every {
            config.validate_every = v;
        }
        *config != before
    }
}
