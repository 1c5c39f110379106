//! `interpolate`: frames between two photos in noise space.

use std::path::Path;

use anyhow::{Context, Result, bail};
use bcm_studio::engine::tasks::Interpolator;
use bcm_studio::photo::{self, Recipe};
use image::GenericImage;
use serde_json::json;

use super::common::{Session, TerminalProgress, check_not_input, check_output, numbered};
use bcm_studio::engine::Plan;
use bcm_studio::util::atomic::write_set;

#[allow(clippy::too_many_arguments)]
pub fn run(
    session: &Session,
    first: &Path,
    second: &Path,
    frames: usize,
    sigma: f32,
    nfe: usize,
    strip: bool,
    output: &Path,
) -> Result<()> {
    let model = &session.model;
    let tiling = &session.tiling;
    let seed = session.args.seed;
    let model_name = model.info.name.clone();
    if !(2..=240).contains(&frames) {
        bail!("--frames must be 2-240");
    }
    if strip {
        check_output(output, &[first, second], &session.args)?;
    } else {
        // Every numbered frame is an output: none may be an input (a-000.png, say). They
        // share one folder and format, checked once.
        check_output(&numbered(output, 0), &[first, second], &session.args)?;
        for k in 1..frames {
            check_not_input(
                &numbered(output, k),
                &[first, second],
                session.args.overwrite,
            )?;
        }
    }
    let a = session.load_photo(first)?;
    let mut b = session.load_photo(second)?;
    if (a.width(), a.height()) != (b.width(), b.height()) {
        eprintln!(
            "note: {} is {}x{}; resized to {}x{} to match the first picture",
            second.display(),
            b.width(),
            b.height(),
            a.width(),
            a.height()
        );
        let resized = b.original.resize_exact(
            a.width() as u32,
            a.height() as u32,
            image::imageops::FilterType::Lanczos3,
        );
        b = photo::Photo::from_image(resized, Some(second.to_path_buf()));
    }
    let scheme = Plan::generation(model.info.ladders, nfe, sigma)?;
    let mut progress = TerminalProgress::new("invert both");
    let interp = Interpolator::new(
        model,
        &a.rgb,
        &b.rgb,
        sigma,
        nfe,
        scheme,
        seed,
        tiling,
        &mut progress,
    )?;
    progress.finish();
    let alphas: Vec<f32> = (0..frames)
        .map(|k| k as f32 / (frames - 1) as f32)
        .collect();
    let mut images = Vec::new();
    for (k, &alpha) in alphas.iter().enumerate() {
        let mut progress = TerminalProgress::new(&format!("frame {}/{frames}", k + 1));
        images.push(
            interp
                .frame(model, alpha, seed, tiling, &mut progress)?
                .image,
        );
        progress.finish();
    }
    let schedule = vec![interp.a.plan.to_string(), interp.generation.to_string()];
    let total = 2 * interp.a.plan.nfe() + frames * interp.generation.nfe();
    let recipe = |alpha: Option<f32>| {
        Recipe::new(
            "interpolate",
            schedule.clone(),
            seed,
            &model_name,
            total,
            json!({"sigma": sigma, "alpha": alpha, "frames": frames}),
        )
    };
    if strip {
        let (w, h) = (a.width() as u32, a.height() as u32);
        let mut sheet = image::RgbImage::new(w * frames as u32, h);
        for (k, img) in images.iter().enumerate() {
            let frame = photo::compose(img, None, None).to_rgb8();
            sheet
                .copy_from(&frame, k as u32 * w, 0)
                .context("assembling the strip")?;
        }
        photo::save(
            output,
            &image::DynamicImage::ImageRgb8(sheet),
            Some(&recipe(None)),
            session.save_options(),
        )?;
        eprintln!("wrote {}", output.display());
    } else {
        // Every frame is encoded before the first is written, and a failed write takes the
        // frames written before it away again: the frames come as a set or not at all.
        let format = photo::OutputFormat::from_path(output)?;
        let mut encoded = Vec::new();
        for (k, img) in images.iter().enumerate() {
            let composed = photo::compose(img, Some(&a.original), None);
            let bytes = photo::encode(
                &composed,
                format,
                Some(&recipe(Some(alphas[k]))),
                session.save_options(),
            )?;
            encoded.push((numbered(output, k), bytes));
        }
        write_set(&encoded).map_err(|(path, e)| {
            anyhow::Error::new(e).context(format!("writing {}", path.display()))
        })?;
        for (path, _) in &encoded {
            eprintln!("wrote {}", path.display());
        }
    }
    eprintln!(
        "NFE: {total} ({} per inversion, {} per frame)",
        interp.a.plan.nfe(),
        interp.generation.nfe()
    );
    Ok(())
}
