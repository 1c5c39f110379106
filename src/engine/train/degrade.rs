//! Damaged inputs for restoration-aware denoising: some crops of a batch go through a JPEG
//! round trip before noise is added; the loss still compares against the clean crop.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::data::Batch;
use super::error::TrainError;
use super::validate::{images, jpeg_roundtrip};

/// Lowest and highest JPEG quality drawn (q = 10 is heavy blocking, 60 barely visible).
pub const QUALITY: (u8, u8) = (8, 60);

/// The network inputs for `batch`: each crop is JPEG-compressed with probability `fraction`
/// at a quality drawn from [`QUALITY`]. The draws depend only on (seed, batch step), so a
/// resumed run sees the same inputs.
pub fn jpeg_inputs(batch: &Batch, fraction: f64, seed: u64) -> Result<Vec<f32>, TrainError> {
    let mut rng =
        ChaCha8Rng::seed_from_u64(seed ^ batch.step.wrapping_mul(0xD6E8_FEB8_6659_FD93) ^ 0x5EED);
    let mut out = Vec::with_capacity(batch.data.len());
    for crop in images(batch) {
        if rng.random::<f64>() < fraction {
            let quality = rng.random_range(QUALITY.0..=QUALITY.1);
            out.extend(jpeg_roundtrip(&crop, quality)?.data);
        } else {
            out.extend(crop.data);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(step: u64) -> Batch {
        let p = 16;
        // A smooth gradient with a sharp edge: JPEG changes it, but not by much.
        let data = (0..2 * 3 * p * p)
            .map(|i| {
                let x = (i % p) as f32 / p as f32;
                if x > 0.5 { 0.8 } else { x - 0.6 }
            })
            .collect();
        Batch {
            step,
            size: 2,
            patch: p,
            data,
        }
    }

    #[test]
    fn no_share_keeps_the_crops_and_a_full_share_compresses_each() {
        let b = batch(3);
        assert_eq!(jpeg_inputs(&b, 0.0, 1).unwrap(), b.data);
        let damaged = jpeg_inputs(&b, 1.0, 1).unwrap();
        let per = 3 * 16 * 16;
        for k in 0..2 {
            let (clean, bad) = (
                &b.data[k * per..(k + 1) * per],
                &damaged[k * per..(k + 1) * per],
            );
            let mse: f32 = clean
                .iter()
                .zip(bad)
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f32>()
                / per as f32;
            assert!(mse > 1e-6 && mse < 0.05, "crop {k}: mse {mse}");
        }
    }

    #[test]
    fn the_damage_depends_only_on_seed_and_step() {
        let b = batch(7);
        assert_eq!(
            jpeg_inputs(&b, 0.5, 2).unwrap(),
            jpeg_inputs(&b, 0.5, 2).unwrap()
        );
        let other: Vec<bool> = (0..40)
            .map(|s| jpeg_inputs(&batch(s), 0.5, 2).unwrap() != batch(s).data)
            .collect();
        let damaged = other.iter().filter(|&&d| d).count();
        // Each of the 40 batches has 2 crops; at a share of ½ most batches have one damaged.
        assert!(
            damaged > 20 && damaged < 40,
            "{damaged} of 40 batches damaged"
        );
    }
}
