//! The training tab: train or fine-tune a BCM on your own photos in the background while you
//! keep editing; watch loss curves, samples and validation PSNR; stop, resume (also after a
//! restart), use any run's model in the editor or blend two models into one.

mod blend;
mod form;
mod live;
mod runs;
mod settings;

pub use blend::BlendForm;
pub use runs::{PastRun, scan_runs};
pub use settings::Form;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use burn::tensor::Device;
use egui::{Color32, TextureHandle, Ui};
use egui_plot::{Legend, Line, Plot, PlotPoints};

use crate::engine::model::Bcm;
use crate::engine::network::UNetConfig;
use crate::engine::plan::Ladders;
use crate::engine::train::checkpoint;
use crate::engine::train::driver::Event as TrainEvent;
use crate::engine::train::{Objective, TrainConfig};
use crate::engine::weights::{ModelCard, SHIPPED_MODEL, SHIPPED_TEACHER, shipped_file};
use crate::jobs::training::{Command, Start, TrainingEvent, TrainingRunner};
use crate::jobs::{Job, JobOutput};

/// Work the tab hands to the editor's worker (one at a time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TabJob {
    Blend,
    Measure,
}

/// What the tab shows about the active run.
#[derive(Default)]
struct Live {
    run: Option<PathBuf>,
    until: u64,
    step: u64,
    points: usize,
    loss: Vec<[f64; 2]>,
    ct: Vec<[f64; 2]>,
    bcm: Vec<[f64; 2]>,
    psnr1: Vec<[f64; 2]>,
    psnr2: Vec<[f64; 2]>,
    psnr4: Vec<[f64; 2]>,
    psnr_denoise: Vec<[f64; 2]>,
    /// Latest noise level the one-hop inversion reaches (80 when exact).
    inversion_sigma: Option<f64>,
    started: Option<(Instant, u64)>,
    images_per_step: usize,
    paused: bool,
    sample: Option<PathBuf>,
    sample_tex: Option<TextureHandle>,
    last_checkpoint: Option<u64>,
    summary: String,
    /// What the run trains (names the loss's parts).
    objective: Option<Objective>,
}

pub struct TrainingTab {
    runs_dir: PathBuf,
    device: Device,
    editor_busy: Arc<AtomicBool>,
    waker: Arc<dyn Fn() + Send + Sync>,
    pub form: Form,
    pub blend: BlendForm,
    /// The photos folder button was pressed: the editor shows its folder dialog.
    folder_wanted: bool,
    runner: Option<TrainingRunner>,
    /// A job for the editor's worker, not yet taken.
    for_worker: Option<Job>,
    /// The tab's job that is waiting or running on the worker.
    pending: Option<TabJob>,
    estimate_text: Option<String>,
    live: Live,
    past: Vec<PastRun>,
    pub message: Option<(String, bool)>,
    for_editor: Option<Bcm>,
    smoothing: f64,
    /// The card of the model to continue from, read once per choice (None: unreadable).
    continue_card: Option<(PathBuf, Option<ModelCard>)>,
    /// Where the shipped model's file is, and its teacher's when on disk (looked up once, not
    /// every frame).
    shipped_model: PathBuf,
    /// Whether that file is on disk (the blend offers it only then).
    shipped_model_on_disk: bool,
    shipped_teacher: Option<PathBuf>,
}

fn smooth(points: &[[f64; 2]], k: f64) -> Vec<[f64; 2]> {
    let mut acc = None;
    points
        .iter()
        .map(|p| {
            let v = match acc {
                None => p[1],
                Some(a) => a * k + p[1] * (1.0 - k),
            };
            acc = Some(v);
            [p[0], v]
        })
        .collect()
}

