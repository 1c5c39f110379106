//! The engine on the CPU backend: parameterisation, network locality and tiling, samplers,
//! tasks, weights. Shared helpers live here.

#[path = "../common/mod.rs"]
mod common;

mod image_tasks;
mod model_files;
mod network;
mod samplers;

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
