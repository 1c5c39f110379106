//! Inpainting: regenerate the masked region so it fits its surroundings.
//!
//! Replacement loop over decreasing noise levels τ_k: noise the current estimate to τ_k, let
//! the BCM jump to the clean end, keep the result inside the mask and the photo outside.
//! Only a crop around the mask is processed. The caller pastes the result back over the
//! original pixels with [`Output::mask`], so pixels outside the mask stay bit-identical.

use crate::engine::error::{EngineError, Result};
use crate::engine::fill::harmonic_fill;
use crate::engine::mask::Mask;
use crate::engine::model::Bcm;
use crate::engine::noise::NoiseRng;
use crate::engine::planar::Planar;
use crate::engine::sampler::{Monitor, Progress, Tiling};
use crate::engine::schedule::{SIGMA_MIN, in_range};

use super::{Output, crop, work_region};

/// How the estimate is brought back up to each level of the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Renoise {
    /// Add fresh Gaussian noise (consistency-model style, 1 NFE per level).
    Fresh,
    /// Invert with the BCM from a small noise level (2 NFE per level): keeps more of the
    /// estimate's structure, so the fill settles in fewer levels.
    Invert,
}

/// What the loop starts from inside the mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MaskedContent {
    /// The photo's own pixels: at low strength the result keeps their layout.
    Original,
    /// A smooth fill from the mask's border (what removing an object needs): at low
    /// strength the network only adds texture to the surrounding colours.
    Fill,
}

#[derive(Debug, Clone)]
pub struct InpaintParams {
    /// Noise levels of the loop, decreasing. The first sets the strength: 80 fills from
    /// scratch, a few units keeps the layout of what is under the mask.
    pub levels: Vec<f32>,
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
            levels: vec![80.0, 20.0, 6.0, 2.0, 0.6, 0.2],
            grow: 4,
            feather: 8,
            context: 64,
            renoise: Renoise::Fresh,
            content: MaskedContent::Original,
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
        if let Some(&bad) = self
            .levels
            .iter()
            .find(|&&l| !in_range(l) || l <= SIGMA_MIN)
        {
            return Err(EngineError::SigmaOutOfRange(bad));
        }
        if self.levels.windows(2).any(|w| w[1] >= w[0]) {
            return Err(EngineError::Schedule(
                "inpainting levels must decrease".into(),
            ));
        }
        Ok(())
    }

    pub fn nfe(&self) -> usize {
        self.levels.len()
            * if self.renoise == Renoise::Invert {
                2
            } else {
                1
            }
    }
}

/// Inpaint `mask` (1 = regenerate) in `image`. The returned image covers the whole photo.
pub fn inpaint(
    model: &Bcm,
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
    let soft = mask.grow(p.grow).feather(p.feather);
    let region = work_region(&soft, p.context, model.config.alignment()).ok_or_else(|| {
        EngineError::Parameter("the mask is empty: paint the area to inpaint".into())
    })?;
    let y = crop(image, region);
    let m = soft.crop(region);
    let mut rng = NoiseRng::new(p.seed);
    let total = p.nfe();
    let mut nfe = 0;
    let mut estimate = match p.content {
        MaskedContent::Original => y.clone(),
        MaskedContent::Fill => y.blend(&harmonic_fill(&y, &m.data), &m.data),
    };
    for &tau in &p.levels {
        if monitor.cancelled() {
            return Err(EngineError::Cancelled);
        }
        let noisy = match p.renoise {
            Renoise::Fresh => {
                let mut x = estimate.clone();
                x.add_scaled(&rng.normal(x.data.len()), tau);
                x
            }
            Renoise::Invert => {
                let mut x = estimate.clone();
                x.add_scaled(&rng.normal(x.data.len()), 0.07_f32.min(tau * 0.5));
                let from = 0.07_f32.min(tau * 0.5);
                let progress = Progress {
                    nfe,
                    nfe_total: total,
                    tile: 0,
                    tiles: 1,
                    level: from,
                };
                let up = model.eval(&x, from, tau, tiling, monitor, progress)?;
                nfe += 1;
                up
            }
        };
        let progress = Progress {
            nfe,
            nfe_total: total,
            tile: 0,
            tiles: 1,
            level: tau,
        };
        let mut clean = model.eval(&noisy, tau, SIGMA_MIN, tiling, monitor, progress)?;
        nfe += 1;
        clean.clamp_unit();
        estimate = y.blend(&clean, &m.data);
        monitor.progress(&Progress {
            nfe,
            nfe_total: total,
            tile: 0,
            tiles: 1,
            level: SIGMA_MIN,
        });
        monitor.state(SIGMA_MIN, &estimate);
    }
    let mut full = image.clone();
    full.paste(
        &estimate,
        0,
        0,
        region.height(),
        region.width(),
        region.y0,
        region.x0,
    );
    Ok(Output {
        image: full,
        mask: Some(soft),
        nfe,
    })
}
