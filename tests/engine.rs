//! The engine on the CPU backend: parameterisation, network locality and tiling, samplers,
//! tasks, weights.

mod common;

use bcm_studio::engine::jpeg::jpeg_consistent;
use bcm_studio::engine::mask::Mask;
use bcm_studio::engine::network::UNetConfig;
use bcm_studio::engine::plan::Ladders;
use bcm_studio::engine::schedule::{c_in, c_noise, c_out, c_skip};
use bcm_studio::engine::tasks::{self, InpaintParams, Interpolator, MaskedContent, RestoreParams};
use bcm_studio::engine::train::validate::jpeg_file;
use bcm_studio::engine::weights::{self, ModelCard};
use bcm_studio::engine::{
    Bcm, EngineError, GenerationPreset, Monitor, NoiseRng, Plan, Planar, Progress, Tiling,
};
use burn::tensor::{Device, Tensor, TensorData};
use common::{max_abs_diff, noise_image, picture, tiny_model, tiny_stem_model};

fn whole() -> Tiling {
    Tiling {
        max_pixels: usize::MAX,
        tile: 4096,
    }
}

fn eval(model: &Bcm, x: &Planar, t: f32, u: f32, tiling: &Tiling) -> Planar {
    let p = Progress {
        nfe: 0,
        nfe_total: 1,
        tile: 0,
        tiles: 1,
        level: t,
    };
    model
        .eval(x, t, u, tiling, &mut (), p)
        .expect("evaluation runs")
}

#[test]
fn f_of_x_t_t_is_exactly_x() {
    let model = tiny_model(1);
    let x = noise_image(16, 24, 3.0, 5);
    for &t in &[0.002f32, 0.07, 1.2, 80.0] {
        assert_eq!(eval(&model, &x, t, t, &whole()).data, x.data, "t = {t}");
    }
}

#[test]
fn output_is_c_skip_x_plus_c_out_f() {
    // f(x,t,u) must be c_skip(t,u)·x + c_out(t,u)·F(c_in(t)·x, c_noise(t), c_noise(u)).
    let model = tiny_model(2);
    let x = noise_image(8, 8, 1.0, 3);
    let device = Device::flex();
    let tensor = Tensor::<4>::from_data(TensorData::new(x.data.clone(), [1, 3, 8, 8]), &device);
    let (t, u) = (1.2f32, 0.3f32);
    let f = model.forward(tensor.clone(), &[t], &[u], None);
    let scaled = tensor.clone() * c_in(t);
    let ct = Tensor::<1>::from_data(TensorData::new(vec![c_noise(t)], [1]), &device);
    let cu = Tensor::<1>::from_data(TensorData::new(vec![c_noise(u)], [1]), &device);
    let raw = model.net.forward(scaled, ct, cu, None);
    let expected = tensor * c_skip(t, u) + raw * c_out(t, u);
    let d = (f - expected).abs().max().into_scalar::<f32>();
    assert!(d < 1e-5, "max diff {d}");
}

#[test]
fn network_output_is_nontrivial_and_depends_on_both_times() {
    let model = tiny_model(3);
    let x = noise_image(16, 16, 1.0, 9);
    let a = eval(&model, &x, 1.0, 0.002, &whole());
    let b = eval(&model, &x, 1.0, 0.5, &whole());
    let c = eval(&model, &x, 2.0, 0.002, &whole());
    assert!(max_abs_diff(&a, &x) > 1e-3);
    assert!(max_abs_diff(&a, &b) > 1e-4, "u must matter");
    assert!(max_abs_diff(&a, &c) > 1e-4, "t must matter");
}

#[test]
fn receptive_field_is_bounded_by_the_computed_radius() {
    check_receptive_field(&tiny_model(4));
    check_receptive_field(&common::tiny_stem_model(4));
}

