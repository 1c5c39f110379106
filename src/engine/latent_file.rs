//! The latent files `invert` writes and `generate --from` reads: one f32 C×H×W tensor
//! `latent` in a safetensors file, with its noise level and recipe in the metadata.

use std::collections::HashMap;

use safetensors::tensor::{Dtype, TensorView};

use super::error::{EngineError, Result};
use super::planar::Planar;
use super::schedule::{SIGMA_MAX, SIGMA_MIN};

/// A latent read back: the tensor and the noise level it sits at.
pub struct LatentFile {
    pub latent: Planar,
    pub sigma: f32,
}

/// Largest latent accepted, in values (a 100-megapixel photo's three planes).
const MAX_VALUES: usize = 300_000_000;

/// The bytes of a latent file.
pub fn encode(latent: &Planar, sigma: f32, recipe_json: String) -> Result<Vec<u8>> {
    let bytes: Vec<u8> = latent.data.iter().flat_map(|v| v.to_le_bytes()).collect();
    let shape = vec![latent.channels, latent.height, latent.width];
    let bad = |e: safetensors::SafeTensorError| EngineError::Parameter(format!("latent: {e}"));
    let view = TensorView::new(Dtype::F32, shape, &bytes).map_err(bad)?;
    let meta = HashMap::from([
        ("sigma".to_string(), sigma.to_string()),
        ("recipe".to_string(), recipe_json),
    ]);
    safetensors::serialize([("latent", view)], Some(meta)).map_err(bad)
}

/// Read a latent file's bytes; `origin` names it in errors. Anything but a well-formed
/// latent at a level in the model's range is refused.
pub fn decode(bytes: &[u8], origin: &str) -> Result<LatentFile> {
    let not_latent = |why: String| EngineError::Parameter(format!("{origin}: {why}"));
    let (_, meta) = safetensors::SafeTensors::read_metadata(bytes)
        .map_err(|e| not_latent(format!("not a latent file ({e})")))?;
    let sigma: f32 = meta
        .metadata()
        .as_ref()
        .and_then(|m| m.get("sigma"))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| not_latent("no noise level".into()))?;
    if !(SIGMA_MIN..=SIGMA_MAX).contains(&sigma) {
        return Err(not_latent(format!(
            "noise level {sigma} is outside [{SIGMA_MIN}, {SIGMA_MAX}]"
        )));
    }
    let st = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| not_latent(format!("not a latent file ({e})")))?;
    let t = st
        .tensor("latent")
        .map_err(|_| not_latent("no latent tensor".into()))?;
    let shape = t.shape();
    if t.dtype() != Dtype::F32 || shape.len() != 3 || shape.contains(&0) {
        return Err(not_latent(
            "the latent must be a non-empty f32 C×H×W tensor".into(),
        ));
    }
    let values = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| n <= MAX_VALUES)
        .ok_or_else(|| not_latent(format!("a latent of {shape:?} is too large")))?;
    if t.data().len() != values * 4 {
        return Err(not_latent(
            "the latent's data does not match its shape".into(),
        ));
    }
    let data: Vec<f32> = t
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    if data.iter().any(|v| !v.is_finite()) {
        return Err(not_latent(
            "the latent holds values that are not numbers".into(),
        ));
    }
    let latent = Planar::new(shape[0], shape[1], shape[2], data)?;
    Ok(LatentFile { latent, sigma })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_latent_comes_back_as_it_was_written_and_bad_ones_are_refused() {
        let latent = Planar::new(3, 2, 4, (0..24).map(|v| v as f32 * 0.5).collect()).unwrap();
        let bytes = encode(&latent, 15.0, "{}".into()).unwrap();
        let back = decode(&bytes, "x").unwrap();
        assert_eq!(back.sigma, 15.0);
        assert_eq!(back.latent.data, latent.data);
        assert_eq!(
            (back.latent.channels, back.latent.height, back.latent.width),
            (3, 2, 4)
        );
        assert!(decode(&bytes[..bytes.len() / 2], "x").is_err());
        assert!(decode(&encode(&latent, 500.0, "{}".into()).unwrap(), "x").is_err());
        let mut nan = latent.clone();
        nan.data[3] = f32::NAN;
        assert!(decode(&encode(&nan, 15.0, "{}".into()).unwrap(), "x").is_err());
        assert!(decode(b"not a latent", "x").is_err());
    }
}
