//! The new-run form: its controls, folder choice and the measured estimate.

use super::*;
use crate::engine::plan::LADDER_FLOOR_RANGE;
use crate::engine::train::config::LrSchedule;

impl TrainingTab {
    pub(super) fn form_ui(&mut self, ui: &mut Ui, running: bool) {
        ui.heading("New run");
        let card = self.continue_card();
        let teachers = self.teacher_choices();
        let mut pick = false;
        ui.add_enabled_ui(!running, |ui| {
            let f = &mut self.form;
            ui.horizontal(|ui| {
                let label = ui.label("Photos folder").on_hover_text("A folder of .jpg/.png/.webp photos, searched recursively. 'data/photos' is where scripts/fetch-photos.sh puts the default training photos.");
                ui.text_edit_singleline(&mut f.data).labelled_by(label.id);
                if ui.button("Choose…").on_hover_text("Pick a folder of your photos.").clicked() {
                    pick = true;
                }
                if ui.button("fetched photos").on_hover_text("data/photos, filled by scripts/fetch-photos.sh").clicked() {
                    f.data = "data/photos".into();
                }
            });
            ui.horizontal(|ui| {
                let label = ui.label("Run name").on_hover_text("Folder under runs/ that keeps config, checkpoints, logs and samples.");
                ui.text_edit_singleline(&mut f.name).labelled_by(label.id);
            });
            egui::ComboBox::from_label("preset")
                .selected_text(&f.preset)
                .show_ui(ui, |ui| {
                    for p in UNetConfig::PRESETS {
                        if ui.selectable_label(f.preset == p, p).clicked() {
                            f.preset = p.into();
                            if let Ok(c) = TrainConfig::for_preset(p, PathBuf::new()) {
                                f.batch = c.batch;
                                f.patch = c.patch;
                                f.steps = c.total_steps;
                                f.warmup = c.warmup;
                            }
                        }
                    }
                })
                .response
                .on_hover_text("tiny: trains in minutes, for trying things out. photo: the editor's default architecture.");
            let shipped = &self.shipped_model;
            let selected = match &f.continue_from {
                None => "random weights".to_string(),
                Some(p) if p == shipped => "the shipped model".to_string(),
                Some(p) => p.display().to_string(),
            };
            egui::ComboBox::from_label("continue from")
                .selected_text(selected)
                .show_ui(ui, |ui| {
                    if ui.selectable_label(f.continue_from.is_none(), "random weights").clicked() {
                        f.continue_from = None;
                    }
                    if ui
                        .selectable_label(f.continue_from.as_ref() == Some(shipped), "the shipped model")
                        .on_hover_text("Goes on the way it was made (assets/MODEL.md): distillation from its teacher, photo-sized crops, half of them JPEG-damaged so Restore keeps its compression repair.")
                        .clicked()
                    {
                        f.continue_shipped(shipped.clone());
                    }
                    for run in &self.past {
                        if let Some(dir) = checkpoint::latest(&run.dir) {
                            let path = dir.join("ema.safetensors");
                            let label = format!("{} (step {})", run.name, run.step.unwrap_or(0));
                            if ui.selectable_label(f.continue_from.as_ref() == Some(&path), label).clicked() {
                                f.continue_from = Some(path);
                            }
                        }
                    }
                })
                .response
                .on_hover_text("Start from an existing model's weights (its architecture replaces the preset's).");
            if f.continue_from.is_some() {
                match &card {
                    Some(c) if !c.config.bidirectional && f.objective == Objective::Bct => {
                        ui.label("a consistency model: it will be fine-tuned into a BCM (u-branch added, starting equal to it)");
                    }
                    Some(c) => {
                        ui.label(format!("{} — {} steps", c.name, c.steps));
                    }
                    None => {
                        ui.colored_label(Color32::LIGHT_RED, "no readable model card next to this file");
                    }
                }
            }
            // The teacher is read as a denoiser, which a model that follows the ODE itself is
            // not: such a model needs the denoiser it came from as its teacher.
            let follows_ode = card.as_ref().is_some_and(|c| c.ladders == Ladders::Plain);
            ui.horizontal(|ui| {
                ui.label("objective");
                ui.selectable_value(&mut f.objective, Objective::Bct, "BCT")
                    .on_hover_text("Bidirectional consistency training: the model learns to jump both ways along the ODE.");
                ui.selectable_value(&mut f.objective, Objective::Ct, "CT only")
                    .on_hover_text("A one-directional consistency model; continue from it later as a BCM (the paper's fine-tuning route).");
                ui.selectable_value(&mut f.objective, Objective::Denoise, "denoising warm-up")
                    .on_hover_text("Teach the network to denoise first (fast, 4x cheaper steps); then continue from it with BCT.");
                ui.selectable_value(&mut f.objective, Objective::Inpaint, "inpainting")
                    .on_hover_text("Teach the model to fill holes: it also reads the photo with a hole blanked and the hole's mask (random boxes, strokes and blobs), and learns to fill it in one evaluation from the classical fill. Continue from a trained model: it starts as that model. Inpaint mask uses the result.");
                let can_distil = f.continue_from.is_some() && (!follows_ode || !teachers.is_empty());
                ui.add_enabled_ui(can_distil, |ui| {
                    ui.selectable_value(&mut f.objective, Objective::Distill, "distillation")
                        .on_hover_text("Distil into a few-step BCM: the model learns where a denoiser's ODE carries an image, both ways (the denoiser is the model you continue from, or for a model that already follows the ODE, the teacher it was distilled from).")
                        .on_disabled_hover_text(if follows_ode {
                            "This model already follows the ODE itself (consistency-trained or distilled): continuing its distillation needs the denoiser it was distilled from as the teacher, and none was found (assets/bcm-teacher.safetensors, or a distillation run's copy under runs/)."
                        } else {
                            "Choose a model to continue from: it is the one distilled."
                        });
                });
                if !can_distil && f.objective == Objective::Distill {
                    f.objective = Objective::Bct;
                }
            });
            if !follows_ode || f.objective != Objective::Distill {
                f.teacher = None;
            } else {
                if !f.teacher.as_ref().is_some_and(|t| teachers.iter().any(|(_, p)| p == t)) {
                    f.teacher = teachers.first().map(|(_, p)| p.clone());
                }
                let selected = teachers
                    .iter()
                    .find(|(_, p)| Some(p) == f.teacher.as_ref())
                    .map_or("", |(label, _)| label.as_str());
                egui::ComboBox::from_label("teacher")
                    .selected_text(selected)
                    .show_ui(ui, |ui| {
                        for (label, path) in &teachers {
                            if ui.selectable_label(f.teacher.as_ref() == Some(path), label).clicked() {
                                f.teacher = Some(path.clone());
                            }
                        }
                    })
                    .response
                    .on_hover_text("The denoiser whose ODE the model goes on learning: the one it was distilled from.");
            }
            if f.objective == Objective::Distill {
                ui.add(egui::Slider::new(&mut f.denoise_share, 0.0..=1.0).text("denoising share"))
                    .on_hover_text("Share of crops that also train plain denoising at low noise levels, which keeps the model the denoiser Restore needs.");
                if f.denoise_share > 0.0 {
                    ui.add(egui::Slider::new(&mut f.denoise_weight, 0.0..=32.0).logarithmic(true).smallest_positive(0.01).text("denoising weight"))
                        .on_hover_text("Weight of that denoising against the pairs'. Raise it with the round trip weight, or Restore slowly loses its compression repair.");
                }
                ui.add(egui::Slider::new(&mut f.round_trips, 0..=f.batch).text("round trips"))
                    .on_hover_text("Crops per step that also go through the model's own short round trip (inverted to 80 and generated back) and are compared with themselves: trains what a short inversion and generation cost a photo.");
                if f.round_trips > 0 {
                    ui.horizontal(|ui| {
                        ui.label("round trip NFE");
                        ui.selectable_value(&mut f.round_trip_lengths, vec![2], "2")
                            .on_hover_text("Always the 2-NFE round trip (from the floor up to 80 through one level between, and back), the one the editor inverts with by default.");
                        ui.selectable_value(&mut f.round_trip_lengths, vec![1, 2], "1 or 2")
                            .on_hover_text("The 1- or the 2-NFE round trip, drawn at every step: the one-hop inversion and generation improve too, the 2-NFE ones less.");
                        ui.selectable_value(&mut f.round_trip_lengths, vec![2, 4], "2 or 4")
                            .on_hover_text("The 2- or the 4-NFE round trip, drawn at every step: trains the 4-NFE ladder too (trained on 2 only, it falls behind the 2-NFE one); steps cost about a fifth more.");
                        ui.selectable_value(&mut f.round_trip_lengths, vec![2, 2, 4], "2, 2 or 4")
                            .on_hover_text("The 2-NFE round trip twice as often as the 4-NFE one: favours the ladder the editor inverts with by default, and keeps the 4-NFE one trained.");
                    });
                    ui.add(egui::Slider::new(&mut f.round_trip_weight, 0.0..=256.0).logarithmic(true).smallest_positive(0.1).text("round trip weight"))
                        .on_hover_text("Weight of the round trips' error against the pairs': more favours bringing photos back over following the teacher's ODE hop by hop.");
                    ui.add(egui::Slider::new(&mut f.ladder_floor, LADDER_FLOOR_RANGE).logarithmic(true).text("ladder floor"))
                        .on_hover_text("Noise added to a photo before a round trip climbs, and where the teacher's paths start; the model's card keeps it, so its ladders start there too. The reference starts at 0.07; lower buries less of the photo, which the round trips learn to bring back.");
                }
            }
            let denoises = f.objective == Objective::Denoise
                || (f.objective == Objective::Distill && f.denoise_share > 0.0);
            if denoises {
                ui.add(egui::Slider::new(&mut f.jpeg_fraction, 0.0..=1.0).text("JPEG inputs"))
                    .on_hover_text("Share of crops JPEG-compressed (quality 8-60) before the noise, the target staying clean: the model learns to remove compression damage, which Restore relies on.");
            }
            ui.add(egui::Slider::new(&mut f.batch, 1..=64).text("batch")).on_hover_text("Crops per step. Memory grows with it.");
            ui.add(egui::Slider::new(&mut f.patch, 16..=256).step_by(16.0).text("patch px")).on_hover_text("Side of the square training crops.");
            ui.add(egui::Slider::new(&mut f.lr, 1e-5..=1e-3).logarithmic(true).text("learning rate")).on_hover_text("Adam learning rate after the warm-up.");
            ui.add(egui::Slider::new(&mut f.warmup, 0..=5000).logarithmic(true).text("warm-up steps")).on_hover_text("Steps over which the rate climbs from nothing to the learning rate: a fresh optimiser takes its first steps gently.");
            ui.checkbox(&mut f.cosine, "cosine decay").on_hover_text("After the warm-up, ease the rate down to a tenth of it by the last planned step: a fine-tune that has levelled off settles further.");
            ui.add(egui::Slider::new(&mut f.steps, 10..=200_000).logarithmic(true).text("steps")).on_hover_text("Planned length; sets the discretisation curriculum N(k).");
            ui.add(egui::Slider::new(&mut f.checkpoint_every, 10..=5000).logarithmic(true).text("checkpoint every")).on_hover_text("A kill loses at most this many steps.");
            ui.add(egui::Slider::new(&mut f.sample_every, 10..=5000).logarithmic(true).text("samples every")).on_hover_text("Sample grid and validation PSNR interval.");
            // A run that continues from a model keeps that model's architecture.
            match &card {
                Some(c) => ui.label(format!("{:.2} M parameters (the model's own architecture)", c.config.param_count() as f64 / 1e6)),
                None => {
                    let cfg = UNetConfig::preset(&f.preset).unwrap_or_else(UNetConfig::tiny);
                    ui.label(format!("{:.2} M parameters", cfg.param_count() as f64 / 1e6))
                }
            };
        });
        if pick {
            self.pick_folder();
        }
        ui.horizontal(|ui| {
            if ui
                .add_enabled(!running && self.pending.is_none(), egui::Button::new("Measure"))
                .on_hover_text("Time two training steps with these settings: seconds per step, images per second, ETA, memory.")
                .clicked()
            {
                self.measure();
            }
            if ui
                .add_enabled(!running, egui::Button::new("Start"))
                .on_hover_text("Train in the background; the editor stays usable.")
                .clicked()
            {
                self.start_new();
            }
        });
        if let Some(text) = &self.estimate_text {
            ui.label(text);
        }
    }

