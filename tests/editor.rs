//! The editor driven like a person would, with egui_kittest: open, paint, inpaint, accept,
//! undo, redo, cancel; plus a rendered snapshot (wgpu on lavapipe in CI).

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bcm_studio::app::{Editor, EditorOptions, Staged, Tab, TaskKind};
use bcm_studio::engine::Tiling;
use bcm_studio::engine::plan::{Ladders, Op};
use bcm_studio::engine::planar::Planar;
use egui::{Modifiers, Pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bcm-editor-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn harness(runs: PathBuf) -> Harness<'static, Editor> {
    harness_opening(runs, None)
}

/// An editor started as `bcm-studio OPEN` starts it.
fn harness_opening(runs: PathBuf, open: Option<PathBuf>) -> Harness<'static, Editor> {
    Harness::builder()
        .with_size([1280.0, 820.0])
        .build_eframe(move |cc| {
            Editor::new(
                &cc.egui_ctx,
                EditorOptions {
                    model: common::tiny_model(3),
                    tiling: Tiling::default(),
                    config_dir: None,
                    dialogs: false,
                    open,
                    device_note: "CPU (test)".into(),
                    runs_dir: runs,
                },
            )
        })
}

/// Step the UI until `done` holds (background threads need real time).
fn wait(h: &mut Harness<'_, Editor>, what: &str, done: impl Fn(&Editor) -> bool) {
    let start = Instant::now();
    while !done(h.state()) {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "timed out waiting for {what}"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    h.step();
}

fn write_photo(path: &std::path::Path, w: u32, h: u32) {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            (x * 255 / w) as u8,
            (y * 255 / h) as u8,
            if (x / 16 + y / 16) % 2 == 0 { 220 } else { 40 },
        ])
    });
    img.save(path).unwrap();
}

fn open(h: &mut Harness<'_, Editor>, path: PathBuf) -> Planar {
    h.state_mut().open_path(path);
    wait(h, "the photo to load", |e| e.doc.is_some());
    h.run_steps(3);
    h.state().doc.as_ref().unwrap().image.clone()
}

/// A fresh editor with a 64×48 test photo `a.png` open: (its folder, the harness, the pixels).
fn editor_with_photo(name: &str) -> (PathBuf, Harness<'static, Editor>, Planar) {
    let d = tempdir(name);
    write_photo(&d.join("a.png"), 64, 48);
    let mut h = harness(d.join("runs"));
    let pixels = open(&mut h, d.join("a.png"));
    (d, h, pixels)
}

/// Drag the brush across image points (a whole drag is one stroke).
fn paint(h: &mut Harness<'_, Editor>, points: &[(f32, f32)]) {
    let to_screen = |h: &Harness<'_, Editor>, (x, y): (f32, f32)| {
        h.state().canvas.image_to_screen(Pos2::new(x, y))
    };
    let first = to_screen(h, points[0]);
    h.hover_at(first);
    h.step();
    h.drag_at(first);
    h.step();
    for &p in &points[1..] {
        let s = to_screen(h, p);
        h.hover_at(s);
        h.step();
    }
    let last = to_screen(h, *points.last().unwrap());
    h.drop_at(last);
    h.step();
    h.step();
}