impl TrainingTab {
    pub fn new(
        runs_dir: PathBuf,
        device: Device,
        editor_busy: Arc<AtomicBool>,
        waker: Arc<dyn Fn() + Send + Sync>,
    ) -> Self {
        let past = scan_runs(&runs_dir);
        let shipped_model = shipped_file(SHIPPED_MODEL);
        Self {
            folder_wanted: false,
            runs_dir,
            device,
            editor_busy,
            waker,
            form: Form::default(),
            blend: BlendForm::default(),
            runner: None,
            for_worker: None,
            pending: None,
            estimate_text: None,
            live: Live::default(),
            past,
            message: None,
            for_editor: None,
            smoothing: 0.9,
            continue_card: None,
            shipped_model_on_disk: shipped_model.exists(),
            shipped_model,
            shipped_teacher: Some(shipped_file(SHIPPED_TEACHER)).filter(|p| p.exists()),
        }
    }

    /// A model the user asked the editor to use.
    pub fn take_model_for_editor(&mut self) -> Option<Bcm> {
        self.for_editor.take()
    }

    /// Work for the editor's worker (a blend, a measurement); the editor submits it and reports
    /// back through [`TrainingTab::job_finished`] or [`TrainingTab::job_stopped`].
    pub fn take_job(&mut self) -> Option<Job> {
        self.for_worker.take()
    }

    fn send_job(&mut self, job: Job, kind: TabJob) {
        self.for_worker = Some(job);
        self.pending = Some(kind);
        self.message = None;
    }

    /// The tab's job finished with `output`.
    pub fn job_finished(&mut self, output: &JobOutput) {
        self.pending = None;
        match output {
            JobOutput::Blended { file, info } => self.blend_finished(file, &info.name),
            JobOutput::Measured {
                seconds_per_step,
                batch,
                peak_mib,
            } => self.measured(*seconds_per_step, *batch, *peak_mib),
            _ => {}
        }
    }

    /// The tab's job failed, was refused or was cancelled (`message` says which).
    pub fn job_stopped(&mut self, message: &str) {
        match self.pending.take() {
            Some(TabJob::Measure) => {
                self.estimate_text = Some(format!("cannot measure: {message}"));
            }
            Some(TabJob::Blend) => self.message = Some((format!("cannot blend: {message}"), true)),
            None => {}
        }
    }

    pub fn is_running(&self) -> bool {
        self.runner.as_ref().is_some_and(|r| !r.is_finished())
    }

    pub fn current_step(&self) -> u64 {
        self.live.step
    }

    /// Loss points received so far (one per step).
    pub fn loss_points(&self) -> usize {
        self.live.loss.len()
    }

    /// Runs found on disk.
    pub fn past_runs(&self) -> &[PastRun] {
        &self.past
    }

    fn start(&mut self, start: Start) {
        self.live = Live::default();
        self.message = None;
        self.runner = Some(TrainingRunner::spawn(
            start,
            self.device.clone(),
            self.editor_busy.clone(),
            self.waker.clone(),
        ));
    }

    /// Start a new run from the form.
    pub fn start_new(&mut self) {
        let config = match self.config_from_form() {
            Ok(c) => c,
            Err(e) => {
                self.message = Some((e, true));
                return;
            }
        };
        let name = self.form.name.trim().to_string();
        let name = name.as_str();
        if name.is_empty() || name.contains(['/', '\\']) {
            self.message = Some(("give the run a simple name".into(), true));
            return;
        }
        let run = self.runs_dir.join(name);
        if checkpoint::latest(&run).is_some() {
            self.message = Some((
                format!(
                    "a run called '{name}' exists; resume it from the list or pick another name"
                ),
                true,
            ));
            return;
        }
        self.start(Start::New {
            config: Box::new(config),
            run,
        });
    }

    /// Resume a run. When its photos folder is gone (moved, or the run came from another
    /// machine) the form's photos folder is used instead, and the run remembers it.
    pub fn resume(&mut self, run: PathBuf, until: u64, recorded: &Path) {
        let chosen = PathBuf::from(self.form.data.trim());
        let data = if recorded.is_dir() {
            None
        } else if chosen.is_dir() {
            Some(chosen)
        } else {
            self.message = Some((
                format!(
                    "this run's photos folder {} is missing: choose where its photos are now \
                     under Photos folder, then resume",
                    recorded.display()
                ),
                true,
            ));
            return;
        };
        self.start(Start::Resume { run, until, data });
    }

