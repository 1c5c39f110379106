//! Masks for inpainting and region edits: one f32 per pixel in [0, 1], 1 = regenerate.

use super::error::{PixelError, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct Mask {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

/// Axis-aligned rectangle [y0, y1) × [x0, x1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub y0: usize,
    pub x0: usize,
    pub y1: usize,
    pub x1: usize,
}

impl Rect {
    pub fn height(&self) -> usize {
        self.y1 - self.y0
    }
    pub fn width(&self) -> usize {
        self.x1 - self.x0
    }

    /// Smallest rectangle holding both.
    pub fn union(self, other: Rect) -> Rect {
        Rect {
            y0: self.y0.min(other.y0),
            x0: self.x0.min(other.x0),
            y1: self.y1.max(other.y1),
            x1: self.x1.max(other.x1),
        }
    }

    /// Grow by `pad` on every side, snap outwards to multiples of `align`, clip to h×w.
    pub fn expanded(&self, pad: usize, align: usize, h: usize, w: usize) -> Rect {
        let down = |v: usize| v / align * align;
        let up = |v: usize, max: usize| (v.div_ceil(align) * align).min(max);
        Rect {
            y0: down(self.y0.saturating_sub(pad)),
            x0: down(self.x0.saturating_sub(pad)),
            y1: up(self.y1 + pad, h),
            x1: up(self.x1 + pad, w),
        }
    }
}

impl Mask {
    pub fn new(width: usize, height: usize, data: Vec<f32>) -> Result<Self> {
        if data.len() != width * height {
            return Err(PixelError::SizeMismatch(format!(
                "mask has {} values for {width}x{height}",
                data.len()
            )));
        }
        Ok(Self {
            width,
            height,
            data,
        })
    }

    pub fn empty(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            data: vec![0.0; width * height],
        }
    }

    pub fn is_empty(&self) -> bool {
        self.data.iter().all(|&v| v <= 0.0)
    }

    pub fn invert(&self) -> Mask {
        Mask {
            data: self.data.iter().map(|v| 1.0 - v.clamp(0.0, 1.0)).collect(),
            ..*self
        }
    }

    /// Bounding box of the pixels with a positive value.
    pub fn bbox(&self) -> Option<Rect> {
        let mut r: Option<Rect> = None;
        for y in 0..self.height {
            let row = &self.data[y * self.width..(y + 1) * self.width];
            let first = row.iter().position(|&v| v > 0.0);
            let last = row.iter().rposition(|&v| v > 0.0);
            if let (Some(a), Some(b)) = (first, last) {
                r = Some(match r {
                    None => Rect {
                        y0: y,
                        x0: a,
                        y1: y + 1,
                        x1: b + 1,
                    },
                    Some(r) => Rect {
                        y0: r.y0,
                        x0: r.x0.min(a),
                        y1: y + 1,
                        x1: r.x1.max(b + 1),
                    },
                });
            }
        }
        r
    }

    pub fn crop(&self, r: Rect) -> Mask {
        let mut data = Vec::with_capacity(r.height() * r.width());
        for y in r.y0..r.y1 {
            data.extend_from_slice(&self.data[y * self.width + r.x0..y * self.width + r.x1]);
        }
        Mask {
            width: r.width(),
            height: r.height(),
            data,
        }
    }

    /// Binary dilation (threshold 0.5) by a disc of radius `px`.
    pub fn grow(&self, px: usize) -> Mask {
        if px == 0 {
            return self.clone();
        }
        let inside: Vec<bool> = self.data.iter().map(|&v| v >= 0.5).collect();
        let d2 = squared_distance(&inside, self.width, self.height);
        let r2 = (px * px) as f32;
        Mask {
            data: d2
                .iter()
                .map(|&d| if d <= r2 { 1.0 } else { 0.0 })
                .collect(),
            ..*self
        }
    }

    /// Soft edge: three box blurs of radius ≈ px/2 (close to a Gaussian of σ ≈ px/2).
    /// Pixels farther than ~1.5·px from the mask stay exactly 0.
    pub fn feather(&self, px: usize) -> Mask {
        let r = px.div_ceil(2);
        if r == 0 {
            return self.clone();
        }
        let mut data = self.data.clone();
        for _ in 0..3 {
            data = box_blur_rows(&data, self.width, self.height, r);
            data = transpose(&data, self.width, self.height);
            data = box_blur_rows(&data, self.height, self.width, r);
            data = transpose(&data, self.height, self.width);
        }
        // The blur must not weaken the core of the mask: what was painted stays fully masked.
        for (d, &orig) in data.iter_mut().zip(&self.data) {
            *d = d.max(orig).clamp(0.0, 1.0);
            if *d < 1e-6 {
                *d = 0.0;
            }
        }
        Mask { data, ..*self }
    }
}

