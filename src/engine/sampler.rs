//! Running plans: one network evaluation per hop (two per Heun hop), tiled over large images,
//! with progress reports and cancellation between tiles.

use std::borrow::Cow;

use burn::tensor::{Tensor, TensorData};

use super::error::{EngineError, Result};
use super::model::Bcm;
use super::noise::NoiseRng;
use super::ode;
use super::plan::{Op, Plan, added_noise};
use super::planar::Planar;
use super::schedule::SIGMA_MIN;

/// Where a running plan is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Network evaluations finished so far.
    pub nfe: usize,
    /// Network evaluations in the whole job.
    pub nfe_total: usize,
    /// Tiles finished in the current evaluation, and how many it has.
    pub tile: usize,
    pub tiles: usize,
    /// Level the image is at after the last finished evaluation.
    pub level: f32,
}

impl Progress {
    /// Fraction done in [0, 1].
    pub fn fraction(&self) -> f32 {
        if self.nfe_total == 0 {
            return 1.0;
        }
        let within = if self.tiles == 0 {
            0.0
        } else {
            self.tile as f32 / self.tiles as f32
        };
        ((self.nfe as f32 + within) / self.nfe_total as f32).min(1.0)
    }
}

/// Receives progress and decides about cancellation. `()` ignores everything.
pub trait Monitor {
    fn progress(&mut self, _progress: &Progress) {}
    /// Checked between tiles and between evaluations.
    fn cancelled(&self) -> bool {
        false
    }
    /// The image after each operation of a plan (for previews and the timeline).
    fn state(&mut self, _level: f32, _image: &Planar) {}
}

impl Monitor for () {}

/// How large images are split. The margin around each tile covers the network's receptive
/// field, so a tiled evaluation equals the whole-image one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tiling {
    /// Images up to this many pixels are evaluated in one piece.
    pub max_pixels: usize,
    /// Side of the part of each tile that is kept.
    pub tile: usize,
}

impl Default for Tiling {
    /// On the CPU the network holds about 330 bytes per pixel of a tile: a 1024 px tile with
    /// its margins is about 600 MB, which keeps a 12-megapixel restoration under 1.5 GB while
    /// evaluating 1.48 times the photo's pixels (1.80 at 768, 24 tiles instead of 12).
    fn default() -> Self {
        Self {
            max_pixels: 1280 * 1280,
            tile: 1024,
        }
    }
}

/// One tile: the input window and the part of its output that is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tile {
    pub y0: usize,
    pub x0: usize,
    pub h: usize,
    pub w: usize,
    /// Kept rectangle, in image coordinates.
    pub ky: usize,
    pub kx: usize,
    pub kh: usize,
    pub kw: usize,
}

/// `x` reflect-padded to `ph`×`pw`; borrowed when it already is that size (a 12-megapixel
/// photo's copy is 144 MB).
fn padded_to(x: &Planar, ph: usize, pw: usize) -> Cow<'_, Planar> {
    if (ph, pw) == (x.height, x.width) {
        Cow::Borrowed(x)
    } else {
        Cow::Owned(x.pad_reflect(ph, pw))
    }
}

/// Split an `h`×`w` image (multiples of `align`) into tiles with `margin` context.
pub fn plan_tiles(h: usize, w: usize, tile: usize, margin: usize, align: usize) -> Vec<Tile> {
    let round = |v: usize| v.div_ceil(align) * align;
    let (tile, margin) = (round(tile.max(align)), round(margin));
    let mut tiles = Vec::new();
    for ky in (0..h).step_by(tile) {
        for kx in (0..w).step_by(tile) {
            let (kh, kw) = (tile.min(h - ky), tile.min(w - kx));
            let y0 = ky.saturating_sub(margin);
            let x0 = kx.saturating_sub(margin);
            let y1 = (ky + kh + margin).min(h);
            let x1 = (kx + kw + margin).min(w);
            tiles.push(Tile {
                y0,
                x0,
                h: y1 - y0,
                w: x1 - x0,
                ky,
                kx,
                kh,
                kw,
            });
        }
    }
    tiles
}

