//! Blend two models (a checkpoint merger): the shipped model or any run's newest EMA weights,
//! mixed weight by weight on a worker thread. The blend is saved under `runs/blends/` and sent
//! to the editor.

use std::sync::mpsc::{Receiver, channel};

use super::*;
use crate::engine::merge::{CardedModel, merge};
use crate::engine::weights;

/// A model the blend can take: what the user reads, a short name for files, its weights.
#[derive(Clone)]
struct Choice {
    label: String,
    slug: String,
    file: PathBuf,
}

/// What a blend sends back: where it was saved and the model.
type BlendResult = Result<(PathBuf, Bcm), String>;

pub struct BlendForm {
    /// The chosen models' weight files.
    pub first: Option<PathBuf>,
    pub second: Option<PathBuf>,
    /// Weight of the second model.
    pub weight: f32,
    pending: Option<Receiver<BlendResult>>,
}

impl Default for BlendForm {
    fn default() -> Self {
        Self {
            first: None,
            second: None,
            weight: 0.5,
            pending: None,
        }
    }
}

impl BlendForm {
    pub fn is_blending(&self) -> bool {
        self.pending.is_some()
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

/// Load both, name them by their choices (fine-tunes of one preset share a card name), blend
/// and save.
fn blend_files(
    first: &Choice,
    second: &Choice,
    weight: f32,
    out: &Path,
    device: &Device,
) -> BlendResult {
    let load = |c: &Choice| -> Result<CardedModel, String> {
        let (model, mut card) =
            weights::load_with_card(&c.file, device).map_err(|e| e.to_string())?;
        card.name = c.label.clone();
        Ok(CardedModel { model, card })
    };
    let blended = merge(load(first)?, &load(second)?, weight).map_err(|e| e.to_string())?;
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    weights::save(&blended.model, &blended.card, out).map_err(|e| e.to_string())?;
    Ok((out.to_path_buf(), blended.model))
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
        ui.add(egui::Slider::new(&mut self.blend.weight, 0.0..=1.0).text("weight of the second"))
            .on_hover_text(
                "Every weight becomes (1 − w)·first + w·second. Two fine-tunes of one model \
                 that trade one strength for another blend into one between them.",
            );
        let find = |chosen: &Option<PathBuf>| {
            choices
                .iter()
                .find(|c| Some(&c.file) == chosen.as_ref())
                .cloned()
        };
        let pair = find(&self.blend.first).zip(find(&self.blend.second));
        ui.horizontal(|ui| {
            let ready = pair.is_some() && !self.blend.is_blending();
            if ui
                .add_enabled(ready, egui::Button::new("Blend and use in editor"))
                .on_hover_text("Saves the blend under runs/blends/ and swaps the editor to it.")
                .clicked()
                && let Some((first, second)) = pair
            {
                self.start_blend(first, second);
            }
            if self.blend.is_blending() {
                ui.spinner();
                ui.label("blending…");
            }
        });
    }

    fn start_blend(&mut self, first: Choice, second: Choice) {
        let weight = self.blend.weight;
        let out = self.runs_dir.join("blends").join(format!(
            "{}+{}-{:02.0}.safetensors",
            first.slug,
            second.slug,
            weight * 100.0
        ));
        let (tx, rx) = channel();
        let (device, waker) = (self.device.clone(), self.waker.clone());
        std::thread::spawn(move || {
            let _ = tx.send(blend_files(&first, &second, weight, &out, &device));
            waker();
        });
        self.blend.pending = Some(rx);
        self.message = None;
    }

    pub(super) fn poll_blend(&mut self) {
        let Some(rx) = &self.blend.pending else {
            return;
        };
        let result = match rx.try_recv() {
            Ok(result) => result,
            Err(std::sync::mpsc::TryRecvError::Empty) => return,
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                Err("the blend stopped unexpectedly".into())
            }
        };
        self.blend.pending = None;
        match result {
            Ok((file, model)) => {
                self.message = Some((
                    format!(
                        "blended {}; saved as {}; the editor uses it now",
                        model.info.name,
                        file.display()
                    ),
                    false,
                ));
                self.for_editor = Some(model);
            }
            Err(e) => self.message = Some((format!("cannot blend: {e}"), true)),
        }
    }
}
