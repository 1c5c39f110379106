//! File dialogs: the desktop's own (rfd, through the xdg portal) where it answers, and a file
//! browser drawn inside the editor (egui_file) where it does not: a minimal window manager or a
//! bare X session has no portal, and rfd then answers "nothing chosen" at once, which would
//! look like a dialog that never opens. The last folder is remembered per kind of dialog.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Instant;

use egui_file::{FileDialog, State};

use native::{
    NATIVE_UNAVAILABLE, NATIVE_UNKNOWN, NATIVE_WORKS, NativeOutcome, classify, session_bus_exists,
};

use super::files::{Purpose, SaveKind};
use crate::util::atomic::write_atomic;

mod native;

/// Which dialogs the editor shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogMode {
    /// The desktop's dialog; the built-in browser once the desktop's turns out unavailable.
    Native,
    /// Always the built-in browser.
    BuiltIn,
    /// None (tests that drive the editor without dialogs).
    Off,
}

/// What a dialog asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ask {
    /// A picture to open.
    Open(Purpose),
    /// Where to save, with the file name suggested.
    Save(SaveKind),
    /// A model file (`.safetensors` with its card beside it).
    Model,
    /// The training tab's photos folder.
    PhotosFolder,
}

impl Ask {
    /// Key of the remembered folder.
    fn key(self) -> &'static str {
        match self {
            Ask::Open(Purpose::Document) => "open-photo",
            Ask::Open(Purpose::SecondPicture) => "open-second-picture",
            Ask::Open(Purpose::Mask) => "open-mask",
            Ask::Save(SaveKind::Document) => "save-photo",
            Ask::Save(SaveKind::Mask) => "save-mask",
            Ask::Save(SaveKind::Frame) => "save-frame",
            Ask::Save(SaveKind::Strip) => "save-strip",
            Ask::Model => "load-model",
            Ask::PhotosFolder => "photos-folder",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Ask::Open(Purpose::Document) => "Open a photo",
            Ask::Open(Purpose::SecondPicture) => "Choose picture B",
            Ask::Open(Purpose::Mask) => "Load a mask",
            Ask::Save(SaveKind::Document) => {
                "Save the photo (a JPEG saved over itself loses quality)"
            }
            Ask::Save(SaveKind::Mask) => "Save the mask",
            Ask::Save(SaveKind::Frame) => "Export the frame",
            Ask::Save(SaveKind::Strip) => "Export the frames",
            Ask::Model => "Load a model",
            Ask::PhotosFolder => "Choose the photos folder",
        }
    }

    /// File name extensions the dialog accepts (none: a folder).
    fn extensions(self) -> &'static [&'static str] {
        match self {
            Ask::Open(Purpose::Mask) | Ask::Save(SaveKind::Mask) => &["png"],
            Ask::Open(_) | Ask::Save(_) => &["png", "jpg", "jpeg", "webp"],
            Ask::Model => &["safetensors"],
            Ask::PhotosFolder => &[],
        }
    }
}

