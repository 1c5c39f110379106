//! Generation from pure noise (or from any latent at a known level).

use crate::engine::error::{EngineError, Result};
use crate::engine::model::Bcm;
use crate::engine::noise::NoiseRng;
use crate::engine::plan::Plan;
use crate::engine::planar::Planar;
use crate::engine::sampler::{Monitor, Tiling};

use super::Output;

#[derive(Debug, Clone)]
pub struct GenerateParams {
    pub width: usize,
    pub height: usize,
    pub plan: Plan,
    pub seed: u64,
}

/// x_T = σ_start·z, then the plan.
pub fn generate(
    model: &Bcm,
    p: &GenerateParams,
    tiling: &Tiling,
    monitor: &mut dyn Monitor,
) -> Result<Output> {
    if p.width == 0 || p.height == 0 || p.width > 16384 || p.height > 16384 {
        return Err(EngineError::Parameter(format!(
            "image size {}x{} out of range",
            p.width, p.height
        )));
    }
    let c = model.config.image_channels;
    let mut rng = NoiseRng::new(p.seed);
    let mut x = Planar::zeros(c, p.height, p.width);
    x.add_scaled(&rng.normal(x.data.len()), p.plan.start);
    let image = model.run(x, &p.plan, &mut rng, tiling, monitor)?;
    Ok(Output {
        image,
        mask: None,
        nfe: p.plan.nfe(),
    })
}
