//! The open picture: pixels, mask, colour strokes, history, and where it came from. Results
//! from the engine go to a staging slot first and touch the document only when accepted.

use std::cell::Cell;
use std::path::PathBuf;

use image::DynamicImage;

use super::history::{Change, History, Layer, Layers, mask_rect};
use super::restore_panel::PhotoDamage;
use crate::engine::jpeg::JpegTables;
use crate::engine::mask::{Mask, Rect};
use crate::engine::planar::Planar;
use crate::photo::{Photo, Recipe};

/// A result waiting to be accepted or discarded.
#[derive(Debug, Clone)]
pub struct Staged {
    pub image: Planar,
    /// Where the result applies (None: everywhere).
    pub mask: Option<Mask>,
    pub label: String,
    pub recipe: Recipe,
}

/// The photo as the timeline shows it at a noise level.
#[derive(Debug, Clone)]
pub struct LevelView {
    pub sigma: f32,
    pub latent: Planar,
}

#[derive(Debug)]
pub struct Document {
    pub path: Option<PathBuf>,
    /// The name shown while there is no path (a bundled sample).
    pub title: Option<String>,
    /// The file as decoded: pixel format, bit depth and alpha for saving.
    pub original: DynamicImage,
    pub image: Planar,
    pub mask: Mask,
    pub stroke_color: Planar,
    pub stroke_alpha: Mask,
    pub history: History,
    pub staged: Option<Staged>,
    pub level: Option<LevelView>,
    /// Recipe of the last accepted result (written into saved PNGs).
    pub recipe: Option<Recipe>,
    /// The file's EXIF and colour profile, written into what is saved.
    pub metadata: crate::photo::Metadata,
    /// The quantisation tables of the JPEG file the photo came from.
    pub jpeg: Option<JpegTables>,
    /// What is known about the photo's damage when it was opened (kept, not recomputed:
    /// the panel shows it every frame).
    pub damage: PhotoDamage,
    /// Whether the pixels still equal the decoded file, as of a revision: compared at most
    /// once per revision (a full-image compare), and known without one right after opening.
    unchanged: Cell<(u64, bool)>,
    revision: u64,
    saved_revision: u64,
}

/// What must be redrawn after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dirty {
    pub layer: Layer,
    pub rect: Rect,
}

impl Document {
    pub fn new(photo: Photo) -> Self {
        Self::titled(photo, None)
    }

    /// A document named `title` while it has no file of its own (a bundled sample).
    pub fn titled(photo: Photo, title: Option<String>) -> Self {
        let (w, h) = (photo.width(), photo.height());
        // The image was just made from the file, so it matches wherever that is exact.
        let exact = crate::photo::converts_exactly(&photo.original);
        Self {
            path: photo.path,
            title,
            original: photo.original,
            image: photo.rgb,
            mask: Mask::empty(w, h),
            stroke_color: Planar::zeros(3, h, w),
            stroke_alpha: Mask::empty(w, h),
            history: History::default(),
            staged: None,
            level: None,
            recipe: None,
            damage: PhotoDamage {
                noise: photo.noise,
                jpeg_quality: photo.jpeg.as_ref().map(JpegTables::quality),
            },
            jpeg: photo.jpeg,
            metadata: photo.metadata,
            unchanged: Cell::new((0, exact)),
            revision: 0,
            saved_revision: 0,
        }
    }

    pub fn width(&self) -> usize {
        self.image.width
    }

    pub fn height(&self) -> usize {
        self.image.height
    }

    pub fn full_rect(&self) -> Rect {
        Rect {
            y0: 0,
            x0: 0,
            y1: self.height(),
            x1: self.width(),
        }
    }

    /// The JPEG file's tables while the image still shows exactly what the file decodes to
    /// (after any edit the file no longer describes it).
    pub fn jpeg_if_unchanged(&self) -> Option<&JpegTables> {
        let jpeg = self.jpeg.as_ref()?;
        let (seen, same) = self.unchanged.get();
        let same = if seen == self.revision {
            same
        } else {
            let same = crate::photo::matches_decoded(&self.image, &self.original);
            self.unchanged.set((self.revision, same));
            same
        };
        same.then_some(jpeg)
    }

    /// Unsaved changes (strokes included: they are work too).
    pub fn is_dirty(&self) -> bool {
        self.revision != self.saved_revision
    }

    /// A picture that exists only in memory (generated) counts as unsaved work.
    pub fn mark_unsaved(&mut self) {
        self.revision += 1;
    }

