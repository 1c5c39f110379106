//! The tool panel: mask brush settings and the engine tasks (inpaint, restore, edit,
//! generate) with their parameters. Every parameter explains itself in a tooltip.

use egui::{Color32, Ui};

use super::brush::Tool;
use super::canvas::Canvas;
use super::inpaint_panel::inpaint_ui;
pub use super::restore_panel::PhotoDamage;
use super::restore_panel::restore_ui;
use crate::engine::GenerationPreset;
use crate::engine::plan::MAX_LADDER_NFE;
use crate::engine::tasks::{InpaintParams, RestoreParams, suggested_level};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    Inpaint,
    Restore,
    Edit,
    Generate,
}

/// Task parameters as the user set them.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskSettings {
    pub kind: TaskKind,
    pub seed: u64,
    /// How much the fill may change (its first noise level).
    pub inpaint_strength: f32,
    /// The rest of the inpainting settings (the Advanced fold); its seed is not used.
    pub inpaint: InpaintParams,
    pub restore_sigma: f32,
    pub restore_damage: f32,
    pub restore_passes: usize,
    pub restore_mirrors: usize,
    /// Keep a JPEG's restoration consistent with its file.
    pub restore_jpeg: bool,
    pub edit_sigma: f32,
    pub edit_nfe: usize,
    pub gen_width: usize,
    pub gen_height: usize,
    pub gen_preset: GenerationPreset,
    /// Generate down a ladder of `gen_ladder_nfe` evaluations instead of `gen_preset`.
    pub gen_ladder: bool,
    pub gen_ladder_nfe: usize,
}

impl Default for TaskSettings {
    fn default() -> Self {
        let restore = RestoreParams::default();
        Self {
            kind: TaskKind::Inpaint,
            seed: 0,
            inpaint_strength: InpaintParams::default().strength(),
            inpaint: InpaintParams::default(),
            restore_sigma: restore.sigma,
            restore_damage: restore.damage,
            restore_passes: restore.passes,
            restore_mirrors: restore.mirrors,
            restore_jpeg: true,
            edit_sigma: 2.0,
            edit_nfe: 2,
            gen_width: 256,
            gen_height: 256,
            gen_preset: GenerationPreset::TwoStep,
            gen_ladder: false,
            gen_ladder_nfe: 16,
        }
    }
}

impl TaskSettings {
    /// Restoration settings suggested for a photo with this measured noise and, for a JPEG,
    /// this quality (what `RestoreParams::suggested` picks); unchanged when nothing is known.
    pub fn suggest_restore(&mut self, noise: Option<f32>, jpeg_quality: Option<u8>) {
        if let Some((level, passes)) = suggested_level(noise, jpeg_quality) {
            self.restore_sigma = level;
            self.restore_damage = level;
            self.restore_passes = passes;
            self.restore_jpeg = true;
        }
    }

    /// The inpainting job's parameters: untouched, exactly `InpaintParams::default()` (what
    /// the CLI's `inpaint` uses with no flags).
    pub fn inpaint_params(&self, seed: u64) -> InpaintParams {
        let base = InpaintParams {
            seed,
            ..self.inpaint.clone()
        };
        if self.inpaint_strength == base.strength() {
            base
        } else {
            base.with_strength(self.inpaint_strength)
        }
    }
}

/// What the panel asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanelAction {
    Run(TaskKind),
    InvertMask,
    ClearMask,
    ClearStrokes,
    LoadMask,
    SaveMask,
}

/// A labelled row of exclusive choices, each with its tooltip.
pub(super) fn choice_row<T: PartialEq + Copy>(
    ui: &mut Ui,
    (label, tip): (&str, &str),
    value: &mut T,
    options: &[(T, &str, &str)],
) {
    ui.horizontal(|ui| {
        ui.label(label).on_hover_text(tip);
        for &(option, text, option_tip) in options {
            ui.selectable_value(value, option, text)
                .on_hover_text(option_tip);
        }
    });
}

fn seed_row(ui: &mut Ui, seed: &mut u64) {
    ui.horizontal(|ui| {
        let label = ui
            .label("Seed")
            .on_hover_text("Same seed, same result. Change it for another variation.");
        ui.add(egui::DragValue::new(seed).speed(1.0))
            .labelled_by(label.id);
        if ui
            .button("random")
            .on_hover_text("Pick a random seed")
            .clicked()
        {
            *seed = rand::random::<u32>() as u64;
        }
    });
}

