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
        let mut out = vec![0.0; n];
        self.add_normal(&mut out, 1.0);
        out
    }

    /// Adds `scale` times the next `values.len()` N(0, 1) samples to `values`, without a noise
    /// image in memory (a 12-megapixel photo's is 144 MB). Samples come in Box–Muller pairs;
    /// an odd count drops the last pair's second.
    pub fn add_normal(&mut self, values: &mut [f32], scale: f32) {
        for pair in values.chunks_mut(2) {
            let u1: f64 = self.rng.random::<f64>().max(f64::MIN_POSITIVE);
            let u2: f64 = self.rng.random();
            let r = (-2.0 * u1.ln()).sqrt();
            let a = std::f64::consts::TAU * u2;
            pair[0] += scale * (r * a.cos()) as f32;
            if let Some(second) = pair.get_mut(1) {
                *second += scale * (r * a.sin()) as f32;
            }
        }
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
    fn adding_noise_in_place_equals_adding_the_drawn_noise() {
        for n in [0, 1, 2, 7, 1000] {
            let mut drawn = NoiseRng::new(5);
            let base: Vec<f32> = (0..n).map(|i| i as f32 * 0.1).collect();
            let z = drawn.normal(n);
            let want: Vec<f32> = base.iter().zip(&z).map(|(b, z)| b + 0.3 * z).collect();
            let mut added = NoiseRng::new(5);
            let mut got = base.clone();
            added.add_normal(&mut got, 0.3);
            assert_eq!(got, want);
            assert_eq!(added.normal(3), drawn.normal(3), "the streams go on alike");
        }
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
