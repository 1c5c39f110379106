//! `export`: a run's newest EMA weights (or any model file) as a standalone model file;
//! `merge`: two models blended weight by weight into one, or one moved by the difference of
//! two others.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use bcm_studio::engine::merge::{CardedModel, add_difference, merge as blend};
use bcm_studio::engine::train::{checkpoint, run_config};
use bcm_studio::engine::weights::{self, ModelCard};
use burn::tensor::Device;

use super::args::ModelOutput;
use super::common::{check_folder, check_not_input};

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

/// A model output: a .safetensors name in a folder that takes it, and neither it nor the card
/// beside it one of the input models' files (unless `overwrite`).
fn check_output(output: &Path, inputs: &[&Path], overwrite: bool) -> Result<()> {
    if output.extension().and_then(|e| e.to_str()) != Some("safetensors") {
        bail!("the output must end in .safetensors");
    }
    check_folder(output)?;
    let cards: Vec<PathBuf> = inputs.iter().map(|i| weights::card_path(i)).collect();
    let all: Vec<&Path> = inputs
        .iter()
        .copied()
        .chain(cards.iter().map(PathBuf::as_path))
        .collect();
    check_not_input(output, &all, overwrite)?;
    check_not_input(&weights::card_path(output), &all, overwrite)
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

pub fn run(from: &Path, out: ModelOutput, overwrite: bool) -> Result<()> {
    let source = model_file(from)?;
    check_output(&out.output, &[&source], overwrite)?;
    let (model, mut card) = weights::load_with_card(&source, &Device::flex())?;
    if from.is_dir() {
        // The run's own settings, newest (a resume may have changed them since the
        // checkpoint's card was written, and older checkpoints' cards lack them).
        card.training = Some(run_config(from)?);
    }
    write(&model, card, out)
}

pub fn merge(
    a_given: &Path,
    b_given: &Path,
    c_given: Option<&Path>,
    alpha: f32,
    out: ModelOutput,
    overwrite: bool,
) -> Result<()> {
    let output = out.output.as_path();
    let given: Vec<&Path> = [Some(a_given), Some(b_given), c_given]
        .into_iter()
        .flatten()
        .collect();
    let files = given
        .iter()
        .map(|g| model_file(g))
        .collect::<Result<Vec<_>>>()?;
    let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    check_output(output, &inputs, overwrite)?;
    let device = Device::flex();
    let mut models = files
        .iter()
        .map(|path| -> Result<CardedModel> {
            let (model, card) = weights::load_with_card(path, &device)?;
            Ok(CardedModel { model, card })
        })
        .collect::<Result<Vec<_>>>()?;
    // Fine-tunes of one preset often share a name; their files (or run folders) tell them
    // apart in the card.
    let names: HashSet<&str> = models.iter().map(|m| m.card.name.as_str()).collect();
    if names.len() < models.len() {
        for (m, given) in models.iter_mut().zip(&given) {
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
    let mut models = models.into_iter();
    let (Some(first), Some(second)) = (models.next(), models.next()) else {
        bail!("a merge takes two models");
    };
    let CardedModel { model, card } = match models.next() {
        Some(third) => add_difference(first, &second, &third, alpha)?,
        None => blend(first, &second, alpha)?,
    };
    write(&model, card, out)
}
