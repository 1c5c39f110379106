//! Steps of the probability-flow ODE dx/dσ = (x − D(x, σ))/σ from a denoiser D: the Euler
//! (DDIM) step and Heun's second-order correction. A hop of a BCM moves along the same ODE in
//! one evaluation; these are for models that act as denoisers between their trained ends (the
//! shipped one), where a Heun hop follows the ODE far more closely for two evaluations.

/// Euler step from level `t` to `u` given the denoised estimate `d` of `x`:
/// x + (u − t)(x − d)/t, which is DDIM's d + (u/t)(x − d).
pub fn euler(x: &[f32], d: &[f32], t: f32, u: f32) -> Vec<f32> {
    let r = u / t;
    x.iter().zip(d).map(|(&x, &d)| d + r * (x - d)).collect()
}

/// Heun step from `t` to `u`: the mean of the slopes at the start (`d_start` denoises `x`
/// at `t`) and at the Euler prediction `predicted` (`d_end` denoises it at `u`).
pub fn heun(
    x: &[f32],
    d_start: &[f32],
    predicted: &[f32],
    d_end: &[f32],
    t: f32,
    u: f32,
) -> Vec<f32> {
    let h = 0.5 * (u - t);
    x.iter()
        .zip(d_start)
        .zip(predicted.iter().zip(d_end))
        .map(|((&x, &ds), (&p, &de))| x + h * ((x - ds) / t + (p - de) / u))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Data ~ N(0, s²) has the exact denoiser D(x, σ) = x s²/(s² + σ²), and the ODE carries x
    // at σ0 to x √(s² + σ²)/√(s² + σ0²).
    const S2: f32 = 0.25;
    fn denoise(x: &[f32], sigma: f32) -> Vec<f32> {
        x.iter().map(|v| v * S2 / (S2 + sigma * sigma)).collect()
    }
    fn exact(x: f32, from: f32, to: f32) -> f32 {
        x * ((S2 + to * to) / (S2 + from * from)).sqrt()
    }

    #[test]
    fn heun_follows_the_ode_much_closer_than_euler() {
        for (t, u) in [(2.0f32, 1.6f32), (0.5, 0.6), (0.3, 0.2), (10.0, 8.0)] {
            let x = [0.7f32, -1.3];
            let d = denoise(&x, t);
            let e = euler(&x, &d, t, u);
            let h = heun(&x, &d, &e, &denoise(&e, u), t, u);
            let want = exact(x[1], t, u);
            let (err_e, err_h) = ((e[1] - want).abs(), (h[1] - want).abs());
            assert!(
                err_h < 0.35 * err_e,
                "{t}->{u}: euler {err_e}, heun {err_h}"
            );
        }
    }

    #[test]
    fn euler_is_ddim() {
        let (x, d) = ([1.0f32, -0.5], [0.2f32, 0.1]);
        let e = euler(&x, &d, 4.0, 1.0);
        assert!((e[0] - (0.2 + 0.25 * 0.8)).abs() < 1e-6);
        assert!((e[1] - (0.1 + 0.25 * -0.6)).abs() < 1e-6);
    }
}
