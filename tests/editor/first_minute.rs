//! The first minute: the empty canvas offers the bundled photos, F1 lists every shortcut.

use super::*;
use bcm_studio::app::SHORTCUTS;

#[test]
fn the_empty_canvas_opens_a_sample_with_one_click() {
    let d = tempdir("welcome");
    let mut h = harness(d.join("runs"));
    h.run_steps(2);
    assert!(h.query_by_label("Open a photo to start").is_some());
    h.get_by_label("Open sample life.jpg").click();
    wait(&mut h, "the sample to open", |e| e.doc.is_some());
    let doc = h.state().doc.as_ref().unwrap();
    assert_eq!(doc.name(), "life.jpg");
    assert!(doc.path.is_none(), "a sample has no file to save over");
    assert!(
        doc.damage.jpeg_quality.is_some(),
        "the sample's JPEG tables are read, as a file's are"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn f1_and_the_help_menu_list_every_shortcut() {
    let d = tempdir("f1");
    let mut h = harness(d.join("runs"));
    h.run_steps(2);
    assert!(h.query_by_label("Keyboard shortcuts").is_none());
    h.key_press(egui::Key::F1);
    h.run_steps(2);
    assert!(
        h.query_by_label("Keyboard shortcuts").is_some(),
        "F1 opens the list"
    );
    for (group, keys) in SHORTCUTS {
        let shown =
            |h: &Harness<'_, Editor>, text: &str| h.query_all_by_label(text).next().is_some();
        assert!(shown(&h, group), "group {group} shown");
        for (key, what) in *keys {
            assert!(shown(&h, key), "{key} shown");
            assert!(shown(&h, what), "{what} shown");
        }
    }
    h.key_press(egui::Key::F1);
    h.run_steps(2);
    assert!(
        h.query_by_label("Keyboard shortcuts").is_none(),
        "F1 closes it"
    );
    h.get_by_label("Help").click();
    h.run_steps(2);
    h.get_by_label("Keyboard shortcuts  F1").click();
    h.run_steps(2);
    assert!(
        h.query_by_label("Keyboard shortcuts").is_some(),
        "Help opens it"
    );
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert!(
        h.query_by_label("Keyboard shortcuts").is_none(),
        "Esc closes it"
    );
    std::fs::remove_dir_all(&d).unwrap();
}
