//! GroupNorm with a choice of statistics: over the image (reference) or per pixel (local).

use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::{Device, Tensor};

use super::config::NormKind;

/// Group normalisation with learned per-channel scale and shift.
#[derive(Module, Debug)]
pub struct GroupNorm {
    pub gamma: Param<Tensor<1>>,
    pub beta: Param<Tensor<1>>,
    pub groups: usize,
    pub local: bool,
}

const EPS: f64 = 1e-5;

impl GroupNorm {
    pub fn new(channels: usize, groups: usize, kind: NormKind, device: &Device) -> Self {
        Self {
            gamma: Initializer::Ones.init([channels], device),
            beta: Initializer::Zeros.init([channels], device),
            groups,
            local: kind == NormKind::Local,
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, c, h, w] = x.dims();
        let g = self.groups;
        let normed = if self.local {
            // Statistics over the channels of each group, separately at every pixel.
            let x = x.reshape([b, g, c / g, h * w]);
            let mean = x.clone().mean_dim(2);
            let x = x - mean;
            let var = x.clone().square().mean_dim(2);
            (x / (var + EPS).sqrt()).reshape([b, c, h, w])
        } else {
            let x = x.reshape([b, g, (c / g) * h * w]);
            let mean = x.clone().mean_dim(2);
            let x = x - mean;
            let var = x.clone().square().mean_dim(2);
            (x / (var + EPS).sqrt()).reshape([b, c, h, w])
        };
        let gamma = self.gamma.val().reshape([1, c, 1, 1]);
        let beta = self.beta.val().reshape([1, c, 1, 1]);
        normed * gamma + beta
    }
}
