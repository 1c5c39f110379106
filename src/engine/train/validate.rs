//! Measurements on held-out photos: reconstruction PSNR/SSIM, JPEG restoration, inpainting,
//! and the sample grid of a run.

use std::path::Path;

use image::{DynamicImage, RgbImage};
use serde::Serialize;

use super::data::Batch;
use super::error::TrainError;
use crate::engine::jpeg::JpegTables;
use crate::engine::model::Bcm;
use crate::engine::noise::NoiseRng;
use crate::engine::noise_level::estimate_noise;
use crate::engine::planar::Planar;
use crate::engine::sampler::Tiling;
use crate::engine::tasks::{self, GenerateParams, RestoreParams};
use crate::engine::{GenerationPreset, Result as EngineResult};

pub use super::metrics::{hole_psnr, psnr, ssim};

/// Split a batch into images.
pub fn images(batch: &Batch) -> Vec<Planar> {
    let per = 3 * batch.patch * batch.patch;
    batch
        .data
        .chunks(per)
        .map(|c| Planar {
            channels: 3,
            height: batch.patch,
            width: batch.patch,
            data: c.to_vec(),
        })
        .collect()
}

fn whole() -> Tiling {
    Tiling {
        max_pixels: usize::MAX,
        tile: 4096,
    }
}

/// Mean reconstruction PSNR and SSIM after inversion to 80 and generation back, `nfe` each way.
pub fn reconstruction(
    model: &Bcm,
    images: &[Planar],
    nfe: usize,
    seed: u64,
) -> EngineResult<(f64, f64)> {
    let (mut p, mut s) = (0.0, 0.0);
    for (k, img) in images.iter().enumerate() {
        let (out, _, _) = tasks::reconstruct(model, img, nfe, seed + k as u64, &whole(), &mut ())?;
        let mut out = out.image;
        out.clamp_unit();
        p += psnr(&out, img);
        s += ssim(&out, img);
    }
    let n = images.len().max(1) as f64;
    Ok((p / n, s / n))
}

fn to_rgb(img: &Planar) -> RgbImage {
    let n = img.pixels();
    RgbImage::from_fn(img.width as u32, img.height as u32, |x, y| {
        let i = y as usize * img.width + x as usize;
        image::Rgb([0, 1, 2].map(|c| {
            (((img.data[c * n + i] + 1.0) * 127.5)
                .round()
                .clamp(0.0, 255.0)) as u8
        }))
    })
}

fn from_rgb(img: &RgbImage) -> Planar {
    crate::photo::planar_from_image(&DynamicImage::ImageRgb8(img.clone()))
}

/// The image after a JPEG round trip at `quality`.
pub fn jpeg_roundtrip(img: &Planar, quality: u8) -> std::result::Result<Planar, TrainError> {
    Ok(jpeg_file(img, quality)?.0)
}

/// The image after a JPEG round trip at `quality`, and the file's tables.
pub fn jpeg_file(
    img: &Planar,
    quality: u8,
) -> std::result::Result<(Planar, JpegTables), TrainError> {
    let rgb = DynamicImage::ImageRgb8(to_rgb(img));
    let bytes = crate::photo::encode(
        &rgb,
        crate::photo::OutputFormat::Jpeg,
        None,
        crate::photo::SaveOptions {
            jpeg_quality: quality,
        },
    )
    .map_err(|e| TrainError::Data(e.to_string()))?;
    let back = crate::photo::decode(&bytes, Path::new("jpeg"))
        .map_err(|e| TrainError::Data(e.to_string()))?;
    let tables = JpegTables::read(&bytes).map_err(crate::engine::EngineError::from)?;
    Ok((from_rgb(&back.to_rgb8()), tables))
}

/// The clean photo quantised to 8 bits, as the reference for restoration metrics.
pub fn quantised(img: &Planar) -> Planar {
    from_rgb(&to_rgb(img))
}

/// (PSNR of the damaged photo, PSNR after restoration), both against the clean photo (8-bit
/// quantised), and the NFE each restoration took. `damage(k, clean)` makes photo k's damaged
/// version and the parameters to restore it with.
fn restoration_psnr(
    model: &Bcm,
    images: &[Planar],
    damage: impl Fn(usize, &Planar) -> std::result::Result<(Planar, RestoreParams), TrainError>,
) -> std::result::Result<(f64, f64, usize), TrainError> {
    let (mut before, mut after, mut nfe) = (0.0, 0.0, 0);
    for (k, img) in images.iter().enumerate() {
        let clean = quantised(img);
        let (damaged, params) = damage(k, &clean)?;
        let out = tasks::restore(model, &damaged, &params, &whole(), &mut ())?;
        before += psnr(&damaged, &clean);
        after += psnr(&quantised(&out.image), &clean);
        nfe = out.nfe;
    }
    let n = images.len().max(1) as f64;
    Ok((before / n, after / n, nfe))
}

