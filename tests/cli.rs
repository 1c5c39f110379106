//! The command-line tool on real files: every subcommand, pixel formats, and bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use image::{DynamicImage, GenericImageView};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bcm-studio"));
    c.args(["--device", "cpu"]);
    c
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bcm-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn ok(args: &[&str]) -> String {
    let out = run(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?} failed:\n{err}");
    err
}

/// A failing command: exit code 1, one line starting with "error:", and no panic.
fn fails(args: &[&str]) -> String {
    let out = run(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{args:?} should fail cleanly:\n{err}"
    );
    let last = err.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: "), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    last.to_string()
}

fn photo(w: u32, h: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            (x * 255 / w) as u8,
            (y * 255 / h) as u8,
            (((x / 8 + y / 8) % 2) * 200) as u8,
        ])
    }))
}

fn save(img: &DynamicImage, path: &Path) {
    img.save(path).unwrap();
}

fn recipe_of(path: &Path) -> serde_json::Value {
    let recipe =
        bcm_studio::photo::read_recipe(&std::fs::read(path).unwrap()).expect("a recipe chunk");
    serde_json::to_value(recipe).unwrap()
}

#[test]
fn every_subcommand_on_a_small_photo() {
    let d = tempdir("all");
    let input = d.join("in.png");
    save(&photo(64, 64), &input);
    let p = |n: &str| d.join(n).display().to_string();
    let i = input.display().to_string();

    let log = ok(&["reconstruct", &i, "-o", &p("rec.png"), "--nfe", "2"]);
    assert!(log.contains("NFE: 2 inversion + 2 generation = 4"), "{log}");
    assert_eq!(recipe_of(&d.join("rec.png"))["command"], "reconstruct");

    ok(&[
        "generate",
        "--width",
        "48",
        "--height",
        "40",
        "--nfe",
        "3",
        "-o",
        &p("gen.png"),
    ]);
    assert_eq!(
        image::open(d.join("gen.png")).unwrap().dimensions(),
        (48, 40)
    );
    assert_eq!(recipe_of(&d.join("gen.png"))["nfe"], 3);

    ok(&[
        "invert",
        &i,
        "--sigma",
        "15",
        "-o",
        &p("lat.safetensors"),
        "--preview",
        &p("lat.png"),
    ]);
    ok(&[
        "generate",
        "--from",
        &p("lat.safetensors"),
        "--nfe",
        "2",
        "-o",
        &p("back.png"),
    ]);
    // The embedded model's ladders are plain: the generation retraces the inversion's levels
    // (0.002 > +0.07 > 1.025 > 15).
    assert_eq!(
        recipe_of(&d.join("back.png"))["schedule"][0],
        "15 > 1.025 > 0.002"
    );

    ok(&["interpolate", &i, &i, "--frames", "3", "-o", &p("mix.png")]);
    for k in 0..3 {
        assert!(d.join(format!("mix-{k:03}.png")).is_file());
    }
    ok(&[
        "interpolate",
        &i,
        &i,
        "--frames",
        "4",
        "--strip",
        "-o",
        &p("strip.png"),
    ]);
    assert_eq!(
        image::open(d.join("strip.png")).unwrap().dimensions(),
        (256, 64)
    );

    let mask = DynamicImage::ImageLuma8(image::GrayImage::from_fn(64, 64, |x, y| {
        image::Luma([if (20..40).contains(&x) && (20..40).contains(&y) {
            255
        } else {
            0
        }])
    }));
    save(&mask, &d.join("mask.png"));
    ok(&[
        "inpaint",
        &i,
        "--mask",
        &p("mask.png"),
        "--levels",
        "20,2,0.2",
        "--feather",
        "2",
        "-o",
        &p("inp.png"),
    ]);
    let (a, b) = (
        image::open(&input).unwrap().to_rgb8(),
        image::open(d.join("inp.png")).unwrap().to_rgb8(),
    );
    // Far from the mask (beyond grow + feather) every pixel is untouched.
    for (x, y, px) in a.enumerate_pixels() {
        if !(10..50).contains(&x) || !(10..50).contains(&y) {
            assert_eq!(px, b.get_pixel(x, y), "({x},{y}) changed outside the mask");
        }
    }
    assert_ne!(a.get_pixel(30, 30), b.get_pixel(30, 30));

    ok(&[
        "inpaint",
        &i,
        "--mask",
        &p("mask.png"),
        "--levels",
        "0.5,0.1",
        "--content",
        "fill",
        "-o",
        &p("inp-fill.png"),
    ]);
    assert_eq!(
        recipe_of(&d.join("inp-fill.png"))["params"]["content"],
        "Fill"
    );

    ok(&["restore", &i, "--sigma", "0.2", "-o", &p("res.jpg")]);
    ok(&["restore", &i, "--mirrors", "4", "-o", &p("res4.png")]);
    assert_eq!(recipe_of(&d.join("res4.png"))["params"]["mirrors"], 4);
    assert!(
        std::fs::read(d.join("res.jpg"))
            .unwrap()
            .windows(10)
            .any(|w| w == b"bcm-studio"),
        "JPEG carries its recipe"
    );
    // A JPEG input: its quality sets the defaults and every pass fits the file.
    let said = ok(&["restore", &p("res.jpg"), "-o", &p("res-jpeg.png")]);
    assert!(said.contains("JPEG of quality about 92"), "{said}");
    let r = recipe_of(&d.join("res-jpeg.png"));
    assert_eq!(r["params"]["jpeg_quality"], 92);
    assert_eq!(r["params"]["passes"], 3);
    assert!(
        r["schedule"][0]
            .as_str()
            .unwrap()
            .contains("JPEG-consistent")
    );
    ok(&[
        "restore",
        &p("res.jpg"),
        "--ignore-jpeg",
        "-o",
        &p("res-plain.png"),
    ]);
    let r = recipe_of(&d.join("res-plain.png"));
    assert!(r["params"]["jpeg_quality"].is_null());
    assert_eq!(r["params"]["passes"], 1);

    let strokes = DynamicImage::ImageRgba8(image::RgbaImage::from_fn(64, 64, |x, _| {
        image::Rgba([255, 0, 0, if (10..20).contains(&x) { 255 } else { 0 }])
    }));
    save(&strokes, &d.join("strokes.png"));
    ok(&[
        "edit",
        &i,
        "--strokes",
        &p("strokes.png"),
        "--sigma",
        "1.5",
        "-o",
        &p("edit.webp"),
    ]);
    assert!(d.join("edit.webp").is_file());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn pixel_formats_are_kept() {
    let d = tempdir("formats");
    let rgba = DynamicImage::ImageRgba8(image::RgbaImage::from_fn(32, 32, |x, y| {
        image::Rgba([x as u8 * 8, y as u8 * 8, 90, (x * 7) as u8])
    }));
    save(&rgba, &d.join("rgba.png"));
    ok(&[
        "restore",
        &d.join("rgba.png").display().to_string(),
        "-o",
        &d.join("rgba-out.png").display().to_string(),
    ]);
    let out = image::open(d.join("rgba-out.png")).unwrap();
    assert_eq!(out.color(), image::ColorType::Rgba8);
    assert_eq!(out.to_rgba8().get_pixel(5, 3).0[3], 35, "alpha kept");

    let gray16 = DynamicImage::ImageLuma16(image::ImageBuffer::from_fn(32, 32, |x, y| {
        image::Luma([(x * 2000 + y * 13) as u16])
    }));
    save(&gray16, &d.join("g16.png"));
    ok(&[
        "reconstruct",
        &d.join("g16.png").display().to_string(),
        "--nfe",
        "1",
        "-o",
        &d.join("g16-out.png").display().to_string(),
    ]);
    assert_eq!(
        image::open(d.join("g16-out.png")).unwrap().color(),
        image::ColorType::L16
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bad_input_gives_one_line_errors_and_no_output() {
    let d = tempdir("bad");
    let good = d.join("good.png");
    save(&photo(32, 32), &good);
    let g = good.display().to_string();
    let out = d.join("out.png");
    let o = out.display().to_string();

    let e = fails(&[
        "restore",
        &d.join("missing.png").display().to_string(),
        "-o",
        &o,
    ]);
    assert!(e.contains("missing.png"), "{e}");
    std::fs::write(d.join("corrupt.png"), b"\x89PNG\r\n\x1a\nthis is not a png").unwrap();
    fails(&[
        "restore",
        &d.join("corrupt.png").display().to_string(),
        "-o",
        &o,
    ]);
    std::fs::write(d.join("text.jpg"), b"hello").unwrap();
    fails(&[
        "reconstruct",
        &d.join("text.jpg").display().to_string(),
        "-o",
        &o,
    ]);

    save(&photo(16, 16), &d.join("small-mask.png"));
    let e = fails(&[
        "inpaint",
        &g,
        "--mask",
        &d.join("small-mask.png").display().to_string(),
        "-o",
        &o,
    ]);
    assert!(e.contains("16x16"), "{e}");
    let e = fails(&["restore", &g, "--sigma", "500", "-o", &o]);
    assert!(e.contains("500"), "{e}");
    let e = fails(&["restore", &g, "--mirrors", "3", "-o", &o]);
    assert!(e.contains("mirrored copies"), "{e}");
    let e = fails(&["inpaint", &g, "--mask", &g, "--content", "blur", "-o", &o]);
    assert!(e.contains("--content"), "{e}");
    fails(&[
        "invert",
        &g,
        "--sigma",
        "0.01",
        "-o",
        &d.join("l.safetensors").display().to_string(),
    ]);
    fails(&["generate", "--schedule", "80 > 90", "-o", &o]);
    let run = d.join("run").display().to_string();
    for (args, says) in [
        (
            &["--resume", "--batch", "4", "--lr", "1e-3"][..],
            "--batch, --lr cannot change",
        ),
        (
            &["--resume", "--lr-schedule", "cosine"],
            "--lr-schedule cannot change",
        ),
        (
            &["--data", &run, "--lr-schedule", "step"],
            "constant or cosine",
        ),
    ] {
        let e = fails(&[&["train", "--out", &run][..], args].concat());
        assert!(e.contains(says), "{e}");
    }
    fails(&[
        "restore",
        &g,
        "-o",
        &d.join("out.bmp").display().to_string(),
    ]);
    let e = fails(&["reconstruct", &g, "--nfe", "65", "-o", &o]);
    assert!(e.contains("1-64"), "{e}");
    assert!(!out.exists(), "no output may be written on failure");

    let e = fails(&["restore", &g, "-o", &g]);
    assert!(e.contains("--overwrite"), "{e}");
    fails(&[
        "restore",
        &g,
        "--model",
        &d.join("none.safetensors").display().to_string(),
        "-o",
        &o,
    ]);
    let leftovers: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn eval_prints_the_model_card_table() {
    let d = tempdir("eval");
    for k in 0..6u32 {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(160, 160, |x, y| {
            image::Rgb([((x + k * 9) % 255) as u8, (y * 3 % 255) as u8, 128])
        }));
        save(&img, &d.join(format!("p{k}.png")));
    }
    let out = bin()
        .args([
            "eval",
            "--data",
            &d.display().to_string(),
            "--images",
            "2",
            "--size",
            "64",
        ])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for row in [
        "reconstruction",
        "| 1 + 1 |",
        "| 2 + 2 |",
        "| 4 + 4 |",
        "| 64 + 63 |",
        "JPEG q=10",
        "JPEG q=30",
        "4 mirrored copies) |",
        "inpainting,",
        "inpainting, from a border fill",
    ] {
        assert!(table.contains(row), "missing {row:?} in\n{table}");
    }
    std::fs::remove_dir_all(&d).unwrap();
}

/// A fresh folder with three small photos in `photos/`, enough for a training run.
fn tempdir_with_photos(name: &str) -> PathBuf {
    let d = tempdir(name);
    std::fs::create_dir_all(d.join("photos")).unwrap();
    for k in 0..3 {
        save(&photo(96, 80), &d.join(format!("photos/p{k}.png")));
    }
    d
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

#[test]
fn merge_blends_two_model_files_and_refuses_bad_requests() {
    let d = tempdir("merge");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (a, b) = (
        root.join("assets/bcm-default.safetensors"),
        root.join("assets/bcm-teacher.safetensors"),
    );
    let (a, b) = (a.display().to_string(), b.display().to_string());
    let out = d.join("blend.safetensors");
    let out_s = out.display().to_string();
    ok(&["merge", &a, &b, "--alpha", "0.25", "-o", &out_s]);
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("blend.json")).unwrap()).unwrap();
    let notes = card["notes"].as_str().unwrap();
    assert!(notes.contains("0.750 × 'photo'"), "{notes}");
    assert!(notes.contains("0.250 × 'photo-teacher'"), "{notes}");
    // Closer to the distilled model, so its plain ladders.
    assert_eq!(card["ladders"], "plain");
    // The blend is a working model.
    let generated = d.join("gen.png");
    ok(&[
        "--model",
        &out_s,
        "generate",
        "--width",
        "32",
        "--height",
        "32",
        "-o",
        &generated.display().to_string(),
    ]);
    assert!(generated.exists());

    // Two models of one name are told apart by their files.
    let copy = d.join("copy.safetensors");
    std::fs::copy(&a, &copy).unwrap();
    std::fs::copy(root.join("assets/bcm-default.json"), d.join("copy.json")).unwrap();
    let same = d.join("same.safetensors");
    ok(&[
        "merge",
        &a,
        &copy.display().to_string(),
        "-o",
        &same.display().to_string(),
    ]);
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("same.json")).unwrap()).unwrap();
    let name = card["name"].as_str().unwrap();
    assert!(
        name.contains("bcm-default") && name.contains("copy"),
        "{name}"
    );

    // The teacher's difference from the default model, added to the default model in full,
    // is the teacher again: its one-step generation matches the teacher's from the same seed.
    // The result stays the first model moved, so its card keeps that model's ladders.
    let moved = d.join("moved.safetensors");
    let moved_s = moved.display().to_string();
    let add_difference = |alpha: &str, out: &str| {
        [
            "merge",
            &a,
            &b,
            "--difference",
            &a,
            "--alpha",
            alpha,
            "-o",
            out,
        ]
        .map(String::from)
    };
    let args = add_difference("1", &moved_s);
    ok(&args.each_ref().map(String::as_str));
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("moved.json")).unwrap()).unwrap();
    let notes = card["notes"].as_str().unwrap();
    // Named by their files, as the default model is given twice.
    assert!(notes.contains("+ 1.000 × ('bcm-teacher'"), "{notes}");
    assert_eq!(card["ladders"], "plain");
    let one_step = |model: &str, name: &str| {
        let path = d.join(name);
        let path_s = path.display().to_string();
        ok(&[
            "--model", model, "--seed", "5", "generate", "--width", "32", "--height", "32",
            "--nfe", "1", "-o", &path_s,
        ]);
        image::open(&path).unwrap().to_rgb8().into_raw()
    };
    let (got, want) = (one_step(&moved_s, "moved.png"), one_step(&b, "teacher.png"));
    let off = got
        .iter()
        .zip(&want)
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap();
    assert!(off <= 2, "{off}");
    let args = add_difference("1.5", &out_s);
    let err = fails(&args.each_ref().map(String::as_str));
    assert!(err.contains("between 0 and 1"), "{err}");

    let before = std::fs::read(&out).unwrap();
    let err = fails(&["merge", &a, &out_s, "-o", &out_s]);
    assert!(err.contains("is an input"), "{err}");
    let err = fails(&["merge", &a, &b, "--difference", &out_s, "-o", &out_s]);
    assert!(err.contains("is an input"), "{err}");
    let err = fails(&["merge", &a, &b, "--alpha", "1.5", "-o", &out_s]);
    assert!(err.contains("between 0 and 1"), "{err}");
    assert_eq!(
        std::fs::read(&out).unwrap(),
        before,
        "refusals write nothing"
    );
    std::fs::remove_dir_all(&d).unwrap();
}
