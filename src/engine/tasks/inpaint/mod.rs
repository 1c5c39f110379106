//! Inpainting: regenerate the masked region so it fits its surroundings.
//!
//! A model trained for holes (it reads the mask, see [`conditioned`]) fills one in a single
//! evaluation from the harmonic fill. A model that only denoises runs the replacement loop:
//!
//! Coarse to fine: the crop around the mask is halved until the hole is a few pixels across,
//! where the network sees all of its surroundings. There the replacement loop ([`levels`])
//! fills it; each finer scale starts from the scale below, upsampled, and refines it at lower
//! noise levels, the photo's own pixels pasted back at every level. The caller pastes the
//! result over the original with [`Output::mask`], so pixels outside the mask stay
//! bit-identical.

mod conditioned;
mod levels;

use crate::engine::error::{EngineError, Result};
use crate::engine::fill::harmonic_fill;
use crate::engine::mask::{Mask, Rect};
use crate::engine::model::Bcm;
use crate::engine::noise::NoiseRng;
use crate::engine::planar::Planar;
use crate::engine::resample::{halve, halve_mask, upsample};
use crate::engine::sampler::{Monitor, Tiling};
use crate::engine::schedule::{SIGMA_MIN, in_range};

use super::{Output, crop};
pub use conditioned::{CONDITION_CHANNELS, CONDITIONED_LEVEL, conditioned_inputs};
use conditioned::{core, core_mask, fill_conditioned};
use levels::{Count, Scale};

/// The levels a higher strength comes down through: each hop about a third of the last, as the
/// reference's replacement loops take.
const STRENGTH_STEPS: [f32; 5] = [20.0, 6.0, 2.0, 0.6, 0.2];

/// The strengths a user may set (the editor's slider, `--strength`): from a faint grain over
/// the fill to a fill from scratch.
pub const STRENGTH_MIN: f32 = 0.05;
pub const STRENGTH_MAX: f32 = 80.0;

/// The coarsest scale is never smaller than this (pixels on its short side): below it the
/// network sees too little of the photo to continue it.
const MIN_COARSE_SIDE: usize = 32;

/// How the estimate is brought back up to each level of the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Renoise {
    /// Add fresh Gaussian noise (consistency-model style, 1 NFE per level).
    Fresh,
    /// Invert with the BCM from a small noise level (2 NFE per level): keeps more of the
    /// estimate's structure, so the fill settles in fewer levels.
    Invert,
    /// No noise: the estimate's own error (a smooth fill's blur) is read as the level's noise
    /// and denoised directly, as *Restore* treats damage.
    None,
}

/// What the loop starts from inside the mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MaskedContent {
    /// The photo's own pixels: at low strength the result keeps their layout.
    Original,
    /// A fill from what is around the hole (what removing an object needs): the inpainting
    /// model's when there is one, else a smooth fill from the mask's border. At low strength
    /// the network only adds its texture to it.
    Fill,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InpaintParams {
    /// Noise levels of the loop at the coarsest scale, decreasing. The first sets the
    /// strength: 80 fills from scratch, a few units keeps the layout of what is under the mask.
    pub levels: Vec<f32>,
    /// Noise levels run again at each finer scale (decreasing; may be empty).
    pub refine: Vec<f32>,
    /// Halve the crop until the hole is at most this many pixels across (0: one scale).
    pub coarse: usize,
    /// Dilation of the painted mask, pixels.
    pub grow: usize,
    /// Width of the soft edge, pixels.
    pub feather: usize,
    /// Pixels of context around the mask that the network sees.
    pub context: usize,
    pub renoise: Renoise,
    pub content: MaskedContent,
    pub seed: u64,
}

impl Default for InpaintParams {
    fn default() -> Self {
        Self {
            // Measured best on the validation photos (docs/experiments.md, "Inpainting"): a
            // fill from the border with the network's texture at a low level, on the mask as
            // painted. Starting higher, or coarse to fine, lets this model invent content,
            // which it does worse than the fill.
            levels: vec![0.1],
            refine: Vec::new(),
            coarse: 0,
            grow: 0,
            feather: 4,
            context: 64,
            renoise: Renoise::Fresh,
            content: MaskedContent::Fill,
            seed: 0,
        }
    }
}

