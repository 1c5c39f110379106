//! Image quality measures on [-1, 1] images, reported on the [0, 1] scale.

use crate::engine::mask::Mask;
use crate::engine::planar::Planar;

/// PSNR of two [-1, 1] images in dB (on the [0, 1] scale).
pub fn psnr(a: &Planar, b: &Planar) -> f64 {
    let mse = a.mse(b) / 4.0;
    if mse <= 0.0 {
        99.0
    } else {
        (-10.0 * mse.log10()).min(99.0)
    }
}

/// Mean SSIM over channels with 8×8 windows (stride 4), on the [0, 1] scale.
pub fn ssim(a: &Planar, b: &Planar) -> f64 {
    let (c1, c2) = (0.01f64.powi(2), 0.03f64.powi(2));
    let (w, h) = (a.width, a.height);
    let win = 8.min(w).min(h);
    let mut total = 0.0;
    let mut count = 0.0;
    for c in 0..a.channels {
        let mut y = 0;
        while y + win <= h {
            let mut x = 0;
            while x + win <= w {
                let (mut ma, mut mb, mut va, mut vb, mut cov) = (0.0, 0.0, 0.0, 0.0, 0.0);
                let n = (win * win) as f64;
                for dy in 0..win {
                    for dx in 0..win {
                        let pa = f64::from(a.at(c, y + dy, x + dx) + 1.0) / 2.0;
                        let pb = f64::from(b.at(c, y + dy, x + dx) + 1.0) / 2.0;
                        ma += pa;
                        mb += pb;
                        va += pa * pa;
                        vb += pb * pb;
                        cov += pa * pb;
                    }
                }
                let (ma, mb) = (ma / n, mb / n);
                let (va, vb, cov) = (va / n - ma * ma, vb / n - mb * mb, cov / n - ma * mb);
                total += ((2.0 * ma * mb + c1) * (2.0 * cov + c2))
                    / ((ma * ma + mb * mb + c1) * (va + vb + c2));
                count += 1.0;
                x += 4;
            }
            y += 4;
        }
    }
    if count == 0.0 { 1.0 } else { total / count }
}

/// PSNR inside the hole only.
pub fn hole_psnr(a: &Planar, b: &Planar, hole: &Mask) -> f64 {
    let n = a.pixels();
    let (mut se, mut count) = (0.0, 0.0);
    for c in 0..a.channels {
        for i in 0..n {
            if hole.data[i] > 0.0 {
                se += (f64::from(a.data[c * n + i] - b.data[c * n + i]) / 2.0).powi(2);
                count += 1.0;
            }
        }
    }
    if count == 0.0 || se == 0.0 {
        99.0
    } else {
        -10.0 * (se / count).log10()
    }
}
