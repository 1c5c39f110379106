//! `eval`: the model's numbers on held-out photos, as a Markdown table (the model card's).

use std::path::Path;

use anyhow::{Result, bail};
use bcm_studio::engine::tasks::{InpaintParams, RestoreParams};
use bcm_studio::engine::train::data::{CropSpec, PhotoCache, PhotoSet, validation_batch};
use bcm_studio::engine::train::validate::{images, inpainting, jpeg_restoration, reconstruction};

use super::common::Session;

/// Restoration settings used for each JPEG quality.
pub fn restore_for_quality(quality: u8) -> RestoreParams {
    match quality {
        0..=15 => RestoreParams {
            sigma: 0.2,
            nfe: 2,
            seed: 0,
        },
        _ => RestoreParams {
            sigma: 0.1,
            nfe: 2,
            seed: 0,
        },
    }
}

pub fn run(session: &Session, data: &Path, max_images: usize, size: usize) -> Result<()> {
    if !(16..=1024).contains(&size) || !size.is_multiple_of(session.model.config.alignment()) {
        bail!(
            "--size must be 16-1024 and a multiple of {}",
            session.model.config.alignment()
        );
    }
    let set = PhotoSet::scan(data, 10)?;
    let batch = validation_batch(
        &set,
        &PhotoCache::default(),
        CropSpec {
            patch: size,
            downscale: 2,
        },
        max_images,
    )?;
    let val = images(&batch);
    let model = &session.model;
    println!(
        "model `{}` on {} held-out photos of {} (centre {size}x{size} crops after 2x downscale)",
        model.info.name,
        val.len(),
        data.display()
    );
    println!();
    println!("| measurement | result | NFE |");
    println!("|---|---|---|");
    for nfe in [1, 2, 4] {
        let (p, s) = reconstruction(model, &val, nfe, 0)?;
        println!(
            "| reconstruction (invert to 80, generate back) | PSNR {p:.2} dB, SSIM {s:.3} | {nfe} + {nfe} |"
        );
    }
    for quality in [10u8, 30] {
        let params = restore_for_quality(quality);
        let (before, after) = jpeg_restoration(model, &val, quality, &params)?;
        println!(
            "| JPEG q={quality} restoration (σ {}) | {after:.2} dB vs {before:.2} dB decoded ({:+.2} dB) | {} |",
            params.sigma,
            after - before,
            params.nfe
        );
    }
    let p = InpaintParams::default();
    let (base, bcm, nfe) = inpainting(model, &val, &p)?;
    println!(
        "| inpainting, centred square hole (¼ side), in-hole PSNR | {bcm:.2} dB vs {base:.2} dB diffusion fill | {nfe} |"
    );
    Ok(())
}
