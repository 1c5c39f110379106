//! The training tab: train or fine-tune a BCM on your own photos in the background while you
//! keep editing; watch loss curves, samples and validation PSNR; stop, resume (also after a
//! restart) and use any run's model in the editor.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use burn::tensor::Device;
use egui::{Color32, TextureHandle, Ui};
use egui_plot::{Legend, Line, Plot, PlotPoints};

use crate::engine::model::Bcm;
use crate::engine::network::UNetConfig;
use crate::engine::train::checkpoint;
use crate::engine::train::driver::Event as TrainEvent;
use crate::engine::train::{Objective, TrainConfig};
use crate::jobs::training::{Command, Start, TrainingEvent, TrainingRunner};

/// A run folder found on disk.
#[derive(Debug, Clone)]
pub struct PastRun {
    pub dir: PathBuf,
    pub name: String,
    pub step: Option<u64>,
    pub total: u64,
    pub preset: String,
}

/// Runs under `root` (folders with a config.json), newest first.
pub fn scan_runs(root: &Path) -> Vec<PastRun> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut runs: Vec<(std::time::SystemTime, PastRun)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let dir = e.path();
            let bytes = std::fs::read(dir.join("config.json")).ok()?;
            let config: TrainConfig = serde_json::from_slice(&bytes).ok()?;
            let step = checkpoint::latest(&dir)
                .and_then(|c| checkpoint::read_state(&c).ok())
                .map(|s| s.step);
            let modified = e
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            let name = dir.file_name()?.to_string_lossy().into_owned();
            Some((
                modified,
                PastRun {
                    dir,
                    name,
                    step,
                    total: config.total_steps,
                    preset: config.preset,
                },
            ))
        })
        .collect();
    runs.sort_by_key(|r| std::cmp::Reverse(r.0));
    runs.into_iter().map(|(_, r)| r).collect()
}

/// A measured step: seconds per step, batch size, peak memory in MiB.
type Estimate = (f64, usize, f64);

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
    pub steps: u64,
    pub checkpoint_every: u64,
    pub sample_every: u64,
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
            steps: c.as_ref().map_or(2000, |c| c.total_steps),
            checkpoint_every: 100,
            sample_every: 100,
        }
    }
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
    started: Option<(Instant, u64)>,
    images_per_step: usize,
    paused: bool,
    sample: Option<PathBuf>,
    sample_tex: Option<TextureHandle>,
    last_checkpoint: Option<u64>,
    summary: String,
}

pub struct TrainingTab {
    runs_dir: PathBuf,
    device: Device,
    editor_busy: Arc<AtomicBool>,
    waker: Arc<dyn Fn() + Send + Sync>,
    pub form: Form,
    runner: Option<TrainingRunner>,
    estimate: Option<std::sync::mpsc::Receiver<Result<Estimate, String>>>,
    estimate_text: Option<String>,
    live: Live,
    past: Vec<PastRun>,
    pub message: Option<(String, bool)>,
    for_editor: Option<Bcm>,
    smoothing: f64,
}

