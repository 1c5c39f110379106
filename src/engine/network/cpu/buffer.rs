//! Output buffers and inputs of the CPU kernels: buffers written in full by parallel tasks
//! (never zeroed first: the allocator would clear them on the calling thread while the other
//! cores wait), and an NCHW image given as channel parts that were never concatenated.

use std::mem::MaybeUninit;

use rayon::prelude::*;

/// `len` values written by `write` on the worker threads, one call per chunk of `chunk`
/// values (the last may be shorter) with the chunk's index. `write` must write every value of
/// its chunk.
pub fn par_chunks_written(
    len: usize,
    chunk: usize,
    write: impl Fn(usize, &mut [MaybeUninit<f32>]) + Sync + Send,
) -> Vec<f32> {
    par_chunks_written_with(len, chunk, || (), |_, i, c| write(i, c))
}

/// [`par_chunks_written`] with a scratch value per worker, made by `scratch`.
pub fn par_chunks_written_with<S>(
    len: usize,
    chunk: usize,
    scratch: impl Fn() -> S + Sync + Send,
    write: impl Fn(&mut S, usize, &mut [MaybeUninit<f32>]) + Sync + Send,
) -> Vec<f32> {
    let mut out = Vec::with_capacity(len);
    out.spare_capacity_mut()[..len]
        .par_chunks_mut(chunk.max(1))
        .enumerate()
        .for_each_init(scratch, |s, (i, c)| write(s, i, c));
    // SAFETY: `write` wrote every value of every chunk (its contract), and the chunks cover
    // the first `len` values.
    unsafe { out.set_len(len) };
    out
}

/// Copy `src` into `dst` (same length).
#[inline(always)]
pub fn write_copy(dst: &mut [MaybeUninit<f32>], src: &[f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        d.write(*s);
    }
}

/// Set every value of `dst` to `v`.
#[inline(always)]
pub fn write_fill(dst: &mut [MaybeUninit<f32>], v: f32) {
    for d in dst {
        d.write(v);
    }
}

/// An NCHW batch `[b, c, h, w]` whose channels are the channels of its parts in order (a
/// decoder block's input: the upsampled features, then the encoder's skip), read in place.
#[derive(Clone, Copy)]
pub struct Parts<'a> {
    parts: [(&'a [f32], usize); 2],
    count: usize,
    pub b: usize,
    pub h: usize,
    pub w: usize,
}

impl<'a> Parts<'a> {
    /// One image batch `[b, c, h, w]`.
    pub fn one(x: &'a [f32], [b, c, h, w]: [usize; 4]) -> Self {
        Self {
            parts: [(x, c), (&[], 0)],
            count: 1,
            b,
            h,
            w,
        }
    }

    /// `first` (`c1` channels) followed by `second` (`c2`), both `[b, _, h, w]`.
    pub fn two(
        first: &'a [f32],
        c1: usize,
        second: &'a [f32],
        c2: usize,
        [b, h, w]: [usize; 3],
    ) -> Self {
        Self {
            parts: [(first, c1), (second, c2)],
            count: 2,
            b,
            h,
            w,
        }
    }

    /// All channels.
    pub fn channels(&self) -> usize {
        self.parts[..self.count].iter().map(|p| p.1).sum()
    }

    /// The parts: each image batch and its channel count.
    pub fn list(&self) -> &[(&'a [f32], usize)] {
        &self.parts[..self.count]
    }

    /// Channel `ch` of image `bi`: its whole plane (`h·w` values).
    #[inline(always)]
    pub fn plane(&self, bi: usize, ch: usize) -> &'a [f32] {
        let n = self.h * self.w;
        let (first, c1) = self.parts[0];
        let (data, c, k) = if ch < c1 {
            (first, c1, ch)
        } else {
            (self.parts[1].0, self.parts[1].1, ch - c1)
        };
        &data[(bi * c + k) * n..(bi * c + k + 1) * n]
    }
}

/// `len` values written by `tasks` calls of `write` on the worker threads, each given its
/// worker's scratch (made by `scratch`), the task's number and the buffer's start. Together the
/// tasks must write every value, each its own values.
pub fn par_tasks_written<S>(
    len: usize,
    tasks: usize,
    scratch: impl Fn() -> S + Sync + Send,
    write: impl Fn(&mut S, usize, SharedOut) + Sync + Send,
) -> Vec<f32> {
    let mut out: Vec<f32> = Vec::with_capacity(len);
    let dst = SharedOut(out.as_mut_ptr());
    (0..tasks)
        .into_par_iter()
        .for_each_init(scratch, |s, task| write(s, task, dst));
    // SAFETY: the tasks wrote every one of the `len` values (the contract of `write`).
    unsafe { out.set_len(len) };
    out
}

/// A buffer's base pointer, shared by the tasks that write disjoint parts of it.
#[derive(Clone, Copy)]
pub struct SharedOut(*mut f32);

// SAFETY: only used for disjoint writes (the contract of `par_tasks_written`).
unsafe impl Send for SharedOut {}
unsafe impl Sync for SharedOut {}

impl SharedOut {
    /// # Safety
    /// `offset` is within the buffer.
    pub unsafe fn at(self, offset: usize) -> *mut f32 {
        unsafe { self.0.add(offset) }
    }
}

/// `dst += lhs · rhs` for row-major matrices of `[m, k]` and `[k, n]` into `[m, n]`, each row
/// `*_rs` values after the last, on the calling thread (the kernels parallelise around it).
///
/// # Safety
/// Each pointer holds its matrix at its row stride.
#[allow(clippy::too_many_arguments)]
pub unsafe fn add_product(
    [m, n, k]: [usize; 3],
    dst: *mut f32,
    dst_rs: usize,
    lhs: *const f32,
    lhs_rs: usize,
    rhs: *const f32,
    rhs_rs: usize,
) {
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            dst_rs as isize,
            true,
            lhs,
            1,
            lhs_rs as isize,
            rhs,
            1,
            rhs_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

/// A repeatable pattern of `len` values in [-1, 1) (test inputs that are not all alike).
#[cfg(test)]
pub fn pattern(len: usize, step: u32) -> Vec<f32> {
    (0..len)
        .map(|i| ((i as u32).wrapping_mul(step) % 17) as f32 / 8.0 - 1.0)
        .collect()
}
