//! Timing training steps before a run: for `bench` and the training tab's estimate.

use std::time::Instant;

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::config::Objective;
use super::config::TrainConfig;
use super::error::TrainError;
use super::step::{BatchInputs, Teacher, descend, draw_times, objective_loss, optimizer};
use super::times::TimeSampler;
use crate::engine::model::{Bcm, ModelInfo};
use crate::engine::noise::NoiseRng;
use crate::engine::plan::Ladders;

/// Time `steps` optimiser steps of the configured objective on synthetic crops after `warm_up`
/// untimed ones (kernel compilation and autotuning happen there): seconds per step, for
/// benchmarks and the training tab's estimate before a run starts. A distillation's teacher is
/// a frozen copy of the starting weights (it costs the same as the trained one).
pub fn time_steps(
    config: &TrainConfig,
    device: &Device,
    warm_up: usize,
    steps: usize,
) -> Result<f64, TrainError> {
    config.validate()?;
    let ad = device.clone().autodiff();
    ad.seed(config.seed);
    let mut net = config.model.init(&ad);
    let mut optim = optimizer(config);
    let (b, p) = (config.batch, config.patch);
    let mut noise = NoiseRng::new(config.seed);
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let sampler = TimeSampler::new(config.s0 as usize + 1);
    let teacher = (config.objective == Objective::Distill)
        .then(|| {
            let model = Bcm {
                net: net.valid(),
                config: config.model.clone(),
                info: ModelInfo {
                    name: "teacher".into(),
                    trained: false,
                    ladders: Ladders::Heun.into(),
                },
                device: device.clone(),
            };
            Teacher::new(model, config)
        })
        .transpose()?;
    let mut elapsed = 0.0;
    let warm_up = warm_up.max(1);
    for k in 0..warm_up + steps {
        let started = Instant::now();
        let x0: Vec<f32> = noise
            .normal(b * 3 * p * p)
            .into_iter()
            .map(|v| (v * 0.5).clamp(-1.0, 1.0))
            .collect();
        let x0 = Tensor::<4>::from_data(TensorData::new(x0, [b, 3, p, p]), &ad);
        let z = Tensor::<4>::from_data(
            TensorData::new(noise.normal(b * 3 * p * p), [b, 3, p, p]),
            &ad,
        );
        let times = draw_times(config.objective, &sampler, &mut rng, b);
        let inputs = BatchInputs {
            x0,
            input: None,
            z,
            times: &times,
            seed: k as u64,
        };
        let loss = objective_loss(config.objective, &net, inputs, teacher.as_ref(), &mut rng)?;
        net = descend(loss, net, &mut optim, config.lr, k as u64)?.0;
        device
            .sync()
            .map_err(|e| TrainError::Run(format!("device: {e:?}")))?;
        if k >= warm_up {
            elapsed += started.elapsed().as_secs_f64();
        }
    }
    Ok(elapsed / steps.max(1) as f64)
}
