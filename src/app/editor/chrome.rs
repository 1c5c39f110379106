//! Menu, status bar, tool panel and the confirmation dialogs.

use super::time_left::time_left;
use super::*;

impl Editor {
    /// The empty canvas: what to do first, and the bundled photos one click away.
    pub(super) fn welcome(&mut self, ui: &mut Ui) {
        ui.vertical_centered(|ui| {
            ui.add_space((ui.available_height() * 0.3).max(20.0));
            ui.heading("Open a photo to start");
            ui.label("File › Open (Ctrl+O), or drop a PNG, JPEG or WebP file on the window.");
            ui.add_space(8.0);
            if ui.button("Open a photo…").on_hover_text("Ctrl+O").clicked() {
                self.files.pick_open(Purpose::Document);
            }
            ui.add_space(16.0);
            ui.label("Or try a sample photo:");
            for sample in SAMPLES {
                if ui
                    .button(format!("Open sample {}", sample.name))
                    .on_hover_text(sample.about)
                    .clicked()
                {
                    self.files.load_sample(sample);
                }
            }
            ui.add_space(16.0);
            ui.weak("F1 lists the keyboard shortcuts.");
        });
    }

    pub(super) fn dropped_files(&mut self, ctx: &egui::Context) {
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

    pub(super) fn menu(&mut self, ui: &mut Ui) {
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
                ui.menu_button("Model", |ui| {
                    if ui
                        .button("Load model file…")
                        .on_hover_text(
                            "A .safetensors model with its .json card beside it: an export, a \
                             blend, or a run's checkpoint (or drop the file on the window).",
                        )
                        .clicked()
                    {
                        self.files.pick_model();
                    }
                    if ui.button("Use the built-in model").clicked() {
                        self.load_model(ModelSource::Embedded);
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
            ui.menu_button("Help", |ui| {
                if ui.button("Keyboard shortcuts  F1").clicked() {
                    self.show_shortcuts = true;
                }
            });
            ui.separator();
            ui.selectable_value(&mut self.tab, Tab::Edit, "Edit");
            ui.selectable_value(&mut self.tab, Tab::Interpolate, "Interpolate");
            ui.selectable_value(&mut self.tab, Tab::Train, "Train");
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let note = if self.model.trained {
                    self.model.name.clone()
                } else {
                    format!("{} — untrained placeholder", self.model.name)
                };
                ui.label(format!("model: {note} · {}", self.device_note));
            });
        });
    }

    pub(super) fn status_bar(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            if let Some(label) = self.worker.running() {
                // A spinner repaints every frame; once progress arrives, the bar moves on the
                // worker's events instead and leaves the processor to the job.
                if self.progress.is_none() {
                    ui.spinner();
                }
                let (fraction, text) = match &self.progress {
                    Some(p) => {
                        let tiles = if p.tiles > 1 {
                            format!(", tile {}/{}", p.tile + 1, p.tiles)
                        } else {
                            String::new()
                        };
                        let left = self
                            .job_started
                            .and_then(|t| time_left(t.elapsed(), p.fraction()))
                            .map_or(String::new(), |l| format!(" · {l}"));
                        (
                            p.fraction(),
                            format!("{label}: step {}/{} NFE{tiles}{left}", p.nfe, p.nfe_total),
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
            // The status bar shows the newest message for a while; the log keeps it.
            if let Some(m) = self
                .messages
                .last()
                .filter(|m| m.at.elapsed().as_secs() < 12)
            {
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

    pub(super) fn side_panel(&mut self, ui: &mut Ui) {
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
            let damage = self.doc.as_ref().map(|d| d.damage).unwrap_or_default();
            tasks_panel::tasks_ui(ui, &mut self.tasks, &mut actions, has_doc, busy, damage);
        });
        for a in actions {
            self.panel_action(a);
        }
    }

    pub(super) fn close_dialog(&mut self, ctx: &egui::Context) {
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

    pub(super) fn replace_dialog(&mut self, ctx: &egui::Context) {
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
}
