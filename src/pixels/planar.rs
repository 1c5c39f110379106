//! Host-side images as the engine sees them: planar f32, channel-major, data in [-1, 1].

use super::error::{PixelError, Result};

/// A C×H×W float image. Values are in [-1, 1] for clean images and unbounded for noisy ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Planar {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub data: Vec<f32>,
}

impl Planar {
    pub fn new(channels: usize, height: usize, width: usize, data: Vec<f32>) -> Result<Self> {
        if data.len() != channels * height * width {
            return Err(PixelError::SizeMismatch(format!(
                "{} values for a {channels}x{height}x{width} image",
                data.len()
            )));
        }
        Ok(Self {
            channels,
            height,
            width,
            data,
        })
    }

    pub fn zeros(channels: usize, height: usize, width: usize) -> Self {
        Self {
            channels,
            height,
            width,
            data: vec![0.0; channels * height * width],
        }
    }

    pub fn pixels(&self) -> usize {
        self.height * self.width
    }

    pub fn same_shape(&self, other: &Planar) -> bool {
        (self.channels, self.height, self.width) == (other.channels, other.height, other.width)
    }

    pub fn at(&self, c: usize, y: usize, x: usize) -> f32 {
        self.data[(c * self.height + y) * self.width + x]
    }

    /// Copy of the rectangle [y0, y0+h) × [x0, x0+w).
    pub fn crop(&self, y0: usize, x0: usize, h: usize, w: usize) -> Planar {
        let mut data = Vec::with_capacity(self.channels * h * w);
        for c in 0..self.channels {
            for y in y0..y0 + h {
                let row = (c * self.height + y) * self.width;
                data.extend_from_slice(&self.data[row + x0..row + x0 + w]);
            }
        }
        Planar {
            channels: self.channels,
            height: h,
            width: w,
            data,
        }
    }

    /// Write `src`'s rectangle [sy0, sy0+h) × [sx0, sx0+w) at (y0, x0) of `self`.
    #[allow(clippy::too_many_arguments)]
    pub fn paste(
        &mut self,
        src: &Planar,
        sy0: usize,
        sx0: usize,
        h: usize,
        w: usize,
        y0: usize,
        x0: usize,
    ) {
        for c in 0..self.channels {
            for dy in 0..h {
                let s = (c * src.height + sy0 + dy) * src.width + sx0;
                let d = (c * self.height + y0 + dy) * self.width + x0;
                self.data[d..d + w].copy_from_slice(&src.data[s..s + w]);
            }
        }
    }

    /// Extend to `h`×`w` (at least the current size) by mirroring the right and bottom edges.
    pub fn pad_reflect(&self, h: usize, w: usize) -> Planar {
        let mirror = |i: usize, n: usize| -> usize {
            if n == 1 {
                return 0;
            }
            let period = 2 * (n - 1);
            let m = i % period;
            if m < n { m } else { period - m }
        };
        let mut data = Vec::with_capacity(self.channels * h * w);
        for c in 0..self.channels {
            for y in 0..h {
                let sy = mirror(y, self.height);
                let row = (c * self.height + sy) * self.width;
                data.extend((0..w).map(|x| self.data[row + mirror(x, self.width)]));
            }
        }
        Planar {
            channels: self.channels,
            height: h,
            width: w,
            data,
        }
    }

    /// x + s·z elementwise.
    pub fn add_scaled(&mut self, z: &[f32], s: f32) {
        for (v, n) in self.data.iter_mut().zip(z) {
            *v += s * n;
        }
    }

    /// Per-pixel blend: self·(1−m) + other·m, with a one-channel mask m in [0, 1].
    pub fn blend(&self, other: &Planar, mask: &[f32]) -> Planar {
        let n = self.pixels();
        let data = self
            .data
            .iter()
            .zip(&other.data)
            .enumerate()
            .map(|(i, (a, b))| {
                let m = mask[i % n];
                a * (1.0 - m) + b * m
            })
            .collect();
        Planar { data, ..*self }
    }

