//! The timeline: the noise-level axis from 0.002 to 80 on a log scale. It shows where the
//! picture sits, the hops of the chosen plan (drag the points to edit them), and a scrubber
//! to invert the photo to any level and generate back from there.

use egui::{Color32, Pos2, Rect, Sense, Stroke, Ui, Vec2};

mod axis;

use axis::{arrow, sigma_at, x_of};

use crate::engine::plan::{GenerationPreset, LadderStyle, Ladders, MAX_LADDER_NFE, Op, Plan};
use crate::engine::schedule::{SIGMA_MAX, SIGMA_MIN};

/// What the user asked the timeline to do.
#[derive(Debug, Clone, PartialEq)]
pub enum TimelineAction {
    /// Invert the photo to this level (scrubber released).
    InvertTo(f32),
    /// Run the plan from the level the picture sits at down to a clean image.
    GenerateBack(Plan),
    /// Leave the noisy view.
    ShowPhoto,
}

pub struct Timeline {
    pub plan: Plan,
    pub preset: Option<GenerationPreset>,
    /// Level the scrubber points at.
    pub scrub: f32,
    /// Inversion NFE used when scrubbing (1–4 the reference ladders, up to 32 a ladder).
    pub inversion_nfe: usize,
    /// Hops of the "ladder" plan (evenly spaced in log σ).
    pub ladder_nfe: usize,
    /// The hops the model's ladders take (from its card).
    ladders: LadderStyle,
    dragging: Option<usize>,
    pub error: Option<String>,
}

impl Default for Timeline {
    fn default() -> Self {
        Self {
            plan: GenerationPreset::TwoStep.plan_from(SIGMA_MAX),
            preset: Some(GenerationPreset::TwoStep),
            scrub: 15.0,
            inversion_nfe: 2,
            ladder_nfe: 16,
            ladders: Ladders::default().into(),
            dragging: None,
            error: None,
        }
    }
}

/// The shortest ladder the panel offers: a denoiser's of 1-4 evaluations would be the presets;
/// a plain model's short ladders are its own.
fn shortest_ladder(ladders: Ladders) -> usize {
    match ladders {
        Ladders::Heun => 5,
        Ladders::Plain => 1,
    }
}

/// What the inversion slider does for a model with plain ladders: where its ladders turn.
fn plain_inversion_hint(style: LadderStyle) -> String {
    let ladder = |nfe| {
        Plan::inversion(style, nfe, SIGMA_MAX).map_or_else(|e| e.to_string(), |p| p.to_string())
    };
    let (one, two) = (ladder(1), ladder(2));
    format!(
        "Evaluations used to invert the photo when you scrub: plain hops evenly spaced in log σ from {}, the noise this model was trained to start from (2: {two}; 1 NFE from more noise: {one}); at 32, a ladder of Heun hops from the clean photo itself that comes back almost exactly.",
        style.floor
    )
}

fn op_level(op: &Op) -> f32 {
    match op {
        Op::Hop(l) | Op::Noise(l) | Op::Heun(l) => *l,
    }
}

impl Timeline {
    /// A timeline for a model whose ladders take `ladders` hops. A model that follows the ODE
    /// opens on its own ladder as long as the scrubbing inversion: it retraces the levels the
    /// inversion passed, so a photo comes back closer than through a preset's; a denoiser
    /// opens on the 2-step preset.
    pub fn for_ladders(ladders: impl Into<LadderStyle>) -> Self {
        let ladders = ladders.into();
        let mut timeline = Self {
            ladders,
            ..Self::default()
        };
        if ladders.kind == Ladders::Plain {
            timeline.ladder_nfe = timeline.inversion_nfe;
            timeline.take_ladder();
        }
        timeline
    }

    /// The model changed: its ladders may take other hops, so a ladder plan is rebuilt.
    pub fn set_ladders(&mut self, ladders: impl Into<LadderStyle>) {
        let ladders = ladders.into();
        let was_ladder = self.is_ladder();
        self.ladders = ladders;
        self.ladder_nfe = self.ladder_nfe.max(shortest_ladder(ladders.kind));
        if was_ladder && let Ok(plan) = Plan::generation(ladders, self.ladder_nfe, SIGMA_MAX) {
            self.plan = plan;
        }
    }

