//! The parameterisation and the network: the identity at u = t, c_skip/c_out, locality,
//! tiling, presets and attention.

use super::*;

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
    let raw = model.net.forward(scaled, ct, cu, None, None);
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
fn the_cpu_kernels_compute_what_burns_composed_ops_compute() {
    // On the plain flex device the blocks run the fused CPU kernels; the same weights on the
    // autodiff device run burn's composed ops, the network's definition (what training uses).
    // The inpainting model also reads a condition through its first convolution.
    let load = |name| weights::load(&weights::shipped_file(name), &Device::flex()).unwrap();
    let models = [
        load(weights::SHIPPED_MODEL),
        load(weights::SHIPPED_INPAINT_MODEL),
        tiny_stem_model(7),
    ];
    for model in models {
        let composed = model.clone().to_device(&Device::flex().autodiff());
        let extra = model.config.condition_channels.unwrap_or(0);
        // A batch of two with their own times; heights and widths that are not square, not
        // powers of two, and wider than one band of the convolution.
        for (h, w) in [(32, 48), (72, 1064)] {
            let x = noise_image(2 * h, w, 1.0, 13);
            let cond = NoiseRng::new(17).normal(2 * extra * h * w);
            let run = |m: &Bcm| {
                let x = Tensor::<4>::from_data(
                    TensorData::new(x.data.clone(), [2, 3, h, w]),
                    &m.device,
                );
                let cond = (extra > 0).then(|| {
                    Tensor::<4>::from_data(
                        TensorData::new(cond.clone(), [2, extra, h, w]),
                        &m.device,
                    )
                });
                let f =
                    Bcm::forward_conditioned(&m.net, x, &[2.0, 0.05], &[0.002, 1.5], cond, None);
                f.into_data().try_to_vec::<f32>().unwrap()
            };
            let (fast, reference) = (run(&model), run(&composed));
            let worst = fast
                .iter()
                .zip(&reference)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(worst < 2e-4, "{h}x{w}: largest difference {worst}");
        }
    }
}
