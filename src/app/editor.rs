//! The editor window: menu, canvas, tool panel, timeline, interpolation, status and jobs.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use egui::{Color32, Key, KeyboardShortcut, Modifiers, Ui};
use serde_json::json;

use super::canvas::Canvas;
use super::document::{Dirty, Document, LevelView, Staged};
use super::files::{FileEvent, Files, Purpose, SaveKind};
use super::history::Layer;
use super::interpolation::{InterpAction, InterpolationPanel};
use super::tasks_panel::{self, PanelAction, TaskKind, TaskSettings};
use super::timeline::{Timeline, TimelineAction};
use super::training_tab::TrainingTab;
use crate::engine::mask::Mask;
use crate::engine::model::Bcm;
use crate::engine::plan::Plan;
use crate::engine::planar::Planar;
use crate::engine::sampler::{Progress, Tiling};
use crate::engine::schedule::SIGMA_MIN;
use crate::engine::tasks::{EditParams, GenerateParams, InpaintParams, RestoreParams};
use crate::jobs::{Event, Job, JobId, JobOutput, Worker};
use crate::photo::{Photo, Recipe, SaveOptions};

/// How the editor starts.
pub struct EditorOptions {
    pub model: Bcm,
    pub tiling: Tiling,
    /// Where recent files are remembered (None: nowhere).
    pub config_dir: Option<PathBuf>,
    /// Native file dialogs (off in tests).
    pub dialogs: bool,
    /// A photo to open at start.
    pub open: Option<PathBuf>,
    /// One line about the compute device.
    pub device_note: String,
    /// Where the training tab keeps runs.
    pub runs_dir: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Edit,
    Interpolate,
    Train,
}

/// What a running job's result is for.
#[derive(Debug, Clone)]
enum JobPurpose {
    Stage {
        label: String,
        command: String,
        params: serde_json::Value,
        seed: u64,
    },
    Level(f32),
    Interpolation,
    Frame,
    Strip,
    Model,
}

#[derive(Debug, Clone)]
pub struct Message {
    pub text: String,
    pub error: bool,
    pub at: Instant,
}

/// Pending save destinations and their contents.
enum SaveTarget {
    Mask(Mask),
    Frame(Planar),
    Strip(Planar),
}

pub struct Editor {
    pub doc: Option<Document>,
    pub canvas: Canvas,
    pub timeline: Timeline,
    pub tasks: TaskSettings,
    pub interp: InterpolationPanel,
    pub training: TrainingTab,
    pub tab: Tab,
    pub worker: Worker,
    pub files: Files,
    pub model_name: String,
    pub model_trained: bool,
    device_note: String,
    purposes: HashMap<JobId, JobPurpose>,
    pub progress: Option<Progress>,
    pub messages: Vec<Message>,
    confirm_close: bool,
    close_confirmed: bool,
    pending_save: Option<SaveTarget>,
    save_quality: u8,
    save_as_requested: bool,
    /// A picture waiting to replace a document with unsaved changes (the user decides).
    pending_document: Option<Document>,
}

impl Editor {
    pub fn new(ctx: &egui::Context, options: EditorOptions) -> Self {
        let waker_ctx = ctx.clone();
        let waker: Arc<dyn Fn() + Send + Sync> = Arc::new(move || waker_ctx.request_repaint());
        let model_name = options.model.info.name.clone();
        let model_trained = options.model.info.trained;
        let device = options.model.device.clone();
        let worker = Worker::spawn(options.model, options.tiling, waker.clone());
        let mut files = Files::new(options.config_dir, options.dialogs, waker.clone());
        if let Some(path) = options.open {
            files.load(path, Purpose::Document);
        }
        let training = TrainingTab::new(options.runs_dir, device, worker.busy_flag(), waker);
        Self {
            doc: None,
            canvas: Canvas::default(),
            timeline: Timeline::default(),
            tasks: TaskSettings::default(),
            interp: InterpolationPanel::default(),
            training,
            tab: Tab::Edit,
            worker,
            files,
            model_name,
            model_trained,
            device_note: options.device_note,
            purposes: HashMap::new(),
            progress: None,
            messages: Vec::new(),
            confirm_close: false,
            close_confirmed: false,
            pending_save: None,
            save_quality: 92,
            save_as_requested: false,
            pending_document: None,
        }
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.messages.push(Message {
            text: text.into(),
            error: false,
            at: Instant::now(),
        });
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.messages.push(Message {
            text: text.into(),
            error: true,
            at: Instant::now(),
        });
    }

