//! Model files: weights in safetensors (through burn-store) plus a JSON description beside
//! them (`name.safetensors` + `name.json`). The default model is embedded in the binary.

use std::path::{Path, PathBuf};

use burn::store::{HalfPrecisionAdapter, ModuleSnapshot, SafetensorsStore};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::error::{EngineError, Result};
use super::model::{Bcm, ModelInfo};
use super::network::UNetConfig;
use super::plan::{LadderStyle, Ladders};
use super::train::TrainConfig;
use crate::util::atomic::write_atomic;

/// The JSON file next to the weights.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ModelCard {
    /// Always "bcm-studio-model".
    pub format: String,
    pub name: String,
    pub config: UNetConfig,
    /// Whether the weights are stored as f16.
    pub half_precision: bool,
    /// Training steps behind these weights (0 for random weights).
    #[serde(default)]
    pub steps: u64,
    /// Free text: data, hardware, evaluation.
    #[serde(default)]
    pub notes: String,
    /// Which long ladders suit the weights (Heun for cards written before there was a choice:
    /// those models were trained as denoisers).
    #[serde(default)]
    pub ladders: Ladders,
    /// Where the model's short plain ladders turn ([`LadderStyle::floor`]; 0.07, the
    /// reference's start, for cards written before there was a choice).
    #[serde(default = "super::plan::default_ladder_floor")]
    pub ladder_floor: f32,
    /// The settings of the training run these weights come from (none for blends and
    /// untrained weights): continuing a model the way it was made reads them from here, so the
    /// Train tab's "continue from the shipped model" follows the shipped file itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<TrainConfig>,
}

const FORMAT: &str = "bcm-studio-model";

impl ModelCard {
    pub fn new(name: &str, config: UNetConfig) -> Self {
        Self {
            format: FORMAT.into(),
            name: name.into(),
            config,
            half_precision: false,
            steps: 0,
            notes: String::new(),
            ladders: Ladders::default(),
            ladder_floor: LadderStyle::DEFAULT_FLOOR,
            training: None,
        }
    }

    /// The ladders the card names, floor checked.
    pub fn ladder_style(&self) -> Result<LadderStyle> {
        LadderStyle::new(self.ladders, self.ladder_floor)
    }

    /// Name the ladders of `style` on the card.
    pub fn set_ladder_style(&mut self, style: LadderStyle) {
        (self.ladders, self.ladder_floor) = (style.kind, style.floor);
    }
}

/// The card path for a weights path (`x.safetensors` → `x.json`).
pub fn card_path(weights: &Path) -> PathBuf {
    weights.with_extension("json")
}

/// Serialise the weights of `model` to safetensors bytes (f16 when `half`).
pub fn weights_to_bytes(model: &Bcm, half: bool) -> Result<Vec<u8>> {
    let mut store = SafetensorsStore::from_bytes(None);
    if half {
        store = store.with_to_adapter(HalfPrecisionAdapter::new());
    }
    model
        .net
        .save_into(&mut store)
        .map_err(|e| EngineError::Weights(format!("serialising: {e}")))?;
    store
        .get_bytes()
        .map_err(|e| EngineError::Weights(format!("serialising: {e}")))
}

/// Written into a card beside its fields: the digest of the weights it was saved with. Each
/// file is written atomically but the two are two renames, so a save cut between them would
/// leave new weights with an old card; the digest lets that pair be refused.
const DIGEST_KEY: &str = "weights_digest";

/// FNV-1a over the weights' bytes: a check that the files belong together, not security.
fn digest(bytes: &[u8]) -> String {
    let h = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("fnv1a64:{h:016x}")
}

