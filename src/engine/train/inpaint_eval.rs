//! The inpainting measurements of `eval`: three kinds of holes in held-out crops, each filled
//! by the BCM and by the classical (harmonic) fill, scored by in-hole PSNR and colour shift.

use std::path::PathBuf;

use image::DynamicImage;

use super::data::{PhotoCache, area_downscale};
use super::error::TrainError;
use super::metrics::hole_psnr;
use crate::engine::fill::harmonic_fill;
use crate::engine::mask::Mask;
use crate::engine::model::Bcm;
use crate::engine::noise::NoiseRng;
use crate::engine::planar::Planar;
use crate::engine::sampler::Tiling;
use crate::engine::tasks::{self, InpaintParams};

/// Side of the square crops holes are cut into.
pub const CROP: usize = 256;

/// The holes a user paints most: small boxes, larger boxes, free brush strokes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoleKind {
    /// Four 32×32 boxes.
    Box32,
    /// One 64×64 box.
    Box64,
    /// Brush strokes covering about 10 % of the crop.
    Strokes,
}

impl HoleKind {
    pub const ALL: [HoleKind; 3] = [HoleKind::Box32, HoleKind::Box64, HoleKind::Strokes];

    pub fn describe(self) -> &'static str {
        match self {
            HoleKind::Box32 => "four 32×32 boxes",
            HoleKind::Box64 => "one 64×64 box",
            HoleKind::Strokes => "brush strokes, ~10 % of the crop",
        }
    }

    /// The hole for crop number `k` (the same for every method).
    pub fn mask(self, w: usize, h: usize, k: usize) -> Mask {
        let mut rng = NoiseRng::new(0x1a9a_1000 + k as u64 * 31 + self as u64);
        match self {
            HoleKind::Box32 => boxes(w, h, 32, 4, &mut rng),
            HoleKind::Box64 => boxes(w, h, 64, 1, &mut rng),
            HoleKind::Strokes => strokes(w, h, 0.10, w.min(h), &mut rng),
        }
    }
}

/// `count` boxes of `side`, apart from each other and from the crop's edge by `side / 2`.
pub(super) fn boxes(w: usize, h: usize, side: usize, count: usize, rng: &mut NoiseRng) -> Mask {
    let margin = side / 2;
    let mut placed: Vec<(usize, usize)> = Vec::new();
    let span = |n: usize| n.saturating_sub(side + 2 * margin).max(1);
    for _ in 0..1000 {
        if placed.len() == count {
            break;
        }
        let y = margin + (rng.uniform() * span(h) as f64) as usize;
        let x = margin + (rng.uniform() * span(w) as f64) as usize;
        let apart = placed
            .iter()
            .all(|&(py, px)| py.abs_diff(y) >= side + margin || px.abs_diff(x) >= side + margin);
        if apart {
            placed.push((y, x));
        }
    }
    let mut m = Mask::empty(w, h);
    for (y0, x0) in placed {
        for y in y0..(y0 + side).min(h) {
            for x in x0..(x0 + side).min(w) {
                m.data[y * w + x] = 1.0;
            }
        }
    }
    m
}

/// Random brush strokes (discs stamped along wandering lines) until `coverage` is reached;
/// the brush is 3-7 % of `brush_side` across.
pub(super) fn strokes(
    w: usize,
    h: usize,
    coverage: f64,
    brush_side: usize,
    rng: &mut NoiseRng,
) -> Mask {
    let mut m = Mask::empty(w, h);
    let target = (coverage * (w * h) as f64) as usize;
    let side = w.min(h) as f64;
    let brush = brush_side as f64;
    let mut covered = 0;
    for _ in 0..100 {
        if covered >= target {
            break;
        }
        let radius = brush * (0.015 + 0.02 * rng.uniform());
        let (mut y, mut x) = (
            side * 0.15 + rng.uniform() * (h as f64 - side * 0.3),
            side * 0.15 + rng.uniform() * (w as f64 - side * 0.3),
        );
        let mut angle = rng.uniform() * std::f64::consts::TAU;
        for _ in 0..(8 + (rng.uniform() * 16.0) as usize) {
            angle += (rng.uniform() - 0.5) * 1.2;
            for _ in 0..(radius as usize).max(1) {
                y = (y + angle.sin()).clamp(radius, h as f64 - radius);
                x = (x + angle.cos()).clamp(radius, w as f64 - radius);
                covered += stamp(&mut m, y, x, radius);
                if covered >= target {
                    return m;
                }
            }
        }
    }
    m
}

