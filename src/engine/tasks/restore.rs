//! Blind restoration of JPEG-damaged or noisy photos: noise the photo up to a level that
//! drowns the damage, then let the BCM bring it back to the clean end. The damage itself
//! counts as noise already present, so a photo whose grain matches the strength is denoised
//! directly, without fresh noise on top. Further passes repeat this at half the previous
//! level on what the last pass left. For a JPEG whose file tables are known, every pass ends
//! with a projection onto the images that compress to the same file.

use crate::engine::error::{EngineError, Result};
use crate::engine::jpeg::{JpegTables, jpeg_consistent};
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
    /// Passes; pass k works at 2^-k of the strength and of the damage.
    pub passes: usize,
    pub seed: u64,
    /// Noise level the photo's grain or compression damage already amounts to (0: none).
    pub damage: f32,
    /// Mirrored copies restored and averaged in each pass: 1, 2 or 4 (as they are,
    /// left-right, top-bottom, both; each pass takes the next ones in that cycle). Each costs
    /// one network evaluation; averaging evens out the network's direction-dependent errors.
    pub mirrors: usize,
    /// The quantisation of the JPEG file the photo was decoded from, when the photo is still
    /// exactly as decoded: each pass is then made consistent with the file.
    pub jpeg: Option<JpegTables>,
}

/// The mirrorings (horizontal, vertical) of each copy.
const MIRRORS: [(bool, bool); 4] = [(false, false), (true, false), (false, true), (true, true)];

/// Passes stop below this level: the change would be under one 8-bit step.
const LOWEST_PASS: f32 = 0.005;

/// The recommended setting for photos of unknown origin: read the damage as noise of level
/// 0.05 and denoise it in one hop, without fresh noise on top.
impl Default for RestoreParams {
    fn default() -> Self {
        Self {
            sigma: 0.05,
            passes: 1,
            seed: 0,
            damage: 0.05,
            mirrors: 1,
            jpeg: None,
        }
    }
}

impl RestoreParams {
    /// The recommended setting for a photo from what is known about it: the noise measured
    /// in it (`noise_level::estimate_noise`) and, for a JPEG file, its tables, which also make
    /// every pass consistent with the file. Nothing known: the default.
    pub fn suggested(noise: Option<f32>, jpeg: Option<JpegTables>) -> Self {
        let quality = jpeg.as_ref().map(JpegTables::quality);
        match suggested_level(noise, quality) {
            Some((level, passes)) => Self {
                sigma: level,
                damage: level,
                passes,
                jpeg,
                ..Self::default()
            },
            None => Self::default(),
        }
    }
}

/// The strength (= damage) that restores a JPEG of IJG quality `quality` best with the
/// shipped model: about 0.8 / quality on held-out photos (swept over 0.45-1.0 / quality at
/// q 10-75, three passes with the file; flat near the optimum), bounded to the range measured.
pub fn jpeg_strength(quality: u8) -> f32 {
    (0.8 / f32::from(quality.max(1))).clamp(0.012, 0.1)
}

/// Passes a JPEG gets: each is kept consistent with the file. On the validation photos a
/// second pass adds 0.13 dB at q10 and 0.02 dB at q30, a third 0.02 dB at q10 and loses
/// 0.04 dB at q30 (`eval`), so two: a third would cost half again as long for nothing.
pub const JPEG_PASSES: usize = 2;

/// Strength (= damage) and passes for a photo with this measured noise and, for a JPEG,
/// this quality: the larger of the two damage levels (a noisy photo saved at a high quality
/// is damaged by its noise); [`JPEG_PASSES`] for a JPEG, whose file keeps them honest, one
/// otherwise. `None` when nothing is known.
pub fn suggested_level(noise: Option<f32>, jpeg_quality: Option<u8>) -> Option<(f32, usize)> {
    // Below LOWEST_PASS a pass would change less than one 8-bit step.
    let measured = noise.map(|n| n.clamp(LOWEST_PASS, 1.0));
    match (jpeg_quality, measured) {
        (Some(q), m) => Some((jpeg_strength(q).max(m.unwrap_or(0.0)), JPEG_PASSES)),
        (None, Some(m)) => Some((m, 1)),
        (None, None) => None,
    }
}

/// The one-hop plan of each pass.
pub fn restore_passes(p: &RestoreParams) -> Result<Vec<Plan>> {
    if !(0.002..=80.0).contains(&p.sigma) {
        return Err(EngineError::SigmaOutOfRange(p.sigma));
    }
    if ![1, 2, 4].contains(&p.mirrors) {
        return Err(EngineError::Parameter(format!(
            "mirrored copies must be 1, 2 or 4, got {}",
            p.mirrors
        )));
    }
    if !(1..=8).contains(&p.passes) {
        return Err(EngineError::Schedule(format!(
            "restoration passes must be 1-8, got {}",
            p.passes
        )));
    }
    let mut plans = vec![Plan::restoration(p.sigma, p.damage)?];
    for k in 1..p.passes {
        let scale = 0.5f32.powi(k as i32);
        let (sigma, damage) = (p.sigma * scale, p.damage * scale);
        if sigma.max(damage) < LOWEST_PASS {
            break;
        }
        plans.push(Plan::restoration(sigma, damage)?);
    }
    Ok(plans)
}