/// Whether `name` ends in one of `extensions` (any case).
fn has_extension(name: &Path, extensions: &[&str]) -> bool {
    name.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// A dialog's answer: what was asked, and the path chosen (None: cancelled).
pub type Answer = (Ask, Option<PathBuf>);

/// One dialog to show.
#[derive(Debug, Clone)]
struct Request {
    ask: Ask,
    /// The file name a save dialog starts with.
    suggested: String,
    /// Where it starts.
    folder: Option<PathBuf>,
}

enum Message {
    Answer(Answer),
    /// The desktop's dialog did not open: show the built-in one for this request.
    Unavailable(Request),
}

/// The editor's dialogs; answers arrive through [`Dialogs::poll`].
pub struct Dialogs {
    mode: DialogMode,
    native: Arc<AtomicU8>,
    tx: Sender<Message>,
    rx: Receiver<Message>,
    waker: Arc<dyn Fn() + Send + Sync>,
    /// The built-in browser while it is open, and what it was asked for.
    builtin: Option<(Ask, FileDialog)>,
    folders: HashMap<String, PathBuf>,
    folders_file: Option<PathBuf>,
    /// Answers of the built-in browser, handed out by the next poll.
    answered: Vec<Answer>,
}

impl Dialogs {
    pub fn new(
        mode: DialogMode,
        config_dir: Option<&Path>,
        waker: Arc<dyn Fn() + Send + Sync>,
    ) -> Self {
        let (tx, rx) = channel();
        let folders_file = config_dir.map(|d| d.join("folders.json"));
        let folders = folders_file
            .as_ref()
            .and_then(|f| std::fs::read(f).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let native = if mode == DialogMode::Native && !session_bus_exists() {
            NATIVE_UNAVAILABLE
        } else {
            NATIVE_UNKNOWN
        };
        Self {
            mode,
            native: Arc::new(AtomicU8::new(native)),
            tx,
            rx,
            waker,
            builtin: None,
            folders,
            folders_file,
            answered: Vec::new(),
        }
    }

    /// Whether dialogs are shown at all.
    pub fn enabled(&self) -> bool {
        self.mode != DialogMode::Off
    }

    /// Whether the built-in browser is open now.
    pub fn builtin_open(&self) -> bool {
        self.builtin.is_some()
    }

    /// The folder the last dialog of this kind ended in.
    pub fn last_folder(&self, ask: Ask) -> Option<&Path> {
        self.folders.get(ask.key()).map(PathBuf::as_path)
    }

    /// Ask; `suggested` is the file name a save dialog starts with, `folder` where it starts
    /// (else where the last dialog of its kind ended).
    pub fn ask(&mut self, ask: Ask, suggested: &str, folder: Option<PathBuf>) {
        let folder = folder.filter(|f| f.is_dir()).or_else(|| {
            self.last_folder(ask)
                .filter(|f| f.is_dir())
                .map(Path::to_path_buf)
        });
        let request = Request {
            ask,
            suggested: suggested.to_string(),
            folder,
        };
        match self.mode {
            DialogMode::Off => {}
            DialogMode::BuiltIn => self.open_builtin(request),
            DialogMode::Native if self.native.load(Ordering::Acquire) == NATIVE_UNAVAILABLE => {
                self.open_builtin(request)
            }
            DialogMode::Native => self.ask_native(request),
        }
    }

    /// Show the desktop's dialog on its own thread (it blocks until answered).
    fn ask_native(&mut self, request: Request) {
        let tx = self.tx.clone();
        let waker = self.waker.clone();
        let native = self.native.clone();
        let Request {
            ask,
            suggested,
            folder,
        } = request.clone();
        std::thread::spawn(move || {
            let mut dialog = rfd::AsyncFileDialog::new().set_title(ask.title());
            if let Some(folder) = folder {
                dialog = dialog.set_directory(folder);
            }
            let extensions = ask.extensions();
            if !extensions.is_empty() {
                dialog = dialog.add_filter(ask.title(), extensions);
            }
            let started = Instant::now();
            let answer = pollster::block_on(async {
                let handle = match ask {
                    Ask::Save(_) => dialog.set_file_name(suggested.clone()).save_file().await,
                    Ask::PhotosFolder => dialog.pick_folder().await,
                    Ask::Open(_) | Ask::Model => dialog.pick_file().await,
                };
                handle.map(|h| h.path().to_path_buf())
            });
            let worked = native.load(Ordering::Acquire) == NATIVE_WORKS;
            let message = match classify(answer, started.elapsed(), worked) {
                NativeOutcome::Picked(path) => {
                    native.store(NATIVE_WORKS, Ordering::Release);
                    Message::Answer((ask, Some(path)))
                }
                NativeOutcome::Cancelled => Message::Answer((ask, None)),
                NativeOutcome::Unavailable => {
                    native.store(NATIVE_UNAVAILABLE, Ordering::Release);
                    Message::Unavailable(request)
                }
            };
            let _ = tx.send(message);
            waker();
        });
    }

    fn open_builtin(&mut self, request: Request) {
        if let Some((previous, _)) = self.builtin.take() {
            self.answered.push((previous, None));
        }
        let Request {
            ask,
            suggested,
            folder,
        } = request;
        let folder = folder
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_default();
        let extensions = ask.extensions();
        let show = move |p: &Path| has_extension(p, extensions);
        let accept = move |name: &str| has_extension(Path::new(name), extensions);
        let mut dialog = match ask {
            Ask::Save(_) => FileDialog::save_file().default_filename(suggested),
            Ask::PhotosFolder => FileDialog::select_folder(),
            Ask::Open(_) | Ask::Model => FileDialog::open_file(),
        }
        .title(ask.title())
        .initial_path(folder)
        .id(egui::Id::unique("bcm-file-browser"))
        .show_rename(false)
        .default_size([640.0, 440.0]);
        if !extensions.is_empty() {
            dialog = dialog
                .show_files_filter(Box::new(show))
                .filename_filter(Box::new(accept));
        }
        dialog.open();
        self.builtin = Some((ask, dialog));
    }

    /// Draw the built-in browser while it is open (every frame).
    pub fn show(&mut self, ctx: &egui::Context) {
        let Some((ask, dialog)) = &mut self.builtin else {
            return;
        };
        let ask = *ask;
        match dialog.show(ctx).state() {
            State::Open => {}
            State::Selected => {
                let path = dialog.path().map(Path::to_path_buf);
                self.builtin = None;
                self.answered.push((ask, path));
            }
            State::Cancelled | State::Closed => {
                self.builtin = None;
                self.answered.push((ask, None));
            }
        }
    }

    /// Answers since the last call (never blocks). Remembers where each one ended.
    pub fn poll(&mut self) -> Vec<Answer> {
        let mut answers = std::mem::take(&mut self.answered);
        while let Ok(message) = self.rx.try_recv() {
            match message {
                Message::Answer(answer) => answers.push(answer),
                Message::Unavailable(request) => self.open_builtin(request),
            }
        }
        for (ask, path) in &answers {
            if let Some(path) = path {
                self.remember(*ask, path);
            }
        }
        answers
    }

    fn remember(&mut self, ask: Ask, path: &Path) {
        let folder = if ask == Ask::PhotosFolder {
            path.to_path_buf()
        } else {
            match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => return,
            }
        };
        self.folders.insert(ask.key().to_string(), folder);
        if let Some(file) = &self.folders_file {
            if let Some(dir) = file.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            if let Ok(json) = serde_json::to_vec_pretty(&self.folders) {
                let _ = write_atomic(file, &json);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_accept_their_extensions_in_any_case() {
        let photo = Ask::Open(Purpose::Document).extensions();
        assert!(has_extension(Path::new("a.JPG"), photo));
        assert!(has_extension(Path::new("b.webp"), photo));
        assert!(!has_extension(Path::new("c.safetensors"), photo));
        assert!(has_extension(
            Path::new("m.safetensors"),
            Ask::Model.extensions()
        ));
        assert!(!has_extension(Path::new("noext"), photo));
    }

    #[test]
    fn the_last_folder_is_remembered_per_kind_and_kept() {
        let dir = std::env::temp_dir().join(format!("bcm-dialogs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let waker: Arc<dyn Fn() + Send + Sync> = Arc::new(|| {});
        let mut d = Dialogs::new(DialogMode::Off, Some(&dir), waker.clone());
        d.remember(Ask::Open(Purpose::Document), Path::new("/photos/a.png"));
        d.remember(Ask::PhotosFolder, Path::new("/training/set"));
        let again = Dialogs::new(DialogMode::Off, Some(&dir), waker);
        assert_eq!(
            again.last_folder(Ask::Open(Purpose::Document)),
            Some(Path::new("/photos"))
        );
        assert_eq!(
            again.last_folder(Ask::PhotosFolder),
            Some(Path::new("/training/set"))
        );
        assert_eq!(again.last_folder(Ask::Save(SaveKind::Document)), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