/// Save weights and card, each atomically, the card recording the weights' digest.
pub fn save(model: &Bcm, card: &ModelCard, weights_path: &Path) -> Result<()> {
    let bytes = weights_to_bytes(model, card.half_precision)?;
    let config_err = |e: serde_json::Error| EngineError::Config(e.to_string());
    // Through text, not `to_value`: that widens f32 fields to f64 digits (0.1 → 0.10000000149…).
    let text = serde_json::to_vec(card).map_err(config_err)?;
    let mut value: serde_json::Value = serde_json::from_slice(&text).map_err(config_err)?;
    if let Some(fields) = value.as_object_mut() {
        fields.insert(DIGEST_KEY.into(), digest(&bytes).into());
    }
    let json = serde_json::to_vec_pretty(&value).map_err(config_err)?;
    write_atomic(weights_path, &bytes)
        .map_err(|e| EngineError::io(weights_path.display().to_string(), e))?;
    let cp = card_path(weights_path);
    write_atomic(&cp, &json).map_err(|e| EngineError::io(cp.display().to_string(), e))
}

/// Parse and check a card.
pub fn parse_card(json: &[u8], origin: &str) -> Result<ModelCard> {
    let card: ModelCard =
        serde_json::from_slice(json).map_err(|e| EngineError::Config(format!("{origin}: {e}")))?;
    if card.format != FORMAT {
        return Err(EngineError::Config(format!(
            "{origin}: not a bcm-studio model card"
        )));
    }
    card.config
        .validate()
        .map_err(|e| EngineError::Config(format!("{origin}: {e}")))?;
    card.ladder_style()
        .map_err(|e| EngineError::Config(format!("{origin}: {e}")))?;
    Ok(card)
}

/// Build a model from a card and safetensors bytes; any missing, extra or mis-shaped tensor
/// is an error.
pub fn from_bytes(
    card: &ModelCard,
    weights: Vec<u8>,
    origin: &str,
    device: &Device,
) -> Result<Bcm> {
    let mut net = card.config.init(device);
    // Without validation the store hands back every mismatch instead of one error that lists
    // them all (thousands of characters): the message below counts them and names a few.
    let mut store = SafetensorsStore::from_bytes(Some(weights))
        .allow_partial(true)
        .validate(false);
    if card.half_precision {
        store = store.with_from_adapter(HalfPrecisionAdapter::new());
    }
    let result = net
        .load_from(&mut store)
        .map_err(|e| EngineError::Weights(format!("{origin}: {e}")))?;
    if !result.errors.is_empty() || !result.missing.is_empty() || !result.unused.is_empty() {
        let errors: Vec<String> = result.errors.iter().map(|e| e.to_string()).collect();
        let missing: Vec<String> = result.missing.iter().map(|(p, _)| p.clone()).collect();
        let parts: Vec<String> = [
            ("do not match", &errors),
            ("are missing", &missing),
            ("are not in the model", &result.unused),
        ]
        .into_iter()
        .filter(|(_, list)| !list.is_empty())
        .map(|(what, list)| summarise(list, what))
        .collect();
        return Err(EngineError::Weights(format!(
            "{origin}: the weights do not fit the model card: {}",
            parts.join("; ")
        )));
    }
    let info = ModelInfo {
        name: card.name.clone(),
        trained: card.steps > 0,
        ladders: card.ladder_style()?,
    };
    Ok(Bcm {
        net,
        config: card.config.clone(),
        info,
        device: device.clone(),
    })
}

/// "N tensors WHAT (first: a, b, c)": a count and a few names, never the whole list.
fn summarise(list: &[String], what: &str) -> String {
    const NAMED: usize = 3;
    let first: Vec<&str> = list.iter().take(NAMED).map(String::as_str).collect();
    let more = if list.len() > NAMED { ", …" } else { "" };
    format!(
        "{} tensor{} {what} (first: {}{more})",
        list.len(),
        if list.len() == 1 { "" } else { "s" },
        first.join(", ")
    )
}

/// The card `x.json` of the weights `x.safetensors`, read and checked.
pub fn read_card(weights_path: &Path) -> Result<ModelCard> {
    Ok(read_card_text(weights_path)?.0)
}

/// The card and the text it was parsed from (which also holds the weights' digest).
fn read_card_text(weights_path: &Path) -> Result<(ModelCard, Vec<u8>)> {
    let cp = card_path(weights_path);
    let json = std::fs::read(&cp)
        .map_err(|e| EngineError::io(format!("model card {}", cp.display()), e))?;
    Ok((parse_card(&json, &cp.display().to_string())?, json))
}

