//! The network's inference kernels on burn's `flex` CPU backend, plugged in as a burn backend
//! extension: a residual block's GroupNorm, SiLU and padding in one pass, and its 3×3
//! convolutions as banded matrix products that start from the bias, time shift and residual.
//! Training (autodiff) and the GPU keep burn's composed ops, which these must equal.

mod conv3x3;
mod norm_act;

use std::sync::OnceLock;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Flex, backend_extension};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::{DType, Device, Shape, Tensor, TensorData};
use burn_flex::FlexTensor;

use self::norm_act::Activation;
use super::norm::GroupNorm;

#[backend_extension(Flex)]
pub trait CpuKernels: Backend {
    /// `[b, c, h, w]` → `[b, h + 2, c, w + 2]`, SiLU(GroupNorm(x)) inside a zero border.
    fn norm_silu_padded(
        x: FloatTensor<Self>,
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
}

/// A contiguous f32 copy-free view of a flex tensor (cast first if it is not f32).
struct Values(FlexTensor);

impl Values {
    fn new(t: FlexTensor) -> Self {
        let t = if t.dtype() == DType::F32 {
            t
        } else {
            <Flex as burn::backend::ops::FloatTensorOps<Flex>>::float_cast(
                t,
                burn::tensor::FloatDType::F32,
            )
        };
        Self(t.to_contiguous())
    }

    fn get(&self) -> &[f32] {
        // Contiguous f32 by construction.
        self.0.as_slice().unwrap_or(&[])
    }

    fn dims<const D: usize>(&self) -> [usize; D] {
        let mut dims = [0; D];
        dims.copy_from_slice(self.0.layout().shape());
        dims
    }
}

fn flex(values: Vec<f32>, shape: impl Into<Shape>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

fn conv(
    xp: FlexTensor,
    weight: FlexTensor,
    shift: FlexTensor,
    stride: usize,
    res: Option<FlexTensor>,
) -> FlexTensor {
    let (xp, weight, shift) = (Values::new(xp), Values::new(weight), Values::new(shift));
    let res = res.map(Values::new);
    let [b, hp, cin, wp] = xp.dims();
    let cout = weight.dims::<4>()[0];
    let out = conv3x3::conv3x3_padded(
        xp.get(),
        [b, hp, cin, wp],
        stride,
        weight.get(),
        shift.get(),
        res.as_ref().map(Values::get),
    );
    let (h, w) = conv3x3::output_size([hp, wp], stride);
    flex(out, [b, cout, h, w])
}

impl CpuKernels for Flex {
    fn norm_silu_padded(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        groups: usize,
    ) -> FlexTensor {
        let (x, gamma, beta) = (Values::new(x), Values::new(gamma), Values::new(beta));
        let [b, c, h, w] = x.dims();
        let act = Activation::NormSilu {
            gamma: gamma.get(),
            beta: beta.get(),
            groups,
        };
        flex(
            norm_act::padded_rows(x.get(), [b, c, h, w], act),
            [b, h + 2, c, w + 2],
        )
    }

    fn padded(x: FlexTensor) -> FlexTensor {
        let x = Values::new(x);
        let [b, c, h, w] = x.dims();
        let out = norm_act::padded_rows(x.get(), [b, c, h, w], Activation::Identity);
        flex(out, [b, h + 2, c, w + 2])
    }

    fn conv3x3(xp: FlexTensor, weight: FlexTensor, shift: FlexTensor, stride: usize) -> FlexTensor {
        conv(xp, weight, shift, stride, None)
    }

    fn conv3x3_add(
        xp: FlexTensor,
        weight: FlexTensor,
        shift: FlexTensor,
        residual: FlexTensor,
    ) -> FlexTensor {
        conv(xp, weight, shift, 1, Some(residual))
    }
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

/// An input made ready for [`conv3x3`]: `[b, h + 2, c, w + 2]`, zero border.
pub struct Padded(Tensor<4>);

impl Padded {
    /// SiLU(`norm`(x)), as the residual blocks and the output feed their convolutions.
    pub fn norm_silu(x: Tensor<4>, norm: &GroupNorm) -> Self {
        let out = <burn::backend::Dispatch as CpuKernels>::norm_silu_padded(
            x.into_dispatch(),
            norm.gamma.val().into_dispatch(),
            norm.beta.val().into_dispatch(),
            norm.groups,
        );
        Self(Tensor::from_dispatch(out))
    }

    /// x itself.
    pub fn plain(x: Tensor<4>) -> Self {
        let out = <burn::backend::Dispatch as CpuKernels>::padded(x.into_dispatch());
        Self(Tensor::from_dispatch(out))
    }
}

/// `conv` (3×3, zero padding 1, stride 1 or 2: [`conv3_stride`]) of `xp`, plus `shift`
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
    type D = burn::backend::Dispatch;
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