impl Mask {
    /// [`Mask::grow`] then [`Mask::feather`], computed on a crop around the painted pixels
    /// only: the same values, without passes over a whole 12-megapixel mask for a small hole.
    pub fn grown_and_feathered(&self, grow: usize, feather: usize) -> Mask {
        let Some(painted) = self.bbox() else {
            return self.clone();
        };
        // Beyond this margin neither the disc nor the three box blurs reach.
        let margin = grow + 2 * feather + 2;
        let local = painted.expanded(margin, 1, self.height, self.width);
        let soft = self.crop(local).grow(grow).feather(feather);
        let mut out = Mask::empty(self.width, self.height);
        for y in 0..local.height() {
            let row = (local.y0 + y) * self.width + local.x0;
            out.data[row..row + local.width()]
                .copy_from_slice(&soft.data[y * local.width()..(y + 1) * local.width()]);
        }
        out
    }

    /// The indices of pixel `i`'s 4-connected neighbours inside the mask's bounds.
    pub fn neighbours(&self, i: usize) -> impl Iterator<Item = usize> {
        let (w, h) = (self.width, self.height);
        let (y, x) = (i / w, i % w);
        [
            (y > 0).then(|| i - w),
            (y + 1 < h).then(|| i + w),
            (x > 0).then(|| i - 1),
            (x + 1 < w).then(|| i + 1),
        ]
        .into_iter()
        .flatten()
    }

