//! The command-line tool on real files: every subcommand, pixel formats, bad input, training
//! and merging. Shared helpers live here.

mod bad_input;
#[path = "../common/mod.rs"]
mod common;
mod faults;
mod merge;
mod subcommands;
mod training;

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

/// A fresh folder with three small photos in `photos/`, enough for a training run.
fn tempdir_with_photos(name: &str) -> PathBuf {
    let d = tempdir(name);
    std::fs::create_dir_all(d.join("photos")).unwrap();
    for k in 0..3 {
        save(&photo(96, 80), &d.join(format!("photos/p{k}.png")));
    }
    d
}
