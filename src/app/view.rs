//! Zoom and pan of the canvas: the mapping between image pixels and screen points.

use egui::{Pos2, Rect, Vec2};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    /// Screen points per image pixel.
    pub zoom: f32,
    /// Image point shown at the centre of the canvas.
    pub center: Pos2,
}

pub const MIN_ZOOM: f32 = 0.02;
pub const MAX_ZOOM: f32 = 32.0;

impl Default for View {
    fn default() -> Self {
        Self {
            zoom: 1.0,
            center: Pos2::ZERO,
        }
    }
}

impl View {
    /// Whole image visible, centred.
    pub fn fit(canvas: Rect, image: Vec2) -> Self {
        let zoom = (canvas.width() / image.x).min(canvas.height() / image.y) * 0.95;
        Self {
            zoom: zoom.clamp(MIN_ZOOM, MAX_ZOOM),
            center: (image * 0.5).to_pos2(),
        }
    }

    pub fn to_screen(self, canvas: Rect, p: Pos2) -> Pos2 {
        canvas.center() + (p - self.center) * self.zoom
    }

    pub fn to_image(self, canvas: Rect, s: Pos2) -> Pos2 {
        self.center + (s - canvas.center()) / self.zoom
    }

    /// Screen rectangle of the whole image.
    pub fn image_rect(&self, canvas: Rect, image: Vec2) -> Rect {
        Rect::from_min_max(
            self.to_screen(canvas, Pos2::ZERO),
            self.to_screen(canvas, image.to_pos2()),
        )
    }

    /// Zoom by `factor`, keeping the image point under `anchor` (screen) in place.
    pub fn zoom_at(&mut self, canvas: Rect, anchor: Pos2, factor: f32) {
        let before = self.to_image(canvas, anchor);
        self.zoom = (self.zoom * factor).clamp(MIN_ZOOM, MAX_ZOOM);
        let after = self.to_image(canvas, anchor);
        self.center += before - after;
    }

    /// Move by a screen-space drag.
    pub fn pan(&mut self, delta: Vec2) {
        self.center -= delta / self.zoom;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_roundtrips_and_zoom_keeps_the_anchor() {
        let canvas = Rect::from_min_size(Pos2::new(10.0, 20.0), Vec2::new(800.0, 600.0));
        let mut v = View::fit(canvas, Vec2::new(4000.0, 3000.0));
        let p = Pos2::new(1234.0, 567.0);
        let s = v.to_screen(canvas, p);
        assert!((v.to_image(canvas, s) - p).length() < 1e-2);
        let anchor = Pos2::new(300.0, 200.0);
        let under = v.to_image(canvas, anchor);
        v.zoom_at(canvas, anchor, 3.0);
        assert!((v.to_image(canvas, anchor) - under).length() < 1e-2);
        let r = View::fit(canvas, Vec2::new(4000.0, 3000.0))
            .image_rect(canvas, Vec2::new(4000.0, 3000.0));
        assert!(canvas.contains_rect(r));
    }
}
