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
