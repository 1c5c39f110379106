//! What the editor does when asked: tasks, timeline, panel and interpolation actions.

use super::*;

impl Editor {
    /// The JPEG tables a restoration may use: asked for, from a JPEG file, and the photo
    /// unchanged since (the file says nothing about edited pixels).
    fn restore_jpeg(&mut self, kind: TaskKind, s: &TaskSettings) -> Option<JpegTables> {
        let doc = self.doc.as_ref()?;
        if kind != TaskKind::Restore || !s.restore_jpeg || doc.jpeg.is_none() {
            return None;
        }
        let tables = doc.jpeg_if_unchanged().cloned();
        if tables.is_none() {
            self.info(
                "the photo changed since it was opened: restoring without the JPEG file's constraint",
            );
        }
        tables
    }

    /// Start the selected task on the open photo.
    pub fn run_task(&mut self, kind: TaskKind) {
        let s = self.tasks.clone();
        let seed = s.seed;
        let jpeg = self.restore_jpeg(kind, &s);
        let job = match (kind, &self.doc) {
            (TaskKind::Generate, _) => {
                let ladder = s.gen_ladder.then_some(s.gen_ladder_nfe);
                let plan =
                    match Plan::preset_or_ladder(self.model.ladders, s.gen_preset, ladder, 80.0) {
                        Ok(plan) => plan,
                        Err(e) => return self.error(e.to_string()),
                    };
                let params = GenerateParams {
                    width: s.gen_width,
                    height: s.gen_height,
                    plan,
                    seed,
                };
                let purpose = JobPurpose::Stage {
                    label: "generate".into(),
                    command: "generate".into(),
                    params: json!({}),
                    seed,
                };
                return self.submit(Job::Generate { params }, purpose);
            }
            (_, None) => return self.error("open a photo first"),
            (TaskKind::Inpaint, Some(doc)) => {
                if doc.mask.is_empty() {
                    return self.error("paint the area to inpaint first (B)");
                }
                let params = s.inpaint_params(seed);
                let p = serde_json::to_value(&params).unwrap_or_default();
                (
                    Job::Inpaint {
                        image: doc.image.clone(),
                        mask: doc.mask.clone(),
                        params,
                    },
                    ("inpaint", p),
                )
            }
            (TaskKind::Restore, Some(doc)) => {
                let quality = jpeg.as_ref().map(|t| t.quality());
                let params = RestoreParams {
                    sigma: s.restore_sigma,
                    passes: s.restore_passes,
                    seed,
                    damage: s.restore_damage,
                    mirrors: s.restore_mirrors,
                    jpeg,
                };
                (
                    Job::Restore {
                        image: doc.image.clone(),
                        params,
                    },
                    (
                        "restore",
                        json!({"sigma": s.restore_sigma, "damage": s.restore_damage, "passes": s.restore_passes, "mirrors": s.restore_mirrors, "jpeg_quality": quality}),
                    ),
                )
            }
            (TaskKind::Edit, Some(doc)) => {
                if doc.stroke_alpha.is_empty() {
                    return self.error("paint colour strokes first (P)");
                }
                let preset = crate::engine::GenerationPreset::for_nfe(s.edit_nfe)
                    .unwrap_or(crate::engine::GenerationPreset::TwoStep);
                let params = EditParams {
                    sigma: s.edit_sigma,
                    preset,
                    seed,
                    ..EditParams::default()
                };
                let (edited, region) = doc.edited();
                (
                    Job::Edit {
                        edited,
                        region,
                        params,
                    },
                    ("edit", json!({"sigma": s.edit_sigma})),
                )
            }
        };
        let (job, (command, params)) = job;
        let purpose = JobPurpose::Stage {
            label: command.into(),
            command: command.into(),
            params,
            seed,
        };
        self.submit(job, purpose);
    }