/// Peak resident memory of the process (Linux), MiB; 0 where unknown.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
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
        Self {
            runs_dir,
            device,
            editor_busy,
            waker,
            form: Form::default(),
            runner: None,
            estimate: None,
            estimate_text: None,
            live: Live::default(),
            past,
            message: None,
            for_editor: None,
            smoothing: 0.9,
        }
    }

    /// A model the user asked the editor to use.
    pub fn take_model_for_editor(&mut self) -> Option<Bcm> {
        self.for_editor.take()
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

    /// The config the form describes (validated when the run starts).
    fn config_from_form(&self) -> Result<TrainConfig, String> {
        let f = &self.form;
        let mut config = TrainConfig::for_preset(&f.preset, PathBuf::from(f.data.trim()))
            .map_err(|e| e.to_string())?;
        config.batch = f.batch;
        config.patch = f.patch;
        config.lr = f.lr;
        config.total_steps = f.steps;
        config.checkpoint_every = f.checkpoint_every;
        config.sample_every = f.sample_every;
        config.validate_every = f.sample_every;
        config.init = f.continue_from.clone();
        config.objective = f.objective;
        if f.objective == Objective::Ct {
            config.model.bidirectional = false;
        }
        Ok(config)
    }

    /// Time two warm-up steps of the form's settings on a background thread.
    pub fn measure(&mut self) {
        let config = match self.config_from_form() {
            Ok(c) => c,
            Err(e) => {
                self.estimate_text = Some(e);
                return;
            }
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let device = self.device.clone();
        let waker = self.waker.clone();
        std::thread::spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                crate::engine::train::trainer::time_steps(&config, &device, 2)
                    .map_err(|e| e.to_string())
            }))
            .unwrap_or_else(|_| Err("the measurement failed (out of memory?)".into()))
            .map(|secs| (secs, config.batch, peak_rss_mib()));
            let _ = tx.send(result);
            waker();
        });
        self.estimate = Some(rx);
        self.estimate_text = Some("measuring two warm-up steps…".into());
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

    pub fn resume(&mut self, run: PathBuf, until: u64) {
        self.start(Start::Resume { run, until });
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
        if let Some(rx) = &self.estimate
            && let Ok(result) = rx.try_recv()
        {
            self.estimate_text = Some(match result {
                Ok((secs, batch, mem)) => format!(
                    "measured: {:.2} s/step, {:.1} images/s, ETA for {} steps {:.1} h; app peak memory {:.0} MiB",
                    secs,
                    batch as f64 / secs,
                    self.form.steps,
                    secs * self.form.steps as f64 / 3600.0,
                    mem
                ),
                Err(e) => format!("cannot train with these settings: {e}"),
            });
            self.estimate = None;
        }
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

    fn rate(&self) -> Option<f64> {
        let (t0, s0) = self.live.started?;
        let done = self.live.step.saturating_sub(s0) as f64;
        let secs = t0.elapsed().as_secs_f64();
        (done > 0.0 && secs > 0.0).then(|| done / secs)
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

    fn form_ui(&mut self, ui: &mut Ui, running: bool) {
        ui.heading("New run");
        ui.add_enabled_ui(!running, |ui| {
            let f = &mut self.form;
            ui.horizontal(|ui| {
                let label = ui.label("Photos folder").on_hover_text("A folder of .jpg/.png/.webp photos, searched recursively. 'data/photos' is where scripts/fetch-photos.sh puts the default training photos.");
                ui.text_edit_singleline(&mut f.data).labelled_by(label.id);
            });
            ui.horizontal(|ui| {
                let label = ui.label("Run name").on_hover_text("Folder under runs/ that keeps config, checkpoints, logs and samples.");
                ui.text_edit_singleline(&mut f.name).labelled_by(label.id);
            });
            egui::ComboBox::from_label("preset")
                .selected_text(&f.preset)
                .show_ui(ui, |ui| {
                    for p in UNetConfig::PRESETS {
                        if ui.selectable_label(f.preset == p, p).clicked() {
                            f.preset = p.into();
                            if let Ok(c) = TrainConfig::for_preset(p, PathBuf::new()) {
                                f.batch = c.batch;
                                f.patch = c.patch;
                                f.steps = c.total_steps;
                            }
                        }
                    }
                })
                .response
                .on_hover_text("tiny: trains in minutes, for trying things out. photo: the editor's default architecture.");
            let selected = f.continue_from.as_ref().map_or("random weights".to_string(), |p| p.display().to_string());
            egui::ComboBox::from_label("continue from")
                .selected_text(selected)
                .show_ui(ui, |ui| {
                    if ui.selectable_label(f.continue_from.is_none(), "random weights").clicked() {
                        f.continue_from = None;
                    }
                    let shipped = PathBuf::from("assets/bcm-default.safetensors");
                    if ui.selectable_label(f.continue_from.as_ref() == Some(&shipped), "the shipped model").clicked() {
                        f.continue_from = Some(shipped);
                    }
                    for run in &self.past {
                        if let Some(dir) = checkpoint::latest(&run.dir) {
                            let path = dir.join("ema.safetensors");
                            let label = format!("{} (step {})", run.name, run.step.unwrap_or(0));
                            if ui.selectable_label(f.continue_from.as_ref() == Some(&path), label).clicked() {
                                f.continue_from = Some(path);
                            }
                        }
                    }
                })
                .response
                .on_hover_text("Start from an existing model's weights (its architecture replaces the preset's).");
            if let Some(path) = &f.continue_from {
                let card = std::fs::read(crate::engine::weights::card_path(path))
                    .ok()
                    .and_then(|b| crate::engine::weights::parse_card(&b, "card").ok());
                match card {
                    Some(c) if !c.config.bidirectional && f.objective == Objective::Bct => {
                        ui.label("a consistency model: it will be fine-tuned into a BCM (u-branch added, starting equal to it)");
                    }
                    Some(c) => {
                        ui.label(format!("{} — {} steps", c.name, c.steps));
                    }
                    None => {
                        ui.colored_label(Color32::LIGHT_RED, "no readable model card next to this file");
                    }
                }
            }
            ui.horizontal(|ui| {
                ui.label("objective");
                ui.selectable_value(&mut f.objective, Objective::Bct, "BCT")
                    .on_hover_text("Bidirectional consistency training: the model learns to jump both ways along the ODE.");
                ui.selectable_value(&mut f.objective, Objective::Ct, "CT only")
                    .on_hover_text("A one-directional consistency model; continue from it later as a BCM (the paper's fine-tuning route).");
                ui.selectable_value(&mut f.objective, Objective::Denoise, "denoising warm-up")
                    .on_hover_text("Teach the network to denoise first (fast, 4x cheaper steps); then continue from it with BCT.");
            });
            ui.add(egui::Slider::new(&mut f.batch, 1..=64).text("batch")).on_hover_text("Crops per step. Memory grows with it.");
            ui.add(egui::Slider::new(&mut f.patch, 16..=256).step_by(16.0).text("patch px")).on_hover_text("Side of the square training crops.");
            ui.add(egui::Slider::new(&mut f.lr, 1e-5..=1e-3).logarithmic(true).text("learning rate")).on_hover_text("Adam learning rate after a 500-step warm-up.");
            ui.add(egui::Slider::new(&mut f.steps, 10..=200_000).logarithmic(true).text("steps")).on_hover_text("Planned length; sets the discretisation curriculum N(k).");
            ui.add(egui::Slider::new(&mut f.checkpoint_every, 10..=5000).logarithmic(true).text("checkpoint every")).on_hover_text("A kill loses at most this many steps.");
            ui.add(egui::Slider::new(&mut f.sample_every, 10..=5000).logarithmic(true).text("samples every")).on_hover_text("Sample grid and validation PSNR interval.");
            let cfg = UNetConfig::preset(&f.preset).unwrap_or_else(UNetConfig::tiny);
            ui.label(format!("{:.2} M parameters", cfg.param_count() as f64 / 1e6));
        });
        ui.horizontal(|ui| {
            if ui
                .add_enabled(!running && self.estimate.is_none(), egui::Button::new("Measure"))
                .on_hover_text("Time two warm-up steps with these settings: seconds per step, images per second, ETA, memory.")
                .clicked()
            {
                self.measure();
            }
            if ui
                .add_enabled(!running, egui::Button::new("Start"))
                .on_hover_text("Train in the background; the editor stays usable.")
                .clicked()
            {
                self.start_new();
            }
        });
        if let Some(text) = &self.estimate_text {
            ui.label(text);
        }
    }

    fn runs_ui(&mut self, ui: &mut Ui, running: bool) {
        ui.heading("Runs");
        if ui.button("Refresh").clicked() {
            self.past = scan_runs(&self.runs_dir);
        }
        let mut resume = None;
        let mut use_it = None;
        for run in &self.past {
            ui.horizontal(|ui| {
                let step = run.step.map_or("no checkpoint".to_string(), |s| {
                    format!("step {s}/{}", run.total)
                });
                ui.label(format!("{} ({}, {step})", run.name, run.preset));
                if ui
                    .add_enabled(!running && run.step.is_some(), egui::Button::new("Resume"))
                    .clicked()
                {
                    resume = Some((run.dir.clone(), run.total));
                }
                if ui
                    .add_enabled(run.step.is_some(), egui::Button::new("Use in editor"))
                    .on_hover_text("Swap the editor's model to this run's EMA weights.")
                    .clicked()
                {
                    use_it = Some(run.dir.clone());
                }
            });
        }
        if self.past.is_empty() {
            ui.label(format!("no runs in {} yet", self.runs_dir.display()));
        }
        if let Some((dir, total)) = resume {
            self.resume(dir, total);
        }
        if let Some(dir) = use_it {
            self.use_in_editor(&dir);
        }
    }

    fn live_ui(&mut self, ui: &mut Ui, running: bool) {
        ui.heading("Active run");
        if self.live.run.is_none() {
            ui.label(if running {
                "starting…"
            } else {
                "no run active"
            });
            return;
        }
        ui.label(&self.live.summary);
        ui.horizontal(|ui| {
            ui.add_enabled_ui(running, |ui| {
                if self.live.paused {
                    if ui.button("Resume").clicked() {
                        self.send(Command::Resume);
                    }
                } else if ui.button("Pause").clicked() {
                    self.send(Command::Pause);
                }
                if ui
                    .button("Stop and save")
                    .on_hover_text("Write a checkpoint and end the run (resume it later).")
                    .clicked()
                {
                    self.send(Command::Stop);
                }
                if ui.button("Save now").clicked() {
                    self.send(Command::SaveNow);
                }
                if ui.button("Sample now").clicked() {
                    self.send(Command::SampleNow);
                }
            });
            if let Some(run) = self.live.run.clone()
                && ui
                    .add_enabled(
                        self.live.last_checkpoint.is_some(),
                        egui::Button::new("Use in editor"),
                    )
                    .clicked()
            {
                self.use_in_editor(&run);
            }
        });
        let rate = self.rate();
        let eta = rate.map(|r| self.live.until.saturating_sub(self.live.step) as f64 / r);
        ui.label(format!(
            "step {} / {} · N(k) = {} · {} · {} · ETA {}{}",
            self.live.step,
            self.live.until,
            self.live.points,
            rate.map_or("–".into(), |r| format!("{r:.2} steps/s")),
            rate.map_or("–".into(), |r| format!(
                "{:.1} images/s",
                r * self.live.images_per_step as f64
            )),
            eta.map_or("–".into(), |s| format!(
                "{}:{:02}:{:02}",
                (s / 3600.0) as u64,
                (s / 60.0) as u64 % 60,
                s as u64 % 60
            )),
            if self.live.paused { " · paused" } else { "" }
        ));
        ui.add(egui::Slider::new(&mut self.smoothing, 0.0..=0.99).text("smoothing"));
        let k = self.smoothing;
        let (loss, ct, bcm) = (
            self.live.loss.clone(),
            self.live.ct.clone(),
            self.live.bcm.clone(),
        );
        Plot::new("loss")
            .height(220.0)
            .legend(Legend::default())
            .x_axis_label("step")
            .show(ui, move |p| {
                p.line(
                    Line::new("total (raw)", PlotPoints::from(loss.clone()))
                        .color(Color32::from_gray(90)),
                );
                p.line(Line::new("total", PlotPoints::from(smooth(&loss, k))));
                p.line(Line::new("CT term", PlotPoints::from(smooth(&ct, k))));
                p.line(Line::new(
                    "bidirectional term",
                    PlotPoints::from(smooth(&bcm, k)),
                ));
            });
        let (p1, p2) = (self.live.psnr1.clone(), self.live.psnr2.clone());
        Plot::new("psnr")
            .height(160.0)
            .legend(Legend::default())
            .x_axis_label("step")
            .y_axis_label("dB")
            .show(ui, move |p| {
                p.line(Line::new(
                    "reconstruction PSNR, NFE 1",
                    PlotPoints::from(p1),
                ));
                p.line(Line::new(
                    "reconstruction PSNR, NFE 2",
                    PlotPoints::from(p2),
                ));
            });
        if self.live.sample_tex.is_none()
            && let Some(path) = &self.live.sample
            && let Ok(img) = crate::photo::load(path)
        {
            let rgba = img.original.to_rgba8();
            let ci = egui::ColorImage::from_rgba_unmultiplied(
                [rgba.width() as usize, rgba.height() as usize],
                rgba.as_raw(),
            );
            self.live.sample_tex = Some(ui.ctx().load_texture(
                "train-samples",
                ci,
                egui::TextureOptions::NEAREST,
            ));
        }
        if let Some(tex) = &self.live.sample_tex {
            ui.label("Samples: one-step generations (top), held-out photos, their reconstructions (NFE 2+2)");
            let size = tex.size_vec2();
            let scale = (ui.available_width() / size.x).min(3.0);
            ui.image((tex.id(), size * scale));
        }
    }
}
