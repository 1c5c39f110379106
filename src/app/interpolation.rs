//! Interpolation between two pictures: both are inverted once, then a slider shows the
//! generated in-between live (at reduced resolution while dragging, full on release).

use egui::{Color32, TextureHandle, Ui, Vec2};

use super::textures::{fit_for_display, image_pixels};
use crate::engine::mask::Rect;
use crate::engine::plan::{GenerationPreset, LadderStyle, MAX_LADDER_NFE, Plan};
use crate::engine::planar::Planar;

pub enum InterpAction {
    PickSecond,
    Prepare,
    Frame { alpha: f32, preview_scale: usize },
    ExportFrame,
    ExportStrip(usize),
}

pub struct InterpolationPanel {
    pub second: Option<(String, Planar)>,
    pub sigma: f32,
    pub nfe: usize,
    pub preset: GenerationPreset,
    /// Frames come down a ladder as long as the inversion (instead of `preset`), as the CLI's
    /// frames do: for a model that follows the ODE it retraces the inversion, so the slider's
    /// ends are the two pictures.
    pub ladder: bool,
    /// Inverted latents are ready on the worker.
    pub ready: bool,
    pub alpha: f32,
    pub frame: Option<(f32, Planar, bool)>,
    pub strip_frames: usize,
    second_tex: Option<TextureHandle>,
    frame_tex: Option<TextureHandle>,
}

impl Default for InterpolationPanel {
    fn default() -> Self {
        Self {
            second: None,
            sigma: 80.0,
            nfe: 2,
            preset: GenerationPreset::OneStep,
            ladder: true,
            ready: false,
            alpha: 0.5,
            frame: None,
            strip_frames: 8,
            second_tex: None,
            frame_tex: None,
        }
    }
}

fn full(p: &Planar) -> Rect {
    Rect {
        y0: 0,
        x0: 0,
        y1: p.height,
        x1: p.width,
    }
}

/// What to do next, shown where the frame will be until there is one.
fn next_step_hint(has_first: bool, has_second: bool, ready: bool) -> &'static str {
    match (has_first, has_second, ready) {
        (false, _, _) => "Open a photo (A) first.",
        (true, false, _) => "Choose B, then press Invert both.",
        (true, true, false) => "Press Invert both.",
        (true, true, true) => "Move the slider to make a frame.",
    }
}

/// Subsampling factor for previews while dragging: about 256² pixels.
pub fn preview_scale(width: usize, height: usize) -> usize {
    let px = (width * height) as f64;
    ((px / (256.0 * 256.0)).sqrt().ceil() as usize).max(1)
}

impl InterpolationPanel {
    pub fn set_second(&mut self, name: String, image: Planar) {
        self.second = Some((name, image));
        self.second_tex = None;
        self.ready = false;
        self.frame = None;
        self.frame_tex = None;
    }

    pub fn set_frame(&mut self, alpha: f32, image: Planar, preview: bool) {
        self.frame = Some((alpha, image, preview));
        self.frame_tex = None;
    }

    /// How frames are generated from the mixing level.
    pub fn frame_plan(&self, ladders: impl Into<LadderStyle>) -> crate::engine::Result<Plan> {
        Plan::preset_or_ladder(
            ladders,
            self.preset,
            self.ladder.then_some(self.nfe),
            self.sigma,
        )
    }

    /// The first picture changed: latents are stale.
    pub fn invalidate(&mut self) {
        self.ready = false;
        self.frame = None;
        self.frame_tex = None;
    }

