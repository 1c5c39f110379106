//! File work off the UI thread: decoding photos, writing results, native dialogs, and the
//! recent-files list.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};

use image::DynamicImage;

use crate::engine::noise_level::estimate_noise;
use crate::photo::{self, Photo, Recipe, SaveOptions};
use crate::util::atomic::write_atomic;

/// What a file operation is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The photo to edit.
    Document,
    /// The second picture of an interpolation.
    SecondPicture,
    /// A mask PNG for the open photo.
    Mask,
}

/// Results of background file work.
pub enum FileEvent {
    Loaded {
        purpose: Purpose,
        photo: Box<Photo>,
    },
    Saved {
        path: PathBuf,
        document: bool,
    },
    Failed {
        message: String,
    },
    /// A model file was chosen (File > Model > Load model file…).
    ModelPicked {
        path: PathBuf,
    },
    /// A dialog was answered (None: cancelled).
    Picked {
        purpose: Option<Purpose>,
        save: Option<SaveKind>,
        path: Option<PathBuf>,
    },
}

/// What a save dialog is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveKind {
    Document,
    Mask,
    Frame,
    Strip,
}

/// Background file work and dialogs; events arrive through [`Files::poll`].
pub struct Files {
    tx: Sender<FileEvent>,
    rx: Receiver<FileEvent>,
    waker: std::sync::Arc<dyn Fn() + Send + Sync>,
    pub recent: Vec<PathBuf>,
    recent_file: Option<PathBuf>,
    /// Dialogs are disabled in tests (a dialog under Xvfb would wait for a person).
    pub dialogs: bool,
    pub busy: usize,
}

impl Files {
    pub fn new(
        config_dir: Option<PathBuf>,
        dialogs: bool,
        waker: std::sync::Arc<dyn Fn() + Send + Sync>,
    ) -> Self {
        let (tx, rx) = channel();
        let recent_file = config_dir.map(|d| d.join("recent.json"));
        let recent = recent_file
            .as_ref()
            .and_then(|f| std::fs::read(f).ok())
            .and_then(|b| serde_json::from_slice::<Vec<PathBuf>>(&b).ok())
            .unwrap_or_default();
        Self {
            tx,
            rx,
            waker,
            recent,
            recent_file,
            dialogs,
            busy: 0,
        }
    }

    pub fn poll(&mut self) -> Vec<FileEvent> {
        let events: Vec<FileEvent> = self.rx.try_iter().collect();
        for e in &events {
            if !matches!(e, FileEvent::Picked { .. } | FileEvent::ModelPicked { .. }) {
                self.busy = self.busy.saturating_sub(1);
            }
        }
        events
    }

    fn spawn(&mut self, work: impl FnOnce() -> FileEvent + Send + 'static) {
        self.busy += 1;
        let tx = self.tx.clone();
        let waker = self.waker.clone();
        std::thread::spawn(move || {
            let _ = tx.send(work());
            waker();
        });
    }

    /// Decode a file on a worker thread.
    pub fn load(&mut self, path: PathBuf, purpose: Purpose) {
        self.spawn(move || match photo::load(&path) {
            Ok(mut photo) => {
                // A photo to edit gets its noise measured here, off the UI thread, for the
                // restoration settings suggested when it opens.
                if purpose == Purpose::Document {
                    photo.noise = estimate_noise(&photo.rgb);
                }
                FileEvent::Loaded {
                    purpose,
                    photo: Box::new(photo),
                }
            }
            Err(e) => FileEvent::Failed {
                message: e.to_string(),
            },
        });
    }

    /// Encode and write atomically on a worker thread.
    pub fn save(
        &mut self,
        path: PathBuf,
        image: DynamicImage,
        recipe: Option<Recipe>,
        opts: SaveOptions,
        document: bool,
    ) {
        self.spawn(
            move || match photo::save(&path, &image, recipe.as_ref(), opts) {
                Ok(()) => FileEvent::Saved { path, document },
                Err(e) => FileEvent::Failed {
                    message: e.to_string(),
                },
            },
        );
    }

    /// Show a native dialog on its own thread (it blocks until answered) and send the event
    /// made from its answer, if any.
    fn dialog(&self, ask: impl FnOnce() -> Option<FileEvent> + Send + 'static) {
        if !self.dialogs {
            return;
        }
        let tx = self.tx.clone();
        let waker = self.waker.clone();
        std::thread::spawn(move || {
            if let Some(event) = ask() {
                let _ = tx.send(event);
                waker();
            }
        });
    }

    /// Ask for a file to open.
    pub fn pick_open(&mut self, purpose: Purpose) {
        self.dialog(move || {
            let path = pollster::block_on(
                rfd::AsyncFileDialog::new()
                    .add_filter(
                        "Images",
                        &["png", "jpg", "jpeg", "webp", "PNG", "JPG", "JPEG", "WEBP"],
                    )
                    .pick_file(),
            )
            .map(|h| h.path().to_path_buf());
            Some(FileEvent::Picked {
                purpose: Some(purpose),
                save: None,
                path,
            })
        });
    }

    /// Ask for a model file (`.safetensors` with its card beside it).
    pub fn pick_model(&mut self) {
        self.dialog(|| {
            let picked = pollster::block_on(
                rfd::AsyncFileDialog::new()
                    .add_filter("Model weights", &["safetensors"])
                    .pick_file(),
            );
            picked.map(|h| FileEvent::ModelPicked {
                path: h.path().to_path_buf(),
            })
        });
    }

    /// Ask where to save.
    pub fn pick_save(&mut self, kind: SaveKind, suggested: &str) {
        let suggested = suggested.to_string();
        self.dialog(move || {
            let path = pollster::block_on(
                rfd::AsyncFileDialog::new()
                    .add_filter("PNG", &["png"])
                    .add_filter("JPEG", &["jpg", "jpeg"])
                    .add_filter("WebP", &["webp"])
                    .set_file_name(suggested)
                    .save_file(),
            )
            .map(|h| h.path().to_path_buf());
            Some(FileEvent::Picked {
                purpose: None,
                save: Some(kind),
                path,
            })
        });
    }

    /// Remember a file in the recent list (newest first, ten kept).
    pub fn remember(&mut self, path: &Path) {
        let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        self.recent.retain(|p| p != &path);
        self.recent.insert(0, path);
        self.recent.truncate(10);
        if let Some(file) = &self.recent_file {
            if let Some(dir) = file.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            if let Ok(json) = serde_json::to_vec_pretty(&self.recent) {
                let _ = write_atomic(file, &json);
            }
        }
    }
}

/// Where the editor keeps its small settings (recent files).
pub fn default_config_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .map(|d| d.join("bcm-studio"))
}
