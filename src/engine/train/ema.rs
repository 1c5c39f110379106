//! Exponential moving average of the weights, used for sampling and shipping.

use std::collections::VecDeque;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::Tensor;

use crate::engine::network::UNet;

/// Collects every float parameter, flattened, in traversal order.
struct Collect(Vec<Tensor<1>>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let n = t.shape().num_elements();
        self.0.push(t.reshape([n]));
    }
}

/// Replaces each parameter by decay·ema + (1 − decay)·online (same traversal order).
struct Blend {
    online: VecDeque<Tensor<1>>,
    decay: f64,
}

impl ModuleMapper for Blend {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(online) = self.online.pop_front() else {
            return param;
        };
        let decay = self.decay;
        param.map(|ema| {
            let shape = ema.shape();
            let online = online.reshape(shape).to_device(&ema.device());
            ema * decay + online * (1.0 - decay)
        })
    }
}

/// ema ← decay·ema + (1 − decay)·online. `online` may live on an autodiff device; its values
/// are detached.
pub fn update(ema: UNet, online: &UNet, decay: f64) -> UNet {
    let mut collect = Collect(Vec::new());
    online.visit(&mut collect);
    let online = collect.0.into_iter().map(|t| t.detach()).collect();
    ema.map(&mut Blend { online, decay })
}

/// EMA decay for step k: the target decay, ramped up at the start so early weights are not
/// frozen into the average (the usual (1 + k)/(10 + k) warm-up).
pub fn decay_at(target: f64, step: u64) -> f64 {
    let warm = (1.0 + step as f64) / (10.0 + step as f64);
    target.min(warm)
}
