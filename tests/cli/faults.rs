//! Fault injection: the CLI killed with SIGKILL at random moments while it saves an image, a
//! model and a checkpoint. Every file on disk is then the old one or the new one, never a
//! mix; what a killed write leaves is cleaned up by the next; and `train --resume` after each
//! kill continues from the last checkpoint.

use super::*;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use bcm_studio::engine::weights;
use burn::tensor::Device;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Kills per kind of save.
const KILLS: usize = 20;

/// `ok`, `timed` and `kill_after` take `&[&str]`; the argument lists here are built as strings.
fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

fn spawn(args: &[&str], stderr: &Path) -> Child {
    bin()
        .args(args)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(stderr).unwrap())
        .spawn()
        .expect("the binary starts")
}

/// How long a whole run takes (it must succeed).
fn timed(args: &[&str]) -> Duration {
    let t = Instant::now();
    ok(args);
    t.elapsed()
}

/// Start `args`, SIGKILL it after `after` unless it finished; true if it was killed.
fn kill_after(args: &[&str], after: Duration, stderr: &Path) -> bool {
    let mut child = spawn(args, stderr);
    let until = Instant::now() + after;
    while Instant::now() < until {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let killed = child.try_wait().unwrap().is_none();
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    killed
}

/// Kills at random moments of a run until `KILLS` runs were killed, whatever the speed of the
/// machine: a run that finishes before its moment counts for nothing (its files are checked
/// all the same) and makes the later moments earlier.
struct Killer {
    rng: ChaCha8Rng,
    whole: Duration,
    scale: f64,
    killed: usize,
    tries: usize,
}

impl Killer {
    fn new(seed: u64, whole: Duration) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            whole,
            scale: 1.0,
            killed: 0,
            tries: 0,
        }
    }

    fn done(&self) -> bool {
        self.killed >= KILLS
    }

    /// Run `args` and kill it at a random moment, most of them late (the writes come at the
    /// end); returns the number of this try.
    fn attempt(&mut self, args: &[&str], stderr: &Path) -> usize {
        self.tries += 1;
        assert!(
            self.tries <= 20 * KILLS,
            "only {} of {} tries were killed",
            self.killed,
            self.tries
        );
        let at = self
            .whole
            .mul_f64(self.rng.random_range(0.3..1.1) * self.scale);
        if kill_after(args, at, stderr) {
            self.killed += 1;
        } else {
            self.scale *= 0.85;
        }
        self.tries
    }
}

/// Temporary files of writes in `dir` (dot files ending in .tmp).
fn temps(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n.ends_with(".tmp"))
        .collect()
}

fn pixels(path: &Path) -> Option<Vec<u8>> {
    image::open(path).ok().map(|i| i.to_rgba8().into_raw())
}

