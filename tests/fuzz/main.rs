//! Fuzzing on stable Rust: valid seed files (in `tests/fuzz/seeds/<target>/`) are mutated and
//! fed to every parser a user's files reach. A target passes when no input makes it panic;
//! refusing an input with an error is the expected answer.
//!
//! The short run here takes `BCM_FUZZ_INPUTS` inputs per target (default 300). The long run:
//! `BCM_FUZZ_INPUTS=10000 cargo test --test fuzz -- --nocapture` (README, "Reliability").
//! `BCM_FUZZ_SEED` changes the draw. A crashing input is written to the temporary folder and
//! named in the failure, so it can be replayed.

#[path = "../common/mod.rs"]
mod common;
mod mutate;
mod seeds;
mod targets;

use std::path::{Path, PathBuf};
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How a target's seeds are mutated.
#[derive(Clone, Copy)]
enum Kind {
    Bytes,
    Png,
    Json,
}

fn inputs_per_target() -> usize {
    std::env::var("BCM_FUZZ_INPUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

fn seed_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz/seeds")
        .join(target)
}

/// The seed files of a target, sorted by name.
fn seed_files(target: &str) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(seed_dir(target))
        .unwrap_or_else(|e| panic!("seeds of {target}: {e}"))
        .filter_map(|e| e.ok())
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).unwrap())
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{target} has no seeds");
    files
}

/// Feed `inputs_per_target()` mutations of `target`'s seeds to `run`; fail on the first panic.
/// Each seed also runs unmutated first: a valid file must not panic either.
fn fuzz(target: &str, kind: Kind, run: impl Fn(&str, &[u8]) -> bool) {
    let seeds = seed_files(target);
    let draw: u64 = std::env::var("BCM_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let name_hash = target
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
    let mut rng = ChaCha8Rng::seed_from_u64(draw ^ name_hash);
    let total = inputs_per_target();
    let started = Instant::now();
    let mut accepted = 0;
    for i in 0..seeds.len() + total {
        let (name, input) = if i < seeds.len() {
            (seeds[i].0.clone(), seeds[i].1.clone())
        } else {
            let (name, seed) = &seeds[rng.random_range(0..seeds.len())];
            let mutated = match kind {
                Kind::Bytes => mutate::mutate_bytes(&mut rng, seed),
                Kind::Png => mutate::fix_png_crcs(mutate::mutate_bytes(&mut rng, seed)),
                Kind::Json if rng.random() => mutate::mutate_json(&mut rng, seed),
                Kind::Json => mutate::mutate_bytes(&mut rng, seed),
            };
            (name.clone(), mutated)
        };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&name, &input)));
        accepted += usize::from(outcome.as_ref().is_ok_and(|&ok| ok));
        // A valid seed that is refused means the target no longer reaches past the checks
        // (seeds named crash-* are inputs that once crashed it: refusing them is right).
        if i < seeds.len() && !name.starts_with("crash-") && matches!(outcome, Ok(false)) {
            panic!("{target}: the valid seed {name} was refused");
        }
        if outcome.is_err() {
            let crash = std::env::temp_dir().join(format!("bcm-fuzz-{target}-{i}-{name}"));
            std::fs::write(&crash, &input).unwrap();
            panic!(
                "{target}: input {i} (from seed {name}) panicked; it is in {}",
                crash.display()
            );
        }
    }
    assert!(
        accepted >= seeds.len(),
        "{target}: a valid seed was refused"
    );
    // Straight to the terminal: the figures of a long run are what the README reports.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "fuzz {target}: {} inputs ({} seeds), {accepted} accepted, crashes: 0, {:.1} s",
        seeds.len() + total,
        seeds.len(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn images_decode_and_convert_to_planes() {
    fuzz("images", Kind::Png, |_, b| targets::image(b));
}

#[test]
fn jpeg_quantisation_tables() {
    fuzz("jpeg", Kind::Bytes, |_, b| targets::jpeg_tables(b));
}

#[test]
fn masks_and_strokes() {
    fuzz("masks", Kind::Png, |_, b| targets::mask(b));
}

#[test]
fn model_weights_and_cards() {
    let seeds = seed_files("model");
    let card = &seeds.iter().find(|(n, _)| n.ends_with(".json")).unwrap().1;
    let weights = &seeds
        .iter()
        .find(|(n, _)| n.ends_with(".safetensors"))
        .unwrap()
        .1;
    // One of the two files is mutated per input: the other stays the valid one.
    fuzz("model", Kind::Json, |name, b| {
        if name.ends_with(".json") {
            targets::model(b, weights)
        } else {
            targets::model(card, b)
        }
    });
}

#[test]
fn latent_files() {
    fuzz("latent", Kind::Bytes, |_, b| targets::latent(b));
}

#[test]
fn png_recipe_chunks() {
    fuzz("recipe", Kind::Png, |_, b| targets::recipe(b));
}

#[test]
fn schedule_and_levels_strings() {
    fuzz("schedule", Kind::Bytes, |_, b| targets::schedule(b));
}

#[test]
fn run_folders_for_resume() {
    let seeds = seed_files("run");
    let config = seeds
        .iter()
        .find(|(n, _)| n == "config.json")
        .unwrap()
        .1
        .clone();
    let state = seeds
        .iter()
        .find(|(n, _)| n == "state.json")
        .unwrap()
        .1
        .clone();
    let dir = std::env::temp_dir().join(format!("bcm-fuzz-run-{}", std::process::id()));
    fuzz("run", Kind::Json, |name, b| {
        let (c, s) = if name == "config.json" {
            (b, state.as_slice())
        } else {
            (config.as_slice(), b)
        };
        targets::run_folder(&dir, c, s)
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes the seed files again (run by hand when a format changes):
/// `cargo test --test fuzz write_seeds -- --ignored`.
#[test]
#[ignore]
fn write_seeds() {
    seeds::write_all(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/seeds"));
}

/// The harness itself: a parser that panics on anything but its seed is caught and named.
#[test]
#[should_panic(expected = "panicked; it is in")]
fn a_panicking_parser_fails_the_run() {
    // Every schedule seed ends in one of these; nearly every mutation changes the end.
    fuzz("schedule", Kind::Bytes, |_, b| {
        if !b.ends_with(b"0.002") && !b.ends_with(b"80") && !b.ends_with(b"0.2") {
            panic!("a parser bug");
        }
        true
    });
}
