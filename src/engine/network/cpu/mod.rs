//! The network's inference kernels on burn's `flex` CPU backend, plugged in as a burn backend
//! extension: a residual block's GroupNorm, SiLU and padding in one pass, its 3×3
//! convolutions as a direct vector kernel (AVX-512 or AVX2; banded matrix products elsewhere) that start from
//! the bias, time shift and residual, 1×1 convolutions and the decoder's concatenations read in
//! place, and the pixel rearrangements as single parallel passes. Training (autodiff) and the
//! GPU keep burn's composed ops, which these must equal.

mod buffer;
mod conv1x1;
mod conv3x3;
#[cfg(target_arch = "x86_64")]
mod direct;
mod flex;
mod layout;
mod norm_act;
mod ops;
#[cfg(target_arch = "x86_64")]
mod simd;

use std::sync::OnceLock;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, backend_extension};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::{DType, Device, Tensor};

pub use ops::{Input, Padded, conv1x1, conv3x3, depth_to_space, space_to_depth, upsample2};

#[backend_extension(Flex)]
pub trait CpuKernels: Backend {
    /// `[b, c, h, w]` → `[b, h + 2, c, w + 2]`, SiLU(GroupNorm(x)) inside a zero border.
    fn norm_silu_padded(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        groups: usize,
    ) -> FloatTensor<Self>;
    /// [`CpuKernels::norm_silu_padded`] of the channels of `a` followed by those of `b`.
    fn norm_silu_padded_cat(
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        groups: usize,
    ) -> FloatTensor<Self>;
    /// `[b, c, h, w]` → `[b, h + 2, c, w + 2]`, x inside a zero border.
    fn padded(x: FloatTensor<Self>) -> FloatTensor<Self>;
    /// 3×3 convolution of a padded input plus a per-image, per-channel shift `[b, c_out]`.
    fn conv3x3(
        xp: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        shift: FloatTensor<Self>,
        stride: usize,
    ) -> FloatTensor<Self>;
    /// [`CpuKernels::conv3x3`] with stride 1, plus a residual `[b, c_out, h, w]`.
    fn conv3x3_add(
        xp: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        shift: FloatTensor<Self>,
        residual: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
    /// 1×1 convolution: `weight` `[c_out, c_in, 1, 1]`, `bias` `[c_out]`.
    fn conv1x1(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
    /// [`CpuKernels::conv1x1`] of the channels of `a` followed by those of `b`.
    fn conv1x1_cat(
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
    /// Nearest-neighbour 2× upsampling.
    fn upsample2(x: FloatTensor<Self>) -> FloatTensor<Self>;
    /// `[b, c, h, w]` → `[b, c·s², h/s, w/s]` (pixel unshuffle).
    fn space_to_depth(x: FloatTensor<Self>, s: usize) -> FloatTensor<Self>;
    /// `[b, c·s², h, w]` → `[b, c, h·s, w·s]` (pixel shuffle).
    fn depth_to_space(x: FloatTensor<Self>, s: usize) -> FloatTensor<Self>;
}

/// Whether `x` runs on these kernels: plain (not autodiff) f32 tensors on the flex device,
/// unless `BCM_COMPOSED_OPS=1` asks for burn's composed ops (to compare the two).
pub fn applies(x: &Tensor<4>) -> bool {
    static COMPOSED: OnceLock<bool> = OnceLock::new();
    let composed =
        *COMPOSED.get_or_init(|| std::env::var("BCM_COMPOSED_OPS").is_ok_and(|v| v == "1"));
    let device = x.device();
    !composed && x.dtype() == DType::F32 && !device.is_autodiff() && device == Device::flex()
}

/// The stride of `conv` when it is a 3×3 convolution with one pixel of zero padding and
/// stride 1 or 2, which these kernels compute; `None` for any other.
pub fn conv3_stride(conv: &Conv2d) -> Option<usize> {
    let [sy, sx] = conv.stride;
    let plain = conv.kernel_size == [3, 3]
        && conv.dilation == [1, 1]
        && conv.groups == 1
        && conv.padding == PaddingConfig2d::Explicit(1, 1, 1, 1);
    (plain && sy == sx && (sy == 1 || sy == 2)).then_some(sy)
}

/// Whether `conv` is the 3×3, stride 1, "same" convolution of a residual block.
pub fn is_plain_conv3(conv: &Conv2d) -> bool {
    conv3_stride(conv) == Some(1)
}

/// Whether `conv` is a plain 1×1 convolution with a bias (a residual block's skip).
pub fn is_plain_conv1(conv: &Conv2d) -> bool {
    conv.kernel_size == [1, 1]
        && conv.stride == [1, 1]
        && conv.dilation == [1, 1]
        && conv.groups == 1
        && conv.bias.is_some()
        && conv.padding == PaddingConfig2d::Valid
}