#[test]
fn a_killed_image_save_leaves_the_old_file_or_the_new_one() {
    let d = tempdir("kill-image");
    let p = |n: &str| d.join(n).display().to_string();
    save(&photo(160, 128), &d.join("a.png"));
    let b = DynamicImage::ImageRgb8(image::RgbImage::from_fn(160, 128, |x, y| {
        image::Rgb([(x * y % 251) as u8, 40, (x * 3) as u8])
    }));
    save(&b, &d.join("b.png"));
    ok(&["restore", &p("a.png"), "-o", &p("out.png")]);
    let old = pixels(&d.join("out.png")).unwrap();
    let new_args = ["restore", &p("b.png"), "-o", &p("out.png")];
    let whole = timed(&new_args);
    let new = pixels(&d.join("out.png")).unwrap();
    assert_ne!(old, new);
    let mut killer = Killer::new(1, whole);
    while !killer.done() {
        // Start each round from the old picture, so that a torn write would show.
        ok(&["restore", &p("a.png"), "-o", &p("out.png")]);
        let k = killer.attempt(&new_args, &d.join("err.txt"));
        let now = pixels(&d.join("out.png"));
        assert!(
            now.as_ref() == Some(&old) || now.as_ref() == Some(&new),
            "kill {k}: out.png is neither the old picture nor the new one"
        );
    }
    ok(&new_args);
    assert_eq!(pixels(&d.join("out.png")).unwrap(), new);
    assert!(temps(&d).is_empty(), "left behind: {:?}", temps(&d));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_killed_model_export_leaves_a_pair_that_loads_or_is_refused() {
    let d = tempdir_with_photos("kill-model");
    let p = |n: &str| d.join(n).display().to_string();
    let train = [
        "train",
        "--preset",
        "tiny",
        "--data",
        &p("photos"),
        "--out",
        &p("run"),
        "--steps",
        "2",
        "--batch",
        "2",
        "--patch",
        "32",
        "--checkpoint-every",
        "1",
    ];
    ok(&train);
    let export = |name: &str, half: bool| -> Vec<String> {
        let mut a: Vec<String> = owned(&["export", "--from", &p("run"), "-o", &p("m.safetensors")]);
        a.extend(["--name".to_string(), name.to_string()]);
        if half {
            a.push("--half".into());
        }
        a
    };
    let (old_args, new_args) = (export("old", false), export("new", true));
    let (old_args, new_args) = (strs(&old_args), strs(&new_args));
    ok(&old_args);
    // Which save a file comes from: the old export stores f32 weights under the name "old",
    // the new one f16 under "new". A torn file parses as neither (serialisation order is not
    // fixed, so the bytes of two saves of one model differ).
    let weights_kind = || -> Option<&'static str> {
        let bytes = std::fs::read(d.join("m.safetensors")).ok()?;
        let st = safetensors::SafeTensors::deserialize(&bytes).ok()?;
        let dtypes: Vec<_> = st.tensors().iter().map(|(_, t)| t.dtype()).collect();
        if dtypes.iter().all(|t| *t == safetensors::Dtype::F32) {
            Some("old")
        } else if dtypes.iter().all(|t| *t == safetensors::Dtype::F16) {
            Some("new")
        } else {
            None
        }
    };
    let card_kind = || -> Option<String> {
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join("m.json")).ok()?).ok()?;
        json["name"].as_str().map(String::from)
    };
    assert_eq!(
        (weights_kind(), card_kind().as_deref()),
        (Some("old"), Some("old"))
    );
    let whole = timed(&new_args);
    assert_eq!(
        (weights_kind(), card_kind().as_deref()),
        (Some("new"), Some("new"))
    );
    let mut killer = Killer::new(2, whole);
    while !killer.done() {
        ok(&old_args);
        let k = killer.attempt(&new_args, &d.join("err.txt"));
        let w = weights_kind().unwrap_or_else(|| panic!("kill {k}: the weights are torn"));
        let c = card_kind().unwrap_or_else(|| panic!("kill {k}: the card is torn"));
        let loaded = weights::load(&d.join("m.safetensors"), &Device::flex());
        if w != c {
            let err = loaded.expect_err("a card beside other weights is refused");
            assert!(err.to_string().contains("interrupted"), "{err}");
        } else {
            loaded.expect("a pair saved together loads");
        }
    }
    ok(&new_args);
    assert!(temps(&d).is_empty(), "left behind: {:?}", temps(&d));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_killed_training_run_resumes_from_its_last_checkpoint() {
    let d = tempdir_with_photos("kill-train");
    let p = |n: &str| d.join(n).display().to_string();
    let (photos, run_path) = (p("photos"), p("run"));
    let start = [
        "train",
        "--preset",
        "tiny",
        "--data",
        &photos,
        "--out",
        &run_path,
        "--steps",
        "2",
        "--batch",
        "2",
        "--patch",
        "32",
        "--checkpoint-every",
        "1",
    ];
    ok(&start);
    let run_dir = d.join("run");
    let latest_step = || -> u64 {
        let name = std::fs::read_to_string(run_dir.join("latest")).unwrap();
        let dir = run_dir.join("checkpoints").join(name.trim());
        for f in [
            "model.bpk",
            "optim.bpk",
            "ema.safetensors",
            "ema.json",
            "state.json",
        ] {
            assert!(dir.join(f).is_file(), "{} lacks {f}", dir.display());
        }
        let state: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("state.json")).unwrap()).unwrap();
        state["step"].as_u64().unwrap()
    };
    let resume = |until: u64| -> Vec<String> {
        owned(&[
            "train",
            "--resume",
            "--out",
            &run_path,
            "--steps",
            &until.to_string(),
        ])
    };
    let whole = timed(&strs(&resume(latest_step() + 3)));
    let mut killer = Killer::new(3, whole);
    while !killer.done() {
        let before = latest_step();
        let err = d.join("err.txt");
        let args = resume(before + 3);
        let k = killer.attempt(&strs(&args), &err);
        let said = std::fs::read_to_string(&err).unwrap_or_default();
        if let Some(line) = said.lines().find(|l| l.starts_with("resumed ")) {
            assert!(
                line.ends_with(&format!("at step {before}")),
                "kill {k}: {line}, but the last checkpoint was step {before}"
            );
        }
        let after = latest_step();
        assert!(after >= before, "kill {k}: the latest checkpoint went back");
    }
    let last = latest_step();
    let out = run(&strs(&resume(last + 2)));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains(&format!("at step {last}")), "{said}");
    assert_eq!(latest_step(), last + 2);
    // The log holds every step once, whatever the kills cut.
    let log = std::fs::read_to_string(run_dir.join("log.jsonl")).unwrap();
    let steps: Vec<u64> = log
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["step"]
                .as_u64()
                .unwrap()
        })
        .collect();
    let expected: Vec<u64> = (1..=last + 2).collect();
    assert_eq!(steps, expected);
    let partial: Vec<String> = std::fs::read_dir(run_dir.join("checkpoints"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect();
    assert!(partial.is_empty(), "partial checkpoints left: {partial:?}");
    assert!(
        temps(&run_dir).is_empty(),
        "left behind: {:?}",
        temps(&run_dir)
    );
    std::fs::remove_dir_all(&d).unwrap();
}