impl InpaintParams {
    pub fn validate(&self) -> Result<()> {
        if self.levels.is_empty() {
            return Err(EngineError::Schedule(
                "inpainting needs at least one level".into(),
            ));
        }
        for levels in [&self.levels, &self.refine] {
            if let Some(&bad) = levels.iter().find(|&&l| !in_range(l) || l <= SIGMA_MIN) {
                return Err(EngineError::SigmaOutOfRange(bad));
            }
            if levels.windows(2).any(|w| w[1] >= w[0]) {
                return Err(EngineError::Schedule(
                    "inpainting levels must decrease".into(),
                ));
            }
        }
        Ok(())
    }

    /// The strength a user sets: how far the fill may move from what it starts with. The
    /// loop starts at `strength` and comes down the steps of [`STRENGTH_STEPS`] below it to
    /// these levels' own end.
    pub fn with_strength(self, strength: f32) -> Self {
        let below = |levels: &[f32]| -> Vec<f32> {
            levels
                .iter()
                .copied()
                .filter(|&l| l < strength * 0.5)
                .collect()
        };
        let last = self.levels.last().copied().unwrap_or(SIGMA_MIN);
        let mut steps: Vec<f32> = STRENGTH_STEPS
            .iter()
            .copied()
            .filter(|&l| l > last)
            .chain(self.levels.iter().copied())
            .collect();
        steps = below(&steps);
        steps.sort_by(|a, b| b.total_cmp(a));
        steps.dedup();
        let mut levels = vec![strength];
        levels.extend(steps);
        Self {
            refine: below(&self.refine),
            levels,
            ..self
        }
    }

    /// The levels as a recipe records them: "80 > 20 > 6", then the refinement of each finer
    /// scale when there is one.
    pub fn schedule(&self) -> String {
        let join = |l: &[f32]| {
            l.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(" > ")
        };
        if self.coarse == 0 || self.refine.is_empty() {
            join(&self.levels)
        } else {
            format!(
                "{}; finer scales {}",
                join(&self.levels),
                join(&self.refine)
            )
        }
    }

    /// Whether these settings ask for the replacement loop: a strength, levels, scales,
    /// re-noising or starting content other than the defaults. Untouched, a model trained for
    /// holes fills them in one evaluation; these are for a model that only denoises.
    pub fn needs_loop(&self) -> bool {
        let d = Self::default();
        self.levels != d.levels
            || self.refine != d.refine
            || self.coarse != d.coarse
            || self.renoise != d.renoise
            || self.content != d.content
    }

    /// The first level: the strength the user sees.
    pub fn strength(&self) -> f32 {
        self.levels.first().copied().unwrap_or(SIGMA_MIN)
    }

    /// Network evaluations with `halvings` coarser scales below the photo's.
    pub fn nfe(&self, halvings: usize) -> usize {
        let per_level = if self.renoise == Renoise::Invert {
            2
        } else {
            1
        };
        (self.levels.len() + halvings * self.refine.len()) * per_level
    }

    /// How many times a `h`×`w` crop holding a hole `extent` pixels across is halved.
    pub fn halvings(&self, extent: usize, h: usize, w: usize) -> usize {
        if self.coarse == 0 {
            return 0;
        }
        let mut k = 0;
        while extent.div_ceil(1 << k) > self.coarse
            && h.min(w).div_ceil(1 << (k + 1)) >= MIN_COARSE_SIDE
        {
            k += 1;
        }
        k
    }
}

