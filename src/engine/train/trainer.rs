//! A training run: state, one optimiser step at a time, checkpoints, logs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::tensor::{Device, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::checkpoint::{self, CheckpointState};
use super::config::{ResumeChanges, TrainConfig};
use super::curriculum::Curriculum;
use super::data::{Batch, CropSpec, PhotoSet, Prefetcher};
use super::degrade;
use super::ema;
use super::error::TrainError;
use super::start::{TEACHER_FILE, initial_net, load_teacher};
use super::step::{BatchInputs, Teacher, descend, draw_times, objective_loss, optimizer};
use super::times::TimeSampler;
use crate::engine::model::{Bcm, ModelInfo};
use crate::engine::network::UNet;
use crate::engine::noise::NoiseRng;
use crate::engine::weights::ModelCard;
use crate::util::atomic::write_atomic;

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StepReport {
    pub step: u64,
    pub loss: f32,
    pub ct: f32,
    pub bcm: f32,
    /// Grid points N(k) of the curriculum.
    pub points: usize,
    pub lr: f64,
    /// Seconds this step took.
    pub seconds: f64,
    pub images: usize,
}

pub struct Trainer {
    pub config: TrainConfig,
    pub run: PathBuf,
    /// Optimiser steps done.
    pub step: u64,
    /// Training wall time over all sessions, seconds.
    pub train_seconds: f64,
    pub photos: PhotoSet,
    device: Device,
    net: UNet,
    ema: Bcm,
    optim: ModuleOptimizer,
    data: Prefetcher,
    curriculum: Curriculum,
    /// The frozen starting model a distillation follows.
    teacher: Option<Teacher>,
}

/// The settings a run folder was started (or last resumed) with.
pub fn run_config(run: &Path) -> Result<TrainConfig, TrainError> {
    let bytes = std::fs::read(run.join("config.json")).map_err(|e| run_err(run, e))?;
    serde_json::from_slice(&bytes).map_err(|e| run_err(run, e))
}

pub(super) fn run_err(path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::Run(format!("{}: {e}", path.display()))
}

impl Trainer {
    /// Start a new run in `run` (which must not hold a checkpoint yet).
    pub fn start(mut config: TrainConfig, run: &Path, device: &Device) -> Result<Self, TrainError> {
        config.validate()?;
        if checkpoint::latest(run).is_some() {
            return Err(TrainError::Run(format!(
                "{} already has checkpoints; resume it instead",
                run.display()
            )));
        }
        let photos = PhotoSet::scan(&config.data, 10)?;
        std::fs::create_dir_all(run).map_err(|e| run_err(run, e))?;
        let ad = device.clone().autodiff();
        let net = initial_net(&mut config, &ad)?;
        config.validate()?;
        // A new run takes its teacher from its settings, never from a copy an earlier start left.
        let _ = std::fs::remove_file(run.join(TEACHER_FILE));
        let teacher = load_teacher(&config, run, device)?;
        let json = serde_json::to_vec_pretty(&config).map_err(|e| run_err(run, e))?;
        write_atomic(&run.join("config.json"), &json).map_err(|e| run_err(run, e))?;
        let ema = Bcm {
            net: net.valid(),
            config: config.model.clone(),
            info: ModelInfo {
                name: run_name(run),
                trained: true,
                ladders: config.ladder_style(),
            },
            device: device.clone(),
        };
        for log in ["log.jsonl", "val.jsonl"] {
            let _ = std::fs::remove_file(run.join(log));
        }
        let mut trainer = Self::assemble(config, run, device, net, ema, None, 0, 0.0, photos);
        trainer.teacher = teacher;
        Ok(trainer)
    }

    /// Continue a run from its newest checkpoint.
    pub fn resume(run: &Path, device: &Device) -> Result<Self, TrainError> {
        Self::resume_with(run, device, &ResumeChanges::default())
    }