    /// The card of the model chosen to continue from; read from disk only when the choice
    /// changes, not every frame.
    fn continue_card(&mut self) -> Option<ModelCard> {
        let path = self.form.continue_from.as_ref()?;
        match &self.continue_card {
            Some((cached, card)) if cached == path => card.clone(),
            _ => {
                let card = crate::engine::weights::read_card(path).ok();
                self.continue_card = Some((path.clone(), card.clone()));
                card
            }
        }
    }

    /// Teachers a distillation of a model that follows the ODE can take: the shipped model's,
    /// and the copies distillation runs keep, as (label, file).
    fn teacher_choices(&self) -> Vec<(String, PathBuf)> {
        self.shipped_teacher
            .iter()
            .map(|path| ("the shipped model's teacher".to_string(), path.clone()))
            .chain(self.past.iter().filter_map(|run| {
                let path = run.teacher.clone()?;
                Some((format!("{}'s teacher", run.name), path))
            }))
            .collect()
    }

    /// Ask for the photos folder: the editor's dialogs answer through
    /// [`TrainingTab::set_photos_folder`].
    pub(super) fn pick_folder(&mut self) {
        self.folder_wanted = true;
    }

    /// Whether the photos folder button was pressed since the last call.
    pub fn take_folder_request(&mut self) -> bool {
        std::mem::take(&mut self.folder_wanted)
    }

