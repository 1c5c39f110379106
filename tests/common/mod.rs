//! Helpers for the integration tests.
#![allow(dead_code)]

use bcm_studio::engine::network::{UNet, UNetConfig};
use bcm_studio::engine::{Bcm, NoiseRng, Planar};
use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{Device, Distribution, Tensor};

/// Adds N(0, std²) to every parameter: freshly initialised BCM networks output exactly zero
/// (their last convolutions start at zero), which would make most tests trivially true.
struct Jitter {
    std: f64,
}

impl ModuleMapper for Jitter {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let std = self.std;
        param.map(|t| {
            let noise = Tensor::<D>::random(t.shape(), Distribution::Normal(0.0, std), &t.device());
            t + noise
        })
    }
}

pub fn jitter(net: UNet, std: f64) -> UNet {
    net.map(&mut Jitter { std })
}

/// A tiny model with seeded, non-trivial random weights on the CPU.
pub fn tiny_model(seed: u64) -> Bcm {
    let device = Device::flex();
    let mut model = Bcm::random(UNetConfig::tiny(), seed, &device).expect("tiny config is valid");
    device.seed(seed + 1000);
    model.net = jitter(model.net, 0.05);
    model
}

/// Like [`tiny_model`] but with the photo preset's layout: a 2×2 space-to-depth stem and three
/// levels, so alignment and receptive field take the stem into account.
pub fn tiny_stem_model(seed: u64) -> Bcm {
    let device = Device::flex();
    let config = UNetConfig {
        stem: 2,
        channel_mult: vec![1, 2, 2],
        ..UNetConfig::tiny()
    };
    let mut model = Bcm::random(config, seed, &device).expect("valid config");
    device.seed(seed + 1000);
    model.net = jitter(model.net, 0.05);
    model
}

/// A smooth test picture with some edges, in [-1, 1].
pub fn picture(h: usize, w: usize) -> Planar {
    let mut data = Vec::with_capacity(3 * h * w);
    for c in 0..3 {
        for y in 0..h {
            for x in 0..w {
                let fx = x as f32 / w as f32;
                let fy = y as f32 / h as f32;
                let v = match c {
                    0 => (fx * 6.0).sin() * 0.6,
                    1 => {
                        if (x / 8 + y / 8) % 2 == 0 {
                            0.5
                        } else {
                            -0.4
                        }
                    }
                    _ => fy * 1.6 - 0.8,
                };
                data.push(v);
            }
        }
    }
    Planar::new(3, h, w, data).expect("consistent size")
}

pub fn noise_image(h: usize, w: usize, sigma: f32, seed: u64) -> Planar {
    let mut x = Planar::zeros(3, h, w);
    x.add_scaled(&NoiseRng::new(seed).normal(x.data.len()), sigma);
    x
}

pub fn max_abs_diff(a: &Planar, b: &Planar) -> f32 {
    a.data
        .iter()
        .zip(&b.data)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Set by `.ci/run`: a test that needs a wgpu adapter fails instead of skipping without one.
pub const REQUIRE_WGPU: &str = "BCM_REQUIRE_WGPU";

/// What a test that needs a wgpu adapter prints when it skips.
pub const NO_ADAPTER: &str = "skipped: no Vulkan adapter; install mesa-vulkan-drivers to run it";

/// Whether a test that needs a wgpu adapter (burn's wgpu backend, a rendered snapshot) can run.
/// Without one it says so in one line on the terminal and the test returns early, so that a
/// newcomer's `cargo test` passes; with `BCM_REQUIRE_WGPU=1` (CI) it fails instead.
pub fn wgpu_adapter_or_skip(test: &str) -> Option<bcm_studio::engine::device::SelectedDevice> {
    use bcm_studio::engine::device::{DeviceChoice, select};
    use std::io::Write;
    match select(DeviceChoice::Wgpu) {
        Ok(device) => Some(device),
        Err(e) if std::env::var(REQUIRE_WGPU).is_ok_and(|v| v == "1") => {
            panic!("{test}: no wgpu adapter, and {REQUIRE_WGPU}=1 requires one: {e}")
        }
        Err(_) => {
            // Straight to the terminal: the test harness captures print! of passing tests.
            let _ = writeln!(std::io::stderr(), "{test}: {NO_ADAPTER}");
            None
        }
    }
}

/// The CRC-32 of a PNG chunk (its type and data), for tests that build or repair PNG files.
pub fn png_crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