pub fn brush_ui(ui: &mut Ui, canvas: &mut Canvas, actions: &mut Vec<PanelAction>, has_doc: bool) {
    ui.heading("Brush");
    ui.horizontal(|ui| {
        ui.selectable_value(&mut canvas.tool, Tool::Paint, "Paint (B)")
            .on_hover_text("Paint the mask: the area to regenerate. Key: B.");
        ui.selectable_value(&mut canvas.tool, Tool::Erase, "Erase (E)")
            .on_hover_text("Remove from the mask. Key: E.");
        ui.selectable_value(&mut canvas.tool, Tool::Color, "Colour (P)")
            .on_hover_text("Paint rough colour strokes for an edit (Alt erases them). Key: P.");
    });
    ui.add(
        egui::Slider::new(&mut canvas.brush.size, 1.0..=600.0)
            .logarithmic(true)
            .text("size ([ ])"),
    )
    .on_hover_text("Brush diameter in image pixels. Keys: [ smaller, ] larger.");
    ui.add(egui::Slider::new(&mut canvas.brush.hardness, 0.0..=1.0).text("hardness"))
        .on_hover_text("1: hard edge. 0: soft from the centre outwards.");
    ui.add(egui::Slider::new(&mut canvas.brush.opacity, 0.05..=1.0).text("opacity"))
        .on_hover_text("How much one stroke adds.");
    if canvas.tool == Tool::Color {
        ui.horizontal(|ui| {
            ui.label("colour");
            ui.color_edit_button_rgb(&mut canvas.brush.color);
        });
    }
    ui.horizontal(|ui| {
        let mut changed = ui
            .checkbox(&mut canvas.show_mask, "show mask")
            .on_hover_text("Show the mask overlay.")
            .changed();
        let mut rgb = [
            canvas.overlay_color.r(),
            canvas.overlay_color.g(),
            canvas.overlay_color.b(),
        ];
        if ui
            .color_edit_button_srgb(&mut rgb)
            .on_hover_text("Overlay colour")
            .changed()
        {
            canvas.overlay_color = Color32::from_rgb(rgb[0], rgb[1], rgb[2]);
            changed = true;
        }
        if ui
            .add(egui::Slider::new(&mut canvas.overlay_opacity, 0.1..=1.0).text("overlay"))
            .on_hover_text("Overlay opacity")
            .changed()
        {
            changed = true;
        }
        if changed {
            canvas.restyle_mask();
        }
    });
    ui.add_enabled_ui(has_doc, |ui| {
        ui.horizontal(|ui| {
            if ui
                .button("Invert")
                .on_hover_text("Swap masked and unmasked areas.")
                .clicked()
            {
                actions.push(PanelAction::InvertMask);
            }
            if ui
                .button("Clear")
                .on_hover_text("Remove the whole mask.")
                .clicked()
            {
                actions.push(PanelAction::ClearMask);
            }
            if ui
                .button("Load…")
                .on_hover_text("Load a mask PNG (white = regenerate).")
                .clicked()
            {
                actions.push(PanelAction::LoadMask);
            }
            if ui
                .button("Save…")
                .on_hover_text("Save the mask as a PNG.")
                .clicked()
            {
                actions.push(PanelAction::SaveMask);
            }
        });
    });
}