    /// Continue a run from its newest checkpoint with `changes` to where its photos are or how
    /// often it reports; they are written into the run's configuration.
    pub fn resume_with(
        run: &Path,
        device: &Device,
        changes: &ResumeChanges,
    ) -> Result<Self, TrainError> {
        let mut config = run_config(run)?;
        let changed = changes.apply(&mut config);
        config.validate()?;
        let dir = checkpoint::latest(run).ok_or_else(|| {
            TrainError::Run(format!("{} has no checkpoint to resume", run.display()))
        })?;
        let state = checkpoint::read_state(&dir)?;
        let photos = PhotoSet::scan(&config.data, 10)?;
        if changed {
            let json = serde_json::to_vec_pretty(&config).map_err(|e| run_err(run, e))?;
            write_atomic(&run.join("config.json"), &json).map_err(|e| run_err(run, e))?;
        }
        let ad = device.clone().autodiff();
        let net = checkpoint::load_online(&dir, &config.model, &ad)?;
        let ema = checkpoint::load_ema(&dir, device)?;
        let teacher = load_teacher(&config, run, device)?;
        // burn materialises optimiser state on its default device before moving it to the
        // parameters' device on the next step; if that device cannot start, fail cleanly.
        let path = dir.join("optim.bpk");
        let optim = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            optimizer(&config).load(&path)
        }))
        .map_err(|_| {
            TrainError::Checkpoint(format!(
                "optimiser state in {}: no device to load it on",
                dir.display()
            ))
        })?
        .map_err(|e| {
            TrainError::Checkpoint(format!("optimiser state in {}: {e:?}", dir.display()))
        })?;
        // Steps logged after the checkpoint are redone, so drop them.
        for log in ["log.jsonl", "val.jsonl"] {
            truncate_log(&run.join(log), state.step)?;
        }
        let mut trainer = Self::assemble(
            config,
            run,
            device,
            net,
            ema,
            None,
            state.step,
            state.train_seconds,
            photos,
        );
        trainer.optim = optim;
        trainer.teacher = teacher;
        Ok(trainer)
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        config: TrainConfig,
        run: &Path,
        device: &Device,
        net: UNet,
        ema: Bcm,
        optim: Option<ModuleOptimizer>,
        step: u64,
        train_seconds: f64,
        photos: PhotoSet,
    ) -> Self {
        let spec = CropSpec {
            patch: config.patch,
            downscale: config.downscale,
        };
        let data = Prefetcher::start(
            photos.train.clone(),
            spec,
            config.batch,
            config.seed,
            step,
            config.loader_threads,
        );
        let curriculum = Curriculum {
            s0: config.s0,
            s1: config.s1,
            total_steps: config.total_steps,
        };
        let optim = optim.unwrap_or_else(|| optimizer(&config));
        Self {
            config,
            run: run.into(),
            step,
            train_seconds,
            photos,
            device: device.clone(),
            net,
            ema,
            optim,
            data,
            curriculum,
            teacher: None,
        }
    }

    /// The EMA model (what sampling, validation and "use in editor" see).
    pub fn ema_model(&self) -> &Bcm {
        &self.ema
    }

    pub fn curriculum_points(&self) -> usize {
        self.curriculum.points(self.step)
    }

    /// Crop data laid out like `batch` ([B, 3, P, P]) as a tensor.
    fn batch_tensor(data: Vec<f32>, batch: &Batch, device: &Device) -> Tensor<4> {
        let p = batch.patch;
        Tensor::from_data(TensorData::new(data, [batch.size, 3, p, p]), device)
    }

    /// JPEG-damaged network inputs when the run asks for them.
    fn damaged_input(
        &self,
        batch: &Batch,
        device: &Device,
    ) -> Result<Option<Tensor<4>>, TrainError> {
        if self.config.jpeg_fraction <= 0.0 {
            return Ok(None);
        }
        let data = degrade::jpeg_inputs(batch, self.config.jpeg_fraction, self.config.seed)?;
        Ok(Some(Self::batch_tensor(data, batch, device)))
    }

    /// One optimiser step.
    pub fn step(&mut self) -> Result<StepReport, TrainError> {
        let started = Instant::now();
        let batch = self.data.next_batch()?;
        let ad = self.device.clone().autodiff();
        let x0 = Self::batch_tensor(batch.data.clone(), &batch, &ad);
        let mut rng = ChaCha8Rng::seed_from_u64(
            self.config
                .seed
                .wrapping_add(self.step.wrapping_mul(0x9E37_79B9)),
        );
        let points = self.curriculum.points(self.step);
        let sampler = TimeSampler::new(points);
        let times = draw_times(self.config.objective, &sampler, &mut rng, batch.size);
        let mut noise = NoiseRng::new(rng.random());
        let z = Tensor::<4>::from_data(
            TensorData::new(
                noise.normal(batch.data.len()),
                [batch.size, 3, batch.patch, batch.patch],
            ),
            &ad,
        );
        let dropout_seed: u64 = rng.random();
        let input = self.damaged_input(&batch, &ad)?;
        let inputs = BatchInputs {
            x0,
            input,
            z,
            times: &times,
            seed: dropout_seed,
        };
        let loss = objective_loss(
            self.config.objective,
            &self.net,
            inputs,
            self.teacher.as_ref(),
            &mut rng,
        )?;
        let lr = self.config.lr_at(self.step);
        let (net, parts) = descend(loss, self.net.clone(), &mut self.optim, lr, self.step)?;
        self.net = net;
        let decay = ema::decay_at(self.config.ema_decay, self.step);
        self.ema.net = ema::update(self.ema.net.clone(), &self.net.valid(), decay);
        self.step += 1;
        let seconds = started.elapsed().as_secs_f64();
        self.train_seconds += seconds;
        let report = StepReport {
            step: self.step,
            loss: parts.total,
            ct: parts.ct,
            bcm: parts.bcm,
            points,
            lr,
            seconds,
            images: batch.size,
        };
        append_log(&self.run.join("log.jsonl"), &report)?;
        Ok(report)
    }

    /// The model card written with the EMA weights.
    pub fn card(&self) -> ModelCard {
        let mut card = ModelCard::new(&run_name(&self.run), self.config.model.clone());
        card.steps = self.config.init_steps + self.step;
        card.set_ladder_style(self.config.ladder_style());
        card.training = Some(self.config.clone());
        let jpeg = if self.config.jpeg_fraction > 0.0 {
            format!(
                " ({:.0} % of inputs JPEG-compressed)",
                self.config.jpeg_fraction * 100.0
            )
        } else {
            String::new()
        };
        let start = match &self.config.init {
            Some(path) => format!(
                ", continued from {} ({} steps)",
                path.display(),
                self.config.init_steps
            ),
            None => String::new(),
        };
        card.notes = format!(
            "{:?} training{jpeg}{start}, preset {}, batch {}, patch {}, {:.1} h, data {}",
            self.config.objective,
            self.config.preset,
            self.config.batch,
            self.config.patch,
            self.train_seconds / 3600.0,
            self.config.data.display()
        );
        card
    }

    /// Write a checkpoint now.
    pub fn save_checkpoint(&self) -> Result<PathBuf, TrainError> {
        let optim = self
            .optim
            .into_bytes()
            .map_err(|e| TrainError::Checkpoint(format!("serialising the optimiser: {e:?}")))?;
        let state = CheckpointState {
            step: self.step,
            train_seconds: self.train_seconds,
            seed: self.config.seed,
        };
        let mut ema = self.ema.clone();
        ema.info.trained = self.step > 0;
        checkpoint::save(
            &self.run,
            &self.net.valid(),
            &ema,
            &optim,
            &state,
            &self.card(),
        )
    }
}

pub fn run_name(run: &Path) -> String {
    run.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into())
}

/// Append one JSON line.
pub fn append_log(path: &Path, entry: &impl Serialize) -> Result<(), TrainError> {
    let line = serde_json::to_string(entry).map_err(|e| run_err(path, e))?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| run_err(path, e))?;
    writeln!(f, "{line}").map_err(|e| run_err(path, e))
}

/// Keep only log lines whose "step" is at most `step`.
fn truncate_log(path: &Path, step: u64) -> Result<(), TrainError> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(());
    };
    let kept: String = text
        .lines()
        .filter(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .and_then(|v| v.get("step").and_then(|s| s.as_u64()))
                .is_some_and(|s| s <= step)
        })
        .map(|l| format!("{l}\n"))
        .collect();
    write_atomic(path, kept.as_bytes()).map_err(|e| run_err(path, e))
}
