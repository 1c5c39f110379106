//! Interpolation between two photos in noise space: invert both once, then every frame is a
//! spherical interpolation of the two latents followed by generation.

use crate::engine::error::{EngineError, Result};
use crate::engine::model::Bcm;
use crate::engine::noise::NoiseRng;
use crate::engine::plan::Plan;
use crate::engine::planar::Planar;
use crate::engine::sampler::{Monitor, Tiling};

use super::Output;
use super::invert::{Inversion, invert};

/// Both photos inverted, ready to produce frames.
#[derive(Debug, Clone)]
pub struct Interpolator {
    pub a: Inversion,
    pub b: Inversion,
    /// Plan from the latents' level back to a clean image.
    pub generation: Plan,
}

/// Spherical interpolation of directions with linear interpolation of norms; at α = 0 and 1
/// it returns `a` and `b` exactly.
pub fn slerp(a: &[f32], b: &[f32], alpha: f32) -> Vec<f32> {
    if alpha <= 0.0 {
        return a.to_vec();
    }
    if alpha >= 1.0 {
        return b.to_vec();
    }
    let norm = |v: &[f32]| v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
    let (na, nb) = (norm(a), norm(b));
    let alpha = f64::from(alpha);
    if na == 0.0 || nb == 0.0 {
        return a
            .iter()
            .zip(b)
            .map(|(&x, &y)| ((1.0 - alpha) * f64::from(x) + alpha * f64::from(y)) as f32)
            .collect();
    }
    let dot = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum::<f64>()
        / (na * nb);
    let theta = dot.clamp(-1.0, 1.0).acos();
    let (wa, wb) = if theta.abs() < 1e-4 {
        (1.0 - alpha, alpha)
    } else {
        (
            ((1.0 - alpha) * theta).sin() / theta.sin(),
            (alpha * theta).sin() / theta.sin(),
        )
    };
    // Directions are slerped on the unit sphere, then scaled by the interpolated norm.
    let target = (1.0 - alpha) * na + alpha * nb;
    let mixed: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| wa * f64::from(x) / na + wb * f64::from(y) / nb)
        .collect();
    let nm = mixed.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-12);
    mixed
        .into_iter()
        .map(|v| (v / nm * target) as f32)
        .collect()
}

impl Interpolator {
    /// Invert `a` and `b` (same size) to `sigma` with `nfe` inversion hops; frames are then
    /// generated with `generation`, which must start at `sigma`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        model: &Bcm,
        a: &Planar,
        b: &Planar,
        sigma: f32,
        nfe: usize,
        generation: Plan,
        seed: u64,
        tiling: &Tiling,
        monitor: &mut dyn Monitor,
    ) -> Result<Self> {
        if !a.same_shape(b) {
            return Err(EngineError::SizeMismatch(format!(
                "interpolation needs two images of the same size ({}x{} vs {}x{})",
                a.width, a.height, b.width, b.height
            )));
        }
        let plan = Plan::inversion(model.info.ladders, nfe, sigma)?;
        let a = invert(model, a, &plan, seed, tiling, monitor)?;
        let b = invert(model, b, &plan, seed.wrapping_add(1), tiling, monitor)?;
        Ok(Self { a, b, generation })
    }

    /// The latent at `alpha` ∈ [0, 1].
    pub fn latent(&self, alpha: f32) -> Planar {
        let data = slerp(&self.a.latent.data, &self.b.latent.data, alpha);
        Planar {
            data,
            ..self.a.latent.clone()
        }
    }

    /// Generate the frame at `alpha`. The seed only matters for plans with noise injections.
    pub fn frame(
        &self,
        model: &Bcm,
        alpha: f32,
        seed: u64,
        tiling: &Tiling,
        monitor: &mut dyn Monitor,
    ) -> Result<Output> {
        let mut image = model.run(
            self.latent(alpha),
            &self.generation,
            &mut NoiseRng::new(seed),
            tiling,
            monitor,
        )?;
        image.clamp_unit();
        Ok(Output {
            image,
            mask: None,
            nfe: self.generation.nfe(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slerp_endpoints_and_norm() {
        let a = vec![3.0, 0.0, 0.0];
        let b = vec![0.0, 5.0, 0.0];
        assert_eq!(slerp(&a, &b, 0.0), a);
        assert_eq!(slerp(&a, &b, 1.0), b);
        let m = slerp(&a, &b, 0.5);
        let n = m.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((n - 4.0).abs() < 1e-4, "norm {n}");
        // Halfway on the arc between the axes: equal angles to both.
        assert!((m[0] - m[1]).abs() < 1e-4);
    }
}
