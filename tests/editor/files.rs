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
