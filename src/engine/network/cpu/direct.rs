//! 3×3 stride-1 convolution as a direct AVX-512 kernel: each tile of 4 output channels by 64
//! pixels of one row is accumulated in registers straight from the zero-bordered input
//! ([`super::norm_act::padded_rows`]), tap by tap, so there is neither an im2col copy nor a
//! packed copy of it, and every input row strip is read from cache for all output channels.
//! The accumulators start from the bias, time-embedding shift and residual.

use std::arch::x86_64::{
    __mmask16, _mm512_add_ps, _mm512_fmadd_ps, _mm512_mask_storeu_ps, _mm512_maskz_loadu_ps,
    _mm512_set1_ps, _mm512_setzero_ps,
};

use super::buffer::{SharedOut, par_tasks_written};

/// Output channels per tile (their weights are broadcast, one register each).
const MR: usize = 4;
/// Pixels per register.
const LANES: usize = 16;
/// Registers of pixels per tile: 4 × 4 accumulators, 4 input registers and the weight
/// broadcasts fit the 32 registers with room to spare.
const NV: usize = 4;
const TILE: usize = NV * LANES;

/// Whether this CPU runs [`conv3x3_direct`].
pub fn available() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
}

/// The weights `[c_out, c_in, 3, 3]` as `[c_out / MR][c_in][3·3][MR]`: the four values a tile
/// broadcasts for one tap are adjacent. Output channels past `c_out` get zero weights.
fn pack_weights(weight: &[f32], cout: usize, cin: usize) -> Vec<f32> {
    let blocks = cout.div_ceil(MR);
    let mut out = vec![0.0f32; blocks * cin * 9 * MR];
    for co in 0..cout {
        let (block, lane) = (co / MR, co % MR);
        for ci in 0..cin {
            for tap in 0..9 {
                out[((block * cin + ci) * 9 + tap) * MR + lane] = weight[(co * cin + ci) * 9 + tap];
            }
        }
    }
    out
}

/// As [`super::conv3x3::conv3x3_padded`] at stride 1; only call it where [`available`].
pub fn conv3x3_direct(
    xp: &[f32],
    [b, hp, cin, wp]: [usize; 4],
    weight: &[f32],
    shift: &[f32],
    residual: Option<&[f32]>,
) -> Vec<f32> {
    let (h, w) = (hp - 2, wp - 2);
    let cout = weight.len() / (cin * 9);
    let packed = pack_weights(weight, cout, cin);
    let rows = Rows {
        xp,
        cin,
        wp,
        hp,
        cout,
        h,
        w,
        packed: &packed,
        shift,
        residual,
    };
    par_tasks_written(
        b * cout * h * w,
        b * h,
        || (),
        |_, task, dst| {
            // SAFETY: AVX-512F is present (the caller checked `available`); each task writes all of
            // output row `task % h` of image `task / h`, in every channel, and nothing else.
            unsafe { rows.row(task / h, task % h, dst) }
        },
    )
}

/// One convolution's operands, shared by the tasks of its rows.
struct Rows<'a> {
    xp: &'a [f32],
    cin: usize,
    wp: usize,
    hp: usize,
    cout: usize,
    h: usize,
    w: usize,
    packed: &'a [f32],
    shift: &'a [f32],
    residual: Option<&'a [f32]>,
}

impl Rows<'_> {
    /// Output row `y` of image `bi`, all channels.
    #[target_feature(enable = "avx512f")]
    unsafe fn row(&self, bi: usize, y: usize, dst: SharedOut) {
        let (h, w, cout) = (self.h, self.w, self.cout);
        let input = &self.xp[(bi * self.hp + y) * self.cin * self.wp..];
        for x0 in (0..w).step_by(TILE) {
            let width = TILE.min(w - x0);
            for block in 0..cout.div_ceil(MR) {
                let co0 = block * MR;
                let at = (bi * cout + co0) * h * w + y * w + x0;
                let weights = &self.packed[block * self.cin * 9 * MR..][..self.cin * 9 * MR];
                let mut shift = [0.0f32; MR];
                let valid = MR.min(cout - co0);
                shift[..valid].copy_from_slice(&self.shift[bi * cout + co0..][..valid]);
                let tile = Tile {
                    input: &input[x0..],
                    channel: self.wp,
                    row: self.cin * self.wp,
                    cin: self.cin,
                    weights,
                };
                // SAFETY: the row's channels co0..co0 + valid are this task's to write (see
                // `conv3x3_direct`); `at` and the residual's `at` are within their buffers.
                unsafe {
                    let out = dst.at(at);
                    let res = self.residual.map(|r| r.as_ptr().add(at));
                    match width.div_ceil(LANES) {
                        4 => tile.run::<4>(width, valid, h * w, shift, res, out),
                        3 => tile.run::<3>(width, valid, h * w, shift, res, out),
                        2 => tile.run::<2>(width, valid, h * w, shift, res, out),
                        _ => tile.run::<1>(width, valid, h * w, shift, res, out),
                    }
                }
            }
        }
    }
}

