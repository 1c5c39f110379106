//! eval's table, the shipped teacher found from anywhere, runs that follow their start, and
//! distillation from the command line.

use super::*;

#[test]
fn eval_prints_the_model_card_table() {
    let d = tempdir("eval");
    // Beside the training photos, not under them: the scan is recursive.
    let test = tempdir("eval-test");
    for k in 0..8u32 {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(256, 256, |x, y| {
            image::Rgb([((x + k * 9) % 255) as u8, (y * 3 % 255) as u8, 128])
        }));
        let folder = if k < 6 { &d } else { &test };
        save(&img, &folder.join(format!("p{k}.png")));
    }
    let eval = |format: &[&str]| {
        let out = bin()
            .args(["eval", "--data"])
            .arg(&d)
            .arg("--test-data")
            .arg(&test)
            .args(["--images", "2", "--size", "64"])
            .args(format)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let table = eval(&["--markdown"]);
    for row in [
        "| measurement | NFE | validation | test |",
        "| round trip to σ 80 and back | 1 + 1 |",
        "| round trip to σ 80 and back | 2 + 2 |",
        "| round trip to σ 80 and back | 8 + 8 |",
        "| JPEG q10, 1 pass | 1 |",
        "| JPEG q30, 3 passes |",
        "| white noise σ 0.2 |",
        "| four 32×32 boxes | validation (",
        "| four 32×32 boxes | test (2) |",
        "| one 64×64 box | test (2) |",
        "| brush strokes, ~10 % of the crop | validation (",
    ] {
        assert!(table.contains(row), "missing {row:?} in\n{table}");
    }
    // Without --markdown the same rows, in aligned columns for a terminal.
    let plain = eval(&[]);
    assert!(!plain.contains('|'), "{plain}");
    let rows = |text: &str| text.lines().filter(|l| l.contains("round trip")).count();
    assert_eq!(rows(&plain), rows(&table));
    assert_eq!(rows(&plain), 4);
    std::fs::remove_dir_all(&d).unwrap();
    std::fs::remove_dir_all(&test).unwrap();
}

