//! Checkpoints: `checkpoints/step-NNNNNNNN/` holds the online weights (burnpack, which keeps
//! parameter ids for the optimiser), the optimiser state, the EMA weights as a loadable model
//! (safetensors + card) and `state.json`. A checkpoint is written into a temporary folder and
//! renamed into place, then `latest` is replaced atomically, so a kill at any moment leaves the
//! previous checkpoint intact.

use std::path::{Path, PathBuf};

use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::error::TrainError;
use crate::engine::model::{Bcm, ModelInfo};
use crate::engine::network::{UNet, UNetConfig};
use crate::engine::weights::{self, ModelCard};
use crate::util::atomic::write_atomic;

/// What a checkpoint knows besides tensors.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CheckpointState {
    /// Optimiser steps done.
    pub step: u64,
    /// Wall-clock seconds of training so far (all sessions).
    pub train_seconds: f64,
    /// Everything random in a step is derived from (seed, step), so this is the RNG state.
    pub seed: u64,
}

pub const KEEP: usize = 3;

pub fn checkpoints_dir(run: &Path) -> PathBuf {
    run.join("checkpoints")
}

pub fn name_for(step: u64) -> String {
    format!("step-{step:08}")
}

fn ckpt_err(what: &str, path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::Checkpoint(format!("{what} {}: {e}", path.display()))
}

/// Write a checkpoint; returns its folder.
pub fn save(
    run: &Path,
    online: &UNet,
    ema: &Bcm,
    optim_bytes: &[u8],
    state: &CheckpointState,
    card: &ModelCard,
) -> Result<PathBuf, TrainError> {
    let root = checkpoints_dir(run);
    std::fs::create_dir_all(&root).map_err(|e| ckpt_err("creating", &root, e))?;
    let name = name_for(state.step);
    let tmp = root.join(format!(".{name}.partial"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| ckpt_err("creating", &tmp, e))?;

    let mut store = BurnpackStore::from_bytes(None);
    online
        .save_into(&mut store)
        .map_err(|e| ckpt_err("serialising weights for", &tmp, e))?;
    let bytes = store
        .get_bytes()
        .map_err(|e| ckpt_err("serialising weights for", &tmp, e))?;
    write_atomic(&tmp.join("model.bpk"), &bytes).map_err(|e| ckpt_err("writing", &tmp, e))?;
    write_atomic(&tmp.join("optim.bpk"), optim_bytes).map_err(|e| ckpt_err("writing", &tmp, e))?;
    weights::save(ema, card, &tmp.join("ema.safetensors"))
        .map_err(|e| ckpt_err("writing EMA in", &tmp, e))?;
    let json =
        serde_json::to_vec_pretty(state).map_err(|e| ckpt_err("encoding state for", &tmp, e))?;
    write_atomic(&tmp.join("state.json"), &json).map_err(|e| ckpt_err("writing", &tmp, e))?;

    let dir = root.join(&name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&tmp, &dir).map_err(|e| ckpt_err("finishing", &dir, e))?;
    write_atomic(&run.join("latest"), name.as_bytes())
        .map_err(|e| ckpt_err("updating latest in", run, e))?;
    prune(&root, KEEP);
    Ok(dir)
}

/// Remove all but the newest `keep` checkpoints, and the partial ones a killed run left.
fn prune(root: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    let all: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for partial in all
        .iter()
        .filter(|n| n.starts_with(".step-") && n.ends_with(".partial"))
    {
        let _ = std::fs::remove_dir_all(root.join(partial));
    }
    let mut names: Vec<String> = all.into_iter().filter(|n| n.starts_with("step-")).collect();
    names.sort();
    let excess = names.len().saturating_sub(keep);
    for n in names.into_iter().take(excess) {
        let _ = std::fs::remove_dir_all(root.join(n));
    }
}

/// The newest complete checkpoint of a run, if any.
pub fn latest(run: &Path) -> Option<PathBuf> {
    let name = std::fs::read_to_string(run.join("latest")).ok()?;
    let dir = checkpoints_dir(run).join(name.trim());
    dir.join("state.json").is_file().then_some(dir)
}

pub fn read_state(dir: &Path) -> Result<CheckpointState, TrainError> {
    let bytes =
        std::fs::read(dir.join("state.json")).map_err(|e| ckpt_err("reading state of", dir, e))?;
    serde_json::from_slice(&bytes).map_err(|e| ckpt_err("parsing state of", dir, e))
}

/// Online weights with their parameter ids.
pub fn load_online(dir: &Path, config: &UNetConfig, device: &Device) -> Result<UNet, TrainError> {
    let mut net = config.init(device);
    let path = dir.join("model.bpk");
    let mut store = BurnpackStore::from_file(&path);
    net.load_from(&mut store)
        .map_err(|e| ckpt_err("loading", &path, e))?;
    Ok(net)
}

pub fn load_ema(dir: &Path, device: &Device) -> Result<Bcm, TrainError> {
    let model = weights::load(&dir.join("ema.safetensors"), device)?;
    Ok(Bcm {
        info: ModelInfo {
            name: format!("{} (EMA)", model.info.name),
            ..model.info
        },
        ..model
    })
}