    /// Open a photo (decoded in the background).
    pub fn open_path(&mut self, path: PathBuf) {
        self.files.load(path, Purpose::Document);
    }

    /// Whether a job is running.
    pub fn busy(&self) -> bool {
        self.worker.running().is_some()
    }

    fn submit(&mut self, job: Job, purpose: JobPurpose) {
        match self.worker.submit(job) {
            Ok(0) => {}
            Ok(id) => {
                self.purposes.insert(id, purpose);
                self.progress = None;
            }
            Err(e) => self.error(e),
        }
    }

    fn refresh(&mut self, dirty: Option<Dirty>) {
        if let (Some(doc), Some(d)) = (&self.doc, dirty) {
            self.canvas.refresh(doc, d);
            if d.layer == Layer::Image {
                self.interp.invalidate();
            }
        }
    }

    pub fn undo(&mut self) {
        if self.canvas.is_stroking() {
            return;
        }
        let dirty = self.doc.as_mut().and_then(|d| d.undo());
        self.refresh(dirty);
    }

    pub fn redo(&mut self) {
        if self.canvas.is_stroking() {
            return;
        }
        let dirty = self.doc.as_mut().and_then(|d| d.redo());
        self.refresh(dirty);
    }

    pub fn accept(&mut self) {
        let dirty = self.doc.as_mut().and_then(|d| d.accept_staged());
        self.canvas.staged_changed();
        if let Some(doc) = &self.doc {
            // An accepted edit also cleared the strokes.
            self.canvas.refresh(
                doc,
                Dirty {
                    layer: Layer::Strokes,
                    rect: doc.full_rect(),
                },
            );
        }
        self.refresh(dirty);
    }

    pub fn discard(&mut self) {
        if let Some(doc) = &mut self.doc {
            doc.staged = None;
        }
        self.canvas.staged_changed();
    }

    pub fn cancel_job(&mut self) {
        self.worker.cancel();
    }

    fn recipe(
        &self,
        command: &str,
        schedule: String,
        seed: u64,
        nfe: usize,
        params: serde_json::Value,
    ) -> Recipe {
        Recipe::new(command, vec![schedule], seed, &self.model_name, nfe, params)
    }

    /// Start the selected task on the open photo.
    pub fn run_task(&mut self, kind: TaskKind) {
        let s = self.tasks.clone();
        let seed = s.seed;
        let job = match (kind, &self.doc) {
            (TaskKind::Generate, _) => {
                let plan = s.gen_preset.plan_from(80.0);
                let params = GenerateParams {
                    width: s.gen_width,
                    height: s.gen_height,
                    plan,
                    seed,
                };
                let purpose = JobPurpose::Stage {
                    label: "generate".into(),
                    command: "generate".into(),
                    params: json!({}),
                    seed,
                };
                return self.submit(Job::Generate { params }, purpose);
            }
            (_, None) => return self.error("open a photo first"),
            (TaskKind::Inpaint, Some(doc)) => {
                if doc.mask.is_empty() {
                    return self.error("paint the area to inpaint first (B)");
                }
                let params = InpaintParams {
                    levels: s.inpaint_levels(),
                    grow: s.grow,
                    feather: s.feather,
                    renoise: s.renoise,
                    seed,
                    ..InpaintParams::default()
                };
                let p = json!({"levels": params.levels, "grow": s.grow, "feather": s.feather, "renoise": format!("{:?}", s.renoise)});
                (
                    Job::Inpaint {
                        image: doc.image.clone(),
                        mask: doc.mask.clone(),
                        params,
                    },
                    ("inpaint", p),
                )
            }
            (TaskKind::Restore, Some(doc)) => {
                let params = RestoreParams {
                    sigma: s.restore_sigma,
                    nfe: s.restore_nfe,
                    seed,
                };
                (
                    Job::Restore {
                        image: doc.image.clone(),
                        params,
                    },
                    ("restore", json!({"sigma": s.restore_sigma})),
                )
            }
            (TaskKind::Edit, Some(doc)) => {
                if doc.stroke_alpha.is_empty() {
                    return self.error("paint colour strokes first (P)");
                }
                let preset = crate::engine::GenerationPreset::for_nfe(s.edit_nfe)
                    .unwrap_or(crate::engine::GenerationPreset::TwoStep);
                let params = EditParams {
                    sigma: s.edit_sigma,
                    preset,
                    seed,
                    ..EditParams::default()
                };
                let (edited, region) = doc.edited();
                (
                    Job::Edit {
                        edited,
                        region,
                        params,
                    },
                    ("edit", json!({"sigma": s.edit_sigma})),
                )
            }
        };
        let (job, (command, params)) = job;
        let purpose = JobPurpose::Stage {
            label: command.into(),
            command: command.into(),
            params,
            seed,
        };
        self.submit(job, purpose);
    }

