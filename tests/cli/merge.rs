//! merge: two model files blended, bad requests refused.

use super::*;

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