fn check_receptive_field(model: &Bcm) {
    let r = model.config.receptive_radius();
    let size = 2 * r + 40;
    let x = noise_image(size, size, 1.0, 11);
    let mut poked = x.clone();
    let (cy, cx) = (size / 2, size / 2);
    for c in 0..3 {
        poked.data[(c * size + cy) * size + cx] += 5.0;
    }
    let a = eval(model, &x, 2.0, 0.002, &whole());
    let b = eval(model, &poked, 2.0, 0.002, &whole());
    let mut reach = 0usize;
    for y in 0..size {
        for xx in 0..size {
            let d = (0..3)
                .map(|c| (a.at(c, y, xx) - b.at(c, y, xx)).abs())
                .fold(0.0, f32::max);
            if d > 0.0 {
                reach = reach.max(y.abs_diff(cy).max(xx.abs_diff(cx)));
            }
        }
    }
    assert!(reach > 0, "the poke must change something");
    assert!(reach <= r, "influence reached {reach} px, radius is {r}");
}

#[test]
fn tiled_evaluation_equals_whole_image() {
    check_tiling(&tiny_model(5));
    check_tiling(&common::tiny_stem_model(5));
}

fn check_tiling(model: &Bcm) {
    // Odd size: exercises the alignment padding and partial tiles.
    let x = noise_image(150, 203, 2.0, 13);
    let full = eval(model, &x, 2.0, 0.002, &whole());
    let tiled = eval(
        model,
        &x,
        2.0,
        0.002,
        &Tiling {
            max_pixels: 64 * 64,
            tile: 48,
        },
    );
    let d = max_abs_diff(&full, &tiled);
    assert!(d < 1e-4, "tiled differs by {d}");
}

#[test]
fn local_norm_model_sizes_and_presets_are_valid() {
    for name in UNetConfig::PRESETS {
        let cfg = UNetConfig::preset(name).unwrap();
        cfg.validate().unwrap();
        assert!(cfg.is_local(), "{name} must be fully convolutional");
        let model = Bcm::random(cfg.clone(), 0, &Device::flex()).unwrap();
        use burn::module::Module;
        assert_eq!(
            model.net.num_params(),
            cfg.param_count(),
            "{name}: parameter count formula"
        );
    }
}

#[test]
fn attention_variant_runs_and_keeps_the_identity() {
    let cfg = UNetConfig::tiny()
        .with_attention_levels(vec![1])
        .with_middle_attention(true)
        .with_head_channels(16)
        .with_norm(bcm_studio::engine::network::NormKind::Spatial)
        .with_dropout(0.2);
    cfg.validate().unwrap();
    assert!(!cfg.is_local());
    let device = Device::flex();
    let mut model = Bcm::random(cfg, 0, &device).unwrap();
    model.net = common::jitter(model.net, 0.05);
    let x = noise_image(16, 16, 1.0, 2);
    assert_eq!(eval(&model, &x, 3.0, 3.0, &whole()).data, x.data);
    let y = eval(&model, &x, 3.0, 0.002, &whole());
    assert!(y.data.iter().all(|v| v.is_finite()));
    assert!(max_abs_diff(&y, &x) > 1e-3);
}

#[test]
fn same_seed_same_result_and_nfe_is_counted() {
    let model = tiny_model(6);
    let plan = GenerationPreset::Zigzag.plan_from(80.0);
    let p = tasks::GenerateParams {
        width: 32,
        height: 24,
        plan,
        seed: 3,
    };
    let a = tasks::generate(&model, &p, &whole(), &mut ()).unwrap();
    let b = tasks::generate(&model, &p, &whole(), &mut ()).unwrap();
    assert_eq!(a.image.data, b.image.data);
    assert_eq!(a.nfe, 3);
    let c = tasks::generate(
        &model,
        &tasks::GenerateParams { seed: 4, ..p },
        &whole(),
        &mut (),
    )
    .unwrap();
    assert_ne!(a.image.data, c.image.data);
}

struct Counter {
    evaluations: usize,
    cancel_after: Option<usize>,
}

impl Monitor for Counter {
    fn progress(&mut self, p: &Progress) {
        self.evaluations = self.evaluations.max(p.nfe);
    }
    fn cancelled(&self) -> bool {
        self.cancel_after.is_some_and(|n| self.evaluations >= n)
    }
}