    fn timeline_action(&mut self, action: TimelineAction) {
        let Some(doc) = &mut self.doc else { return };
        match action {
            TimelineAction::InvertTo(sigma) => {
                if sigma <= 0.075 {
                    doc.level = None;
                    self.canvas.level_changed();
                    return;
                }
                match Plan::inversion(self.timeline.inversion_nfe, sigma) {
                    Ok(plan) => {
                        let job = Job::RunPlan {
                            image: doc.image.clone(),
                            plan,
                            seed: self.tasks.seed,
                        };
                        self.submit(job, JobPurpose::Level(sigma));
                    }
                    Err(e) => self.error(e.to_string()),
                }
            }
            TimelineAction::GenerateBack(plan) => {
                let Some(level) = &doc.level else { return };
                let job = Job::RunPlan {
                    image: level.latent.clone(),
                    plan: plan.clone(),
                    seed: self.tasks.seed,
                };
                let purpose = JobPurpose::Stage {
                    label: "timeline".into(),
                    command: "timeline".into(),
                    params: json!({"from": level.sigma}),
                    seed: self.tasks.seed,
                };
                self.submit(job, purpose);
            }
            TimelineAction::ShowPhoto => {
                doc.level = None;
                self.canvas.level_changed();
            }
        }
    }

    fn handle_worker_events(&mut self) {
        for event in self.worker.poll() {
            match event {
                Event::Progress { progress, .. } => self.progress = Some(progress),
                Event::Cancelled { id } => {
                    self.purposes.remove(&id);
                    self.progress = None;
                    self.info("cancelled; nothing was changed");
                }
                Event::Failed { id, message } => {
                    self.purposes.remove(&id);
                    self.progress = None;
                    self.error(message);
                }
                Event::Finished { id, output } => {
                    self.progress = None;
                    let purpose = self.purposes.remove(&id);
                    self.finish(purpose, output);
                }
            }
        }
    }

    fn finish(&mut self, purpose: Option<JobPurpose>, output: JobOutput) {
        match (purpose, output) {
            (
                Some(JobPurpose::Stage {
                    label,
                    command,
                    params,
                    seed,
                }),
                JobOutput::Image {
                    image,
                    mask,
                    nfe,
                    schedule,
                },
            ) => {
                let recipe = self.recipe(&command, schedule, seed, nfe, params);
                match &mut self.doc {
                    Some(doc) if image.width == doc.width() && image.height == doc.height() => {
                        doc.staged = Some(Staged {
                            image,
                            mask,
                            label,
                            recipe,
                        });
                        doc.level = None;
                        self.canvas.level_changed();
                        self.canvas.staged_changed();
                        self.canvas.split = 0.5;
                        self.info(format!(
                            "{command} done ({nfe} NFE): compare, then Accept or Discard"
                        ));
                    }
                    _ => {
                        // A generated picture becomes a new document.
                        let img = crate::photo::compose(&image, None, None);
                        let mut doc = Document::new(Photo::from_image(img, None));
                        doc.recipe = Some(recipe);
                        doc.mark_unsaved();
                        if self.replace_document(doc) {
                            self.info(format!("{command} done ({nfe} NFE)"));
                        }
                    }
                }
            }
            (Some(JobPurpose::Level(sigma)), JobOutput::Image { image, nfe, .. }) => {
                if let Some(doc) = &mut self.doc {
                    doc.level = Some(LevelView {
                        sigma,
                        latent: image,
                    });
                    self.canvas.level_changed();
                    self.info(format!("inverted to σ = {sigma:.3} ({nfe} NFE)"));
                }
            }
            (Some(JobPurpose::Interpolation), JobOutput::InterpolationReady { nfe }) => {
                self.interp.ready = true;
                self.info(format!(
                    "both pictures inverted ({nfe} NFE); slide between them"
                ));
                self.request_frame(self.interp.alpha, 1);
            }
            (
                _,
                JobOutput::Frame {
                    alpha,
                    image,
                    preview,
                },
            ) => self.interp.set_frame(alpha, image, preview),
            (Some(JobPurpose::Strip), JobOutput::Image { image, .. }) => {
                self.pending_save = Some(SaveTarget::Strip(image));
                self.files.pick_save(SaveKind::Strip, "interpolation.png");
            }
            (_, JobOutput::ModelChanged { name }) => {
                self.info(format!("the editor now uses {name}"));
                self.model_name = name;
                self.model_trained = true;
            }
            (_, other) => self.error(format!(
                "unexpected result {:?}",
                std::mem::discriminant(&other)
            )),
        }
    }

