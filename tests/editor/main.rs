//! The editor driven like a person would, with egui_kittest: open, paint, inpaint, accept,
//! undo, redo, cancel; plus a rendered snapshot (wgpu on lavapipe in CI). Shared helpers live
//! here; each module holds one part of the editor's tests.

#[path = "../common/mod.rs"]
mod common;

mod files;
mod first_minute;
mod ladders;
mod tasks;
mod training_tab;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bcm_studio::app::{DialogMode, Editor, EditorOptions, Staged, Tab, TaskKind};
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
    harness_with(runs, open, DialogMode::Off, None)
}

/// An editor with the given dialogs, remembering its folders in `config_dir`.
fn harness_with(
    runs: PathBuf,
    open: Option<PathBuf>,
    dialogs: DialogMode,
    config_dir: Option<PathBuf>,
) -> Harness<'static, Editor> {
    harness_with_model(runs, open, dialogs, config_dir, common::tiny_model(3))
}

/// An editor on the embedded model, as `cargo run` opens it.
fn harness_with_shipped_model(runs: PathBuf) -> Harness<'static, Editor> {
    let model = bcm_studio::engine::weights::default_model(&burn::tensor::Device::flex())
        .expect("the embedded model loads");
    let inpainter = bcm_studio::engine::weights::inpaint_model(&burn::tensor::Device::flex())
        .expect("the embedded inpainting model loads");
    harness_with_models(runs, None, DialogMode::Off, None, model, Some(inpainter))
}

fn harness_with_model(
    runs: PathBuf,
    open: Option<PathBuf>,
    dialogs: DialogMode,
    config_dir: Option<PathBuf>,
    model: bcm_studio::engine::Bcm,
) -> Harness<'static, Editor> {
    harness_with_models(runs, open, dialogs, config_dir, model, None)
}

/// The editor as `launch` opens it: `model`, and the model inpainting uses beside it.
fn harness_with_models(
    runs: PathBuf,
    open: Option<PathBuf>,
    dialogs: DialogMode,
    config_dir: Option<PathBuf>,
    model: bcm_studio::engine::Bcm,
    inpainter: Option<bcm_studio::engine::Bcm>,
) -> Harness<'static, Editor> {
    Harness::builder()
        .with_size([1280.0, 820.0])
        .build_eframe(move |cc| {
            Editor::new(
                &cc.egui_ctx,
                EditorOptions {
                    model,
                    inpainter,
                    tiling: Tiling::default(),
                    config_dir,
                    dialogs,
                    open,
                    device_note: "CPU (test)".into(),
                    runs_dir: runs,
                },
            )
        })
}

/// How long a wait may take before the test gives up: only a net for a hang, never a speed
/// requirement (a loaded two-core machine runs these many times slower than an idle one).
const PATIENCE: Duration = Duration::from_secs(900);

/// Step the UI until `done` holds (background threads need real time).
fn wait(h: &mut Harness<'_, Editor>, what: &str, done: impl Fn(&Editor) -> bool) {
    wait_for(h, what, |h| done(h.state()));
}

/// Step the UI until `done` holds of the harness (e.g. a label is shown).
fn wait_for(h: &mut Harness<'_, Editor>, what: &str, done: impl Fn(&Harness<'_, Editor>) -> bool) {
    let start = Instant::now();
    while !done(h) {
        assert!(start.elapsed() < PATIENCE, "timed out waiting for {what}");
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

fn errors_in(e: &Editor) -> usize {
    e.messages.iter().filter(|m| m.error).count()
}