#[test]
fn reconstruction_counts_both_directions_and_cancel_stops() {
    let model = tiny_model(7);
    let x = picture(32, 32);
    let mut counter = Counter {
        evaluations: 0,
        cancel_after: None,
    };
    let (out, up, down) = tasks::reconstruct(&model, &x, 2, 0, &whole(), &mut counter).unwrap();
    assert_eq!((up.nfe(), down.nfe(), out.nfe), (2, 2, 4));
    assert_eq!(counter.evaluations, 4);
    let mut cancelling = Counter {
        evaluations: 0,
        cancel_after: Some(1),
    };
    let err = tasks::reconstruct(&model, &x, 2, 0, &whole(), &mut cancelling).unwrap_err();
    assert!(matches!(err, EngineError::Cancelled));
    assert_eq!(cancelling.evaluations, 1, "stops at the next step");
}

#[test]
fn longer_ladders_reconstruct_a_photo_more_faithfully() {
    // The shipped model follows the ODE step by step: more hops, a closer round trip; from 32
    // NFE the ladders start at the clean photo and retrace each other, and it comes back.
    let model = weights::default_model(&Device::flex()).unwrap();
    let img = image::open(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/samples/life.jpg"
    ))
    .unwrap()
    .resize_to_fill(96, 96, image::imageops::FilterType::Triangle);
    let x = bcm_studio::photo::planar_from_image(&img);
    let psnr = |nfe: usize| {
        let (out, up, down) = tasks::reconstruct(&model, &x, nfe, 0, &whole(), &mut ()).unwrap();
        assert_eq!(up.nfe(), nfe);
        assert!((nfe - 1..=nfe + 1).contains(&down.nfe()));
        let mse: f64 = out
            .image
            .data
            .iter()
            .zip(&x.data)
            .map(|(a, b)| f64::from(a - b).powi(2) / 4.0)
            .sum::<f64>()
            / x.data.len() as f64;
        -10.0 * mse.log10()
    };
    let (short, long, exact) = (psnr(2), psnr(16), psnr(32));
    assert!(
        long > short + 4.0 && exact > 38.0,
        "NFE 2: {short:.2} dB, NFE 16: {long:.2} dB, NFE 32: {exact:.2} dB"
    );
}

#[test]
fn inpainting_changes_only_the_masked_region() {
    let model = tiny_model(8);
    let x = picture(64, 96);
    let mut mask = Mask::empty(96, 64);
    for y in 20..36 {
        for xx in 40..60 {
            mask.data[y * 96 + xx] = 1.0;
        }
    }
    let p = InpaintParams {
        levels: vec![20.0, 2.0, 0.2],
        grow: 2,
        feather: 4,
        context: 16,
        ..InpaintParams::default()
    };
    let out = tasks::inpaint(&model, &x, &mask, &p, &whole(), &mut ()).unwrap();
    assert_eq!(out.nfe, 3);
    let soft = out.mask.as_ref().unwrap();
    let n = 64 * 96;
    let mut inside_changed = 0;
    for i in 0..n {
        for c in 0..3 {
            let (a, b) = (x.data[c * n + i], out.image.data[c * n + i]);
            if soft.data[i] == 0.0 {
                assert_eq!(a, b, "pixel {i} outside the mask changed");
            } else if mask.data[i] == 1.0 && (a - b).abs() > 1e-3 {
                inside_changed += 1;
            }
        }
    }
    assert!(
        inside_changed > 100,
        "only {inside_changed} masked values changed"
    );
    let empty = tasks::inpaint(&model, &x, &Mask::empty(96, 64), &p, &whole(), &mut ());
    assert!(matches!(empty, Err(EngineError::Parameter(_))));
    let wrong = tasks::inpaint(&model, &x, &Mask::empty(10, 10), &p, &whole(), &mut ());
    assert!(matches!(wrong, Err(EngineError::SizeMismatch(_))));
}