impl Bcm {
    fn to_tensor(&self, x: &Planar) -> Tensor<4> {
        let data = TensorData::new(x.data.clone(), [1, x.channels, x.height, x.width]);
        Tensor::from_data(data, &self.device)
    }

    fn to_planar(t: Tensor<4>) -> Result<Planar> {
        let [_, c, h, w] = t.dims();
        let data = t
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| EngineError::Backend(format!("reading a result back: {e:?}")))?;
        Ok(Planar::new(c, h, w, data)?)
    }

    /// The tiles [`Bcm::eval`] splits an image of `ph`×`pw` (multiples of the alignment)
    /// into: one when it is small enough or the network is not local.
    pub fn tiles(&self, ph: usize, pw: usize, tiling: &Tiling) -> Vec<Tile> {
        let align = self.config.alignment();
        if self.config.is_local() && ph * pw > tiling.max_pixels {
            plan_tiles(ph, pw, tiling.tile, self.config.receptive_radius(), align)
        } else {
            plan_tiles(ph, pw, ph.max(pw), 0, align)
        }
    }

    /// One evaluation f(x, t, u) of a whole image of any size: padded to the network's
    /// alignment, tiled when large, cropped back.
    pub fn eval(
        &self,
        x: &Planar,
        t: f32,
        u: f32,
        tiling: &Tiling,
        monitor: &mut dyn Monitor,
        progress: Progress,
    ) -> Result<Planar> {
        self.eval_conditioned(x, None, t, u, tiling, monitor, progress)
    }

    /// [`Bcm::eval`] of a conditioned network: `condition` (the same size as `x`) holds the
    /// channels it reads beside the image; a plain network takes `None`.
    #[allow(clippy::too_many_arguments)]
    pub fn eval_conditioned(
        &self,
        x: &Planar,
        condition: Option<&Planar>,
        t: f32,
        u: f32,
        tiling: &Tiling,
        monitor: &mut dyn Monitor,
        mut progress: Progress,
    ) -> Result<Planar> {
        let wanted = self.config.conditioning();
        match condition {
            None if wanted > 0 => {
                return Err(EngineError::Parameter(format!(
                    "{} is an inpainting model (it reads a mask beside the photo): use it for inpainting, or choose another model for this",
                    self.info.name
                )));
            }
            Some(c) if c.channels != wanted || (c.height, c.width) != (x.height, x.width) => {
                return Err(EngineError::SizeMismatch(format!(
                    "the model reads {wanted} channels of conditioning at {}x{}, it was given {} at {}x{}",
                    x.width, x.height, c.channels, c.width, c.height
                )));
            }
            _ => {}
        }
        if !self.net.is_bidirectional() && u != crate::engine::schedule::SIGMA_MIN {
            return Err(EngineError::Parameter(
                "this is a one-directional consistency model: it can only generate, not invert"
                    .into(),
            ));
        }
        if x.channels != self.config.image_channels {
            return Err(EngineError::SizeMismatch(format!(
                "model expects {} channels, image has {}",
                self.config.image_channels, x.channels
            )));
        }
        let align = self.config.alignment();
        let (ph, pw) = (
            x.height.div_ceil(align) * align,
            x.width.div_ceil(align) * align,
        );
        let padded = padded_to(x, ph, pw);
        let condition = condition.map(|c| padded_to(c, ph, pw));
        let tiles = self.tiles(ph, pw, tiling);
        progress.tiles = tiles.len();
        let mut out = Planar::zeros(x.channels, ph, pw);
        for (i, tile) in tiles.iter().enumerate() {
            if monitor.cancelled() {
                return Err(EngineError::Cancelled);
            }
            progress.tile = i;
            monitor.progress(&progress);
            let input = padded.crop(tile.y0, tile.x0, tile.h, tile.w);
            let cond = condition
                .as_ref()
                .map(|c| self.to_tensor(&c.crop(tile.y0, tile.x0, tile.h, tile.w)));
            let y = Self::to_planar(Self::forward_conditioned(
                &self.net,
                self.to_tensor(&input),
                &[t],
                &[u],
                cond,
                None,
            ))?;
            out.paste(
                &y,
                tile.ky - tile.y0,
                tile.kx - tile.x0,
                tile.kh,
                tile.kw,
                tile.ky,
                tile.kx,
            );
        }
        Ok(if (ph, pw) == (x.height, x.width) {
            out
        } else {
            out.crop(0, 0, x.height, x.width)
        })
    }

    /// Run `plan` on `x`, which sits at `plan.start`. Noise comes from `rng`.
    pub fn run(
        &self,
        x: Planar,
        plan: &Plan,
        rng: &mut NoiseRng,
        tiling: &Tiling,
        monitor: &mut dyn Monitor,
    ) -> Result<Planar> {
        self.run_counted(x, plan, rng, tiling, monitor, (0, plan.nfe()))
    }

    /// [`Bcm::run`] as part of a larger job: `done_total` = (NFE already done, NFE in the job).
    pub fn run_counted(
        &self,
        mut x: Planar,
        plan: &Plan,
        rng: &mut NoiseRng,
        tiling: &Tiling,
        monitor: &mut dyn Monitor,
        done_total: (usize, usize),
    ) -> Result<Planar> {
        plan.validate()?;
        let (mut nfe, nfe_total) = done_total;
        let at = |nfe, level| Progress {
            nfe,
            nfe_total,
            tile: 0,
            tiles: 1,
            level,
        };
        let mut level = plan.start;
        for op in &plan.ops {
            if monitor.cancelled() {
                return Err(EngineError::Cancelled);
            }
            match *op {
                Op::Noise(s) => {
                    // Only the difference in variance is added: the image already carries
                    // noise of std `level` (σ_min after a hop to the clean end, where this is
                    // the reference's plain `s·z` to within 0.1 %).
                    rng.add_normal(&mut x.data, added_noise(level, s));
                    level = s;
                }
                Op::Hop(to) => {
                    x = self.eval(&x, level, to, tiling, monitor, at(nfe, level))?;
                    nfe += 1;
                    level = to;
                    monitor.progress(&at(nfe, level));
                }
                Op::Heun(to) => {
                    let d_start =
                        self.eval(&x, level, SIGMA_MIN, tiling, monitor, at(nfe, level))?;
                    let predicted = Planar {
                        channels: x.channels,
                        height: x.height,
                        width: x.width,
                        data: ode::euler(&x.data, &d_start.data, level, to),
                    };
                    nfe += 1;
                    monitor.progress(&at(nfe, to));
                    let d_end =
                        self.eval(&predicted, to, SIGMA_MIN, tiling, monitor, at(nfe, to))?;
                    x.data = ode::heun(
                        &x.data,
                        &d_start.data,
                        &predicted.data,
                        &d_end.data,
                        level,
                        to,
                    );
                    nfe += 1;
                    level = to;
                    monitor.progress(&at(nfe, level));
                }
            }
            monitor.state(level, &x);
        }
        Ok(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_cover_the_image_once() {
        let (h, w) = (96, 160);
        let tiles = plan_tiles(h, w, 40, 12, 8);
        let mut covered = vec![0u8; h * w];
        for t in &tiles {
            assert!(
                t.y0 % 8 == 0 && t.x0 % 8 == 0,
                "tile origin not aligned: {t:?}"
            );
            assert!(t.ky >= t.y0 && t.ky + t.kh <= t.y0 + t.h);
            assert!(t.kx >= t.x0 && t.kx + t.kw <= t.x0 + t.w);
            for y in t.ky..t.ky + t.kh {
                for x in t.kx..t.kx + t.kw {
                    covered[y * w + x] += 1;
                }
            }
        }
        assert!(covered.iter().all(|&c| c == 1));
    }

    #[test]
    fn progress_fraction_is_monotone() {
        let p = |nfe, tile| {
            Progress {
                nfe,
                nfe_total: 2,
                tile,
                tiles: 4,
                level: 1.0,
            }
            .fraction()
        };
        assert!(p(0, 0) < p(0, 1) && p(0, 3) < p(1, 0) && p(1, 3) < p(2, 0));
        assert_eq!(p(2, 0), 1.0);
    }
}
