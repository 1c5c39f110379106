//! Keyboard shortcuts: what each key does, and the overlay (F1, Help › Keyboard shortcuts)
//! that lists them all from the same table.

use super::*;

/// Every shortcut the editor has, by group: (group, [(keys, what it does)]).
pub const SHORTCUTS: &[(&str, &[(&str, &str)])] = &[
    (
        "Files",
        &[
            ("Ctrl+O", "open a photo (or drop a file on the window)"),
            ("Ctrl+S", "save"),
            ("Ctrl+Shift+S", "save as…"),
        ],
    ),
    (
        "View",
        &[
            ("Mouse wheel", "zoom around the pointer"),
            ("Space+drag, middle-drag", "pan"),
            ("F", "fit the photo to the window"),
            ("1", "100 %"),
            ("C", "show before / after"),
        ],
    ),
    (
        "Brush",
        &[
            ("B", "paint the mask"),
            ("E", "erase the mask"),
            ("P", "paint colour strokes (for Edit)"),
            ("[  ]", "smaller / larger brush"),
        ],
    ),
    (
        "Tasks",
        &[
            ("Ctrl+Enter", "run the selected task"),
            ("Esc", "cancel the running job"),
        ],
    ),
    (
        "Results",
        &[
            ("Enter", "accept the staged result"),
            ("Esc", "discard the staged result"),
        ],
    ),
    (
        "Undo",
        &[("Ctrl+Z", "undo"), ("Ctrl+Shift+Z, Ctrl+Y", "redo")],
    ),
    ("Help", &[("F1", "show or hide this list")]),
];

/// Title of the overlay.
pub const SHORTCUTS_TITLE: &str = "Keyboard shortcuts";

impl Editor {
    /// Act on the keys pressed this frame.
    pub(super) fn shortcuts(&mut self, ctx: &egui::Context) {
        let cmd = Modifiers::COMMAND;
        let pressed = |s: KeyboardShortcut| ctx.input_mut(|i| i.consume_shortcut(&s));
        if pressed(KeyboardShortcut::new(Modifiers::NONE, Key::F1)) {
            self.show_shortcuts = !self.show_shortcuts;
        }
        if self.show_shortcuts && pressed(KeyboardShortcut::new(Modifiers::NONE, Key::Escape)) {
            self.show_shortcuts = false;
        }
        if self.files.dialogs.builtin_open() {
            return; // the file browser has the keys (Esc closes it, Enter confirms)
        }
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
        if pressed(KeyboardShortcut::new(cmd, Key::Enter)) && !self.busy() {
            self.run_task(self.tasks.kind);
        }
        if ctx.memory(|m| m.focused().is_some()) {
            return; // typing in a field
        }
        let key = |k: Key| ctx.input(|i| i.key_pressed(k) && i.modifiers.is_none());
        if key(Key::B) {
            self.canvas.tool = crate::app::brush::Tool::Paint;
        }
        if key(Key::E) {
            self.canvas.tool = crate::app::brush::Tool::Erase;
        }
        if key(Key::P) {
            self.canvas.tool = crate::app::brush::Tool::Color;
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

    /// The list of shortcuts over the editor, while it is shown.
    pub(super) fn shortcuts_overlay(&mut self, ctx: &egui::Context) {
        if !self.show_shortcuts {
            return;
        }
        let mut open = true;
        egui::Window::new(SHORTCUTS_TITLE)
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
            .show(ctx, |ui| {
                egui::Grid::new("shortcuts")
                    .num_columns(2)
                    .spacing([24.0, 4.0])
                    .striped(true)
                    .show(ui, |ui| {
                        for (group, keys) in SHORTCUTS {
                            ui.strong(*group);
                            ui.end_row();
                            for (key, what) in *keys {
                                ui.monospace(*key);
                                ui.label(*what);
                                ui.end_row();
                            }
                        }
                    });
                ui.add_space(6.0);
                ui.label("F1 or Esc closes this list.");
            });
        if !open {
            self.show_shortcuts = false;
        }
    }
}
