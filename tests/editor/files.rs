//! Files: opening over unsaved work, and model files from the menu, a drop or the command line.

use super::*;

#[test]
fn opening_over_unsaved_work_asks_first() {
    let (d, mut h, _) = editor_with_photo("replace");
    write_photo(&d.join("b.png"), 80, 40);
    h.state_mut().canvas.brush.size = 10.0;
    paint(&mut h, &[(20.0, 20.0), (30.0, 25.0)]);
    assert!(h.state().doc.as_ref().unwrap().is_dirty());
    h.state_mut().open_path(d.join("b.png"));
    wait_for(&mut h, "the confirmation", |h| {
        h.query_by_label("Keep the open photo").is_some()
    });
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
    wait_for(&mut h, "the second confirmation", |h| {
        h.query_by_label("Replace (lose the changes)").is_some()
    });
    h.get_by_label("Replace (lose the changes)").click();
    h.run_steps(2);
    assert_eq!(h.state().doc.as_ref().unwrap().width(), 80);
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
    assert_eq!(h.state().model.ladders.kind, Ladders::Plain);
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
    assert_eq!(h.state().model.ladders, embedded.ladder_style().unwrap());
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

/// Under a desktop without an xdg portal the editor draws its own file browser: a photo opens
/// through it, Save as writes through it, and each kind of dialog starts where the last ended.
#[test]
fn the_built_in_file_browser_opens_and_saves() {
    let d = tempdir("browser");
    write_photo(&d.join("a.png"), 64, 48);
    let config = d.join("config");
    std::fs::create_dir_all(&config).unwrap();
    // Where the last Open ended, as an earlier session left it.
    let folders = serde_json::json!({ "open-photo": d });
    std::fs::write(config.join("folders.json"), folders.to_string()).unwrap();
    let mut h = harness_with(
        d.join("runs"),
        None,
        DialogMode::BuiltIn,
        Some(config.clone()),
    );
    h.run_steps(2);
    h.key_press_modifiers(Modifiers::COMMAND, egui::Key::O);
    h.run_steps(3);
    assert!(
        h.query_by_label("📂  Open a photo").is_some(),
        "the browser opens"
    );
    h.get_by_label("🗋 a.png").click();
    h.run_steps(2);
    h.get_by_label("Open").click();
    h.run_steps(2);
    wait(&mut h, "the photo to open", |e| e.doc.is_some());
    assert_eq!(h.state().doc.as_ref().unwrap().width(), 64);
    assert!(
        h.query_by_label("📂  Open a photo").is_none(),
        "the browser closed"
    );

    // Save as starts beside the photo with a new name; the original stays.
    let before = std::fs::read(d.join("a.png")).unwrap();
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, egui::Key::S);
    h.run_steps(3);
    assert!(
        h.query_by_label("💾  Save the photo (a JPEG saved over itself loses quality)")
            .is_some()
    );
    h.get_by_label("Save").click();
    h.run_steps(2);
    let saved = d.join("a-edited.png");
    wait(&mut h, "the save", |_| saved.exists());
    wait(&mut h, "the saved document", |e| {
        e.doc.as_ref().unwrap().path.as_deref() == Some(saved.as_path())
    });
    assert_eq!(std::fs::read(d.join("a.png")).unwrap(), before);
    let remembered: serde_json::Value =
        serde_json::from_slice(&std::fs::read(config.join("folders.json")).unwrap()).unwrap();
    assert_eq!(
        remembered["save-photo"].as_str().map(PathBuf::from),
        Some(d.clone()),
        "{remembered}"
    );

    // Esc closes the browser and changes nothing.
    h.key_press_modifiers(Modifiers::COMMAND, egui::Key::O);
    h.run_steps(3);
    assert!(h.query_by_label("📂  Open a photo").is_some());
    h.key_press(egui::Key::Escape);
    h.run_steps(3);
    assert!(h.query_by_label("📂  Open a photo").is_none());
    assert_eq!(
        h.state().doc.as_ref().unwrap().path.as_deref(),
        Some(saved.as_path())
    );
    std::fs::remove_dir_all(&d).unwrap();
}
