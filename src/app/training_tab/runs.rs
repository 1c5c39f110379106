//! Runs found on disk: resume any of them, or use one in the editor.

use super::*;
use crate::engine::train::{TEACHER_FILE, run_config};

/// A run folder found on disk.
#[derive(Debug, Clone)]
pub struct PastRun {
    pub dir: PathBuf,
    pub name: String,
    pub step: Option<u64>,
    /// Its newest checkpoint folder.
    pub checkpoint: Option<PathBuf>,
    pub total: u64,
    pub preset: String,
    /// The photos folder it trains on.
    pub data: PathBuf,
    /// A distillation's own copy of its teacher.
    pub teacher: Option<PathBuf>,
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
            let config = run_config(&dir).ok()?;
            let newest = checkpoint::latest(&dir);
            let step = newest
                .as_ref()
                .and_then(|c| checkpoint::read_state(c).ok())
                .map(|s| s.step);
            let modified = e
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            let name = dir.file_name()?.to_string_lossy().into_owned();
            let teacher = Some(dir.join(TEACHER_FILE)).filter(|p| p.exists());
            Some((
                modified,
                PastRun {
                    dir,
                    name,
                    step,
                    checkpoint: newest,
                    total: config.total_steps,
                    preset: config.preset,
                    data: config.data,
                    teacher,
                },
            ))
        })
        .collect();
    runs.sort_by_key(|r| std::cmp::Reverse(r.0));
    runs.into_iter().map(|(_, r)| r).collect()
}

impl TrainingTab {
    pub(super) fn runs_ui(&mut self, ui: &mut Ui, running: bool) {
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
                    resume = Some((run.dir.clone(), run.total, run.data.clone()));
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
        if let Some((dir, total, data)) = resume {
            self.resume(dir, total, &data);
        }
        if let Some(dir) = use_it {
            self.use_in_editor(&dir);
        }
        ui.separator();
        self.blend_ui(ui);
    }
}
