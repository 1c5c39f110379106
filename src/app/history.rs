//! Undo/redo of strokes and applied results. Each change stores only the rectangle it
//! touched, before and after, so history stays small on large photos.

use crate::engine::mask::{Mask, Rect};
use crate::engine::planar::Planar;

/// One undoable change.
#[derive(Debug, Clone)]
pub enum Change {
    Mask {
        rect: Rect,
        before: Vec<f32>,
        after: Vec<f32>,
    },
    Image {
        rect: Rect,
        before: Planar,
        after: Planar,
        label: String,
    },
    /// Colour strokes for an edit: colour and coverage of the rectangle.
    Strokes {
        rect: Rect,
        before: (Planar, Vec<f32>),
        after: (Planar, Vec<f32>),
    },
}

/// What a change touched, for redrawing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Image,
    Mask,
    Strokes,
}

impl Change {
    pub fn label(&self) -> &str {
        match self {
            Change::Mask { .. } => "mask stroke",
            Change::Image { label, .. } => label,
            Change::Strokes { .. } => "colour stroke",
        }
    }

    fn bytes(&self) -> usize {
        match self {
            Change::Mask { before, after, .. } => 4 * (before.len() + after.len()),
            Change::Image { before, after, .. } => 4 * (before.data.len() + after.data.len()),
            Change::Strokes { before, after, .. } => {
                4 * (before.0.data.len() + before.1.len() + after.0.data.len() + after.1.len())
            }
        }
    }
}

/// Copy a rectangle out of a mask.
pub fn mask_rect(mask: &Mask, r: Rect) -> Vec<f32> {
    mask.crop(r).data
}

fn put_mask_rect(mask: &mut Mask, r: Rect, values: &[f32]) {
    let w = r.width();
    for (row, y) in (r.y0..r.y1).enumerate() {
        let d = y * mask.width + r.x0;
        mask.data[d..d + w].copy_from_slice(&values[row * w..(row + 1) * w]);
    }
}

fn put_image_rect(image: &mut Planar, r: Rect, values: &Planar) {
    image.paste(values, 0, 0, r.height(), r.width(), r.y0, r.x0);
}

/// The undo and redo stacks. History is unlimited up to a memory budget, after which the
/// oldest steps are forgotten.
#[derive(Debug, Default)]
pub struct History {
    undo: Vec<Change>,
    redo: Vec<Change>,
}

/// Memory kept for undo before the oldest steps are dropped.
const BUDGET_BYTES: usize = 3 << 30;

impl History {
    /// Record a change that has already been applied.
    pub fn push(&mut self, change: Change) {
        self.redo.clear();
        self.undo.push(change);
        let mut total: usize = self.undo.iter().map(Change::bytes).sum();
        while total > BUDGET_BYTES && self.undo.len() > 1 {
            total -= self.undo.remove(0).bytes();
        }
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    pub fn undo_label(&self) -> Option<&str> {
        self.undo.last().map(Change::label)
    }

    pub fn redo_label(&self) -> Option<&str> {
        self.redo.last().map(Change::label)
    }

    /// Undo the newest change; returns what changed (for texture updates).
    pub fn undo(&mut self, layers: &mut Layers<'_>) -> Option<(Layer, Rect)> {
        let change = self.undo.pop()?;
        let touched = apply(&change, layers, false);
        self.redo.push(change);
        Some(touched)
    }

    pub fn redo(&mut self, layers: &mut Layers<'_>) -> Option<(Layer, Rect)> {
        let change = self.redo.pop()?;
        let touched = apply(&change, layers, true);
        self.undo.push(change);
        Some(touched)
    }

    pub fn len(&self) -> usize {
        self.undo.len()
    }

    pub fn is_empty(&self) -> bool {
        self.undo.is_empty()
    }
}

/// The document layers history works on.
pub struct Layers<'a> {
    pub image: &'a mut Planar,
    pub mask: &'a mut Mask,
    pub stroke_color: &'a mut Planar,
    pub stroke_alpha: &'a mut Mask,
}

fn apply(change: &Change, layers: &mut Layers<'_>, forward: bool) -> (Layer, Rect) {
    match change {
        Change::Mask {
            rect,
            before,
            after,
        } => {
            put_mask_rect(layers.mask, *rect, if forward { after } else { before });
            (Layer::Mask, *rect)
        }
        Change::Image {
            rect,
            before,
            after,
            ..
        } => {
            put_image_rect(layers.image, *rect, if forward { after } else { before });
            (Layer::Image, *rect)
        }
        Change::Strokes {
            rect,
            before,
            after,
        } => {
            let (color, alpha) = if forward { after } else { before };
            put_image_rect(layers.stroke_color, *rect, color);
            put_mask_rect(layers.stroke_alpha, *rect, alpha);
            (Layer::Strokes, *rect)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undo_redo_restore_exact_pixels() {
        let mut image = Planar::zeros(3, 4, 5);
        let mut mask = Mask::empty(5, 4);
        let mut h = History::default();
        let r = Rect {
            y0: 1,
            x0: 1,
            y1: 3,
            x1: 4,
        };
        let before = mask_rect(&mask, r);
        for y in 1..3 {
            for x in 1..4 {
                mask.data[y * 5 + x] = 1.0;
            }
        }
        h.push(Change::Mask {
            rect: r,
            before,
            after: mask_rect(&mask, r),
        });
        let img_before = image.crop(0, 0, 4, 5);
        let mut after = image.clone();
        after.data.iter_mut().for_each(|v| *v = 0.5);
        image = after.clone();
        h.push(Change::Image {
            rect: Rect {
                y0: 0,
                x0: 0,
                y1: 4,
                x1: 5,
            },
            before: img_before,
            after,
            label: "inpaint".into(),
        });
        assert_eq!(h.undo_label(), Some("inpaint"));
        let mut sc = Planar::zeros(3, 4, 5);
        let mut sa = Mask::empty(5, 4);
        macro_rules! layers {
            () => {
                Layers {
                    image: &mut image,
                    mask: &mut mask,
                    stroke_color: &mut sc,
                    stroke_alpha: &mut sa,
                }
            };
        }
        h.undo(&mut layers!());
        assert!(image.data.iter().all(|&v| v == 0.0));
        h.undo(&mut layers!());
        assert!(mask.data.iter().all(|&v| v == 0.0));
        assert!(!h.can_undo());
        h.redo(&mut layers!());
        assert_eq!(mask.data.iter().filter(|&&v| v == 1.0).count(), 6);
        h.redo(&mut layers!());
        assert!(image.data.iter().all(|&v| v == 0.5));
        // A new change drops the redo stack.
        h.undo(&mut layers!());
        h.push(Change::Mask {
            rect: r,
            before: vec![0.0; 6],
            after: vec![0.0; 6],
        });
        assert!(!h.can_redo());
    }
}
