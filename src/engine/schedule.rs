//! Noise levels and the BCM parameterisation (EDM/Karras setting of the reference code).

/// Smallest noise level: the "clean" end of the trajectory.
pub const SIGMA_MIN: f32 = 0.002;
/// Largest noise level: pure noise.
pub const SIGMA_MAX: f32 = 80.0;
/// Standard deviation assumed for data in [-1, 1].
pub const SIGMA_DATA: f32 = 0.5;
/// Karras grid exponent.
pub const RHO: f32 = 7.0;

/// Skip weight of f(x, t, u) = c_skip·x + c_out·F.
pub fn c_skip(t: f32, u: f32) -> f32 {
    let (t, u, sd2) = (f64::from(t), f64::from(u), f64::from(SIGMA_DATA).powi(2));
    ((t * u + sd2) / (t * t + sd2)) as f32
}

/// Output weight; proportional to t − u, so f(x, t, t) = x whatever the network says.
pub fn c_out(t: f32, u: f32) -> f32 {
    let (t, u, sd) = (f64::from(t), f64::from(u), f64::from(SIGMA_DATA));
    ((t - u) * sd / (t * t + sd * sd).sqrt()) as f32
}

/// Input scaling; depends on the start time only.
pub fn c_in(t: f32) -> f32 {
    let (t, sd) = (f64::from(t), f64::from(SIGMA_DATA));
    (1.0 / (t * t + sd * sd).sqrt()) as f32
}

/// Time conditioning fed to the embeddings: 250·ln(σ + 1e-44).
pub fn c_noise(sigma: f32) -> f32 {
    (250.0 * (f64::from(sigma) + 1e-44).ln()) as f32
}

/// Karras grid of `n` points in ascending order: ts[0] = σ_min, ts[n−1] = σ_max.
pub fn karras_grid(n: usize) -> Vec<f32> {
    assert!(n >= 2, "a Karras grid needs at least two points");
    let lo = f64::from(SIGMA_MIN).powf(1.0 / f64::from(RHO));
    let hi = f64::from(SIGMA_MAX).powf(1.0 / f64::from(RHO));
    (0..n)
        .map(|i| {
            let a = i as f64 / (n - 1) as f64;
            (lo + a * (hi - lo)).powf(f64::from(RHO)) as f32
        })
        .collect()
}

/// Whether `sigma` is a noise level the model was trained for.
pub fn in_range(sigma: f32) -> bool {
    sigma.is_finite() && (SIGMA_MIN * 0.999..=SIGMA_MAX * 1.001).contains(&sigma)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f32, b: f32, rel: f32) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-6)
    }

    #[test]
    fn reference_example_values() {
        // Values from the reference code's scalings (bcm-method.md §2).
        assert!(close(c_skip(80.0, 0.002), 6.406e-5, 1e-3));
        assert!(close(c_out(80.0, 0.002), 0.49998, 1e-4));
        assert!(close(c_in(80.0), 0.0125, 1e-3));
        assert!(close(c_skip(0.07, 80.0), 22.950, 1e-3));
        assert!(close(c_out(0.07, 80.0), -79.158, 1e-4));
        assert!(close(c_in(0.07), 1.9807, 1e-4));
        assert!(close(c_skip(0.1, 1.2), 1.4231, 1e-4));
        assert!(close(c_out(0.1, 1.2), -1.0786, 1e-4));
        assert!(close(c_skip(15.0, 80.0), 5.3285, 1e-4));
        assert!(close(c_out(15.0, 80.0), -2.1655, 1e-4));
    }

    #[test]
    fn identity_at_equal_times() {
        for &t in &[0.002f32, 0.07, 1.0, 15.0, 80.0] {
            assert_eq!(c_skip(t, t), 1.0);
            assert_eq!(c_out(t, t), 0.0);
        }
    }

    #[test]
    fn euler_step_identity() {
        // f = c_skip x + c_out F equals (u/t) x + (1 − u/t) D with the EDM denoiser
        // D = σd²/(t²+σd²) x + t σd/√(t²+σd²) F, for any x and F.
        for &(t, u) in &[
            (80.0f32, 0.002f32),
            (0.07, 80.0),
            (0.1, 1.2),
            (15.0, 80.0),
            (3.0, 0.4),
        ] {
            for &(x, f) in &[(0.3f64, -0.7f64), (-1.0, 2.0), (5.0, 0.1)] {
                let (t64, u64, sd) = (f64::from(t), f64::from(u), 0.5f64);
                let d = sd * sd / (t64 * t64 + sd * sd) * x
                    + t64 * sd / (t64 * t64 + sd * sd).sqrt() * f;
                let euler = u64 / t64 * x + (1.0 - u64 / t64) * d;
                let bcm = f64::from(c_skip(t, u)) * x + f64::from(c_out(t, u)) * f;
                assert!(
                    (euler - bcm).abs() < 1e-4 * euler.abs().max(1.0),
                    "{t} {u}: {euler} vs {bcm}"
                );
            }
        }
    }

    #[test]
    fn c_noise_examples() {
        assert!(close(c_noise(80.0), 1095.51, 1e-5));
        assert!(close(c_noise(0.002), -1553.65, 1e-5));
    }

    #[test]
    fn karras_grid_examples() {
        let g = karras_grid(11);
        assert_eq!(g.len(), 11);
        assert!(close(g[0], 0.002, 1e-5));
        assert!(close(g[10], 80.0, 1e-5));
        assert!(close(g[1], 0.01672, 1e-3));
        assert!(close(g[9], 45.31, 1e-3));
        let g = karras_grid(321);
        assert!(close(g[1], 0.002160, 1e-3));
        assert!(close(g[319], 78.645, 1e-4));
        assert!(g.windows(2).all(|w| w[0] < w[1]));
    }
}