/// Load `x.safetensors` with its card `x.json`.
pub fn load(weights_path: &Path, device: &Device) -> Result<Bcm> {
    Ok(load_with_card(weights_path, device)?.0)
}

/// [`load`], also giving back the card (for what the model does not carry, e.g. its steps).
pub fn load_with_card(weights_path: &Path, device: &Device) -> Result<(Bcm, ModelCard)> {
    let (card, json) = read_card_text(weights_path)?;
    let cp = card_path(weights_path);
    let bytes = std::fs::read(weights_path)
        .map_err(|e| EngineError::io(format!("model weights {}", weights_path.display()), e))?;
    let recorded = serde_json::from_slice::<serde_json::Value>(&json)
        .ok()
        .and_then(|v| v.get(DIGEST_KEY)?.as_str().map(String::from));
    if recorded.is_some_and(|d| d != digest(&bytes)) {
        return Err(EngineError::Weights(format!(
            "{} was saved with other weights than {} (was a save interrupted?); save the model again",
            cp.display(),
            weights_path.display()
        )));
    }
    let model = from_bytes(&card, bytes, &weights_path.display().to_string(), device)?;
    Ok((model, card))
}

/// The shipped model's file, relative to the repository root (the embedded copy is the same).
pub const SHIPPED_MODEL: &str = "assets/bcm-default.safetensors";

/// The shipped inpainting model (the shipped model fine-tuned to read a hole's mask; see
/// assets/MODEL.md), relative to the repository root; embedded like the default model.
pub const SHIPPED_INPAINT_MODEL: &str = "assets/bcm-inpaint.safetensors";

/// The denoiser the shipped model was distilled from (see assets/MODEL.md), relative to the
/// repository root: the teacher a distillation continuing the shipped model needs, since a
/// model that follows the ODE itself cannot be one. Not embedded: only training reads it.
pub const SHIPPED_TEACHER: &str = "assets/bcm-teacher.safetensors";

/// Where a shipped file (`SHIPPED_MODEL`, `SHIPPED_TEACHER`) is: under the working directory
/// when run from the repository (`cargo run`), else in the checkout the binary was built from,
/// so a binary started elsewhere still finds it. The relative path when neither has it.
pub fn shipped_file(relative: &str) -> PathBuf {
    let here = PathBuf::from(relative);
    if here.exists() {
        return here;
    }
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    if built_from.exists() {
        built_from
    } else {
        here
    }
}

/// Weights of the model shipped in `assets/` (see assets/MODEL.md).
static EMBEDDED_WEIGHTS: &[u8] = include_bytes!("../../assets/bcm-default.safetensors");
static EMBEDDED_CARD: &[u8] = include_bytes!("../../assets/bcm-default.json");

/// The card of the embedded model.
pub fn embedded_card() -> Result<ModelCard> {
    parse_card(EMBEDDED_CARD, "embedded model card")
}

/// The model shipped inside the binary; works offline.
pub fn default_model(device: &Device) -> Result<Bcm> {
    let card = embedded_card()?;
    from_bytes(&card, EMBEDDED_WEIGHTS.to_vec(), "embedded model", device)
}

static EMBEDDED_INPAINT_WEIGHTS: &[u8] = include_bytes!("../../assets/bcm-inpaint.safetensors");
static EMBEDDED_INPAINT_CARD: &[u8] = include_bytes!("../../assets/bcm-inpaint.json");

/// The card of the embedded inpainting model.
pub fn embedded_inpaint_card() -> Result<ModelCard> {
    parse_card(EMBEDDED_INPAINT_CARD, "embedded inpainting model card")
}

/// The inpainting model shipped inside the binary: what *Inpaint* uses while the editor or a
/// command runs the shipped model.
pub fn inpaint_model(device: &Device) -> Result<Bcm> {
    let card = embedded_inpaint_card()?;
    from_bytes(
        &card,
        EMBEDDED_INPAINT_WEIGHTS.to_vec(),
        "embedded inpainting model",
        device,
    )
}
