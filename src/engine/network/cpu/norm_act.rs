//! Per-pixel GroupNorm, its scale and shift and SiLU in one pass, written straight into the
//! zero-bordered layout that [`super::conv3x3`] reads (burn's composed ops take about seven
//! passes over memory for the same result, plus one more to pad).

use std::mem::MaybeUninit;

use super::buffer::{Parts, par_chunks_written_with, write_copy, write_fill};

/// What happens to each value on its way into the padded buffer.
#[derive(Debug, Clone, Copy)]
pub enum Activation<'a> {
    /// Copied unchanged (the convolutions that read the network's input or an upsampling).
    Identity,
    /// Normalised, scaled and shifted by the GroupNorm, then SiLU.
    NormSilu(Norm<'a>),
}

/// A per-pixel GroupNorm: over the channels of each of `groups` groups at each pixel, then
/// scaled by `gamma` and shifted by `beta` per channel.
#[derive(Debug, Clone, Copy)]
pub struct Norm<'a> {
    pub gamma: &'a [f32],
    pub beta: &'a [f32],
    pub groups: usize,
}

const EPS: f32 = 1e-5;

/// `x` is NCHW `[b, c, h, w]`; the result is `[b, h + 2, c, w + 2]` (each padded image row
/// holds all channels, so a row of work is one contiguous slice), zero on the border.
pub fn padded_rows(x: Parts, act: Activation) -> Vec<f32> {
    let (b, c, h, w) = (x.b, x.channels(), x.h, x.w);
    let (hp, wp) = (h + 2, w + 2);
    // One task per padded row; the first and last of each image are zero. Each worker keeps
    // one row's mean and inverse deviation between its rows.
    let scratch = || (vec![0.0f32; w], vec![0.0f32; w]);
    par_chunks_written_with(b * hp * c * wp, c * wp, scratch, |(mean, inv), row, dst| {
        let (bi, yp) = (row / hp, row % hp);
        if yp == 0 || yp == hp - 1 {
            write_fill(dst, 0.0);
            return;
        }
        let row = Row {
            dst,
            x,
            bi,
            at: (yp - 1) * w,
        };
        match act {
            Activation::Identity => row.copy(),
            Activation::NormSilu(norm) => row.norm_silu((mean, inv), norm),
        }
    })
}

/// One image row of the input (image `bi`, from offset `at` of each channel's plane) and its
/// padded destination (`[c, w + 2]`).
struct Row<'a, 'x> {
    dst: &'a mut [MaybeUninit<f32>],
    x: Parts<'x>,
    bi: usize,
    at: usize,
}

impl<'x> Row<'_, 'x> {
    /// Channel `ch` of the row.
    #[inline(always)]
    fn src(&self, ch: usize) -> &'x [f32] {
        &self.x.plane(self.bi, ch)[self.at..self.at + self.x.w]
    }

    /// Channel `ch` of the destination: its left border, its values, its right border.
    #[inline(always)]
    fn out(dst: &mut [MaybeUninit<f32>], ch: usize, w: usize) -> &mut [MaybeUninit<f32>] {
        let wp = w + 2;
        let out = &mut dst[ch * wp..(ch + 1) * wp];
        out[0].write(0.0);
        out[wp - 1].write(0.0);
        &mut out[1..wp - 1]
    }

    fn copy(self) {
        for ch in 0..self.x.channels() {
            let src = self.src(ch);
            write_copy(Self::out(self.dst, ch, self.x.w), src);
        }
    }

    /// For each group, the mean and variance over its channels at every pixel (two passes, as
    /// the reference computes them, while the row is in cache), then the normalised, scaled and
    /// activated values into `dst`. Compiled for the widest vectors the CPU has.
    fn norm_silu(self, stats: (&mut [f32], &mut [f32]), norm: Norm) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F.
            return unsafe { self.norm_silu_avx512(stats, norm) };
        } else if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has AVX2 and FMA.
            return unsafe { self.norm_silu_avx2(stats, norm) };
        }
        self.norm_silu_any(stats, norm)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn norm_silu_avx512(self, stats: (&mut [f32], &mut [f32]), norm: Norm) {
        self.norm_silu_any(stats, norm)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn norm_silu_avx2(self, stats: (&mut [f32], &mut [f32]), norm: Norm) {
        self.norm_silu_any(stats, norm)
    }

    #[inline(always)]
    fn norm_silu_any(self, (mean, inv): (&mut [f32], &mut [f32]), norm: Norm) {
        let Norm {
            gamma,
            beta,
            groups,
        } = norm;
        let c = gamma.len();
        let (per, w) = (c / groups, self.x.w);
        let n = per as f32;
        for g in 0..groups {
            let channels = g * per..(g + 1) * per;
            mean.fill(0.0);
            for ch in channels.clone() {
                for (m, v) in mean.iter_mut().zip(self.src(ch)) {
                    *m += v;
                }
            }
            mean.iter_mut().for_each(|m| *m /= n);
            inv.fill(0.0);
            for ch in channels.clone() {
                for ((s, v), m) in inv.iter_mut().zip(self.src(ch)).zip(mean.iter()) {
                    let d = v - m;
                    *s += d * d;
                }
            }
            inv.iter_mut()
                .for_each(|s| *s = 1.0 / (*s / n + EPS).sqrt());
            for ch in channels {
                let (scale, shift) = (gamma[ch], beta[ch]);
                let src = self.src(ch);
                let out = Self::out(self.dst, ch, w);
                for (((o, v), m), i) in out.iter_mut().zip(src).zip(mean.iter()).zip(inv.iter()) {
                    o.write(silu((v - m) * i * scale + shift));
                }
            }
        }
    }
}