    fn request_frame(&mut self, alpha: f32, preview_scale: usize) {
        let job = Job::InterpolationFrame {
            alpha,
            preview_scale,
            seed: self.tasks.seed,
        };
        self.submit(job, JobPurpose::Frame);
    }

    /// Make `doc` the open document, unless that would drop unsaved changes: then ask first.
    /// Returns whether it is open now.
    pub fn replace_document(&mut self, doc: Document) -> bool {
        if self.doc.as_ref().is_some_and(|d| d.is_dirty()) {
            self.pending_document = Some(doc);
            return false;
        }
        self.set_document(doc);
        true
    }

    fn replace_dialog(&mut self, ctx: &egui::Context) {
        let Some(pending) = &self.pending_document else {
            return;
        };
        let name = pending.name();
        let mut choice = None;
        egui::Modal::new(egui::Id::unique("confirm-replace")).show(ctx, |ui| {
            ui.heading("Unsaved changes");
            ui.label(format!(
                "The open photo has changes that are not saved. Replace it with {name}?"
            ));
            ui.horizontal(|ui| {
                if ui.button("Keep the open photo").clicked() {
                    choice = Some(false);
                }
                if ui.button("Replace (lose the changes)").clicked() {
                    choice = Some(true);
                }
            });
        });
        match choice {
            Some(true) => {
                if let Some(doc) = self.pending_document.take() {
                    self.set_document(doc);
                }
            }
            Some(false) => self.pending_document = None,
            None => {}
        }
    }

    pub fn set_document(&mut self, doc: Document) {
        self.canvas.reset(&doc);
        self.interp.invalidate();
        self.doc = Some(doc);
    }

    fn handle_file_events(&mut self) {
        for event in self.files.poll() {
            match event {
                FileEvent::Loaded {
                    purpose: Purpose::Document,
                    photo,
                } => {
                    if let Some(path) = &photo.path {
                        self.files.remember(path);
                    }
                    let name = photo
                        .path
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default();
                    if self.replace_document(Document::new(*photo)) {
                        self.info(format!("opened {name}"));
                    }
                }
                FileEvent::Loaded {
                    purpose: Purpose::SecondPicture,
                    photo,
                } => self.set_second(*photo),
                FileEvent::Loaded {
                    purpose: Purpose::Mask,
                    photo,
                } => {
                    let mask = crate::photo::mask_from_image(&photo.original);
                    if let Some(doc) = &mut self.doc {
                        if (mask.width, mask.height) != (doc.width(), doc.height()) {
                            let msg = format!(
                                "the mask is {}x{} but the photo is {}x{}",
                                mask.width,
                                mask.height,
                                doc.width(),
                                doc.height()
                            );
                            self.error(msg);
                        } else {
                            let dirty = doc.set_mask(mask);
                            self.refresh(Some(dirty));
                        }
                    }
                }
                FileEvent::Saved { path, document } => {
                    if document && let Some(doc) = &mut self.doc {
                        doc.mark_saved(path.clone());
                    }
                    self.files.remember(&path);
                    self.info(format!("saved {}", path.display()));
                }
                FileEvent::Failed { message } => self.error(message),
                FileEvent::Picked { path: None, .. } => self.pending_save = None,
                FileEvent::Picked {
                    purpose: Some(purpose),
                    path: Some(path),
                    ..
                } => self.files.load(path, purpose),
                FileEvent::Picked {
                    save: Some(kind),
                    path: Some(path),
                    ..
                } => self.save_to(kind, path),
                FileEvent::Picked { .. } => {}
            }
        }
    }

