//! Whole runs: they learn, resume on the same loss curve after a kill, find moved photos,
//! refuse bad input and log validation round trips.

use super::*;

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
    // Among readable photos, unreadable ones (garbage, a cut-short JPEG) are skipped with a
    // warning: the run goes on with the rest.
    photo_folder(&d.join("mixed"), 2);
    std::fs::write(d.join("mixed/garbage.png"), b"\x89PNG not really").unwrap();
    std::fs::write(d.join("mixed/notes.jpg"), b"not a jpeg").unwrap();
    let jpeg = std::fs::read(d.join("mixed/sub/p1.jpg")).unwrap();
    std::fs::write(d.join("mixed/cut.jpg"), &jpeg[..jpeg.len() / 2]).unwrap();
    let mut t = Trainer::start(tiny_config(&d.join("mixed")), &d.join("r5"), &device).unwrap();
    for _ in 0..5 {
        t.step().expect("bad photos are skipped, not fatal");
    }
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
    assert_eq!(model.info.ladders.kind, Ladders::Plain);
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