    pub fn mark_saved(&mut self, path: PathBuf) {
        self.path = Some(path);
        self.saved_revision = self.revision;
    }

    pub fn name(&self) -> String {
        self.path
            .as_ref()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .or_else(|| self.title.clone())
            .unwrap_or_else(|| "untitled".into())
    }

    /// Step through history (`forward`: redo).
    fn step_history(&mut self, forward: bool) -> Option<Dirty> {
        let Document {
            history,
            image,
            mask,
            stroke_color,
            stroke_alpha,
            ..
        } = self;
        let mut layers = Layers {
            image,
            mask,
            stroke_color,
            stroke_alpha,
        };
        let (layer, rect) = if forward {
            history.redo(&mut layers)?
        } else {
            history.undo(&mut layers)?
        };
        self.revision += 1;
        Some(Dirty { layer, rect })
    }

    pub fn undo(&mut self) -> Option<Dirty> {
        self.step_history(false)
    }

    pub fn redo(&mut self) -> Option<Dirty> {
        self.step_history(true)
    }

    /// Record a finished mask stroke: `before` is the mask as it was when the stroke began.
    pub fn commit_mask_stroke(&mut self, before: &Mask, rect: Rect) {
        let change = Change::Mask {
            rect,
            before: mask_rect(before, rect),
            after: mask_rect(&self.mask, rect),
        };
        self.history.push(change);
        self.revision += 1;
    }

    pub fn commit_color_stroke(&mut self, before: &(Planar, Mask), rect: Rect) {
        let crop = |p: &Planar| p.crop(rect.y0, rect.x0, rect.height(), rect.width());
        let change = Change::Strokes {
            rect,
            before: (crop(&before.0), mask_rect(&before.1, rect)),
            after: (
                crop(&self.stroke_color),
                mask_rect(&self.stroke_alpha, rect),
            ),
        };
        self.history.push(change);
        self.revision += 1;
    }

    /// Replace the whole mask (load, clear, invert) as one undoable step.
    pub fn set_mask(&mut self, mask: Mask) -> Dirty {
        let before = self.mask.clone();
        self.mask = mask;
        let rect = self.full_rect();
        self.commit_mask_stroke(&before, rect);
        Dirty {
            layer: Layer::Mask,
            rect,
        }
    }

    /// Clear the colour strokes as one undoable step.
    pub fn clear_strokes(&mut self) -> Dirty {
        let before = (self.stroke_color.clone(), self.stroke_alpha.clone());
        self.stroke_alpha = Mask::empty(self.width(), self.height());
        let rect = self.full_rect();
        self.commit_color_stroke(&before, rect);
        Dirty {
            layer: Layer::Strokes,
            rect,
        }
    }

    /// The photo with the colour strokes painted over it, and their coverage.
    pub fn edited(&self) -> (Planar, Mask) {
        let n = self.image.pixels();
        let mut out = self.image.clone();
        for (i, &a) in self.stroke_alpha.data.iter().enumerate() {
            if a > 0.0 {
                for c in 0..3 {
                    let v = &mut out.data[c * n + i];
                    *v = *v * (1.0 - a) + self.stroke_color.data[c * n + i] * a;
                }
            }
        }
        (out, self.stroke_alpha.clone())
    }

    /// Put the staged result into the document as one undoable step. Only the rectangle the
    /// result's mask covers is stored and changed.
    pub fn accept_staged(&mut self) -> Option<Dirty> {
        let staged = self.staged.take()?;
        let rect = staged
            .mask
            .as_ref()
            .and_then(|m| m.bbox())
            .unwrap_or_else(|| self.full_rect());
        let before = self
            .image
            .crop(rect.y0, rect.x0, rect.height(), rect.width());
        let after = staged
            .image
            .crop(rect.y0, rect.x0, rect.height(), rect.width());
        self.image
            .paste(&after, 0, 0, rect.height(), rect.width(), rect.y0, rect.x0);
        let edit = staged.label.starts_with("edit");
        self.history.push(Change::Image {
            rect,
            before,
            after,
            label: staged.label,
        });
        self.recipe = Some(staged.recipe);
        self.revision += 1;
        if edit {
            // The strokes became content; clear them so they are not applied twice.
            self.clear_strokes();
        }
        Some(Dirty {
            layer: Layer::Image,
            rect,
        })
    }

    /// The image to save: the document's pixels in the original file's format. Pixels no
    /// accepted result touched are bit-identical to the file that was opened.
    pub fn export(&self) -> DynamicImage {
        crate::photo::compose(&self.image, Some(&self.original), None)
    }
}
