//! What each target does with an input: everything a user's file of that kind reaches.

use std::path::Path;

use bcm_studio::engine::jpeg::JpegTables;
use bcm_studio::engine::plan::{Plan, parse_levels};
use bcm_studio::engine::train::{checkpoint, run_config};
use bcm_studio::engine::{latent_file, weights};
use bcm_studio::photo;
use burn::tensor::Device;

/// Large enough for the seeds and their mutations, small enough that no input can make a
/// target allocate much.
const MAX_PIXELS: u64 = 4_000_000;

pub fn image(bytes: &[u8]) -> bool {
    let Ok(img) = photo::decode_limited(bytes, Path::new("fuzz"), MAX_PIXELS) else {
        return false;
    };
    let planes = photo::planar_from_image(&img);
    assert_eq!(planes.data.len(), 3 * planes.width * planes.height);
    let _ = photo::converts_exactly(&img);
    let _ = photo::matches_decoded(&planes, &img);
    true
}

pub fn jpeg_tables(bytes: &[u8]) -> bool {
    let Ok(tables) = JpegTables::read(bytes) else {
        return false;
    };
    let q = tables.quality();
    assert!((1..=100).contains(&q), "quality {q}");
    true
}

pub fn mask(bytes: &[u8]) -> bool {
    let Ok(img) = photo::decode_limited(bytes, Path::new("fuzz"), MAX_PIXELS) else {
        return false;
    };
    let mask = photo::mask_from_image(&img);
    assert!(mask.data.iter().all(|v| (0.0..=1.0).contains(v)));
    let grown = mask.grow(3).feather(2);
    let _ = grown.bbox();
    let _ = grown.invert();
    true
}

pub fn model(card: &[u8], weights_bytes: &[u8]) -> bool {
    let Ok(card) = weights::parse_card(card, "fuzz card") else {
        return false;
    };
    // A card may describe any network the checks allow; building a large one is a memory
    // test, not a parser test.
    if card.config.param_count() > 2_000_000 {
        return false;
    }
    weights::from_bytes(&card, weights_bytes.to_vec(), "fuzz", &Device::flex()).is_ok()
}

pub fn latent(bytes: &[u8]) -> bool {
    let Ok(l) = latent_file::decode(bytes, "fuzz") else {
        return false;
    };
    assert!(l.sigma.is_finite());
    assert_eq!(
        l.latent.data.len(),
        l.latent.channels * l.latent.height * l.latent.width
    );
    true
}

pub fn recipe(bytes: &[u8]) -> bool {
    photo::read_recipe(bytes).is_some_and(|r| !r.to_json().is_empty())
}

pub fn schedule(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let levels = parse_levels(&text).is_ok();
    let Ok(plan) = text.parse::<Plan>() else {
        return levels;
    };
    if plan.validate().is_err() {
        return false;
    }
    // What a plan prints reads back as the same plan.
    let again: Plan = plan.to_string().parse().expect("a printed plan parses");
    assert_eq!(again.nfe(), plan.nfe());
    true
}

pub fn run_folder(dir: &Path, config: &[u8], state: &[u8]) -> bool {
    let _ = std::fs::remove_dir_all(dir);
    let ckpt = dir.join("checkpoints").join("step-000010");
    std::fs::create_dir_all(&ckpt).unwrap();
    std::fs::write(dir.join("config.json"), config).unwrap();
    std::fs::write(ckpt.join("state.json"), state).unwrap();
    std::fs::write(dir.join("latest"), "step-000010").unwrap();
    let config_ok = run_config(dir).is_ok_and(|c| c.validate().is_ok());
    let state_ok = checkpoint::latest(dir).is_some_and(|l| checkpoint::read_state(&l).is_ok());
    config_ok && state_ok
}
