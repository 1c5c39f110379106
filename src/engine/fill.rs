//! Harmonic (membrane) fill of a hole from its border: the smooth surface that "diffusion
//! fill" tools paint. Solved coarse to fine, so large holes converge in a few sweeps per level
//! instead of the thousands plain Jacobi iterations would need.

use super::planar::Planar;

/// Relaxation sweeps per pyramid level.
const SWEEPS: usize = 60;

/// `image` with every pixel where `hole` > 0 replaced by the harmonic interpolation of the
/// pixels around it. Pixels outside the hole are returned unchanged. With no known pixel at
/// all, the hole is filled with mid-grey (0).
pub fn harmonic_fill(image: &Planar, hole: &[f32]) -> Planar {
    let known: Vec<bool> = hole.iter().map(|&h| h <= 0.0).collect();
    let mut out = image.clone();
    let n = image.pixels();
    for c in 0..image.channels {
        let plane = &image.data[c * n..(c + 1) * n];
        let filled = solve(plane, &known, image.width, image.height);
        out.data[c * n..(c + 1) * n].copy_from_slice(&filled);
    }
    out
}

/// One channel: known pixels fixed, the rest harmonic.
fn solve(plane: &[f32], known: &[bool], w: usize, h: usize) -> Vec<f32> {
    if known.iter().all(|&k| k) {
        return plane.to_vec();
    }
    if !known.iter().any(|&k| k) {
        return vec![0.0; plane.len()];
    }
    // Initial guess from the half-size problem (known where any of the 2×2 block is known).
    let mut x = if w > 2 && h > 2 {
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let mut coarse = vec![0.0f32; cw * ch];
        let mut coarse_known = vec![false; cw * ch];
        for cy in 0..ch {
            for cx in 0..cw {
                let (mut sum, mut count) = (0.0, 0);
                for (y, x) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    let (y, x) = (2 * cy + y, 2 * cx + x);
                    if y < h && x < w && known[y * w + x] {
                        sum += plane[y * w + x];
                        count += 1;
                    }
                }
                if count > 0 {
                    coarse[cy * cw + cx] = sum / count as f32;
                    coarse_known[cy * cw + cx] = true;
                }
            }
        }
        let coarse = solve(&coarse, &coarse_known, cw, ch);
        (0..w * h)
            .map(|i| {
                if known[i] {
                    plane[i]
                } else {
                    coarse[(i / w / 2) * cw + (i % w) / 2]
                }
            })
            .collect()
    } else {
        plane
            .iter()
            .zip(known)
            .map(|(&v, &k)| if k { v } else { 0.0 })
            .collect::<Vec<f32>>()
    };
    let unknown: Vec<usize> = (0..w * h).filter(|&i| !known[i]).collect();
    for _ in 0..SWEEPS {
        // Gauss–Seidel in place: converges about twice as fast as Jacobi.
        for &i in &unknown {
            let (y, xx) = (i / w, i % w);
            let (mut sum, mut count) = (0.0, 0.0);
            if y > 0 {
                sum += x[i - w];
                count += 1.0;
            }
            if y + 1 < h {
                sum += x[i + w];
                count += 1.0;
            }
            if xx > 0 {
                sum += x[i - 1];
                count += 1.0;
            }
            if xx + 1 < w {
                sum += x[i + 1];
                count += 1.0;
            }
            x[i] = sum / count;
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(w: usize, h: usize) -> Planar {
        let data = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x as f32 - y as f32) / (w + h) as f32))
            .collect();
        Planar {
            channels: 1,
            height: h,
            width: w,
            data,
        }
    }

    fn square_hole(w: usize, h: usize, side: usize) -> Vec<f32> {
        let (y0, x0) = ((h - side) / 2, (w - side) / 2);
        (0..w * h)
            .map(|i| {
                let (y, x) = (i / w, i % w);
                if (y0..y0 + side).contains(&y) && (x0..x0 + side).contains(&x) {
                    1.0
                } else {
                    0.0
                }
            })
            .collect()
    }

    #[test]
    fn a_linear_ramp_is_recovered_inside_a_large_hole() {
        // A plane is harmonic, so the fill must reproduce it; a 100-pixel hole would need
        // thousands of plain Jacobi sweeps, the pyramid needs its few per level.
        let img = ramp(160, 140);
        let hole = square_hole(160, 140, 100);
        let mut damaged = img.clone();
        for (v, &m) in damaged.data.iter_mut().zip(&hole) {
            if m > 0.0 {
                *v = 0.9;
            }
        }
        let out = harmonic_fill(&damaged, &hole);
        let worst = out
            .data
            .iter()
            .zip(&img.data)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 0.01, "largest error {worst}");
    }

    #[test]
    fn a_feathered_hole_in_a_flat_field_is_filled_with_the_field() {
        // The inpainting path hands over the grown and feathered mask: its soft edge is part
        // of the hole, and the fill must still come from the colour around it, not drift.
        let (w, h) = (96, 80);
        let mut img = Planar::zeros(1, h, w);
        img.data.fill(0.6);
        let mut hole = crate::engine::mask::Mask::empty(w, h);
        for y in 20..60 {
            for x in 30..70 {
                hole.data[y * w + x] = 1.0;
                img.data[y * w + x] = -0.9;
            }
        }
        let soft = hole.grow(4).feather(8);
        let out = harmonic_fill(&img, &soft.data);
        let worst = out
            .data
            .iter()
            .map(|v| (v - 0.6).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-3, "largest error {worst}");
    }

    #[test]
    fn known_pixels_are_kept_and_an_all_hole_image_is_grey() {
        let img = ramp(20, 10);
        let hole = square_hole(20, 10, 4);
        let out = harmonic_fill(&img, &hole);
        for ((o, i), h) in out.data.iter().zip(&img.data).zip(&hole) {
            if *h <= 0.0 {
                assert_eq!(o, i);
            }
        }
        let all = harmonic_fill(&img, &vec![1.0; 200]);
        assert!(all.data.iter().all(|&v| v == 0.0));
    }
}