    /// Pixel indices of each 4-connected part of the mask (values > 0).
    pub fn parts(&self) -> Vec<Vec<usize>> {
        let (w, h) = (self.width, self.height);
        let mut seen = vec![false; w * h];
        let mut out = Vec::new();
        for start in 0..w * h {
            if seen[start] || self.data[start] <= 0.0 {
                continue;
            }
            let (mut part, mut stack) = (Vec::new(), vec![start]);
            seen[start] = true;
            while let Some(i) = stack.pop() {
                part.push(i);
                for j in self.neighbours(i) {
                    if !seen[j] && self.data[j] > 0.0 {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
            out.push(part);
        }
        out
    }
}

fn transpose(data: &[f32], w: usize, h: usize) -> Vec<f32> {
    let mut out = vec![0.0; w * h];
    for y in 0..h {
        for x in 0..w {
            out[x * h + y] = data[y * w + x];
        }
    }
    out
}

/// Box blur along rows with zero padding outside the image.
fn box_blur_rows(data: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    let norm = 1.0 / (2 * r + 1) as f32;
    let mut out = vec![0.0; w * h];
    for y in 0..h {
        let row = &data[y * w..(y + 1) * w];
        let mut acc: f64 = row.iter().take(r + 1).map(|&v| f64::from(v)).sum();
        for x in 0..w {
            out[y * w + x] = acc as f32 * norm;
            if x + r + 1 < w {
                acc += f64::from(row[x + r + 1]);
            }
            if x >= r {
                acc -= f64::from(row[x - r]);
            }
        }
    }
    out
}

/// Squared Euclidean distance to the nearest `true` pixel (Felzenszwalb–Huttenlocher).
fn squared_distance(inside: &[bool], w: usize, h: usize) -> Vec<f32> {
    // Larger than any real squared distance, small enough that f64 keeps q² exact beside it.
    const FAR: f64 = 1e10;
    let mut grid: Vec<f64> = inside.iter().map(|&b| if b { 0.0 } else { FAR }).collect();
    let mut column = vec![0.0; h];
    for x in 0..w {
        for y in 0..h {
            column[y] = grid[y * w + x];
        }
        for (y, d) in distance_1d(&column).into_iter().enumerate() {
            grid[y * w + x] = d;
        }
    }
    for y in 0..h {
        let d = distance_1d(&grid[y * w..(y + 1) * w]);
        grid[y * w..(y + 1) * w].copy_from_slice(&d);
    }
    grid.into_iter().map(|d| d as f32).collect()
}

/// Lower envelope of parabolas (q − p)² + f[p].
fn distance_1d(f: &[f64]) -> Vec<f64> {
    let n = f.len();
    if n == 0 {
        return Vec::new();
    }
    let mut v = vec![0usize; n];
    let mut z = vec![0.0f64; n + 1];
    let sq = |i: usize| (i * i) as f64;
    let meet =
        |q: usize, p: usize| ((f[q] + sq(q)) - (f[p] + sq(p))) / (2.0 * (q as f64 - p as f64));
    let mut k = 0;
    z[0] = f64::NEG_INFINITY;
    z[1] = f64::INFINITY;
    for q in 1..n {
        let mut s = meet(q, v[k]);
        while s <= z[k] {
            k -= 1;
            s = meet(q, v[k]);
        }
        k += 1;
        v[k] = q;
        z[k] = s;
        z[k + 1] = f64::INFINITY;
    }
    k = 0;
    (0..n)
        .map(|q| {
            while z[k + 1] < q as f64 {
                k += 1;
            }
            let p = v[k];
            (q as f64 - p as f64).powi(2) + f[p]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dot(w: usize, h: usize, x: usize, y: usize) -> Mask {
        let mut m = Mask::empty(w, h);
        m.data[y * w + x] = 1.0;
        m
    }

    #[test]
    fn local_grow_and_feather_equal_the_whole_mask_ones() {
        for (x, y) in [(30, 20), (1, 1), (58, 38)] {
            let mut m = dot(60, 40, x, y);
            m.data[(y.min(37) + 2) * 60 + x.min(57)] = 0.7;
            assert_eq!(
                m.grown_and_feathered(4, 8),
                m.grow(4).feather(8),
                "dot at {x},{y}"
            );
            assert_eq!(m.grown_and_feathered(0, 3), m.feather(3));
        }
        assert_eq!(
            Mask::empty(5, 5).grown_and_feathered(3, 3),
            Mask::empty(5, 5)
        );
    }

    #[test]
    fn grow_is_a_disc() {
        let m = dot(21, 21, 10, 10).grow(5);
        for y in 0..21usize {
            for x in 0..21usize {
                let d2 = (x as i64 - 10).pow(2) + (y as i64 - 10).pow(2);
                assert_eq!(m.data[y * 21 + x] == 1.0, d2 <= 25, "({x},{y})");
            }
        }
    }

    #[test]
    fn feather_keeps_core_and_has_bounded_support() {
        let m = dot(41, 41, 20, 20).grow(4).feather(6);
        assert_eq!(m.data[20 * 41 + 20], 1.0);
        assert!(m.data[20 * 41 + 26] > 0.0 && m.data[20 * 41 + 26] < 1.0);
        // Support: grown radius 4 + three blurs of radius 3 = 13.
        assert_eq!(m.data[20 * 41 + 20 + 14], 0.0);
        assert_eq!(m.data[0], 0.0);
        assert!(m.data.iter().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn bbox_and_expand() {
        let m = dot(64, 48, 30, 20);
        let b = m.bbox().unwrap();
        assert_eq!(
            b,
            Rect {
                y0: 20,
                x0: 30,
                y1: 21,
                x1: 31
            }
        );
        let e = b.expanded(5, 8, 48, 64);
        assert_eq!(
            e,
            Rect {
                y0: 8,
                x0: 24,
                y1: 32,
                x1: 40
            }
        );
        assert!(Mask::empty(4, 4).bbox().is_none());
    }
}
