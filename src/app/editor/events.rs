//! Results coming back from the worker and from file operations.

use super::*;

impl Editor {
    pub(super) fn handle_worker_events(&mut self) {
        for event in self.worker.poll() {
            match event {
                Event::Progress { progress, .. } => self.progress = Some(progress),
                Event::Cancelled { id } => {
                    if matches!(self.purposes.remove(&id), Some(JobPurpose::Training)) {
                        self.training.job_stopped("cancelled");
                    }
                    self.progress = None;
                    self.info("cancelled; nothing was changed");
                }
                Event::Failed { id, message } => {
                    let purpose = self.purposes.remove(&id);
                    self.progress = None;
                    match purpose {
                        Some(JobPurpose::Model) => {
                            self.error(format!("the model was not changed: {message}"))
                        }
                        Some(JobPurpose::Training) => self.training.job_stopped(&message),
                        _ => self.error(message),
                    }
                }
                Event::Finished { id, output } => {
                    self.progress = None;
                    let purpose = self.purposes.remove(&id);
                    self.finish(purpose, output);
                }
            }
        }
    }

    pub(super) fn finish(&mut self, purpose: Option<JobPurpose>, output: JobOutput) {
        match (purpose, output) {
            (
                Some(JobPurpose::Stage {
                    label,
                    command,
                    params,
                    seed,
                }),
                JobOutput::Image {
                    image,
                    mask,
                    nfe,
                    schedule,
                },
            ) => {
                let recipe = self.recipe(&command, schedule, seed, nfe, params);
                match &mut self.doc {
                    Some(doc) if image.width == doc.width() && image.height == doc.height() => {
                        doc.staged = Some(Staged {
                            image,
                            mask,
                            label,
                            recipe,
                        });
                        doc.level = None;
                        self.canvas.level_changed();
                        self.canvas.staged_changed();
                        self.canvas.split = 0.5;
                        self.info(format!(
                            "{command} done ({nfe} NFE): compare, then Accept or Discard"
                        ));
                    }
                    _ => {
                        // A generated picture becomes a new document.
                        let img = crate::photo::compose(&image, None, None);
                        let mut doc = Document::new(Photo::from_image(img, None));
                        doc.recipe = Some(recipe);
                        doc.mark_unsaved();
                        if self.replace_document(doc) {
                            self.info(format!("{command} done ({nfe} NFE)"));
                        }
                    }
                }
            }
            (Some(JobPurpose::Level(sigma)), JobOutput::Image { image, nfe, .. }) => {
                if let Some(doc) = &mut self.doc {
                    doc.level = Some(LevelView {
                        sigma,
                        latent: image,
                    });
                    self.canvas.level_changed();
                    self.info(format!("inverted to σ = {sigma:.3} ({nfe} NFE)"));
                }
            }
            (Some(JobPurpose::Interpolation), JobOutput::InterpolationReady { nfe }) => {
                self.interp.ready = true;
                self.info(format!(
                    "both pictures inverted ({nfe} NFE); slide between them"
                ));
                self.request_frame(self.interp.alpha, 1);
            }
            (
                _,
                JobOutput::Frame {
                    alpha,
                    image,
                    preview,
                },
            ) => self.interp.set_frame(alpha, image, preview),
            (Some(JobPurpose::Strip), JobOutput::Image { image, .. }) => {
                self.pending_save = Some(SaveTarget::Strip(image));
                self.files.pick_save(SaveKind::Strip, "interpolation.png");
            }
            (_, JobOutput::ModelChanged { info }) => self.model_changed(info),
            (_, output @ JobOutput::Blended { .. }) => {
                self.training.job_finished(&output);
                if let JobOutput::Blended { info, .. } = output {
                    self.model_changed(info);
                }
            }
            (_, output @ JobOutput::Measured { .. }) => self.training.job_finished(&output),
            (_, other) => self.error(format!(
                "unexpected result {:?}",
                std::mem::discriminant(&other)
            )),
        }
    }

    /// The worker uses another model now.
    fn model_changed(&mut self, info: ModelInfo) {
        self.info(format!("the editor now uses {}", info.name));
        self.timeline.set_ladders(info.ladders);
        // The worker dropped the latents the old model made: invert again.
        self.interp.invalidate();
        self.model = info;
    }

    pub(super) fn handle_file_events(&mut self) {
        for event in self.files.poll() {
            match event {
                FileEvent::Loaded {
                    purpose: Purpose::Document,
                    photo,
                } => {
                    if let Some(path) = &photo.path {
                        self.files.remember(path);
                    }
                    let name = photo
                        .path
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default();
                    self.open_document(Document::new(*photo), name);
                }
                FileEvent::SampleLoaded { name, photo } => {
                    let doc = Document::titled(*photo, Some(name.to_string()));
                    self.open_document(doc, format!("the sample {name}"));
                }
                FileEvent::Loaded {
                    purpose: Purpose::SecondPicture,
                    photo,
                } => self.set_second(*photo),
                FileEvent::Loaded {
                    purpose: Purpose::Mask,
                    photo,
                } => {
                    let mask = crate::photo::mask_from_image(&photo.original);
                    if let Some(doc) = &mut self.doc {
                        if (mask.width, mask.height) != (doc.width(), doc.height()) {
                            let msg = format!(
                                "the mask is {}x{} but the photo is {}x{}",
                                mask.width,
                                mask.height,
                                doc.width(),
                                doc.height()
                            );
                            self.error(msg);
                        } else {
                            let dirty = doc.set_mask(mask);
                            self.refresh(Some(dirty));
                        }
                    }
                }
                FileEvent::Saved { path, document } => {
                    if document && let Some(doc) = &mut self.doc {
                        doc.mark_saved(path.clone());
                    }
                    self.files.remember(&path);
                    self.info(format!("saved {}", path.display()));
                }
                FileEvent::Failed { message } => self.error(message),
                FileEvent::ModelPicked { path } => self.load_model(ModelSource::File(path)),
                FileEvent::FolderPicked { path } => self.training.set_photos_folder(&path),
                FileEvent::Picked { path: None, .. } => self.pending_save = None,
                FileEvent::Picked {
                    purpose: Some(purpose),
                    path: Some(path),
                    ..
                } => self.files.load(path, purpose),
                FileEvent::Picked {
                    save: Some(kind),
                    path: Some(path),
                    ..
                } => self.save_to(kind, path),
                FileEvent::Picked { .. } => {}
            }
        }
    }

    /// Open `doc` (asking first over unsaved work) and suggest restore settings for its damage.
    fn open_document(&mut self, doc: Document, name: String) {
        let damage = doc.damage;
        if self.replace_document(doc) {
            self.tasks
                .suggest_restore(damage.noise, damage.jpeg_quality);
            match damage.describe() {
                Some(known) => self.info(format!(
                    "opened {name} ({known}: restore settings suggested for it)"
                )),
                None => self.info(format!("opened {name}")),
            }
        }
    }

    pub(super) fn set_second(&mut self, photo: Photo) {
        let name = photo
            .path
            .as_ref()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some((w, h)) = self.doc.as_ref().map(|d| (d.width(), d.height())) else {
            return self.error("open the first picture before choosing the second");
        };
        let rgb = if (photo.width(), photo.height()) == (w, h) {
            photo.rgb
        } else {
            self.info(format!(
                "{name} resized to {w}x{h} to match the first picture"
            ));
            let resized = photo.original.resize_exact(
                w as u32,
                h as u32,
                image::imageops::FilterType::Lanczos3,
            );
            crate::photo::planar_from_image(&resized)
        };
        self.interp.set_second(name, rgb);
    }
}
