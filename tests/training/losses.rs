//! Losses and schedules against hand computations: the BCT loss, the denoising warm-up,
//! the inversion level and the learning rate.

use super::*;

#[test]
fn bct_loss_matches_a_hand_computation() {
    // A fresh network outputs F = 0 (its last convolutions start at zero), so
    // f(x, t, u) = c_skip(t, u)·x and every term can be computed by hand.
    let device = Device::flex().autodiff();
    let net = UNetConfig::tiny().init(&device);
    let (b, c, h, w) = (2, 3, 8, 8);
    let d = (c * h * w) as f64;
    let x0_val = [0.3f32, -0.5];
    let z_val = [1.0f32, -0.7];
    let times = [
        Times {
            t: 2.0,
            t2: 1.5,
            t3: 0.2,
            i: 0,
            j: 0,
        },
        Times {
            t: 0.5,
            t2: 0.4,
            t3: 10.0,
            i: 0,
            j: 0,
        },
    ];
    let fill = |v: [f32; 2]| constant_per_image(&v, [b, c, h, w], &device);
    let loss = bct_loss(&net, fill(x0_val), fill(z_val), &times, 7, true);
    let huber = huber_c(c * h * w);
    let dist = |p: f64, q: f64| ((d * (p - q).powi(2) + huber * huber).sqrt() - huber) / d.sqrt();
    let mut expected = 0.0;
    let mut ct = 0.0;
    for k in 0..b {
        let (x0, z, s) = (f64::from(x0_val[k]), f64::from(z_val[k]), times[k]);
        let (t, t2, t3) = (f64::from(s.t), f64::from(s.t2), f64::from(s.t3));
        let cs = |a: f32, u: f32| f64::from(c_skip(a, u));
        let a = cs(s.t, SIGMA_MIN) * (x0 + t * z);
        let bb = cs(s.t2, SIGMA_MIN) * (x0 + t2 * z);
        let e = cs(s.t, s.t3) * (x0 + t * z);
        let g = cs(s.t3, SIGMA_MIN) * e;
        let term_ct = dist(a, bb) / (t - t2);
        ct += term_ct;
        expected += term_ct + dist(g, bb) / (t3 - t).abs();
    }
    expected /= b as f64;
    ct /= b as f64;
    let parts = loss.parts();
    assert!(
        (f64::from(parts.total) - expected).abs() < 1e-4 * expected.max(1.0),
        "{} vs {expected}",
        parts.total
    );
    assert!((f64::from(parts.ct) - ct).abs() < 1e-4 * ct.max(1.0));
    // The CT-only objective is the first term alone.
    let ct_only = bct_loss(&net, fill(x0_val), fill(z_val), &times, 7, false).parts();
    assert!((f64::from(ct_only.total) - ct).abs() < 1e-4 * ct.max(1.0));
}

#[test]
fn denoising_warm_up_loss_matches_a_hand_computation() {
    use bcm_studio::engine::train::loss::denoise_loss;
    // Fresh network: F = 0, so f(x, t, σ_min) = c_skip(t, σ_min)·x.
    let device = Device::flex().autodiff();
    let net = UNetConfig::tiny().init(&device);
    let (b, c, h, w) = (2, 3, 4, 4);
    let x0_val = [0.4f32, -0.2];
    let z_val = [0.5f32, 1.5];
    let times = [
        Times {
            t: 0.3,
            t2: 0.3,
            t3: 0.3,
            i: 0,
            j: 0,
        },
        Times {
            t: 4.0,
            t2: 4.0,
            t3: 4.0,
            i: 0,
            j: 0,
        },
    ];
    let fill = |v: [f32; 2]| constant_per_image(&v, [b, c, h, w], &device);
    // The clean crops as input, then damaged ones (the target stays the clean crop).
    for input_val in [x0_val, [0.1f32, 0.3]] {
        let got = denoise_loss(&net, fill(x0_val), fill(input_val), fill(z_val), &times, 0)
            .parts()
            .total;
        let mut expected = 0.0;
        for k in 0..b {
            let (x0, input, z, t) = (
                f64::from(x0_val[k]),
                f64::from(input_val[k]),
                f64::from(z_val[k]),
                f64::from(times[k].t),
            );
            let f = f64::from(c_skip(times[k].t, SIGMA_MIN)) * (input + t * z);
            let lambda = (t * t + 0.25) / (t * t * 0.25);
            expected += lambda * (f - x0).powi(2);
        }
        expected /= b as f64;
        assert!(
            (f64::from(got) - expected).abs() < 1e-4 * expected,
            "{got} vs {expected}"
        );
    }
}

#[test]
fn inversion_level_measures_the_noise_the_latent_carries() {
    use bcm_studio::engine::train::validate::inversion_level;
    use bcm_studio::engine::{Bcm, Planar};
    // Fresh network: F = 0, so the inversion of a grey photo is c_skip(0.07, 80)·0.07·z.
    let model = Bcm::random(UNetConfig::tiny(), 1, &Device::flex()).unwrap();
    let grey = Planar::zeros(3, 64, 64);
    let got = inversion_level(&model, &[grey]).unwrap();
    let expected = f64::from(c_skip(0.07, 80.0)) * 0.07;
    assert!(
        (got - expected).abs() < 0.03 * expected,
        "{got} vs {expected}"
    );
}

#[test]
fn the_learning_rate_warms_up_then_stays_or_eases_down_a_cosine() {
    use bcm_studio::engine::train::config::{COSINE_FLOOR, LrSchedule};
    let mut config = TrainConfig::for_preset("tiny", PathBuf::from("photos")).unwrap();
    (config.lr, config.warmup, config.total_steps) = (1e-3, 100, 1100);
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    let rates = |c: &TrainConfig| [0, 49, 99, 599, 1099, 5000].map(|s| c.lr_at(s));
    let constant = rates(&config);
    assert!(
        close(constant[0], 1e-5) && close(constant[1], 5e-4),
        "{constant:?}"
    );
    assert!(
        constant[2..].iter().all(|&r| close(r, 1e-3)),
        "{constant:?}"
    );
    config.lr_schedule = LrSchedule::Cosine;
    let cosine = rates(&config);
    // The same warm-up, then half a cosine: halfway between the rate and its floor at the
    // middle of the plan, the floor at its end and after it.
    assert_eq!(cosine[..3], constant[..3]);
    let floor = 1e-3 * COSINE_FLOOR;
    assert!(close(cosine[3], (1e-3 + floor) / 2.0), "{cosine:?}");
    assert!(
        close(cosine[4], floor) && close(cosine[5], floor),
        "{cosine:?}"
    );
    let falling = (100..1100).map(|s| config.lr_at(s)).collect::<Vec<_>>();
    assert!(falling.windows(2).all(|w| w[1] <= w[0]));
    // A run's config says which, and old ones without the field keep the constant rate.
    let mut json = serde_json::to_value(&config).unwrap();
    assert_eq!(json["lr_schedule"], "cosine");
    json.as_object_mut().unwrap().remove("lr_schedule");
    let old: TrainConfig = serde_json::from_value(json).unwrap();
    assert_eq!(old.lr_schedule, LrSchedule::Constant);
}
