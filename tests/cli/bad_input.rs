//! Bad input: one-line errors and no output written.

use super::*;

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

/// A bad command line, a bad value or a file name with a newline in it: each refusal is one
/// line on stderr (no usage text), exit code 2 for the command line, 1 for the rest.
#[test]
fn every_refusal_is_one_line() {
    let d = tempdir("one-line");
    let good = d.join("good.png");
    save(&photo(32, 32), &good);
    let g = good.display().to_string();
    let o = d.join("out.png").display().to_string();
    let one_line = |args: &[&str], code: i32| {
        let out = run(args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(code), "{args:?}:\n{err}");
        // Before the refusal only the device and model lines every command prints.
        let lines: Vec<&str> = err.lines().collect();
        let (last, before) = lines.split_last().expect("an error line");
        assert!(last.starts_with("error: "), "{err}");
        assert!(
            before
                .iter()
                .all(|l| l.starts_with("device: ") || l.starts_with("model: ")),
            "{args:?} printed more than one line of error:\n{err}"
        );
        last.to_string()
    };
    let e = one_line(&["reconstruct", &g, "-o", &o, "--nfe", "-1"], 2);
    assert!(e.contains("--nfe") || e.contains("-1"), "{e}");
    one_line(&["restore", &g, "-o", &o, "--quality", "300"], 2);
    one_line(&["restore", &g, "-o", &o, "--no-such-option"], 2);
    one_line(&["reconstruct", &g, "-o", ""], 2);
    let odd = d.join("two\nlines.png").display().to_string();
    let e = one_line(&["restore", &odd, "-o", &o], 1);
    assert!(
        e.contains("two\\nlines.png"),
        "the newline is shown escaped: {e}"
    );
    // Half a JPEG decodes with a grey bottom half: it is refused, not restored.
    let jpeg = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/samples/life.jpg"
    ))
    .unwrap();
    let half = d.join("half.jpg");
    std::fs::write(&half, &jpeg[..jpeg.len() / 2]).unwrap();
    let e = one_line(&["restore", &half.display().to_string(), "-o", &o], 1);
    assert!(e.contains("cut short"), "{e}");
    // A file that once made the PNG decoder panic (found by the fuzz harness): refused.
    let crash = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fuzz/seeds/images/crash-short-palette.png"
    );
    let e = one_line(&["restore", crash, "-o", &o], 1);
    assert!(e.contains("decoder failed"), "{e}");
    assert!(!d.join("out.png").exists(), "nothing was written");
    std::fs::remove_dir_all(&d).unwrap();
}

/// No command writes over one of its inputs without --overwrite, whatever output it names: a
/// latent, a preview, a mask, a numbered frame. A folder that is not there is found before
/// the work.
#[test]
fn no_output_overwrites_an_input() {
    let d = tempdir("inputs-kept");
    let p = |name: &str| d.join(name).display().to_string();
    save(&photo(32, 32), &d.join("in.png"));
    save(&photo(32, 32), &d.join("a-000.png"));
    save(&photo(32, 32), &d.join("b.png"));
    save(&photo(32, 32), &d.join("strokes.png"));
    save(&photo(32, 32), &d.join("m.png"));
    let kept: Vec<(String, Vec<u8>)> = ["in.png", "a-000.png", "b.png", "strokes.png", "m.png"]
        .iter()
        .map(|n| (n.to_string(), std::fs::read(d.join(n)).unwrap()))
        .collect();

    let e = fails(&["invert", &p("in.png"), "-o", &p("in.png")]);
    assert!(e.contains("latent"), "{e}");
    let e = fails(&["invert", &p("in.png"), "-o", &p("lat.png")]);
    assert!(e.contains(".safetensors"), "{e}");
    let e = fails(&[
        "invert",
        &p("in.png"),
        "-o",
        &p("lat.safetensors"),
        "--preview",
        &p("in.png"),
    ]);
    assert!(e.contains("input"), "{e}");
    assert!(
        !d.join("lat.safetensors").exists(),
        "no latent before a refused preview"
    );
    let e = fails(&[
        "edit",
        &p("in.png"),
        "--strokes",
        &p("strokes.png"),
        "--mask",
        &p("m.png"),
        "-o",
        &p("m.png"),
    ]);
    assert!(e.contains("input"), "{e}");
    let e = fails(&[
        "interpolate",
        &p("a-000.png"),
        &p("b.png"),
        "-o",
        &p("a.png"),
    ]);
    assert!(e.contains("a-000.png") && e.contains("input"), "{e}");
    // A model exported or blended over its own source.
    let seeds = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz/seeds/model");
    for f in ["m.safetensors", "m.json"] {
        std::fs::copy(format!("{seeds}/{f}"), d.join(f)).unwrap();
    }
    let model = std::fs::read(d.join("m.safetensors")).unwrap();
    let e = fails(&[
        "export",
        "--from",
        &p("m.safetensors"),
        "-o",
        &p("m.safetensors"),
    ]);
    assert!(e.contains("input"), "{e}");
    assert_eq!(std::fs::read(d.join("m.safetensors")).unwrap(), model);
    let e = fails(&["restore", &p("in.png"), "-o", &p("no-such-folder/out.png")]);
    assert!(e.contains("does not exist"), "{e}");
    for (name, bytes) in kept {
        assert_eq!(
            std::fs::read(d.join(&name)).unwrap(),
            bytes,
            "{name} was changed"
        );
    }
    let stray: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(stray.is_empty(), "temporary files left: {stray:?}");
    std::fs::remove_dir_all(&d).unwrap();
}

