//! Blending two models (or adding a difference) as a worker job: the worker reads the files
//! on its own device, so a blend never runs beside another job unseen.

use std::path::{Path, PathBuf};

use burn::tensor::Device;

use crate::engine::merge::{CardedModel, add_difference, merge};
use crate::engine::model::Bcm;
use crate::engine::{EngineError, Result, weights};

/// A model file and the name the blend gives it (fine-tunes of one preset share a card name).
#[derive(Debug, Clone, PartialEq)]
pub struct NamedModel {
    pub file: PathBuf,
    pub name: String,
}

/// What to blend and where to save it.
#[derive(Debug, Clone, PartialEq)]
pub struct BlendRequest {
    pub first: NamedModel,
    pub second: NamedModel,
    /// Add the second's difference from this one to the first instead of blending.
    pub difference_from: Option<NamedModel>,
    /// Weight of the second model (or of the difference).
    pub weight: f32,
    pub out: PathBuf,
}

/// Load the models, blend them and save the result at `request.out` (card beside it).
pub fn blend(request: &BlendRequest, device: &Device) -> Result<Bcm> {
    let load = |m: &NamedModel| -> Result<CardedModel> {
        let (model, mut card) = weights::load_with_card(&m.file, device)?;
        card.name = m.name.clone();
        Ok(CardedModel { model, card })
    };
    let (first, second) = (load(&request.first)?, load(&request.second)?);
    let blended = match &request.difference_from {
        Some(third) => add_difference(first, &second, &load(third)?, request.weight),
        None => merge(first, &second, request.weight),
    }?;
    create_parent(&request.out)?;
    weights::save(&blended.model, &blended.card, &request.out)?;
    Ok(blended.model)
}

fn create_parent(file: &Path) -> Result<()> {
    match file.parent() {
        Some(dir) => std::fs::create_dir_all(dir)
            .map_err(|e| EngineError::io(format!("blend folder {}", dir.display()), e)),
        None => Ok(()),
    }
}
