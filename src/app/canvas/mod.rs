//! The canvas: the photo with zoom and pan, the mask overlay and brush, colour strokes, the
//! before/after split for staged results, and the noisy view of the timeline.

mod input;

use egui::{
    Color32, CursorIcon, Key, PointerButton, Pos2, Rect as ScreenRect, Sense, Stroke, StrokeKind,
    TextureHandle, Ui, Vec2,
};
use input::StrokeState;

use super::brush::{self, Brush, Tool};
use super::document::{Dirty, Document};
use super::history::Layer;
use super::textures::{self, fit_for_display, image_pixels, mask_pixels, stroke_pixels};
use super::view::View;
use crate::engine::mask::{Mask, Rect};
use crate::engine::planar::Planar;

/// Canvas state that outlives frames.
pub struct Canvas {
    pub view: View,
    pub tool: Tool,
    pub brush: Brush,
    pub overlay_color: Color32,
    pub overlay_opacity: f32,
    pub show_mask: bool,
    /// Position of the before/after divider, 0–1 of the image width.
    pub split: f32,
    /// Show the document instead of the staged result (toggle with C).
    pub show_before: bool,
    /// The view follows the canvas size (after Fit, until the user zooms or pans), so panels
    /// settling or the window resizing keep the whole photo in view.
    fitted: bool,
    image: Option<TextureHandle>,
    mask: Option<TextureHandle>,
    strokes: Option<TextureHandle>,
    staged: Option<TextureHandle>,
    level: Option<TextureHandle>,
    checker: Option<TextureHandle>,
    alpha: Option<Vec<u8>>,
    stroke: Option<StrokeState>,
    last_rect: ScreenRect,
}

impl Default for Canvas {
    fn default() -> Self {
        Self {
            view: View::default(),
            tool: Tool::Paint,
            brush: Brush::default(),
            overlay_color: Color32::from_rgb(255, 40, 90),
            overlay_opacity: 0.45,
            show_mask: true,
            split: 0.5,
            show_before: false,
            fitted: true,
            image: None,
            mask: None,
            strokes: None,
            staged: None,
            level: None,
            checker: None,
            alpha: None,
            stroke: None,
            last_rect: ScreenRect::NOTHING,
        }
    }
}

fn checkerboard() -> egui::ColorImage {
    let size = 16;
    let px = (0..size * size)
        .map(|i| {
            let (x, y) = (i % size, i / size);
            if (x / 8 + y / 8) % 2 == 0 {
                Color32::from_gray(200)
            } else {
                Color32::from_gray(150)
            }
        })
        .collect();
    egui::ColorImage::new([size, size], px)
}

impl Canvas {
    /// Forget everything about the previous document.
    pub fn reset(&mut self, doc: &Document) {
        self.image = None;
        self.mask = None;
        self.strokes = None;
        self.staged = None;
        self.level = None;
        self.stroke = None;
        self.fitted = true;
        self.alpha = doc
            .original
            .color()
            .has_alpha()
            .then(|| doc.original.to_rgba8().pixels().map(|p| p.0[3]).collect());
    }

    pub fn fit(&mut self) {
        self.fitted = true;
    }

    /// Zoom so one image pixel is one screen point, keeping the centre.
    pub fn actual_size(&mut self) {
        self.view.zoom = 1.0;
        self.fitted = false;
    }

    pub fn is_stroking(&self) -> bool {
        self.stroke.is_some()
    }

    pub fn staged_changed(&mut self) {
        self.staged = None;
    }

    pub fn level_changed(&mut self) {
        self.level = None;
    }

    /// Re-upload what a change touched.
    pub fn refresh(&mut self, doc: &Document, dirty: Dirty) {
        let size = [doc.width(), doc.height()];
        let opts = textures::options(self.view.zoom);
        let full = doc.full_rect();
        match dirty.layer {
            Layer::Image => {
                if let Some(tex) = &mut self.image {
                    let alpha = self.alpha.as_deref();
                    textures::update(
                        tex,
                        size,
                        || image_pixels(&doc.image, alpha, full),
                        || image_pixels(&doc.image, alpha, dirty.rect),
                        dirty.rect,
                        opts,
                    );
                }
            }
            Layer::Mask => {
                if let Some(tex) = &mut self.mask {
                    let (c, o) = (self.overlay_color, self.overlay_opacity);
                    textures::update(
                        tex,
                        size,
                        || mask_pixels(&doc.mask, c, o, full),
                        || mask_pixels(&doc.mask, c, o, dirty.rect),
                        dirty.rect,
                        opts,
                    );
                }
            }
            Layer::Strokes => {
                if let Some(tex) = &mut self.strokes {
                    textures::update(
                        tex,
                        size,
                        || stroke_pixels(&doc.stroke_color, &doc.stroke_alpha, full),
                        || stroke_pixels(&doc.stroke_color, &doc.stroke_alpha, dirty.rect),
                        dirty.rect,
                        opts,
                    );
                }
            }
        }
    }

    /// Overlay colour or opacity changed: redraw the whole overlay.
    pub fn restyle_mask(&mut self) {
        self.mask = None;
    }