#[test]
fn open_paint_inpaint_accept_undo_redo() {
    let d = tempdir("inpaint");
    let path = d.join("photo.png");
    write_photo(&path, 160, 120);
    let mut h = harness(d.join("runs"));
    let original = open(&mut h, path);

    h.key_press(egui::Key::B);
    h.state_mut().canvas.brush.size = 16.0;
    h.state_mut().canvas.brush.hardness = 1.0;
    paint(&mut h, &[(60.0, 60.0), (80.0, 60.0), (100.0, 62.0)]);
    {
        let doc = h.state().doc.as_ref().unwrap();
        assert!(
            doc.mask.data[60 * 160 + 80] > 0.99,
            "the stroke painted the mask"
        );
        assert_eq!(doc.mask.data[10 * 160 + 10], 0.0);
        assert_eq!(doc.history.len(), 1, "a whole drag is one undo step");
    }

    h.state_mut().tasks.inpaint_steps = 3;
    h.get_by_label("Inpaint mask").click();
    h.step();
    wait(&mut h, "the inpainting result", |e| {
        e.doc.as_ref().is_some_and(|d| d.staged.is_some())
    });
    // Staged: the document itself is still untouched.
    assert_eq!(h.state().doc.as_ref().unwrap().image.data, original.data);
    let soft = h
        .state()
        .doc
        .as_ref()
        .unwrap()
        .staged
        .as_ref()
        .unwrap()
        .mask
        .clone()
        .unwrap();

    h.get_by_label("Accept (Enter)").click();
    h.run_steps(2);
    let after = h.state().doc.as_ref().unwrap().image.clone();
    let n = 160 * 120;
    let mut inside_changed = 0;
    for i in 0..n {
        for c in 0..3 {
            if soft.data[i] == 0.0 {
                assert_eq!(
                    after.data[c * n + i],
                    original.data[c * n + i],
                    "pixel {i} outside the mask changed"
                );
            } else if (after.data[c * n + i] - original.data[c * n + i]).abs() > 1e-3 {
                inside_changed += 1;
            }
        }
    }
    assert!(
        inside_changed > 100,
        "only {inside_changed} values changed inside the mask"
    );

    h.key_press_modifiers(Modifiers::COMMAND, egui::Key::Z);
    h.run_steps(2);
    assert_eq!(
        h.state().doc.as_ref().unwrap().image.data,
        original.data,
        "undo restores the photo"
    );
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, egui::Key::Z);
    h.run_steps(2);
    assert_eq!(
        h.state().doc.as_ref().unwrap().image.data,
        after.data,
        "redo applies it again"
    );
    h.key_press_modifiers(Modifiers::COMMAND, egui::Key::Z);
    h.key_press_modifiers(Modifiers::COMMAND, egui::Key::Z);
    h.run_steps(2);
    assert!(
        h.state().doc.as_ref().unwrap().mask.is_empty(),
        "the stroke is undone too"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

/// Click Restore and wait for the staged result.
fn restore_and_stage(h: &mut Harness<'_, Editor>, what: &str) -> Staged {
    h.get_by_label("Restore photo").click();
    h.step();
    wait(h, what, |e| {
        e.doc.as_ref().is_some_and(|d| d.staged.is_some())
    });
    h.state().doc.as_ref().unwrap().staged.clone().unwrap()
}

fn is_jpeg_consistent(staged: &Staged) -> bool {
    staged
        .recipe
        .schedule
        .iter()
        .any(|s| s.contains("JPEG-consistent"))
}

#[test]
fn a_jpeg_is_restored_consistently_with_its_file() {
    use bcm_studio::engine::jpeg::{JpegTables, jpeg_consistent};
    let d = tempdir("jpeg");
    let path = d.join("photo.jpg");
    write_photo(&d.join("photo.png"), 96, 64);
    let png = image::open(d.join("photo.png")).unwrap();
    let bytes = bcm_studio::photo::encode(
        &png,
        bcm_studio::photo::OutputFormat::Jpeg,
        None,
        bcm_studio::photo::SaveOptions { jpeg_quality: 15 },
    )
    .unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let tables = JpegTables::read(&bytes).unwrap();
    let mut h = harness(d.join("runs"));
    let decoded = open(&mut h, path);
    // Opening it reads its quality and suggests settings for it.
    assert!(
        h.state()
            .messages
            .iter()
            .any(|m| m.text.contains("JPEG quality ≈ 15"))
    );
    let suggested = bcm_studio::engine::tasks::jpeg_strength(15);
    assert_eq!(h.state().tasks.restore_sigma, suggested);
    assert_eq!(h.state().tasks.restore_passes, 3);
    h.state_mut().tasks.kind = bcm_studio::app::TaskKind::Restore;
    h.run_steps(2);
    h.get_by_label("consistent with the JPEG file");

    let staged = restore_and_stage(&mut h, "the restoration");
    assert!(is_jpeg_consistent(&staged));
    let again = jpeg_consistent(&staged.image, &decoded, &tables).unwrap();
    let moved = again
        .data
        .iter()
        .zip(&staged.image.data)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(moved < 0.01, "the result already fits the file ({moved})");

    // Once the photo has changed, the file no longer describes it.
    h.get_by_label("Accept (Enter)").click();
    h.run_steps(2);
    let staged = restore_and_stage(&mut h, "the second restoration");
    assert!(!staged.recipe.schedule.iter().any(|s| s.contains("JPEG")));
    assert!(
        h.state()
            .messages
            .iter()
            .any(|m| m.text.contains("changed since it was opened"))
    );

    // Undone back to the file's pixels, the file describes the photo again.
    h.get_by_label("Discard (Esc)").click();
    h.run_steps(2);
    h.key_press_modifiers(Modifiers::COMMAND, egui::Key::Z);
    h.run_steps(2);
    let staged = restore_and_stage(&mut h, "the restoration after undo");
    assert!(is_jpeg_consistent(&staged));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn cancel_leaves_the_document_unchanged() {
    let d = tempdir("cancel");
    let path = d.join("big.png");
    write_photo(&path, 768, 768);
    let mut h = harness(d.join("runs"));
    let original = open(&mut h, path);
    h.state_mut().tasks.kind = bcm_studio::app::TaskKind::Restore;
    h.state_mut().tasks.restore_passes = 4;
    h.run_steps(2);
    // Ctrl+Enter runs the selected task, as the button does.
    h.key_press_modifiers(Modifiers::COMMAND, egui::Key::Enter);
    h.run_steps(2);
    assert!(h.state().busy(), "the job runs in the background");
    h.get_by_label("Cancel").click();
    h.step();
    wait(&mut h, "the job to stop", |e| !e.busy());
    let doc = h.state().doc.as_ref().unwrap();
    assert!(doc.staged.is_none(), "a cancelled job stages nothing");
    assert_eq!(doc.image.data, original.data);
    assert!(
        h.state()
            .messages
            .iter()
            .any(|m| m.text.contains("cancelled"))
    );
    // A second job while one runs is refused with a message, not queued silently.
    h.get_by_label("Restore photo").click();
    h.step();
    assert!(h.state().busy());
    h.state_mut().run_task(bcm_studio::app::TaskKind::Restore);
    assert!(
        h.state()
            .messages
            .last()
            .is_some_and(|m| m.error && m.text.contains("busy"))
    );
    h.state_mut().cancel_job();
    wait(&mut h, "the second job to stop", |e| !e.busy());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn rendered_editor_with_a_mask() {
    // A fixed folder: its path shows in the rendered status bar and training tab.
    let d = std::env::temp_dir().join("bcm-editor-snapshot");
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let path = d.join("photo.png");
    write_photo(&path, 320, 240);
    let mut h = harness(d.join("runs"));
    open(&mut h, path);
    h.state_mut().canvas.brush.size = 30.0;
    paint(&mut h, &[(100.0, 100.0), (220.0, 140.0)]);
    h.remove_cursor();
    h.run_steps(3);
    h.snapshot("editor_with_mask");
    h.state_mut().tab = Tab::Train;
    h.run_steps(3);
    h.snapshot("training_tab");
    std::fs::remove_dir_all(&d).unwrap();
}

fn training_photos(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).unwrap();
    for k in 0..5u32 {
        let img = image::RgbImage::from_fn(96, 96, |x, y| {
            let v = ((x as f32 * 0.2 + k as f32).sin() * 90.0 + 120.0) as u8;
            image::Rgb([v, (y * 2) as u8, 255 - v])
        });
        img.save(dir.join(format!("p{k}.png"))).unwrap();
    }
}

/// The editor on its Train tab, the form set for a short `tiny` run named `name` on the
/// photos in `d/photos`, checkpointing every two steps.
fn train_tab(
    d: &std::path::Path,
    name: &str,
    batch: usize,
    sample_every: u64,
) -> Harness<'static, Editor> {
    let mut h = harness(d.join("runs"));
    h.state_mut().tab = Tab::Train;
    let form = &mut h.state_mut().training.form;
    form.data = d.join("photos").display().to_string();
    form.name = name.into();
    form.preset = "tiny".into();
    form.batch = batch;
    form.patch = 32;
    form.steps = 1000;
    form.checkpoint_every = 2;
    form.sample_every = sample_every;
    h
}

#[test]
fn training_tab_runs_stops_resumes_and_feeds_the_editor() {
    let d = tempdir("train-tab");
    training_photos(&d.join("photos"));
    let mut h = train_tab(&d, "kittest", 2, 4);
    h.run_steps(2);
    // The estimate before starting is measured on warm-up steps.
    h.get_by_label("Measure").click();
    let start = Instant::now();
    while h.query_by_label_contains("measured:").is_none() {
        assert!(start.elapsed() < Duration::from_secs(60), "no estimate");
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(h.query_by_label_contains("s/step").is_some());
    h.get_by_label("Start").click();
    h.step();
    wait(&mut h, "training steps", |e| e.training.current_step() >= 4);
    assert!(
        h.state().training.loss_points() >= 4,
        "the loss plot advances"
    );
    h.run_steps(2);
    let step = h.state().training.current_step();
    assert!(
        h.query_by_label_contains(&format!("step {step} / 1000"))
            .is_some(),
        "the step counter is shown"
    );
    h.get_by_label("Stop and save").click();
    h.step();
    wait(&mut h, "the run to stop", |e| !e.training.is_running());
    let stopped_at = h.state().training.current_step();
    wait(&mut h, "the run in the list", |e| {
        e.training
            .past_runs()
            .iter()
            .any(|r| r.step == Some(stopped_at))
    });

    // Resume from the list, as after a restart, with the photos moved meanwhile: the tab
    // asks where they are, then trains on the folder chosen in the form.
    std::fs::rename(d.join("photos"), d.join("moved")).unwrap();
    h.get_by_label("Resume").click();
    h.run_steps(2);
    assert!(
        h.query_by_label_contains("is missing").is_some(),
        "a missing photos folder is reported"
    );
    assert!(!h.state().training.is_running());
    h.state_mut().training.form.data = d.join("moved").display().to_string();
    h.run_steps(2);
    h.get_by_label("Resume").click();
    h.step();
    wait(&mut h, "resumed steps", |e| {
        e.training.current_step() > stopped_at + 1
    });
    h.get_by_label("Stop and save").click();
    h.step();
    wait(&mut h, "the run to stop again", |e| {
        !e.training.is_running()
    });

    // Use the run's EMA weights in the editor without restarting. The shipped model is a
    // denoiser; this one was consistency-trained, so the timeline's ladder turns into plain hops.
    let before = h.state().model.name.clone();
    assert_eq!(h.state().model.ladders, Ladders::Heun);
    h.state_mut().tab = Tab::Edit;
    h.run_steps(2);
    h.get_by_label("ladder").click();
    h.run_steps(2);
    assert!(
        h.state()
            .timeline
            .plan
            .ops
            .iter()
            .any(|op| matches!(op, Op::Heun(_)))
    );
    h.state_mut().tab = Tab::Train;
    h.run_steps(2);
    h.get_all_by_label("Use in editor").next().unwrap().click();
    h.step();
    wait(&mut h, "the model swap", |e| e.model.name != before);
    assert!(
        h.state().model.name.contains("kittest"),
        "{}",
        h.state().model.name
    );
    assert_eq!(h.state().model.ladders, Ladders::Plain);
    let plan = &h.state().timeline.plan;
    assert!(plan.ops.iter().all(|op| matches!(op, Op::Hop(_))), "{plan}");
    assert_eq!(plan.nfe(), h.state().timeline.ladder_nfe);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn training_tab_distils_the_model_it_continues_from() {
    use bcm_studio::engine::Bcm;
    use bcm_studio::engine::network::UNetConfig;
    use bcm_studio::engine::weights::{self, ModelCard};
    let d = tempdir("distil-tab");
    training_photos(&d.join("photos"));
    let teacher = Bcm::random(UNetConfig::tiny(), 3, &burn::tensor::Device::flex()).unwrap();
    let path = d.join("teacher.safetensors");
    weights::save(
        &teacher,
        &ModelCard::new("teacher", UNetConfig::tiny()),
        &path,
    )
    .unwrap();
    let mut h = train_tab(&d, "distil", 4, 100);
    h.run_steps(2);
    // Without a model to continue from there is nothing to distil.
    h.get_by_label("distillation").click();
    h.run_steps(2);
    assert_eq!(h.query_all_by_label_contains("denoising share").count(), 0);
    // A model that already follows the ODE (its card says plain ladders) goes on learning the
    // ODE of the denoiser it came from: the shipped model's teacher is offered.
    let plain = d.join("distilled.safetensors");
    weights::save(
        &teacher,
        &ModelCard {
            ladders: bcm_studio::engine::plan::Ladders::Plain,
            ..ModelCard::new("distilled", UNetConfig::tiny())
        },
        &plain,
    )
    .unwrap();
    h.state_mut().training.form.continue_from = Some(plain.clone());
    h.run_steps(2);
    h.get_by_label("distillation").click();
    h.run_steps(2);
    assert!(h.query_all_by_label_contains("denoising share").count() > 0);
    assert!(h.query_by_label("teacher").is_some());
    assert_eq!(
        h.state().training.form.teacher.as_deref(),
        Some(std::path::Path::new(weights::SHIPPED_TEACHER))
    );
    // A denoiser-trained model is its own teacher.
    h.state_mut().training.form.continue_from = Some(path);
    h.run_steps(2);
    let own = format!(
        "{:.2} M parameters (the model's own architecture)",
        UNetConfig::tiny().param_count() as f64 / 1e6
    );
    assert!(h.query_by_label(&own).is_some(), "{own}");
    assert!(h.query_all_by_label_contains("denoising share").count() > 0);
    assert!(h.query_by_label("teacher").is_none());
    assert_eq!(h.state().training.form.teacher, None);
    h.state_mut().training.form.continue_from = Some(plain);
    h.run_steps(2);
    assert!(h.query_all_by_label("round trip weight").count() > 0);
    h.state_mut().training.form.round_trip_weight = 2.5;
    h.run_steps(1);
    h.get_by_label("2 or 4").click();
    h.get_by_label("cosine decay").click();
    h.run_steps(1);
    h.get_by_label("Start").click();
    h.step();
    wait(&mut h, "distillation steps", |e| {
        e.training.current_step() >= 3
    });
    h.run_steps(2);
    assert!(
        h.query_by_label_contains("N(k)").is_none(),
        "no curriculum in a distillation"
    );
    h.get_by_label("Stop and save").click();
    h.step();
    wait(&mut h, "the run to stop", |e| !e.training.is_running());
    let config = std::fs::read_to_string(d.join("runs/distil/config.json")).unwrap();
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(config["objective"], "Distill");
    assert_eq!(config["paths"], 1);
    assert_eq!(config["denoise_share"], 0.5);
    assert_eq!(config["round_trips"], 4);
    assert_eq!(config["round_trip_lengths"], serde_json::json!([2, 4]));
    assert_eq!(config["round_trip_weight"], 2.5);
    assert_eq!(config["lr_schedule"], "cosine");
    assert_eq!(config["teacher"], weights::SHIPPED_TEACHER);
    // The run keeps its own copy of the teacher, which the tab then offers too.
    assert!(d.join("runs/distil/teacher.safetensors").exists());
    assert!(
        h.state()
            .training
            .past_runs()
            .iter()
            .any(|r| r.teacher.is_some())
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn the_ladder_plan_inverts_and_generates_in_heun_hops() {
    let (d, mut h, _) = editor_with_photo("ladder");
    h.get_by_label("ladder").click();
    h.run_steps(2);
    let plan = h.state().timeline.plan.clone();
    assert_eq!(plan.nfe(), 17, "8 Heun hops and a plain one to σ_min");
    assert!(
        plan.ops.iter().any(|op| matches!(op, Op::Heun(_))),
        "{plan}"
    );
    assert_eq!(
        h.state().timeline.inversion_nfe,
        16,
        "the inversion takes as many hops"
    );
    h.get_by_label("Invert to σ").click();
    h.step();
    wait(&mut h, "the inversion", |e| {
        e.doc.as_ref().and_then(|d| d.level.as_ref()).is_some()
    });
    assert_eq!(
        h.state()
            .doc
            .as_ref()
            .unwrap()
            .level
            .as_ref()
            .unwrap()
            .sigma,
        15.0
    );
    let down = plan.rebased(15.0);
    h.get_by_label(&format!("Generate back ({} NFE)", down.nfe()))
        .click();
    h.step();
    wait(&mut h, "the generation", |e| {
        e.doc.as_ref().is_some_and(|d| d.staged.is_some())
    });
    let staged = h.state().doc.as_ref().unwrap().staged.clone().unwrap();
    let down = down.to_string();
    assert!(
        staged.recipe.schedule.iter().any(|s| s.contains(&down)),
        "{:?} lacks {down}",
        staged.recipe.schedule
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn generation_can_come_down_a_heun_ladder() {
    let (d, mut h, _) = editor_with_photo("gen-ladder");
    {
        let tasks = &mut h.state_mut().tasks;
        tasks.kind = TaskKind::Generate;
        tasks.gen_ladder = true;
        tasks.gen_ladder_nfe = 7;
    }
    h.run_steps(2);
    let ladder = bcm_studio::engine::plan::Plan::generation(h.state().model.ladders, 7, 80.0)
        .unwrap()
        .to_string();
    assert!(ladder.contains(" > h"), "{ladder}");
    h.state_mut().run_task(TaskKind::Generate);
    h.step();
    // A picture of another size than the open photo becomes a new document.
    wait(&mut h, "the generated picture", |e| {
        e.doc
            .as_ref()
            .and_then(|d| d.recipe.as_ref())
            .is_some_and(|r| r.schedule.iter().any(|s| s.contains(&ladder)))
    });
    let doc = h.state().doc.as_ref().unwrap();
    let (w, hh) = (h.state().tasks.gen_width, h.state().tasks.gen_height);
    assert_eq!((doc.width(), doc.height()), (w, hh));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn interpolation_frames_can_come_down_a_ladder() {
    let (d, mut h, a) = editor_with_photo("interp-ladder");
    let mut b = a.clone();
    b.data.reverse();
    h.state_mut().interp.set_second("b".into(), b);
    h.state_mut().tab = Tab::Interpolate;
    h.state_mut().interp.ladder = true;
    h.state_mut().interp.nfe = 8;
    h.state_mut().interp.sigma = 20.0;
    h.run_steps(2);
    assert_eq!(
        h.state()
            .interp
            .frame_plan(h.state().model.ladders)
            .unwrap()
            .nfe(),
        9
    );
    assert!(h.query_by_label("Press Invert both.").is_some());
    h.get_by_label("Invert both").click();
    h.step();
    wait(&mut h, "the first frame", |e| {
        e.interp.frame.as_ref().is_some_and(|f| !f.2)
    });
    assert!(
        h.state()
            .messages
            .iter()
            .any(|m| m.text.contains("both pictures inverted (16 NFE)")),
        "two inversions of 8 hops"
    );
    // Another model drops both latents: the panel asks for the inversion again.
    let before = h.state().model.name.clone();
    h.state_mut()
        .load_model(bcm_studio::jobs::ModelSource::Embedded);
    wait(&mut h, "the model swap", |e| e.model.name != before);
    assert!(!h.state().interp.ready);
    h.run_steps(2);
    assert!(h.query_by_label("Press Invert both.").is_some());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn opening_over_unsaved_work_asks_first() {
    let (d, mut h, _) = editor_with_photo("replace");
    write_photo(&d.join("b.png"), 80, 40);
    h.state_mut().canvas.brush.size = 10.0;
    paint(&mut h, &[(20.0, 20.0), (30.0, 25.0)]);
    assert!(h.state().doc.as_ref().unwrap().is_dirty());
    h.state_mut().open_path(d.join("b.png"));
    let start = Instant::now();
    while h.query_by_label("Keep the open photo").is_none() {
        assert!(start.elapsed() < Duration::from_secs(30), "no confirmation");
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        h.state().doc.as_ref().unwrap().width(),
        64,
        "not replaced before the answer"
    );
    h.get_by_label("Keep the open photo").click();
    h.run_steps(2);
    assert_eq!(h.state().doc.as_ref().unwrap().width(), 64);
    assert!(
        !h.state().doc.as_ref().unwrap().mask.is_empty(),
        "the work is still there"
    );
    h.state_mut().open_path(d.join("b.png"));
    while h.query_by_label("Replace (lose the changes)").is_none() {
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    h.get_by_label("Replace (lose the changes)").click();
    h.run_steps(2);
    assert_eq!(h.state().doc.as_ref().unwrap().width(), 80);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn training_tab_continues_the_shipped_model_the_way_it_was_made() {
    use bcm_studio::engine::train::Objective;
    use bcm_studio::engine::weights::SHIPPED_TEACHER;
    let d = tempdir("shipped-tab");
    let mut h = train_tab(&d, "shipped", 4, 100);
    h.run_steps(2);
    h.get_by_label("continue from").click();
    h.run_steps(2);
    h.get_by_label("the shipped model").click();
    h.run_steps(2);
    let f = &h.state().training.form;
    // Its preset's crops, distillation from its teacher, half the crops JPEG-damaged.
    assert_eq!((f.preset.as_str(), f.batch, f.patch), ("photo", 16, 64));
    assert_eq!(f.objective, Objective::Distill);
    assert_eq!(
        (
            f.jpeg_fraction,
            f.round_trips,
            f.round_trip_lengths.as_slice()
        ),
        (0.5, 16, [2, 2, 4].as_slice())
    );
    // Its last run sent every crop of its batches of 16 on a round trip, of 2 NFE twice as
    // often as of 4, weighted 64, and the denoising part 9.6, with the rate warming up over 30
    // steps, then falling along a cosine over 150 (the preset's 500-step warm-up would never
    // have reached the rate).
    assert_eq!((f.round_trip_weight, f.denoise_weight), (64.0, 9.6));
    assert!(f.cosine);
    assert_eq!((f.lr, f.warmup, f.steps), (1e-4, 30, 150));
    // All of it read from the shipped file's card, which its run wrote.
    let made = bcm_studio::engine::weights::embedded_card()
        .unwrap()
        .training
        .expect("the shipped card records its run's settings");
    assert_eq!(
        (made.round_trip_weight, made.denoise_weight, made.warmup),
        (f.round_trip_weight, f.denoise_weight, f.warmup)
    );
    // And a run started from the form trains with them.
    let config = h.state().training.config_from_form().unwrap();
    assert_eq!(
        (
            config.warmup,
            config.total_steps,
            config.round_trip_choices()
        ),
        (30, 150, vec![2, 2, 4])
    );
    // The tab has a choice for those lengths.
    h.get_by_label("2, 2 or 4");
    assert!(h.query_all_by_label("denoising weight").next().is_some());
    assert_eq!(
        f.teacher.as_deref(),
        Some(std::path::Path::new(SHIPPED_TEACHER))
    );
    assert!(h.query_by_label("teacher").is_some());
    // The closed combo box names the choice, not the file.
    use egui_kittest::kittest::NodeT;
    let combo = h.get_by_label("continue from").accesskit_node().value();
    assert_eq!(combo.as_deref(), Some("the shipped model"));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn training_tab_blends_two_runs_into_the_editor() {
    use bcm_studio::engine::train::{TrainConfig, Trainer};
    use burn::tensor::Device;
    let d = tempdir("blend-tab");
    training_photos(&d.join("photos"));
    // Two short tiny runs, one checkpoint each, different seeds.
    for (name, seed) in [("one", 1), ("two", 2)] {
        let mut c = TrainConfig::for_preset("tiny", d.join("photos")).unwrap();
        (c.batch, c.patch, c.downscale, c.seed) = (2, 32, 1, seed);
        let mut run = Trainer::start(c, &d.join("runs").join(name), &Device::flex()).unwrap();
        run.step().unwrap();
        run.save_checkpoint().unwrap();
    }
    let mut h = harness(d.join("runs"));
    h.state_mut().tab = Tab::Train;
    h.run_steps(2);
    let pick = |h: &mut Harness<'_, Editor>, combo: &str, choice: &str| {
        h.get_by_label(combo).click();
        h.run_steps(2);
        h.get_by_label(choice).click();
        h.run_steps(2);
    };
    // The shipped model is another preset: refused, and the editor keeps its model.
    let before = h.state().model.name.clone();
    pick(&mut h, "first model", "the shipped model");
    pick(&mut h, "second model", "one (step 1)");
    h.get_by_label("Blend and use in editor").click();
    h.step();
    wait(&mut h, "the refusal", |e| e.training.message.is_some());
    let (text, error) = h.state().training.message.clone().unwrap();
    assert!(error && text.contains("different architectures"), "{text}");
    assert_eq!(h.state().model.name, before);

    // Blend (or move) at `weight` and wait for the result to reach the editor: its name.
    let blend_into_editor = |h: &mut Harness<'_, Editor>, weight: f32| {
        let before = h.state().model.name.clone();
        h.state_mut().training.blend.weight = weight;
        h.run_steps(2);
        h.get_by_label("Blend and use in editor").click();
        h.step();
        wait(h, "the result in the editor", |e| e.model.name != before);
        h.state().model.name.clone()
    };
    pick(&mut h, "first model", "two (step 1)");
    let name = blend_into_editor(&mut h, 0.25);
    assert!(
        name.contains("0.75 × two") && name.contains("0.25 × one"),
        "{name}"
    );
    let saved = d.join("runs/blends/two+one-25.safetensors");
    let card = bcm_studio::engine::weights::read_card(&saved).unwrap();
    assert_eq!(card.name, name);
    assert!(!h.state().training.message.clone().unwrap().1);

    // Add difference: two moved by all that one has over two is one again.
    let difference_slider = |h: &Harness<'_, Editor>| {
        h.query_all_by_label_contains("weight of the difference")
            .count()
    };
    assert_eq!(difference_slider(&h), 0);
    pick(&mut h, "add difference from", "two (step 1)");
    assert!(difference_slider(&h) > 0);
    let moved = blend_into_editor(&mut h, 1.0);
    assert_eq!(moved, "two (step 1) + 1.00 × (one (step 1) − two (step 1))");
    let saved = d.join("runs/blends/two+one-minus-two-100.safetensors");
    let generate = |file: &std::path::Path| {
        use bcm_studio::engine::tasks::{self, GenerateParams};
        let model = bcm_studio::engine::weights::load(file, &Device::flex()).unwrap();
        let p = GenerateParams {
            width: 16,
            height: 16,
            plan: bcm_studio::engine::GenerationPreset::OneStep.plan_from(80.0),
            seed: 4,
        };
        tasks::generate(&model, &p, &Default::default(), &mut ())
            .unwrap()
            .image
            .data
    };
    let one = bcm_studio::engine::train::checkpoint::latest(&d.join("runs/one"))
        .unwrap()
        .join("ema.safetensors");
    let (got, want) = (generate(&saved), generate(&one));
    let off = got
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(off < 1e-3, "{off}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_model_file_is_loaded_from_the_menu_or_a_drop_and_a_bad_one_is_refused() {
    use bcm_studio::engine::Bcm;
    use bcm_studio::engine::network::UNetConfig;
    use bcm_studio::engine::plan::Ladders;
    use bcm_studio::engine::weights::{self, ModelCard};
    let (d, mut h, _) = editor_with_photo("load-model");
    let first = h.state().model.name.clone();

    // A file without its card is refused; the editor keeps its model.
    let model = Bcm::random(UNetConfig::tiny(), 9, &burn::tensor::Device::flex()).unwrap();
    let path = d.join("fine-tune.safetensors");
    weights::save(
        &model,
        &ModelCard {
            ladders: Ladders::Plain,
            ..ModelCard::new("loaded", UNetConfig::tiny())
        },
        &path,
    )
    .unwrap();
    let orphan = d.join("orphan.safetensors");
    std::fs::copy(&path, &orphan).unwrap();
    h.state_mut().open_path(orphan);
    wait(&mut h, "the refusal", |e| !e.busy() && errors_in(e) > 0);
    let text = h.state().messages.last().unwrap().text.clone();
    assert!(
        text.contains("the model was not changed") && text.contains("orphan.json"),
        "{text}"
    );
    assert_eq!(h.state().model.name, first);
    assert!(h.state().doc.is_some(), "the photo stays open");

    // A dropped model file (the path a drop takes) is loaded; the file names it.
    h.state_mut().open_path(path);
    wait(&mut h, "the new model", |e| e.model.name != first);
    assert_eq!(h.state().model.name, "loaded (fine-tune.safetensors)");
    assert_eq!(h.state().model.ladders, Ladders::Plain);
    let told = h.state().messages.last().unwrap();
    assert!(
        !told.error && told.text.contains("now uses loaded"),
        "{}",
        told.text
    );

    // File > Model > Use the built-in model goes back to the embedded one.
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("Model").hover();
    h.run_steps(3);
    h.get_by_label("Use the built-in model").click();
    h.step();
    let embedded = weights::embedded_card().unwrap();
    wait(&mut h, "the built-in model", |e| {
        e.model.name == embedded.name
    });
    assert_eq!(h.state().model.ladders, embedded.ladders);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_model_file_named_on_the_command_line_becomes_the_model() {
    use bcm_studio::engine::Bcm;
    use bcm_studio::engine::network::UNetConfig;
    use bcm_studio::engine::weights::{self, ModelCard};
    let d = tempdir("open-model");
    let model = Bcm::random(UNetConfig::tiny(), 4, &burn::tensor::Device::flex()).unwrap();
    let path = d.join("run.safetensors");
    weights::save(&model, &ModelCard::new("mine", UNetConfig::tiny()), &path).unwrap();
    let mut h = harness_opening(d.join("runs"), Some(path));
    wait(&mut h, "the named model", |e| {
        e.model.name == "mine (run.safetensors)"
    });
    assert!(
        h.state().doc.is_none(),
        "a model file is not opened as a picture"
    );
    assert_eq!(errors_in(h.state()), 0);
    std::fs::remove_dir_all(&d).unwrap();
}

fn errors_in(e: &Editor) -> usize {
    e.messages.iter().filter(|m| m.error).count()
}
