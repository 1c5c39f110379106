//! Distillation from a teacher: its settings, its resume, and continuing the shipped model
//! the way its card records.

use super::*;

/// The settings fail validation with a message that says `why`.
fn assert_refused(config: &TrainConfig, why: &str) {
    let message = config
        .validate()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(message.contains(why), "{message}");
}

/// Two first steps with the same draws: the pairs' parts agree, and what the loss holds beyond
/// them (denoising part or round trips) is `factor` times larger in `heavy`.
fn assert_extra_part_scaled(light: &StepReport, heavy: &StepReport, factor: f32) {
    let extra = |r: &StepReport| r.loss - r.ct - r.bcm;
    assert!(
        (light.ct - heavy.ct).abs() <= 1e-6 * light.ct.max(1e-3),
        "{light:?} {heavy:?}"
    );
    let (a, b) = (extra(light), extra(heavy));
    assert!((b - factor * a).abs() <= 1e-3 * b, "{a} {b}");
}

#[test]
fn a_distillation_needs_its_teacher_and_resumes_on_the_same_loss_curve() {
    use bcm_studio::engine::Bcm;
    use bcm_studio::engine::train::Objective;
    use bcm_studio::engine::weights::{self, ModelCard};
    let d = tempdir("distill");
    photo_folder(&d.join("photos"), 6);
    let device = Device::flex();
    let mut config = tiny_config(&d.join("photos"));
    config.objective = Objective::Distill;
    config.paths = 2;
    // Without a model to distil there is nothing to follow.
    let refused = Trainer::start(config.clone(), &d.join("none"), &device);
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("--init"), "{message}");

    let mut teacher = Bcm::random(UNetConfig::tiny(), 4, &device).unwrap();
    device.seed(5);
    teacher.net = common::jitter(teacher.net, 0.05);
    let teacher_path = d.join("teacher.safetensors");
    weights::save(
        &teacher,
        &ModelCard::new("teacher", UNetConfig::tiny()),
        &teacher_path,
    )
    .unwrap();
    config.init = Some(teacher_path);

    let mut straight = Trainer::start(config.clone(), &d.join("a"), &device).unwrap();
    let config_with_share = |c: &TrainConfig, share: f64| TrainConfig {
        denoise_share: share,
        ..c.clone()
    };
    let reports: Vec<_> = (0..6).map(|_| straight.step().unwrap()).collect();
    for r in &reports {
        assert!(r.loss.is_finite() && r.loss > 0.0, "{r:?}");
        // The two directions make up the whole loss.
        assert!((r.ct + r.bcm - r.loss).abs() <= 1e-4 * r.loss, "{r:?}");
    }
    let mut first = Trainer::start(config.clone(), &d.join("b"), &device).unwrap();
    for _ in 0..3 {
        first.step().unwrap();
    }
    let saved = first.save_checkpoint().unwrap();
    drop(first);
    // The distilled model follows the ODE itself: its ladders take plain hops.
    let distilled = weights::load(&saved.join("ema.safetensors"), &device).unwrap();
    assert_eq!(distilled.info.ladders.kind, Ladders::Plain);
    // Such a model cannot be a teacher: it would be read as a denoiser.
    let from_distilled = TrainConfig {
        init: Some(saved.join("ema.safetensors")),
        ..config.clone()
    };
    let refused = Trainer::start(from_distilled, &d.join("x"), &device);
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("plain ladders"), "{message}");
    // It can go on as the student of the denoiser it came from (--teacher), as when the run
    // folder that made it is gone: the run keeps that teacher, not its start.
    let continued = TrainConfig {
        init: Some(saved.join("ema.safetensors")),
        teacher: config.init.clone(),
        ..config.clone()
    };
    let mut next = Trainer::start(continued.clone(), &d.join("y"), &device).unwrap();
    assert!(next.step().unwrap().loss.is_finite());
    assert_eq!(
        std::fs::read(d.join("y").join("teacher.safetensors")).unwrap(),
        std::fs::read(config.init.as_ref().unwrap()).unwrap()
    );
    drop(next);
    // A teacher belongs to distillation only.
    let misplaced = TrainConfig {
        objective: Objective::Denoise,
        ..continued
    };
    assert_refused(&misplaced, "distillation only");
    // The run keeps its own copy of the teacher: replacing the file it started from (as
    // exporting a new shipped model does) does not change what the resumed run follows.
    let other = Bcm::random(UNetConfig::tiny(), 9, &device).unwrap();
    weights::save(
        &other,
        &ModelCard::new("other", UNetConfig::tiny()),
        config.init.as_ref().unwrap(),
    )
    .unwrap();
    let mut resumed = Trainer::resume(&d.join("b"), &device).unwrap();
    let again: Vec<f32> = (0..3).map(|_| resumed.step().unwrap().loss).collect();
    for (a, b) in reports[3..].iter().map(|r| r.loss).zip(&again) {
        assert!(
            (a - b).abs() <= 1e-5 * a.abs().max(1.0),
            "resumed loss {b} differs from {a}"
        );
    }
    // With a denoising share (on JPEG-damaged inputs) the denoising loss adds to the pairs'.
    let mut mixed = config_with_share(&straight.config, 0.5);
    mixed.jpeg_fraction = 0.5;
    let mut both = Trainer::start(mixed.clone(), &d.join("c"), &device).unwrap();
    let mixed_reports: Vec<_> = (0..2).map(|_| both.step().unwrap()).collect();
    for r in &mixed_reports {
        assert!(r.loss > (r.ct + r.bcm) * 1.0001, "{r:?}");
    }
    // Its weight scales the denoising part (same draws at the first step).
    let heavier = TrainConfig {
        denoise_weight: 3.0 * mixed.denoise_weight,
        ..mixed.clone()
    };
    let r3 = Trainer::start(heavier, &d.join("c3"), &device)
        .unwrap()
        .step()
        .unwrap();
    assert_extra_part_scaled(&mixed_reports[0], &r3, 3.0);
    let negative = TrainConfig {
        denoise_weight: f32::NAN,
        ..mixed
    };
    assert_refused(&negative, "denoising part's weight");
    // With round trips the model's own round trip adds to the pairs' loss, and resumes alike.
    let trips = TrainConfig {
        round_trips: 2,
        round_trip_nfe: 2,
        ..straight.config.clone()
    };
    let mut round = Trainer::start(trips.clone(), &d.join("r"), &device).unwrap();
    let trip_reports: Vec<_> = (0..3).map(|_| round.step().unwrap()).collect();
    for r in &trip_reports {
        assert!(r.loss > (r.ct + r.bcm) * 1.0001, "{r:?}");
    }
    round.save_checkpoint().unwrap();
    let fourth = round.step().unwrap().loss;
    drop(round);
    let mut round = Trainer::resume(&d.join("r"), &device).unwrap();
    assert_eq!(
        (round.config.round_trips, round.config.round_trip_nfe),
        (2, 2)
    );
    let redone = round.step().unwrap().loss;
    assert!(
        (fourth - redone).abs() <= 1e-5 * fourth.abs().max(1.0),
        "{fourth} vs {redone}"
    );
    // Their weight scales the round trip's part of the loss (same draws at the first step).
    let heavier = TrainConfig {
        round_trip_weight: 3.0,
        ..trips.clone()
    };
    let mut heavy = Trainer::start(heavier, &d.join("r3"), &device).unwrap();
    let r3 = heavy.step().unwrap();
    heavy.save_checkpoint().unwrap();
    drop(heavy);
    assert_extra_part_scaled(&trip_reports[0], &r3, 3.0);
    assert_eq!(
        Trainer::resume(&d.join("r3"), &device)
            .unwrap()
            .config
            .round_trip_weight,
        3.0
    );
    let negative = TrainConfig {
        round_trip_weight: -1.0,
        ..trips.clone()
    };
    assert_refused(&negative, "weight must be a number");
    // Round trips longer than the trained ones are refused, set alone or drawn from.
    let too_long = TrainConfig {
        round_trip_nfe: 5,
        ..trips.clone()
    };
    assert_refused(&too_long, "1 to 4 evaluations");
    let mut drawn_too_long = trips.clone();
    drawn_too_long.set_round_trip_choices(&[2, 5]);
    assert_refused(&drawn_too_long, "1 to 4 evaluations");
    // Lengths drawn from are kept with the run; one length is kept as before.
    let mut longer = trips.clone();
    longer.set_round_trip_choices(&[2, 4]);
    assert_eq!(
        (longer.round_trip_nfe, longer.round_trip_choices()),
        (0, vec![2, 4])
    );
    let mut long = Trainer::start(longer, &d.join("r24"), &device).unwrap();
    let r24 = long.step().unwrap();
    assert!(r24.loss > (r24.ct + r24.bcm) * 1.0001, "{r24:?}");
    long.save_checkpoint().unwrap();
    drop(long);
    let resumed = Trainer::resume(&d.join("r24"), &device).unwrap();
    assert_eq!(resumed.config.round_trip_choices(), vec![2, 4]);
    let mut one = trips.clone();
    one.set_round_trip_choices(&[3]);
    assert_eq!((one.round_trip_nfe, one.round_trip_lengths.len()), (3, 0));
    assert_eq!(
        TrainConfig {
            round_trip_nfe: 0,
            ..one
        }
        .round_trip_choices(),
        vec![1, 2]
    );
    // A lower ladder floor moves the round trips (another loss at the same draws); the run
    // keeps it, and the EMA weights' card names it, so the model's short ladders turn there.
    let floored = TrainConfig {
        ladder_floor: 0.05,
        ..trips.clone()
    };
    let mut low = Trainer::start(floored, &d.join("f05"), &device).unwrap();
    let first = low.step().unwrap();
    assert!(
        (first.loss - trip_reports[0].loss).abs() > 1e-4 * first.loss,
        "{first:?} {:?}",
        trip_reports[0]
    );
    assert_eq!(low.card().ladder_floor, 0.05);
    low.save_checkpoint().unwrap();
    drop(low);
    assert_eq!(
        Trainer::resume(&d.join("f05"), &device)
            .unwrap()
            .config
            .ladder_floor,
        0.05
    );
    let ema = d.join("f05/checkpoints/step-00000001/ema.safetensors");
    let saved = bcm_studio::engine::weights::load(&ema, &device).unwrap();
    assert_eq!(saved.info.ladders.floor, 0.05);
    let up = bcm_studio::engine::plan::Plan::inversion(saved.info.ladders, 2, 80.0).unwrap();
    assert_eq!(up.to_string(), "0.002 > +0.05 > 2 > 80");
    let too_high = TrainConfig {
        ladder_floor: 0.2,
        ..trips.clone()
    };
    assert_refused(&too_high, "ladder floor must be in");
    // Round trips and the floor belong to distillation only.
    let misplaced = TrainConfig {
        objective: Objective::Denoise,
        teacher: None,
        ..trips.clone()
    };
    assert_refused(&misplaced, "distillation only");
    let misplaced = TrainConfig {
        objective: Objective::Denoise,
        teacher: None,
        round_trips: 0,
        round_trip_nfe: 0,
        ladder_floor: 0.05,
        ..trips
    };
    assert_refused(&misplaced, "ladder floor applies to distillation only");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn the_shipped_model_goes_on_distilling_from_the_shipped_teacher() {
    use bcm_studio::engine::Bcm;
    use bcm_studio::engine::train::Objective;
    use bcm_studio::engine::weights::{self, ModelCard, SHIPPED_MODEL, SHIPPED_TEACHER};
    let d = tempdir("shipped-teacher");
    photo_folder(&d.join("photos"), 4);
    let device = Device::flex();
    let teacher = weights::load(Path::new(SHIPPED_TEACHER), &device).unwrap();
    let shipped = weights::read_card(Path::new(SHIPPED_MODEL)).unwrap();
    // A denoiser (read with Heun hops) of the shipped model's architecture.
    assert_eq!(teacher.info.ladders.kind, Ladders::Heun);
    assert_eq!(shipped.ladders, Ladders::Plain);
    assert_eq!(teacher.config, shipped.config);
    let mut config = TrainConfig::for_preset("photo", d.join("photos")).unwrap();
    config.objective = Objective::Distill;
    (config.batch, config.patch, config.downscale, config.paths) = (4, 32, 1, 2);
    config.denoise_share = 0.0;
    config.init = Some(SHIPPED_MODEL.into());
    config.teacher = Some(SHIPPED_TEACHER.into());
    // The same first steps against another denoiser of that architecture: the shipped model
    // learned the shipped teacher's ODE, so it lands far closer to that teacher's points.
    let stranger = d.join("stranger.safetensors");
    let other = Bcm::random(shipped.config.clone(), 11, &device).unwrap();
    weights::save(
        &other,
        &ModelCard::new("stranger", shipped.config.clone()),
        &stranger,
    )
    .unwrap();
    let losses = |teacher: &Path, run: &str| -> f32 {
        let c = TrainConfig {
            teacher: Some(teacher.to_path_buf()),
            ..config.clone()
        };
        let mut trainer = Trainer::start(c, &d.join(run), &device).unwrap();
        (0..3).map(|_| trainer.step().unwrap().loss).sum()
    };
    let own = losses(Path::new(SHIPPED_TEACHER), "own");
    let strange = losses(&stranger, "stranger");
    assert!(own.is_finite() && own > 0.0, "{own}");
    assert!(own * 5.0 < strange, "{own} vs {strange}");
    std::fs::remove_dir_all(&d).unwrap();
}

