//! The inpainting part of the task panel: the strength, and the rest under an Advanced fold.

use egui::Ui;

use super::tasks_panel::{TaskSettings, choice_row};
use crate::engine::tasks::{MaskedContent, Renoise, STRENGTH_MAX, STRENGTH_MIN};

/// The inpainting settings: the strength, and the rest folded under Advanced.
pub(super) fn inpaint_ui(ui: &mut Ui, s: &mut TaskSettings) {
    ui.add(
        egui::Slider::new(&mut s.inpaint_strength, STRENGTH_MIN..=STRENGTH_MAX)
            .logarithmic(true)
            .text("strength"),
    )
    .on_hover_text(
        "How much may change under the mask. Untouched, the inpainting model fills the \
         area from what is around it in one evaluation: removes an object or heals a \
         blemish. Moved, the shipped model regenerates that fill from noise of that level: \
         below 1 it adds its own grain and texture, a few units keeps only the fill's \
         layout, 80 starts from scratch. Each step up strays further from the photo.",
    );
    let p = &mut s.inpaint;
    egui::CollapsingHeader::new("Advanced")
        .default_open(false)
        .show(ui, |ui| {
            choice_row(
                ui,
                ("start from", "What the fill starts from inside the mask."),
                &mut p.content,
                &[
                    (
                        MaskedContent::Fill,
                        "fill",
                        "The inpainting model's fill from what is around the mask (a smooth \
                         fill from its border colours when another model is loaded): removes \
                         what is under it.",
                    ),
                    (
                        MaskedContent::Original,
                        "original",
                        "The pixels under the mask: a low strength keeps their layout.",
                    ),
                ],
            );
            ui.add(egui::Slider::new(&mut p.grow, 0..=64).text("grow px"))
                .on_hover_text("Dilate the painted mask before filling.");
            ui.add(egui::Slider::new(&mut p.feather, 0..=64).text("feather px"))
                .on_hover_text("Soft edge between the fill and the photo.");
            choice_row(
                ui,
                ("re-noise", "How the estimate goes back up to each level."),
                &mut p.renoise,
                &[
                    (
                        Renoise::Fresh,
                        "fresh",
                        "Add fresh noise (1 NFE per level).",
                    ),
                    (
                        Renoise::Invert,
                        "BCM inversion",
                        "Invert with the BCM (2 NFE per level): keeps more structure.",
                    ),
                    (
                        Renoise::None,
                        "none",
                        "Read the fill's own blur as the noise and denoise it directly (1 NFE per level).",
                    ),
                ],
            );
        });
    let p = s.inpaint_params(0);
    if p.needs_loop() {
        ui.label(format!("levels {}", p.schedule()));
    }
}