#[test]
fn inpainting_from_a_border_fill_removes_what_is_under_the_mask() {
    // A smooth ramp with a white square on it; the mask covers the square.
    let model = weights::default_model(&Device::flex()).unwrap();
    let (h, w) = (64, 64);
    let ramp = |x: usize| x as f32 / w as f32 - 0.5;
    let mut photo = Planar::zeros(3, h, w);
    let mut mask = Mask::empty(w, h);
    for c in 0..3 {
        for y in 0..h {
            for x in 0..w {
                let square = (24..40).contains(&y) && (24..40).contains(&x);
                photo.data[(c * h + y) * w + x] = if square { 1.0 } else { ramp(x) };
                if square {
                    mask.data[y * w + x] = 1.0;
                }
            }
        }
    }
    let error_to_ramp = |content| {
        let p = InpaintParams {
            levels: vec![0.3, 0.1],
            grow: 2,
            feather: 0,
            content,
            ..InpaintParams::default()
        };
        let out = tasks::inpaint(&model, &photo, &mask, &p, &whole(), &mut ()).unwrap();
        let (mut sum, mut n) = (0.0, 0.0);
        for c in 0..3 {
            for y in 24..40 {
                for x in 24..40 {
                    sum += (out.image.data[(c * h + y) * w + x] - ramp(x)).abs();
                    n += 1.0;
                }
            }
        }
        sum / n
    };
    let kept = error_to_ramp(MaskedContent::Original);
    let removed = error_to_ramp(MaskedContent::Fill);
    assert!(kept > 0.5, "a low strength keeps the square: error {kept}");
    assert!(
        removed < 0.15,
        "the fill removes the square: error {removed}"
    );
}

#[test]
fn interpolation_endpoints_are_the_reconstructions() {
    let model = tiny_model(9);
    let a = picture(32, 32);
    let mut b = picture(32, 32);
    b.data.reverse();
    let interp = Interpolator::new(
        &model,
        &a,
        &b,
        80.0,
        2,
        GenerationPreset::OneStep.plan_from(80.0),
        0,
        &whole(),
        &mut (),
    )
    .unwrap();
    let f0 = interp.frame(&model, 0.0, 0, &whole(), &mut ()).unwrap();
    let mut ra = model
        .run(
            interp.a.latent.clone(),
            &interp.generation,
            &mut NoiseRng::new(0),
            &whole(),
            &mut (),
        )
        .unwrap();
    ra.clamp_unit();
    assert_eq!(f0.image.data, ra.data);
    let mid = interp.frame(&model, 0.5, 0, &whole(), &mut ()).unwrap();
    let f1 = interp.frame(&model, 1.0, 0, &whole(), &mut ()).unwrap();
    assert!(
        max_abs_diff(&mid.image, &f0.image) > 1e-4 && max_abs_diff(&mid.image, &f1.image) > 1e-4
    );
    let small = picture(16, 16);
    assert!(
        Interpolator::new(
            &model,
            &a,
            &small,
            80.0,
            2,
            GenerationPreset::OneStep.plan_from(80.0),
            0,
            &whole(),
            &mut ()
        )
        .is_err()
    );
}