    /// Switch to the ladder of `ladder_nfe` evaluations; the inversion takes as many.
    fn take_ladder(&mut self) {
        if let Ok(plan) = Plan::generation(self.ladders, self.ladder_nfe, SIGMA_MAX) {
            self.plan = plan;
            self.preset = None;
            self.error = None;
            self.inversion_nfe = self.ladder_nfe;
        }
    }

    /// Whether the plan is the ladder of `ladder_nfe` evaluations.
    fn is_ladder(&self) -> bool {
        self.preset.is_none()
            && Plan::generation(self.ladders, self.ladder_nfe, SIGMA_MAX)
                .is_ok_and(|p| p == self.plan)
    }

    fn set_op_level(&mut self, index: usize, sigma: f32) {
        if index == 0 {
            self.plan.start = sigma;
        } else if let Some(op) = self.plan.ops.get_mut(index - 1) {
            *op = match op {
                Op::Hop(_) => Op::Hop(sigma),
                Op::Noise(_) => Op::Noise(sigma),
                Op::Heun(_) => Op::Heun(sigma),
            };
        }
        self.preset = None;
        self.error = self.plan.validate().err().map(|e| e.to_string());
    }

    /// Draw the panel. `current` is the level the picture sits at (σ_min for the photo).
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        current: f32,
        busy: bool,
        has_doc: bool,
    ) -> Option<TimelineAction> {
        let mut action = None;
        ui.horizontal(|ui| {
            ui.label("Plan:");
            for preset in GenerationPreset::ALL {
                let selected = self.preset == Some(preset);
                if ui
                    .selectable_label(selected, preset.name())
                    .on_hover_text(match preset {
                        GenerationPreset::OneStep => "One jump from pure noise to a clean image (1 NFE).",
                        GenerationPreset::TwoStep => "80 > 2.4 > 0.002: two jumps, sharper (2 NFE).",
                        GenerationPreset::Zigzag => "One jump down, small fresh noise, amplified to 1.2 by the BCM, down again (3 NFE).",
                        GenerationPreset::Mixed => "Two-step, then a zigzag refinement (4 NFE).",
                    })
                    .clicked()
                {
                    self.plan = preset.plan_from(SIGMA_MAX);
                    self.preset = Some(preset);
                    self.error = None;
                }
            }
            let ladder = self.is_ladder();
            let hint = match self.ladders.kind {
                Ladders::Heun => "Second-order (Heun) hops evenly spaced in log σ down from 80, two evaluations each: this model acts as a denoiser, so they follow the ODE closely. With the same inversion NFE (set with it) a photo comes back through noise much closer to itself than with 2 + 2, and almost exactly from 32 NFE on (the model card has the numbers). Below 32 an even count generates with one NFE more: as many Heun hops as the inversion, then a plain one to the clean end.",
                Ladders::Plain => "Plain hops of the BCM evenly spaced in log σ down from 80, one evaluation each: this model was trained to follow the ODE itself. With the same inversion NFE (set with it) the ladders retrace each other, so a photo comes back through noise closer to itself than with a preset; 1 NFE starts from more noise (0.4), which one hop carries better. At 32 NFE the ladders are Heun hops from the clean photo itself, retraced on the way back, which brings it back almost exactly (the model card has the numbers).",
            };
            if ui
                .selectable_label(ladder, "ladder")
                .on_hover_text(hint)
                .clicked()
            {
                self.take_ladder();
            }
            if ui.add(egui::DragValue::new(&mut self.ladder_nfe).range(shortest_ladder(self.ladders.kind)..=MAX_LADDER_NFE / 2).suffix(" NFE")).changed()
                && ladder
            {
                self.take_ladder();
            }
            ui.separator();
            ui.add(egui::Slider::new(&mut self.inversion_nfe, 1..=MAX_LADDER_NFE / 2).logarithmic(true).text("inversion NFE"))
                .on_hover_text(match self.ladders.kind {
                    Ladders::Heun => "Evaluations used to invert the photo when you scrub (2 = the reference's 0.07 > 15 > 80; beyond 4, Heun hops that follow the ODE closely; from 32, a ladder from the clean photo itself that comes back almost exactly).".to_owned(),
                    Ladders::Plain => plain_inversion_hint(self.ladders),
                });
            ui.separator();
            ui.label(format!("NFE {}", self.plan.nfe())).on_hover_text("Network evaluations this plan costs.");
            // Long plans are cut to the panel's width; the hover shows all of it.
            let text = self.plan.to_string();
            ui.add(egui::Label::new(egui::RichText::new(&text).monospace()).truncate()).on_hover_text(text);
        });
        if let Some(err) = &self.error {
            ui.colored_label(Color32::LIGHT_RED, err);
        }

        // Rows of 14 px, squeezed for long plans so the panel keeps its size.
        let row_step = (14.0f32).min(100.0 / (self.plan.ops.len() as f32 + 1.0));
        let height = 26.0 + row_step * (self.plan.ops.len() as f32 + 1.0);
        let (rect, response) = ui.allocate_exact_size(
            Vec2::new(ui.available_width(), height.max(80.0)),
            Sense::click_and_drag(),
        );
        let axis = Rect::from_min_max(
            rect.left_top() + Vec2::new(16.0, 4.0),
            rect.right_bottom() - Vec2::new(16.0, 20.0),
        );
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 4.0, Color32::from_gray(24));
        for &tick in &[0.002f32, 0.01, 0.07, 0.1, 1.0, 2.4, 10.0, 15.0, 80.0] {
            let x = x_of(axis, tick);
            painter.line_segment(
                [Pos2::new(x, axis.top()), Pos2::new(x, axis.bottom())],
                Stroke::new(1.0, Color32::from_gray(50)),
            );
            painter.text(
                Pos2::new(x, axis.bottom() + 2.0),
                egui::Align2::CENTER_TOP,
                format!("{tick}"),
                egui::FontId::proportional(10.0),
                Color32::GRAY,
            );
        }
        // Plan: row i is the level after i ops; hops solid, noise injections dashed.
        let row = |i: usize| axis.top() + 8.0 + row_step * i as f32;
        let mut points = vec![Pos2::new(x_of(axis, self.plan.start), row(0))];
        for (i, op) in self.plan.ops.iter().enumerate() {
            let p = Pos2::new(x_of(axis, op_level(op)), row(i + 1));
            let prev = points[i];
            match op {
                Op::Hop(_) | Op::Heun(_) => arrow(
                    &painter,
                    prev,
                    p,
                    Stroke::new(2.0, Color32::from_rgb(120, 180, 255)),
                ),
                Op::Noise(_) => {
                    painter.extend(egui::Shape::dashed_line(
                        &[prev, p],
                        Stroke::new(1.5, Color32::from_rgb(255, 200, 90)),
                        4.0,
                        3.0,
                    ));
                }
            }
            points.push(p);
        }
        for (i, p) in points.iter().enumerate() {
            let color = if self.dragging == Some(i) {
                Color32::WHITE
            } else {
                Color32::from_rgb(180, 210, 255)
            };
            painter.circle_filled(*p, 4.5, color);
        }
        // Where the picture is now.
        let cx = x_of(axis, current);
        painter.line_segment(
            [Pos2::new(cx, axis.top()), Pos2::new(cx, axis.bottom())],
            Stroke::new(2.0, Color32::from_rgb(120, 255, 140)),
        );
        painter.text(
            Pos2::new(cx + 4.0, axis.top()),
            egui::Align2::LEFT_TOP,
            "picture",
            egui::FontId::proportional(10.0),
            Color32::from_rgb(120, 255, 140),
        );
        // Scrubber.
        let sx = x_of(axis, self.scrub);
        painter.line_segment(
            [Pos2::new(sx, axis.top()), Pos2::new(sx, axis.bottom())],
            Stroke::new(1.5, Color32::from_rgb(255, 120, 200)),
        );
        painter.circle_filled(
            Pos2::new(sx, axis.bottom()),
            6.0,
            Color32::from_rgb(255, 120, 200),
        );

        if response.drag_started()
            && let Some(p) = response.interact_pointer_pos()
        {
            self.dragging = points.iter().position(|q| q.distance(p) < 9.0);
        }
        if response.dragged()
            && let Some(p) = response.interact_pointer_pos()
        {
            let sigma = sigma_at(axis, p.x);
            match self.dragging {
                Some(i) => self.set_op_level(i, (sigma * 1000.0).round() / 1000.0),
                None => self.scrub = sigma,
            }
        }
        if response.drag_stopped() {
            if self.dragging.take().is_none() && has_doc && !busy {
                action = Some(TimelineAction::InvertTo(self.scrub));
            }
        } else if response.clicked()
            && let Some(p) = response.interact_pointer_pos()
        {
            self.scrub = sigma_at(axis, p.x);
        }
        response.on_hover_text("Drag the pink marker to invert the photo to that noise level; drag the plan's points to edit it.");

        ui.horizontal(|ui| {
            ui.label(format!("scrub σ = {:.3}", self.scrub));
            let enabled = has_doc && !busy;
            if ui
                .add_enabled(enabled, egui::Button::new("Invert to σ"))
                .on_hover_text("Move the photo along the ODE to the scrubbed level (BCM inversion) and show it.")
                .clicked()
            {
                action = Some(TimelineAction::InvertTo(self.scrub));
            }
            let at_level = current > SIGMA_MIN * 1.01;
            let back = self.plan.rebased(current);
            let back_ok = back.validate().is_ok();
            let label = if at_level { format!("Generate back ({} NFE)", back.nfe()) } else { "Generate back".to_string() };
            if ui
                .add_enabled(enabled && at_level && back_ok, egui::Button::new(label))
                .on_hover_text("Run the plan from the picture's level down to a clean image; the result is staged.")
                .clicked()
            {
                action = Some(TimelineAction::GenerateBack(back));
            }
            if ui.add_enabled(at_level, egui::Button::new("Show photo")).on_hover_text("Leave the noisy view.").clicked() {
                action = Some(TimelineAction::ShowPhoto);
            }
        });
        action
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_that_follows_the_ode_opens_on_the_ladder_that_retraces_its_inversion() {
        let t = Timeline::for_ladders(Ladders::Plain);
        assert!(t.is_ladder() && t.preset.is_none(), "{}", t.plan);
        assert_eq!(t.plan.nfe(), t.inversion_nfe);
        let up = Plan::inversion(Ladders::Plain, t.inversion_nfe, SIGMA_MAX)
            .unwrap()
            .levels();
        let down = t.plan.levels();
        for level in &down[..down.len() - 1] {
            assert!(up.contains(level), "{level} not in {up:?}");
        }
        // A denoiser opens on the 2-step preset.
        let t = Timeline::for_ladders(Ladders::Heun);
        assert_eq!(t.preset, Some(GenerationPreset::TwoStep));
    }

    #[test]
    fn a_ladder_plan_follows_the_model_kind_and_a_preset_stays() {
        let mut t = Timeline::for_ladders(Ladders::Heun);
        t.plan = Plan::generation(Ladders::Heun, t.ladder_nfe, SIGMA_MAX).unwrap();
        t.preset = None;
        assert!(t.is_ladder());
        t.set_ladders(Ladders::Plain);
        assert!(t.is_ladder(), "{}", t.plan);
        assert!(
            t.plan.ops.iter().all(|op| matches!(op, Op::Hop(_))),
            "{}",
            t.plan
        );
        assert_eq!(t.plan.nfe(), t.ladder_nfe);
        // A 2-NFE plain ladder, back to a denoiser: its ladders start at 5 (2 is a preset).
        t.ladder_nfe = 2;
        t.plan = Plan::generation(Ladders::Plain, 2, SIGMA_MAX).unwrap();
        assert!(t.is_ladder());
        t.set_ladders(Ladders::Heun);
        assert_eq!(t.ladder_nfe, 5);
        assert!(t.is_ladder() && t.preset.is_none(), "{}", t.plan);
        assert!(t.plan.ops.iter().any(|op| matches!(op, Op::Heun(_))));
        // A preset is the same for every kind of model.
        let mut t = Timeline::default();
        let before = t.plan.clone();
        t.set_ladders(Ladders::Plain);
        assert_eq!(
            (t.plan.clone(), t.preset),
            (before, Some(GenerationPreset::TwoStep))
        );
    }
}