pub fn tasks_ui(
    ui: &mut Ui,
    s: &mut TaskSettings,
    actions: &mut Vec<PanelAction>,
    has_doc: bool,
    busy: bool,
    damage: PhotoDamage,
) {
    ui.heading("Task");
    ui.horizontal_wrapped(|ui| {
        ui.selectable_value(&mut s.kind, TaskKind::Inpaint, "Inpaint")
            .on_hover_text("Regenerate the masked area.");
        ui.selectable_value(&mut s.kind, TaskKind::Restore, "Restore")
            .on_hover_text("Remove JPEG artefacts or noise from the whole photo.");
        ui.selectable_value(&mut s.kind, TaskKind::Edit, "Edit")
            .on_hover_text("Turn colour strokes into content.");
        ui.selectable_value(&mut s.kind, TaskKind::Generate, "Generate")
            .on_hover_text("A new picture from noise.");
    });
    ui.separator();
    match s.kind {
        TaskKind::Inpaint => inpaint_ui(ui, s),
        TaskKind::Restore => restore_ui(ui, s, damage),
        TaskKind::Edit => {
            ui.add(egui::Slider::new(&mut s.edit_sigma, 0.1..=20.0).logarithmic(true).text("σ edit"))
                .on_hover_text("How far towards noise the painted photo is inverted before regenerating: small keeps your strokes, large invents more.");
            ui.add(egui::Slider::new(&mut s.edit_nfe, 1..=4).text("NFE back"))
                .on_hover_text("Network evaluations to come back from σ edit.");
            ui.label("Paint with the Colour brush; the change stays within the strokes (grown and feathered).");
        }
        TaskKind::Generate => {
            ui.add(
                egui::Slider::new(&mut s.gen_width, 64..=1024)
                    .step_by(16.0)
                    .text("width"),
            )
            .on_hover_text("Width of the new picture in pixels.");
            ui.add(
                egui::Slider::new(&mut s.gen_height, 64..=1024)
                    .step_by(16.0)
                    .text("height"),
            )
            .on_hover_text("Height of the new picture in pixels.");
            let selected = if s.gen_ladder {
                "ladder"
            } else {
                s.gen_preset.name()
            };
            egui::ComboBox::from_label("scheme")
                .selected_text(selected)
                .show_ui(ui, |ui| {
                    for p in GenerationPreset::ALL {
                        if ui.selectable_label(!s.gen_ladder && s.gen_preset == p, p.name()).clicked() {
                            s.gen_preset = p;
                            s.gen_ladder = false;
                        }
                    }
                    if ui
                        .selectable_label(s.gen_ladder, "ladder")
                        .on_hover_text("Hops evenly spaced in log σ down from pure noise (Heun or plain ones, as the model's card says): more structure than the 1–4 NFE schemes, at more evaluations.")
                        .clicked()
                    {
                        s.gen_ladder = true;
                    }
                })
                .response
                .on_hover_text("Sampling scheme: the reference's 1–4 NFE schemes, or a ladder of hops.");
            if s.gen_ladder {
                ui.add(egui::Slider::new(&mut s.gen_ladder_nfe, 5..=MAX_LADDER_NFE).logarithmic(true).text("NFE"))
                    .on_hover_text("Evaluations of the ladder (an even count takes one more: its last hop to the clean end is a plain one).");
            }
        }
    }
    seed_row(ui, &mut s.seed);
    let needs_doc = s.kind != TaskKind::Generate;
    let label = match s.kind {
        TaskKind::Inpaint => "Inpaint mask",
        TaskKind::Restore => "Restore photo",
        TaskKind::Edit => "Apply edit",
        TaskKind::Generate => "Generate",
    };
    if ui
        .add_enabled(
            !busy && (has_doc || !needs_doc),
            egui::Button::new(label).min_size(egui::vec2(160.0, 28.0)),
        )
        .on_hover_text("Runs in the background (Ctrl+Enter); the result is staged for you to accept or discard.")
        .clicked()
    {
        actions.push(PanelAction::Run(s.kind));
    }
    if s.kind == TaskKind::Edit && has_doc && ui.button("Clear strokes").clicked() {
        actions.push(PanelAction::ClearStrokes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untouched_inpaint_settings_are_the_engines_defaults() {
        let s = TaskSettings::default();
        assert_eq!(
            s.inpaint_params(3),
            InpaintParams {
                seed: 3,
                ..InpaintParams::default()
            }
        );
        // A lower strength starts lower and keeps only levels below it.
        let low = TaskSettings {
            inpaint_strength: 4.0,
            ..s
        }
        .inpaint_params(0);
        assert_eq!(low.levels[0], 4.0);
        assert!(low.levels.windows(2).all(|w| w[1] < w[0]));
        assert!(low.refine.iter().all(|&l| l < 4.0));
        low.validate().unwrap();
        // Any strength comes down in steps to where the defaults end, never in one jump.
        for strength in [0.05, 0.3, 2.0, 15.0, 80.0] {
            let p = InpaintParams::default().with_strength(strength);
            p.validate().unwrap();
            assert_eq!(p.levels[0], strength);
            let end = *InpaintParams::default().levels.last().unwrap();
            if strength > 2.0 * end {
                assert_eq!(*p.levels.last().unwrap(), end, "{strength}: {:?}", p.levels);
            }
            assert!(
                p.levels.windows(2).all(|w| w[0] / w[1] < 5.0),
                "{strength}: {:?}",
                p.levels
            );
        }
    }
}
