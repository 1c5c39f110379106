//! Inversion of a photo to a noise level, and reconstruction (inversion then generation).

use crate::engine::error::Result;
use crate::engine::model::Bcm;
use crate::engine::noise::NoiseRng;
use crate::engine::plan::Plan;
use crate::engine::planar::Planar;
use crate::engine::sampler::{Monitor, Tiling};

use super::Output;

/// A photo moved to a noise level.
#[derive(Debug, Clone)]
pub struct Inversion {
    pub latent: Planar,
    pub sigma: f32,
    pub plan: Plan,
}

/// Invert `image` with `plan` (e.g. [`Plan::inversion`]).
pub fn invert(
    model: &Bcm,
    image: &Planar,
    plan: &Plan,
    seed: u64,
    tiling: &Tiling,
    monitor: &mut dyn Monitor,
) -> Result<Inversion> {
    let latent = model.run(
        image.clone(),
        plan,
        &mut NoiseRng::new(seed),
        tiling,
        monitor,
    )?;
    Ok(Inversion {
        latent,
        sigma: plan.end(),
        plan: plan.clone(),
    })
}

/// Invert with `nfe` hops up to 80, then generate back with the `nfe`-step preset.
pub fn reconstruct(
    model: &Bcm,
    image: &Planar,
    nfe: usize,
    seed: u64,
    tiling: &Tiling,
    monitor: &mut dyn Monitor,
) -> Result<(Output, Plan, Plan)> {
    let up = Plan::inversion(model.info.ladders, nfe, 80.0)?;
    let down = Plan::generation(model.info.ladders, nfe, 80.0)?;
    let total = up.nfe() + down.nfe();
    let mut rng = NoiseRng::new(seed);
    let latent = model.run_counted(image.clone(), &up, &mut rng, tiling, monitor, (0, total))?;
    let image = model.run_counted(latent, &down, &mut rng, tiling, monitor, (up.nfe(), total))?;
    Ok((
        Output {
            image,
            mask: None,
            nfe: total,
        },
        up,
        down,
    ))
}
