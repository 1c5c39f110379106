//! The replacement loop at one scale: bring the estimate up to each noise level, let the BCM
//! jump to the clean end, keep its result inside the mask and the photo outside.

use crate::engine::error::{EngineError, Result};
use crate::engine::mask::Mask;
use crate::engine::model::Bcm;
use crate::engine::noise::NoiseRng;
use crate::engine::planar::Planar;
use crate::engine::sampler::{Monitor, Progress, Tiling};
use crate::engine::schedule::SIGMA_MIN;

use super::Renoise;

/// Network evaluations done and planned, for the progress bar across all scales.
pub(super) struct Count {
    pub done: usize,
    pub total: usize,
}

impl Count {
    pub fn progress(&self, level: f32) -> Progress {
        Progress {
            nfe: self.done,
            nfe_total: self.total,
            tile: 0,
            tiles: 1,
            level,
        }
    }
}

/// One scale's loop. `known` is the photo at this scale, `mask` its one-channel weights.
pub(super) struct Scale<'a> {
    model: &'a Bcm,
    known: &'a Planar,
    mask: &'a Mask,
    tiling: &'a Tiling,
    /// Photo pixels just around the mask, where the network's colour error is read.
    ring: Vec<usize>,
}

/// Width of the band of photo around the mask where the network's colour error is read.
const BIAS_RING: usize = 8;

impl<'a> Scale<'a> {
    pub fn new(model: &'a Bcm, known: &'a Planar, mask: &'a Mask, tiling: &'a Tiling) -> Self {
        let near = mask.grown_and_feathered(BIAS_RING, 0);
        let ring = (0..mask.data.len())
            .filter(|&i| mask.data[i] <= 0.0 && near.data[i] > 0.0)
            .collect();
        Self {
            model,
            known,
            mask,
            tiling,
            ring,
        }
    }

    /// Take out of the network's result the mean colour error it makes on the photo just
    /// around the mask: it makes the same one inside, where it shows as a tinted fill.
    fn remove_bias(&self, clean: &mut Planar) {
        if self.ring.is_empty() {
            return;
        }
        let n = self.known.pixels();
        for c in 0..clean.channels {
            let bias = self
                .ring
                .iter()
                .map(|&i| f64::from(clean.data[c * n + i] - self.known.data[c * n + i]))
                .sum::<f64>()
                / self.ring.len() as f64;
            for v in &mut clean.data[c * n..(c + 1) * n] {
                *v -= bias as f32;
            }
        }
    }

    /// Run `levels` (decreasing) from `estimate`; returns the last composite.
    pub fn run(
        &self,
        mut estimate: Planar,
        levels: &[f32],
        renoise: Renoise,
        rng: &mut NoiseRng,
        count: &mut Count,
        monitor: &mut dyn Monitor,
    ) -> Result<Planar> {
        for &tau in levels {
            if monitor.cancelled() {
                return Err(EngineError::Cancelled);
            }
            let noisy = match renoise {
                Renoise::None => estimate.clone(),
                Renoise::Fresh => {
                    let mut x = estimate.clone();
                    x.add_scaled(&rng.normal(x.data.len()), tau);
                    x
                }
                Renoise::Invert => {
                    // Invert from a small level: keeps the estimate's structure, so the fill
                    // settles in fewer levels than with fresh noise.
                    let from = 0.07_f32.min(tau * 0.5);
                    let mut x = estimate.clone();
                    x.add_scaled(&rng.normal(x.data.len()), from);
                    let up = self.model.eval(
                        &x,
                        from,
                        tau,
                        self.tiling,
                        monitor,
                        count.progress(from),
                    )?;
                    count.done += 1;
                    up
                }
            };
            let mut clean = self.model.eval(
                &noisy,
                tau,
                SIGMA_MIN,
                self.tiling,
                monitor,
                count.progress(tau),
            )?;
            count.done += 1;
            self.remove_bias(&mut clean);
            clean.clamp_unit();
            estimate = self.known.blend(&clean, &self.mask.data);
            monitor.progress(&count.progress(SIGMA_MIN));
        }
        Ok(estimate)
    }
}
