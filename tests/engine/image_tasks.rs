//! Tasks: inpainting, interpolation and restoration.

use super::*;

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
    let out = tasks::inpaint(&model, None, &x, &mask, &p, &whole(), &mut ()).unwrap();
    assert_eq!(out.nfe, 3);
    let soft = out.mask.as_ref().unwrap();
    let inside_changed = changed_inside(&x, &out.image, &mask, soft);
    assert!(
        inside_changed > 100,
        "only {inside_changed} masked values changed"
    );
    let empty = tasks::inpaint(
        &model,
        None,
        &x,
        &Mask::empty(96, 64),
        &p,
        &whole(),
        &mut (),
    );
    assert!(matches!(empty, Err(EngineError::Parameter(_))));
    let wrong = tasks::inpaint(
        &model,
        None,
        &x,
        &Mask::empty(10, 10),
        &p,
        &whole(),
        &mut (),
    );
    assert!(matches!(wrong, Err(EngineError::SizeMismatch(_))));
}

#[test]
fn default_inpainting_changes_only_the_grown_and_feathered_mask() {
    let model = weights::inpaint_model(&Device::flex()).unwrap();
    let x = picture(128, 160);
    let mut mask = Mask::empty(160, 128);
    for y in 50..80 {
        for xx in 60..100 {
            mask.data[y * 160 + xx] = 1.0;
        }
    }
    let p = InpaintParams::default();
    let out = tasks::inpaint(&model, None, &x, &mask, &p, &whole(), &mut ()).unwrap();
    let soft = out.mask.as_ref().unwrap();
    assert_eq!(*soft, mask.grow(p.grow).feather(p.feather));
    let inside_changed = changed_inside(&x, &out.image, &mask, soft);
    assert!(
        inside_changed > 1000,
        "only {inside_changed} values changed"
    );
}

#[test]
fn a_hole_in_a_flat_area_comes_back_in_that_colour() {
    let model = weights::inpaint_model(&Device::flex()).unwrap();
    let (h, w) = (128, 128);
    let colour = [0.35f32, -0.2, 0.1];
    let mut photo = Planar::zeros(3, h, w);
    for (c, v) in colour.iter().enumerate() {
        photo.data[c * h * w..(c + 1) * h * w].fill(*v);
    }
    let mut mask = Mask::empty(w, h);
    for y in 40..80 {
        for x in 50..82 {
            mask.data[y * w + x] = 1.0;
        }
    }
    let out = tasks::inpaint(
        &model,
        None,
        &photo,
        &mask,
        &InpaintParams::default(),
        &whole(),
        &mut (),
    )
    .unwrap();
    let soft = out.mask.unwrap();
    let shown = photo.blend(&out.image, &soft.data);
    for (c, v) in colour.iter().enumerate() {
        let plane = &shown.data[c * h * w..(c + 1) * h * w];
        let inside: Vec<f32> = (0..h * w)
            .filter(|&i| mask.data[i] > 0.0)
            .map(|i| plane[i])
            .collect();
        let mean = inside.iter().sum::<f32>() / inside.len() as f32;
        // 2/255 on the 0-255 scale is 4/255 on the engine's [-1, 1].
        assert!(
            (mean - v).abs() <= 4.0 / 255.0,
            "channel {c}: the fill's mean {mean} is not the field's {v}"
        );
    }
}

