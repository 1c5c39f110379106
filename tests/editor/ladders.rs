//! Ladder plans: Heun hops for inversion, generation and interpolation frames.

use super::*;

#[test]
fn the_ladder_plan_inverts_and_generates_in_heun_hops() {
    let (d, mut h, _) = editor_with_photo("ladder");
    h.get_by_label("ladder").click();
    h.run_steps(2);
    let plan = h.state().timeline.plan.clone();
    assert_eq!(plan.nfe(), 17, "8 Heun hops and a plain one to σ_min");
    assert!(
        plan.ops.iter().any(|op| matches!(op, Op::Heun(_))),
        "{plan}"
    );
    assert_eq!(
        h.state().timeline.inversion_nfe,
        16,
        "the inversion takes as many hops"
    );
    h.get_by_label("Invert to σ").click();
    h.step();
    wait(&mut h, "the inversion", |e| {
        e.doc.as_ref().and_then(|d| d.level.as_ref()).is_some()
    });
    assert_eq!(
        h.state()
            .doc
            .as_ref()
            .unwrap()
            .level
            .as_ref()
            .unwrap()
            .sigma,
        15.0
    );
    let down = plan.rebased(15.0);
    h.get_by_label(&format!("Generate back ({} NFE)", down.nfe()))
        .click();
    h.step();
    wait(&mut h, "the generation", |e| {
        e.doc.as_ref().is_some_and(|d| d.staged.is_some())
    });
    let staged = h.state().doc.as_ref().unwrap().staged.clone().unwrap();
    let down = down.to_string();
    assert!(
        staged.recipe.schedule.iter().any(|s| s.contains(&down)),
        "{:?} lacks {down}",
        staged.recipe.schedule
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn generation_can_come_down_a_heun_ladder() {
    let (d, mut h, _) = editor_with_photo("gen-ladder");
    {
        let tasks = &mut h.state_mut().tasks;
        tasks.kind = TaskKind::Generate;
        tasks.gen_ladder = true;
        tasks.gen_ladder_nfe = 7;
    }
    h.run_steps(2);
    let ladder = bcm_studio::engine::plan::Plan::generation(h.state().model.ladders, 7, 80.0)
        .unwrap()
        .to_string();
    assert!(ladder.contains(" > h"), "{ladder}");
    h.state_mut().run_task(TaskKind::Generate);
    h.step();
    // A picture of another size than the open photo becomes a new document.
    wait(&mut h, "the generated picture", |e| {
        e.doc
            .as_ref()
            .and_then(|d| d.recipe.as_ref())
            .is_some_and(|r| r.schedule.iter().any(|s| s.contains(&ladder)))
    });
    let doc = h.state().doc.as_ref().unwrap();
    let (w, hh) = (h.state().tasks.gen_width, h.state().tasks.gen_height);
    assert_eq!((doc.width(), doc.height()), (w, hh));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn interpolation_frames_can_come_down_a_ladder() {
    let (d, mut h, a) = editor_with_photo("interp-ladder");
    let mut b = a.clone();
    b.data.reverse();
    h.state_mut().interp.set_second("b".into(), b);
    h.state_mut().tab = Tab::Interpolate;
    h.state_mut().interp.ladder = true;
    h.state_mut().interp.nfe = 8;
    h.state_mut().interp.sigma = 20.0;
    h.run_steps(2);
    assert_eq!(
        h.state()
            .interp
            .frame_plan(h.state().model.ladders)
            .unwrap()
            .nfe(),
        9
    );
    assert!(h.query_by_label("Press Invert both.").is_some());
    h.get_by_label("Invert both").click();
    h.step();
    wait(&mut h, "the first frame", |e| {
        e.interp.frame.as_ref().is_some_and(|f| !f.2)
    });
    assert!(
        h.state()
            .messages
            .iter()
            .any(|m| m.text.contains("both pictures inverted (16 NFE)")),
        "two inversions of 8 hops"
    );
    // Another model drops both latents: the panel asks for the inversion again.
    let before = h.state().model.name.clone();
    h.state_mut()
        .load_model(bcm_studio::jobs::ModelSource::Embedded);
    wait(&mut h, "the model swap", |e| e.model.name != before);
    assert!(!h.state().interp.ready);
    h.run_steps(2);
    assert!(h.query_by_label("Press Invert both.").is_some());
    std::fs::remove_dir_all(&d).unwrap();
}
