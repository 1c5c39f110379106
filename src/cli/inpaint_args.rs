//! The inpainting settings shared by `inpaint` and `eval`: none given means the engine's
//! defaults, which are what the editor's *Inpaint mask* uses untouched.

use anyhow::{Result, bail};
use bcm_studio::engine::plan::parse_levels;
use bcm_studio::engine::tasks::{
    InpaintParams, MaskedContent, Renoise, STRENGTH_MAX, STRENGTH_MIN,
};
use clap::Args;

#[derive(Debug, Clone, Default, Args)]
pub struct InpaintArgs {
    /// Strength: how much may change under the mask (0.05-80, as the editor's slider).
    /// Not given, the inpainting model fills the hole; given, the shipped model regenerates
    /// that fill from noise of this level (below 1 it adds texture, a few units keeps only the
    /// fill's layout, 80 starts from scratch).
    #[arg(long)]
    pub strength: Option<f32>,
    /// Decreasing noise levels of the fill at the coarsest scale (replaces --strength).
    #[arg(long, help_heading = "Advanced")]
    pub levels: Option<String>,
    /// Decreasing noise levels run again at each finer scale ("" for none).
    #[arg(long, help_heading = "Advanced")]
    pub refine: Option<String>,
    /// Halve the photo around the mask until the hole is at most this many pixels across,
    /// fill it there and refine it at each finer scale (0: fill at full size only).
    #[arg(long, help_heading = "Advanced")]
    pub coarse: Option<usize>,
    /// Grow the mask by this many pixels.
    #[arg(long, help_heading = "Advanced")]
    pub grow: Option<usize>,
    /// Soft edge width in pixels.
    #[arg(long, help_heading = "Advanced")]
    pub feather: Option<usize>,
    /// Re-noising in the loop: fresh (1 NFE per level), invert (BCM inversion, 2 NFE) or none
    /// (the estimate's own error read as the level's noise).
    #[arg(long, help_heading = "Advanced")]
    pub renoise: Option<String>,
    /// What the fill starts from inside the mask: fill (the inpainting model's fill, or a
    /// smooth fill from the border with --model) or original (the pixels there; with a low
    /// strength their layout is kept).
    #[arg(long, help_heading = "Advanced")]
    pub content: Option<String>,
}

impl InpaintArgs {
    /// The engine's parameters: the defaults with what was given on the command line.
    pub fn params(&self, seed: u64) -> Result<InpaintParams> {
        let mut p = InpaintParams {
            seed,
            ..InpaintParams::default()
        };
        if let Some(s) = self.strength {
            if !(STRENGTH_MIN..=STRENGTH_MAX).contains(&s) {
                bail!("--strength must be {STRENGTH_MIN}-{STRENGTH_MAX}, got {s}");
            }
            p = p.with_strength(s);
        }
        if let Some(l) = &self.levels {
            p.levels = parse_levels(l)?;
        }
        if let Some(r) = &self.refine {
            p.refine = if r.trim().is_empty() {
                Vec::new()
            } else {
                parse_levels(r)?
            };
        }
        if let Some(c) = self.coarse {
            p.coarse = c;
        }
        if let Some(g) = self.grow {
            p.grow = g;
        }
        if let Some(f) = self.feather {
            p.feather = f;
        }
        if let Some(r) = &self.renoise {
            p.renoise = match r.as_str() {
                "fresh" => Renoise::Fresh,
                "invert" => Renoise::Invert,
                "none" => Renoise::None,
                other => bail!("--renoise must be fresh, invert or none, got {other}"),
            };
        }
        if let Some(c) = &self.content {
            p.content = match c.as_str() {
                "original" => MaskedContent::Original,
                "fill" => MaskedContent::Fill,
                other => bail!("--content must be original or fill, got {other}"),
            };
        }
        p.validate()?;
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_flags_are_the_engines_defaults() {
        let p = InpaintArgs::default().params(7).unwrap();
        assert_eq!(
            p,
            InpaintParams {
                seed: 7,
                ..InpaintParams::default()
            }
        );
    }

    #[test]
    fn bad_values_are_refused() {
        for args in [
            InpaintArgs {
                strength: Some(200.0),
                ..InpaintArgs::default()
            },
            InpaintArgs {
                renoise: Some("twice".into()),
                ..InpaintArgs::default()
            },
            InpaintArgs {
                levels: Some("1,5".into()),
                ..InpaintArgs::default()
            },
        ] {
            assert!(args.params(0).is_err(), "{args:?}");
        }
    }
}
