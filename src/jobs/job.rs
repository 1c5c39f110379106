//! What the worker can be asked to do, and what it hands back.

use std::path::PathBuf;

use super::blend::{BlendRequest, blend};
use crate::engine::mask::Mask;
use crate::engine::model::{Bcm, ModelInfo};
use crate::engine::plan::Plan;
use crate::engine::planar::Planar;
use crate::engine::sampler::{Monitor, Tiling};
use crate::engine::tasks::{
    self, EditParams, GenerateParams, InpaintParams, Interpolator, RestoreParams,
};
use crate::engine::train::{TrainConfig, TrainError, timing};
use crate::engine::{EngineError, NoiseRng, weights};
use crate::util::memory::peak_rss_mib;

/// Why a job failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Training(#[from] TrainError),
}

type Result<T> = std::result::Result<T, JobError>;

/// A unit of engine work.
#[derive(Debug, Clone)]
pub enum Job {
    Inpaint {
        image: Planar,
        mask: Mask,
        params: InpaintParams,
    },
    Restore {
        image: Planar,
        params: RestoreParams,
    },
    Edit {
        edited: Planar,
        region: Mask,
        params: EditParams,
    },
    Generate {
        params: GenerateParams,
    },
    /// Run a plan on an image (timeline: invert to a level, or generate back down).
    RunPlan {
        image: Planar,
        plan: Plan,
        seed: u64,
    },
    /// Invert two images for interpolation.
    PrepareInterpolation {
        a: Planar,
        b: Planar,
        sigma: f32,
        nfe: usize,
        /// How frames are generated from `sigma`.
        generation: Plan,
        seed: u64,
    },
    /// One in-between frame, optionally at a reduced size while the slider is dragged.
    InterpolationFrame {
        alpha: f32,
        preview_scale: usize,
        seed: u64,
    },
    /// `frames` in-betweens side by side in one image.
    InterpolationStrip {
        frames: usize,
        seed: u64,
    },
    /// Replace the worker's model (training tab "use in editor").
    SetModel(Box<Bcm>),
    /// Read a model and make it the worker's (File > Model); the old one stays on failure.
    LoadModel(ModelSource),
    /// Blend two models, save the blend and make it the worker's model (Train tab).
    Blend(Box<BlendRequest>),
    /// Time training steps of these settings on the worker's device (Train tab's estimate):
    /// one untimed step that compiles kernels, then two.
    MeasureTraining(Box<TrainConfig>),
}

/// Where a model to load comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// The model built into the binary.
    Embedded,
    /// A `.safetensors` file with its `.json` card beside it.
    File(PathBuf),
}

impl Job {
    pub fn label(&self) -> &'static str {
        match self {
            Job::Inpaint { .. } => "inpaint",
            Job::Restore { .. } => "restore",
            Job::Edit { .. } => "edit",
            Job::Generate { .. } => "generate",
            Job::RunPlan { .. } => "timeline",
            Job::PrepareInterpolation { .. } => "invert both pictures",
            Job::InterpolationFrame { .. } => "interpolation frame",
            Job::InterpolationStrip { .. } => "interpolation strip",
            Job::SetModel(_) => "switch model",
            Job::LoadModel(_) => "load model",
            Job::Blend(_) => "blend models",
            Job::MeasureTraining(_) => "measure training",
        }
    }
}

/// A finished job's result.
#[derive(Debug, Clone)]
pub enum JobOutput {
    /// A new image (with the mask that limits where it applies), NFE used, and the plan text.
    Image {
        image: Planar,
        mask: Option<Mask>,
        nfe: usize,
        schedule: String,
    },
    /// Interpolation is ready; frames can be asked for.
    InterpolationReady {
        nfe: usize,
    },
    Frame {
        alpha: f32,
        image: Planar,
        preview: bool,
    },
    ModelChanged {
        info: ModelInfo,
    },
    /// A blend was saved at `file` and is the worker's model now.
    Blended {
        file: PathBuf,
        info: ModelInfo,
    },
    /// Seconds per training step at `batch` images, and the process's peak memory (MiB).
    Measured {
        seconds_per_step: f64,
        batch: usize,
        peak_mib: Option<f64>,
    },
}

/// Every k-th pixel. Used for latents: unlike averaging, it keeps the noise's standard
/// deviation, so the preview latent still sits at its noise level.
pub fn subsample(img: &Planar, k: usize) -> Planar {
    if k <= 1 {
        return img.clone();
    }
    let (h, w) = (img.height.div_ceil(k), img.width.div_ceil(k));
    let mut data = Vec::with_capacity(img.channels * h * w);
    for c in 0..img.channels {
        for y in 0..h {
            data.extend((0..w).map(|x| img.at(c, y * k, x * k)));
        }
    }
    Planar {
        channels: img.channels,
        height: h,
        width: w,
        data,
    }
}

/// State the worker keeps between jobs.
#[derive(Default)]
pub struct WorkerState {
    /// The model that fills holes for the worker's (see [`tasks::inpaint`]): the shipped
    /// inpainting model while the shipped model is loaded; None once another model is (it
    /// inpaints itself).
    pub inpainter: Option<Bcm>,
    pub interpolator: Option<Interpolator>,
    /// Latents downscaled for previews, keyed by factor.
    pub preview: Option<(usize, Interpolator)>,
}