    pub(super) fn timeline_action(&mut self, action: TimelineAction) {
        let Some(doc) = &mut self.doc else { return };
        match action {
            TimelineAction::InvertTo(sigma) => {
                if sigma <= 0.075 {
                    doc.level = None;
                    self.canvas.level_changed();
                    return;
                }
                match Plan::inversion(self.model.ladders, self.timeline.inversion_nfe, sigma) {
                    Ok(plan) => {
                        let job = Job::RunPlan {
                            image: doc.image.clone(),
                            plan,
                            seed: self.tasks.seed,
                        };
                        self.submit(job, JobPurpose::Level(sigma));
                    }
                    Err(e) => self.error(e.to_string()),
                }
            }
            TimelineAction::GenerateBack(plan) => {
                let Some(level) = &doc.level else { return };
                let job = Job::RunPlan {
                    image: level.latent.clone(),
                    plan: plan.clone(),
                    seed: self.tasks.seed,
                };
                let purpose = JobPurpose::Stage {
                    label: "timeline".into(),
                    command: "timeline".into(),
                    params: json!({"from": level.sigma}),
                    seed: self.tasks.seed,
                };
                self.submit(job, purpose);
            }
            TimelineAction::ShowPhoto => {
                doc.level = None;
                self.canvas.level_changed();
            }
        }
    }

    pub(super) fn panel_action(&mut self, action: PanelAction) {
        match action {
            PanelAction::Run(kind) => self.run_task(kind),
            PanelAction::InvertMask => {
                let dirty = self.doc.as_mut().map(|d| {
                    let inverted = d.mask.invert();
                    d.set_mask(inverted)
                });
                self.refresh(dirty);
            }
            PanelAction::ClearMask => {
                let dirty = self.doc.as_mut().map(|d| {
                    let empty = Mask::empty(d.width(), d.height());
                    d.set_mask(empty)
                });
                self.refresh(dirty);
            }
            PanelAction::ClearStrokes => {
                let dirty = self.doc.as_mut().map(|d| d.clear_strokes());
                self.refresh(dirty);
            }
            PanelAction::LoadMask => self.files.pick_open(Purpose::Mask),
            PanelAction::SaveMask => {
                if let Some(doc) = &self.doc {
                    self.pending_save = Some(SaveTarget::Mask(doc.mask.clone()));
                    self.files.pick_save(SaveKind::Mask, "mask.png");
                }
            }
        }
    }

    pub(super) fn interp_action(&mut self, action: InterpAction) {
        match action {
            InterpAction::PickSecond => self.files.pick_open(Purpose::SecondPicture),
            InterpAction::Prepare => {
                let (Some(doc), Some((_, b))) = (&self.doc, &self.interp.second) else {
                    return;
                };
                let generation = match self.interp.frame_plan(self.model.ladders) {
                    Ok(plan) => plan,
                    Err(e) => return self.error(e.to_string()),
                };
                let job = Job::PrepareInterpolation {
                    a: doc.image.clone(),
                    b: b.clone(),
                    sigma: self.interp.sigma,
                    nfe: self.interp.nfe,
                    generation,
                    seed: self.tasks.seed,
                };
                self.submit(job, JobPurpose::Interpolation);
            }
            InterpAction::Frame {
                alpha,
                preview_scale,
            } => self.request_frame(alpha, preview_scale),
            InterpAction::ExportFrame => {
                if let Some((alpha, img, _)) = &self.interp.frame {
                    let name = format!("frame-{:.2}.png", alpha);
                    self.pending_save = Some(SaveTarget::Frame(img.clone()));
                    self.files.pick_save(SaveKind::Frame, &name);
                }
            }
            InterpAction::ExportStrip(frames) => {
                self.submit(
                    Job::InterpolationStrip {
                        frames,
                        seed: self.tasks.seed,
                    },
                    JobPurpose::Strip,
                );
            }
        }
    }

    pub(super) fn request_frame(&mut self, alpha: f32, preview_scale: usize) {
        let job = Job::InterpolationFrame {
            alpha,
            preview_scale,
            seed: self.tasks.seed,
        };
        self.submit(job, JobPurpose::Frame);
    }
}
