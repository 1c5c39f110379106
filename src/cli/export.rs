//! `export`: a run's newest EMA weights (or any model file) as a standalone model file;
//! `merge`: two models blended weight by weight into one.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use bcm_studio::engine::merge::{CardedModel, merge as blend};
use bcm_studio::engine::train::checkpoint;
use bcm_studio::engine::weights::{self, ModelCard};
use burn::tensor::Device;

use super::args::ModelOutput;
use super::common::check_not_input;

/// The weights file behind `from`: a model file itself, or a run folder's newest EMA.
fn model_file(from: &Path) -> Result<PathBuf> {
    if from.is_dir() {
        Ok(checkpoint::latest(from)
            .with_context(|| format!("{} has no checkpoint", from.display()))?
            .join("ema.safetensors"))
    } else {
        Ok(from.to_path_buf())
    }
}

fn check_output(output: &Path) -> Result<()> {
    if output.extension().and_then(|e| e.to_str()) != Some("safetensors") {
        bail!("the output must end in .safetensors");
    }
    Ok(())
}

/// Save with the output's choices of precision and name.
fn write(model: &bcm_studio::engine::Bcm, mut card: ModelCard, out: ModelOutput) -> Result<()> {
    card.half_precision = out.half;
    if let Some(name) = out.name {
        card.name = name;
    }
    let output = out.output.as_path();
    weights::save(model, &card, output)?;
    eprintln!(
        "wrote {} and {} ({} steps)",
        output.display(),
        weights::card_path(output).display(),
        card.steps
    );
    Ok(())
}

pub fn run(from: &Path, out: ModelOutput) -> Result<()> {
    let source = model_file(from)?;
    check_output(&out.output)?;
    let (model, card) = weights::load_with_card(&source, &Device::flex())?;
    write(&model, card, out)
}

pub fn merge(
    a_given: &Path,
    b_given: &Path,
    alpha: f32,
    out: ModelOutput,
    overwrite: bool,
) -> Result<()> {
    let output = out.output.as_path();
    check_output(output)?;
    let (a, b) = (model_file(a_given)?, model_file(b_given)?);
    check_not_input(output, &[&a, &b], overwrite)?;
    let device = Device::flex();
    let load = |path: &Path| -> Result<CardedModel> {
        let (model, card) = weights::load_with_card(path, &device)?;
        Ok(CardedModel { model, card })
    };
    let (mut first, mut second) = (load(&a)?, load(&b)?);
    // Fine-tunes of one preset often share a name; their files (or run folders) tell them
    // apart in the card.
    if first.card.name == second.card.name {
        for (m, given) in [(&mut first, a_given), (&mut second, b_given)] {
            let label = if given.is_dir() {
                given.file_name()
            } else {
                given.file_stem()
            };
            if let Some(label) = label {
                m.card.name = label.to_string_lossy().into_owned();
            }
        }
    }
    let CardedModel { model, card } = blend(first, &second, alpha)?;
    write(&model, card, out)
}
