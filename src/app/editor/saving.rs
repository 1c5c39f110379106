//! Saving the document and other outputs (always through the background file writer).

use super::*;

impl Editor {
    /// Save the document to `path` (PNG with the recipe, JPEG with the chosen quality).
    pub fn save_document(&mut self, path: PathBuf) {
        let Some(doc) = &self.doc else { return };
        let image = doc.export();
        let recipe = doc.recipe.clone();
        let metadata = doc.metadata.clone();
        self.files.save(
            path,
            image,
            recipe,
            (
                SaveOptions {
                    jpeg_quality: self.save_quality,
                },
                metadata,
            ),
            true,
        );
    }

    pub(super) fn save_to(&mut self, kind: SaveKind, path: PathBuf) {
        match kind {
            SaveKind::Document => self.save_document(path),
            _ => {
                let Some(target) = self.pending_save.take() else {
                    return;
                };
                let image = match target {
                    SaveTarget::Mask(mask) => {
                        let gray = image::GrayImage::from_fn(
                            mask.width as u32,
                            mask.height as u32,
                            |x, y| {
                                image::Luma([(mask.data[y as usize * mask.width + x as usize]
                                    * 255.0)
                                    .round() as u8])
                            },
                        );
                        image::DynamicImage::ImageLuma8(gray)
                    }
                    SaveTarget::Frame(img) | SaveTarget::Strip(img) => {
                        crate::photo::compose(&img, None, None)
                    }
                };
                self.files.save(
                    path,
                    image,
                    None,
                    (
                        SaveOptions {
                            jpeg_quality: self.save_quality,
                        },
                        crate::photo::Metadata::default(),
                    ),
                    false,
                );
            }
        }
    }

    /// Save over the document's file, except a JPEG: writing over it re-encodes the photo
    /// (it loses a little more each time), so that is a choice made in the Save dialog.
    pub(super) fn save(&mut self) {
        match self.doc.as_ref().and_then(|d| d.path.clone()) {
            Some(path) if is_overwritable(&path) => self.save_document(path),
            _ => self.save_as(),
        }
    }

    pub(super) fn save_as(&mut self) {
        if self.doc.is_none() {
            return;
        }
        self.save_as_requested = true;
        let name = self.doc.as_ref().map(|d| d.name()).unwrap_or_default();
        let stem = std::path::Path::new(&name)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or(name);
        // Save as starts beside the photo, as a person expects of an editor.
        let folder = self
            .doc
            .as_ref()
            .and_then(|d| d.path.as_ref())
            .and_then(|p| p.parent())
            .map(PathBuf::from);
        // A JPEG stays a JPEG under a new name; anything else becomes a PNG with its recipe.
        let from_jpeg = self
            .doc
            .as_ref()
            .and_then(|d| d.path.as_deref())
            .is_some_and(|p| {
                matches!(
                    crate::photo::OutputFormat::from_path(p),
                    Ok(crate::photo::OutputFormat::Jpeg)
                )
            });
        let ext = if from_jpeg { "jpg" } else { "png" };
        self.files
            .pick_save_in(SaveKind::Document, &format!("{stem}-edited.{ext}"), folder);
    }
}

/// A file Save writes over without asking: a format it writes, and not a JPEG.
fn is_overwritable(path: &std::path::Path) -> bool {
    matches!(
        crate::photo::OutputFormat::from_path(path),
        Ok(crate::photo::OutputFormat::Png | crate::photo::OutputFormat::WebP)
    )
}
