//! Factor-two image pyramids: what coarse-to-fine inpainting steps down and back up through.

use super::mask::Mask;
use super::planar::Planar;

/// Half size (rounded up) by averaging each 2×2 block; a block cut by the edge averages the
/// pixels it has.
pub fn halve(img: &Planar) -> Planar {
    let (h, w) = (img.height, img.width);
    let (h2, w2) = (h.div_ceil(2), w.div_ceil(2));
    let mut out = Planar::zeros(img.channels, h2, w2);
    for c in 0..img.channels {
        let src = &img.data[c * h * w..(c + 1) * h * w];
        let dst = &mut out.data[c * h2 * w2..(c + 1) * h2 * w2];
        for y2 in 0..h2 {
            for x2 in 0..w2 {
                let (mut sum, mut count) = (0.0, 0.0);
                for y in 2 * y2..(2 * y2 + 2).min(h) {
                    for x in 2 * x2..(2 * x2 + 2).min(w) {
                        sum += src[y * w + x];
                        count += 1.0;
                    }
                }
                dst[y2 * w2 + x2] = sum / count;
            }
        }
    }
    out
}

/// Half size (rounded up) keeping each 2×2 block's largest value: a coarse pixel is
/// regenerated when any pixel under it is.
pub fn halve_mask(mask: &Mask) -> Mask {
    let (h, w) = (mask.height, mask.width);
    let (h2, w2) = (h.div_ceil(2), w.div_ceil(2));
    let mut data = vec![0.0f32; h2 * w2];
    for (i, d) in data.iter_mut().enumerate() {
        let (y2, x2) = (i / w2, i % w2);
        for y in 2 * y2..(2 * y2 + 2).min(h) {
            for x in 2 * x2..(2 * x2 + 2).min(w) {
                *d = d.max(mask.data[y * w + x]);
            }
        }
    }
    Mask {
        width: w2,
        height: h2,
        data,
    }
}

/// Bilinear resize to `height`×`width`, pixel centres aligned and edges clamped (the inverse
/// direction of [`halve`] when the sizes are twice and half).
pub fn upsample(img: &Planar, height: usize, width: usize) -> Planar {
    let (h, w) = (img.height, img.width);
    let taps = |n_out: usize, n_in: usize| -> Vec<(usize, usize, f32)> {
        (0..n_out)
            .map(|o| {
                let pos = ((o as f32 + 0.5) * n_in as f32 / n_out as f32 - 0.5)
                    .clamp(0.0, (n_in - 1) as f32);
                let i0 = pos.floor() as usize;
                let i1 = (i0 + 1).min(n_in - 1);
                (i0, i1, pos - i0 as f32)
            })
            .collect()
    };
    let (ys, xs) = (taps(height, h), taps(width, w));
    let mut out = Planar::zeros(img.channels, height, width);
    for c in 0..img.channels {
        let src = &img.data[c * h * w..(c + 1) * h * w];
        let dst = &mut out.data[c * height * width..(c + 1) * height * width];
        for (oy, &(y0, y1, fy)) in ys.iter().enumerate() {
            for (ox, &(x0, x1, fx)) in xs.iter().enumerate() {
                let top = src[y0 * w + x0] * (1.0 - fx) + src[y0 * w + x1] * fx;
                let bottom = src[y1 * w + x0] * (1.0 - fx) + src[y1 * w + x1] * fx;
                dst[oy * width + ox] = top * (1.0 - fy) + bottom * fy;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halving_averages_blocks_and_keeps_odd_edges() {
        let img = Planar::new(1, 3, 3, (0..9).map(|v| v as f32).collect()).unwrap();
        let half = halve(&img);
        assert_eq!((half.height, half.width), (2, 2));
        assert_eq!(half.data, vec![2.0, 3.5, 6.5, 8.0]);
    }

    #[test]
    fn a_mask_pixel_survives_halving() {
        let mut m = Mask::empty(5, 5);
        m.data[4 * 5 + 4] = 0.3;
        let half = halve_mask(&m);
        assert_eq!((half.height, half.width), (3, 3));
        assert_eq!(half.data[8], 0.3);
        assert_eq!(half.data.iter().filter(|&&v| v > 0.0).count(), 1);
    }

    #[test]
    fn upsampling_keeps_a_constant_and_a_linear_ramp() {
        let flat = Planar::new(2, 4, 3, vec![0.25; 24]).unwrap();
        assert!(
            upsample(&flat, 8, 6)
                .data
                .iter()
                .all(|&v| (v - 0.25).abs() < 1e-6)
        );
        // A ramp sampled at pixel centres stays a ramp away from the clamped edges.
        let ramp = Planar::new(1, 1, 8, (0..8).map(|x| x as f32).collect()).unwrap();
        let up = upsample(&ramp, 1, 16);
        for x in 1..15 {
            let expected = (x as f32 + 0.5) / 2.0 - 0.5;
            assert!((up.data[x] - expected).abs() < 1e-5, "{x}: {}", up.data[x]);
        }
    }
}
