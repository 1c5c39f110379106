//! Canvas input: zoom and pan, the before/after divider, brush strokes, the brush cursor.

use super::*;

/// What a stroke paints on, and that layer as it was when the stroke began (for undo).
pub(super) enum StrokeLayer {
    Mask(Mask),
    Color(Box<(Planar, Mask)>),
}

/// A drag in progress: one undo step when it ends.
pub(super) struct StrokeState {
    before: StrokeLayer,
    last: (f32, f32),
    dirty: Option<Rect>,
}

impl StrokeState {
    /// Stamp from the last point to `point` (and the first point, on the first call);
    /// returns what changed.
    fn advance(
        &mut self,
        point: (f32, f32),
        brush: &Brush,
        mut stamp: impl FnMut(f32, f32) -> Option<Rect>,
    ) -> Option<Rect> {
        let begin = if self.dirty.is_none() {
            stamp(self.last.0, self.last.1)
        } else {
            None
        };
        let touched = brush::segment(Some(self.last), point, brush, stamp);
        let touched = match (begin, touched) {
            (Some(a), Some(b)) => Some(a.union(b)),
            (a, b) => a.or(b),
        };
        self.last = point;
        if let Some(r) = touched {
            self.dirty = Some(self.dirty.map_or(r, |d| d.union(r)));
        }
        touched
    }
}

impl Canvas {
    pub(super) fn panning(&self, ui: &Ui, response: &egui::Response) -> bool {
        let space = ui.input(|i| i.key_down(Key::Space));
        response.dragged_by(PointerButton::Middle)
            || (space && response.dragged_by(PointerButton::Primary))
    }

    pub(super) fn handle_view_input(
        &mut self,
        ui: &Ui,
        rect: ScreenRect,
        response: &egui::Response,
        size: Vec2,
    ) {
        if self.panning(ui, response) {
            self.view.pan(response.drag_delta());
            self.fitted = false;
        }
        if response.hovered() {
            let (scroll, pointer) = ui.input(|i| (i.smooth_scroll_delta.y, i.pointer.hover_pos()));
            let zoom_delta = ui.input(|i| i.zoom_delta());
            let factor = (scroll * 0.0025).exp() * zoom_delta;
            if (factor - 1.0).abs() > 1e-4
                && let Some(p) = pointer
            {
                self.view.zoom_at(rect, p, factor);
                self.fitted = false;
            }
        }
        let _ = size;
    }

    pub(super) fn handle_split_drag(
        &mut self,
        ui: &Ui,
        response: &egui::Response,
        img_rect: ScreenRect,
    ) {
        if response.dragged_by(PointerButton::Primary)
            && !ui.input(|i| i.key_down(Key::Space))
            && let Some(p) = response.interact_pointer_pos()
        {
            self.split = ((p.x - img_rect.left()) / img_rect.width().max(1.0)).clamp(0.0, 1.0);
        }
    }

    pub(super) fn handle_painting(
        &mut self,
        ui: &Ui,
        rect: ScreenRect,
        response: &egui::Response,
        doc: &mut Document,
    ) -> Option<Dirty> {
        if self.panning(ui, response) {
            return None;
        }
        let primary = response.dragged_by(PointerButton::Primary)
            || response.clicked_by(PointerButton::Primary);
        let pos = response
            .interact_pointer_pos()
            .map(|p| self.view.to_image(rect, p));
        // A stroke starts where the button went down, not where the drag was recognised.
        let origin = ui
            .input(|i| i.pointer.press_origin())
            .map(|p| self.view.to_image(rect, p));
        let mut dirty = None;
        if primary && let Some(p) = pos {
            let point = (p.x, p.y);
            let start = origin.map_or(point, |o| (o.x, o.y));
            let brush = self.brush;
            let tool = self.tool;
            let state = self.stroke.get_or_insert_with(|| StrokeState {
                before: match tool {
                    Tool::Color => StrokeLayer::Color(Box::new((
                        doc.stroke_color.clone(),
                        doc.stroke_alpha.clone(),
                    ))),
                    _ => StrokeLayer::Mask(doc.mask.clone()),
                },
                last: start,
                dirty: None,
            });
            let touched = match state.before {
                StrokeLayer::Mask(_) => state
                    .advance(point, &brush, |x, y| {
                        brush::stamp_mask(&mut doc.mask, &brush, tool, x, y)
                    })
                    .map(|rect| Dirty {
                        layer: Layer::Mask,
                        rect,
                    }),
                StrokeLayer::Color(_) => {
                    let erase = ui.input(|i| i.modifiers.alt);
                    state
                        .advance(point, &brush, |x, y| {
                            brush::stamp_color(
                                &mut doc.stroke_color,
                                &mut doc.stroke_alpha,
                                &brush,
                                erase,
                                x,
                                y,
                            )
                        })
                        .map(|rect| Dirty {
                            layer: Layer::Strokes,
                            rect,
                        })
                }
            };
            dirty = touched;
        }
        let released = !ui.input(|i| i.pointer.primary_down());
        if released && let Some(state) = self.stroke.take() {
            // A whole drag is one undo step.
            match (state.before, state.dirty) {
                (StrokeLayer::Mask(before), Some(r)) => doc.commit_mask_stroke(&before, r),
                (StrokeLayer::Color(before), Some(r)) => doc.commit_color_stroke(&before, r),
                _ => {}
            }
        }
        dirty
    }

    pub(super) fn draw_cursor(
        &self,
        ui: &Ui,
        rect: ScreenRect,
        response: &egui::Response,
        staged: bool,
    ) {
        let Some(p) = response.hover_pos() else {
            return;
        };
        if staged {
            ui.ctx().set_cursor_icon(CursorIcon::ResizeHorizontal);
            return;
        }
        if ui.input(|i| i.key_down(Key::Space)) || response.dragged_by(PointerButton::Middle) {
            ui.ctx().set_cursor_icon(CursorIcon::Grab);
            return;
        }
        let r = self.brush.size * 0.5 * self.view.zoom;
        let painter = ui.painter_at(rect);
        painter.circle_stroke(p, r, Stroke::new(2.0, Color32::BLACK));
        painter.circle_stroke(p, r, Stroke::new(1.0, Color32::WHITE));
        if self.brush.hardness < 1.0 {
            painter.circle_stroke(
                p,
                r * self.brush.hardness,
                Stroke::new(1.0, Color32::from_white_alpha(120)),
            );
        }
        ui.ctx().set_cursor_icon(CursorIcon::Crosshair);
    }
}
