//! The active run: controls, live curves, rates and the sample grid.

use super::*;

/// What the two parts of a run's loss are, if it has two.
fn part_names(objective: Option<Objective>) -> Option<(&'static str, &'static str)> {
    match objective {
        Some(Objective::Bct) | None => Some(("CT term", "bidirectional term")),
        Some(Objective::Distill) => Some(("generation pairs", "inversion pairs")),
        Some(Objective::Ct | Objective::Denoise | Objective::Inpaint) => None,
    }
}

impl TrainingTab {
    pub(super) fn live_ui(&mut self, ui: &mut Ui, running: bool) {
        ui.heading("Active run");
        if self.live.run.is_none() {
            ui.label(if running {
                "starting…"
            } else {
                "no run active"
            });
            return;
        }
        ui.label(&self.live.summary);
        ui.horizontal(|ui| {
            ui.add_enabled_ui(running, |ui| {
                if self.live.paused {
                    if ui.button("Resume").clicked() {
                        self.send(Command::Resume);
                    }
                } else if ui.button("Pause").clicked() {
                    self.send(Command::Pause);
                }
                if ui
                    .button("Stop and save")
                    .on_hover_text("Write a checkpoint and end the run (resume it later).")
                    .clicked()
                {
                    self.send(Command::Stop);
                }
                if ui.button("Save now").clicked() {
                    self.send(Command::SaveNow);
                }
                if ui.button("Sample now").clicked() {
                    self.send(Command::SampleNow);
                }
            });
            if let Some(run) = self.live.run.clone()
                && ui
                    .add_enabled(
                        self.live.last_checkpoint.is_some(),
                        egui::Button::new("Use in editor"),
                    )
                    .clicked()
            {
                self.use_in_editor(&run);
            }
        });
        let rate = self.rate();
        let eta = rate.map(|r| self.live.until.saturating_sub(self.live.step) as f64 / r);
        let curriculum = match self.live.objective {
            Some(Objective::Bct | Objective::Ct) => format!(" · N(k) = {}", self.live.points),
            _ => String::new(),
        };
        ui.label(format!(
            "step {} / {}{curriculum} · {} · {} · ETA {}{}",
            self.live.step,
            self.live.until,
            rate.map_or("–".into(), |r| format!("{r:.2} steps/s")),
            rate.map_or("–".into(), |r| format!(
                "{:.1} images/s",
                r * self.live.images_per_step as f64
            )),
            eta.map_or("–".into(), |s| format!(
                "{}:{:02}:{:02}",
                (s / 3600.0) as u64,
                (s / 60.0) as u64 % 60,
                s as u64 % 60
            )),
            if self.live.paused { " · paused" } else { "" }
        ));
        ui.add(egui::Slider::new(&mut self.smoothing, 0.0..=0.99).text("smoothing"));
        let k = self.smoothing;
        let parts = part_names(self.live.objective);
        let (loss, ct, bcm) = (
            self.live.loss.clone(),
            self.live.ct.clone(),
            self.live.bcm.clone(),
        );
        Plot::new("loss")
            .height(220.0)
            .legend(Legend::default())
            .x_axis_label("step")
            .show(ui, move |p| {
                p.line(
                    Line::new("total (raw)", PlotPoints::from(loss.clone()))
                        .color(Color32::from_gray(90)),
                );
                p.line(Line::new("total", PlotPoints::from(smooth(&loss, k))));
                if let Some((first, second)) = parts {
                    p.line(Line::new(first, PlotPoints::from(smooth(&ct, k))));
                    p.line(Line::new(second, PlotPoints::from(smooth(&bcm, k))));
                }
            });
        let (p1, p2, p4, pd) = (
            self.live.psnr1.clone(),
            self.live.psnr2.clone(),
            self.live.psnr4.clone(),
            self.live.psnr_denoise.clone(),
        );
        Plot::new("psnr")
            .height(160.0)
            .legend(Legend::default())
            .x_axis_label("step")
            .y_axis_label("dB")
            .show(ui, move |p| {
                p.line(Line::new(
                    "reconstruction PSNR, NFE 1",
                    PlotPoints::from(p1),
                ));
                p.line(Line::new(
                    "reconstruction PSNR, NFE 2",
                    PlotPoints::from(p2),
                ));
                p.line(Line::new(
                    "reconstruction PSNR, NFE 4",
                    PlotPoints::from(p4),
                ));
                p.line(Line::new("denoising PSNR from σ 0.2", PlotPoints::from(pd)));
            });
        if let Some(sigma) = self.live.inversion_sigma {
            ui.label(format!("inversion to 80 reaches σ {sigma:.1}"))
                .on_hover_text("RMS of (latent - photo) after a one-hop inversion; 80 when exact. Well below 80, generation back from the latent fails and reconstruction PSNR drops.");
        }
        if self.live.sample_tex.is_none()
            && let Some(path) = &self.live.sample
            && let Ok(img) = crate::photo::load(path)
        {
            let rgba = img.original.to_rgba8();
            let ci = egui::ColorImage::from_rgba_unmultiplied(
                [rgba.width() as usize, rgba.height() as usize],
                rgba.as_raw(),
            );
            self.live.sample_tex = Some(ui.ctx().load_texture(
                "train-samples",
                ci,
                egui::TextureOptions::NEAREST,
            ));
        }
        if let Some(tex) = &self.live.sample_tex {
            ui.label("Samples: one-step generations (top), held-out photos, their reconstructions (NFE 2+2)");
            let size = tex.size_vec2();
            let scale = (ui.available_width() / size.x).min(3.0);
            ui.image((tex.id(), size * scale));
        }
    }

    pub(super) fn rate(&self) -> Option<f64> {
        let (t0, s0) = self.live.started?;
        let done = self.live.step.saturating_sub(s0) as f64;
        let secs = t0.elapsed().as_secs_f64();
        (done > 0.0 && secs > 0.0).then(|| done / secs)
    }
}
