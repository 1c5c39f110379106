//! Brush painting on the mask (and on the colour-stroke layer used by edits). Positions are
//! in image pixels, so strokes look the same at every zoom; stamps are spaced along the
//! pointer's path so fast drags stay continuous.

use crate::engine::mask::{Mask, Rect};
use crate::engine::planar::Planar;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// Add to the mask.
    Paint,
    /// Remove from the mask.
    Erase,
    /// Paint colour strokes for an edit.
    Color,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Brush {
    /// Diameter in image pixels.
    pub size: f32,
    /// 1 = hard edge, 0 = soft from the centre.
    pub hardness: f32,
    /// Strength of one stroke, 0–1.
    pub opacity: f32,
    /// Colour for the colour tool, RGB in [0, 1].
    pub color: [f32; 3],
}

impl Default for Brush {
    fn default() -> Self {
        Self {
            size: 40.0,
            hardness: 0.7,
            opacity: 1.0,
            color: [0.9, 0.2, 0.2],
        }
    }
}

impl Brush {
    /// Coverage at distance `d` from the centre.
    pub fn falloff(&self, d: f32) -> f32 {
        let r = (self.size * 0.5).max(0.5);
        let inner = r * self.hardness.clamp(0.0, 1.0);
        if d <= inner {
            return self.opacity;
        }
        if d >= r {
            return 0.0;
        }
        let t = (d - inner) / (r - inner).max(1e-3);
        let s = 1.0 - t * t * (3.0 - 2.0 * t);
        s * self.opacity
    }

    fn spacing(&self) -> f32 {
        (self.size * 0.15).max(0.75)
    }
}

/// Pixels a stamp at (cx, cy) may touch, clipped to the image.
fn stamp_rect(brush: &Brush, cx: f32, cy: f32, w: usize, h: usize) -> Option<Rect> {
    let r = brush.size * 0.5 + 1.0;
    let x0 = (cx - r).floor().max(0.0) as usize;
    let y0 = (cy - r).floor().max(0.0) as usize;
    let x1 = ((cx + r).ceil().max(0.0) as usize).min(w);
    let y1 = ((cy + r).ceil().max(0.0) as usize).min(h);
    (x0 < x1 && y0 < y1).then_some(Rect { y0, x0, y1, x1 })
}

/// One stamp on the mask.
pub fn stamp_mask(mask: &mut Mask, brush: &Brush, tool: Tool, cx: f32, cy: f32) -> Option<Rect> {
    let rect = stamp_rect(brush, cx, cy, mask.width, mask.height)?;
    for y in rect.y0..rect.y1 {
        for x in rect.x0..rect.x1 {
            let d = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
            let a = brush.falloff(d);
            if a <= 0.0 {
                continue;
            }
            let m = &mut mask.data[y * mask.width + x];
            *m = match tool {
                Tool::Erase => m.min(1.0 - a),
                _ => m.max(a),
            };
        }
    }
    Some(rect)
}

/// One stamp on the colour layer: `alpha` says where strokes are, `color` what they are.
pub fn stamp_color(
    color: &mut Planar,
    alpha: &mut Mask,
    brush: &Brush,
    erase: bool,
    cx: f32,
    cy: f32,
) -> Option<Rect> {
    let rect = stamp_rect(brush, cx, cy, alpha.width, alpha.height)?;
    let n = alpha.width * alpha.height;
    for y in rect.y0..rect.y1 {
        for x in rect.x0..rect.x1 {
            let d = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
            let a = brush.falloff(d);
            if a <= 0.0 {
                continue;
            }
            let i = y * alpha.width + x;
            if erase {
                alpha.data[i] = alpha.data[i].min(1.0 - a);
                continue;
            }
            for c in 0..3 {
                let v = &mut color.data[c * n + i];
                *v = *v * (1.0 - a) + (brush.color[c] * 2.0 - 1.0) * a;
            }
            alpha.data[i] = alpha.data[i].max(a);
        }
    }
    Some(rect)
}

/// Stamps from `from` to `to` (excluding `from`), spaced by a fraction of the brush size.
/// Returns the union of touched rectangles.
pub fn segment(
    from: Option<(f32, f32)>,
    to: (f32, f32),
    brush: &Brush,
    mut stamp: impl FnMut(f32, f32) -> Option<Rect>,
) -> Option<Rect> {
    let mut dirty = None;
    let Some((fx, fy)) = from else {
        return stamp(to.0, to.1);
    };
    let (dx, dy) = (to.0 - fx, to.1 - fy);
    let len = (dx * dx + dy * dy).sqrt();
    let steps = (len / brush.spacing()).ceil().max(1.0) as usize;
    for k in 1..=steps {
        let t = k as f32 / steps as f32;
        if let Some(r) = stamp(fx + dx * t, fy + dy * t) {
            dirty = Some(dirty.map_or(r, |d: Rect| d.union(r)));
        }
    }
    dirty
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn falloff_is_hard_inside_and_zero_outside() {
        let b = Brush {
            size: 20.0,
            hardness: 0.5,
            opacity: 0.8,
            color: [0.0; 3],
        };
        assert_eq!(b.falloff(0.0), 0.8);
        assert_eq!(b.falloff(5.0), 0.8);
        assert!(b.falloff(7.5) > 0.0 && b.falloff(7.5) < 0.8);
        assert_eq!(b.falloff(10.0), 0.0);
    }

    #[test]
    fn a_fast_drag_leaves_no_gaps() {
        let mut m = Mask::empty(200, 20);
        let b = Brush {
            size: 6.0,
            hardness: 1.0,
            opacity: 1.0,
            color: [0.0; 3],
        };
        segment(Some((5.0, 10.0)), (195.0, 10.0), &b, |x, y| {
            stamp_mask(&mut m, &b, Tool::Paint, x, y)
        });
        assert!((6..195).all(|x| m.data[10 * 200 + x] == 1.0));
        segment(Some((50.0, 10.0)), (60.0, 10.0), &b, |x, y| {
            stamp_mask(&mut m, &b, Tool::Erase, x, y)
        });
        assert_eq!(m.data[10 * 200 + 55], 0.0);
        assert_eq!(m.data[10 * 200 + 40], 1.0);
    }
}
