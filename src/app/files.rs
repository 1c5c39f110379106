//! File work off the UI thread: decoding photos, writing results, the dialogs that choose
//! files, and the recent-files list.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};

use image::DynamicImage;

use super::dialogs::{Answer, Ask, DialogMode, Dialogs};
use super::samples::Sample;
use crate::engine::noise_level::estimate_noise;
use crate::photo::{self, Photo, Recipe, SaveOptions};
use crate::util::atomic::write_atomic;
use crate::util::panic::panic_text;

/// What a file operation is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// A bundled sample photo, decoded (it has a name but no path: saving asks where).
    SampleLoaded {
        name: &'static str,
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
    /// The training photos' folder was chosen.
    FolderPicked {
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// File dialogs (off in tests that do not drive them).
    pub dialogs: Dialogs,
    pub busy: usize,
}

impl Files {
    pub fn new(
        config_dir: Option<PathBuf>,
        dialogs: DialogMode,
        waker: std::sync::Arc<dyn Fn() + Send + Sync>,
    ) -> Self {
        let (tx, rx) = channel();
        let dialogs = Dialogs::new(dialogs, config_dir.as_deref(), waker.clone());
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

    /// File work finished and dialogs answered since the last call (never blocks).
    pub fn poll(&mut self) -> Vec<FileEvent> {
        let mut events: Vec<FileEvent> = self.rx.try_iter().collect();
        self.busy = self.busy.saturating_sub(events.len());
        events.extend(self.dialogs.poll().into_iter().filter_map(answer_event));
        events
    }

    /// Run file work on its own thread. A panic inside it (a decoder's, say) becomes a
    /// failure the editor reports, so the "reading or writing a file" spinner always ends.
    fn spawn(&mut self, work: impl FnOnce() -> FileEvent + Send + 'static) {
        self.busy += 1;
        let tx = self.tx.clone();
        let waker = self.waker.clone();
        std::thread::spawn(move || {
            let event = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
                .unwrap_or_else(|panic| FileEvent::Failed {
                    message: format!(
                        "the file could not be read or written: {}",
                        panic_text(panic.as_ref())
                    ),
                });
            let _ = tx.send(event);
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

    /// Decode one of the bundled sample photos on a worker thread.
    pub fn load_sample(&mut self, sample: &'static Sample) {
        self.spawn(
            move || match photo::from_bytes(sample.bytes, Path::new(sample.name)) {
                Ok(mut photo) => {
                    photo.noise = estimate_noise(&photo.rgb);
                    FileEvent::SampleLoaded {
                        name: sample.name,
                        photo: Box::new(photo),
                    }
                }
                Err(e) => FileEvent::Failed {
                    message: e.to_string(),
                },
            },
        );
    }

    /// Encode and write atomically on a worker thread, with `metadata` (the photo's EXIF and
    /// colour profile; empty for masks and frames).
    pub fn save(
        &mut self,
        path: PathBuf,
        image: DynamicImage,
        recipe: Option<Recipe>,
        (opts, metadata): (SaveOptions, photo::Metadata),
        document: bool,
    ) {
        self.spawn(move || {
            match photo::save_with_metadata(&path, &image, recipe.as_ref(), opts, &metadata) {
                Ok(()) => FileEvent::Saved { path, document },
                Err(e) => FileEvent::Failed {
                    message: e.to_string(),
                },
            }
        });
    }

    /// Ask for a file to open.
    pub fn pick_open(&mut self, purpose: Purpose) {
        self.dialogs.ask(Ask::Open(purpose), "", None);
    }

    /// Ask for a model file (`.safetensors` with its card beside it).
    pub fn pick_model(&mut self) {
        self.dialogs.ask(Ask::Model, "", None);
    }

    /// Ask for the training photos' folder.
    pub fn pick_photos_folder(&mut self) {
        self.dialogs.ask(Ask::PhotosFolder, "", None);
    }

    /// Ask where to save.
    pub fn pick_save(&mut self, kind: SaveKind, suggested: &str) {
        self.dialogs.ask(Ask::Save(kind), suggested, None);
    }

    /// Ask where to save, starting in `folder` (e.g. the photo's own).
    pub fn pick_save_in(&mut self, kind: SaveKind, suggested: &str, folder: Option<PathBuf>) {
        self.dialogs.ask(Ask::Save(kind), suggested, folder);
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

/// The event a dialog's answer makes (a cancelled model or folder choice makes none).
fn answer_event((ask, path): Answer) -> Option<FileEvent> {
    match ask {
        Ask::Open(purpose) => Some(FileEvent::Picked {
            purpose: Some(purpose),
            save: None,
            path,
        }),
        Ask::Save(kind) => Some(FileEvent::Picked {
            purpose: None,
            save: Some(kind),
            path,
        }),
        Ask::Model => path.map(|path| FileEvent::ModelPicked { path }),
        Ask::PhotosFolder => path.map(|path| FileEvent::FolderPicked { path }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_file_work_is_reported_and_ends_the_wait() {
        let waker: std::sync::Arc<dyn Fn() + Send + Sync> = std::sync::Arc::new(|| {});
        let mut files = Files::new(None, DialogMode::Off, waker);
        files.spawn(|| panic!("decoder exploded"));
        assert_eq!(files.busy, 1);
        let start = std::time::Instant::now();
        let events = loop {
            let events = files.poll();
            if !events.is_empty() {
                break events;
            }
            assert!(start.elapsed().as_secs() < 60, "no event after a panic");
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        assert!(
            matches!(&events[0], FileEvent::Failed { message } if message.contains("decoder exploded")),
            "the failure names the cause"
        );
        assert_eq!(files.busy, 0, "the spinner stops");
    }
}
