//! 3×3 convolution (stride 1 or 2) of a zero-bordered input ([`super::norm_act::padded_rows`]) as
//! one matrix product per band of output rows. Each band's im2col rows are plain copies of
//! contiguous runs of the padded input, the band's columns fit in cache, the weights are used
//! in their stored order, and the bias, time-embedding shift and residual are the product's
//! starting value, so nothing is added in a pass of its own.

use super::buffer::{add_product, par_tasks_written};

/// Output columns per band: enough for an efficient product, few enough that the im2col
/// buffer (9·c_in columns of this length) stays in the second-level cache.
const BAND_COLUMNS: usize = 512;

/// `xp`: `[b, h + 2, c_in, w + 2]`; `weight`: `[c_out, c_in, 3, 3]`; `shift`: `[b, c_out]`,
/// added to every pixel of its channel; `residual`: NCHW like the output, added too.
/// Returns NCHW `[b, c_out, h', w']`, where h' = (h - 1) / stride + 1 and likewise w'.
pub fn conv3x3_padded(
    xp: &[f32],
    [b, hp, cin, wp]: [usize; 4],
    stride: usize,
    weight: &[f32],
    shift: &[f32],
    residual: Option<&[f32]>,
) -> Vec<f32> {
    let (h, w) = output_size([hp, wp], stride);
    let k = cin * 9;
    let cout = weight.len() / k;
    let rows = (BAND_COLUMNS / w).max(1);
    let bands = h.div_ceil(rows);
    par_tasks_written(
        b * cout * h * w,
        b * bands,
        || vec![0.0f32; k * rows * w],
        |col, task, dst| {
            let (bi, band) = (task / bands, task % bands);
            let y0 = band * rows;
            let n = rows.min(h - y0) * w;
            // im2col: row (ci, ky, kx) of the band is the padded input shifted by (ky, kx).
            for ci in 0..cin {
                for ky in 0..3 {
                    for kx in 0..3 {
                        let r = ci * 9 + ky * 3 + kx;
                        for (j, y) in (y0..y0 + n / w).enumerate() {
                            let src = ((bi * hp + y * stride + ky) * cin + ci) * wp + kx;
                            let at = r * n + j * w;
                            let dst = &mut col[at..at + w];
                            if stride == 1 {
                                dst.copy_from_slice(&xp[src..src + w]);
                            } else {
                                let run = xp[src..].iter().step_by(stride);
                                dst.iter_mut().zip(run).for_each(|(d, v)| *d = *v);
                            }
                        }
                    }
                }
            }
            let base = bi * cout * h * w + y0 * w;
            // SAFETY: the bands of all tasks are disjoint ranges of the output (each task owns
            // rows y0.. of every channel of its image), which they cover.
            unsafe {
                let d = dst.at(base);
                for co in 0..cout {
                    let run = std::slice::from_raw_parts_mut(d.add(co * h * w), n);
                    let s = shift[bi * cout + co];
                    match residual {
                        Some(res) => {
                            let at = base + co * h * w;
                            for (o, r) in run.iter_mut().zip(&res[at..at + n]) {
                                *o = s + r;
                            }
                        }
                        None => run.fill(s),
                    }
                }
                add_product([cout, n, k], d, h * w, weight.as_ptr(), k, col.as_ptr(), n);
            }
        },
    )
}

/// The output's height and width for a padded input of `[hp, wp]`.
pub fn output_size([hp, wp]: [usize; 2], stride: usize) -> (usize, usize) {
    ((hp - 3) / stride + 1, (wp - 3) / stride + 1)
}

#[cfg(test)]
mod tests {
    use super::super::buffer::{Parts, pattern};
    use super::super::norm_act::{Activation, padded_rows};
    use super::*;

    /// The definition, one output value at a time.
    fn direct(
        x: &[f32],
        [b, c, h, w]: [usize; 4],
        stride: usize,
        weight: &[f32],
        shift: &[f32],
        residual: &[f32],
    ) -> Vec<f32> {
        let cout = weight.len() / (c * 9);
        let (ho, wo) = output_size([h + 2, w + 2], stride);
        let mut out = vec![0.0; b * cout * ho * wo];
        for bi in 0..b {
            for co in 0..cout {
                for y in 0..ho {
                    for xx in 0..wo {
                        let mut s = shift[bi * cout + co];
                        for ci in 0..c {
                            for ky in 0..3 {
                                for kx in 0..3 {
                                    let (yy, xs) = (y * stride + ky, xx * stride + kx);
                                    if yy < 1 || yy > h || xs < 1 || xs > w {
                                        continue;
                                    }
                                    let v = x[((bi * c + ci) * h + yy - 1) * w + xs - 1];
                                    s += v * weight[((co * c + ci) * 3 + ky) * 3 + kx];
                                }
                            }
                        }
                        let at = ((bi * cout + co) * ho + y) * wo + xx;
                        out[at] = s + residual[at];
                    }
                }
            }
        }
        out
    }

    #[test]
    fn banded_products_equal_the_direct_convolution() {
        // Heights that leave a short last band, and a width wider than one band.
        for (b, c, cout, h, w) in [(2, 3, 5, 7, 9), (1, 4, 2, 3, 600), (1, 2, 3, 200, 4)] {
            let x = pattern(b * c * h * w, 7);
            let weight = pattern(cout * c * 9, 5);
            let shift = pattern(b * cout, 3);
            let xp = padded_rows(Parts::one(&x, [b, c, h, w]), Activation::Identity);
            let close = |got: &[f32], want: &[f32]| {
                assert_eq!(got.len(), want.len());
                for (g, e) in got.iter().zip(want) {
                    assert!((g - e).abs() < 1e-4, "{g} vs {e}");
                }
            };
            let shape = [b, h + 2, c, w + 2];
            for stride in [1, 2] {
                let (ho, wo) = output_size([h + 2, w + 2], stride);
                let residual = pattern(b * cout * ho * wo, 11);
                let conv = |res| conv3x3_padded(&xp, shape, stride, &weight, &shift, res);
                let want = direct(&x, [b, c, h, w], stride, &weight, &shift, &residual);
                close(&conv(Some(&residual)), &want);
                let zeros = vec![0.0; residual.len()];
                let want = direct(&x, [b, c, h, w], stride, &weight, &shift, &zeros);
                close(&conv(None), &want);
            }
        }
    }
}
