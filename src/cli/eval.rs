//! `eval`: the model's numbers on held-out photos, as a Markdown table (the model card's).

use std::path::Path;

use anyhow::{Result, bail};
use bcm_studio::engine::plan::Plan;
use bcm_studio::engine::tasks::{InpaintParams, MaskedContent, RestoreParams};
use bcm_studio::engine::train::data::{CropSpec, PhotoCache, PhotoSet, validation_batch};
use bcm_studio::engine::train::validate::{
    JpegSetting, images, inpainting, jpeg_restoration, noisy_restoration, reconstruction,
};

use super::common::Session;

/// JPEG restorations measured without the file: (quality, σ, damage, passes, mirrored
/// copies). The first of each quality adds fresh noise on top of the damage; the others read
/// the damage itself as noise of that level and denoise it directly, which keeps more detail;
/// the last averages four mirrored copies.
const WITHOUT_FILE: [(u8, f32, f32, usize, usize); 8] = [
    (10, 0.05, 0.0, 2, 1),
    (10, 0.05, 0.05, 1, 1),
    (10, 0.08, 0.08, 1, 1),
    (10, 0.08, 0.08, 1, 4),
    (30, 0.05, 0.0, 2, 1),
    (30, 0.03, 0.03, 1, 1),
    (30, 0.05, 0.05, 1, 1),
    (30, 0.03, 0.03, 1, 4),
];

/// Noise levels of the noisy-photo restorations (σ on the [-1, 1] scale).
const NOISE: [f32; 2] = [0.1, 0.2];

/// JPEG restorations with the strength suggested from the file and consistency with it:
/// (quality, passes).
const FROM_FILE: [(u8, usize); 4] = [(10, 3), (10, 4), (30, 3), (30, 4)];

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
        "model `{}` ({}) on {} held-out photos of {} (centre {size}x{size} crops after 2x downscale)",
        model.info.name,
        model.info.ladders.describe(),
        val.len(),
        data.display()
    );
    println!();
    println!("| measurement | result | NFE |");
    println!("|---|---|---|");
    for nfe in [1, 2, 4, 8, 16, 32, 64] {
        let (p, s) = reconstruction(model, &val, nfe, 0)?;
        let down = Plan::generation(model.info.ladders, nfe, 80.0)?.nfe();
        println!(
            "| reconstruction (invert to 80, generate back) | PSNR {p:.2} dB, SSIM {s:.3} | {nfe} + {down} |"
        );
    }
    let mut rows = Vec::new();
    for (quality, sigma, damage, passes, mirrors) in WITHOUT_FILE {
        let copies = if mirrors > 1 {
            format!(", {mirrors} mirrored copies")
        } else {
            String::new()
        };
        let p = RestoreParams {
            sigma,
            passes,
            damage,
            mirrors,
            ..RestoreParams::default()
        };
        let what = match passes {
            1 => format!("σ {sigma}, damage {damage}{copies}"),
            n => format!("σ {sigma}, damage {damage}, {n} passes{copies}"),
        };
        rows.push((quality, what, JpegSetting::Manual(p)));
    }
    for (quality, passes) in FROM_FILE {
        let what = format!("strength from the file, {passes} passes, consistent with the file");
        rows.push((quality, what, JpegSetting::FromFile { passes }));
    }
    for (quality, what, setting) in rows {
        let (before, after, nfe) = jpeg_restoration(model, &val, quality, &setting)?;
        println!(
            "| JPEG q={quality} restoration ({what}) | {after:.2} dB vs {before:.2} dB decoded ({:+.2} dB) | {nfe} |",
            after - before,
        );
    }
    for sigma in NOISE {
        let (before, after, nfe) = noisy_restoration(model, &val, sigma)?;
        println!(
            "| noisy photo (white noise σ {sigma}) restoration, settings from the noise measured in it | {after:.2} dB vs {before:.2} dB noisy ({:+.2} dB) | {nfe} |",
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