/// The flags of the documented command that continues the shipped model (the one in
/// backquotes that starts from `assets/bcm-default.safetensors` with its teacher; the card's
/// history also shows earlier stages started from the file then shipped), as flag → value.
fn continue_command(doc: &str) -> std::collections::HashMap<String, String> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(doc)).unwrap();
    // Prose wraps lines inside inline code, so compare with the line breaks as spaces.
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let start = text
        .find(
            "`bcm-studio train --objective distill --init assets/bcm-default.safetensors --teacher",
        )
        .unwrap_or_else(|| panic!("{doc} shows how to continue the shipped model"));
    let command = text[start + 1..].split('`').next().unwrap();
    let words: Vec<&str> = command.split_whitespace().collect();
    words
        .windows(2)
        .filter(|w| w[0].starts_with("--"))
        .map(|w| (w[0].to_string(), w[1].to_string()))
        .collect()
}

#[test]
fn the_documented_way_to_continue_the_shipped_model_is_the_one_its_card_records() {
    use bcm_studio::engine::weights::embedded_card;
    let t = embedded_card()
        .unwrap()
        .training
        .expect("the shipped card records its run's settings");
    let lengths: Vec<String> = t
        .round_trip_choices()
        .iter()
        .map(usize::to_string)
        .collect();
    assert_eq!(t.objective, bcm_studio::engine::train::Objective::Distill);
    let expected = [
        ("--batch", t.batch.to_string()),
        ("--paths", t.paths.to_string()),
        ("--denoise-share", t.denoise_share.to_string()),
        ("--jpeg-fraction", t.jpeg_fraction.to_string()),
        ("--round-trips", t.round_trips.to_string()),
        ("--round-trip-nfe", lengths.join(",")),
        ("--round-trip-weight", t.round_trip_weight.to_string()),
        ("--denoise-weight", t.denoise_weight.to_string()),
        ("--ladder-floor", t.ladder_floor.to_string()),
        ("--warmup", t.warmup.to_string()),
        ("--lr-schedule", t.lr_schedule.name().to_string()),
        ("--steps", t.total_steps.to_string()),
    ];
    // The training guide shows the full command too, beside `--follow-init`, which reads the
    // record.
    for doc in ["docs/training.md"] {
        let flags = continue_command(doc);
        for (flag, value) in &expected {
            assert_eq!(flags.get(*flag), Some(value), "{doc}: {flag}");
        }
        let lr: f64 = flags["--lr"].parse().unwrap();
        assert!((lr - t.lr).abs() < 1e-12, "{doc}: --lr {lr} vs {}", t.lr);
    }
}
