//! Blind restoration of JPEG-damaged or noisy photos: noise the photo up to a level that
//! drowns the damage, then let the BCM bring it back to the clean end. The damage itself
//! counts as noise already present, so a photo whose grain matches the strength is denoised
//! directly, without fresh noise on top.

use crate::engine::error::{EngineError, Result};
use crate::engine::model::Bcm;
use crate::engine::noise::NoiseRng;
use crate::engine::plan::Plan;
use crate::engine::planar::Planar;
use crate::engine::sampler::{Monitor, Tiling};

use super::Output;

#[derive(Debug, Clone)]
pub struct RestoreParams {
    /// Noise level the photo is lifted to; larger removes more damage and more detail.
    pub sigma: f32,
    /// Network evaluations (each repeats at half the previous level).
    pub nfe: usize,
    pub seed: u64,
    /// Noise level the photo's grain or compression damage already amounts to (0: none).
    pub damage: f32,
    /// Mirrored copies restored and averaged: 1, 2 (left-right) or 4 (and top-bottom). Each
    /// costs the plan's NFE; averaging evens out the network's direction-dependent errors.
    pub mirrors: usize,
}

/// The mirrorings (horizontal, vertical) of each copy.
const MIRRORS: [(bool, bool); 4] = [(false, false), (true, false), (false, true), (true, true)];

/// The recommended setting for typical JPEGs: read the damage as noise of level 0.05 and
/// denoise it in one hop, without fresh noise on top.
impl Default for RestoreParams {
    fn default() -> Self {
        Self {
            sigma: 0.05,
            nfe: 1,
            seed: 0,
            damage: 0.05,
            mirrors: 1,
        }
    }
}

/// The plan a restoration runs (also what its recipe records).
pub fn restore_plan(p: &RestoreParams) -> Result<Plan> {
    if !(0.002..=80.0).contains(&p.sigma) {
        return Err(EngineError::SigmaOutOfRange(p.sigma));
    }
    if ![1, 2, 4].contains(&p.mirrors) {
        return Err(EngineError::Parameter(format!(
            "mirrored copies must be 1, 2 or 4, got {}",
            p.mirrors
        )));
    }
    Plan::restoration(p.sigma, p.nfe, p.damage)
}

/// Network evaluations a restoration takes.
pub fn restore_nfe(p: &RestoreParams) -> Result<usize> {
    Ok(restore_plan(p)?.nfe() * p.mirrors)
}

pub fn restore(
    model: &Bcm,
    image: &Planar,
    p: &RestoreParams,
    tiling: &Tiling,
    monitor: &mut dyn Monitor,
) -> Result<Output> {
    let plan = restore_plan(p)?;
    let total = restore_nfe(p)?;
    let mut out = Planar::zeros(image.channels, image.height, image.width);
    for (k, &(h, v)) in MIRRORS.iter().take(p.mirrors).enumerate() {
        let mut rng = NoiseRng::new(p.seed.wrapping_add(k as u64));
        let done = (k * plan.nfe(), total);
        let copy = model
            .run_counted(image.mirrored(h, v), &plan, &mut rng, tiling, monitor, done)?
            .mirrored(h, v);
        out.add_scaled(&copy.data, 1.0 / p.mirrors as f32);
    }
    out.clamp_unit();
    Ok(Output {
        image: out,
        mask: None,
        nfe: total,
    })
}
