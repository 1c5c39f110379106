//! Tasks on an open photo: inpaint with undo and redo, restore a JPEG, cancel, and the
//! rendered editor.

use super::*;

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
    assert_eq!(
        h.state().tasks.restore_passes,
        bcm_studio::engine::tasks::JPEG_PASSES
    );
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
    let path = d.join("photo.png");
    write_photo(&path, 96, 64);
    let mut h = harness(d.join("runs"));
    let original = open(&mut h, path);
    h.state_mut().tasks.kind = bcm_studio::app::TaskKind::Restore;
    h.run_steps(2);
    // The job waits before its first network evaluation until the click has landed, so the
    // test does not race the worker: however fast the machine, the job cannot finish first.
    let hold = h.state_mut().worker.hold_next_job();
    // Ctrl+Enter runs the selected task, as the button does.
    h.key_press_modifiers(Modifiers::COMMAND, egui::Key::Enter);
    h.run_steps(2);
    assert!(h.state().busy(), "the job runs in the background");
    wait(&mut h, "the job to reach its first evaluation", |_| {
        hold.reached()
    });
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
    let hold = h.state_mut().worker.hold_next_job();
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
    // Released, the held job runs to its end and stages its result.
    hold.release();
    wait(&mut h, "the second job to finish", |e| !e.busy());
    assert!(
        h.state().doc.as_ref().unwrap().staged.is_some(),
        "a released job finishes"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn rendered_editor_with_a_mask() {
    if common::wgpu_adapter_or_skip("rendered_editor_with_a_mask").is_none() {
        return;
    }
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

#[test]
fn inpaint_with_untouched_settings_matches_the_cli_with_no_flags() {
    let d = tempdir("inpaint-defaults");
    let path = d.join("photo.png");
    write_photo(&path, 160, 120);
    let mut h = harness_with_shipped_model(d.join("runs"));
    open(&mut h, path.clone());
    // A binary mask, so that its PNG gives the CLI exactly the same one.
    let mut mask = bcm_studio::engine::Mask::empty(160, 120);
    for y in 40..72 {
        for x in 50..90 {
            mask.data[y * 160 + x] = 1.0;
        }
    }
    let gray = image::GrayImage::from_fn(160, 120, |x, y| {
        image::Luma([(mask.data[y as usize * 160 + x as usize] * 255.0) as u8])
    });
    gray.save(d.join("mask.png")).unwrap();
    h.state_mut().doc.as_mut().unwrap().mask = mask;
    h.get_by_label("Inpaint mask").click();
    h.step();
    wait(&mut h, "the inpainting result", |e| {
        e.doc.as_ref().is_some_and(|d| d.staged.is_some())
    });
    h.get_by_label("Accept (Enter)").click();
    h.run_steps(2);
    let editor = h.state().doc.as_ref().unwrap().export().to_rgb8();

    let out = d.join("cli.png");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_bcm-studio"))
        .args(["--device", "cpu", "inpaint"])
        .arg(&path)
        .arg("--mask")
        .arg(d.join("mask.png"))
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let cli = image::open(&out).unwrap().to_rgb8();
    assert!(
        editor.as_raw() != image::open(&path).unwrap().to_rgb8().as_raw(),
        "the inpainting changed the photo"
    );
    let differing: Vec<(usize, u8, u8)> = editor
        .as_raw()
        .iter()
        .zip(cli.as_raw())
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .map(|(i, (a, b))| (i, *a, *b))
        .collect();
    assert!(
        differing.is_empty(),
        "editor and CLI differ in {} values, the first: {:?}",
        differing.len(),
        &differing[..differing.len().min(8)]
    );
}
