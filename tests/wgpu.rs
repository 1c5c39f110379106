//! The engine on burn's wgpu backend (a real GPU, or Mesa's lavapipe software Vulkan in CI)
//! must agree with the CPU backend.

mod common;

use std::process::Command;

use bcm_studio::engine::{Plan, Progress, Tiling};
use common::{
    NO_ADAPTER, REQUIRE_WGPU, max_abs_diff, noise_image, picture, tiny_model, wgpu_adapter_or_skip,
};

#[test]
fn wgpu_and_cpu_agree() {
    let Some(gpu) = wgpu_adapter_or_skip("wgpu_and_cpu_agree") else {
        return;
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

/// Runs `wgpu_and_cpu_agree` in a child process that can see no graphics driver: it must skip
/// with its one line, and fail when `BCM_REQUIRE_WGPU=1` asks for the adapter.
#[test]
fn without_an_adapter_the_wgpu_test_skips_unless_required() {
    let run = |require: bool| {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "wgpu_and_cpu_agree",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        // No Vulkan driver manifests and no EGL vendor: wgpu finds no adapter at all.
        .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
        .env("VK_DRIVER_FILES", "/nonexistent/icd.json")
        .env("VK_ADD_DRIVER_FILES", "")
        .env("__EGL_VENDOR_LIBRARY_FILENAMES", "/nonexistent/egl.json")
        .env("WGPU_BACKEND", "vulkan");
        if require {
            cmd.env(REQUIRE_WGPU, "1");
        } else {
            cmd.env_remove(REQUIRE_WGPU);
        }
        let out = cmd.output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let (ok, text) = run(false);
    assert!(
        ok,
        "without an adapter the test must pass by skipping:\n{text}"
    );
    assert!(text.contains(NO_ADAPTER), "the skip says why:\n{text}");
    assert!(text.contains("1 passed"), "{text}");
    let (ok, text) = run(true);
    assert!(
        !ok,
        "{REQUIRE_WGPU}=1 turns the skip into a failure:\n{text}"
    );
    assert!(text.contains(REQUIRE_WGPU), "{text}");
}
