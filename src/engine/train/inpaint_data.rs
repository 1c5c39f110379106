//! The inpainting objective's inputs: a random hole in every crop (boxes, brush strokes or
//! blobs covering 2-30 % of it), made soft as the editor makes a painted one, and the
//! conditioned model's inputs built from it exactly as inpainting builds them.

use burn::tensor::{Tensor, TensorData};

use super::error::TrainError;
use super::inpaint_eval::{CROP, boxes, stamp, strokes};
use crate::engine::mask::Mask;
use crate::engine::noise::NoiseRng;
use crate::engine::planar::Planar;
use crate::engine::tasks::{InpaintParams, conditioned_inputs};

/// Weight of the photo's own pixels in the loss against the hole's: they are pasted back, so
/// only enough to keep the network from drifting there.
pub const KNOWN_WEIGHT: f32 = 0.05;

/// Most of a crop a hole covers.
const MAX_COVER: f64 = 0.30;

/// A random hole in a `w`×`h` crop.
pub fn random_hole(w: usize, h: usize, rng: &mut NoiseRng) -> Mask {
    let side = w.min(h);
    let kind = rng.uniform();
    let cover = 0.02 + (MAX_COVER - 0.02) * rng.uniform();
    if kind < 0.4 {
        let edge = (((0.06 + 0.34 * rng.uniform()) * side as f64) as usize).max(4);
        let fits = ((MAX_COVER * (w * h) as f64) / (edge * edge) as f64) as usize;
        let count = (1 + (rng.uniform() * 4.0) as usize).min(fits.max(1));
        boxes(w, h, edge, count, rng)
    } else if kind < 0.75 {
        // The brush of the evaluation's strokes, whatever the crop's size.
        strokes(w, h, cover, CROP, rng)
    } else {
        blobs(w, h, cover, rng)
    }
}

/// Round blobs (clusters of overlapping discs) until `coverage` of a `w`×`h` crop.
fn blobs(w: usize, h: usize, coverage: f64, rng: &mut NoiseRng) -> Mask {
    let mut m = Mask::empty(w, h);
    let target = (coverage * (w * h) as f64) as usize;
    let s = w.min(h) as f64;
    let mut covered = 0;
    for _ in 0..50 {
        if covered >= target {
            break;
        }
        let (cy, cx) = (
            h as f64 * (0.1 + 0.8 * rng.uniform()),
            w as f64 * (0.1 + 0.8 * rng.uniform()),
        );
        for _ in 0..3 + (rng.uniform() * 4.0) as usize {
            let r = s * (0.04 + 0.08 * rng.uniform());
            let (dy, dx) = (
                (rng.uniform() - 0.5) * 2.0 * r,
                (rng.uniform() - 0.5) * 2.0 * r,
            );
            covered += stamp(&mut m, cy + dy, cx + dx, r);
            if covered >= target {
                break;
            }
        }
    }
    m
}

/// One batch's conditioned inputs: the start (fill blended in), the conditioning and the
/// loss weights ([B, 1, P, P]).
pub struct HoleBatch {
    pub start: Tensor<4>,
    pub condition: Tensor<4>,
    pub weight: Tensor<4>,
}

/// Holes for the crops of `x0` ([B, 3, P, P]), drawn from `seed`.
pub fn hole_batch(x0: &Tensor<4>, seed: u64) -> Result<HoleBatch, TrainError> {
    let [b, c, h, w] = x0.dims();
    let data: Vec<f32> = x0
        .clone()
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| TrainError::Run(format!("reading a batch back: {e:?}")))?;
    let feather = InpaintParams::default().feather;
    let grow = InpaintParams::default().grow;
    let mut rng = NoiseRng::new(seed);
    let size = c * h * w;
    let (mut start, mut cond, mut weight) = (
        Vec::with_capacity(b * size),
        Vec::with_capacity(b * (c + 1) * h * w),
        Vec::with_capacity(b * h * w),
    );
    for k in 0..b {
        let photo = Planar {
            channels: c,
            height: h,
            width: w,
            data: data[k * size..(k + 1) * size].to_vec(),
        };
        let soft = random_hole(w, h, &mut rng).grown_and_feathered(grow, feather);
        let (s, cnd) = conditioned_inputs(&photo, &soft);
        start.extend_from_slice(&s.data);
        cond.extend_from_slice(&cnd.data);
        weight.extend(
            soft.data
                .iter()
                .map(|&m| if m > 0.0 { 1.0 } else { KNOWN_WEIGHT }),
        );
    }
    let device = x0.device();
    let tensor =
        |v: Vec<f32>, ch: usize| Tensor::<4>::from_data(TensorData::new(v, [b, ch, h, w]), &device);
    Ok(HoleBatch {
        start: tensor(start, c),
        condition: tensor(cond, c + 1),
        weight: tensor(weight, 1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_holes_cover_two_to_thirty_percent() {
        let mut rng = NoiseRng::new(7);
        let mut covers = Vec::new();
        for _ in 0..200 {
            let m = random_hole(128, 128, &mut rng);
            let cover = m.data.iter().filter(|&&v| v > 0.0).count() as f64 / (128.0 * 128.0);
            covers.push(cover);
        }
        assert!(covers.iter().all(|&c| c > 0.0 && c <= 0.45), "{covers:?}");
        let mean = covers.iter().sum::<f64>() / covers.len() as f64;
        assert!((0.04..0.25).contains(&mean), "mean cover {mean}");
    }
}
