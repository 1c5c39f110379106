//! Drawing the training times: t and its lower neighbour t2 from the lognormal weights over
//! the Karras grid (top index excluded), and the extra end time t3 (t's own index excluded).

use rand::Rng;

use crate::engine::schedule::karras_grid;

pub const P_MEAN: f64 = -1.1;
pub const P_STD: f64 = 2.0;

/// The three times of one training sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Times {
    pub t: f32,
    pub t2: f32,
    pub t3: f32,
    /// Grid indices: t = ts[i + 1], t2 = ts[i], t3 = ts[j].
    pub i: usize,
    pub j: usize,
}

/// Sampler over an N-point grid.
#[derive(Debug, Clone)]
pub struct TimeSampler {
    pub grid: Vec<f32>,
    /// Lognormal mass of interval i (between ts[i] and ts[i+1]), i = 0..N−2.
    pub weights: Vec<f64>,
}

fn erf(x: f64) -> f64 {
    // Abramowitz–Stegun 7.1.26 is too coarse for the frequency test; use a series/continued
    // fraction pair accurate to ~1e-15.
    if x.abs() < 2.5 {
        let mut sum = x;
        let mut term = x;
        let x2 = x * x;
        let mut n = 0.0;
        loop {
            n += 1.0;
            term *= -x2 / n;
            let add = term / (2.0 * n + 1.0);
            sum += add;
            if add.abs() < 1e-17 * sum.abs().max(1e-300) {
                break;
            }
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    } else {
        // erfc continued fraction (Lentz), then erf = 1 − erfc.
        let ax = x.abs();
        let mut f = ax;
        let mut c = ax;
        let mut d = 0.0;
        for k in 1..200 {
            let a = k as f64 * 0.5;
            d = ax + a * d;
            d = 1.0 / d;
            c = ax + a / c;
            let delta = c * d;
            f *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        let erfc = (-ax * ax).exp() / (f * std::f64::consts::PI.sqrt());
        (1.0 - erfc).copysign(x)
    }
}

fn draw(weights: &[f64], rng: &mut impl Rng) -> usize {
    let total: f64 = weights.iter().sum();
    let mut u = rng.random::<f64>() * total;
    for (k, &w) in weights.iter().enumerate() {
        if u < w {
            return k;
        }
        u -= w;
    }
    weights.iter().rposition(|&w| w > 0.0).unwrap_or(0)
}

impl TimeSampler {
    pub fn new(points: usize) -> Self {
        let grid = karras_grid(points.max(3));
        let cdf = |s: f32| erf((f64::from(s).ln() - P_MEAN) / (std::f64::consts::SQRT_2 * P_STD));
        let weights = grid.windows(2).map(|w| cdf(w[1]) - cdf(w[0])).collect();
        Self { grid, weights }
    }

    /// Probability of choosing interval i for t (top interval excluded).
    pub fn p_t(&self) -> Vec<f64> {
        let mut w = self.weights.clone();
        if let Some(last) = w.last_mut() {
            *last = 0.0;
        }
        normalise(w)
    }

    /// Probability of t3 = ts[j] given t = ts[i + 1]: the interval weights with index i + 1
    /// removed (so t3 ∈ {ts[0] … ts[N−2]} without t).
    pub fn p_t3(&self, i: usize) -> Vec<f64> {
        let mut w = self.weights.clone();
        if i + 1 < w.len() {
            w[i + 1] = 0.0;
        }
        normalise(w)
    }

    pub fn sample(&self, rng: &mut impl Rng) -> Times {
        let i = draw(&self.p_t(), rng);
        let j = draw(&self.p_t3(i), rng);
        Times {
            t: self.grid[i + 1],
            t2: self.grid[i],
            t3: self.grid[j],
            i,
            j,
        }
    }
}

/// Noise level for the denoising warm-up: ln t ~ N(−1.2, 1.2²) (EDM), clipped to the range.
/// A denoising time no higher than `cap` (drawn again until it is).
pub fn sample_denoise_below(rng: &mut impl Rng, cap: f32) -> Times {
    loop {
        let times = sample_denoise(rng);
        if times.t <= cap {
            return times;
        }
    }
}

pub fn sample_denoise(rng: &mut impl Rng) -> Times {
    let (u1, u2): (f64, f64) = (rng.random::<f64>().max(f64::MIN_POSITIVE), rng.random());
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    let t = (-1.2 + 1.2 * z)
        .exp()
        .clamp(f64::from(crate::engine::schedule::SIGMA_MIN) * 2.0, 80.0) as f32;
    Times {
        t,
        t2: t,
        t3: t,
        i: 0,
        j: 0,
    }
}

fn normalise(w: Vec<f64>) -> Vec<f64> {
    let total: f64 = w.iter().sum();
    w.into_iter().map(|v| v / total).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn erf_values() {
        assert!((erf(0.5) - 0.520_499_877_813_046_5).abs() < 1e-12);
        assert!((erf(-1.0) + 0.842_700_792_949_714_9).abs() < 1e-12);
        assert!((erf(3.0) - 0.999_977_909_503_001_4).abs() < 1e-12);
    }

    #[test]
    fn t_never_sigma_max_t3_never_t() {
        let s = TimeSampler::new(11);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        for _ in 0..5000 {
            let x = s.sample(&mut rng);
            assert!(x.t < 80.0 && x.t > x.t2);
            assert_eq!(x.i + 1, s.grid.iter().position(|&g| g == x.t).unwrap());
            assert_ne!(x.j, x.i + 1);
            assert!(x.t3 < 80.0);
        }
    }

    #[test]
    fn empirical_frequencies_match_the_formula() {
        let s = TimeSampler::new(21);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let n = 200_000;
        let mut count_i = [0usize; 20];
        let mut count_j_given_5 = [0usize; 20];
        let mut given_5 = 0;
        for _ in 0..n {
            let x = s.sample(&mut rng);
            count_i[x.i] += 1;
            if x.i == 5 {
                given_5 += 1;
                count_j_given_5[x.j] += 1;
            }
        }
        let p = s.p_t();
        for (k, &c) in count_i.iter().enumerate() {
            let expect = p[k] * n as f64;
            let sd = (expect * (1.0 - p[k])).sqrt().max(1.0);
            assert!(
                (c as f64 - expect).abs() < 5.0 * sd,
                "t interval {k}: {c} vs {expect:.0}"
            );
        }
        let p3 = s.p_t3(5);
        assert_eq!(p3[6], 0.0);
        for (k, &c) in count_j_given_5.iter().enumerate() {
            let expect = p3[k] * given_5 as f64;
            let sd = (expect * (1.0 - p3[k])).sqrt().max(1.0);
            assert!(
                (c as f64 - expect).abs() < 5.0 * sd,
                "t3 index {k}: {c} vs {expect:.0}"
            );
        }
    }
}