/// [`restoration_psnr`] of JPEG-compressed photos at `quality`, restored with the settings
/// suggested from the file's tables (each pass consistent with it), with at most `passes`.
pub fn jpeg_restoration(
    model: &Bcm,
    images: &[Planar],
    quality: u8,
    passes: usize,
) -> std::result::Result<(f64, f64, usize), TrainError> {
    restoration_psnr(model, images, |_, clean| {
        let (damaged, tables) = jpeg_file(clean, quality)?;
        let params = RestoreParams {
            passes,
            ..RestoreParams::suggested(estimate_noise(&damaged), Some(tables))
        };
        Ok((damaged, params))
    })
}

/// [`restoration_psnr`] of photos with white noise of std `sigma` (8-bit quantised),
/// restored with the settings suggested from the noise measured in them.
pub fn noisy_restoration(
    model: &Bcm,
    images: &[Planar],
    sigma: f32,
) -> std::result::Result<(f64, f64, usize), TrainError> {
    restoration_psnr(model, images, |k, clean| {
        let mut noisy = clean.clone();
        noisy.add_scaled(
            &NoiseRng::new(1000 + k as u64).normal(noisy.data.len()),
            sigma,
        );
        let noisy = quantised(&noisy);
        let params = RestoreParams::suggested(estimate_noise(&noisy), None);
        Ok((noisy, params))
    })
}

/// Validation numbers logged during training.
#[derive(Debug, Clone, Serialize)]
pub struct ValReport {
    pub step: u64,
    pub psnr_nfe1: f64,
    pub psnr_nfe2: f64,
    pub ssim_nfe2: f64,
    /// The 4-NFE round trip: a model trained on short round trips can fall behind there.
    pub psnr_nfe4: f64,
    /// PSNR of one-step denoising from σ = 0.2 (what restoration relies on).
    pub psnr_denoise: f64,
    /// Noise level the one-hop inversion to 80 reaches (see [`inversion_level`]).
    pub inversion_sigma: f64,
    /// An inpainting model's in-hole PSNR on random holes, and the classical fill's on the
    /// same holes (the figures above do not apply to it and are NaN).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hole_psnr: Option<(f64, f64)>,
    pub images: usize,
}

/// The noise level a one-hop inversion to 80 actually reaches: the RMS of (latent − photo),
/// 80 for an exact inversion. A denoiser that under-estimates the noise at 0.07, where the
/// inversion starts, lands lower, and generation back from 80 then fails.
pub fn inversion_level(model: &Bcm, images: &[Planar]) -> EngineResult<f64> {
    let plan = crate::engine::plan::Plan::inversion(model.info.ladders, 1, 80.0)?;
    let mut total = 0.0;
    for (k, img) in images.iter().enumerate() {
        let latent = model.run(
            img.clone(),
            &plan,
            &mut crate::engine::NoiseRng::new(k as u64),
            &whole(),
            &mut (),
        )?;
        total += (latent.mse(img)).sqrt();
    }
    Ok(total / images.len().max(1) as f64)
}

/// Mean PSNR of one jump f(x0 + σz, σ, σ_min) back to the photo.
pub fn denoising(model: &Bcm, images: &[Planar], sigma: f32) -> EngineResult<f64> {
    let plan = crate::engine::plan::Plan::hops(sigma, &[crate::engine::schedule::SIGMA_MIN]);
    let mut total = 0.0;
    for (k, img) in images.iter().enumerate() {
        let mut noisy = img.clone();
        noisy.add_scaled(
            &crate::engine::NoiseRng::new(k as u64).normal(img.data.len()),
            sigma,
        );
        let mut out = model.run(
            noisy,
            &plan,
            &mut crate::engine::NoiseRng::new(0),
            &whole(),
            &mut (),
        )?;
        out.clamp_unit();
        total += psnr(&out, img);
    }
    Ok(total / images.len().max(1) as f64)
}

/// Validation holes: the same random hole for crop `k` at every step.
fn validation_hole(img: &Planar, k: usize) -> crate::engine::mask::Mask {
    super::inpaint_data::random_hole(img.width, img.height, &mut NoiseRng::new(0x5a1 + k as u64))
}

