//! Blend two models (a checkpoint merger): the shipped model or any run's newest EMA weights,
//! mixed weight by weight, or one moved by what a second has over a third (add difference).
//! The editor's worker does it (as a job, never beside another one); the result is saved
//! under `runs/blends/` and becomes the editor's model.

use super::*;
use crate::jobs::blend::{BlendRequest, NamedModel};

/// A model the blend can take: what the user reads, a short name for files, its weights.
#[derive(Clone)]
struct Choice {
    label: String,
    slug: String,
    file: PathBuf,
}

impl Choice {
    fn named(&self) -> NamedModel {
        NamedModel {
            file: self.file.clone(),
            name: self.label.clone(),
        }
    }
}

pub struct BlendForm {
    /// The chosen models' weight files.
    pub first: Option<PathBuf>,
    pub second: Option<PathBuf>,
    /// Add the second's difference from this one to the first instead of blending.
    pub difference_from: Option<PathBuf>,
    /// Weight of the second model (or of the difference).
    pub weight: f32,
}

impl Default for BlendForm {
    fn default() -> Self {
        Self {
            first: None,
            second: None,
            difference_from: None,
            weight: 0.5,
        }
    }
}

fn model_combo(ui: &mut Ui, label: &str, chosen: &mut Option<PathBuf>, choices: &[Choice]) {
    let shown = choices
        .iter()
        .find(|c| Some(&c.file) == chosen.as_ref())
        .map_or("choose…", |c| c.label.as_str());
    egui::ComboBox::from_label(label)
        .selected_text(shown)
        .show_ui(ui, |ui| {
            for c in choices {
                ui.selectable_value(chosen, Some(c.file.clone()), &c.label);
            }
        });
}

/// The third combo: none (a plain blend) or the model whose difference is taken.
fn difference_combo(
    ui: &mut Ui,
    chosen: &mut Option<PathBuf>,
    choices: &[Choice],
) -> egui::Response {
    let shown = choices
        .iter()
        .find(|c| Some(&c.file) == chosen.as_ref())
        .map_or("none (blend)", |c| c.label.as_str());
    egui::ComboBox::from_label("add difference from")
        .selected_text(shown)
        .show_ui(ui, |ui| {
            ui.selectable_value(chosen, None, "none (blend)");
            for c in choices {
                ui.selectable_value(chosen, Some(c.file.clone()), &c.label);
            }
        })
        .response
}

impl TrainingTab {
    /// The shipped model and every run with a checkpoint.
    fn blend_choices(&self) -> Vec<Choice> {
        let shipped = Choice {
            label: "the shipped model".into(),
            slug: "shipped".into(),
            file: self.shipped_model.clone(),
        };
        let runs = self.past.iter().filter_map(|run| {
            Some(Choice {
                label: format!("{} (step {})", run.name, run.step?),
                slug: run.name.clone(),
                file: run.checkpoint.as_ref()?.join("ema.safetensors"),
            })
        });
        std::iter::once(shipped)
            .filter(|_| self.shipped_model_on_disk)
            .chain(runs)
            .collect()
    }

    pub(super) fn blend_ui(&mut self, ui: &mut Ui) {
        ui.heading("Blend two models");
        let choices = self.blend_choices();
        model_combo(ui, "first model", &mut self.blend.first, &choices);
        model_combo(ui, "second model", &mut self.blend.second, &choices);
        difference_combo(ui, &mut self.blend.difference_from, &choices).on_hover_text(
            "Instead of blending, add what the second model has over this one to the \
                 first: a fine-tune's gain over its parent, carried to another model.",
        );
        let find = |chosen: &Option<PathBuf>| {
            choices
                .iter()
                .find(|c| Some(&c.file) == chosen.as_ref())
                .cloned()
        };
        let third = find(&self.blend.difference_from);
        let (label, hover) = match &third {
            Some(_) => (
                "weight of the difference",
                "Every weight becomes first + w·(second − third).",
            ),
            None => (
                "weight of the second",
                "Every weight becomes (1 − w)·first + w·second. Two fine-tunes of one model \
                 that trade one strength for another blend into one between them.",
            ),
        };
        ui.add(egui::Slider::new(&mut self.blend.weight, 0.0..=1.0).text(label))
            .on_hover_text(hover);
        let pair = find(&self.blend.first).zip(find(&self.blend.second));
        ui.horizontal(|ui| {
            let ready = pair.is_some() && self.pending.is_none();
            if ui
                .add_enabled(ready, egui::Button::new("Blend and use in editor"))
                .on_hover_text("Saves the blend under runs/blends/ and swaps the editor to it.")
                .clicked()
                && let Some((first, second)) = pair
            {
                self.start_blend(first, second, third);
            }
            if self.pending == Some(TabJob::Blend) {
                ui.spinner();
                ui.label("blending…");
            }
        });
    }

    fn start_blend(&mut self, first: Choice, second: Choice, third: Option<Choice>) {
        let weight = self.blend.weight;
        let minus = third
            .as_ref()
            .map_or(String::new(), |c| format!("-minus-{}", c.slug));
        let out = self.runs_dir.join("blends").join(format!(
            "{}+{}{minus}-{:02.0}.safetensors",
            first.slug,
            second.slug,
            weight * 100.0
        ));
        self.send_job(
            Job::Blend(Box::new(BlendRequest {
                first: first.named(),
                second: second.named(),
                difference_from: third.as_ref().map(Choice::named),
                weight,
                out,
            })),
            TabJob::Blend,
        );
    }

    /// A blend is saved and the editor uses it.
    pub(super) fn blend_finished(&mut self, file: &Path, name: &str) {
        self.message = Some((
            format!(
                "blended {name}; saved as {}; the editor uses it now",
                file.display()
            ),
            false,
        ));
    }
}