#[test]
fn restoration_and_out_of_range_levels() {
    let model = tiny_model(10);
    let x = picture(32, 32);
    let out = tasks::restore(
        &model,
        &x,
        &RestoreParams {
            sigma: 0.2,
            passes: 2,
            seed: 1,
            damage: 0.0,
            ..RestoreParams::default()
        },
        &whole(),
        &mut (),
    )
    .unwrap();
    assert_eq!(out.nfe, 2);
    assert!(out.image.data.iter().all(|v| (-1.0..=1.0).contains(v)));
    // Damage equal to the strength: one plain hop from that level, no noise drawn.
    let direct = tasks::restore(
        &model,
        &x,
        &RestoreParams {
            sigma: 0.05,
            seed: 9,
            damage: 0.05,
            ..RestoreParams::default()
        },
        &whole(),
        &mut (),
    )
    .unwrap();
    let mut hop = eval(&model, &x, 0.05, 0.002, &whole());
    hop.clamp_unit();
    assert!(max_abs_diff(&direct.image, &hop) < 1e-6);
    // Two mirrored copies: the mean of the hop and the mirrored hop of the mirrored photo.
    let two = RestoreParams {
        sigma: 0.05,
        damage: 0.05,
        mirrors: 2,
        ..RestoreParams::default()
    };
    let averaged = tasks::restore(&model, &x, &two, &whole(), &mut ()).unwrap();
    assert_eq!(averaged.nfe, 2);
    let flipped =
        eval(&model, &x.mirrored(true, false), 0.05, 0.002, &whole()).mirrored(true, false);
    let unclamped = eval(&model, &x, 0.05, 0.002, &whole());
    let mut mean = unclamped.clone();
    for (m, f) in mean.data.iter_mut().zip(&flipped.data) {
        *m = ((*m + f) / 2.0).clamp(-1.0, 1.0);
    }
    assert!(max_abs_diff(&averaged.image, &mean) < 1e-5);
    assert!(
        max_abs_diff(&averaged.image, &hop) > 1e-4,
        "the mirrored copy counts"
    );
    let three = RestoreParams { mirrors: 3, ..two };
    assert!(matches!(
        tasks::restore(&model, &x, &three, &whole(), &mut ()),
        Err(EngineError::Parameter(_))
    ));
    for bad in [0.0f32, 100.0, f32::NAN] {
        assert!(
            tasks::restore(
                &model,
                &x,
                &RestoreParams {
                    sigma: bad,
                    damage: 0.0,
                    ..RestoreParams::default()
                },
                &whole(),
                &mut ()
            )
            .is_err()
        );
    }
    assert!(matches!(
        Plan::inversion(Ladders::Heun, 2, 200.0),
        Err(EngineError::Schedule(_))
    ));
}

#[test]
fn restoration_passes_and_jpeg_consistency() {
    let model = tiny_model(12);
    let x = picture(32, 32);
    // A second pass works on the first one's result at half the strength and damage, in
    // the next mirroring (left-right).
    let one = |img: &Planar, level: f32, seed: u64| {
        let p = RestoreParams {
            sigma: level,
            damage: level,
            seed,
            ..RestoreParams::default()
        };
        tasks::restore(&model, img, &p, &whole(), &mut ())
            .unwrap()
            .image
    };
    let two = RestoreParams {
        sigma: 0.08,
        damage: 0.08,
        passes: 2,
        ..RestoreParams::default()
    };
    let out = tasks::restore(&model, &x, &two, &whole(), &mut ()).unwrap();
    assert_eq!(out.nfe, 2);
    let by_hand = one(&one(&x, 0.08, 0).mirrored(true, false), 0.04, 4).mirrored(true, false);
    // With a space-to-depth stem the second pass also runs one pixel off, in the stem's
    // other phase.
    let stem = tiny_stem_model(12);
    let stemmed = tasks::restore(&stem, &x, &two, &whole(), &mut ()).unwrap();
    let first = {
        let p = RestoreParams {
            sigma: 0.08,
            damage: 0.08,
            ..RestoreParams::default()
        };
        tasks::restore(&stem, &x, &p, &whole(), &mut ())
            .unwrap()
            .image
    };
    let p2 = RestoreParams {
        sigma: 0.04,
        damage: 0.04,
        seed: 4,
        ..RestoreParams::default()
    };
    let second = tasks::restore(
        &stem,
        &first.mirrored(true, false).shifted_down_right(),
        &p2,
        &whole(),
        &mut (),
    )
    .unwrap()
    .image
    .shifted_back()
    .mirrored(true, false);
    assert!(max_abs_diff(&stemmed.image, &second) < 1e-5);
    assert!(max_abs_diff(&out.image, &by_hand) < 1e-5);
    // Passes stop once the level falls under 0.005 (0.08 · 2^-4 is the last one).
    assert_eq!(
        tasks::restore_nfe(&RestoreParams {
            passes: 8,
            ..two.clone()
        })
        .unwrap(),
        5
    );

    // With the file's tables every pass ends consistent with the file: projecting the
    // result again changes nothing, and it differs from the unconstrained result.
    let (decoded, tables) = jpeg_file(&x, 20).unwrap();
    let free = tasks::restore(&model, &decoded, &two, &whole(), &mut ())
        .unwrap()
        .image;
    let with_file = RestoreParams {
        jpeg: Some(tables.clone()),
        ..two.clone()
    };
    let held = tasks::restore(&model, &decoded, &with_file, &whole(), &mut ())
        .unwrap()
        .image;
    let again = jpeg_consistent(&held, &decoded, &tables).unwrap();
    assert!(
        max_abs_diff(&again, &held) < 0.01,
        "{}",
        max_abs_diff(&again, &held)
    );
    assert!(max_abs_diff(&free, &held) > 0.01);
    assert!(
        tasks::restore_schedule(&with_file)
            .unwrap()
            .contains("JPEG")
    );
    // Tables of another image are refused before any work.
    let small = x.crop(0, 0, 16, 32);
    assert!(matches!(
        tasks::restore(&model, &small, &with_file, &whole(), &mut ()),
        Err(EngineError::Jpeg(_))
    ));
}

