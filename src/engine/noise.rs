//! Seeded Gaussian noise generated on the host, so a seed gives the same noise on every
//! compute device and every run.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A deterministic stream of standard normal samples.
#[derive(Debug, Clone)]
pub struct NoiseRng {
    rng: ChaCha8Rng,
}

impl NoiseRng {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// `n` independent N(0, 1) samples (Box–Muller on 53-bit uniforms).
    pub fn normal(&mut self, n: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(n + 1);
        while out.len() < n {
            let u1: f64 = self.rng.random::<f64>().max(f64::MIN_POSITIVE);
            let u2: f64 = self.rng.random();
            let r = (-2.0 * u1.ln()).sqrt();
            let a = std::f64::consts::TAU * u2;
            out.push((r * a.cos()) as f32);
            out.push((r * a.sin()) as f32);
        }
        out.truncate(n);
        out
    }

    /// A uniform sample in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        self.rng.random()
    }

    /// Raw generator state, for checkpoints.
    pub fn state(&self) -> ([u8; 32], u128) {
        (self.rng.get_seed(), self.rng.get_word_pos())
    }

    pub fn from_state(seed: [u8; 32], word_pos: u128) -> Self {
        let mut rng = ChaCha8Rng::from_seed(seed);
        rng.set_word_pos(word_pos);
        Self { rng }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_noise_and_standard_moments() {
        let a = NoiseRng::new(7).normal(100_001);
        let b = NoiseRng::new(7).normal(100_001);
        assert_eq!(a, b);
        assert_ne!(a, NoiseRng::new(8).normal(100_001));
        let mean = a.iter().map(|&v| f64::from(v)).sum::<f64>() / a.len() as f64;
        let var = a
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / a.len() as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "var {var}");
    }

    #[test]
    fn state_roundtrip_continues_the_stream() {
        let mut a = NoiseRng::new(3);
        a.normal(17);
        let (seed, pos) = a.state();
        let mut b = NoiseRng::from_state(seed, pos);
        assert_eq!(a.normal(10), b.normal(10));
    }
}