#[test]
fn coarse_to_fine_fills_at_each_scale_and_keeps_the_photo_outside() {
    let model = tiny_model(3);
    let x = picture(128, 128);
    let mut mask = Mask::empty(128, 128);
    for y in 48..80 {
        for xx in 48..80 {
            mask.data[y * 128 + xx] = 1.0;
        }
    }
    let p = InpaintParams {
        levels: vec![6.0, 1.0],
        refine: vec![0.5, 0.1],
        coarse: 12,
        grow: 0,
        feather: 0,
        context: 64,
        ..InpaintParams::default()
    };
    // A 32-pixel hole halves twice to 8 ≤ 12; its 128-pixel crop stays above 32 pixels.
    assert_eq!(p.halvings(32, 128, 128), 2);
    assert_eq!(p.halvings(32, 40, 128), 0, "too small a crop is not halved");
    let out = tasks::inpaint(&model, None, &x, &mask, &p, &whole(), &mut ()).unwrap();
    assert_eq!(out.nfe, p.nfe(2));
    assert_eq!(out.nfe, 2 + 2 * 2);
    let n = 128 * 128;
    for i in (0..n).filter(|&i| mask.data[i] == 0.0) {
        for c in 0..3 {
            assert_eq!(x.data[c * n + i], out.image.data[c * n + i]);
        }
    }
    assert!(out.image.data.iter().all(|v| v.is_finite()));
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
        let out = tasks::inpaint(&model, None, &photo, &mask, &p, &whole(), &mut ()).unwrap();
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

/// Asserts that no value outside `soft` (the grown and feathered mask) changed; counts the
/// values inside the painted `mask` that did.
fn changed_inside(x: &Planar, out: &Planar, mask: &Mask, soft: &Mask) -> usize {
    let n = x.height * x.width;
    let mut inside_changed = 0;
    for i in 0..n {
        for c in 0..3 {
            let (a, b) = (x.data[c * n + i], out.data[c * n + i]);
            if soft.data[i] == 0.0 {
                assert_eq!(a, b, "pixel {i} outside the mask changed");
            } else if mask.data[i] == 1.0 && (a - b).abs() > 1e-3 {
                inside_changed += 1;
            }
        }
    }
    inside_changed
}

#[test]
fn a_strength_adds_texture_to_the_inpainting_models_fill() {
    // The shipped model's loop at a level so low that it changes next to nothing starts from
    // the inpainting model's fill when it is given one, from the smooth border fill otherwise.
    let device = Device::flex();
    let model = weights::default_model(&device).unwrap();
    let filler = weights::inpaint_model(&device).unwrap();
    let x = picture(96, 96);
    let mut mask = Mask::empty(96, 96);
    for y in 30..62 {
        for xx in 30..62 {
            mask.data[y * 96 + xx] = 1.0;
        }
    }
    let untouched = InpaintParams::default();
    let fill = tasks::inpaint(
        &model,
        Some(&filler),
        &x,
        &mask,
        &untouched,
        &whole(),
        &mut (),
    )
    .unwrap();
    assert_eq!(fill.nfe, 1);
    let own = tasks::inpaint(&filler, None, &x, &mask, &untouched, &whole(), &mut ()).unwrap();
    assert_eq!(
        fill.image, own.image,
        "untouched, the filler fills the hole"
    );
    let faint = InpaintParams {
        levels: vec![0.003],
        ..InpaintParams::default()
    };
    assert!(faint.needs_loop());
    let looped =
        tasks::inpaint(&model, Some(&filler), &x, &mask, &faint, &whole(), &mut ()).unwrap();
    assert_eq!(looped.nfe, 2, "the filler's evaluation, then the loop's");
    let alone = tasks::inpaint(&model, None, &x, &mask, &faint, &whole(), &mut ()).unwrap();
    // Inside the painted hole, where each result is all its own (the soft edges blend
    // differently).
    let n = 96 * 96;
    let inside = |a: &Planar, b: &Planar| {
        (0..3 * n)
            .filter(|&i| mask.data[i % n] > 0.0)
            .map(|i| (a.data[i] - b.data[i]).abs())
            .fold(0.0f32, f32::max)
    };
    let from_fill = inside(&looped.image, &fill.image);
    let from_border = inside(&alone.image, &fill.image);
    assert!(
        from_fill < 0.05 && from_border > 4.0 * from_fill,
        "the loop starts from the filler's fill: {from_fill} from it, {from_border} without it"
    );
    // A model that does not read masks cannot be the filler.
    let wrong = tasks::inpaint(&model, Some(&model), &x, &mask, &faint, &whole(), &mut ());
    assert!(matches!(wrong, Err(EngineError::Parameter(_))));
}