/// Inpaint `mask` (1 = regenerate) in `image`. The returned image covers the whole photo.
///
/// `model` runs the replacement loop, or fills the hole itself if it was trained for holes.
/// `filler`, a model trained for holes beside a `model` that only denoises, fills the hole
/// when the settings are untouched, and gives the loop its start (instead of the smooth fill
/// from the border) when they ask for one: the loop then adds `model`'s texture to the best
/// fill there is.
pub fn inpaint(
    model: &Bcm,
    filler: Option<&Bcm>,
    image: &Planar,
    mask: &Mask,
    p: &InpaintParams,
    tiling: &Tiling,
    monitor: &mut dyn Monitor,
) -> Result<Output> {
    p.validate()?;
    if (mask.width, mask.height) != (image.width, image.height) {
        return Err(EngineError::SizeMismatch(format!(
            "mask is {}x{}, image is {}x{}",
            mask.width, mask.height, image.width, image.height
        )));
    }
    let soft = mask.grown_and_feathered(p.grow, p.feather);
    let hole = soft.bbox().ok_or_else(|| {
        EngineError::Parameter("the mask is empty: paint the area to inpaint".into())
    })?;
    let extent = hole.height().max(hole.width());
    // The coarse scales continue the photo into the hole from what is around it: give them
    // at least the hole's own size of surroundings.
    let context = if p.coarse > 0 {
        p.context.max(extent)
    } else {
        p.context
    };
    let region = hole.expanded(context, model.config.alignment(), soft.height, soft.width);
    if let Some(f) = filler.filter(|f| f.config.conditioning() == 0) {
        return Err(EngineError::Parameter(format!(
            "{} cannot fill holes for another model: it does not read the hole's mask",
            f.info.name
        )));
    }
    // The hole as painted (grown), before feathering: each of its parts keeps the classical
    // fill's mean colour when a model trained for holes fills it.
    let hard = || mask.crop(region).grow(p.grow);
    let filler = if model.config.conditioning() > 0 {
        if p.needs_loop() {
            return Err(EngineError::Parameter(format!(
                "{} fills holes in one evaluation from what is around them: strength, levels, \
                 scales, re-noising and starting content apply to a model that only denoises \
                 (the shipped model); grow and feather apply to both",
                model.info.name
            )));
        }
        Some(model)
    } else {
        filler
    };
    if let Some(filler) = filler.filter(|_| !p.needs_loop()) {
        // A model trained for holes fills one in a single evaluation; the replacement loop's
        // levels are for a model that only denoises.
        let mut count = Count { done: 0, total: 1 };
        let estimate = fill_conditioned(
            filler,
            &crop(image, region),
            &hard(),
            &soft.crop(region),
            tiling,
            &mut count,
            monitor,
        )?;
        return Ok(over_photo(image, &estimate, region, soft, count.done));
    }
    let halvings = p.halvings(extent, region.height(), region.width());
    // The photo and the mask at every scale, finest first.
    let mut known = vec![crop(image, region)];
    let mut masks = vec![soft.crop(region)];
    for _ in 0..halvings {
        let (y, m) = (
            halve(&known[known.len() - 1]),
            halve_mask(&masks[masks.len() - 1]),
        );
        known.push(y);
        masks.push(m);
    }
    let mut rng = NoiseRng::new(p.seed);
    // The filler's fill is the loop's start at the coarsest scale.
    let filler = filler.filter(|_| p.content == MaskedContent::Fill);
    let mut count = Count {
        done: 0,
        total: p.nfe(halvings) + usize::from(filler.is_some()),
    };
    let mut estimate: Option<Planar> = None;
    for s in (0..=halvings).rev() {
        let (y, m) = (&known[s], &masks[s].data);
        let (start, levels) = match estimate.take() {
            None => {
                let start = match p.content {
                    MaskedContent::Original => y.clone(),
                    MaskedContent::Fill => match filler {
                        Some(filler) => {
                            // At a coarser scale the hole as painted is the halved mask's core.
                            let hard = if s == 0 { hard() } else { core_mask(&masks[s]) };
                            let fill = fill_conditioned(
                                filler, y, &hard, &masks[s], tiling, &mut count, monitor,
                            )?;
                            y.blend(&fill, m)
                        }
                        None => y.blend(&harmonic_fill(y, &core(m)), m),
                    },
                };
                (start, &p.levels)
            }
            Some(coarser) => (
                y.blend(&upsample(&coarser, y.height, y.width), m),
                &p.refine,
            ),
        };
        let scale = Scale::new(model, y, &masks[s], tiling);
        estimate = Some(scale.run(start, levels, p.renoise, &mut rng, &mut count, monitor)?);
    }
    let estimate = estimate.unwrap_or_else(|| known[0].clone());
    Ok(over_photo(image, &estimate, region, soft, count.done))
}

/// The photo with the crop `region` replaced by `estimate`, and the mask to composite it with.
fn over_photo(image: &Planar, estimate: &Planar, region: Rect, soft: Mask, nfe: usize) -> Output {
    let mut full = image.clone();
    full.paste(
        estimate,
        0,
        0,
        region.height(),
        region.width(),
        region.y0,
        region.x0,
    );
    Output {
        image: full,
        mask: Some(soft),
        nfe,
    }
}
