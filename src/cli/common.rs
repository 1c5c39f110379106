//! Helpers shared by the subcommands: model and device setup, progress on the terminal,
//! output checks, latent files.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use bcm_studio::engine::device::{DeviceChoice, select};
use bcm_studio::engine::latent_file::{self, LatentFile};
use bcm_studio::engine::weights;
use bcm_studio::engine::{Bcm, Monitor, Planar, Progress, Tiling};
use bcm_studio::photo::{self, Photo, Recipe, SaveOptions};
use bcm_studio::util::atomic::write_atomic;

use super::args::EngineArgs;

/// The model and settings every command works with.
pub struct Session {
    pub model: Bcm,
    pub tiling: Tiling,
    pub args: EngineArgs,
}

impl Session {
    pub fn open(args: &EngineArgs) -> Result<Session> {
        let choice: DeviceChoice = args.device.parse()?;
        let selected = select(choice)?;
        eprintln!("device: {}", selected.description);
        let model = match &args.model {
            Some(path) => weights::load(path, &selected.device)?,
            None => weights::default_model(&selected.device)?,
        };
        if !model.info.trained {
            eprintln!(
                "model: {} — untrained weights, results show the pipeline, not quality",
                model.info.name
            );
        } else {
            eprintln!("model: {}", model.info.name);
        }
        if args.tile < 64 {
            bail!("--tile must be at least 64 pixels");
        }
        let tiling = Tiling {
            tile: args.tile,
            ..Tiling::default()
        };
        Ok(Session {
            model,
            tiling,
            args: args.clone(),
        })
    }

    /// The model that fills holes for the session's (see `tasks::inpaint`): the shipped
    /// inpainting model beside the shipped model; none when `--model` names another (it
    /// inpaints itself).
    pub fn filler(&self) -> Result<Option<Bcm>> {
        Ok(match &self.args.model {
            None => Some(weights::inpaint_model(&self.model.device)?),
            Some(_) => None,
        })
    }

    pub fn save_options(&self) -> SaveOptions {
        SaveOptions {
            jpeg_quality: self.args.quality,
        }
    }
}

/// Progress on stderr, one updating line.
pub struct TerminalProgress {
    label: String,
}

impl TerminalProgress {
    pub fn new(label: &str) -> Self {
        Self {
            label: label.into(),
        }
    }
    pub fn finish(&self) {
        eprintln!();
    }
}

impl Monitor for TerminalProgress {
    fn progress(&mut self, p: &Progress) {
        let tiles = if p.tiles > 1 {
            format!(", tile {}/{}", p.tile + 1, p.tiles)
        } else {
            String::new()
        };
        eprint!(
            "\r{}: {}/{} NFE (σ = {:.3}{tiles})   ",
            self.label, p.nfe, p.nfe_total, p.level
        );
        let _ = std::io::stderr().flush();
    }
}

/// Check an image output before any work: a supported extension, a folder that exists and
/// can be written, and not one of the inputs (unless --overwrite).
pub fn check_output(output: &Path, inputs: &[&Path], args: &EngineArgs) -> Result<()> {
    photo::OutputFormat::from_path(output)?;
    check_folder(output)?;
    check_not_input(output, inputs, args.overwrite)
}

/// [`check_output`] for a latent file (`.safetensors`).
pub fn check_latent_output(output: &Path, inputs: &[&Path], args: &EngineArgs) -> Result<()> {
    let is_latent = output
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("safetensors"));
    if !is_latent {
        bail!(
            "{} is not a latent file name: a latent is written as .safetensors",
            output.display()
        );
    }
    check_folder(output)?;
    check_not_input(output, inputs, args.overwrite)
}

/// Whether two output names are one file (neither need exist yet).
pub fn same_file_name(a: &Path, b: &Path) -> bool {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    absolute(a) == absolute(b)
}

/// The folder `output` goes into exists and takes a new file: found now, not after the work.
pub fn check_folder(output: &Path) -> Result<()> {
    if output.as_os_str().is_empty() {
        bail!("the output file name is empty");
    }
    let folder = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        bail!(
            "the folder {} for {} does not exist",
            folder.display(),
            output.display()
        );
    }
    if output.is_dir() {
        bail!("{} is a folder, not a file name", output.display());
    }
    // The only sure test of "can be written" is writing: a probe file, removed at once.
    let probe = folder.join(format!(".bcm-studio-probe-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => bail!("cannot write into {}: {e}", folder.display()),
    }
}

/// Refuse an output that is one of the inputs, unless `overwrite`.
pub fn check_not_input(output: &Path, inputs: &[&Path], overwrite: bool) -> Result<()> {
    if overwrite {
        return Ok(());
    }
    let out = output.canonicalize().ok();
    for input in inputs {
        if out.is_some() && input.canonicalize().ok() == out {
            bail!(
                "{} is an input; choose another output or pass --overwrite",
                output.display()
            );
        }
    }
    Ok(())
}

impl Session {
    /// Read a photo, refusing one larger than --max-megapixels (or the free memory allows).
    pub fn load_photo(&self, path: &Path) -> Result<Photo> {
        Ok(photo::load_limited(path, self.args.max_pixels()?)?)
    }
}

impl EngineArgs {
    /// The pixel limit: --max-megapixels, or the default from the free memory.
    pub fn max_pixels(&self) -> Result<u64> {
        match self.max_megapixels {
            None => Ok(photo::default_pixel_limit()),
            Some(mp) if mp.is_finite() && mp > 0.0 => Ok((mp * 1e6) as u64),
            Some(mp) => bail!("--max-megapixels must be a positive number, not {mp}"),
        }
    }
}

/// Write a result in the input's pixel format with its recipe.
pub fn write_result(
    session: &Session,
    output: &Path,
    result: &Planar,
    original: Option<&Photo>,
    mask: Option<&bcm_studio::engine::Mask>,
    recipe: &Recipe,
) -> Result<()> {
    let img = photo::compose(result, original.map(|p| &p.original), mask);
    let metadata = original.map(|p| p.metadata.clone()).unwrap_or_default();
    photo::save_with_metadata(
        output,
        &img,
        Some(recipe),
        session.save_options(),
        &metadata,
    )?;
    eprintln!("wrote {}", output.display());
    Ok(())
}

/// Write a task's result over its photo, with the recipe, and report the NFE.
pub fn finish_task(
    session: &Session,
    output: &Path,
    photo: &Photo,
    out: &bcm_studio::engine::tasks::Output,
    command: &str,
    schedule: String,
    params: serde_json::Value,
) -> Result<()> {
    let recipe = Recipe::new(
        command,
        vec![schedule],
        session.args.seed,
        &session.model.info.name,
        out.nfe,
        params,
    );
    write_result(
        session,
        output,
        &out.image,
        Some(photo),
        out.mask.as_ref(),
        &recipe,
    )?;
    eprintln!("NFE: {}", out.nfe);
    Ok(())
}

/// Write a latent file (atomically).
pub fn save_latent(path: &Path, latent: &Planar, sigma: f32, recipe: &Recipe) -> Result<()> {
    let data = latent_file::encode(latent, sigma, recipe.to_json())?;
    write_atomic(path, &data).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

pub fn load_latent(path: &Path) -> Result<LatentFile> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(latent_file::decode(&bytes, &path.display().to_string())?)
}

/// `out.png` → `out-003.png`.
pub fn numbered(path: &Path, k: usize) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "png".into());
    path.with_file_name(format!("{stem}-{k:03}.{ext}"))
}
