//! Inpainting with a mask-conditioned model: one evaluation from the classical fill, the
//! network told which pixels are the photo's (the photo with its hole blanked, and the mask).
//! Training builds its inputs with the same function, so what the model learned is what it
//! is asked.

use crate::engine::error::Result;
use crate::engine::fill::harmonic_fill;
use crate::engine::mask::Mask;
use crate::engine::model::Bcm;
use crate::engine::planar::Planar;
use crate::engine::sampler::{Monitor, Progress, Tiling};
use crate::engine::schedule::SIGMA_MIN;

/// Channels a conditioned model reads beside the image: the photo with its hole blanked (3)
/// and the soft mask (1).
pub const CONDITION_CHANNELS: usize = 4;

/// The level the fill is read at: the network takes the fill's error for noise of this level
/// and removes it in one evaluation. High enough that its output is mostly its own (c_out),
/// not the fill passed through (c_skip).
pub const CONDITIONED_LEVEL: f32 = 0.5;

/// The part of a soft mask that is mostly regenerated. The fill from the border solves only
/// there: the outer soft edge still shows mostly the photo, so its pixels are the border.
pub fn core(mask: &[f32]) -> Vec<f32> {
    mask.iter()
        .map(|&v| if v > 0.5 { 1.0 } else { 0.0 })
        .collect()
}

/// The network's input and conditioning for `photo` with the hole `soft` (1 = regenerate):
/// the photo with the harmonic fill blended in, and [photo with the hole blanked, mask].
pub fn conditioned_inputs(photo: &Planar, soft: &Mask) -> (Planar, Planar) {
    let fill = harmonic_fill(photo, &core(&soft.data));
    let start = photo.blend(&fill, &soft.data);
    let n = photo.pixels();
    let mut cond = Vec::with_capacity((photo.channels + 1) * n);
    for c in 0..photo.channels {
        let plane = &photo.data[c * n..(c + 1) * n];
        cond.extend(plane.iter().zip(&soft.data).map(|(&v, &m)| v * (1.0 - m)));
    }
    cond.extend_from_slice(&soft.data);
    let condition = Planar {
        channels: photo.channels + 1,
        height: photo.height,
        width: photo.width,
        data: cond,
    };
    (start, condition)
}

/// The conditioned model's estimate of `photo` with `soft` regenerated: the network's pixels
/// wherever the mask reaches, the photo's elsewhere (the caller composites it with the mask).
pub fn fill_conditioned(
    model: &Bcm,
    photo: &Planar,
    soft: &Mask,
    tiling: &Tiling,
    monitor: &mut dyn Monitor,
) -> Result<Planar> {
    let (start, condition) = conditioned_inputs(photo, soft);
    let progress = Progress {
        nfe: 0,
        nfe_total: 1,
        tile: 0,
        tiles: 1,
        level: CONDITIONED_LEVEL,
    };
    let mut out = model.eval_conditioned(
        &start,
        Some(&condition),
        CONDITIONED_LEVEL,
        SIGMA_MIN,
        tiling,
        monitor,
        progress,
    )?;
    monitor.progress(&Progress {
        nfe: 1,
        level: SIGMA_MIN,
        ..progress
    });
    // The network's mean colour over a hole drifts (a flat field came back 4/255 off); the
    // harmonic fill's is the surroundings', so each hole keeps its mean (over all the mask
    // reaches of it) and takes the network's structure.
    match_mean(&mut out, &start, soft);
    out.clamp_unit();
    // The photo's own pixels wherever the mask does not reach, so the result is the photo
    // there even before it is composited with the mask.
    let reach: Vec<f32> = soft
        .data
        .iter()
        .map(|&m| if m > 0.0 { 1.0 } else { 0.0 })
        .collect();
    Ok(photo.blend(&out, &reach))
}

/// Shift each channel of `out` over each 4-connected part of the soft mask `soft` (> 0) so that
/// its mean over the part's core (> 0.5, what is mostly regenerated) is `target`'s there: each
/// hole takes the colour of its own surroundings.
fn match_mean(out: &mut Planar, target: &Planar, soft: &Mask) {
    let n = out.pixels();
    for part in soft.parts() {
        let core: Vec<usize> = part
            .iter()
            .copied()
            .filter(|&i| soft.data[i] > 0.5)
            .collect();
        if core.is_empty() {
            continue;
        }
        for c in 0..out.channels {
            let plane = c * n;
            let bias = core
                .iter()
                .map(|&i| f64::from(out.data[plane + i] - target.data[plane + i]))
                .sum::<f64>()
                / core.len() as f64;
            for &i in &part {
                out.data[plane + i] -= bias as f32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_hole_takes_its_own_mean_and_keeps_its_structure() {
        // Two holes in an 8×4 plane; the output is off by +0.3 in one, −0.1 in the other.
        let (w, h) = (8, 4);
        let mut soft = Mask::empty(w, h);
        for y in 0..h {
            soft.data[y * w + 1] = 1.0;
            soft.data[y * w + 6] = 1.0;
        }
        let target = Planar::zeros(1, h, w);
        let mut out = Planar::zeros(1, h, w);
        for y in 0..h {
            out.data[y * w + 1] = 0.3 + 0.01 * y as f32;
            out.data[y * w + 6] = -0.1;
        }
        out.data[3] = 0.5; // outside both holes
        match_mean(&mut out, &target, &soft);
        for x in [1, 6] {
            let mean: f32 = (0..h).map(|y| out.data[y * w + x]).sum::<f32>() / h as f32;
            assert!(mean.abs() < 1e-6, "hole at column {x}: mean {mean}");
        }
        // The structure inside a hole stays; pixels outside the holes are untouched.
        assert!((out.data[w + 1] - out.data[1] - 0.01).abs() < 1e-6);
        assert_eq!(out.data[3], 0.5);
        assert_eq!(soft.parts().len(), 2);
    }
}
