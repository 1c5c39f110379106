//! Training: losses against hand computations, whole runs that learn and resume on the same
//! loss curve, the consistency-model route and distillation. Shared helpers live here.

#[path = "../common/mod.rs"]
mod common;

mod distill;
mod fine_tune;
mod inpaint;
mod losses;
mod runs;

use std::path::{Path, PathBuf};

use bcm_studio::engine::network::UNetConfig;
use bcm_studio::engine::plan::Ladders;
use bcm_studio::engine::schedule::{SIGMA_MIN, c_skip};
use bcm_studio::engine::train::loss::{bct_loss, huber_c};
use bcm_studio::engine::train::times::Times;
use bcm_studio::engine::train::{ResumeChanges, StepReport, TrainConfig, Trainer};
use burn::tensor::{Device, Tensor, TensorData};

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bcm-train-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A folder of small generated "photos" with structure to learn.
fn photo_folder(dir: &Path, n: u32) {
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    for k in 0..n {
        let img = image::RgbImage::from_fn(72, 56, |x, y| {
            let v = ((x as f32 * 0.15 + k as f32).sin() * 80.0
                + (y as f32 * 0.2).cos() * 60.0
                + 120.0) as u8;
            image::Rgb([v, v.wrapping_add(40), 255 - v])
        });
        let name = if k % 2 == 0 {
            dir.join(format!("p{k}.png"))
        } else {
            dir.join("sub").join(format!("p{k}.jpg"))
        };
        img.save(name).unwrap();
    }
}

/// A batch whose image k is filled with `values[k]`.
fn constant_per_image(values: &[f32], shape: [usize; 4], device: &Device) -> Tensor<4> {
    let [b, c, h, w] = shape;
    let data: Vec<f32> = (0..b)
        .flat_map(|k| std::iter::repeat_n(values[k], c * h * w))
        .collect();
    Tensor::<4>::from_data(TensorData::new(data, shape), device)
}

fn tiny_config(data: &Path) -> TrainConfig {
    let mut c = TrainConfig::for_preset("tiny", data.to_path_buf()).unwrap();
    c.batch = 4;
    c.patch = 32;
    c.total_steps = 40;
    c.checkpoint_every = 3;
    c.validate_every = 1000;
    c.sample_every = 1000;
    c.warmup = 5;
    c.lr = 1e-3;
    c.downscale = 1;
    c
}
