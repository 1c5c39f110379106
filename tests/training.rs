//! Training: the BCT loss on a hand-computable case, a short run that learns, and a resume
//! that continues the same loss curve.

mod common;

use std::path::{Path, PathBuf};

use bcm_studio::engine::network::UNetConfig;
use bcm_studio::engine::plan::Ladders;
use bcm_studio::engine::schedule::{SIGMA_MIN, c_skip};
use bcm_studio::engine::train::loss::{bct_loss, huber_c};
use bcm_studio::engine::train::times::Times;
use bcm_studio::engine::train::{ResumeChanges, StepReport, TrainConfig, Trainer};
use burn::tensor::{Device, Tensor, TensorData};

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bcm-train-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A folder of small generated "photos" with structure to learn.
fn photo_folder(dir: &Path, n: u32) {
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    for k in 0..n {
        let img = image::RgbImage::from_fn(72, 56, |x, y| {
            let v = ((x as f32 * 0.15 + k as f32).sin() * 80.0
                + (y as f32 * 0.2).cos() * 60.0
                + 120.0) as u8;
            image::Rgb([v, v.wrapping_add(40), 255 - v])
        });
        let name = if k % 2 == 0 {
            dir.join(format!("p{k}.png"))
        } else {
            dir.join("sub").join(format!("p{k}.jpg"))
        };
        img.save(name).unwrap();
    }
}

/// A batch whose image k is filled with `values[k]`.
fn constant_per_image(values: &[f32], shape: [usize; 4], device: &Device) -> Tensor<4> {
    let [b, c, h, w] = shape;
    let data: Vec<f32> = (0..b)
        .flat_map(|k| std::iter::repeat_n(values[k], c * h * w))
        .collect();
    Tensor::<4>::from_data(TensorData::new(data, shape), device)
}

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

/// The settings fail validation with a message that says `why`.
fn assert_refused(config: &TrainConfig, why: &str) {
    let message = config
        .validate()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(message.contains(why), "{message}");
}

/// Two first steps with the same draws: the pairs' parts agree, and what the loss holds beyond
/// them (denoising part or round trips) is `factor` times larger in `heavy`.
fn assert_extra_part_scaled(light: &StepReport, heavy: &StepReport, factor: f32) {
    let extra = |r: &StepReport| r.loss - r.ct - r.bcm;
    assert!(
        (light.ct - heavy.ct).abs() <= 1e-6 * light.ct.max(1e-3),
        "{light:?} {heavy:?}"
    );
    let (a, b) = (extra(light), extra(heavy));
    assert!((b - factor * a).abs() <= 1e-3 * b, "{a} {b}");
}

fn tiny_config(data: &Path) -> TrainConfig {
    let mut c = TrainConfig::for_preset("tiny", data.to_path_buf()).unwrap();
    c.batch = 4;
    c.patch = 32;
    c.total_steps = 40;
    c.checkpoint_every = 3;
    c.validate_every = 1000;
    c.sample_every = 1000;
    c.warmup = 5;
    c.lr = 1e-3;
    c.downscale = 1;
    c
}

