//! Dropout whose masks come from an explicit seed, so that several network calls in one
//! training step see the same masks (the reference reseeds its RNG before each call).

use std::cell::Cell;

use burn::tensor::{Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Source of dropout masks for one network call. Create a fresh one with the same seed for
/// every call that must share masks.
#[derive(Debug)]
pub struct DropoutMasks {
    seed: u64,
    next: Cell<u64>,
}

impl DropoutMasks {
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            next: Cell::new(0),
        }
    }

    /// Apply dropout with probability `p` to `x`; the n-th call on this object always draws
    /// the n-th mask of the seed's sequence.
    pub fn apply(&self, x: Tensor<4>, p: f64) -> Tensor<4> {
        if p <= 0.0 {
            return x;
        }
        let index = self.next.get();
        self.next.set(index + 1);
        let dims = x.dims();
        let n: usize = dims.iter().product();
        let mut rng =
            ChaCha8Rng::seed_from_u64(self.seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let keep = 1.0 - p;
        let scale = (1.0 / keep) as f32;
        let mask: Vec<f32> = (0..n)
            .map(|_| {
                if rng.random::<f64>() < keep {
                    scale
                } else {
                    0.0
                }
            })
            .collect();
        let mask = Tensor::<4>::from_data(TensorData::new(mask, dims), &x.device());
        x * mask
    }
}