    fn set_second(&mut self, photo: Photo) {
        let name = photo
            .path
            .as_ref()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some((w, h)) = self.doc.as_ref().map(|d| (d.width(), d.height())) else {
            return self.error("open the first picture before choosing the second");
        };
        let rgb = if (photo.width(), photo.height()) == (w, h) {
            photo.rgb
        } else {
            self.info(format!(
                "{name} resized to {w}x{h} to match the first picture"
            ));
            let resized = photo.original.resize_exact(
                w as u32,
                h as u32,
                image::imageops::FilterType::Lanczos3,
            );
            crate::photo::planar_from_image(&resized)
        };
        self.interp.set_second(name, rgb);
    }

    /// Save the document to `path` (PNG with the recipe, JPEG with the chosen quality).
    pub fn save_document(&mut self, path: PathBuf) {
        let Some(doc) = &self.doc else { return };
        let image = doc.export();
        let recipe = doc.recipe.clone();
        self.files.save(
            path,
            image,
            recipe,
            SaveOptions {
                jpeg_quality: self.save_quality,
            },
            true,
        );
    }

    fn save_to(&mut self, kind: SaveKind, path: PathBuf) {
        match kind {
            SaveKind::Document => self.save_document(path),
            _ => {
                let Some(target) = self.pending_save.take() else {
                    return;
                };
                let image = match target {
                    SaveTarget::Mask(mask) => {
                        let gray = image::GrayImage::from_fn(
                            mask.width as u32,
                            mask.height as u32,
                            |x, y| {
                                image::Luma([(mask.data[y as usize * mask.width + x as usize]
                                    * 255.0)
                                    .round() as u8])
                            },
                        );
                        image::DynamicImage::ImageLuma8(gray)
                    }
                    SaveTarget::Frame(img) | SaveTarget::Strip(img) => {
                        crate::photo::compose(&img, None, None)
                    }
                };
                self.files.save(
                    path,
                    image,
                    None,
                    SaveOptions {
                        jpeg_quality: self.save_quality,
                    },
                    false,
                );
            }
        }
    }

    fn save(&mut self) {
        match self.doc.as_ref().and_then(|d| d.path.clone()) {
            Some(path) if crate::photo::OutputFormat::from_path(&path).is_ok() => {
                self.save_document(path)
            }
            _ => self.save_as(),
        }
    }

    fn save_as(&mut self) {
        if self.doc.is_none() {
            return;
        }
        self.save_as_requested = true;
        let name = self.doc.as_ref().map(|d| d.name()).unwrap_or_default();
        let stem = std::path::Path::new(&name)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or(name);
        self.files
            .pick_save(SaveKind::Document, &format!("{stem}-edited.png"));
    }

    fn panel_action(&mut self, action: PanelAction) {
        match action {
            PanelAction::Run(kind) => self.run_task(kind),
            PanelAction::InvertMask => {
                let dirty = self.doc.as_mut().map(|d| {
                    let inverted = d.mask.invert();
                    d.set_mask(inverted)
                });
                self.refresh(dirty);
            }
            PanelAction::ClearMask => {
                let dirty = self.doc.as_mut().map(|d| {
                    let empty = Mask::empty(d.width(), d.height());
                    d.set_mask(empty)
                });
                self.refresh(dirty);
            }
            PanelAction::ClearStrokes => {
                let dirty = self.doc.as_mut().map(|d| d.clear_strokes());
                self.refresh(dirty);
            }
            PanelAction::LoadMask => self.files.pick_open(Purpose::Mask),
            PanelAction::SaveMask => {
                if let Some(doc) = &self.doc {
                    self.pending_save = Some(SaveTarget::Mask(doc.mask.clone()));
                    self.files.pick_save(SaveKind::Mask, "mask.png");
                }
            }
        }
    }