pub(crate) fn execute(
    job: Job,
    model: &mut Bcm,
    tiling: &Tiling,
    state: &mut WorkerState,
    monitor: &mut dyn Monitor,
) -> Result<JobOutput> {
    let image = |out: tasks::Output, schedule: String| JobOutput::Image {
        image: out.image,
        mask: out.mask,
        nfe: out.nfe,
        schedule,
    };
    Ok(match job {
        Job::Inpaint {
            image: img,
            mask,
            params,
        } => image(
            tasks::inpaint(
                model,
                state.inpainter.as_ref(),
                &img,
                &mask,
                &params,
                tiling,
                monitor,
            )?,
            params.schedule(),
        ),
        Job::Restore { image: img, params } => {
            let schedule = tasks::restore_schedule(&params)?;
            image(
                tasks::restore(model, &img, &params, tiling, monitor)?,
                schedule,
            )
        }
        Job::Edit {
            edited,
            region,
            params,
        } => {
            let plan = tasks::edit_plan(&params)?;
            image(
                tasks::edit(model, &edited, &region, &params, tiling, monitor)?,
                plan.to_string(),
            )
        }
        Job::Generate { params } => {
            let schedule = params.plan.to_string();
            image(tasks::generate(model, &params, tiling, monitor)?, schedule)
        }
        Job::RunPlan {
            image: img,
            plan,
            seed,
        } => {
            let out = model.run(img, &plan, &mut NoiseRng::new(seed), tiling, monitor)?;
            JobOutput::Image {
                image: out,
                mask: None,
                nfe: plan.nfe(),
                schedule: plan.to_string(),
            }
        }
        Job::PrepareInterpolation {
            a,
            b,
            sigma,
            nfe,
            generation,
            seed,
        } => {
            let interp =
                Interpolator::new(model, &a, &b, sigma, nfe, generation, seed, tiling, monitor)?;
            let used = 2 * interp.a.plan.nfe();
            state.preview = None;
            state.interpolator = Some(interp);
            JobOutput::InterpolationReady { nfe: used }
        }
        Job::InterpolationFrame {
            alpha,
            preview_scale,
            seed,
        } => {
            let Some(interp) = &state.interpolator else {
                return Err(EngineError::Parameter("invert the two pictures first".into()).into());
            };
            if preview_scale > 1 {
                let small = match state.preview.take() {
                    Some((k, small)) if k == preview_scale => small,
                    _ => {
                        let mut small = interp.clone();
                        small.a.latent = subsample(&interp.a.latent, preview_scale);
                        small.b.latent = subsample(&interp.b.latent, preview_scale);
                        small
                    }
                };
                let out = small.frame(model, alpha, seed, tiling, monitor);
                state.preview = Some((preview_scale, small));
                JobOutput::Frame {
                    alpha,
                    image: out?.image,
                    preview: true,
                }
            } else {
                let out = interp.frame(model, alpha, seed, tiling, monitor)?;
                JobOutput::Frame {
                    alpha,
                    image: out.image,
                    preview: false,
                }
            }
        }
        Job::InterpolationStrip { frames, seed } => {
            let Some(interp) = &state.interpolator else {
                return Err(EngineError::Parameter("invert the two pictures first".into()).into());
            };
            let frames = frames.clamp(2, 64);
            let (h, w) = (interp.a.latent.height, interp.a.latent.width);
            let mut strip = Planar::zeros(3, h, w * frames);
            let per = interp.generation.nfe();
            for k in 0..frames {
                let alpha = k as f32 / (frames - 1) as f32;
                let latent = interp.latent(alpha);
                let mut rng = NoiseRng::new(seed);
                let mut img = model.run_counted(
                    latent,
                    &interp.generation,
                    &mut rng,
                    tiling,
                    monitor,
                    (k * per, frames * per),
                )?;
                img.clamp_unit();
                strip.paste(&img, 0, 0, h, w, 0, k * w);
            }
            JobOutput::Image {
                image: strip,
                mask: None,
                nfe: frames * per,
                schedule: interp.generation.to_string(),
            }
        }
        Job::SetModel(new) => JobOutput::ModelChanged {
            info: switch_model(model, state, *new),
        },
        Job::LoadModel(source) => {
            let inpainter = match &source {
                ModelSource::Embedded => Some(weights::inpaint_model(&model.device)?),
                ModelSource::File(_) => None,
            };
            let new = match &source {
                ModelSource::Embedded => weights::default_model(&model.device)?,
                ModelSource::File(path) => {
                    let mut new = weights::load(path, &model.device)?;
                    // Fine-tunes share their card's name; the file tells them apart (and goes
                    // into the recipes of what it makes).
                    if let Some(file) = path.file_name() {
                        new.info.name = format!("{} ({})", new.info.name, file.to_string_lossy());
                    }
                    new
                }
            };
            let info = switch_model(model, state, new);
            state.inpainter = inpainter;
            JobOutput::ModelChanged { info }
        }
        Job::Blend(request) => {
            let new = blend(&request, &model.device)?;
            JobOutput::Blended {
                info: switch_model(model, state, new),
                file: request.out,
            }
        }
        Job::MeasureTraining(config) => {
            if monitor.cancelled() {
                return Err(EngineError::Cancelled.into());
            }
            JobOutput::Measured {
                seconds_per_step: timing::time_steps(&config, &model.device, 1, 2)?,
                batch: config.batch,
                peak_mib: peak_rss_mib(),
            }
        }
    })
}

/// Make `new` the worker's model (what was prepared with the old one is dropped); its info.
fn switch_model(model: &mut Bcm, state: &mut WorkerState, new: Bcm) -> ModelInfo {
    *model = new;
    state.inpainter = None;
    state.interpolator = None;
    state.preview = None;
    model.info.clone()
}