/// Set a disc to 1; returns how many pixels were newly set.
pub(super) fn stamp(m: &mut Mask, cy: f64, cx: f64, r: f64) -> usize {
    let mut new = 0;
    let (y0, y1) = ((cy - r).floor().max(0.0) as usize, (cy + r).ceil() as usize);
    let (x0, x1) = ((cx - r).floor().max(0.0) as usize, (cx + r).ceil() as usize);
    for y in y0..y1.min(m.height) {
        for x in x0..x1.min(m.width) {
            let (dy, dx) = (y as f64 + 0.5 - cy, x as f64 + 0.5 - cx);
            if dy * dy + dx * dx <= r * r && m.data[y * m.width + x] == 0.0 {
                m.data[y * m.width + x] = 1.0;
                new += 1;
            }
        }
    }
    new
}

/// Width of the ring of surroundings the fill's colour is compared with.
pub const RING: usize = 6;

/// Colour shift on the 0-255 scale: for each part of the hole, the distance between the mean
/// colour of `filled` inside it and the mean colour of `photo` in a ring just outside it,
/// averaged over the parts. A fill that matches its surroundings' tone scores low; a grey or
/// brown blob in a green field scores high.
pub fn colour_shift(filled: &Planar, photo: &Planar, hole: &Mask) -> f64 {
    let n = photo.pixels();
    let mut total = 0.0;
    let list = hole.parts();
    for part in &list {
        let mut one = Mask::empty(hole.width, hole.height);
        for &i in part {
            one.data[i] = 1.0;
        }
        let grown = one.grow(RING);
        let ring: Vec<usize> = (0..n)
            .filter(|&i| grown.data[i] > 0.0 && hole.data[i] <= 0.0)
            .collect();
        if ring.is_empty() {
            continue;
        }
        let mean = |img: &Planar, idx: &[usize], c: usize| {
            idx.iter()
                .map(|&i| f64::from(img.data[c * n + i]))
                .sum::<f64>()
                / idx.len() as f64
        };
        let d2: f64 = (0..photo.channels)
            .map(|c| (mean(filled, part, c) - mean(photo, &ring, c)).powi(2))
            .sum();
        // [-1, 1] → 0-255.
        total += d2.sqrt() * 127.5;
    }
    total / list.len().max(1) as f64
}

/// Centre crops of `side`² from each readable photo; photos of at least four times that on
/// their short side are area-downscaled by 2 first (as training's crops are), smaller ones are
/// used as they are.
pub fn crops(files: &[PathBuf], max: usize, side: usize) -> Result<Vec<Planar>, TrainError> {
    let cache = PhotoCache::default();
    let mut out = Vec::new();
    for path in files {
        if out.len() == max {
            break;
        }
        let Some(img) = cache.get_or_skip(path, 1)? else {
            continue;
        };
        let small = img.width().min(img.height()) as usize;
        let img = if small >= 4 * side {
            area_downscale(&img, 2)
        } else {
            (*img).clone()
        };
        let (w, h) = (img.width() as usize, img.height() as usize);
        if w < side || h < side {
            continue;
        }
        let crop = image::imageops::crop_imm(
            &img,
            ((w - side) / 2) as u32,
            ((h - side) / 2) as u32,
            side as u32,
            side as u32,
        )
        .to_image();
        out.push(crate::photo::planar_from_image(&DynamicImage::ImageRgb8(
            crop,
        )));
    }
    if out.is_empty() {
        return Err(TrainError::Data(format!(
            "no photo is at least {side}x{side} pixels"
        )));
    }
    Ok(out)
}

