//! The recipe of a result (command, schedule, seed, model, parameters), stored in a PNG
//! `tEXt` chunk named `bcm_recipe` (and in a JPEG comment), so a result explains itself.

use serde::{Deserialize, Serialize};

pub const RECIPE_KEY: &str = "bcm_recipe";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    pub command: String,
    /// Noise-level plan(s) in text form, e.g. "0.002 > +0.07 > 15 > 80".
    pub schedule: Vec<String>,
    pub seed: u64,
    pub model: String,
    pub nfe: usize,
    /// Task-specific parameters.
    #[serde(default)]
    pub params: serde_json::Value,
    pub software: String,
}

impl Recipe {
    pub fn new(
        command: &str,
        schedule: Vec<String>,
        seed: u64,
        model: &str,
        nfe: usize,
        params: serde_json::Value,
    ) -> Self {
        Self {
            command: command.into(),
            schedule,
            seed,
            model: model.into(),
            nfe,
            params,
            software: format!("bcm-studio {}", env!("CARGO_PKG_VERSION")),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The recipe stored in a PNG, if any.
pub fn read_recipe(png_bytes: &[u8]) -> Option<Recipe> {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let reader = decoder.read_info().ok()?;
    let info = reader.info();
    let latin1 = info
        .uncompressed_latin1_text
        .iter()
        .find(|c| c.keyword == RECIPE_KEY)
        .map(|c| c.text.clone());
    let text = latin1.or_else(|| {
        info.utf8_text
            .iter()
            .find(|c| c.keyword == RECIPE_KEY)
            .and_then(|c| c.get_text().ok())
    })?;
    serde_json::from_str(&text).ok()
}