/// What a restoration runs, for its recipe: the passes' plans, and the JPEG projection.
pub fn restore_schedule(p: &RestoreParams) -> Result<String> {
    let plans: Vec<String> = restore_passes(p)?.iter().map(Plan::to_string).collect();
    let consistent = if p.jpeg.is_some() {
        ", each JPEG-consistent"
    } else {
        ""
    };
    Ok(format!("{}{consistent}", plans.join(" then ")))
}

/// Network evaluations a restoration takes.
pub fn restore_nfe(p: &RestoreParams) -> Result<usize> {
    Ok(restore_passes(p)?.len() * p.mirrors)
}

pub fn restore(
    model: &Bcm,
    image: &Planar,
    p: &RestoreParams,
    tiling: &Tiling,
    monitor: &mut dyn Monitor,
) -> Result<Output> {
    let passes = restore_passes(p)?;
    // Checked before any network work, though the projection checks again.
    if let Some(t) = &p.jpeg {
        t.check_size(image.width, image.height)?;
    }
    let total = passes.len() * p.mirrors;
    let mut current = image.clone();
    for (k, plan) in passes.iter().enumerate() {
        // Odd passes see the photo one pixel off, in the other phase of a space-to-depth
        // stem, so the stem's grid pattern does not build up from pass to pass.
        let shift = k % 2 == 1 && model.config.stem > 1;
        let weight = 1.0 / p.mirrors as f32;
        let mut out = Planar::zeros(0, 0, 0);
        for m in 0..p.mirrors {
            // Later passes take the next mirrorings, so that no pass repeats the previous
            // one's direction-dependent errors.
            let (h, v) = MIRRORS[(k * p.mirrors + m) % MIRRORS.len()];
            let mirrored = h || v;
            let mut rng = NoiseRng::new(p.seed.wrapping_add((4 * k + m) as u64));
            let done = ((k * p.mirrors + m) * plan.nfe(), total);
            // The last copy of a pass takes the photo itself when it is not mirrored: it is
            // replaced after the pass, and each copy of a 12-megapixel photo is 144 MB.
            let view = if !mirrored && m + 1 == p.mirrors {
                std::mem::replace(&mut current, Planar::zeros(0, 0, 0))
            } else {
                current.mirrored(h, v)
            };
            let copy = if shift {
                let x = view.shifted_down_right();
                drop(view);
                model
                    .run_counted(x, plan, &mut rng, tiling, monitor, done)?
                    .shifted_back()
            } else {
                model.run_counted(view, plan, &mut rng, tiling, monitor, done)?
            };
            let copy = if mirrored { copy.mirrored(h, v) } else { copy };
            // The mean of the copies; a single copy is the result itself.
            if m == 0 {
                out = copy;
                if p.mirrors > 1 {
                    out.data.iter_mut().for_each(|v| *v *= weight);
                }
            } else {
                out.add_scaled(&copy.data, weight);
            }
        }
        out.clamp_unit();
        current = match &p.jpeg {
            Some(tables) => jpeg_consistent(&out, image, tables)?,
            None => out,
        };
    }
    Ok(Output {
        image: current,
        mask: None,
        nfe: total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_take_the_larger_damage_and_passes_by_source() {
        let check = |noise, quality, level: f32, passes| {
            let (l, p) = suggested_level(noise, quality).unwrap();
            assert!(
                (l - level).abs() < 1e-6 && p == passes,
                "{noise:?} {quality:?}: {l} {p}"
            );
        };
        // A heavy JPEG: its quality decides; a noisy fine JPEG: its noise does.
        check(Some(0.004), Some(10), 0.08, JPEG_PASSES);
        check(Some(0.1), Some(90), 0.1, JPEG_PASSES);
        check(None, Some(90), 0.012, JPEG_PASSES);
        // Not a JPEG: the measured noise, one pass; a clean photo is barely touched.
        check(Some(0.03), None, 0.03, 1);
        check(Some(0.0), None, 0.005, 1);
        assert_eq!(suggested_level(None, None), None);
        let p = RestoreParams::suggested(None, None);
        assert_eq!((p.sigma, p.passes), (0.05, 1));
        assert!(restore_passes(&RestoreParams::suggested(Some(0.0), None)).is_ok());
    }
}