#[test]
fn a_binary_started_outside_the_checkout_names_the_shipped_teacher_where_it_is() {
    let d = tempdir_with_photos("elsewhere");
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shipped = checkout.join(bcm_studio::engine::weights::SHIPPED_MODEL);
    let out = bin()
        .current_dir(&d)
        .args(["train", "--objective", "distill", "--init"])
        .arg(&shipped)
        .args(["--data", "photos", "--out", "runs/x", "--steps", "1"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    // The shipped model follows the ODE, so it needs a teacher; the message points at the
    // checkout's copy, which a relative path would not find from here.
    let teacher = checkout.join(bcm_studio::engine::weights::SHIPPED_TEACHER);
    assert!(teacher.exists());
    assert!(err.contains(&teacher.display().to_string()), "{err}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_run_can_follow_the_way_its_start_was_made() {
    let d = tempdir_with_photos("follow-init");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shipped = root.join(bcm_studio::engine::weights::SHIPPED_MODEL);
    let made = bcm_studio::engine::weights::embedded_card()
        .unwrap()
        .training
        .unwrap();
    let (shipped_s, photos) = (
        shipped.display().to_string(),
        d.join("photos").display().to_string(),
    );
    let out = d.join("run").display().to_string();
    // Small batches of small crops to keep the test short: flags given still decide, and the
    // paths and round trips follow the batch. Naming the objective it already has keeps the
    // rest.
    let args = [
        "train",
        "--init",
        &shipped_s,
        "--follow-init",
        "--objective",
        "distill",
        "--data",
        &photos,
        "--out",
        &out,
        "--steps",
        "1",
        "--batch",
        "3",
        "--patch",
        "32",
    ];
    ok(&args);
    let c: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("run/config.json")).unwrap()).unwrap();
    assert_eq!(
        (&c["batch"], &c["patch"], &c["paths"], &c["round_trips"]),
        (&3.into(), &32.into(), &1.into(), &3.into())
    );
    // The rest is the shipped model's own run: distillation from its teacher, its weights,
    // round-trip lengths, rate, warm-up and schedule.
    assert_eq!(c["objective"], "Distill");
    assert_eq!(c["teacher"], "assets/bcm-teacher.safetensors");
    assert_eq!(c["round_trip_weight"], made.round_trip_weight);
    assert_eq!(c["denoise_weight"], made.denoise_weight);
    assert_eq!(
        c["round_trip_lengths"],
        serde_json::json!(made.round_trip_lengths)
    );
    assert_eq!(
        (&c["warmup"], &c["lr_schedule"]),
        (&made.warmup.into(), &"cosine".into())
    );
    assert_eq!(c["jpeg_fraction"], made.jpeg_fraction);
    // A blend records no run to follow: a clear refusal.
    let blend = d.join("blend.safetensors").display().to_string();
    ok(&[
        "merge", &shipped_s, &shipped_s, "--alpha", "0.5", "-o", &blend,
    ]);
    let run2 = d.join("run2").display().to_string();
    let e = fails(&[
        "train",
        "--init",
        &blend,
        "--follow-init",
        "--data",
        &photos,
        "--out",
        &run2,
    ]);
    assert!(e.contains("records no training run"), "{e}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_distillation_from_the_cli_starts_like_the_train_tab_unless_told_otherwise() {
    let d = tempdir_with_photos("distill-defaults");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = |run: &str, extra: &[&str]| -> serde_json::Value {
        let out = d.join(run).display().to_string();
        let mut args = vec!["train", "--objective", "distill", "--data"];
        let photos = d.join("photos").display().to_string();
        let (init, teacher) = (
            root.join(bcm_studio::engine::weights::SHIPPED_MODEL),
            root.join(bcm_studio::engine::weights::SHIPPED_TEACHER),
        );
        let (init, teacher) = (init.display().to_string(), teacher.display().to_string());
        args.extend([photos.as_str(), "--init", &init, "--teacher", &teacher]);
        args.extend([
            "--out", &out, "--steps", "1", "--batch", "3", "--patch", "32",
        ]);
        args.extend(extra);
        ok(&args);
        serde_json::from_slice(&std::fs::read(d.join(run).join("config.json")).unwrap()).unwrap()
    };
    // Denoising crops and round trips of 2 NFE, as the tab's distillation; the round trips fit
    // in the batch.
    let c = config("plain", &[]);
    assert_eq!(c["denoise_share"], 0.5, "{c}");
    assert_eq!(c["round_trips"], 3, "{c}");
    assert_eq!(c["round_trip_nfe"], 2, "{c}");
    // Flags still decide.
    let c = config(
        "told",
        &[
            "--round-trips",
            "1",
            "--round-trip-nfe",
            "1,2",
            "--denoise-share",
            "0",
        ],
    );
    assert_eq!(c["denoise_share"], 0.0, "{c}");
    assert_eq!(c["round_trips"], 1, "{c}");
    assert_eq!(c["round_trip_lengths"], serde_json::json!([1, 2]), "{c}");
    // Its export records those settings, so it can be continued the way it was made.
    let model = d.join("told.safetensors");
    let (run, model_s) = (
        d.join("told").display().to_string(),
        model.display().to_string(),
    );
    ok(&["export", "--from", &run, "-o", &model_s]);
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("told.json")).unwrap()).unwrap();
    assert_eq!(card["training"], c, "{card}");
    // A blend of it was made by no single run.
    let blend = d.join("blend.safetensors").display().to_string();
    ok(&["merge", &model_s, &model_s, "--alpha", "0.5", "-o", &blend]);
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("blend.json")).unwrap()).unwrap();
    assert!(card.get("training").is_none(), "{card}");
    std::fs::remove_dir_all(&d).unwrap();
}
