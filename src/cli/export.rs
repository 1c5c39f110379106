//! `export`: a run's newest EMA weights (or any model file) as a standalone model file.

use std::path::Path;

use anyhow::{Context, Result, bail};
use bcm_studio::engine::train::checkpoint;
use bcm_studio::engine::weights;
use burn::tensor::Device;

pub fn run(from: &Path, output: &Path, half: bool, name: Option<String>) -> Result<()> {
    let source = if from.is_dir() {
        checkpoint::latest(from)
            .with_context(|| format!("{} has no checkpoint", from.display()))?
            .join("ema.safetensors")
    } else {
        from.to_path_buf()
    };
    if output.extension().and_then(|e| e.to_str()) != Some("safetensors") {
        bail!("the output must end in .safetensors");
    }
    let device = Device::flex();
    let (model, mut card) = weights::load_with_card(&source, &device)?;
    card.half_precision = half;
    if let Some(name) = name {
        card.name = name;
    }
    weights::save(&model, &card, output)?;
    eprintln!(
        "wrote {} and {} ({} steps)",
        output.display(),
        weights::card_path(output).display(),
        card.steps
    );
    Ok(())
}
