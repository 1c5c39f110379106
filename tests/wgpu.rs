//! The engine on burn's wgpu backend (a real GPU, or Mesa's lavapipe software Vulkan in CI)
//! must agree with the CPU backend.

mod common;

use bcm_studio::engine::device::{DeviceChoice, select};
use bcm_studio::engine::{Plan, Progress, Tiling};
use common::{max_abs_diff, noise_image, picture, tiny_model};

#[test]
fn wgpu_and_cpu_agree() {
    let gpu = match select(DeviceChoice::Wgpu) {
        Ok(d) => d,
        Err(e) => panic!("no wgpu adapter (install mesa-vulkan-drivers): {e}"),
    };
    let cpu_model = tiny_model(21);
    let gpu_model = cpu_model.clone().to_device(&gpu.device);
    let tiling = Tiling::default();
    let x = noise_image(40, 56, 3.0, 4);
    let p = Progress {
        nfe: 0,
        nfe_total: 1,
        tile: 0,
        tiles: 1,
        level: 3.0,
    };
    let a = cpu_model.eval(&x, 3.0, 0.002, &tiling, &mut (), p).unwrap();
    let b = gpu_model.eval(&x, 3.0, 0.002, &tiling, &mut (), p).unwrap();
    let d = max_abs_diff(&a, &b);
    assert!(
        d < 1e-3,
        "single evaluation differs by {d} ({})",
        gpu.description
    );

    // A whole plan with noise injections: the noise comes from the host, so it is the same.
    let plan: Plan = "0.002 > +0.07 > 15 > 80".parse().unwrap();
    let img = picture(32, 32);
    let mut rng = bcm_studio::engine::NoiseRng::new(5);
    let a = cpu_model
        .run(img.clone(), &plan, &mut rng, &tiling, &mut ())
        .unwrap();
    let mut rng = bcm_studio::engine::NoiseRng::new(5);
    let b = gpu_model
        .run(img, &plan, &mut rng, &tiling, &mut ())
        .unwrap();
    let rel = max_abs_diff(&a, &b) / a.data.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    assert!(rel < 1e-3, "inversion differs by {rel} of its range");
}
