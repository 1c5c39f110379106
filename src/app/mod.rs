//! The editor (egui/eframe). It draws, collects input and sends jobs; all tensor work
//! happens in the engine on worker threads.

mod brush;
mod canvas;
mod dialogs;
mod document;
mod editor;
mod files;
mod history;
mod inpaint_panel;
mod interpolation;
mod launch;
mod restore_panel;
mod samples;
mod tasks_panel;
mod textures;
mod timeline;
pub mod training_tab;
mod view;

pub use brush::{Brush, Tool};
pub use dialogs::DialogMode;
pub use document::{Document, Staged};
pub use editor::{Editor, EditorOptions, SHORTCUTS, Tab};
pub use files::default_config_dir;
pub use launch::{LaunchError, run};
pub use tasks_panel::TaskKind;
pub use training_tab::{Form, PastRun, TrainingTab};