    pub fn send(&self, c: Command) {
        if let Some(r) = &self.runner {
            r.send(c);
        }
    }

    /// Use the newest checkpoint of a run in the editor.
    pub fn use_in_editor(&mut self, run: &Path) {
        match checkpoint::latest(run)
            .ok_or_else(|| "this run has no checkpoint yet".to_string())
            .and_then(|dir| checkpoint::load_ema(&dir, &self.device).map_err(|e| e.to_string()))
        {
            Ok(model) => {
                self.message = Some((format!("sent {} to the editor", model.info.name), false));
                self.for_editor = Some(model);
            }
            Err(e) => self.message = Some((e, true)),
        }
    }

    pub fn poll(&mut self) {
        let Some(runner) = &self.runner else { return };
        for event in runner.poll() {
            match event {
                TrainingEvent::Started {
                    run,
                    step,
                    until,
                    config,
                    photos,
                    held_out,
                } => {
                    self.live.run = Some(run.clone());
                    self.live.step = step;
                    self.live.until = until;
                    self.live.started = Some((Instant::now(), step));
                    self.live.images_per_step = config.batch;
                    self.live.objective = Some(config.objective);
                    self.live.summary = format!(
                        "{} — preset {}, {} parameters, {} photos ({} held out), batch {}, patch {}",
                        run.display(),
                        config.preset,
                        config.model.param_count(),
                        photos,
                        held_out,
                        config.batch,
                        config.patch
                    );
                    self.past = scan_runs(&self.runs_dir);
                }
                TrainingEvent::Progress(TrainEvent::Step(r)) => {
                    let x = r.step as f64;
                    self.live.step = r.step;
                    self.live.points = r.points;
                    self.live.loss.push([x, f64::from(r.loss)]);
                    self.live.ct.push([x, f64::from(r.ct)]);
                    self.live.bcm.push([x, f64::from(r.bcm)]);
                }
                TrainingEvent::Progress(TrainEvent::Validation(v)) => {
                    self.live.psnr1.push([v.step as f64, v.psnr_nfe1]);
                    self.live.psnr2.push([v.step as f64, v.psnr_nfe2]);
                    self.live.psnr4.push([v.step as f64, v.psnr_nfe4]);
                    self.live.psnr_denoise.push([v.step as f64, v.psnr_denoise]);
                    self.live.inversion_sigma = Some(v.inversion_sigma);
                }
                TrainingEvent::Progress(TrainEvent::Samples { path, .. }) => {
                    self.live.sample = Some(path);
                    self.live.sample_tex = None;
                }
                TrainingEvent::Progress(TrainEvent::Checkpoint { step, .. }) => {
                    self.live.last_checkpoint = Some(step);
                    self.past = scan_runs(&self.runs_dir);
                }
                TrainingEvent::Paused(p) => self.live.paused = p,
                TrainingEvent::Finished { step, .. } => {
                    self.message =
                        Some((format!("stopped at step {step}; checkpoint saved"), false));
                    self.past = scan_runs(&self.runs_dir);
                }
                TrainingEvent::Failed(e) => {
                    self.message = Some((format!("training stopped: {e}"), true));
                    self.past = scan_runs(&self.runs_dir);
                }
            }
        }
    }

    pub fn ui(&mut self, ui: &mut Ui) {
        egui::ScrollArea::vertical().show(ui, |ui| {
            if let Some((text, error)) = &self.message {
                ui.colored_label(
                    if *error {
                        Color32::from_rgb(255, 110, 110)
                    } else {
                        Color32::LIGHT_GREEN
                    },
                    text,
                );
            }
            let running = self.is_running();
            ui.columns(2, |cols| {
                self.form_ui(&mut cols[0], running);
                self.runs_ui(&mut cols[1], running);
            });
            ui.separator();
            self.live_ui(ui, running);
        });
    }
}