/// The input and weights one tile reads.
struct Tile<'a> {
    /// The padded input from the tile's first column of its first input row (channel 0).
    input: &'a [f32],
    /// Distance between channels of one padded row, and between padded rows.
    channel: usize,
    row: usize,
    cin: usize,
    /// This tile's output channels' packed weights, `[c_in][9][MR]`.
    weights: &'a [f32],
}

/// Lanes of a tile's register `v` that hold pixels `< width`.
fn lane_mask(v: usize, width: usize) -> __mmask16 {
    let lanes = width.saturating_sub(v * LANES).min(LANES);
    ((1u32 << lanes) - 1) as __mmask16
}

impl Tile<'_> {
    /// `width` (≤ `V`·16) pixels of `valid` (≤ MR) output channels, `plane` apart in `out`.
    ///
    /// # Safety
    /// AVX-512F is present; `out` (and `res`, if any) hold `valid` channels `plane` apart of at
    /// least `width` values each; `input` holds `c_in` channels of three padded rows from the
    /// tile's first column, each at least `width + 2` wide.
    #[target_feature(enable = "avx512f")]
    unsafe fn run<const V: usize>(
        &self,
        width: usize,
        valid: usize,
        plane: usize,
        shift: [f32; MR],
        res: Option<*const f32>,
        out: *mut f32,
    ) {
        let mut masks: [__mmask16; V] = [0; V];
        for (v, m) in masks.iter_mut().enumerate() {
            *m = lane_mask(v, width);
        }
        let mut acc = [[_mm512_setzero_ps(); V]; MR];
        for (r, lane) in acc.iter_mut().enumerate() {
            for (v, a) in lane.iter_mut().enumerate() {
                *a = _mm512_set1_ps(shift[r]);
                if let Some(res) = res
                    && r < valid
                {
                    // SAFETY: within the residual's row (the caller's contract).
                    let more =
                        unsafe { _mm512_maskz_loadu_ps(masks[v], res.add(r * plane + v * LANES)) };
                    *a = _mm512_add_ps(*a, more);
                }
            }
        }
        let base = self.input.as_ptr();
        for ci in 0..self.cin {
            for ky in 0..3 {
                // SAFETY: channel ci of padded row ky is within `input` (the caller's contract).
                let src = unsafe { base.add(ky * self.row + ci * self.channel) };
                let taps = &self.weights[(ci * 9 + ky * 3) * MR..][..3 * MR];
                for kx in 0..3 {
                    let mut x = [_mm512_setzero_ps(); V];
                    for (v, xv) in x.iter_mut().enumerate() {
                        // SAFETY: masked lanes are not read; the others lie within the row.
                        *xv = unsafe { _mm512_maskz_loadu_ps(masks[v], src.add(kx + v * LANES)) };
                    }
                    for (r, lane) in acc.iter_mut().enumerate() {
                        let wv = _mm512_set1_ps(taps[kx * MR + r]);
                        for (a, xv) in lane.iter_mut().zip(&x) {
                            *a = _mm512_fmadd_ps(wv, *xv, *a);
                        }
                    }
                }
            }
        }
        for (r, lane) in acc.iter().enumerate().take(valid) {
            for (v, a) in lane.iter().enumerate() {
                // SAFETY: within the output row of channel r (the caller's contract).
                unsafe { _mm512_mask_storeu_ps(out.add(r * plane + v * LANES), masks[v], *a) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::buffer::Parts;
    use super::super::conv3x3::conv3x3_padded;
    use super::super::norm_act::{Activation, padded_rows};
    use super::*;

    #[test]
    fn the_direct_kernel_equals_the_banded_products() {
        if !available() {
            eprintln!("skipped: this CPU has no AVX-512");
            return;
        }
        // Widths of part of a register, of several tiles and a partial one; channel counts that
        // fill a tile of output channels and that do not.
        for (b, cin, cout, h, w) in [
            (2, 3, 5, 7, 9),
            (1, 4, 12, 3, 150),
            (1, 7, 8, 5, 64),
            (2, 2, 3, 4, 1),
        ] {
            let seq = |n: usize, m: u32| -> Vec<f32> {
                (0..n)
                    .map(|i| ((i as u32 * m) % 17) as f32 / 8.0 - 1.0)
                    .collect()
            };
            let x = seq(b * cin * h * w, 7);
            let weight = seq(cout * cin * 9, 5);
            let shift = seq(b * cout, 3);
            let residual = seq(b * cout * h * w, 11);
            let xp = padded_rows(Parts::one(&x, [b, cin, h, w]), Activation::Identity);
            let shape = [b, h + 2, cin, w + 2];
            for res in [None, Some(residual.as_slice())] {
                let want = conv3x3_padded(&xp, shape, 1, &weight, &shift, res);
                let got = conv3x3_direct(&xp, shape, &weight, &shift, res);
                assert_eq!(got.len(), want.len());
                for (g, e) in got.iter().zip(&want) {
                    assert!(
                        (g - e).abs() < 1e-4,
                        "{g} vs {e} ({b}, {cin}, {cout}, {h}, {w})"
                    );
                }
            }
        }
    }
}
