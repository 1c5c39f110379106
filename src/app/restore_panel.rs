//! The restoration settings of the tool panel, with what is known about the open photo's
//! damage (its measured noise, a JPEG's quality) and the settings suggested from it.

use crate::engine::tasks::JPEG_PASSES;
use egui::Ui;

use super::tasks_panel::{TaskSettings, choice_row};

/// What is known about the open photo's damage: the noise measured in it and, for a JPEG
/// file, its quality.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PhotoDamage {
    pub noise: Option<f32>,
    pub jpeg_quality: Option<u8>,
}

impl PhotoDamage {
    /// "JPEG quality ≈ q, noise σ ≈ n", or `None` when nothing is known.
    pub fn describe(&self) -> Option<String> {
        let mut known = Vec::new();
        if let Some(q) = self.jpeg_quality {
            known.push(format!("JPEG quality ≈ {q}"));
        }
        if let Some(n) = self.noise {
            known.push(format!("noise σ ≈ {n:.3}"));
        }
        (!known.is_empty()).then(|| known.join(", "))
    }
}

/// Restoration settings, with what is known about the photo and the settings suggested
/// for it.
pub(super) fn restore_ui(ui: &mut Ui, s: &mut TaskSettings, damage: PhotoDamage) {
    if let Some(known) = damage.describe() {
        ui.horizontal(|ui| {
            ui.label(known).on_hover_text(
                "Quality from the file's quantisation tables; noise measured in the flattest parts of the photo when it was opened.",
            );
            if ui
                .button("suggested settings")
                .on_hover_text(format!("Strength and damage from the measured noise and the JPEG quality (whichever damages more); {JPEG_PASSES} passes for a JPEG, each consistent with the file."))
                .clicked()
            {
                s.suggest_restore(damage.noise, damage.jpeg_quality);
            }
        });
    }
    if damage.jpeg_quality.is_some() {
        ui.checkbox(&mut s.restore_jpeg, "consistent with the JPEG file")
            .on_hover_text("After each pass, keep every 8×8 block's DCT coefficients within the range the file stores: restores detail the file proves is there. Applies while the photo is unchanged since it was opened.");
    }
    ui.add(egui::Slider::new(&mut s.restore_sigma, 0.005..=1.0).logarithmic(true).text("strength σ"))
        .on_hover_text("Noise level the photo is lifted to: larger removes heavier damage and more fine detail. Equal to the damage: denoise without adding noise.");
    ui.add(egui::Slider::new(&mut s.restore_damage, 0.0..=0.3).text("damage σ"))
        .on_hover_text("How noisy the photo already is: its grain or JPEG damage read as a noise level (0.03–0.08 for typical JPEGs). Only the difference up to the strength is added as fresh noise.");
    ui.add(egui::Slider::new(&mut s.restore_passes, 1..=4).text("passes"))
        .on_hover_text("Each pass repeats the restoration at half the previous strength and damage, on what the last pass left, in the next mirroring and every other pass one pixel off (1 NFE per copy).");
    let each = "Each copy costs one NFE per pass.";
    choice_row(
        ui,
        (
            "mirrored copies",
            "Restore mirrored copies and average them: a little cleaner.",
        ),
        &mut s.restore_mirrors,
        &[
            (1, "1", "The photo as it is."),
            (2, "2", each),
            (4, "4", each),
        ],
    );
}
