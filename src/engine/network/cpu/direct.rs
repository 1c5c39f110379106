//! 3×3 stride-1 convolution as a direct vector kernel (AVX-512, or AVX2 with FMA): each tile
//! of 4 output channels by a run of pixels of one row is accumulated in registers straight
//! from the zero-bordered input ([`super::norm_act::padded_rows`]), tap by tap, so there is
//! neither an im2col copy nor a packed copy of it, and every input row strip is read from cache
//! for all output channels. The accumulators start from the bias, time-embedding shift and
//! residual.

use super::buffer::{SharedOut, par_tasks_written};
use super::simd::{Avx2, Avx512, Lanes};

/// Output channels per tile (their weights are broadcast, one register each).
const MR: usize = 4;

/// The vector instructions a CPU has for [`conv3x3_direct`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    Avx512,
    Avx2,
}

/// Whether this CPU has `isa`.
pub fn has(isa: Isa) -> bool {
    match isa {
        Isa::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
        Isa::Avx2 => {
            std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
        }
    }
}

/// The widest of them this CPU has, if any (`BCM_CPU_KERNEL=avx2` asks for AVX2 where
/// AVX-512 is there too, to compare the two).
pub fn best() -> Option<Isa> {
    static BEST: std::sync::OnceLock<Option<Isa>> = std::sync::OnceLock::new();
    *BEST.get_or_init(|| {
        let narrow = std::env::var("BCM_CPU_KERNEL").is_ok_and(|v| v == "avx2");
        [Isa::Avx512, Isa::Avx2]
            .into_iter()
            .filter(|&isa| !(narrow && isa == Isa::Avx512))
            .find(|&isa| has(isa))
    })
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

/// As [`super::conv3x3::conv3x3_padded`] at stride 1, in `isa`, which this CPU must have
/// ([`best`], or a narrower one).
pub fn conv3x3_direct(
    isa: Isa,
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
            let (bi, y) = (task / h, task % h);
            // SAFETY: the CPU has `isa` (the caller's contract); each task writes all of output row
            // y of image bi, in every channel, and nothing else.
            unsafe {
                match isa {
                    Isa::Avx512 => rows.row_avx512(bi, y, dst),
                    Isa::Avx2 => rows.row_avx2(bi, y, dst),
                }
            }
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
    #[target_feature(enable = "avx512f")]
    unsafe fn row_avx512(&self, bi: usize, y: usize, dst: SharedOut) {
        unsafe { self.row::<Avx512>(bi, y, dst) }
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn row_avx2(&self, bi: usize, y: usize, dst: SharedOut) {
        unsafe { self.row::<Avx2>(bi, y, dst) }
    }

    /// Output row `y` of image `bi`, all channels.
    ///
    /// # Safety
    /// Inlined into a function compiled for `L`'s instructions, on a CPU that has them; the
    /// row's values of `dst` are this call's to write.
    #[inline(always)]
    unsafe fn row<L: Lanes>(&self, bi: usize, y: usize, dst: SharedOut) {
        let (h, w, cout) = (self.h, self.w, self.cout);
        let input = &self.xp[(bi * self.hp + y) * self.cin * self.wp..];
        let tile_px = L::TILE_REGS * L::N;
        for x0 in (0..w).step_by(tile_px) {
            let width = tile_px.min(w - x0);
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
                // SAFETY: the row's channels co0..co0 + valid are this call's to write; `at` and
                // the residual's `at` are within their buffers.
                unsafe {
                    let out = dst.at(at);
                    let res = self.residual.map(|r| r.as_ptr().add(at));
                    let args = (width, valid, h * w, shift, res, out);
                    match width.div_ceil(L::N) {
                        1 => tile.run::<L, 1>(args),
                        2 => tile.run::<L, 2>(args),
                        3 => tile.run::<L, 3>(args),
                        _ => tile.run::<L, 4>(args),
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

/// Where a tile writes: `width` pixels of `valid` output channels `plane` apart from `out`,
/// starting from `shift` and the residual at `res` (same layout as the output).
type TileOut = (usize, usize, usize, [f32; MR], Option<*const f32>, *mut f32);

impl Tile<'_> {
    /// # Safety
    /// As [`Rows::row`]; `width` ≤ V·N; `out` (and `res`, if any) hold `valid` channels
    /// `plane` apart of at least `width` values each; `input` holds `c_in` channels of three
    /// padded rows from the tile's first column, each at least `width + 2` wide.
    #[inline(always)]
    unsafe fn run<L: Lanes, const V: usize>(
        &self,
        (width, valid, plane, shift, res, out): TileOut,
    ) {
        unsafe {
            let mut masks = [L::mask(0); V];
            for (v, m) in masks.iter_mut().enumerate() {
                *m = L::mask(width.saturating_sub(v * L::N));
            }
            let mut acc = [[L::zero(); V]; MR];
            for (r, lane) in acc.iter_mut().enumerate() {
                for (v, a) in lane.iter_mut().enumerate() {
                    *a = L::splat(shift[r]);
                    if let Some(res) = res
                        && r < valid
                    {
                        *a = L::add(*a, L::load(res.add(r * plane + v * L::N), masks[v]));
                    }
                }
            }
            let base = self.input.as_ptr();
            for ci in 0..self.cin {
                for ky in 0..3 {
                    // Channel ci of padded row ky; lanes up to `width + 2` lie within it.
                    let src = base.add(ky * self.row + ci * self.channel);
                    let taps = &self.weights[(ci * 9 + ky * 3) * MR..][..3 * MR];
                    for kx in 0..3 {
                        let mut x = [L::zero(); V];
                        for (v, xv) in x.iter_mut().enumerate() {
                            *xv = L::load(src.add(kx + v * L::N), masks[v]);
                        }
                        for (r, lane) in acc.iter_mut().enumerate() {
                            let wv = L::splat(taps[kx * MR + r]);
                            for (a, xv) in lane.iter_mut().zip(&x) {
                                *a = L::fmadd(wv, *xv, *a);
                            }
                        }
                    }
                }
            }
            for (r, lane) in acc.iter().enumerate().take(valid) {
                for (v, a) in lane.iter().enumerate() {
                    L::store(out.add(r * plane + v * L::N), masks[v], *a);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::buffer::{Parts, pattern};
    use super::super::conv3x3::conv3x3_padded;
    use super::super::norm_act::{Activation, padded_rows};
    use super::*;

    #[test]
    fn the_direct_kernels_equal_the_banded_products() {
        // Every kernel this CPU runs, not only the one it is given.
        let isas: Vec<Isa> = [Isa::Avx512, Isa::Avx2]
            .into_iter()
            .filter(|&isa| has(isa))
            .collect();
        if isas.is_empty() {
            eprintln!("skipped: this CPU has neither AVX-512 nor AVX2");
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
            let x = pattern(b * cin * h * w, 7);
            let weight = pattern(cout * cin * 9, 5);
            let shift = pattern(b * cout, 3);
            let residual = pattern(b * cout * h * w, 11);
            let xp = padded_rows(Parts::one(&x, [b, cin, h, w]), Activation::Identity);
            let shape = [b, h + 2, cin, w + 2];
            for res in [None, Some(residual.as_slice())] {
                let want = conv3x3_padded(&xp, shape, 1, &weight, &shift, res);
                for &isa in &isas {
                    let got = conv3x3_direct(isa, &xp, shape, &weight, &shift, res);
                    assert_eq!(got.len(), want.len());
                    for (g, e) in got.iter().zip(&want) {
                        let case = (isa, b, cin, cout, h, w);
                        assert!((g - e).abs() < 1e-4, "{g} vs {e} {case:?}");
                    }
                }
            }
        }
    }
}
