//! The iCT curriculum for the number of discretisation points N(k).

/// N(k) = min(s1, s0·2^⌊k/K'⌋) + 1 with K' = ⌊K / (log2(s1/s0) + 1)⌋.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Curriculum {
    pub s0: u64,
    pub s1: u64,
    pub total_steps: u64,
}

impl Curriculum {
    /// The reference's constants (s0 = 10, s1 = 1280) over `total_steps`.
    pub fn ict(total_steps: u64) -> Self {
        Self {
            s0: 10,
            s1: 1280,
            total_steps,
        }
    }

    /// Steps per doubling, K'.
    pub fn stage_steps(&self) -> u64 {
        let doublings = ((self.s1 as f64) / (self.s0 as f64)).log2().floor() as u64 + 1;
        (self.total_steps / doublings).max(1)
    }

    /// Number of grid points at step k.
    pub fn points(&self, k: u64) -> usize {
        let stage = (k / self.stage_steps()).min(63);
        let n = self.s0.saturating_mul(1u64 << stage).min(self.s1);
        n as usize + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_values_for_800k_steps() {
        let c = Curriculum::ict(800_000);
        assert_eq!(c.stage_steps(), 100_000);
        let seq: Vec<usize> = (0..9).map(|i| c.points(i * 100_000)).collect();
        assert_eq!(seq, vec![11, 21, 41, 81, 161, 321, 641, 1281, 1281]);
        assert_eq!(c.points(99_999), 11);
        assert_eq!(Curriculum::ict(400_000).stage_steps(), 50_000);
    }

    #[test]
    fn fixed_curriculum_of_the_fine_tuning_script() {
        let c = Curriculum {
            s0: 320,
            s1: 320,
            total_steps: 800_000,
        };
        assert!((0..10).all(|i| c.points(i * 77_777) == 321));
    }
}