    fn interp_action(&mut self, action: InterpAction) {
        match action {
            InterpAction::PickSecond => self.files.pick_open(Purpose::SecondPicture),
            InterpAction::Prepare => {
                let (Some(doc), Some((_, b))) = (&self.doc, &self.interp.second) else {
                    return;
                };
                let job = Job::PrepareInterpolation {
                    a: doc.image.clone(),
                    b: b.clone(),
                    sigma: self.interp.sigma,
                    nfe: self.interp.nfe,
                    preset: self.interp.preset,
                    seed: self.tasks.seed,
                };
                self.submit(job, JobPurpose::Interpolation);
            }
            InterpAction::Frame {
                alpha,
                preview_scale,
            } => self.request_frame(alpha, preview_scale),
            InterpAction::ExportFrame => {
                if let Some((alpha, img, _)) = &self.interp.frame {
                    let name = format!("frame-{:.2}.png", alpha);
                    self.pending_save = Some(SaveTarget::Frame(img.clone()));
                    self.files.pick_save(SaveKind::Frame, &name);
                }
            }
            InterpAction::ExportStrip(frames) => {
                self.submit(
                    Job::InterpolationStrip {
                        frames,
                        seed: self.tasks.seed,
                    },
                    JobPurpose::Strip,
                );
            }
        }
    }

    fn shortcuts(&mut self, ctx: &egui::Context) {
        let cmd = Modifiers::COMMAND;
        let pressed = |s: KeyboardShortcut| ctx.input_mut(|i| i.consume_shortcut(&s));
        if pressed(KeyboardShortcut::new(cmd | Modifiers::SHIFT, Key::Z))
            || pressed(KeyboardShortcut::new(cmd, Key::Y))
        {
            self.redo();
        }
        if pressed(KeyboardShortcut::new(cmd, Key::Z)) {
            self.undo();
        }
        if pressed(KeyboardShortcut::new(cmd | Modifiers::SHIFT, Key::S)) {
            self.save_as();
        }
        if pressed(KeyboardShortcut::new(cmd, Key::S)) {
            self.save();
        }
        if pressed(KeyboardShortcut::new(cmd, Key::O)) {
            self.files.pick_open(Purpose::Document);
        }
        if ctx.memory(|m| m.focused().is_some()) {
            return; // typing in a field
        }
        let key = |k: Key| ctx.input(|i| i.key_pressed(k) && i.modifiers.is_none());
        if key(Key::B) {
            self.canvas.tool = super::brush::Tool::Paint;
        }
        if key(Key::E) {
            self.canvas.tool = super::brush::Tool::Erase;
        }
        if key(Key::P) {
            self.canvas.tool = super::brush::Tool::Color;
        }
        if key(Key::OpenBracket) {
            self.canvas.brush.size = (self.canvas.brush.size / 1.15).max(1.0);
        }
        if key(Key::CloseBracket) {
            self.canvas.brush.size = (self.canvas.brush.size * 1.15).min(600.0);
        }
        if key(Key::F) {
            self.canvas.fit();
        }
        if key(Key::Num1) {
            self.canvas.actual_size();
        }
        if key(Key::C) {
            self.canvas.show_before = !self.canvas.show_before;
        }
        if key(Key::Enter) && self.doc.as_ref().is_some_and(|d| d.staged.is_some()) {
            self.accept();
        }
        if key(Key::Escape) {
            if self.busy() {
                self.cancel_job();
            } else if self.doc.as_ref().is_some_and(|d| d.staged.is_some()) {
                self.discard();
            }
        }
    }

    fn dropped_files(&mut self, ctx: &egui::Context) {
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        if let Some(path) = dropped.into_iter().next() {
            self.open_path(path);
        }
    }

