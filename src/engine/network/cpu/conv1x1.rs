//! 1×1 convolution (a residual block's skip projection) as matrix products over chunks of
//! pixels, reading its input's channel parts in place and starting from the bias.

use super::buffer::{Parts, add_product, par_tasks_written};

/// Pixels per task: the chunk of every input channel stays in the second-level cache.
const CHUNK: usize = 2048;

/// `weight`: `[c_out, c_in]` (c_in = all channels of `x`), `bias`: `[c_out]`. NCHW out.
pub fn conv1x1(x: Parts, weight: &[f32], bias: &[f32]) -> Vec<f32> {
    let cin = x.channels();
    let cout = bias.len();
    let n = x.h * x.w;
    let chunks = n.div_ceil(CHUNK);
    par_tasks_written(
        x.b * cout * n,
        x.b * chunks,
        || (),
        |_, task, dst| {
            let (bi, chunk) = (task / chunks, task % chunks);
            let p0 = chunk * CHUNK;
            let len = CHUNK.min(n - p0);
            // SAFETY: this task writes pixels p0..p0 + len of every channel of image bi, which no
            // other task writes; every offset is within the output and the inputs.
            unsafe {
                let out = dst.at(bi * cout * n + p0);
                for (co, &b) in bias.iter().enumerate() {
                    std::slice::from_raw_parts_mut(out.add(co * n), len).fill(b);
                }
                let mut ci0 = 0;
                for &(part, c) in x.list() {
                    add_product(
                        [cout, len, c],
                        out,
                        n,
                        weight.as_ptr().add(ci0),
                        cin,
                        part.as_ptr().add(bi * c * n + p0),
                        n,
                    );
                    ci0 += c;
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::super::buffer::pattern;
    use super::*;

    #[test]
    fn parts_are_convolved_as_their_concatenation() {
        let (b, c1, c2, cout, h, w) = (2, 3, 2, 4, 5, 900);
        let n = h * w;
        let (a, s) = (pattern(b * c1 * n, 7), pattern(b * c2 * n, 5));
        let (weight, bias) = (pattern(cout * (c1 + c2), 3), pattern(cout, 11));
        let got = conv1x1(Parts::two(&a, c1, &s, c2, [b, h, w]), &weight, &bias);
        for bi in 0..b {
            for co in 0..cout {
                for p in 0..n {
                    let mut want = bias[co];
                    for ci in 0..c1 + c2 {
                        let v = if ci < c1 {
                            a[(bi * c1 + ci) * n + p]
                        } else {
                            s[(bi * c2 + ci - c1) * n + p]
                        };
                        want += weight[co * (c1 + c2) + ci] * v;
                    }
                    let g = got[(bi * cout + co) * n + p];
                    assert!((g - want).abs() < 1e-4, "{g} vs {want}");
                }
            }
        }
    }
}
