//! `eval`: the model's numbers on held-out photos, as a Markdown table (the model card's).

use std::path::Path;

use anyhow::{Result, bail};
use bcm_studio::engine::tasks::{InpaintParams, MaskedContent, RestoreParams, restore_nfe};
use bcm_studio::engine::train::data::{CropSpec, PhotoCache, PhotoSet, validation_batch};
use bcm_studio::engine::train::validate::{images, inpainting, jpeg_restoration, reconstruction};

use super::common::Session;

/// JPEG restorations measured: (quality, σ, damage, NFE, mirrored copies). The first of each
/// quality adds fresh noise on top of the damage; the others read the damage itself as noise
/// of that level and denoise it directly, which keeps more detail; the last averages four
/// mirrored copies.
const RESTORATIONS: [(u8, f32, f32, usize, usize); 8] = [
    (10, 0.05, 0.0, 2, 1),
    (10, 0.05, 0.05, 1, 1),
    (10, 0.08, 0.08, 1, 1),
    (10, 0.08, 0.08, 1, 4),
    (30, 0.05, 0.0, 2, 1),
    (30, 0.03, 0.03, 1, 1),
    (30, 0.05, 0.05, 1, 1),
    (30, 0.03, 0.03, 1, 4),
];

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
    for (quality, sigma, damage, nfe, mirrors) in RESTORATIONS {
        let params = RestoreParams {
            sigma,
            nfe,
            seed: 0,
            damage,
            mirrors,
        };
        let copies = if mirrors > 1 {
            format!(", {mirrors} mirrored copies")
        } else {
            String::new()
        };
        let nfe = restore_nfe(&params)?;
        let (before, after) = jpeg_restoration(model, &val, quality, &params)?;
        println!(
            "| JPEG q={quality} restoration (σ {sigma}, damage {damage}{copies}) | {after:.2} dB vs {before:.2} dB decoded ({:+.2} dB) | {nfe} |",
            after - before,
        );
    }
    // From scratch (the default, strength 80), and from a border fill at strength 2.
    let from_fill = InpaintParams {
        levels: vec![2.0, 0.6, 0.2],
        content: MaskedContent::Fill,
        ..InpaintParams::default()
    };
    for (what, p) in [
        ("", InpaintParams::default()),
        (", from a border fill at σ 2", from_fill),
    ] {
        let (base, bcm, nfe) = inpainting(model, &val, &p)?;
        println!(
            "| inpainting{what}, centred square hole (¼ side), in-hole PSNR | {bcm:.2} dB vs {base:.2} dB diffusion fill | {nfe} |"
        );
    }
    Ok(())
}