    fn menu(&mut self, ui: &mut Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open…  Ctrl+O").clicked() {
                    self.files.pick_open(Purpose::Document);
                }
                ui.menu_button("Open recent", |ui| {
                    if self.files.recent.is_empty() {
                        ui.label("nothing yet");
                    }
                    for path in self.files.recent.clone() {
                        if ui.button(path.display().to_string()).clicked() {
                            self.open_path(path);
                        }
                    }
                });
                ui.separator();
                let has = self.doc.is_some();
                if ui
                    .add_enabled(has, egui::Button::new("Save  Ctrl+S"))
                    .clicked()
                {
                    self.save();
                }
                if ui
                    .add_enabled(has, egui::Button::new("Save as…  Ctrl+Shift+S"))
                    .clicked()
                {
                    self.save_as();
                }
                ui.add(egui::Slider::new(&mut self.save_quality, 50..=100).text("JPEG quality"));
            });
            ui.menu_button("Edit", |ui| {
                let (u, r) = self.doc.as_ref().map_or((None, None), |d| {
                    (
                        d.history.undo_label().map(String::from),
                        d.history.redo_label().map(String::from),
                    )
                });
                if ui
                    .add_enabled(
                        u.is_some(),
                        egui::Button::new(format!("Undo {}  Ctrl+Z", u.unwrap_or_default())),
                    )
                    .clicked()
                {
                    self.undo();
                }
                if ui
                    .add_enabled(
                        r.is_some(),
                        egui::Button::new(format!("Redo {}  Ctrl+Shift+Z", r.unwrap_or_default())),
                    )
                    .clicked()
                {
                    self.redo();
                }
            });
            ui.menu_button("View", |ui| {
                if ui.button("Fit  F").clicked() {
                    self.canvas.fit();
                }
                if ui.button("100%  1").clicked() {
                    self.canvas.actual_size();
                }
                ui.checkbox(&mut self.canvas.show_before, "Show before (C)");
            });
            ui.separator();
            ui.selectable_value(&mut self.tab, Tab::Edit, "Edit");
            ui.selectable_value(&mut self.tab, Tab::Interpolate, "Interpolate");
            ui.selectable_value(&mut self.tab, Tab::Train, "Train");
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let note = if self.model_trained {
                    self.model_name.clone()
                } else {
                    format!("{} — untrained placeholder", self.model_name)
                };
                ui.label(format!("model: {note} · {}", self.device_note));
            });
        });
    }

    fn status_bar(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            if let Some(label) = self.worker.running() {
                ui.spinner();
                let (fraction, text) = match &self.progress {
                    Some(p) => {
                        let tiles = if p.tiles > 1 {
                            format!(", tile {}/{}", p.tile + 1, p.tiles)
                        } else {
                            String::new()
                        };
                        (
                            p.fraction(),
                            format!("{label}: step {}/{} NFE{tiles}", p.nfe, p.nfe_total),
                        )
                    }
                    None => (0.0, format!("{label}…")),
                };
                ui.add(
                    egui::ProgressBar::new(fraction)
                        .text(text)
                        .desired_width(320.0),
                );
                if ui
                    .button("Cancel")
                    .on_hover_text("Stop at the next step; the picture stays as it was (Esc).")
                    .clicked()
                {
                    self.cancel_job();
                }
            } else if self.files.busy > 0 {
                ui.spinner();
                ui.label("reading or writing a file…");
            }
            self.messages.retain(|m| m.at.elapsed().as_secs() < 12);
            if let Some(m) = self.messages.last() {
                let color = if m.error {
                    Color32::from_rgb(255, 110, 110)
                } else {
                    Color32::from_gray(200)
                };
                ui.colored_label(color, &m.text);
            }
            if let Some(doc) = &self.doc {
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    ui.label(format!(
                        "{} · {}×{}{} · zoom {:.0}%",
                        doc.name(),
                        doc.width(),
                        doc.height(),
                        if doc.is_dirty() { " · unsaved" } else { "" },
                        self.canvas.view.zoom * 100.0
                    ));
                });
            }
        });
    }

    fn side_panel(&mut self, ui: &mut Ui) {
        let mut actions = Vec::new();
        let has_doc = self.doc.is_some();
        let busy = self.busy();
        egui::ScrollArea::vertical().show(ui, |ui| {
            if let Some(doc) = &self.doc
                && let Some(staged) = &doc.staged
            {
                ui.heading("Result");
                ui.label(format!(
                    "{} — drag on the picture to compare, C toggles before",
                    staged.label
                ));
                let mut accept = false;
                let mut discard = false;
                ui.horizontal(|ui| {
                    accept = ui
                        .button("Accept (Enter)")
                        .on_hover_text("Apply the result to the photo (undoable).")
                        .clicked();
                    discard = ui
                        .button("Discard (Esc)")
                        .on_hover_text("Throw the result away.")
                        .clicked();
                });
                if accept {
                    self.accept();
                }
                if discard {
                    self.discard();
                }
                ui.separator();
            }
            tasks_panel::brush_ui(ui, &mut self.canvas, &mut actions, has_doc);
            ui.separator();
            tasks_panel::tasks_ui(ui, &mut self.tasks, &mut actions, has_doc, busy);
        });
        for a in actions {
            self.panel_action(a);
        }
    }

    fn close_dialog(&mut self, ctx: &egui::Context) {
        if ctx.input(|i| i.viewport().close_requested())
            && !self.close_confirmed
            && self.doc.as_ref().is_some_and(|d| d.is_dirty())
        {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.confirm_close = true;
        }
        if !self.confirm_close {
            return;
        }
        let modal = egui::Modal::new(egui::Id::unique("confirm-close")).show(ctx, |ui| {
            ui.heading("Unsaved changes");
            ui.label("The photo has changes that are not saved.");
            ui.horizontal(|ui| {
                if ui.button("Save…").clicked() {
                    self.confirm_close = false;
                    self.save_as();
                }
                if ui.button("Close without saving").clicked() {
                    self.confirm_close = false;
                    self.close_confirmed = true;
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
                if ui.button("Cancel").clicked() {
                    self.confirm_close = false;
                }
            });
        });
        if modal.should_close() {
            self.confirm_close = false;
        }
    }

    /// One frame of the whole editor.
    pub fn frame(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        self.handle_file_events();
        self.handle_worker_events();
        self.training.poll();
        if let Some(model) = self.training.take_model_for_editor() {
            self.submit(Job::SetModel(Box::new(model)), JobPurpose::Model);
        }
        self.shortcuts(&ctx);
        self.dropped_files(&ctx);

        egui::Panel::top("menu").show(ui, |ui| self.menu(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui));
        match self.tab {
            Tab::Edit => {
                let current = self
                    .doc
                    .as_ref()
                    .and_then(|d| d.level.as_ref().map(|l| l.sigma))
                    .unwrap_or(SIGMA_MIN);
                let busy = self.busy();
                let has_doc = self.doc.is_some();
                let action = egui::Panel::bottom("timeline")
                    .resizable(false)
                    .show(ui, |ui| self.timeline.ui(ui, current, busy, has_doc))
                    .inner;
                if let Some(a) = action {
                    self.timeline_action(a);
                }
                egui::Panel::right("tools")
                    .default_size(300.0)
                    .resizable(true)
                    .show(ui, |ui| self.side_panel(ui));
                egui::CentralPanel::default_margins().show(ui, |ui| match &mut self.doc {
                    Some(doc) => {
                        // Painting stays possible while a job runs: the job has its own copy.
                        let dirty = self.canvas.ui(ui, doc, true);
                        if let Some(d) = dirty {
                            self.canvas.refresh(doc, d);
                        }
                    }
                    None => {
                        ui.centered_and_justified(|ui| {
                            ui.label("Open a photo: File › Open (Ctrl+O), or drop a file here.");
                        });
                    }
                });
            }
            Tab::Interpolate => {
                let busy = self.busy();
                let actions = egui::CentralPanel::default_margins()
                    .show(ui, |ui| {
                        let first = self.doc.as_ref().map(|d| (d.name(), &d.image));
                        let name = first.as_ref().map(|f| f.0.clone()).unwrap_or_default();
                        self.interp
                            .ui(ui, first.map(|f| (name.as_str(), f.1)), busy)
                    })
                    .inner;
                for a in actions {
                    self.interp_action(a);
                }
            }
            Tab::Train => {
                egui::CentralPanel::default_margins().show(ui, |ui| self.training.ui(ui));
            }
        }
        self.close_dialog(&ctx);
        self.replace_dialog(&ctx);
    }
}

impl eframe::App for Editor {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.frame(ui);
    }
}
