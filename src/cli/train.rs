//! `train`: run or continue training (consistency training, distillation or the denoising
//! warm-up), printing progress.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use bcm_studio::engine::train::config::LrSchedule;
use bcm_studio::engine::train::driver::{Control, Event, Request, drive};
use bcm_studio::engine::train::{Objective, ResumeChanges, StepReport, TrainConfig, Trainer};
use bcm_studio::engine::weights;
use burn::tensor::Device;

use super::args::Command;

struct Terminal {
    started: Instant,
    first_step: u64,
    until: u64,
    objective: Objective,
}

impl Terminal {
    /// The loss's parts and, for consistency training, the curriculum's grid points.
    fn parts(&self, r: &StepReport) -> String {
        match self.objective {
            Objective::Bct | Objective::Ct => {
                format!("ct {:.5}, bcm {:.5})  N {}", r.ct, r.bcm, r.points)
            }
            Objective::Distill => format!("down {:.5}, up {:.5})", r.ct, r.bcm),
            Objective::Denoise => "denoising)".into(),
            Objective::Inpaint => "inpainting)".into(),
        }
    }
}

impl Control for Terminal {
    fn next_request(&mut self) -> Request {
        Request::Continue
    }

    fn event(&mut self, event: Event) {
        match event {
            Event::Step(r) => {
                let done = r.step - self.first_step;
                let rate = done as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
                let eta = (self.until.saturating_sub(r.step)) as f64 / rate.max(1e-9);
                if r.step % 10 == 0 || done <= 3 {
                    eprintln!(
                        "step {:>7}  loss {:.5} ({}  lr {:.1e}  {:.2} steps/s  {:.1} img/s  ETA {}",
                        r.step,
                        r.loss,
                        self.parts(&r),
                        r.lr,
                        rate,
                        rate * r.images as f64,
                        hms(eta)
                    );
                }
            }
            Event::Validation(v) if v.hole_psnr.is_some() => {
                let (ours, classical) = v.hole_psnr.unwrap_or_default();
                eprintln!(
                    "validation at {}: in-hole PSNR {ours:.2} dB (classical fill {classical:.2} dB) on {} crops",
                    v.step, v.images
                )
            }
            Event::Validation(v) => eprintln!(
                "validation at {}: reconstruction PSNR {:.2} dB (NFE 1), {:.2} dB (NFE 2, SSIM {:.3}), {:.2} dB (NFE 4); denoising from σ 0.2: {:.2} dB; inversion reaches σ {:.1} of 80",
                v.step,
                v.psnr_nfe1,
                v.psnr_nfe2,
                v.ssim_nfe2,
                v.psnr_nfe4,
                v.psnr_denoise,
                v.inversion_sigma
            ),
            Event::Checkpoint { step, dir } => eprintln!("checkpoint {step}: {}", dir.display()),
            Event::Samples { path, .. } => eprintln!("samples: {}", path.display()),
        }
    }
}

/// The settings of the run that made the model at `init`, as its card records them.
fn made_with(init: &Path) -> Result<TrainConfig> {
    let card = weights::read_card(init)?;
    card.training.with_context(|| {
        format!(
            "{}'s card records no training run (a blend, or a model exported before cards \
             recorded them): give the settings as flags instead of --follow-init",
            init.display()
        )
    })
}

