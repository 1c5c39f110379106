//! Inpainting with a mask-conditioned model: one evaluation from the classical fill, the
//! network told which pixels are the photo's (the photo with its hole blanked, and the mask).
//! Training builds its inputs with the same function, so what the model learned is what it
//! is asked.

use crate::engine::error::{EngineError, Result};
use crate::engine::fill::harmonic_fill;
use crate::engine::mask::Mask;
use crate::engine::model::Bcm;
use crate::engine::planar::Planar;
use crate::engine::sampler::{Monitor, Tiling};
use crate::engine::schedule::SIGMA_MIN;

use super::levels::Count;

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
    inputs_from_fill(photo, soft, &harmonic_fill(photo, &core(&soft.data)))
}

/// [`conditioned_inputs`] with the harmonic fill of `soft`'s core already at hand.
fn inputs_from_fill(photo: &Planar, soft: &Mask, fill: &Planar) -> (Planar, Planar) {
    let start = photo.blend(fill, &soft.data);
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
/// `hard` is the hole before feathering (the painted mask, grown): each of its parts keeps the
/// classical fill's mean colour.
pub(super) fn fill_conditioned(
    model: &Bcm,
    photo: &Planar,
    hard: &Mask,
    soft: &Mask,
    tiling: &Tiling,
    count: &mut Count,
    monitor: &mut dyn Monitor,
) -> Result<Planar> {
    if monitor.cancelled() {
        return Err(EngineError::Cancelled);
    }
    let soft_core = core(&soft.data);
    let fill = harmonic_fill(photo, &soft_core);
    let (start, condition) = inputs_from_fill(photo, soft, &fill);
    let mut out = model.eval_conditioned(
        &start,
        Some(&condition),
        CONDITIONED_LEVEL,
        SIGMA_MIN,
        tiling,
        monitor,
        count.progress(CONDITIONED_LEVEL),
    )?;
    count.done += 1;
    monitor.progress(&count.progress(SIGMA_MIN));
    // The network's mean colour over a hole drifts (a flat field came back 4/255 off); the
    // harmonic fill's is the surroundings'. Its fill of the hole as painted, not of the
    // feather's core: that core bridges strokes that run close and rounds into concave
    // corners, and then the mean is taken over pixels the user left alone.
    let hard = core_mask(hard);
    // Most holes (boxes, strokes apart from each other) are the feather's core itself.
    let target = if hard.data == soft_core {
        fill
    } else {
        harmonic_fill(photo, &hard.data)
    };
    match_mean(&mut out, &target, soft, &hard);
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

/// Shift each channel of `out` over each part of `hard` (4-connected) so that its mean there
/// is `target`'s: each hole takes the colour of its own surroundings and keeps the network's
/// structure. The rest of what `soft` reaches (its feathered edge) takes the shift of the
/// nearest part, so strokes that run within each other's feather keep their own.
fn match_mean(out: &mut Planar, target: &Planar, soft: &Mask, hard: &Mask) {
    let n = out.pixels();
    let cores = hard.parts();
    if cores.is_empty() {
        return;
    }
    let owner = nearest_core(soft, &cores);
    let ch = out.channels;
    let mut bias = vec![0.0f32; cores.len() * ch];
    for (k, core) in cores.iter().enumerate() {
        for c in 0..ch {
            let sum: f64 = core
                .iter()
                .map(|&i| f64::from(out.data[c * n + i] - target.data[c * n + i]))
                .sum();
            bias[k * ch + c] = (sum / core.len() as f64) as f32;
        }
    }
    for (i, k) in owner.iter().enumerate() {
        if let Some(k) = k {
            for c in 0..ch {
                out.data[c * n + i] -= bias[k * ch + c];
            }
        }
    }
}

/// The core of a mask (> 0.5) as a mask of its own.
pub(super) fn core_mask(soft: &Mask) -> Mask {
    Mask {
        width: soft.width,
        height: soft.height,
        data: core(&soft.data),
    }
}

/// For each pixel `soft` reaches (> 0), the index of the part of `cores` it is nearest to,
/// walking within the mask (breadth first from every part at once); `None` outside the mask and
/// in parts of it that hold no core.
fn nearest_core(soft: &Mask, cores: &[Vec<usize>]) -> Vec<Option<usize>> {
    let (w, h) = (soft.width, soft.height);
    let mut owner = vec![None; w * h];
    let mut queue = std::collections::VecDeque::new();
    for (k, core) in cores.iter().enumerate() {
        for &i in core {
            owner[i] = Some(k);
            queue.push_back(i);
        }
    }
    while let Some(i) = queue.pop_front() {
        for j in soft.neighbours(i) {
            if owner[j].is_none() && soft.data[j] > 0.0 {
                owner[j] = owner[i];
                queue.push_back(j);
            }
        }
    }
    owner
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
        match_mean(&mut out, &target, &soft, &soft);
        for x in [1, 6] {
            let mean: f32 = (0..h).map(|y| out.data[y * w + x]).sum::<f32>() / h as f32;
            assert!(mean.abs() < 1e-6, "hole at column {x}: mean {mean}");
        }
        // The structure inside a hole stays; pixels outside the holes are untouched.
        assert!((out.data[w + 1] - out.data[1] - 0.01).abs() < 1e-6);
        assert_eq!(out.data[3], 0.5);
        assert_eq!(soft.parts().len(), 2);
    }

    #[test]
    fn strokes_joined_by_their_feather_keep_their_own_means() {
        // Two cores (columns 1 and 5) joined by a soft bridge (columns 2-4, 0.3) into one part
        // of the soft mask; the output is off by +0.2 in one core, −0.2 in the other.
        let (w, h) = (7, 3);
        let mut soft = Mask::empty(w, h);
        for y in 0..h {
            soft.data[y * w + 1] = 1.0;
            soft.data[y * w + 5] = 1.0;
            for x in 2..5 {
                soft.data[y * w + x] = 0.3;
            }
        }
        assert_eq!(soft.parts().len(), 1);
        let target = Planar::zeros(1, h, w);
        let mut out = Planar::zeros(1, h, w);
        for y in 0..h {
            out.data[y * w + 1] = 0.2;
            out.data[y * w + 2] = 0.2;
            out.data[y * w + 4] = -0.2;
            out.data[y * w + 5] = -0.2;
        }
        match_mean(&mut out, &target, &soft, &core_mask(&soft));
        for y in 0..h {
            // Each core and the edge next to it take that core's shift.
            for x in [1, 2, 4, 5] {
                assert!(
                    out.data[y * w + x].abs() < 1e-6,
                    "({x}, {y}): {}",
                    out.data[y * w + x]
                );
            }
            // Outside the mask nothing moves.
            assert_eq!(out.data[y * w], 0.0);
        }
    }

    #[test]
    fn painted_holes_keep_their_own_means_where_the_feather_joins_them() {
        // Two painted columns (1 and 4) whose feather between them (columns 2-3) is above 0.5,
        // so the feather's core is one part; the output is off by +0.2 in one painted column
        // and −0.2 in the other, and the target is 0 everywhere.
        let (w, h) = (6, 3);
        let (mut hard, mut soft) = (Mask::empty(w, h), Mask::empty(w, h));
        for y in 0..h {
            for x in [1, 4] {
                hard.data[y * w + x] = 1.0;
                soft.data[y * w + x] = 1.0;
            }
            for x in [2, 3] {
                soft.data[y * w + x] = 0.7;
            }
        }
        assert_eq!(core_mask(&soft).parts().len(), 1);
        let target = Planar::zeros(1, h, w);
        let mut out = Planar::zeros(1, h, w);
        for y in 0..h {
            out.data[y * w + 1] = 0.2;
            out.data[y * w + 2] = 0.2;
            out.data[y * w + 3] = -0.2;
            out.data[y * w + 4] = -0.2;
        }
        match_mean(&mut out, &target, &soft, &hard);
        for y in 0..h {
            for x in 1..5 {
                assert!(
                    out.data[y * w + x].abs() < 1e-6,
                    "({x}, {y}): {}",
                    out.data[y * w + x]
                );
            }
        }
    }
}
