//! Residual block (ADM style: the embedding is added after the first convolution) and the
//! cosine self-attention block of the reference (unit-RMS q, k and v).

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Initializer, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::{silu, softmax};
use burn::tensor::{Device, Tensor};

use super::config::NormKind;
use super::cpu::{self, Input, Padded};
use super::dropout::DropoutMasks;
use super::norm::GroupNorm;

/// 3×3 convolution with "same" padding.
pub fn conv3(cin: usize, cout: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([cin, cout], [3, 3])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(device)
}

/// 3×3 convolution whose weights start at zero, so a fresh block is the identity.
pub fn conv3_zero(cin: usize, cout: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([cin, cout], [3, 3])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_initializer(Initializer::Zeros)
        .init(device)
}

/// 3×3 convolution with stride 2 (downsampling).
pub fn conv3_down(ch: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([ch, ch], [3, 3])
        .with_stride([2, 2])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(device)
}

fn conv1(cin: usize, cout: usize, zero: bool, device: &Device) -> Conv2d {
    let cfg = Conv2dConfig::new([cin, cout], [1, 1]);
    let cfg = if zero {
        cfg.with_initializer(Initializer::Zeros)
    } else {
        cfg
    };
    cfg.init(device)
}

/// Shapes shared by the blocks of one network.
#[derive(Debug, Clone, Copy)]
pub struct BlockSpec {
    pub groups: usize,
    pub norm: NormKind,
    pub emb: usize,
    pub head_channels: usize,
}

/// Residual block, optionally followed by self-attention.
#[derive(Module, Debug)]
pub struct ResBlock {
    pub norm1: GroupNorm,
    pub conv1: Conv2d,
    pub emb: Linear,
    pub norm2: GroupNorm,
    pub conv2: Conv2d,
    pub skip: Option<Conv2d>,
    pub attn: Option<Attention>,
    pub dropout: f64,
}

impl ResBlock {
    pub fn new(
        cin: usize,
        cout: usize,
        attn: bool,
        dropout: f64,
        spec: BlockSpec,
        device: &Device,
    ) -> Self {
        Self {
            norm1: GroupNorm::new(cin, spec.groups, spec.norm, device),
            conv1: conv3(cin, cout, device),
            emb: LinearConfig::new(spec.emb, cout).init(device),
            norm2: GroupNorm::new(cout, spec.groups, spec.norm, device),
            conv2: conv3_zero(cout, cout, device),
            skip: (cin != cout).then(|| conv1(cin, cout, false, device)),
            attn: attn.then(|| Attention::new(cout, spec, device)),
            dropout,
        }
    }

    pub fn forward(
        &self,
        x: Tensor<4>,
        emb: &Tensor<2>,
        masks: Option<&DropoutMasks>,
    ) -> Tensor<4> {
        self.forward_input(Input::one(x), emb, masks)
    }

    /// The block applied to the concatenation of `x`'s channels and `skip`'s (the decoder's
    /// input), which the CPU kernels read without making it.
    pub fn forward_cat(
        &self,
        x: Tensor<4>,
        skip: Tensor<4>,
        emb: &Tensor<2>,
        masks: Option<&DropoutMasks>,
    ) -> Tensor<4> {
        self.forward_input(Input::cat(x, skip), emb, masks)
    }

    fn forward_input(&self, x: Input, emb: &Tensor<2>, masks: Option<&DropoutMasks>) -> Tensor<4> {
        let out = if masks.is_none() && self.runs_on_cpu_kernels(x.first()) {
            self.forward_cpu(x, emb)
        } else {
            self.forward_composed(x.joined(), emb, masks)
        };
        match &self.attn {
            Some(attn) => attn.forward(out),
            None => out,
        }
    }

    /// The block in burn's ops: the definition, and what training and the GPU run.
    fn forward_composed(
        &self,
        x: Tensor<4>,
        emb: &Tensor<2>,
        masks: Option<&DropoutMasks>,
    ) -> Tensor<4> {
        let h = self.conv1.forward(silu(self.norm1.forward(x.clone())));
        let [b, c, _, _] = h.dims();
        let h = h + self.emb.forward(silu(emb.clone())).reshape([b, c, 1, 1]);
        let mut h = silu(self.norm2.forward(h));
        if let Some(masks) = masks {
            h = masks.apply(h, self.dropout);
        }
        let h = self.conv2.forward(h);
        let skip = match &self.skip {
            Some(conv) => conv.forward(x),
            None => x,
        };
        skip + h
    }

    fn runs_on_cpu_kernels(&self, x: &Tensor<4>) -> bool {
        cpu::applies(x)
            && self.norm1.local
            && self.norm2.local
            && cpu::is_plain_conv3(&self.conv1)
            && cpu::is_plain_conv3(&self.conv2)
            && self.skip.as_ref().is_none_or(cpu::is_plain_conv1)
    }

    /// The same block in two fused passes and two direct (or banded) convolutions, plus the
    /// skip's 1×1 convolution where the channels change (inference on the CPU).
    fn forward_cpu(&self, x: Input, emb: &Tensor<2>) -> Tensor<4> {
        let shift = self.emb.forward(silu(emb.clone()));
        let h = cpu::conv3x3(
            Padded::norm_silu(&x, &self.norm1),
            &self.conv1,
            Some(shift),
            None,
        );
        let skip = match &self.skip {
            Some(conv) => cpu::conv1x1(x, conv),
            None => x.joined(),
        };
        cpu::conv3x3(
            Padded::norm_silu(&Input::one(h), &self.norm2),
            &self.conv2,
            None,
            Some(skip),
        )
    }
}

/// Multi-head self-attention with q, k, v normalised to unit RMS per head (EDM2-style cosine
/// attention of the reference), qkv channel layout (three, head, d).
#[derive(Module, Debug)]
pub struct Attention {
    pub norm: GroupNorm,
    pub qkv: Conv2d,
    pub proj: Conv2d,
    pub heads: usize,
}

impl Attention {
    fn new(ch: usize, spec: BlockSpec, device: &Device) -> Self {
        Self {
            norm: GroupNorm::new(ch, spec.groups, spec.norm, device),
            qkv: conv1(ch, 3 * ch, false, device),
            proj: conv1(ch, ch, true, device),
            heads: ch / spec.head_channels,
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, c, h, w] = x.dims();
        let (heads, d, n) = (self.heads, c / self.heads, h * w);
        let qkv = self
            .qkv
            .forward(self.norm.forward(x.clone()))
            .reshape([b, 3, heads, d, n]);
        let unit_rms = |t: Tensor<5>| {
            let rms = t.clone().square().mean_dim(3).sqrt();
            t / (rms + 1e-4)
        };
        let qkv = unit_rms(qkv);
        let part = |i: usize| {
            qkv.clone()
                .slice([0..b, i..i + 1, 0..heads, 0..d, 0..n])
                .reshape([b * heads, d, n])
        };
        let scale = (d as f64).powf(-0.25);
        let (q, k, v) = (part(0) * scale, part(1) * scale, part(2));
        // logits[i, j] = q_i · k_j over the head dimension; softmax over keys j.
        let logits = q.swap_dims(1, 2).matmul(k);
        let weights = softmax(logits, 2);
        let out = v.matmul(weights.swap_dims(1, 2)).reshape([b, c, h, w]);
        x + self.proj.forward(out)
    }
}