    /// The image mirrored left-right and/or top-bottom (its own inverse).
    pub fn mirrored(&self, horizontal: bool, vertical: bool) -> Planar {
        let (h, w) = (self.height, self.width);
        let mut data = Vec::with_capacity(self.data.len());
        for c in 0..self.channels {
            for y in 0..h {
                let sy = if vertical { h - 1 - y } else { y };
                let row = &self.data[(c * h + sy) * w..(c * h + sy + 1) * w];
                if horizontal {
                    data.extend(row.iter().rev());
                } else {
                    data.extend_from_slice(row);
                }
            }
        }
        Planar { data, ..*self }
    }

    /// The image moved one pixel down and right, one pixel larger; the new first row and
    /// column mirror the second (as reflection padding would). Undone by [`Self::shifted_back`].
    pub fn shifted_down_right(&self) -> Planar {
        let (h, w) = (self.height + 1, self.width + 1);
        let from = |i: usize, len: usize| if i == 0 { 1.min(len - 1) } else { i - 1 };
        let mut data = Vec::with_capacity(self.channels * h * w);
        for c in 0..self.channels {
            for y in 0..h {
                let row = (c * self.height + from(y, self.height)) * self.width;
                data.extend((0..w).map(|x| self.data[row + from(x, self.width)]));
            }
        }
        Planar {
            channels: self.channels,
            height: h,
            width: w,
            data,
        }
    }

    /// The inverse of [`Self::shifted_down_right`]: drop the first row and column.
    pub fn shifted_back(&self) -> Planar {
        self.crop(1, 1, self.height - 1, self.width - 1)
    }

    pub fn clamp_unit(&mut self) {
        for v in &mut self.data {
            *v = v.clamp(-1.0, 1.0);
        }
    }

    /// Mean squared error against another image of the same shape.
    pub fn mse(&self, other: &Planar) -> f64 {
        let n = self.data.len().max(1) as f64;
        self.data
            .iter()
            .zip(&other.data)
            .map(|(a, b)| f64::from(a - b).powi(2))
            .sum::<f64>()
            / n
    }
}

/// A viewable picture of a latent at noise level `sigma`: x/√(1 + σ²) squashed to [-1, 1]
/// (the noise is visible, the photo shows through at low levels).
pub fn latent_preview(latent: &Planar, sigma: f32) -> Planar {
    let scale = 1.0 / (1.0 + sigma * sigma).sqrt();
    let data = latent
        .data
        .iter()
        .map(|v| (v * scale).clamp(-1.0, 1.0))
        .collect();
    Planar {
        data,
        ..latent.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_paste_roundtrip() {
        let data: Vec<f32> = (0..2 * 5 * 7).map(|v| v as f32).collect();
        let img = Planar::new(2, 5, 7, data).unwrap();
        let part = img.crop(1, 2, 3, 4);
        assert_eq!(part.at(1, 0, 0), img.at(1, 1, 2));
        let mut back = Planar::zeros(2, 5, 7);
        back.paste(&part, 0, 0, 3, 4, 1, 2);
        assert_eq!(back.at(0, 3, 5), img.at(0, 3, 5));
        assert_eq!(back.at(0, 0, 0), 0.0);
    }

    #[test]
    fn one_pixel_shift_moves_content_and_undoes_exactly() {
        let p = Planar::new(2, 2, 3, (0..12).map(|v| v as f32).collect()).unwrap();
        let s = p.shifted_down_right();
        assert_eq!((s.height, s.width), (3, 4));
        // Content moved by one; the new first row/column reflect the second.
        assert_eq!(s.at(1, 2, 3), p.at(1, 1, 2));
        assert_eq!(s.at(0, 1, 1), p.at(0, 0, 0));
        assert_eq!(s.at(0, 0, 0), p.at(0, 1, 1));
        assert_eq!(s.at(0, 0, 2), p.at(0, 1, 1));
        assert_eq!(s.shifted_back(), p);
        let line = Planar::new(1, 1, 2, vec![4.0, 5.0]).unwrap();
        assert_eq!(line.shifted_down_right().shifted_back(), line);
    }

    #[test]
    fn reflect_padding_mirrors_edges() {
        let img = Planar::new(1, 1, 3, vec![1.0, 2.0, 3.0]).unwrap();
        let p = img.pad_reflect(2, 6);
        assert_eq!(&p.data[..6], &[1.0, 2.0, 3.0, 2.0, 1.0, 2.0]);
        assert_eq!(&p.data[6..], &p.data[..6]);
    }
}
