//! The BCM f(x, t, u) = c_skip(t,u)·x + c_out(t,u)·F(c_in(t)·x, c_noise(t), c_noise(u)).

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};

use super::error::{EngineError, Result};
use super::network::{DropoutMasks, UNet, UNetConfig};
use super::plan::{LadderStyle, Ladders};
use super::schedule::{SIGMA_DATA, SIGMA_MIN, c_in, c_noise, c_out, c_skip};

/// Where a model's weights came from; shown to the user and written into recipes.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// Short name, e.g. "photo" or "tiny (random weights, seed 0)".
    pub name: String,
    /// Whether the weights were trained (false for seeded random weights).
    pub trained: bool,
    /// Which ladders suit the model.
    pub ladders: LadderStyle,
}

/// A network together with its configuration and device.
#[derive(Debug, Clone)]
pub struct Bcm {
    pub net: UNet,
    pub config: UNetConfig,
    pub info: ModelInfo,
    pub device: Device,
}

/// c_skip of a plain consistency model (iCT boundary condition): σd²/((t−σ_min)²+σd²).
pub fn cm_skip(t: f32) -> f32 {
    let (t, sd2) = (
        f64::from(t) - f64::from(SIGMA_MIN),
        f64::from(SIGMA_DATA).powi(2),
    );
    (sd2 / (t * t + sd2)) as f32
}

fn scalars(values: impl Iterator<Item = f32>, device: &Device) -> Tensor<1> {
    let v: Vec<f32> = values.collect();
    let n = v.len();
    Tensor::from_data(TensorData::new(v, [n]), device)
}

fn per_sample(values: impl Iterator<Item = f32>, device: &Device) -> Tensor<4> {
    let t = scalars(values, device);
    let [n] = t.dims();
    t.reshape([n, 1, 1, 1])
}

impl Bcm {
    /// A network with seeded random weights (burn's initialisers, seeded on `device`).
    pub fn random(config: UNetConfig, seed: u64, device: &Device) -> Result<Self> {
        config.validate().map_err(EngineError::Config)?;
        device.seed(seed);
        let net = config.init(device);
        let info = ModelInfo {
            name: format!("random weights (seed {seed})"),
            trained: false,
            ladders: Ladders::default().into(),
        };
        Ok(Self {
            net,
            config,
            info,
            device: device.clone(),
        })
    }

    /// The same model on another device.
    pub fn to_device(self, device: &Device) -> Self {
        Self {
            net: self.net.to_device(device),
            device: device.clone(),
            ..self
        }
    }

    /// f(x, t_i, u_i) for a batch with per-sample times. `masks` applies dropout (training).
    pub fn forward(
        &self,
        x: Tensor<4>,
        t: &[f32],
        u: &[f32],
        masks: Option<&DropoutMasks>,
    ) -> Tensor<4> {
        Self::forward_with(&self.net, x, t, u, masks)
    }

    /// f with an explicit network, so training can call it with frozen copies of the weights.
    /// A consistency model (no u branch) ignores u and uses the CM boundary scalings.
    pub fn forward_with(
        net: &UNet,
        x: Tensor<4>,
        t: &[f32],
        u: &[f32],
        masks: Option<&DropoutMasks>,
    ) -> Tensor<4> {
        Self::forward_conditioned(net, x, t, u, None, masks)
    }

    /// f(x, t, u | condition) of a conditioned network (`condition`: its extra input channels,
    /// read as they are, not scaled with x).
    pub fn forward_conditioned(
        net: &UNet,
        x: Tensor<4>,
        t: &[f32],
        u: &[f32],
        condition: Option<Tensor<4>>,
        masks: Option<&DropoutMasks>,
    ) -> Tensor<4> {
        let device = x.device();
        let pairs = || t.iter().copied().zip(u.iter().copied());
        let bidirectional = net.is_bidirectional();
        let skip = per_sample(
            pairs().map(|(t, u)| {
                if bidirectional {
                    c_skip(t, u)
                } else {
                    cm_skip(t)
                }
            }),
            &device,
        );
        let out = per_sample(
            pairs().map(|(t, u)| {
                if bidirectional {
                    c_out(t, u)
                } else {
                    c_out(t, SIGMA_MIN)
                }
            }),
            &device,
        );
        let cin = per_sample(t.iter().map(|&t| c_in(t)), &device);
        let ct = scalars(t.iter().map(|&t| c_noise(t)), &device);
        let cu = scalars(u.iter().map(|&u| c_noise(u)), &device);
        let f = net.forward(x.clone() * cin, ct, cu, condition, masks);
        x * skip + f * out
    }
}
