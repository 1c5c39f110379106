//! The kernels as tensor operations for the network's modules (call them only where
//! [`super::applies`]).

use burn::nn::conv::Conv2d;
use burn::tensor::Tensor;

use super::CpuKernels;
use crate::engine::network::norm::GroupNorm;

type D = burn::backend::Dispatch;

/// A residual block's input: one tensor, or (in the decoder) the upsampled features followed
/// by the encoder's skip, whose concatenation the CPU kernels never make.
pub struct Input {
    first: Tensor<4>,
    skip: Option<Tensor<4>>,
}

impl Input {
    pub fn one(x: Tensor<4>) -> Self {
        Self {
            first: x,
            skip: None,
        }
    }

    /// The channels of `x`, then those of `skip`.
    pub fn cat(x: Tensor<4>, skip: Tensor<4>) -> Self {
        Self {
            first: x,
            skip: Some(skip),
        }
    }

    /// The first part (the whole input when there is one).
    pub fn first(&self) -> &Tensor<4> {
        &self.first
    }

    /// The input as one tensor (burn's composed ops).
    pub fn joined(self) -> Tensor<4> {
        match self.skip {
            None => self.first,
            Some(skip) => Tensor::cat(vec![self.first, skip], 1),
        }
    }
}

/// An input made ready for [`conv3x3`]: `[b, h + 2, c, w + 2]`, zero border.
pub struct Padded(Tensor<4>);

impl Padded {
    /// SiLU(`norm`(x)), as the residual blocks and the output feed their convolutions.
    pub fn norm_silu(x: &Input, norm: &GroupNorm) -> Self {
        let (gamma, beta) = (
            norm.gamma.val().into_dispatch(),
            norm.beta.val().into_dispatch(),
        );
        let first = x.first.clone().into_dispatch();
        let out = match &x.skip {
            None => <D as CpuKernels>::norm_silu_padded(first, gamma, beta, norm.groups),
            Some(skip) => <D as CpuKernels>::norm_silu_padded_cat(
                first,
                skip.clone().into_dispatch(),
                gamma,
                beta,
                norm.groups,
            ),
        };
        Self(Tensor::from_dispatch(out))
    }

    /// x itself.
    pub fn plain(x: Tensor<4>) -> Self {
        let out = <D as CpuKernels>::padded(x.into_dispatch());
        Self(Tensor::from_dispatch(out))
    }
}

/// `conv` (3×3, zero padding 1, stride 1 or 2: [`super::conv3_stride`]) of `xp`, plus `shift`
/// `[b, c_out]` (beside the convolution's bias) and, at stride 1, `residual`.
pub fn conv3x3(
    xp: Padded,
    conv: &Conv2d,
    shift: Option<Tensor<2>>,
    residual: Option<Tensor<4>>,
) -> Tensor<4> {
    let [b, _, _, _] = xp.0.dims();
    let weight = conv.weight.val();
    let cout = weight.dims()[0];
    let device = weight.device();
    let bias = match &conv.bias {
        Some(bias) => bias.val().reshape([1, cout]).expand([b, cout]),
        None => Tensor::zeros([b, cout], &device),
    };
    let shift = match shift {
        Some(s) => bias + s,
        None => bias,
    };
    let (xp, weight, shift) = (
        xp.0.into_dispatch(),
        weight.into_dispatch(),
        shift.into_dispatch(),
    );
    let stride = conv.stride[0];
    let out = match residual {
        Some(r) => <D as CpuKernels>::conv3x3_add(xp, weight, shift, r.into_dispatch()),
        None => <D as CpuKernels>::conv3x3(xp, weight, shift, stride),
    };
    Tensor::from_dispatch(out)
}

/// `conv` (1×1 with a bias: [`super::is_plain_conv1`]) of `x`.
pub fn conv1x1(x: Input, conv: &Conv2d) -> Tensor<4> {
    let weight = conv.weight.val().into_dispatch();
    let bias = match &conv.bias {
        Some(bias) => bias.val(),
        None => Tensor::zeros([conv.weight.dims()[0]], &conv.weight.device()),
    }
    .into_dispatch();
    let first = x.first.into_dispatch();
    let out = match x.skip {
        None => <D as CpuKernels>::conv1x1(first, weight, bias),
        Some(skip) => <D as CpuKernels>::conv1x1_cat(first, skip.into_dispatch(), weight, bias),
    };
    Tensor::from_dispatch(out)
}

/// Nearest-neighbour 2× upsampling.
pub fn upsample2(x: Tensor<4>) -> Tensor<4> {
    Tensor::from_dispatch(<D as CpuKernels>::upsample2(x.into_dispatch()))
}

/// `[b, c, h, w]` → `[b, c·s², h/s, w/s]` (pixel unshuffle).
pub fn space_to_depth(x: Tensor<4>, s: usize) -> Tensor<4> {
    Tensor::from_dispatch(<D as CpuKernels>::space_to_depth(x.into_dispatch(), s))
}

/// `[b, c·s², h, w]` → `[b, c, h·s, w·s]` (pixel shuffle).
pub fn depth_to_space(x: Tensor<4>, s: usize) -> Tensor<4> {
    Tensor::from_dispatch(<D as CpuKernels>::depth_to_space(x.into_dispatch(), s))
}
