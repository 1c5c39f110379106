//! The vector instructions the direct convolution is written in, for AVX-512 and for AVX2 with
//! FMA: registers of 16 or 8 floats, masked loads and stores for a row's last pixels.

use std::arch::x86_64::{
    __m256, __m256i, __m512, __mmask16, _mm256_add_ps, _mm256_fmadd_ps, _mm256_loadu_ps,
    _mm256_maskload_ps, _mm256_maskstore_ps, _mm256_set1_ps, _mm256_setr_epi32, _mm256_setzero_ps,
    _mm256_storeu_ps, _mm512_add_ps, _mm512_fmadd_ps, _mm512_mask_storeu_ps, _mm512_maskz_loadu_ps,
    _mm512_set1_ps, _mm512_setzero_ps,
};

/// One instruction set's registers and the operations the kernel uses. Every function must be
/// inlined into a function compiled with the set's target features, on a CPU that has them.
pub trait Lanes {
    type V: Copy;
    /// Which lanes of a register hold pixels.
    type M: Copy;
    /// Floats per register.
    const N: usize;
    /// Registers of pixels per tile: with four output channels, 4·`TILE_REGS` accumulators
    /// plus the inputs and a broadcast fit the register file.
    const TILE_REGS: usize;

    /// The first `lanes` (≤ N) lanes.
    unsafe fn mask(lanes: usize) -> Self::M;
    unsafe fn zero() -> Self::V;
    unsafe fn splat(v: f32) -> Self::V;
    /// The masked lanes from `ptr` (others zero); lanes outside the mask are not read.
    unsafe fn load(ptr: *const f32, m: Self::M) -> Self::V;
    /// The masked lanes to `ptr`; lanes outside the mask are not written.
    unsafe fn store(ptr: *mut f32, m: Self::M, v: Self::V);
    /// a·b + c.
    unsafe fn fmadd(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
}

pub struct Avx512;

impl Lanes for Avx512 {
    type V = __m512;
    type M = __mmask16;
    const N: usize = 16;
    const TILE_REGS: usize = 4;

    #[inline(always)]
    unsafe fn mask(lanes: usize) -> __mmask16 {
        ((1u32 << lanes.min(16)) - 1) as __mmask16
    }
    #[inline(always)]
    unsafe fn zero() -> __m512 {
        unsafe { _mm512_setzero_ps() }
    }
    #[inline(always)]
    unsafe fn splat(v: f32) -> __m512 {
        unsafe { _mm512_set1_ps(v) }
    }
    #[inline(always)]
    unsafe fn load(ptr: *const f32, m: __mmask16) -> __m512 {
        unsafe { _mm512_maskz_loadu_ps(m, ptr) }
    }
    #[inline(always)]
    unsafe fn store(ptr: *mut f32, m: __mmask16, v: __m512) {
        unsafe { _mm512_mask_storeu_ps(ptr, m, v) }
    }
    #[inline(always)]
    unsafe fn fmadd(a: __m512, b: __m512, c: __m512) -> __m512 {
        unsafe { _mm512_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn add(a: __m512, b: __m512) -> __m512 {
        unsafe { _mm512_add_ps(a, b) }
    }
}

pub struct Avx2;

/// A lane mask of AVX2 (sign bits), and whether it is all lanes (plain loads and stores then,
/// which are faster than masked ones on some CPUs).
#[derive(Clone, Copy)]
pub struct Mask8 {
    bits: __m256i,
    full: bool,
}

impl Lanes for Avx2 {
    type V = __m256;
    type M = Mask8;
    const N: usize = 8;
    const TILE_REGS: usize = 2;

    #[inline(always)]
    unsafe fn mask(lanes: usize) -> Mask8 {
        let on = |i: i32| if (i as usize) < lanes { -1 } else { 0 };
        Mask8 {
            bits: unsafe {
                _mm256_setr_epi32(on(0), on(1), on(2), on(3), on(4), on(5), on(6), on(7))
            },
            full: lanes >= 8,
        }
    }
    #[inline(always)]
    unsafe fn zero() -> __m256 {
        unsafe { _mm256_setzero_ps() }
    }
    #[inline(always)]
    unsafe fn splat(v: f32) -> __m256 {
        unsafe { _mm256_set1_ps(v) }
    }
    #[inline(always)]
    unsafe fn load(ptr: *const f32, m: Mask8) -> __m256 {
        unsafe {
            if m.full {
                _mm256_loadu_ps(ptr)
            } else {
                _mm256_maskload_ps(ptr, m.bits)
            }
        }
    }
    #[inline(always)]
    unsafe fn store(ptr: *mut f32, m: Mask8, v: __m256) {
        unsafe {
            if m.full {
                _mm256_storeu_ps(ptr, v)
            } else {
                _mm256_maskstore_ps(ptr, m.bits, v)
            }
        }
    }
    #[inline(always)]
    unsafe fn fmadd(a: __m256, b: __m256, c: __m256) -> __m256 {
        unsafe { _mm256_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn add(a: __m256, b: __m256) -> __m256 {
        unsafe { _mm256_add_ps(a, b) }
    }
}