    pub fn ui(
        &mut self,
        ui: &mut Ui,
        first: Option<(&str, &Planar)>,
        busy: bool,
    ) -> Vec<InterpAction> {
        let mut actions = Vec::new();
        ui.horizontal(|ui| {
            ui.label(format!(
                "A: {}",
                first.map_or("open a photo first", |f| f.0)
            ));
            ui.separator();
            ui.label(format!(
                "B: {}",
                self.second.as_ref().map_or("—", |s| s.0.as_str())
            ));
            if ui
                .button("Choose B…")
                .on_hover_text("The picture to slide towards (resized to A's size if needed).")
                .clicked()
            {
                actions.push(InterpAction::PickSecond);
            }
        });
        ui.horizontal(|ui| {
            let mut changed = false;
            changed |= ui
                .add(egui::Slider::new(&mut self.sigma, 1.0..=80.0).logarithmic(true).text("mix at σ"))
                .on_hover_text("Noise level where the two latents are mixed: 80 mixes pure noise (big changes), lower keeps more of each picture's layout.")
                .changed();
            changed |= ui
                .add(egui::Slider::new(&mut self.nfe, 1..=MAX_LADDER_NFE / 2).logarithmic(true).text("inversion NFE"))
                .on_hover_text("Evaluations used to invert each picture (beyond 4, hops evenly spaced in log σ, of the kind the model's card names: Heun or plain).")
                .changed();
            let selected = if self.ladder { "ladder".to_string() } else { self.preset.name().to_string() };
            egui::ComboBox::from_id_salt("interp-preset")
                .selected_text(selected)
                .show_ui(ui, |ui| {
                    for p in GenerationPreset::ALL {
                        if ui.selectable_label(!self.ladder && self.preset == p, p.name()).clicked() {
                            self.preset = p;
                            self.ladder = false;
                            changed = true;
                        }
                    }
                    if ui
                        .selectable_label(self.ladder, "ladder")
                        .on_hover_text("Frames come down a ladder as long as the inversion, at about that many NFE per frame. A distilled or consistency-trained model retraces the inversion at any length, so the ends are the two pictures; a denoiser needs 16 or more for that (below 5 it takes the presets).")
                        .clicked()
                    {
                        self.ladder = true;
                        changed = true;
                    }
                });
            if changed {
                self.invalidate();
            }
            let can = first.is_some() && self.second.is_some() && !busy;
            if ui
                .add_enabled(can, egui::Button::new("Invert both"))
                .on_hover_text("Invert A and B once; then the slider generates in-betweens.")
                .clicked()
            {
                actions.push(InterpAction::Prepare);
            }
        });
        let slider = ui.add_enabled(
            self.ready,
            egui::Slider::new(&mut self.alpha, 0.0..=1.0)
                .text("A to B")
                .show_value(true),
        );
        let slider = slider.on_hover_text("Drag to slide between the pictures.");
        if self.ready
            && let Some((_, a)) = first
        {
            if slider.dragged() && slider.changed() {
                actions.push(InterpAction::Frame {
                    alpha: self.alpha,
                    preview_scale: preview_scale(a.width, a.height),
                });
            } else if slider.drag_stopped() || (slider.changed() && !slider.dragged()) {
                actions.push(InterpAction::Frame {
                    alpha: self.alpha,
                    preview_scale: 1,
                });
            }
        }
        ui.horizontal(|ui| {
            if ui
                .add_enabled(self.frame.is_some(), egui::Button::new("Export frame…"))
                .clicked()
            {
                actions.push(InterpAction::ExportFrame);
            }
            let label = ui.label("frames");
            ui.add(egui::DragValue::new(&mut self.strip_frames).range(2..=64))
                .labelled_by(label.id)
                .on_hover_text("Frames in the strip.");
            if ui
                .add_enabled(self.ready && !busy, egui::Button::new("Export strip…"))
                .on_hover_text("Generate the frames side by side in one image.")
                .clicked()
            {
                actions.push(InterpAction::ExportStrip(self.strip_frames));
            }
        });
        ui.separator();
        self.pictures(ui, first);
        actions
    }

    fn pictures(&mut self, ui: &mut Ui, first: Option<(&str, &Planar)>) {
        let ctx = ui.ctx().clone();
        if self.second_tex.is_none()
            && let Some((_, img)) = &self.second
        {
            self.second_tex = Some(ctx.load_texture(
                "interp-b",
                fit_for_display(image_pixels(img, None, full(img))),
                Default::default(),
            ));
        }
        if self.frame_tex.is_none()
            && let Some((_, img, _)) = &self.frame
        {
            self.frame_tex = Some(ctx.load_texture(
                "interp-frame",
                fit_for_display(image_pixels(img, None, full(img))),
                Default::default(),
            ));
        }
        let avail = ui.available_size();
        let side = ((avail.x - 24.0) / 2.0).min(avail.y - 30.0).max(64.0);
        ui.horizontal(|ui| {
            match (&self.frame_tex, &self.frame) {
                (Some(tex), Some((alpha, img, preview))) => {
                    let aspect = img.height as f32 / img.width.max(1) as f32;
                    ui.vertical(|ui| {
                        ui.image((tex.id(), Vec2::new(side, side * aspect)));
                        ui.label(format!(
                            "α = {alpha:.2}{}",
                            if *preview { " (preview)" } else { "" }
                        ));
                    });
                }
                _ => {
                    ui.colored_label(
                        Color32::GRAY,
                        next_step_hint(first.is_some(), self.second.is_some(), self.ready),
                    );
                }
            }
            if let (Some(tex), Some((name, img))) = (&self.second_tex, &self.second) {
                let aspect = img.height as f32 / img.width.max(1) as f32;
                ui.vertical(|ui| {
                    ui.image((tex.id(), Vec2::new(side * 0.5, side * 0.5 * aspect)));
                    ui.label(format!("B: {name}"));
                });
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::plan::Ladders;

    #[test]
    fn the_hint_names_the_step_that_is_still_missing() {
        assert_eq!(next_step_hint(false, true, true), "Open a photo (A) first.");
        assert!(next_step_hint(true, false, false).starts_with("Choose B"));
        // B is chosen: only the inversion is left (the hint used to ask for B again).
        let hint = next_step_hint(true, true, false);
        assert!(!hint.contains("Choose B") && hint.contains("Invert both"));
        assert!(next_step_hint(true, true, true).contains("slider"));
    }

    #[test]
    fn default_frames_retrace_the_inversion_of_a_model_that_follows_the_ode() {
        let panel = InterpolationPanel::default();
        let frames = panel.frame_plan(Ladders::Plain).unwrap();
        let inversion = Plan::inversion(Ladders::Plain, panel.nfe, panel.sigma).unwrap();
        assert_eq!(frames.nfe(), panel.nfe);
        // Every level the generation stops at above σ_min is one the inversion passed.
        let up = inversion.levels();
        let down = frames.levels();
        for level in &down[..down.len() - 1] {
            assert!(up.contains(level), "{level} not in {up:?}");
        }
    }
}