#[test]
fn weights_roundtrip_and_bad_files_give_errors() {
    let model = tiny_model(11);
    let dir = std::env::temp_dir().join(format!("bcm-weights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("m.safetensors");
    let card = ModelCard::new("tiny-test", model.config.clone());
    weights::save(&model, &card, &path).unwrap();
    let loaded = weights::load(&path, &Device::flex()).unwrap();
    let x = noise_image(16, 16, 2.0, 1);
    assert_eq!(
        eval(&model, &x, 2.0, 0.1, &whole()).data,
        eval(&loaded, &x, 2.0, 0.1, &whole()).data
    );

    assert_eq!(loaded.info.ladders, Ladders::Heun);

    // f16 storage: close, not equal. The card's ladder kind comes back with the model.
    let half = dir.join("h.safetensors");
    weights::save(
        &model,
        &ModelCard {
            half_precision: true,
            ladders: Ladders::Plain,
            ..card.clone()
        },
        &half,
    )
    .unwrap();
    let loaded = weights::load(&half, &Device::flex()).unwrap();
    assert_eq!(loaded.info.ladders, Ladders::Plain);
    let json = std::fs::read_to_string(dir.join("h.json")).unwrap();
    assert!(json.contains(r#""ladders": "plain""#), "{json}");
    // Cards written before the field existed are denoisers' (Heun ladders).
    let mut old: serde_json::Value = serde_json::from_str(&json).unwrap();
    old.as_object_mut().unwrap().remove("ladders");
    let parsed = weights::parse_card(old.to_string().as_bytes(), "old card").unwrap();
    assert_eq!(parsed.ladders, Ladders::Heun);
    assert!(
        max_abs_diff(
            &eval(&model, &x, 2.0, 0.1, &whole()),
            &eval(&loaded, &x, 2.0, 0.1, &whole())
        ) < 5e-2
    );
    assert!(
        std::fs::metadata(&half).unwrap().len() < std::fs::metadata(&path).unwrap().len() * 6 / 10
    );

    // A config that does not match the tensors.
    let other = ModelCard::new(
        "wrong",
        UNetConfig {
            channels: 32,
            norm_groups: 8,
            ..UNetConfig::tiny()
        },
    );
    std::fs::write(dir.join("m.json"), serde_json::to_vec(&other).unwrap()).unwrap();
    let err = weights::load(&path, &Device::flex()).unwrap_err();
    assert!(matches!(err, EngineError::Weights(_)), "{err}");
    // A truncated weights file.
    std::fs::write(dir.join("m.json"), serde_json::to_vec(&card).unwrap()).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    assert!(matches!(
        weights::load(&path, &Device::flex()),
        Err(EngineError::Weights(_))
    ));
    // Missing files and a broken card.
    assert!(matches!(
        weights::load(&dir.join("none.safetensors"), &Device::flex()),
        Err(EngineError::Io { .. })
    ));
    std::fs::write(dir.join("m.json"), b"{not json").unwrap();
    assert!(matches!(
        weights::load(&path, &Device::flex()),
        Err(EngineError::Config(_))
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn embedded_model_loads() {
    let model = weights::default_model(&Device::flex()).unwrap();
    let x = picture(32, 32);
    let out = eval(&model, &x, 1.0, 0.002, &whole());
    assert!(out.data.iter().all(|v| v.is_finite()));
}
