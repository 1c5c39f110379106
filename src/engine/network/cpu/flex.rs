//! The kernels' implementation on burn's `flex` backend: tensors read as f32 slices, results
//! handed back as new tensors.

use burn::backend::Flex;
use burn::tensor::{DType, Shape, TensorData};
use burn_flex::FlexTensor;

use super::CpuKernels;
use super::buffer::Parts;
use super::norm_act::{Activation, Norm, padded_rows};
use super::{conv1x1, conv3x3, layout};

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

    /// An NCHW batch as one part.
    fn parts(&self) -> Parts<'_> {
        Parts::one(self.get(), self.dims())
    }
}

/// Two NCHW batches of the same size as the parts of one.
fn two<'a>(a: &'a Values, b: &'a Values) -> Parts<'a> {
    let [n, ca, h, w] = a.dims();
    let cb = b.dims::<4>()[1];
    Parts::two(a.get(), ca, b.get(), cb, [n, h, w])
}

fn flex(values: Vec<f32>, shape: impl Into<Shape>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

fn padded(x: Parts, act: Activation) -> FlexTensor {
    let shape = [x.b, x.h + 2, x.channels(), x.w + 2];
    flex(padded_rows(x, act), shape)
}

fn norm_silu(x: Parts, gamma: FlexTensor, beta: FlexTensor, groups: usize) -> FlexTensor {
    let (gamma, beta) = (Values::new(gamma), Values::new(beta));
    let act = Activation::NormSilu(Norm {
        gamma: gamma.get(),
        beta: beta.get(),
        groups,
    });
    padded(x, act)
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
    let (xp, weight, shift, res) = (
        xp.get(),
        weight.get(),
        shift.get(),
        res.as_ref().map(Values::get),
    );
    let out = conv3x3_best(xp, [b, hp, cin, wp], stride, weight, shift, res);
    let (h, w) = conv3x3::output_size([hp, wp], stride);
    flex(out, [b, cout, h, w])
}

/// The 3×3 convolution by the direct kernel where the CPU has it (stride 1), by banded matrix
/// products elsewhere.
fn conv3x3_best(
    xp: &[f32],
    shape: [usize; 4],
    stride: usize,
    weight: &[f32],
    shift: &[f32],
    res: Option<&[f32]>,
) -> Vec<f32> {
    #[cfg(target_arch = "x86_64")]
    if stride == 1
        && let Some(isa) = super::direct::best()
    {
        return super::direct::conv3x3_direct(isa, xp, shape, weight, shift, res);
    }
    conv3x3::conv3x3_padded(xp, shape, stride, weight, shift, res)
}

fn pointwise(x: Parts, weight: FlexTensor, bias: FlexTensor) -> FlexTensor {
    let (weight, bias) = (Values::new(weight), Values::new(bias));
    let shape = [x.b, bias.get().len(), x.h, x.w];
    flex(conv1x1::conv1x1(x, weight.get(), bias.get()), shape)
}

impl CpuKernels for Flex {
    fn norm_silu_padded(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        groups: usize,
    ) -> FlexTensor {
        let x = Values::new(x);
        norm_silu(x.parts(), gamma, beta, groups)
    }

    fn norm_silu_padded_cat(
        a: FlexTensor,
        b: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        groups: usize,
    ) -> FlexTensor {
        let (a, b) = (Values::new(a), Values::new(b));
        norm_silu(two(&a, &b), gamma, beta, groups)
    }

    fn padded(x: FlexTensor) -> FlexTensor {
        let x = Values::new(x);
        padded(x.parts(), Activation::Identity)
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

    fn conv1x1(x: FlexTensor, weight: FlexTensor, bias: FlexTensor) -> FlexTensor {
        let x = Values::new(x);
        pointwise(x.parts(), weight, bias)
    }

    fn conv1x1_cat(
        a: FlexTensor,
        b: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
    ) -> FlexTensor {
        let (a, b) = (Values::new(a), Values::new(b));
        pointwise(two(&a, &b), weight, bias)
    }

    fn upsample2(x: FlexTensor) -> FlexTensor {
        let x = Values::new(x);
        let [b, c, h, w] = x.dims();
        flex(
            layout::upsample2(x.get(), [b, c, h, w]),
            [b, c, 2 * h, 2 * w],
        )
    }

    fn space_to_depth(x: FlexTensor, s: usize) -> FlexTensor {
        let x = Values::new(x);
        let [b, c, h, w] = x.dims();
        let out = layout::space_to_depth(x.get(), [b, c, h, w], s);
        flex(out, [b, c * s * s, h / s, w / s])
    }

    fn depth_to_space(x: FlexTensor, s: usize) -> FlexTensor {
        let x = Values::new(x);
        let [b, cs, h, w] = x.dims();
        let out = layout::depth_to_space(x.get(), [b, cs, h, w], s);
        flex(out, [b, cs / (s * s), h * s, w * s])
    }
}
