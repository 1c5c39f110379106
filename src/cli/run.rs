//! Running the model subcommands.

use anyhow::{Context, Result, bail};
use bcm_studio::engine::mask::Mask;
use bcm_studio::engine::noise_level::estimate_noise;
use bcm_studio::engine::planar::latent_preview;
use bcm_studio::engine::tasks::{self, EditParams, RestoreParams};
use bcm_studio::engine::train::metrics::psnr;
use bcm_studio::engine::{GenerationPreset, Plan};
use bcm_studio::photo::{self, Recipe};
use serde_json::json;

use super::args::Command;
use super::common::{
    Session, TerminalProgress, check_latent_output, check_output, finish_task, load_latent,
    same_file_name, save_latent, write_result,
};

pub fn preset(nfe: usize) -> Result<GenerationPreset> {
    GenerationPreset::for_nfe(nfe).with_context(|| format!("--nfe must be 1-4, got {nfe}"))
}

pub fn run(command: Command, session: &Session) -> Result<()> {
    let model = &session.model;
    let tiling = &session.tiling;
    let seed = session.args.seed;
    let model_name = model.info.name.clone();
    match command {
        Command::Generate {
            width,
            height,
            nfe,
            schedule,
            from,
            output,
        } => {
            let inputs: Vec<&std::path::Path> = from.iter().map(|p| p.as_path()).collect();
            check_output(&output, &inputs, &session.args)?;
            let mut progress = TerminalProgress::new("generate");
            let (image, plan) = match from {
                Some(path) => {
                    let latent = load_latent(&path)?;
                    let plan = match schedule {
                        Some(s) => s.parse::<Plan>()?,
                        None => Plan::generation(model.info.ladders, nfe, latent.sigma)?,
                    };
                    if (plan.start - latent.sigma).abs() > 1e-3 * latent.sigma {
                        bail!(
                            "the schedule starts at {} but the latent is at {}",
                            plan.start,
                            latent.sigma
                        );
                    }
                    let mut rng = bcm_studio::engine::NoiseRng::new(seed);
                    (
                        model.run(latent.latent, &plan, &mut rng, tiling, &mut progress)?,
                        plan,
                    )
                }
                None => {
                    let plan = match schedule {
                        Some(s) => s.parse::<Plan>()?,
                        None => Plan::generation(model.info.ladders, nfe, 80.0)?,
                    };
                    let p = tasks::GenerateParams {
                        width,
                        height,
                        plan: plan.clone(),
                        seed,
                    };
                    (
                        tasks::generate(model, &p, tiling, &mut progress)?.image,
                        plan,
                    )
                }
            };
            progress.finish();
            let recipe = Recipe::new(
                "generate",
                vec![plan.to_string()],
                seed,
                &model_name,
                plan.nfe(),
                json!({}),
            );
            write_result(session, &output, &image, None, None, &recipe)?;
            eprintln!("NFE: {}", plan.nfe());
        }
        Command::Invert {
            input,
            sigma,
            nfe,
            schedule,
            output,
            preview,
        } => {
            check_latent_output(&output, &[&input], &session.args)?;
            if let Some(preview) = &preview {
                check_output(preview, &[&input, &output], &session.args)?;
                if same_file_name(preview, &output) {
                    bail!("the preview and the latent are the same file");
                }
            }
            let photo = session.load_photo(&input)?;
            let plan = match schedule {
                Some(s) => s.parse::<Plan>()?,
                None => Plan::inversion(model.info.ladders, nfe, sigma)?,
            };
            let mut progress = TerminalProgress::new("invert");
            let inv = tasks::invert(model, &photo.rgb, &plan, seed, tiling, &mut progress)?;
            progress.finish();
            let recipe = Recipe::new(
                "invert",
                vec![plan.to_string()],
                seed,
                &model_name,
                plan.nfe(),
                json!({}),
            );
            save_latent(&output, &inv.latent, inv.sigma, &recipe)?;
            if let Some(preview) = preview {
                write_result(
                    session,
                    &preview,
                    &latent_preview(&inv.latent, inv.sigma),
                    None,
                    None,
                    &recipe,
                )?;
            }
            eprintln!("NFE: {} (latent at σ = {})", plan.nfe(), inv.sigma);
        }
        Command::Reconstruct { input, nfe, output } => {
            check_output(&output, &[&input], &session.args)?;
            let photo = session.load_photo(&input)?;
            let mut progress = TerminalProgress::new("reconstruct");
            let (out, up, down) =
                tasks::reconstruct(model, &photo.rgb, nfe, seed, tiling, &mut progress)?;
            progress.finish();
            let recipe = Recipe::new(
                "reconstruct",
                vec![up.to_string(), down.to_string()],
                seed,
                &model_name,
                out.nfe,
                json!({}),
            );
            write_result(session, &output, &out.image, Some(&photo), None, &recipe)?;
            eprintln!(
                "NFE: {} inversion + {} generation = {}; PSNR vs input {:.2} dB",
                up.nfe(),
                down.nfe(),
                out.nfe,
                psnr(&out.image, &photo.rgb)
            );
        }
        Command::Interpolate {
            first,
            second,
            frames,
            sigma,
            nfe,
            strip,
            output,
        } => super::interpolate::run(session, &first, &second, frames, sigma, nfe, strip, &output)?,
        Command::Inpaint {
            input,
            mask,
            fill,
            output,
        } => {
            let p = fill.params(seed)?;
            check_output(&output, &[&input, &mask], &session.args)?;
            let photo = session.load_photo(&input)?;
            let m = photo::load_mask(&mask, photo.width(), photo.height())?;
            let mut progress = TerminalProgress::new("inpaint");
            let filler = session.filler()?;
            let out = tasks::inpaint(
                &session.model,
                filler.as_ref(),
                &photo.rgb,
                &m,
                &p,
                tiling,
                &mut progress,
            )?;
            progress.finish();
            let params = serde_json::to_value(&p)?;
            finish_task(
                session,
                &output,
                &photo,
                &out,
                "inpaint",
                p.schedule(),
                params,
            )?;
        }
        Command::Restore {
            input,
            sigma,
            damage,
            passes,
            mirrors,
            ignore_jpeg,
            output,
        } => {
            check_output(&output, &[&input], &session.args)?;
            let photo = session.load_photo(&input)?;
            let tables = photo.jpeg.clone().filter(|_| !ignore_jpeg);
            let measured = estimate_noise(&photo.rgb);
            let base = RestoreParams::suggested(measured, tables);
            let noise = measured.map_or_else(|| "unknown".into(), |n| format!("{n:.3}"));
            match &base.jpeg {
                Some(t) => eprintln!(
                    "JPEG of quality about {}, noise σ {noise}: strength {:.3}, {} passes, each consistent with the file",
                    t.quality(),
                    base.sigma,
                    base.passes
                ),
                None => eprintln!("noise σ {noise}: strength {:.3}", base.sigma),
            }
            let damage = damage.unwrap_or(base.damage);
            let p = RestoreParams {
                sigma: sigma.unwrap_or(damage),
                damage,
                passes: passes.unwrap_or(base.passes),
                mirrors,
                seed,
                ..base
            };
            let mut progress = TerminalProgress::new("restore");
            let out = tasks::restore(model, &photo.rgb, &p, tiling, &mut progress)?;
            progress.finish();
            let params = json!({
                "sigma": p.sigma,
                "damage": p.damage,
                "passes": p.passes,
                "mirrors": p.mirrors,
                "jpeg_quality": p.jpeg.as_ref().map(|t| t.quality()),
            });
            finish_task(
                session,
                &output,
                &photo,
                &out,
                "restore",
                tasks::restore_schedule(&p)?,
                params,
            )?;
        }
        Command::Edit {
            input,
            strokes,
            mask,
            sigma,
            nfe,
            output,
        } => {
            let mut inputs = vec![input.as_path(), strokes.as_path()];
            inputs.extend(mask.as_deref());
            check_output(&output, &inputs, &session.args)?;
            let photo = session.load_photo(&input)?;
            let strokes_img = photo::decode(
                &std::fs::read(&strokes)
                    .with_context(|| format!("reading {}", strokes.display()))?,
                &strokes,
            )?;
            if (strokes_img.width() as usize, strokes_img.height() as usize)
                != (photo.width(), photo.height())
            {
                bail!(
                    "strokes {} is {}x{} but the photo is {}x{}",
                    strokes.display(),
                    strokes_img.width(),
                    strokes_img.height(),
                    photo.width(),
                    photo.height()
                );
            }
            let (edited, stroke_mask) = paint_strokes(&photo, &strokes_img);
            let region = match mask {
                Some(path) => photo::load_mask(&path, photo.width(), photo.height())?,
                None => stroke_mask,
            };
            let p = EditParams {
                sigma,
                preset: preset(nfe)?,
                seed,
                ..EditParams::default()
            };
            let mut progress = TerminalProgress::new("edit");
            let out = tasks::edit(model, &edited, &region, &p, tiling, &mut progress)?;
            progress.finish();
            let plan = tasks::edit_plan(&p)?;
            finish_task(
                session,
                &output,
                &photo,
                &out,
                "edit",
                plan.to_string(),
                json!({"sigma": sigma}),
            )?;
        }
        Command::Eval {
            data,
            images,
            size,
            test_data,
            inpainting_only,
            markdown,
            fill,
        } => super::eval::run(
            session,
            &super::eval::EvalRequest {
                data,
                test_data,
                max_images: images,
                size,
                inpainting_only,
                inpaint: fill.params(seed)?,
                markdown,
            },
        )?,
        Command::Bench { .. }
        | Command::Train { .. }
        | Command::Export { .. }
        | Command::Merge { .. } => {
            bail!("this command runs without a loaded model (see main)")
        }
    }
    Ok(())
}

/// The photo with the strokes alpha-composited over it, and the strokes' coverage as a mask.
fn paint_strokes(
    photo: &photo::Photo,
    strokes: &image::DynamicImage,
) -> (bcm_studio::engine::Planar, Mask) {
    let s = strokes.to_rgba32f();
    let mut edited = photo.rgb.clone();
    let n = edited.pixels();
    let mut mask = Mask::empty(photo.width(), photo.height());
    for (i, px) in s.pixels().enumerate() {
        let a = px.0[3];
        if a > 0.0 {
            for c in 0..3 {
                let v = &mut edited.data[c * n + i];
                *v = *v * (1.0 - a) + (px.0[c] * 2.0 - 1.0) * a;
            }
            mask.data[i] = a;
        }
    }
    (edited, mask)
}