    /// The folder chosen for the photos.
    pub fn set_photos_folder(&mut self, folder: &std::path::Path) {
        self.form.data = folder.display().to_string();
    }

    /// Time two steps of the form's settings (after an untimed one that compiles kernels) as
    /// a worker job.
    pub fn measure(&mut self) {
        match self.config_from_form() {
            Ok(config) => {
                self.send_job(Job::MeasureTraining(Box::new(config)), TabJob::Measure);
                self.estimate_text = Some("measuring two training steps…".into());
            }
            Err(e) => self.estimate_text = Some(e),
        }
    }

    /// What a measurement found, as the form shows it.
    pub(super) fn measured(&mut self, seconds_per_step: f64, batch: usize, peak_mib: Option<f64>) {
        let memory = peak_mib.map_or(String::new(), |m| format!("; app peak memory {m:.0} MiB"));
        self.estimate_text = Some(format!(
            "measured: {seconds_per_step:.2} s/step, {:.1} images/s, ETA for {} steps {:.1} h{memory}",
            batch as f64 / seconds_per_step,
            self.form.steps,
            seconds_per_step * self.form.steps as f64 / 3600.0,
        ));
    }

    /// The config the form describes (validated when the run starts).
    pub fn config_from_form(&self) -> Result<TrainConfig, String> {
        let f = &self.form;
        let mut config = TrainConfig::for_preset(&f.preset, PathBuf::from(f.data.trim()))
            .map_err(|e| e.to_string())?;
        config.set_batch(f.batch);
        config.patch = f.patch;
        config.lr = f.lr;
        config.warmup = f.warmup;
        if f.cosine {
            config.lr_schedule = LrSchedule::Cosine;
        }
        config.total_steps = f.steps;
        config.checkpoint_every = f.checkpoint_every;
        config.sample_every = f.sample_every;
        config.validate_every = f.sample_every;
        config.init = f.continue_from.clone();
        config.set_objective(f.objective);
        if f.objective == Objective::Distill {
            config.teacher = f.teacher.clone();
            config.denoise_share = f.denoise_share;
            config.denoise_weight = f.denoise_weight;
            config.round_trips = f.round_trips.min(f.batch);
            if config.round_trips > 0 {
                config.set_round_trip_choices(&f.round_trip_lengths);
                config.round_trip_weight = f.round_trip_weight;
                config.ladder_floor = f.ladder_floor;
            }
        }
        if config.objective == Objective::Denoise || config.denoise_share > 0.0 {
            config.jpeg_fraction = f.jpeg_fraction;
        }
        Ok(config)
    }
}
