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
}

impl Default for RestoreParams {
    fn default() -> Self {
        Self {
            sigma: 0.15,
            nfe: 2,
            seed: 0,
            damage: 0.0,
        }
    }
}

pub fn restore(
    model: &Bcm,
    image: &Planar,
    p: &RestoreParams,
    tiling: &Tiling,
    monitor: &mut dyn Monitor,
) -> Result<Output> {
    if !(0.002..=80.0).contains(&p.sigma) {
        return Err(EngineError::SigmaOutOfRange(p.sigma));
    }
    let plan = Plan::restoration(p.sigma, p.nfe, p.damage)?;
    let mut out = model.run(
        image.clone(),
        &plan,
        &mut NoiseRng::new(p.seed),
        tiling,
        monitor,
    )?;
    out.clamp_unit();
    Ok(Output {
        image: out,
        mask: None,
        nfe: plan.nfe(),
    })
}