/// The start of a PNG that says it is `w`×`h` grey pixels: enough for a decoder to read the
/// size, far too little to hold the pixels.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit grey
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    // The decoder reads the headers up to the first image data: give it the start of one.
    let idat = b"IDAT\x78\x9c\x01\x00\x00\xff\xff".to_vec();
    for chunk in [ihdr, idat] {
        png.extend_from_slice(&(chunk.len() as u32 - 4).to_be_bytes());
        png.extend_from_slice(&chunk);
        png.extend_from_slice(&common::png_crc32(&chunk).to_be_bytes());
    }
    png
}

/// A small file that describes a huge image is refused from its header, before any pixel is
/// decoded, with the size and the limit; the limit is an option.
#[test]
fn a_photo_beyond_the_pixel_budget_is_refused_before_decoding() {
    let d = tempdir("budget");
    let huge = d.join("huge.png");
    std::fs::write(&huge, png_header(16384, 16384)).unwrap();
    let o = d.join("out.png").display().to_string();
    let h = huge.display().to_string();
    let e = fails(&["restore", &h, "-o", &o, "--max-megapixels", "100"]);
    assert!(e.contains("16384×16384 (268 MP)"), "{e}");
    assert!(
        e.contains("100 MP") && e.contains("--max-megapixels"),
        "{e}"
    );
    // The same limit holds for a small photo when it is set below it.
    let small = d.join("small.png");
    save(&photo(64, 64), &small);
    let s = small.display().to_string();
    let e = fails(&["restore", &s, "-o", &o, "--max-megapixels", "0.001"]);
    assert!(e.contains("64×64"), "{e}");
    let e = fails(&["restore", &s, "-o", &o, "--max-megapixels", "0"]);
    assert!(e.contains("positive"), "{e}");
    assert!(!d.join("out.png").exists());
    ok(&["restore", &s, "-o", &o, "--max-megapixels", "1"]);
    std::fs::remove_dir_all(&d).unwrap();
}

/// A new training run that fails before its first checkpoint leaves no run folder (no config
/// or log to resume into an error); a folder that was there before is left alone.
#[test]
fn a_failed_new_run_leaves_no_folder() {
    let d = tempdir("failed-run");
    std::fs::create_dir_all(d.join("small")).unwrap();
    for k in 0..3u8 {
        // Smaller than any training crop: the first step fails.
        save(&photo(20, 20), &d.join(format!("small/{k}.png")));
    }
    let run = d.join("run");
    let e = fails(&[
        "train",
        "--preset",
        "tiny",
        "--data",
        &d.join("small").display().to_string(),
        "--out",
        &run.display().to_string(),
        "--steps",
        "5",
    ]);
    assert!(e.contains("at least"), "{e}");
    assert!(
        !run.exists(),
        "the failed run left {:?}",
        std::fs::read_dir(&run).map(|r| r.count())
    );
    std::fs::create_dir_all(d.join("mine")).unwrap();
    std::fs::write(d.join("mine/notes.txt"), b"keep").unwrap();
    fails(&[
        "train",
        "--preset",
        "tiny",
        "--data",
        &d.join("small").display().to_string(),
        "--out",
        &d.join("mine").display().to_string(),
        "--steps",
        "5",
    ]);
    assert_eq!(std::fs::read(d.join("mine/notes.txt")).unwrap(), b"keep");
    std::fs::remove_dir_all(&d).unwrap();
}

/// Every subcommand that reads files, asked to write over each of its inputs: refused, and no
/// input changes (without --overwrite).
#[test]
fn no_subcommand_writes_over_an_input() {
    let d = tempdir("every-input");
    let p = |name: &str| d.join(name).display().to_string();
    for name in ["in.png", "m.png", "s.png", "a.png", "b.png", "f-000.png"] {
        save(&photo(32, 32), &d.join(name));
    }
    ok(&["invert", &p("in.png"), "-o", &p("lat.safetensors")]);
    let seeds = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz/seeds/model");
    for m in ["m1", "m2"] {
        for ext in ["safetensors", "json"] {
            std::fs::copy(format!("{seeds}/m.{ext}"), d.join(format!("{m}.{ext}"))).unwrap();
        }
    }
    let inputs: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect();
    let (i, m, s, a, b) = (p("in.png"), p("m.png"), p("s.png"), p("a.png"), p("b.png"));
    let (lat, m1, m2) = (
        p("lat.safetensors"),
        p("m1.safetensors"),
        p("m2.safetensors"),
    );
    let (f0, f) = (p("f-000.png"), p("f.png"));
    let attempts: Vec<Vec<&str>> = vec![
        vec!["reconstruct", &i, "-o", &i],
        vec!["restore", &i, "-o", &i],
        vec!["inpaint", &i, "--mask", &m, "-o", &m],
        vec!["inpaint", &i, "--mask", &m, "-o", &i],
        vec!["edit", &i, "--strokes", &s, "-o", &s],
        vec!["edit", &i, "--strokes", &s, "--mask", &m, "-o", &m],
        vec!["invert", &i, "-o", &lat, "--preview", &i],
        vec!["generate", "--from", &lat, "-o", &lat],
        vec!["interpolate", &a, &b, "--strip", "-o", &b],
        // Its numbered frames f-000.png, f-001.png: the first is an input.
        vec!["interpolate", &f0, &b, "--frames", "2", "-o", &f],
        vec!["export", "--from", &m1, "-o", &m1],
        vec!["merge", &m1, &m2, "-o", &m2],
    ];
    for args in &attempts {
        fails(args);
        for (path, bytes) in &inputs {
            assert_eq!(
                &std::fs::read(path).unwrap(),
                bytes,
                "{args:?} changed {}",
                path.display()
            );
        }
    }
    std::fs::remove_dir_all(&d).unwrap();
}