#[test]
fn resume_continues_the_same_loss_curve() {
    let d = tempdir("resume");
    photo_folder(&d.join("photos"), 6);
    let device = Device::flex();
    let config = tiny_config(&d.join("photos"));

    let mut straight = Trainer::start(config.clone(), &d.join("a"), &device).unwrap();
    let losses: Vec<f32> = (0..6).map(|_| straight.step().unwrap().loss).collect();

    let mut first = Trainer::start(config, &d.join("b"), &device).unwrap();
    for _ in 0..3 {
        first.step().unwrap();
    }
    first.save_checkpoint().unwrap();
    first.step().unwrap(); // a step after the checkpoint, lost in the "crash"
    drop(first);
    let mut resumed = Trainer::resume(&d.join("b"), &device).unwrap();
    assert_eq!(resumed.step, 3);
    let again: Vec<f32> = (0..3).map(|_| resumed.step().unwrap().loss).collect();
    for (a, b) in losses[3..].iter().zip(&again) {
        assert!(
            (a - b).abs() <= 1e-5 * a.abs().max(1.0),
            "resumed loss {b} differs from {a}"
        );
    }
    // The log holds each step once, in order.
    let log = std::fs::read_to_string(d.join("b/log.jsonl")).unwrap();
    let steps: Vec<u64> = log
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["step"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(steps, vec![1, 2, 3, 4, 5, 6]);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_resumed_run_finds_moved_photos_and_keeps_its_plan() {
    let d = tempdir("moved");
    photo_folder(&d.join("photos"), 6);
    let device = Device::flex();
    let mut run = Trainer::start(tiny_config(&d.join("photos")), &d.join("r"), &device).unwrap();
    run.step().unwrap();
    run.save_checkpoint().unwrap();
    let held_out = run.photos.validation.len();
    drop(run);
    std::fs::rename(d.join("photos"), d.join("moved")).unwrap();
    let err = Trainer::resume(&d.join("r"), &device).err().unwrap();
    assert!(err.to_string().contains("not a folder"), "{err}");
    let changes = ResumeChanges {
        data: Some(d.join("moved")),
        validate_every: Some(7),
        ..ResumeChanges::default()
    };
    let mut resumed = Trainer::resume_with(&d.join("r"), &device, &changes).unwrap();
    assert_eq!(resumed.step, 1);
    // The split goes by path inside the folder, so the same photos stay held out.
    assert_eq!(resumed.photos.validation.len(), held_out);
    assert!(resumed.step().unwrap().loss.is_finite());
    // The new place is remembered; the plan is not touched.
    let again = Trainer::resume(&d.join("r"), &device).unwrap();
    assert_eq!(again.config.data, d.join("moved"));
    assert_eq!(again.config.validate_every, 7);
    assert_eq!(again.config.batch, tiny_config(&d.join("photos")).batch);
    let mut same = again.config.clone();
    assert!(!ResumeChanges::default().apply(&mut same));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bad_training_input_is_reported() {
    let d = tempdir("bad");
    let device = Device::flex();
    std::fs::create_dir_all(d.join("empty")).unwrap();
    let err = Trainer::start(tiny_config(&d.join("empty")), &d.join("r1"), &device)
        .err()
        .unwrap();
    assert!(err.to_string().contains("no .jpg"), "{err}");
    let err = Trainer::start(tiny_config(&d.join("missing")), &d.join("r2"), &device)
        .err()
        .unwrap();
    assert!(err.to_string().contains("not a folder"), "{err}");
    // Photos smaller than the patch.
    std::fs::create_dir_all(d.join("small")).unwrap();
    for k in 0..3 {
        image::RgbImage::from_pixel(20, 20, image::Rgb([k * 50, 0, 0]))
            .save(d.join(format!("small/{k}.png")))
            .unwrap();
    }
    let mut t = Trainer::start(tiny_config(&d.join("small")), &d.join("r3"), &device).unwrap();
    let err = t.step().err().unwrap();
    assert!(err.to_string().contains("at least 32x32"), "{err}");
    // Unreadable files among good ones are an error naming the file.
    std::fs::create_dir_all(d.join("broken")).unwrap();
    std::fs::write(d.join("broken/bad.jpg"), b"not a jpeg").unwrap();
    let err = Trainer::start(tiny_config(&d.join("broken")), &d.join("r4"), &device)
        .and_then(|mut t| t.step().map(|_| ()))
        .err()
        .unwrap();
    assert!(err.to_string().contains("bad.jpg"), "{err}");
    std::fs::remove_dir_all(&d).unwrap();
}

/// Mean squared error of one-step denoising from σ = 0.5 on the run's own crops.
fn denoise_error(model: &bcm_studio::engine::Bcm, crops: &[bcm_studio::engine::Planar]) -> f64 {
    use bcm_studio::engine::{NoiseRng, Progress, Tiling};
    let tiling = Tiling::default();
    let mut total = 0.0;
    for (k, clean) in crops.iter().enumerate() {
        let mut noisy = clean.clone();
        noisy.add_scaled(&NoiseRng::new(k as u64).normal(clean.data.len()), 0.5);
        let p = Progress {
            nfe: 0,
            nfe_total: 1,
            tile: 0,
            tiles: 1,
            level: 0.5,
        };
        let out = model
            .eval(&noisy, 0.5, SIGMA_MIN, &tiling, &mut (), p)
            .unwrap();
        total += out.mse(clean);
    }
    total / crops.len() as f64
}

#[test]
fn a_short_run_learns_to_denoise_and_writes_a_usable_model() {
    use bcm_studio::engine::train::data::{CropSpec, PhotoCache, make_batch};
    use bcm_studio::engine::train::validate::images;
    let d = tempdir("learn");
    photo_folder(&d.join("photos"), 6);
    let device = Device::flex();
    let mut config = tiny_config(&d.join("photos"));
    config.total_steps = 80;
    config.ema_decay = 0.9;
    let files: Vec<PathBuf> = (0..6)
        .map(|k| {
            if k % 2 == 0 {
                d.join(format!("photos/p{k}.png"))
            } else {
                d.join(format!("photos/sub/p{k}.jpg"))
            }
        })
        .collect();
    let crops = images(
        &make_batch(
            &files,
            &PhotoCache::default(),
            CropSpec {
                patch: 32,
                downscale: 1,
            },
            6,
            99,
            0,
        )
        .unwrap(),
    );
    let mut t = Trainer::start(config, &d.join("run"), &device).unwrap();
    let before = denoise_error(t.ema_model(), &crops);
    for _ in 0..80 {
        t.step().unwrap();
    }
    let after = denoise_error(t.ema_model(), &crops);
    assert!(after < before * 0.75, "denoising error {before} → {after}");
    let dir = t.save_checkpoint().unwrap();
    let model = bcm_studio::engine::weights::load(&dir.join("ema.safetensors"), &device).unwrap();
    assert!(model.info.trained);
    // Consistency-trained: its ladders take plain hops.
    assert_eq!(model.info.ladders, Ladders::Plain);
    assert!(
        (denoise_error(&model, &crops) - after).abs() < 1e-6,
        "the checkpoint holds the EMA weights"
    );
    // Its card records the run's settings.
    let card = bcm_studio::engine::weights::read_card(&dir.join("ema.safetensors")).unwrap();
    let run = bcm_studio::engine::train::run_config(&d.join("run")).unwrap();
    assert_eq!(card.training, Some(run));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_consistency_model_becomes_an_equal_bcm() {
    use bcm_studio::engine::model::cm_skip;
    use bcm_studio::engine::weights::{self, ModelCard};
    use bcm_studio::engine::{Bcm, Progress, Tiling};
    let d = tempdir("finetune");
    photo_folder(&d.join("photos"), 4);
    let device = Device::flex();
    // A consistency model (t only) with non-trivial weights.
    let cm_config = UNetConfig {
        bidirectional: false,
        ..UNetConfig::tiny()
    };
    let mut cm = Bcm::random(cm_config.clone(), 1, &device).unwrap();
    device.seed(2);
    cm.net = common::jitter(cm.net, 0.05);
    let cm_path = d.join("cm.safetensors");
    let mut card = ModelCard::new("cm", cm_config);
    card.steps = 1234;
    weights::save(&cm, &card, &cm_path).unwrap();

    let mut config = tiny_config(&d.join("photos"));
    config.init = Some(cm_path);
    let t = Trainer::start(config, &d.join("run"), &device).unwrap();
    // The new run's cards count the steps behind its starting weights.
    assert_eq!(t.card().steps, 1234);
    assert!(t.card().notes.contains("cm.safetensors (1234 steps)"));
    let bcm = t.ema_model();
    assert!(bcm.config.bidirectional && bcm.net.is_bidirectional());
    let x = common::noise_image(16, 16, 1.0, 3);
    let max_x = x.data.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let tiling = Tiling::default();
    for &t_level in &[0.1f32, 1.0, 10.0, 80.0] {
        let p = Progress {
            nfe: 0,
            nfe_total: 1,
            tile: 0,
            tiles: 1,
            level: t_level,
        };
        let a = cm
            .eval(&x, t_level, SIGMA_MIN, &tiling, &mut (), p)
            .unwrap();
        let b = bcm
            .eval(&x, t_level, SIGMA_MIN, &tiling, &mut (), p)
            .unwrap();
        // Only the boundary scaling differs: |c_skip^BCM − c_skip^CM|·|x|.
        let bound = (c_skip(t_level, SIGMA_MIN) - cm_skip(t_level)).abs() * max_x + 1e-4;
        let diff = common::max_abs_diff(&a, &b);
        assert!(diff <= bound, "t = {t_level}: {diff} > {bound}");
    }
    // Where the u-branch matters (u ≠ σ_min) the new BCM can invert; the CM refuses to.
    let p = Progress {
        nfe: 0,
        nfe_total: 1,
        tile: 0,
        tiles: 1,
        level: 0.1,
    };
    assert!(cm.eval(&x, 0.1, 5.0, &tiling, &mut (), p).is_err());
    assert!(bcm.eval(&x, 0.1, 5.0, &tiling, &mut (), p).is_ok());
    std::fs::remove_dir_all(&d).unwrap();
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
fn a_distillation_needs_its_teacher_and_resumes_on_the_same_loss_curve() {
    use bcm_studio::engine::Bcm;
    use bcm_studio::engine::train::Objective;
    use bcm_studio::engine::weights::{self, ModelCard};
    let d = tempdir("distill");
    photo_folder(&d.join("photos"), 6);
    let device = Device::flex();
    let mut config = tiny_config(&d.join("photos"));
    config.objective = Objective::Distill;
    config.paths = 2;
    // Without a model to distil there is nothing to follow.
    let refused = Trainer::start(config.clone(), &d.join("none"), &device);
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("--init"), "{message}");

    let mut teacher = Bcm::random(UNetConfig::tiny(), 4, &device).unwrap();
    device.seed(5);
    teacher.net = common::jitter(teacher.net, 0.05);
    let teacher_path = d.join("teacher.safetensors");
    weights::save(
        &teacher,
        &ModelCard::new("teacher", UNetConfig::tiny()),
        &teacher_path,
    )
    .unwrap();
    config.init = Some(teacher_path);

    let mut straight = Trainer::start(config.clone(), &d.join("a"), &device).unwrap();
    let config_with_share = |c: &TrainConfig, share: f64| TrainConfig {
        denoise_share: share,
        ..c.clone()
    };
    let reports: Vec<_> = (0..6).map(|_| straight.step().unwrap()).collect();
    for r in &reports {
        assert!(r.loss.is_finite() && r.loss > 0.0, "{r:?}");
        // The two directions make up the whole loss.
        assert!((r.ct + r.bcm - r.loss).abs() <= 1e-4 * r.loss, "{r:?}");
    }
    let mut first = Trainer::start(config.clone(), &d.join("b"), &device).unwrap();
    for _ in 0..3 {
        first.step().unwrap();
    }
    let saved = first.save_checkpoint().unwrap();
    drop(first);
    // The distilled model follows the ODE itself: its ladders take plain hops.
    let distilled = weights::load(&saved.join("ema.safetensors"), &device).unwrap();
    assert_eq!(distilled.info.ladders, Ladders::Plain);
    // Such a model cannot be a teacher: it would be read as a denoiser.
    let from_distilled = TrainConfig {
        init: Some(saved.join("ema.safetensors")),
        ..config.clone()
    };
    let refused = Trainer::start(from_distilled, &d.join("x"), &device);
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("plain ladders"), "{message}");
    // It can go on as the student of the denoiser it came from (--teacher), as when the run
    // folder that made it is gone: the run keeps that teacher, not its start.
    let continued = TrainConfig {
        init: Some(saved.join("ema.safetensors")),
        teacher: config.init.clone(),
        ..config.clone()
    };
    let mut next = Trainer::start(continued.clone(), &d.join("y"), &device).unwrap();
    assert!(next.step().unwrap().loss.is_finite());
    assert_eq!(
        std::fs::read(d.join("y").join("teacher.safetensors")).unwrap(),
        std::fs::read(config.init.as_ref().unwrap()).unwrap()
    );
    drop(next);
    // A teacher belongs to distillation only.
    let misplaced = TrainConfig {
        objective: Objective::Denoise,
        ..continued
    };
    assert_refused(&misplaced, "distillation only");
    // The run keeps its own copy of the teacher: replacing the file it started from (as
    // exporting a new shipped model does) does not change what the resumed run follows.
    let other = Bcm::random(UNetConfig::tiny(), 9, &device).unwrap();
    weights::save(
        &other,
        &ModelCard::new("other", UNetConfig::tiny()),
        config.init.as_ref().unwrap(),
    )
    .unwrap();
    let mut resumed = Trainer::resume(&d.join("b"), &device).unwrap();
    let again: Vec<f32> = (0..3).map(|_| resumed.step().unwrap().loss).collect();
    for (a, b) in reports[3..].iter().map(|r| r.loss).zip(&again) {
        assert!(
            (a - b).abs() <= 1e-5 * a.abs().max(1.0),
            "resumed loss {b} differs from {a}"
        );
    }
    // With a denoising share (on JPEG-damaged inputs) the denoising loss adds to the pairs'.
    let mut mixed = config_with_share(&straight.config, 0.5);
    mixed.jpeg_fraction = 0.5;
    let mut both = Trainer::start(mixed.clone(), &d.join("c"), &device).unwrap();
    let mixed_reports: Vec<_> = (0..2).map(|_| both.step().unwrap()).collect();
    for r in &mixed_reports {
        assert!(r.loss > (r.ct + r.bcm) * 1.0001, "{r:?}");
    }
    // Its weight scales the denoising part (same draws at the first step).
    let heavier = TrainConfig {
        denoise_weight: 3.0 * mixed.denoise_weight,
        ..mixed.clone()
    };
    let r3 = Trainer::start(heavier, &d.join("c3"), &device)
        .unwrap()
        .step()
        .unwrap();
    assert_extra_part_scaled(&mixed_reports[0], &r3, 3.0);
    let negative = TrainConfig {
        denoise_weight: f32::NAN,
        ..mixed
    };
    assert_refused(&negative, "denoising part's weight");
    // With round trips the model's own round trip adds to the pairs' loss, and resumes alike.
    let trips = TrainConfig {
        round_trips: 2,
        round_trip_nfe: 2,
        ..straight.config.clone()
    };
    let mut round = Trainer::start(trips.clone(), &d.join("r"), &device).unwrap();
    let trip_reports: Vec<_> = (0..3).map(|_| round.step().unwrap()).collect();
    for r in &trip_reports {
        assert!(r.loss > (r.ct + r.bcm) * 1.0001, "{r:?}");
    }
    round.save_checkpoint().unwrap();
    let fourth = round.step().unwrap().loss;
    drop(round);
    let mut round = Trainer::resume(&d.join("r"), &device).unwrap();
    assert_eq!(
        (round.config.round_trips, round.config.round_trip_nfe),
        (2, 2)
    );
    let redone = round.step().unwrap().loss;
    assert!(
        (fourth - redone).abs() <= 1e-5 * fourth.abs().max(1.0),
        "{fourth} vs {redone}"
    );
    // Their weight scales the round trip's part of the loss (same draws at the first step).
    let heavier = TrainConfig {
        round_trip_weight: 3.0,
        ..trips.clone()
    };
    let mut heavy = Trainer::start(heavier, &d.join("r3"), &device).unwrap();
    let r3 = heavy.step().unwrap();
    heavy.save_checkpoint().unwrap();
    drop(heavy);
    assert_extra_part_scaled(&trip_reports[0], &r3, 3.0);
    assert_eq!(
        Trainer::resume(&d.join("r3"), &device)
            .unwrap()
            .config
            .round_trip_weight,
        3.0
    );
    let negative = TrainConfig {
        round_trip_weight: -1.0,
        ..trips.clone()
    };
    assert_refused(&negative, "weight must be a number");
    // Round trips longer than the trained ones are refused, set alone or drawn from.
    let too_long = TrainConfig {
        round_trip_nfe: 5,
        ..trips.clone()
    };
    assert_refused(&too_long, "1 to 4 evaluations");
    let mut drawn_too_long = trips.clone();
    drawn_too_long.set_round_trip_choices(&[2, 5]);
    assert_refused(&drawn_too_long, "1 to 4 evaluations");
    // Lengths drawn from are kept with the run; one length is kept as before.
    let mut longer = trips.clone();
    longer.set_round_trip_choices(&[2, 4]);
    assert_eq!(
        (longer.round_trip_nfe, longer.round_trip_choices()),
        (0, vec![2, 4])
    );
    let mut long = Trainer::start(longer, &d.join("r24"), &device).unwrap();
    let r24 = long.step().unwrap();
    assert!(r24.loss > (r24.ct + r24.bcm) * 1.0001, "{r24:?}");
    long.save_checkpoint().unwrap();
    drop(long);
    let resumed = Trainer::resume(&d.join("r24"), &device).unwrap();
    assert_eq!(resumed.config.round_trip_choices(), vec![2, 4]);
    let mut one = trips.clone();
    one.set_round_trip_choices(&[3]);
    assert_eq!((one.round_trip_nfe, one.round_trip_lengths.len()), (3, 0));
    assert_eq!(
        TrainConfig {
            round_trip_nfe: 0,
            ..one
        }
        .round_trip_choices(),
        vec![1, 2]
    );
    // Round trips belong to distillation only.
    let misplaced = TrainConfig {
        objective: Objective::Denoise,
        teacher: None,
        ..trips
    };
    assert_refused(&misplaced, "distillation only");
    std::fs::remove_dir_all(&d).unwrap();
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

#[test]
fn the_shipped_model_goes_on_distilling_from_the_shipped_teacher() {
    use bcm_studio::engine::Bcm;
    use bcm_studio::engine::train::Objective;
    use bcm_studio::engine::weights::{self, ModelCard, SHIPPED_MODEL, SHIPPED_TEACHER};
    let d = tempdir("shipped-teacher");
    photo_folder(&d.join("photos"), 4);
    let device = Device::flex();
    let teacher = weights::load(Path::new(SHIPPED_TEACHER), &device).unwrap();
    let shipped = weights::read_card(Path::new(SHIPPED_MODEL)).unwrap();
    // A denoiser (read with Heun hops) of the shipped model's architecture.
    assert_eq!(teacher.info.ladders, Ladders::Heun);
    assert_eq!(shipped.ladders, Ladders::Plain);
    assert_eq!(teacher.config, shipped.config);
    let mut config = TrainConfig::for_preset("photo", d.join("photos")).unwrap();
    config.objective = Objective::Distill;
    (config.batch, config.patch, config.downscale, config.paths) = (4, 32, 1, 2);
    config.denoise_share = 0.0;
    config.init = Some(SHIPPED_MODEL.into());
    config.teacher = Some(SHIPPED_TEACHER.into());
    // The same first steps against another denoiser of that architecture: the shipped model
    // learned the shipped teacher's ODE, so it lands far closer to that teacher's points.
    let stranger = d.join("stranger.safetensors");
    let other = Bcm::random(shipped.config.clone(), 11, &device).unwrap();
    weights::save(
        &other,
        &ModelCard::new("stranger", shipped.config.clone()),
        &stranger,
    )
    .unwrap();
    let losses = |teacher: &Path, run: &str| -> f32 {
        let c = TrainConfig {
            teacher: Some(teacher.to_path_buf()),
            ..config.clone()
        };
        let mut trainer = Trainer::start(c, &d.join(run), &device).unwrap();
        (0..3).map(|_| trainer.step().unwrap().loss).sum()
    };
    let own = losses(Path::new(SHIPPED_TEACHER), "own");
    let strange = losses(&stranger, "stranger");
    assert!(own.is_finite() && own > 0.0, "{own}");
    assert!(own * 5.0 < strange, "{own} vs {strange}");
    std::fs::remove_dir_all(&d).unwrap();
}

/// The flags of the documented command that continues the shipped model (the one in
/// backquotes that starts from `assets/bcm-default.safetensors` with its teacher; the card's
/// history also shows earlier stages started from the file then shipped), as flag → value.
fn continue_command(doc: &str) -> std::collections::HashMap<String, String> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(doc)).unwrap();
    let start = text
        .find(
            "`bcm-studio train --objective distill --init assets/bcm-default.safetensors --teacher",
        )
        .unwrap_or_else(|| panic!("{doc} shows how to continue the shipped model"));
    let command = text[start + 1..].split('`').next().unwrap();
    let words: Vec<&str> = command.split_whitespace().collect();
    words
        .windows(2)
        .filter(|w| w[0].starts_with("--"))
        .map(|w| (w[0].to_string(), w[1].to_string()))
        .collect()
}

#[test]
fn the_documented_way_to_continue_the_shipped_model_is_the_one_its_card_records() {
    use bcm_studio::engine::weights::embedded_card;
    let t = embedded_card()
        .unwrap()
        .training
        .expect("the shipped card records its run's settings");
    let lengths: Vec<String> = t
        .round_trip_choices()
        .iter()
        .map(usize::to_string)
        .collect();
    assert_eq!(t.objective, bcm_studio::engine::train::Objective::Distill);
    let expected = [
        ("--batch", t.batch.to_string()),
        ("--paths", t.paths.to_string()),
        ("--denoise-share", t.denoise_share.to_string()),
        ("--jpeg-fraction", t.jpeg_fraction.to_string()),
        ("--round-trips", t.round_trips.to_string()),
        ("--round-trip-nfe", lengths.join(",")),
        ("--round-trip-weight", t.round_trip_weight.to_string()),
        ("--denoise-weight", t.denoise_weight.to_string()),
        ("--warmup", t.warmup.to_string()),
        ("--lr-schedule", t.lr_schedule.name().to_string()),
        ("--steps", t.total_steps.to_string()),
    ];
    // The README shows the full command too, beside `--follow-init`, which reads the record.
    for doc in ["README.md", "assets/MODEL.md"] {
        let flags = continue_command(doc);
        for (flag, value) in &expected {
            assert_eq!(flags.get(*flag), Some(value), "{doc}: {flag}");
        }
        let lr: f64 = flags["--lr"].parse().unwrap();
        assert!((lr - t.lr).abs() < 1e-12, "{doc}: --lr {lr} vs {}", t.lr);
    }
}

#[test]
fn validation_logs_the_round_trips_at_one_two_and_four_nfe() {
    use bcm_studio::engine::train::driver::{self, Control, Event, Request};
    use bcm_studio::engine::train::validate;
    struct Collect(Vec<Event>);
    impl Control for Collect {
        fn next_request(&mut self) -> Request {
            Request::Continue
        }
        fn event(&mut self, event: Event) {
            self.0.push(event);
        }
    }
    let d = tempdir("validation");
    photo_folder(&d.join("photos"), 12);
    let device = Device::flex();
    let mut config = tiny_config(&d.join("photos"));
    config.validate_every = 2;
    let mut trainer = Trainer::start(config, &d.join("run"), &device).unwrap();
    let mut seen = Collect(Vec::new());
    driver::drive(&mut trainer, 4, &mut seen).unwrap();
    let reports: Vec<_> = seen
        .0
        .iter()
        .filter_map(|e| match e {
            Event::Validation(v) => Some(v.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(reports.iter().map(|v| v.step).collect::<Vec<_>>(), [2, 4]);
    // The log holds the same numbers, the 4-NFE round trip among them.
    let log = std::fs::read_to_string(d.join("run/val.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for (line, v) in lines.iter().zip(&reports) {
        for (key, value) in [
            ("psnr_nfe1", v.psnr_nfe1),
            ("psnr_nfe2", v.psnr_nfe2),
            ("psnr_nfe4", v.psnr_nfe4),
        ] {
            assert!(value.is_finite() && value > 0.0, "{key} {value}");
            let logged = line[key].as_f64().unwrap();
            assert!((logged - value).abs() < 1e-9, "{key}: {logged} vs {value}");
        }
    }
    let val = driver::validation_images(&trainer).unwrap();
    let (four, _) = validate::reconstruction(trainer.ema_model(), &val, 4, 0).unwrap();
    assert_eq!(reports[1].psnr_nfe4, four);
    assert_ne!(reports[1].psnr_nfe4, reports[1].psnr_nfe2);
    std::fs::remove_dir_all(&d).unwrap();
}
