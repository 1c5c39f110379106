//! What the editor and the CLI do with the model: inversion and reconstruction, generation,
//! interpolation, inpainting, restoration and region edits.

mod edit;
mod generate;
mod inpaint;
mod interpolate;
mod invert;
mod restore;

pub use edit::{EditParams, edit, edit_plan};
pub use generate::{GenerateParams, generate};
pub use inpaint::{
    CONDITION_CHANNELS, CONDITIONED_LEVEL, InpaintParams, MaskedContent, Renoise, STRENGTH_MAX,
    STRENGTH_MIN, conditioned_inputs, inpaint,
};
pub use interpolate::{Interpolator, slerp};
pub use invert::{Inversion, invert, reconstruct};
pub use restore::{
    JPEG_PASSES, RestoreParams, jpeg_strength, restore, restore_nfe, restore_passes,
    restore_schedule, suggested_level,
};

use super::mask::{Mask, Rect};
use super::planar::Planar;

/// A task result: the new image and the network evaluations it took.
#[derive(Debug, Clone)]
pub struct Output {
    pub image: Planar,
    /// Per-pixel weight of the new image in the final composite (None: the whole image).
    pub mask: Option<Mask>,
    pub nfe: usize,
}

impl Output {
    /// What the user sees: the new image composited over `photo` with its mask.
    pub fn composited(self, photo: &Planar) -> Planar {
        match &self.mask {
            Some(m) => photo.blend(&self.image, &m.data),
            None => self.image,
        }
    }
}

/// Context kept around a masked region: enough for the network to see the surroundings.
pub(crate) fn work_region(mask: &Mask, context: usize, align: usize) -> Option<Rect> {
    mask.bbox()
        .map(|b| b.expanded(context, align, mask.height, mask.width))
}

/// Crop an image to a rectangle.
pub(crate) fn crop(image: &Planar, r: Rect) -> Planar {
    image.crop(r.y0, r.x0, r.height(), r.width())
}