    fn ensure_textures(&mut self, ui: &Ui, doc: &Document) {
        let ctx = ui.ctx();
        let opts = textures::options(self.view.zoom);
        let full = doc.full_rect();
        if self.image.is_none() {
            let img = fit_for_display(image_pixels(&doc.image, self.alpha.as_deref(), full));
            self.image = Some(ctx.load_texture("canvas-image", img, opts));
        }
        // Overlays are built on first use: an empty mask on a large photo costs nothing.
        if self.mask.is_none() && (self.stroke.is_some() || !doc.mask.is_empty()) {
            let img = fit_for_display(mask_pixels(
                &doc.mask,
                self.overlay_color,
                self.overlay_opacity,
                full,
            ));
            self.mask = Some(ctx.load_texture("canvas-mask", img, opts));
        }
        if self.strokes.is_none() && (self.stroke.is_some() || !doc.stroke_alpha.is_empty()) {
            let img = fit_for_display(stroke_pixels(&doc.stroke_color, &doc.stroke_alpha, full));
            self.strokes = Some(ctx.load_texture("canvas-strokes", img, opts));
        }
        if self.staged.is_none()
            && let Some(staged) = &doc.staged
        {
            let img = fit_for_display(image_pixels(&staged.image, self.alpha.as_deref(), full));
            self.staged = Some(ctx.load_texture("canvas-staged", img, opts));
        }
        if self.level.is_none()
            && let Some(level) = &doc.level
        {
            let preview = crate::engine::planar::latent_preview(&level.latent, level.sigma);
            self.level = Some(ctx.load_texture(
                "canvas-level",
                fit_for_display(image_pixels(&preview, None, full)),
                opts,
            ));
        }
        if self.checker.is_none() {
            let opts = egui::TextureOptions {
                wrap_mode: egui::TextureWrapMode::Repeat,
                ..egui::TextureOptions::NEAREST
            };
            self.checker = Some(ctx.load_texture("canvas-checker", checkerboard(), opts));
        }
    }

    /// Draw the canvas and handle its input. Returns what changed in the document.
    pub fn ui(&mut self, ui: &mut Ui, doc: &mut Document, painting_enabled: bool) -> Option<Dirty> {
        self.ensure_textures(ui, doc);
        let (rect, response) = ui.allocate_exact_size(ui.available_size(), Sense::click_and_drag());
        self.last_rect = rect;
        let size = Vec2::new(doc.width() as f32, doc.height() as f32);
        if self.fitted && rect.width() > 1.0 {
            self.view = View::fit(rect, size);
        }
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 0.0, Color32::from_gray(32));
        let img_rect = self.view.image_rect(rect, size);
        let full_uv = ScreenRect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));

        if self.alpha.is_some()
            && let Some(checker) = &self.checker
        {
            let uv = ScreenRect::from_min_max(
                Pos2::ZERO,
                Pos2::new(img_rect.width() / 16.0, img_rect.height() / 16.0),
            );
            painter.image(checker.id(), img_rect, uv, Color32::WHITE);
        }

        let staged = doc.staged.is_some() && !self.show_before;
        if let (Some(level), Some(tex)) = (&doc.level, &self.level) {
            painter.image(tex.id(), img_rect, full_uv, Color32::WHITE);
            painter.text(
                rect.left_top() + Vec2::new(8.0, 8.0),
                egui::Align2::LEFT_TOP,
                format!("x at σ = {:.3}", level.sigma),
                egui::FontId::proportional(14.0),
                Color32::WHITE,
            );
        } else if let Some(tex) = &self.image {
            painter.image(tex.id(), img_rect, full_uv, Color32::WHITE);
        }
        if staged && let Some(tex) = &self.staged {
            // After on the right of the divider, before (the document) on the left.
            let split_x = img_rect.left() + img_rect.width() * self.split;
            let right = ScreenRect::from_min_max(
                Pos2::new(split_x, img_rect.top()),
                img_rect.right_bottom(),
            );
            let uv = ScreenRect::from_min_max(Pos2::new(self.split, 0.0), Pos2::new(1.0, 1.0));
            painter.image(tex.id(), right, uv, Color32::WHITE);
            painter.line_segment(
                [
                    Pos2::new(split_x, img_rect.top()),
                    Pos2::new(split_x, img_rect.bottom()),
                ],
                Stroke::new(2.0, Color32::WHITE),
            );
            painter.text(
                img_rect.left_top() + Vec2::new(6.0, 6.0),
                egui::Align2::LEFT_TOP,
                "before",
                egui::FontId::proportional(13.0),
                Color32::WHITE,
            );
            painter.text(
                img_rect.right_top() + Vec2::new(-6.0, 6.0),
                egui::Align2::RIGHT_TOP,
                "after",
                egui::FontId::proportional(13.0),
                Color32::WHITE,
            );
        }
        if doc.level.is_none() {
            if let Some(tex) = &self.strokes {
                painter.image(tex.id(), img_rect, full_uv, Color32::WHITE);
            }
            if self.show_mask
                && !staged
                && let Some(tex) = &self.mask
            {
                painter.image(tex.id(), img_rect, full_uv, Color32::WHITE);
            }
        }
        painter.rect_stroke(
            img_rect,
            0.0,
            Stroke::new(1.0, Color32::from_gray(90)),
            StrokeKind::Outside,
        );

        self.handle_view_input(ui, rect, &response, size);
        let dirty = if staged {
            self.handle_split_drag(ui, &response, img_rect);
            None
        } else if painting_enabled && doc.level.is_none() {
            self.handle_painting(ui, rect, &response, doc)
        } else {
            None
        };
        self.draw_cursor(ui, rect, &response, staged);
        dirty
    }

    /// Screen rectangle the canvas used last frame (tests drive the brush through it).
    pub fn screen_rect(&self) -> ScreenRect {
        self.last_rect
    }

    /// Screen position of an image point (for tests and tools).
    pub fn image_to_screen(&self, p: Pos2) -> Pos2 {
        self.view.to_screen(self.last_rect, p)
    }
}
