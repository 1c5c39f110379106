//! The editor window: menu, canvas, tool panel, timeline, interpolation, status and jobs.

mod actions;
mod chrome;
mod events;
mod saving;
mod shortcuts;
mod time_left;

pub use shortcuts::SHORTCUTS;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use egui::{Color32, Key, KeyboardShortcut, Modifiers, Ui};
use serde_json::json;

use super::canvas::Canvas;
use super::dialogs::DialogMode;
use super::document::{Dirty, Document, LevelView, Staged};
use super::files::{FileEvent, Files, Purpose, SaveKind};
use super::history::Layer;
use super::interpolation::{InterpAction, InterpolationPanel};
use super::samples::SAMPLES;
use super::tasks_panel::{self, PanelAction, TaskKind, TaskSettings};
use super::timeline::{Timeline, TimelineAction};
use super::training_tab::TrainingTab;
use crate::engine::jpeg::JpegTables;
use crate::engine::mask::Mask;
use crate::engine::model::{Bcm, ModelInfo};
use crate::engine::plan::Plan;
use crate::engine::planar::Planar;
use crate::engine::sampler::{Progress, Tiling};
use crate::engine::schedule::SIGMA_MIN;
use crate::engine::tasks::{EditParams, GenerateParams, RestoreParams};
use crate::jobs::{Event, Job, JobId, JobOutput, ModelSource, Worker};
use crate::photo::{Photo, Recipe, SaveOptions};

/// How the editor starts.
pub struct EditorOptions {
    pub model: Bcm,
    /// The model *Inpaint mask* uses while `model` is in use (the shipped inpainting model
    /// beside the shipped model); None: `model` inpaints too.
    pub inpainter: Option<Bcm>,
    pub tiling: Tiling,
    /// Where recent files are remembered (None: nowhere).
    pub config_dir: Option<PathBuf>,
    /// Which file dialogs are shown (the desktop's, the built-in browser, or none in tests).
    pub dialogs: DialogMode,
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
    /// A Train tab job (a blend, a measurement): its result goes back to the tab.
    Training,
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
    /// The model the worker uses.
    pub model: ModelInfo,
    device_note: String,
    purposes: HashMap<JobId, JobPurpose>,
    pub progress: Option<Progress>,
    /// When the running job was submitted, for the time it still needs.
    job_started: Option<Instant>,
    pub messages: Vec<Message>,
    confirm_close: bool,
    close_confirmed: bool,
    pending_save: Option<SaveTarget>,
    save_quality: u8,
    save_as_requested: bool,
    /// A picture waiting to replace a document with unsaved changes (the user decides).
    pending_document: Option<Document>,
    /// The keyboard shortcuts overlay is shown (F1).
    pub show_shortcuts: bool,
}

impl Editor {
    pub fn new(ctx: &egui::Context, options: EditorOptions) -> Self {
        let waker_ctx = ctx.clone();
        let waker: Arc<dyn Fn() + Send + Sync> = Arc::new(move || waker_ctx.request_repaint());
        let model = options.model.info.clone();
        let device = options.model.device.clone();
        let worker = Worker::spawn(
            options.model,
            options.inpainter,
            options.tiling,
            waker.clone(),
        );
        let files = Files::new(options.config_dir, options.dialogs, waker.clone());
        let training = TrainingTab::new(options.runs_dir, device, worker.busy_flag(), waker);
        let mut editor = Self {
            doc: None,
            canvas: Canvas::default(),
            timeline: Timeline::for_ladders(model.ladders),
            tasks: TaskSettings::default(),
            interp: InterpolationPanel::default(),
            training,
            tab: Tab::Edit,
            worker,
            files,
            model,
            device_note: options.device_note,
            purposes: HashMap::new(),
            progress: None,
            job_started: None,
            messages: Vec::new(),
            confirm_close: false,
            close_confirmed: false,
            pending_save: None,
            save_quality: 92,
            save_as_requested: false,
            pending_document: None,
            show_shortcuts: false,
        };
        // A model file named on the command line is loaded like a dropped one.
        if let Some(path) = options.open {
            editor.open_path(path);
        }
        editor
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.message(text.into(), false);
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.message(text.into(), true);
    }

    /// Add to the message log (the newest ones are kept).
    fn message(&mut self, text: String, error: bool) {
        const KEPT: usize = 100;
        if self.messages.len() >= KEPT {
            self.messages.remove(0);
        }
        self.messages.push(Message {
            text,
            error,
            at: Instant::now(),
        });
    }

    /// Open a photo (decoded in the background), or switch to a model file
    /// (`.safetensors`, e.g. dropped on the window).
    pub fn open_path(&mut self, path: PathBuf) {
        let is_model = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("safetensors"));
        if is_model {
            self.load_model(ModelSource::File(path));
        } else {
            self.files.load(path, Purpose::Document);
        }
    }

    /// Switch the editor to another model, read on the worker; the current one stays if the
    /// file is not a usable model.
    pub fn load_model(&mut self, source: ModelSource) {
        self.submit(Job::LoadModel(source), JobPurpose::Model);
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
                self.job_started = Some(Instant::now());
            }
            Err(e) if matches!(purpose, JobPurpose::Training) => self.training.job_stopped(&e),
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
        Recipe::new(command, vec![schedule], seed, &self.model.name, nfe, params)
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

    pub fn set_document(&mut self, doc: Document) {
        self.canvas.reset(&doc);
        self.interp.invalidate();
        self.doc = Some(doc);
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
        if let Some(job) = self.training.take_job() {
            self.submit(job, JobPurpose::Training);
        }
        self.shortcuts(&ctx);
        self.dropped_files(&ctx);
        self.files.dialogs.show(&ctx);

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
                    None => self.welcome(ui),
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
                if self.training.take_folder_request() {
                    self.files.pick_photos_folder();
                }
            }
        }
        self.shortcuts_overlay(&ctx);
        self.close_dialog(&ctx);
        self.replace_dialog(&ctx);
    }
}

impl eframe::App for Editor {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.frame(ui);
    }
}