/// Mean in-hole PSNR of an inpainting model and of the classical fill on validation holes.
pub fn hole_filling(model: &Bcm, val: &[Planar]) -> EngineResult<(f64, f64)> {
    let (mut ours, mut classical) = (0.0, 0.0);
    let p = tasks::InpaintParams::default();
    for (k, img) in val.iter().enumerate() {
        let hole = validation_hole(img, k);
        let out = tasks::inpaint(model, None, img, &hole, &p, &whole(), &mut ())?;
        let shown = out.composited(img);
        ours += hole_psnr(&shown, img, &hole);
        let fill = crate::engine::fill::harmonic_fill(img, &hole.data);
        classical += hole_psnr(&fill, img, &hole);
    }
    let n = val.len().max(1) as f64;
    Ok((ours / n, classical / n))
}

pub fn validation(model: &Bcm, val: &[Planar], step: u64) -> EngineResult<ValReport> {
    if model.config.conditioning() > 0 {
        return Ok(ValReport {
            step,
            psnr_nfe1: f64::NAN,
            psnr_nfe2: f64::NAN,
            ssim_nfe2: f64::NAN,
            psnr_nfe4: f64::NAN,
            psnr_denoise: f64::NAN,
            inversion_sigma: f64::NAN,
            hole_psnr: Some(hole_filling(model, val)?),
            images: val.len(),
        });
    }
    let (p1, _) = reconstruction(model, val, 1, 0)?;
    let (p2, s2) = reconstruction(model, val, 2, 0)?;
    let (p4, _) = reconstruction(model, val, 4, 0)?;
    Ok(ValReport {
        step,
        psnr_nfe1: p1,
        psnr_nfe2: p2,
        ssim_nfe2: s2,
        psnr_nfe4: p4,
        psnr_denoise: denoising(model, val, 0.2)?,
        inversion_sigma: inversion_level(model, val)?,
        hole_psnr: None,
        images: val.len(),
    })
}

/// Sample grid: one-step generations (top row), validation photos, their 2-NFE reconstructions.
/// For an inpainting model: the photos with their validation holes blanked (top row), filled,
/// and as they were.
pub fn sample_grid(model: &Bcm, val: &[Planar], patch: usize) -> EngineResult<RgbImage> {
    let cols = 6.min(val.len().max(1));
    let mut rows: Vec<Vec<Planar>> = vec![Vec::new(), Vec::new(), Vec::new()];
    if model.config.conditioning() > 0 {
        for (k, img) in val.iter().take(cols).enumerate() {
            let hole = validation_hole(img, k);
            let out = tasks::inpaint(
                model,
                None,
                img,
                &hole,
                &tasks::InpaintParams::default(),
                &whole(),
                &mut (),
            )?;
            let mut shown = out.composited(img);
            shown.clamp_unit();
            rows[0].push(img.blend(
                &Planar::zeros(img.channels, img.height, img.width),
                &hole.data,
            ));
            rows[1].push(shown);
            rows[2].push(img.clone());
        }
        return Ok(grid_of(&rows, cols, patch));
    }
    for k in 0..cols {
        let plan = GenerationPreset::OneStep.plan_from(80.0);
        let g = tasks::generate(
            model,
            &GenerateParams {
                width: patch,
                height: patch,
                plan,
                seed: 1000 + k as u64,
            },
            &whole(),
            &mut (),
        )?;
        let mut img = g.image;
        img.clamp_unit();
        rows[0].push(img);
    }
    for img in val.iter().take(cols) {
        rows[1].push(img.clone());
        let (out, _, _) = tasks::reconstruct(model, img, 2, 0, &whole(), &mut ())?;
        let mut out = out.image;
        out.clamp_unit();
        rows[2].push(out);
    }
    Ok(grid_of(&rows, cols, patch))
}

/// Rows of `patch`² images as one picture.
fn grid_of(rows: &[Vec<Planar>], cols: usize, patch: usize) -> RgbImage {
    let gap = 2;
    let mut grid = RgbImage::from_pixel(
        (cols * (patch + gap)) as u32,
        (3 * (patch + gap)) as u32,
        image::Rgb([40, 40, 40]),
    );
    for (r, row) in rows.iter().enumerate() {
        for (c, img) in row.iter().enumerate() {
            let tile = to_rgb(img);
            image::imageops::replace(
                &mut grid,
                &tile,
                (c * (patch + gap)) as i64,
                (r * (patch + gap)) as i64,
            );
        }
    }
    grid
}