/// x·sigmoid(x) with an exp that the compiler vectorises (libm's `exp` is a call per value,
/// which would cost more than the normalisation itself).
#[inline(always)]
fn silu(x: f32) -> f32 {
    x / (1.0 + exp(-x))
}

/// e^x to about 2 ulp over the range a SiLU needs (Cephes' expf: 2^n times a degree-6
/// polynomial of the remainder); saturates to 0 below -87 and to a large finite value above 88.
#[inline(always)]
fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    // Round to nearest by adding and subtracting 1.5·2^23 (`round` is a libm call without
    // SSE4.1, which the baseline x86-64 target lacks); the sum's low bits hold n as an integer.
    const SHIFTER: f32 = 12_582_912.0;
    let shifted = x * std::f32::consts::LOG2_E + SHIFTER;
    let n = shifted - SHIFTER;
    let whole = (shifted.to_bits() as i32).wrapping_sub(SHIFTER.to_bits() as i32);
    let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let p = 1.987_569_1e-4;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let e = p * r * r + r + 1.0;
    // 2^n through the exponent bits; n is within [-126, 127] after the clamp.
    e * f32::from_bits((whole.wrapping_add(127) as u32) << 23)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_vectorised_exp_matches_the_standard_one() {
        let mut worst = 0.0f32;
        for k in -87_000..88_000 {
            let x = k as f32 / 1000.0;
            worst = worst.max((super::exp(x) / x.exp() - 1.0).abs());
        }
        assert!(worst < 1e-6, "relative error {worst}");
        assert_eq!(super::exp(-200.0), (-87.0f32).exp());
        assert!(super::silu(-200.0).abs() < 1e-30 && super::silu(200.0) == 200.0);
    }

    use super::*;

    #[test]
    fn identity_pads_with_zeros_and_keeps_every_value() {
        let (b, c, h, w) = (2, 3, 4, 5);
        let x: Vec<f32> = (0..b * c * h * w).map(|i| i as f32 + 1.0).collect();
        let p = padded_rows(Parts::one(&x, [b, c, h, w]), Activation::Identity);
        let at = |bi: usize, y: usize, ch: usize, xx: usize| {
            p[((bi * (h + 2) + y) * c + ch) * (w + 2) + xx]
        };
        for bi in 0..b {
            for ch in 0..c {
                for y in 0..h + 2 {
                    for xx in 0..w + 2 {
                        let inside = (1..=h).contains(&y) && (1..=w).contains(&xx);
                        let want = if inside {
                            x[((bi * c + ch) * h + y - 1) * w + xx - 1]
                        } else {
                            0.0
                        };
                        assert_eq!(at(bi, y, ch, xx), want);
                    }
                }
            }
        }
    }
}
