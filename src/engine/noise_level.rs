//! How noisy a photo already is, read from the photo itself: the noise level restoration
//! should treat as damage. Immerkær's Laplacian-difference estimator (it cancels smooth
//! content and edges along the axes), taken over the flattest blocks of the photo, so that
//! texture is not mistaken for grain.

use super::planar::Planar;

/// Side of the blocks the estimate is pooled over.
const BLOCK: usize = 16;
/// Share of the flattest blocks used.
const FLAT_SHARE: f64 = 0.1;
/// The flattest tenth of pure white noise's blocks reads 0.855 of its σ (measured on
/// 192×160 to 1024×768 noise images): choosing the flattest blocks picks low draws too.
const SELECTION_BIAS: f64 = 0.855;

/// Mean |L ⊛ x| over each BLOCK×BLOCK block of one channel, for the 3×3 operator
/// L = [1 −2 1; −2 4 −2; 1 −2 1].
fn block_responses(img: &Planar, c: usize) -> Vec<f64> {
    let (w, h) = (img.width, img.height);
    let at = |y: usize, x: usize| f64::from(img.at(c, y, x));
    let mut out = Vec::new();
    for by in 0..(h - 2) / BLOCK {
        for bx in 0..(w - 2) / BLOCK {
            let mut sum = 0.0;
            for y in by * BLOCK + 1..=(by + 1) * BLOCK {
                for x in bx * BLOCK + 1..=(bx + 1) * BLOCK {
                    let corners =
                        at(y - 1, x - 1) + at(y - 1, x + 1) + at(y + 1, x - 1) + at(y + 1, x + 1);
                    let sides = at(y - 1, x) + at(y + 1, x) + at(y, x - 1) + at(y, x + 1);
                    sum += (corners - 2.0 * sides + 4.0 * at(y, x)).abs();
                }
            }
            out.push(sum / (BLOCK * BLOCK) as f64);
        }
    }
    out
}

/// The standard deviation of white noise in `img` (on its [-1, 1] scale), or `None` when the
/// photo is too small to tell (under 18 pixels a side).
pub fn estimate_noise(img: &Planar) -> Option<f32> {
    if img.width < BLOCK + 2 || img.height < BLOCK + 2 {
        return None;
    }
    let mut per_channel = Vec::with_capacity(img.channels);
    for c in 0..img.channels {
        let mut blocks = block_responses(img, c);
        blocks.sort_by(f64::total_cmp);
        let n = ((blocks.len() as f64 * FLAT_SHARE).ceil() as usize).max(1);
        let flat = blocks[..n].iter().sum::<f64>() / n as f64;
        // E|L ⊛ noise| = σ·√(2/π)·√36 for white noise of std σ.
        per_channel.push(flat * (std::f64::consts::PI / 2.0).sqrt() / 6.0 / SELECTION_BIAS);
    }
    per_channel.sort_by(f64::total_cmp);
    Some(per_channel[per_channel.len() / 2] as f32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::noise::NoiseRng;

    /// A smooth picture with edges and some texture, in [-0.8, 0.8].
    fn picture(w: usize, h: usize) -> Planar {
        let mut p = Planar::zeros(3, h, w);
        for c in 0..3 {
            for y in 0..h {
                for x in 0..w {
                    let edge = if x > w / 2 { 0.4 } else { -0.2 };
                    let wave = 0.2 * ((x as f32 * 0.05 + c as f32).sin() + (y as f32 * 0.03).cos());
                    let stripes = if y > h / 2 {
                        0.15 * ((x / 3) % 2) as f32
                    } else {
                        0.0
                    };
                    p.data[(c * h + y) * w + x] = (edge + wave + stripes).clamp(-0.8, 0.8);
                }
            }
        }
        p
    }

    #[test]
    fn estimates_added_white_noise_within_fifteen_percent() {
        for sigma in [0.02f32, 0.05, 0.1, 0.2] {
            let mut p = picture(192, 160);
            p.add_scaled(&NoiseRng::new(3).normal(p.data.len()), sigma);
            let est = estimate_noise(&p).unwrap();
            assert!(
                (est / sigma - 1.0).abs() < 0.15,
                "σ {sigma}: estimated {est}"
            );
        }
    }

    #[test]
    fn a_clean_picture_reads_as_nearly_noiseless_and_tiny_ones_as_unknown() {
        let est = estimate_noise(&picture(192, 160)).unwrap();
        assert!(est < 0.01, "{est}");
        assert!(estimate_noise(&picture(17, 40)).is_none());
    }
}