/// Mean in-hole PSNR (dB) and colour shift over crops.
#[derive(Debug, Clone, Copy, Default)]
pub struct HoleScore {
    pub psnr: f64,
    pub shift: f64,
}

/// Scores of one kind of hole: (the photo itself's colour shift, the harmonic fill, the BCM
/// with `p`) and the BCM's NFE on the last crop. `model` and `filler` as for
/// [`tasks::inpaint`].
pub fn score(
    model: &Bcm,
    filler: Option<&Bcm>,
    crops: &[Planar],
    kind: HoleKind,
    p: &InpaintParams,
) -> crate::engine::Result<(f64, HoleScore, HoleScore, usize)> {
    let whole = Tiling {
        max_pixels: usize::MAX,
        tile: 4096,
    };
    let (mut truth, mut classical, mut bcm, mut nfe) =
        (0.0, HoleScore::default(), HoleScore::default(), 0);
    for (k, img) in crops.iter().enumerate() {
        let hole = kind.mask(img.width, img.height, k);
        let fill = harmonic_fill(img, &hole.data);
        let out = tasks::inpaint(model, filler, img, &hole, p, &whole, &mut ())?;
        nfe = out.nfe;
        // What the user sees: the result composited with its soft mask.
        let shown = out.composited(img);
        truth += colour_shift(img, img, &hole);
        classical.psnr += hole_psnr(&fill, img, &hole);
        classical.shift += colour_shift(&fill, img, &hole);
        bcm.psnr += hole_psnr(&shown, img, &hole);
        bcm.shift += colour_shift(&shown, img, &hole);
    }
    let n = crops.len().max(1) as f64;
    let mean = |s: HoleScore| HoleScore {
        psnr: s.psnr / n,
        shift: s.shift / n,
    };
    Ok((truth / n, mean(classical), mean(bcm), nfe))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holes_are_what_their_names_say() {
        for k in 0..5 {
            let b = HoleKind::Box32.mask(256, 256, k);
            assert_eq!(b.data.iter().filter(|&&v| v > 0.0).count(), 4 * 32 * 32);
            assert_eq!(b.parts().len(), 4);
            let b = HoleKind::Box64.mask(256, 256, k);
            assert_eq!(b.data.iter().filter(|&&v| v > 0.0).count(), 64 * 64);
            let s = HoleKind::Strokes.mask(256, 256, k);
            let cover = s.data.iter().filter(|&&v| v > 0.0).count() as f64 / (256.0 * 256.0);
            assert!((0.09..0.12).contains(&cover), "strokes cover {cover}");
        }
        // The same crop number gives the same hole, another gives another.
        assert_eq!(
            HoleKind::Strokes.mask(256, 256, 3),
            HoleKind::Strokes.mask(256, 256, 3)
        );
        assert_ne!(
            HoleKind::Box32.mask(256, 256, 3),
            HoleKind::Box32.mask(256, 256, 4)
        );
    }

    #[test]
    fn colour_shift_sees_a_grey_patch_in_a_green_field() {
        let n = 64 * 64;
        let mut green = Planar::zeros(3, 64, 64);
        green.data[n..2 * n].fill(0.6);
        let hole = HoleKind::Box32.mask(64, 64, 0);
        assert!(colour_shift(&green, &green, &hole) < 1e-9);
        let grey = green.blend(&Planar::zeros(3, 64, 64), &hole.data);
        let shift = colour_shift(&grey, &green, &hole);
        assert!((shift - 0.6 * 127.5).abs() < 1e-3, "{shift}");
    }
}
