//! The two time embeddings of a BCM: one MLP for the start time t, one for the end time u,
//! merged by a bias-free linear layer (as in the reference `time_embed_align`).

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::silu;
use burn::tensor::{Device, Tensor, TensorData};

/// Sinusoidal features followed by Linear → SiLU → Linear.
#[derive(Module, Debug)]
pub struct TimeMlp {
    pub fc1: Linear,
    pub fc2: Linear,
}

impl TimeMlp {
    fn new(channels: usize, emb: usize, device: &Device) -> Self {
        Self {
            fc1: LinearConfig::new(channels, emb).init(device),
            fc2: LinearConfig::new(emb, emb).init(device),
        }
    }

    fn forward(&self, features: Tensor<2>) -> Tensor<2> {
        self.fc2.forward(silu(self.fc1.forward(features)))
    }
}

/// Embedding of (t, u) shared by every residual block. A consistency model (no u branch)
/// has neither `end` nor `align`.
#[derive(Module, Debug)]
pub struct TimeEmbedding {
    pub start: TimeMlp,
    pub end: Option<TimeMlp>,
    pub align: Option<Linear>,
    pub channels: usize,
}

impl TimeEmbedding {
    pub fn new(channels: usize, emb: usize, bidirectional: bool, device: &Device) -> Self {
        Self {
            start: TimeMlp::new(channels, emb, device),
            end: bidirectional.then(|| TimeMlp::new(channels, emb, device)),
            align: bidirectional.then(|| {
                LinearConfig::new(2 * emb, emb)
                    .with_bias(false)
                    .init(device)
            }),
            channels,
        }
    }

    /// `c_t`, `c_u`: c_noise of each sample's start and end time, shape [B].
    pub fn forward(&self, c_t: Tensor<1>, c_u: Tensor<1>) -> Tensor<2> {
        let e_t = self.start.forward(sinusoidal(c_t, self.channels));
        match (&self.end, &self.align) {
            (Some(end), Some(align)) => {
                let e_u = end.forward(sinusoidal(c_u, self.channels));
                align.forward(Tensor::cat(vec![e_t, e_u], 1))
            }
            _ => e_t,
        }
    }

    /// Turn a consistency model's embedding into a BCM one that ignores u at first (the
    /// reference's fine-tuning initialisation): the u branch is a copy of the t branch and
    /// the merge is [I | 0].
    pub fn add_end_branch(self, device: &Device) -> Self {
        let [_, emb] = self.start.fc2.weight.dims();
        // A copy with its own parameter ids, so the optimiser treats it as new weights.
        let end = self.start.clone().map(&mut FreshIds);
        let eye = Tensor::<2>::eye(emb, device);
        let zeros = Tensor::<2>::zeros([emb, emb], device);
        // burn's Linear weight is [d_input, d_output]: rows for e_t, then rows for e_u.
        let weight = Tensor::cat(vec![eye, zeros], 0);
        let align = Linear {
            weight: burn::module::Param::from_tensor(weight),
            bias: None,
        };
        Self {
            end: Some(end),
            align: Some(align),
            ..self
        }
    }
}

/// Gives every parameter a new id (copies must not share optimiser state).
struct FreshIds;

impl burn::module::ModuleMapper for FreshIds {
    fn map_float<const D: usize>(
        &mut self,
        param: burn::module::Param<Tensor<D>>,
    ) -> burn::module::Param<Tensor<D>> {
        burn::module::Param::from_tensor(param.val())
    }
}

/// [cos(s·f_k), sin(s·f_k)] with f_k = exp(−ln(10000)·k/half), cos first (reference order).
pub fn sinusoidal(s: Tensor<1>, channels: usize) -> Tensor<2> {
    let half = channels / 2;
    let freqs: Vec<f32> = (0..half)
        .map(|k| (-(10000f64.ln()) * k as f64 / half as f64).exp() as f32)
        .collect();
    let freqs = Tensor::<1>::from_data(TensorData::new(freqs, [half]), &s.device());
    let [b] = s.dims();
    let args = s.reshape([b, 1]) * freqs.reshape([1, half]);
    Tensor::cat(vec![args.clone().cos(), args.sin()], 1)
}
