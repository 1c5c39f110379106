//! The network's rearrangements of pixels, as single parallel passes (burn's reshape,
//! permute and expand make them strided copies on one thread).

use super::buffer::{par_chunks_written, write_copy};

/// Nearest-neighbour 2× upsampling of NCHW `[b, c, h, w]`.
pub fn upsample2(x: &[f32], [b, c, h, w]: [usize; 4]) -> Vec<f32> {
    // One output row a task: each input value twice, from input row y / 2.
    par_chunks_written(b * c * 4 * h * w, 2 * w, |row, dst| {
        let (plane, y) = (row / (2 * h), row % (2 * h));
        let src = &x[(plane * h + y / 2) * w..][..w];
        for (pair, &v) in dst.chunks_exact_mut(2).zip(src) {
            pair[0].write(v);
            pair[1].write(v);
        }
    })
}

/// `[b, c, h, w]` → `[b, c·s², h/s, w/s]` (pixel unshuffle): output channel c·s² + dy·s + dx
/// holds the pixels at (s·y + dy, s·x + dx).
pub fn space_to_depth(x: &[f32], [b, c, h, w]: [usize; 4], s: usize) -> Vec<f32> {
    let (ho, wo) = (h / s, w / s);
    par_chunks_written(b * c * s * s * ho * wo, wo, |row, dst| {
        let (plane, y) = (row / ho, row % ho);
        let (img_ch, sub) = (plane / (s * s), plane % (s * s));
        let (dy, dx) = (sub / s, sub % s);
        let src = &x[(img_ch * h + y * s + dy) * w..][..w];
        for (d, v) in dst.iter_mut().zip(src.iter().skip(dx).step_by(s)) {
            d.write(*v);
        }
    })
}

/// Inverse of [`space_to_depth`] (pixel shuffle): `[b, c·s², h, w]` → `[b, c, h·s, w·s]`.
pub fn depth_to_space(x: &[f32], [b, cs, h, w]: [usize; 4], s: usize) -> Vec<f32> {
    let c = cs / (s * s);
    let wo = w * s;
    par_chunks_written(b * c * h * s * wo, wo, |row, dst| {
        let (img_ch, yo) = (row / (h * s), row % (h * s));
        let (y, dy) = (yo / s, yo % s);
        if s == 1 {
            write_copy(dst, &x[(img_ch * h + y) * w..][..w]);
            return;
        }
        for dx in 0..s {
            let plane = img_ch * s * s + dy * s + dx;
            let src = &x[(plane * h + y) * w..][..w];
            for (d, v) in dst.iter_mut().skip(dx).step_by(s).zip(src) {
                d.write(*v);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rearrangements_move_each_pixel_where_its_definition_says() {
        let (b, c, h, w, s) = (2, 3, 4, 6, 2);
        let x: Vec<f32> = (0..b * c * h * w).map(|i| i as f32).collect();
        let at = |bi: usize, ch: usize, y: usize, xx: usize| x[((bi * c + ch) * h + y) * w + xx];
        let up = upsample2(&x, [b, c, h, w]);
        let d = space_to_depth(&x, [b, c, h, w], s);
        for bi in 0..b {
            for ch in 0..c {
                for y in 0..2 * h {
                    for xx in 0..2 * w {
                        let got = up[((bi * c + ch) * 2 * h + y) * 2 * w + xx];
                        assert_eq!(got, at(bi, ch, y / 2, xx / 2));
                    }
                }
                for y in 0..h / s {
                    for xx in 0..w / s {
                        for dy in 0..s {
                            for dx in 0..s {
                                let oc = ch * s * s + dy * s + dx;
                                let got = d[((bi * c * s * s + oc) * (h / s) + y) * (w / s) + xx];
                                assert_eq!(got, at(bi, ch, y * s + dy, xx * s + dx));
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(depth_to_space(&d, [b, c * s * s, h / s, w / s], s), x);
    }
}
