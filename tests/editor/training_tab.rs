//! The Train tab: runs that stop and resume, distillation, continuing the shipped model,
//! and blends that feed the editor.

use super::*;

fn training_photos(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).unwrap();
    for k in 0..5u32 {
        let img = image::RgbImage::from_fn(96, 96, |x, y| {
            let v = ((x as f32 * 0.2 + k as f32).sin() * 90.0 + 120.0) as u8;
            image::Rgb([v, (y * 2) as u8, 255 - v])
        });
        img.save(dir.join(format!("p{k}.png"))).unwrap();
    }
}

/// The editor on its Train tab, the form set for a short `tiny` run named `name` on the
/// photos in `d/photos`, checkpointing every two steps.
fn train_tab(
    d: &std::path::Path,
    name: &str,
    batch: usize,
    sample_every: u64,
) -> Harness<'static, Editor> {
    let mut h = harness(d.join("runs"));
    h.state_mut().tab = Tab::Train;
    let form = &mut h.state_mut().training.form;
    form.data = d.join("photos").display().to_string();
    form.name = name.into();
    form.preset = "tiny".into();
    form.batch = batch;
    form.patch = 32;
    form.steps = 1000;
    form.checkpoint_every = 2;
    form.sample_every = sample_every;
    h
}

#[test]
fn training_tab_runs_stops_resumes_and_feeds_the_editor() {
    let d = tempdir("train-tab");
    training_photos(&d.join("photos"));
    let mut h = train_tab(&d, "kittest", 2, 4);
    h.run_steps(2);
    // The estimate before starting is measured on warm-up steps.
    h.get_by_label("Measure").click();
    wait_for(&mut h, "the estimate", |h| {
        h.query_by_label_contains("measured:").is_some()
    });
    assert!(h.query_by_label_contains("s/step").is_some());
    h.get_by_label("Start").click();
    h.step();
    wait(&mut h, "training steps", |e| e.training.current_step() >= 4);
    assert!(
        h.state().training.loss_points() >= 4,
        "the loss plot advances"
    );
    h.run_steps(2);
    let step = h.state().training.current_step();
    assert!(
        h.query_by_label_contains(&format!("step {step} / 1000"))
            .is_some(),
        "the step counter is shown"
    );
    h.get_by_label("Stop and save").click();
    h.step();
    wait(&mut h, "the run to stop", |e| !e.training.is_running());
    let stopped_at = h.state().training.current_step();
    wait(&mut h, "the run in the list", |e| {
        e.training
            .past_runs()
            .iter()
            .any(|r| r.step == Some(stopped_at))
    });

    // Resume from the list, as after a restart, with the photos moved meanwhile: the tab
    // asks where they are, then trains on the folder chosen in the form.
    std::fs::rename(d.join("photos"), d.join("moved")).unwrap();
    h.get_by_label("Resume").click();
    h.run_steps(2);
    assert!(
        h.query_by_label_contains("is missing").is_some(),
        "a missing photos folder is reported"
    );
    assert!(!h.state().training.is_running());
    h.state_mut().training.form.data = d.join("moved").display().to_string();
    h.run_steps(2);
    h.get_by_label("Resume").click();
    h.step();
    wait(&mut h, "resumed steps", |e| {
        e.training.current_step() > stopped_at + 1
    });
    h.get_by_label("Stop and save").click();
    h.step();
    wait(&mut h, "the run to stop again", |e| {
        !e.training.is_running()
    });

    // Use the run's EMA weights in the editor without restarting. The shipped model is a
    // denoiser; this one was consistency-trained, so the timeline's ladder turns into plain hops.
    let before = h.state().model.name.clone();
    assert_eq!(h.state().model.ladders.kind, Ladders::Heun);
    h.state_mut().tab = Tab::Edit;
    h.run_steps(2);
    h.get_by_label("ladder").click();
    h.run_steps(2);
    assert!(
        h.state()
            .timeline
            .plan
            .ops
            .iter()
            .any(|op| matches!(op, Op::Heun(_)))
    );
    h.state_mut().tab = Tab::Train;
    h.run_steps(2);
    h.get_all_by_label("Use in editor").next().unwrap().click();
    h.step();
    wait(&mut h, "the model swap", |e| e.model.name != before);
    assert!(
        h.state().model.name.contains("kittest"),
        "{}",
        h.state().model.name
    );
    assert_eq!(h.state().model.ladders.kind, Ladders::Plain);
    let plan = &h.state().timeline.plan;
    assert!(plan.ops.iter().all(|op| matches!(op, Op::Hop(_))), "{plan}");
    assert_eq!(plan.nfe(), h.state().timeline.ladder_nfe);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn training_tab_distils_the_model_it_continues_from() {
    use bcm_studio::engine::Bcm;
    use bcm_studio::engine::network::UNetConfig;
    use bcm_studio::engine::weights::{self, ModelCard};
    let d = tempdir("distil-tab");
    training_photos(&d.join("photos"));
    let teacher = Bcm::random(UNetConfig::tiny(), 3, &burn::tensor::Device::flex()).unwrap();
    let path = d.join("teacher.safetensors");
    weights::save(
        &teacher,
        &ModelCard::new("teacher", UNetConfig::tiny()),
        &path,
    )
    .unwrap();
    let mut h = train_tab(&d, "distil", 4, 100);
    h.run_steps(2);
    // Without a model to continue from there is nothing to distil.
    h.get_by_label("distillation").click();
    h.run_steps(2);
    assert_eq!(h.query_all_by_label_contains("denoising share").count(), 0);
    // A model that already follows the ODE (its card says plain ladders) goes on learning the
    // ODE of the denoiser it came from: the shipped model's teacher is offered.
    let plain = d.join("distilled.safetensors");
    weights::save(
        &teacher,
        &ModelCard {
            ladders: bcm_studio::engine::plan::Ladders::Plain,
            ..ModelCard::new("distilled", UNetConfig::tiny())
        },
        &plain,
    )
    .unwrap();
    h.state_mut().training.form.continue_from = Some(plain.clone());
    h.run_steps(2);
    h.get_by_label("distillation").click();
    h.run_steps(2);
    assert!(h.query_all_by_label_contains("denoising share").count() > 0);
    assert!(h.query_by_label("teacher").is_some());
    assert_eq!(
        h.state().training.form.teacher.as_deref(),
        Some(std::path::Path::new(weights::SHIPPED_TEACHER))
    );
    // A denoiser-trained model is its own teacher.
    h.state_mut().training.form.continue_from = Some(path);
    h.run_steps(2);
    let own = format!(
        "{:.2} M parameters (the model's own architecture)",
        UNetConfig::tiny().param_count() as f64 / 1e6
    );
    assert!(h.query_by_label(&own).is_some(), "{own}");
    assert!(h.query_all_by_label_contains("denoising share").count() > 0);
    assert!(h.query_by_label("teacher").is_none());
    assert_eq!(h.state().training.form.teacher, None);
    h.state_mut().training.form.continue_from = Some(plain);
    h.run_steps(2);
    assert!(h.query_all_by_label("round trip weight").count() > 0);
    h.state_mut().training.form.round_trip_weight = 2.5;
    h.run_steps(1);
    h.get_by_label("2 or 4").click();
    h.get_by_label("cosine decay").click();
    h.run_steps(1);
    h.get_by_label("Start").click();
    h.step();
    wait(&mut h, "distillation steps", |e| {
        e.training.current_step() >= 3
    });
    h.run_steps(2);
    assert!(
        h.query_by_label_contains("N(k)").is_none(),
        "no curriculum in a distillation"
    );
    h.get_by_label("Stop and save").click();
    h.step();
    wait(&mut h, "the run to stop", |e| !e.training.is_running());
    let config = std::fs::read_to_string(d.join("runs/distil/config.json")).unwrap();
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(config["objective"], "Distill");
    assert_eq!(config["paths"], 1);
    assert_eq!(config["denoise_share"], 0.5);
    assert_eq!(config["round_trips"], 4);
    assert_eq!(config["round_trip_lengths"], serde_json::json!([2, 4]));
    assert_eq!(config["round_trip_weight"], 2.5);
    assert_eq!(config["lr_schedule"], "cosine");
    assert_eq!(config["teacher"], weights::SHIPPED_TEACHER);
    // The run keeps its own copy of the teacher, which the tab then offers too.
    assert!(d.join("runs/distil/teacher.safetensors").exists());
    assert!(
        h.state()
            .training
            .past_runs()
            .iter()
            .any(|r| r.teacher.is_some())
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn training_tab_continues_the_shipped_model_the_way_it_was_made() {
    use bcm_studio::engine::train::Objective;
    use bcm_studio::engine::weights::SHIPPED_TEACHER;
    let d = tempdir("shipped-tab");
    let mut h = train_tab(&d, "shipped", 4, 100);
    h.run_steps(2);
    h.get_by_label("continue from").click();
    h.run_steps(2);
    h.get_by_label("the shipped model").click();
    h.run_steps(2);
    let f = &h.state().training.form;
    // The form shows what the shipped file's card records of the run that made it (read
    // from the card, so that retraining the shipped model changes no expectation here).
    let made = bcm_studio::engine::weights::embedded_card()
        .unwrap()
        .training
        .expect("the shipped card records its run's settings");
    assert_eq!(
        (f.preset.as_str(), f.batch, f.patch, f.objective),
        (made.preset.as_str(), made.batch, made.patch, made.objective)
    );
    assert_eq!(
        (f.jpeg_fraction, f.round_trips, f.round_trip_lengths.clone()),
        (
            made.jpeg_fraction,
            made.round_trips,
            made.round_trip_choices()
        )
    );
    assert_eq!(
        (f.round_trip_weight, f.denoise_weight, f.ladder_floor),
        (
            made.round_trip_weight,
            made.denoise_weight,
            made.ladder_floor
        )
    );
    assert_eq!(
        f.cosine,
        made.lr_schedule == bcm_studio::engine::train::lr_schedule::LrSchedule::Cosine
    );
    assert_eq!(
        (f.lr, f.warmup, f.steps),
        (made.lr, made.warmup, made.total_steps)
    );
    // The shipped model follows the ODE: continuing it distils from its teacher.
    assert_eq!(f.objective, Objective::Distill);
    // And a run started from the form trains with them.
    let config = h.state().training.config_from_form().unwrap();
    assert_eq!(
        (
            config.warmup,
            config.total_steps,
            config.round_trip_choices()
        ),
        (made.warmup, made.total_steps, made.round_trip_choices())
    );
    // The tab has a choice for those lengths.
    h.get_by_label("2, 2 or 4");
    assert!(h.query_all_by_label("denoising weight").next().is_some());
    assert_eq!(
        f.teacher.as_deref(),
        Some(std::path::Path::new(SHIPPED_TEACHER))
    );
    assert!(h.query_by_label("teacher").is_some());
    // The closed combo box names the choice, not the file.
    use egui_kittest::kittest::NodeT;
    let combo = h.get_by_label("continue from").accesskit_node().value();
    assert_eq!(combo.as_deref(), Some("the shipped model"));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn training_tab_blends_two_runs_into_the_editor() {
    use bcm_studio::engine::train::{TrainConfig, Trainer};
    use burn::tensor::Device;
    let d = tempdir("blend-tab");
    training_photos(&d.join("photos"));
    // Two short tiny runs, one checkpoint each, different seeds.
    for (name, seed) in [("one", 1), ("two", 2)] {
        let mut c = TrainConfig::for_preset("tiny", d.join("photos")).unwrap();
        (c.batch, c.patch, c.downscale, c.seed) = (2, 32, 1, seed);
        let mut run = Trainer::start(c, &d.join("runs").join(name), &Device::flex()).unwrap();
        run.step().unwrap();
        run.save_checkpoint().unwrap();
    }
    let mut h = harness(d.join("runs"));
    h.state_mut().tab = Tab::Train;
    h.run_steps(2);
    let pick = |h: &mut Harness<'_, Editor>, combo: &str, choice: &str| {
        h.get_by_label(combo).click();
        h.run_steps(2);
        h.get_by_label(choice).click();
        h.run_steps(2);
    };
    // The shipped model is another preset: refused, and the editor keeps its model.
    let before = h.state().model.name.clone();
    pick(&mut h, "first model", "the shipped model");
    pick(&mut h, "second model", "one (step 1)");
    h.get_by_label("Blend and use in editor").click();
    h.step();
    wait(&mut h, "the refusal", |e| e.training.message.is_some());
    let (text, error) = h.state().training.message.clone().unwrap();
    assert!(error && text.contains("different architectures"), "{text}");
    assert_eq!(h.state().model.name, before);

    // Blend (or move) at `weight` and wait for the result to reach the editor: its name.
    let blend_into_editor = |h: &mut Harness<'_, Editor>, weight: f32| {
        let before = h.state().model.name.clone();
        h.state_mut().training.blend.weight = weight;
        h.run_steps(2);
        h.get_by_label("Blend and use in editor").click();
        h.step();
        wait(h, "the result in the editor", |e| e.model.name != before);
        h.state().model.name.clone()
    };
    pick(&mut h, "first model", "two (step 1)");
    let name = blend_into_editor(&mut h, 0.25);
    assert!(
        name.contains("0.75 × two") && name.contains("0.25 × one"),
        "{name}"
    );
    let saved = d.join("runs/blends/two+one-25.safetensors");
    let card = bcm_studio::engine::weights::read_card(&saved).unwrap();
    assert_eq!(card.name, name);
    assert!(!h.state().training.message.clone().unwrap().1);

    // Add difference: two moved by all that one has over two is one again.
    let difference_slider = |h: &Harness<'_, Editor>| {
        h.query_all_by_label_contains("weight of the difference")
            .count()
    };
    assert_eq!(difference_slider(&h), 0);
    pick(&mut h, "add difference from", "two (step 1)");
    assert!(difference_slider(&h) > 0);
    let moved = blend_into_editor(&mut h, 1.0);
    assert_eq!(moved, "two (step 1) + 1.00 × (one (step 1) − two (step 1))");
    let saved = d.join("runs/blends/two+one-minus-two-100.safetensors");
    let generate = |file: &std::path::Path| {
        use bcm_studio::engine::tasks::{self, GenerateParams};
        let model = bcm_studio::engine::weights::load(file, &Device::flex()).unwrap();
        let p = GenerateParams {
            width: 16,
            height: 16,
            plan: bcm_studio::engine::GenerationPreset::OneStep.plan_from(80.0),
            seed: 4,
        };
        tasks::generate(&model, &p, &Default::default(), &mut ())
            .unwrap()
            .image
            .data
    };
    let one = bcm_studio::engine::train::checkpoint::latest(&d.join("runs/one"))
        .unwrap()
        .join("ema.safetensors");
    let (got, want) = (generate(&saved), generate(&one));
    let off = got
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(off < 1e-3, "{off}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn training_tab_measures_on_the_editors_worker_not_beside_its_job() {
    let d = tempdir("measure-tab");
    training_photos(&d.join("photos"));
    let path = d.join("photo.png");
    write_photo(&path, 96, 64);
    let mut h = train_tab(&d, "measured", 2, 4);
    open(&mut h, path);
    // A restoration holds the worker: the measurement is refused rather than run beside it.
    let hold = h.state_mut().worker.hold_next_job();
    h.state_mut().run_task(bcm_studio::app::TaskKind::Restore);
    h.run_steps(2);
    wait(&mut h, "the restoration to start", |_| hold.reached());
    h.get_by_label("Measure").click();
    wait_for(&mut h, "the refusal", |h| {
        h.query_by_label_contains("cannot measure: busy with restore")
            .is_some()
    });
    hold.release();
    wait(&mut h, "the restoration to finish", |e| !e.busy());
    // Free, the worker takes it: it is the editor's running job until the estimate is in.
    let hold = h.state_mut().worker.hold_next_job();
    h.get_by_label("Measure").click();
    h.run_steps(2);
    assert_eq!(h.state().worker.running(), Some("measure training"));
    hold.release();
    wait_for(&mut h, "the estimate", |h| {
        h.query_by_label_contains("measured:").is_some()
    });
    assert!(!h.state().busy());
    std::fs::remove_dir_all(&d).unwrap();
}
