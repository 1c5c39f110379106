//! The BCT loss of the reference: consistency-training term plus the bidirectional term,
//! both pseudo-Huber, weighted by 1/|Δt|.

use burn::module::Module;
use burn::tensor::{Tensor, TensorData};

use super::times::Times;
use crate::engine::model::Bcm;
use crate::engine::network::{DropoutMasks, UNet};
use crate::engine::schedule::SIGMA_MIN;

/// Pseudo-Huber constant rule of iCT: c = 0.00054·√D.
pub fn huber_c(dims: usize) -> f64 {
    0.00054 * (dims as f64).sqrt()
}

/// (√(‖p − q‖² + c²) − c) / √D per sample, shape [B].
pub fn pseudo_huber(p: Tensor<4>, q: Tensor<4>, c: f64) -> Tensor<1> {
    let [b, ch, h, w] = p.dims();
    let d = (ch * h * w) as f64;
    let sq = (p - q)
        .square()
        .reshape([b, ch * h * w])
        .sum_dim(1)
        .reshape([b]);
    ((sq + c * c).sqrt() - c) / d.sqrt()
}

/// What one step's loss is made of (batch means).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossParts {
    pub total: f32,
    pub ct: f32,
    pub bcm: f32,
}

/// The loss tensor (for backward) and its parts.
pub struct BctLoss {
    pub loss: Tensor<1>,
    pub ct: Tensor<1>,
    pub bcm: Tensor<1>,
}

fn vector(values: Vec<f32>, like: &Tensor<4>) -> Tensor<1> {
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n]), &like.device())
}

fn column(values: Vec<f32>, like: &Tensor<4>) -> Tensor<4> {
    let n = values.len();
    vector(values, like).reshape([n, 1, 1, 1])
}

/// BCT loss for a batch of clean images `x0` and noise `z` (same shape), with the per-sample
/// times and one dropout seed shared by all four network calls.
///
/// - a = f_θ(x_t, t, σ_min), b = sg f_θ(x_t2, t2, σ_min)
/// - e = f_θ(x_t, t, t3), g = f_θ⁻(e, t3, σ_min) with frozen weights but a gradient into e
/// - L = mean[d(a,b)/(t − t2) + d(g,b)/|t3 − t|]
///
/// With `bidirectional = false` only the CT term is used (consistency training).
pub fn bct_loss(
    net: &UNet,
    x0: Tensor<4>,
    z: Tensor<4>,
    times: &[Times],
    dropout_seed: u64,
    bidirectional: bool,
) -> BctLoss {
    let [_, c, h, w] = x0.dims();
    let huber = huber_c(c * h * w);
    let t: Vec<f32> = times.iter().map(|s| s.t).collect();
    let t2: Vec<f32> = times.iter().map(|s| s.t2).collect();
    let t3: Vec<f32> = times.iter().map(|s| s.t3).collect();
    let floor = vec![SIGMA_MIN; times.len()];
    let x_t = x0.clone() + z.clone() * column(t.clone(), &x0);
    let x_t2 = x0.clone() + z * column(t2.clone(), &x0);
    let masks = || DropoutMasks::new(dropout_seed);
    let a = Bcm::forward_with(net, x_t.clone(), &t, &floor, Some(&masks()));
    // Frozen copy for the target calls. Made after the first forward: a lazily initialised
    // parameter shares its init state with its clones, so `no_grad` on a clone made before
    // any use would switch off gradients of the online weights too.
    let frozen = net.clone().no_grad();

    let b = Bcm::forward_with(&frozen, x_t2, &t2, &floor, Some(&masks())).detach();
    let w_ct: Vec<f32> = times
        .iter()
        .map(|s| (1.0 / (f64::from(s.t) - f64::from(s.t2) + 1e-20)) as f32)
        .collect();
    let ct = pseudo_huber(a, b.clone(), huber) * vector(w_ct, &x0);
    if !bidirectional {
        let loss = ct.clone().mean();
        let zero = ct.clone().detach().mean() * 0.0;
        return BctLoss {
            loss,
            ct: ct.mean(),
            bcm: zero,
        };
    }
    let e = Bcm::forward_with(net, x_t, &t, &t3, Some(&masks()));
    let g = Bcm::forward_with(&frozen, e, &t3, &floor, Some(&masks()));
    let w_bcm: Vec<f32> = times
        .iter()
        .map(|s| (1.0 / ((f64::from(s.t3) - f64::from(s.t)).abs() + 1e-20)) as f32)
        .collect();
    let bcm = pseudo_huber(g, b, huber) * vector(w_bcm, &x0);
    let loss = (ct.clone() + bcm.clone()).mean();
    BctLoss {
        loss,
        ct: ct.mean(),
        bcm: bcm.mean(),
    }
}

