//! The timeline's log-σ axis: where a level sits across the panel and back, and the arrows
//! drawn along it.

use egui::{Painter, Pos2, Rect, Stroke, Vec2};

use crate::engine::schedule::{SIGMA_MAX, SIGMA_MIN};

const LN_MIN: f32 = -6.214_608; // ln 0.002
const LN_MAX: f32 = 4.382_027; // ln 80

/// A line with a small fixed-size head (egui's arrow head grows with the length).
pub fn arrow(painter: &Painter, from: Pos2, to: Pos2, stroke: Stroke) {
    painter.line_segment([from, to], stroke);
    let dir = (to - from).normalized();
    if dir.is_finite() && (to - from).length() > 8.0 {
        let side = Vec2::new(-dir.y, dir.x);
        let back = to - dir * 7.0;
        painter.line_segment([to, back + side * 3.5], stroke);
        painter.line_segment([to, back - side * 3.5], stroke);
    }
}

/// Horizontal position of a level.
pub fn x_of(rect: Rect, sigma: f32) -> f32 {
    let t = (sigma.clamp(SIGMA_MIN, SIGMA_MAX).ln() - LN_MIN) / (LN_MAX - LN_MIN);
    rect.left() + t * rect.width()
}

/// Level at a horizontal position.
pub fn sigma_at(rect: Rect, x: f32) -> f32 {
    let t = ((x - rect.left()) / rect.width().max(1.0)).clamp(0.0, 1.0);
    (LN_MIN + t * (LN_MAX - LN_MIN))
        .exp()
        .clamp(SIGMA_MIN, SIGMA_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_axis_roundtrip() {
        let r = Rect::from_min_size(Pos2::new(10.0, 0.0), Vec2::new(500.0, 50.0));
        assert!((x_of(r, SIGMA_MIN) - 10.0).abs() < 1e-3);
        assert!((x_of(r, SIGMA_MAX) - 510.0).abs() < 1e-3);
        for s in [0.002f32, 0.07, 1.0, 15.0, 80.0] {
            assert!((sigma_at(r, x_of(r, s)) / s - 1.0).abs() < 1e-4);
        }
    }
}
