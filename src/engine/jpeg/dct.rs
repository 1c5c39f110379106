//! The 8×8 DCT JPEG codes blocks with (orthonormal DCT-II), on f32 blocks in row-major order.

/// Precomputed basis: `BASIS[u][x] = c(u)/2 · cos((2x+1)uπ/16)`.
pub struct Dct8 {
    basis: [[f32; 8]; 8],
}

impl Default for Dct8 {
    fn default() -> Self {
        let mut basis = [[0.0; 8]; 8];
        for (u, row) in basis.iter_mut().enumerate() {
            let c = if u == 0 { (0.5f64).sqrt() } else { 1.0 };
            for (x, b) in row.iter_mut().enumerate() {
                let angle = (2 * x + 1) as f64 * u as f64 * std::f64::consts::PI / 16.0;
                *b = (c / 2.0 * angle.cos()) as f32;
            }
        }
        Self { basis }
    }
}

impl Dct8 {
    /// Coefficients of a block of samples (rows y, columns x → rows v, columns u).
    pub fn forward(&self, block: &[f32; 64]) -> [f32; 64] {
        self.separable(block, false)
    }

    /// Samples of a block of coefficients.
    pub fn inverse(&self, coeffs: &[f32; 64]) -> [f32; 64] {
        self.separable(coeffs, true)
    }

    /// Rows then columns; the inverse uses the transposed basis.
    fn separable(&self, input: &[f32; 64], inverse: bool) -> [f32; 64] {
        let m = |a: usize, b: usize| {
            if inverse {
                self.basis[b][a]
            } else {
                self.basis[a][b]
            }
        };
        let mut rows = [0.0f32; 64];
        for y in 0..8 {
            for u in 0..8 {
                rows[y * 8 + u] = (0..8).map(|x| m(u, x) * input[y * 8 + x]).sum();
            }
        }
        let mut out = [0.0f32; 64];
        for v in 0..8 {
            for u in 0..8 {
                out[v * 8 + u] = (0..8).map(|y| m(v, y) * rows[y * 8 + u]).sum();
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_block_has_only_a_dc_term_of_eight_times_its_value() {
        let dct = Dct8::default();
        let c = dct.forward(&[3.0; 64]);
        assert!((c[0] - 24.0).abs() < 1e-4, "{}", c[0]);
        assert!(c[1..].iter().all(|v| v.abs() < 1e-4));
    }

    #[test]
    fn inverse_undoes_forward_and_energy_is_kept() {
        let dct = Dct8::default();
        let block: [f32; 64] = std::array::from_fn(|i| ((i * 37 % 64) as f32 - 30.0) * 0.7);
        let c = dct.forward(&block);
        let back = dct.inverse(&c);
        for (a, b) in block.iter().zip(&back) {
            assert!((a - b).abs() < 1e-3);
        }
        let energy = |v: &[f32; 64]| v.iter().map(|x| x * x).sum::<f32>();
        assert!((energy(&block) - energy(&c)).abs() < 1e-2 * energy(&block));
    }

    #[test]
    fn a_horizontal_cosine_lands_in_one_coefficient() {
        let dct = Dct8::default();
        let block: [f32; 64] = std::array::from_fn(|i| {
            let x = i % 8;
            ((2 * x + 1) as f32 * 3.0 * std::f32::consts::PI / 16.0).cos()
        });
        let c = dct.forward(&block);
        // Row frequency 0 (v = 0), column frequency 3 (u = 3): 8 rows × 4 / (4·√2).
        assert!((c[3] - 4.0 * 2f32.sqrt()).abs() < 1e-3, "{}", c[3]);
        let rest: f32 = c
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 3)
            .map(|(_, v)| v.abs())
            .sum();
        assert!(rest < 1e-3);
    }
}