/// EDM denoising loss on the clean end of the BCM: mean of λ(t)·‖f(x_t, t, σ_min) − x0‖²/D
/// with λ(t) = (t² + σd²)/(t·σd)², which weights the network's own output F equally at all t.
/// x_t = input + t·z, where `input` is `x0` itself or a damaged copy of it (restoration-aware
/// training).
pub fn denoise_loss(
    net: &UNet,
    x0: Tensor<4>,
    input: Tensor<4>,
    z: Tensor<4>,
    times: &[Times],
    dropout_seed: u64,
) -> BctLoss {
    let [b, c, h, w] = x0.dims();
    let t: Vec<f32> = times.iter().map(|s| s.t).collect();
    let floor = vec![SIGMA_MIN; times.len()];
    let x_t = input + z * column(t.clone(), &x0);
    let f = Bcm::forward_with(net, x_t, &t, &floor, Some(&DropoutMasks::new(dropout_seed)));
    let sd2 = f64::from(crate::engine::schedule::SIGMA_DATA).powi(2);
    let weight: Vec<f32> = t
        .iter()
        .map(|&t| {
            let t = f64::from(t);
            ((t * t + sd2) / (t * t * sd2)) as f32
        })
        .collect();
    let weight = vector(weight, &x0);
    let mse = (f - x0)
        .square()
        .reshape([b, c * h * w])
        .mean_dim(1)
        .reshape([b]);
    BctLoss::single(mse * weight)
}

/// The inpainting objective: f(start, t*, σ_min | condition) ≈ x0 at the conditioned model's
/// level t*, the squared error weighted by `weight` ([B, 1, H, W]: the hole, and a little of
/// the photo around it) and normalised by it per crop. Its minimum is the mean of what the
/// hole may hold given the photo around it: the fill that scores best in PSNR.
pub fn inpaint_loss(
    net: &UNet,
    x0: Tensor<4>,
    start: Tensor<4>,
    condition: Tensor<4>,
    weight: Tensor<4>,
    dropout_seed: u64,
) -> BctLoss {
    let [b, c, h, w] = x0.dims();
    let t = vec![crate::engine::tasks::CONDITIONED_LEVEL; b];
    let floor = vec![SIGMA_MIN; b];
    let f = Bcm::forward_conditioned(
        net,
        start,
        &t,
        &floor,
        Some(condition),
        Some(&DropoutMasks::new(dropout_seed)),
    );
    let err = (f - x0).square().sum_dim(1);
    let flat = |t: Tensor<4>| t.reshape([b, h * w]).sum_dim(1).reshape([b]);
    let total = flat(weight.clone()) * (c as f32);
    BctLoss::single(flat(err * weight) / total)
}

impl BctLoss {
    /// A loss of one part: the mean of the per-crop `term`s, reported as the first part.
    fn single(term: Tensor<1>) -> Self {
        let zero = term.clone().detach().mean() * 0.0;
        BctLoss {
            loss: term.clone().mean(),
            ct: term.mean(),
            bcm: zero,
        }
    }

    /// Read the three scalars back (one device sync).
    pub fn parts(&self) -> LossParts {
        let all = Tensor::cat(
            vec![
                self.loss.clone().detach(),
                self.ct.clone().detach(),
                self.bcm.clone().detach(),
            ],
            0,
        );
        let values: Vec<f32> = all
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap_or_default();
        let at = |i: usize| values.get(i).copied().unwrap_or(f32::NAN);
        LossParts {
            total: at(0),
            ct: at(1),
            bcm: at(2),
        }
    }
}