fn hms(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// Train; a new run that fails before its first checkpoint leaves no folder behind (a run
/// folder with a config and a log but nothing trained would only be resumed into an error).
pub fn run(command: Command, device: &Device) -> Result<()> {
    let Command::Train { out, resume, .. } = &command else {
        bail!("not a train command");
    };
    let (out, new_folder) = (out.clone(), !*resume && !out.exists());
    let result = run_in(command, device);
    if result.is_err()
        && new_folder
        && bcm_studio::engine::train::checkpoint::latest(&out).is_none()
    {
        let _ = std::fs::remove_dir_all(&out);
    }
    result
}

fn run_in(command: Command, device: &Device) -> Result<()> {
    let Command::Train {
        data,
        preset,
        out,
        resume,
        steps,
        batch,
        patch,
        lr,
        warmup,
        lr_schedule,
        downscale,
        checkpoint_every,
        sample_every,
        validate_every,
        objective,
        s0,
        s1,
        init,
        follow_init,
        loader_threads,
        jpeg_fraction,
        paths,
        denoise_share,
        teacher,
        round_trips,
        round_trip_nfe,
        round_trip_weight,
        denoise_weight,
        ladder_floor,
    } = command
    else {
        bail!("not a train command");
    };
    let mut trainer = if resume {
        let fixed = [
            ("--batch", batch.is_some()),
            ("--patch", patch.is_some()),
            ("--lr", lr.is_some()),
            ("--warmup", warmup.is_some()),
            ("--lr-schedule", lr_schedule.is_some()),
            ("--downscale", downscale.is_some()),
            ("--s0", s0.is_some()),
            ("--s1", s1.is_some()),
            ("--init", init.is_some()),
            ("--jpeg-fraction", jpeg_fraction.is_some()),
            ("--paths", paths.is_some()),
            ("--denoise-share", denoise_share.is_some()),
            ("--teacher", teacher.is_some()),
            ("--round-trips", round_trips.is_some()),
            ("--round-trip-nfe", round_trip_nfe.is_some()),
            ("--round-trip-weight", round_trip_weight.is_some()),
            ("--denoise-weight", denoise_weight.is_some()),
            ("--ladder-floor", ladder_floor.is_some()),
        ];
        let given: Vec<&str> = fixed.iter().filter(|f| f.1).map(|f| f.0).collect();
        if !given.is_empty() {
            bail!(
                "{} cannot change when a run resumes (it continues the training it planned); \
                 start a new run from its exported weights (--init) instead",
                given.join(", ")
            );
        }
        let changes = ResumeChanges {
            data,
            loader_threads,
            checkpoint_every,
            sample_every,
            validate_every,
        };
        let t = Trainer::resume_with(&out, device, &changes)?;
        eprintln!("resumed {} at step {}", out.display(), t.step);
        t
    } else {
        let Some(data) = data else {
            bail!("--data is required for a new run")
        };
        let (mut config, recorded_teacher) = match (&init, follow_init) {
            (Some(init), true) => {
                let mut made = made_with(init)?;
                made.data = data;
                // A teacher the card names is used only where it still is.
                let teacher = made.teacher.take().filter(|t| t.exists());
                (made, teacher)
            }
            _ => (TrainConfig::for_preset(&preset, data)?, None),
        };
        if let Some(v) = batch {
            config.set_batch(v);
        }
        let objective = match objective.as_deref() {
            None if follow_init => None,
            None | Some("bct") => Some(Objective::Bct),
            Some("ct") => Some(Objective::Ct),
            Some("denoise") => Some(Objective::Denoise),
            Some("distill") => Some(Objective::Distill),
            Some("inpaint") => Some(Objective::Inpaint),
            Some(other) => {
                bail!("--objective must be bct, ct, denoise, distill or inpaint, got {other}")
            }
        };
        // Naming the objective a followed run already has keeps its settings for it.
        if let Some(objective) = objective.filter(|o| !follow_init || *o != config.objective) {
            config.set_objective(objective);
        }
        if let Some(v) = steps {
            config.total_steps = v;
        }
        if let Some(v) = patch {
            config.patch = v;
        }
        if let Some(v) = lr {
            config.lr = v;
        }
        if let Some(v) = warmup {
            config.warmup = v;
        }
        if let Some(v) = lr_schedule {
            config.lr_schedule = LrSchedule::parse(&v)
                .with_context(|| format!("--lr-schedule must be constant or cosine, got {v}"))?;
        }
        if let Some(v) = downscale {
            config.downscale = v;
        }
        if let Some(v) = checkpoint_every {
            config.checkpoint_every = v;
        }
        if let Some(v) = sample_every {
            config.sample_every = v;
        }
        if let Some(v) = validate_every {
            config.validate_every = v;
        }
        if let Some(v) = s0 {
            config.s0 = v;
        }
        if let Some(v) = s1 {
            config.s1 = v;
        }
        if let Some(v) = loader_threads {
            config.loader_threads = v;
        }
        if let Some(v) = jpeg_fraction {
            config.jpeg_fraction = v;
        }
        if let Some(v) = paths {
            config.paths = v;
        }
        if let Some(v) = denoise_share {
            config.denoise_share = v;
        }
        config.init = init;
        config.teacher = teacher.or(recorded_teacher);
        if let Some(v) = round_trips {
            config.round_trips = v;
        }
        if let Some(v) = round_trip_nfe {
            config.set_round_trip_choices(&v);
        }
        if let Some(v) = round_trip_weight {
            config.round_trip_weight = v;
        }
        if let Some(v) = denoise_weight {
            config.denoise_weight = v;
        }
        if let Some(v) = ladder_floor {
            config.ladder_floor = v;
        }
        Trainer::start(config, &out, device)?
    };
    let until = if resume {
        steps.unwrap_or(trainer.config.total_steps)
    } else {
        trainer.config.total_steps
    };
    eprintln!(
        "training {} ({} parameters) on {} photos ({} held out), batch {}, patch {}, until step {until}",
        trainer.config.preset,
        trainer.config.model.param_count(),
        trainer.photos.train.len(),
        trainer.photos.validation.len(),
        trainer.config.batch,
        trainer.config.patch
    );
    let mut control = Terminal {
        started: Instant::now(),
        first_step: trainer.step,
        until,
        objective: trainer.config.objective,
    };
    drive(&mut trainer, until, &mut control)?;
    eprintln!(
        "done at step {}; EMA weights in {}",
        trainer.step,
        Path::new(&out).join("checkpoints").display()
    );
    Ok(())
}
