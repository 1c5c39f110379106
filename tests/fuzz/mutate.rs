//! Mutation of valid seed files: byte-level changes (flips, interesting values, cuts,
//! duplications, insertions), plus structure-aware ones that get past the first checks a
//! parser makes: JSON leaves changed to extreme values, PNG chunk checksums repaired.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Values that break size arithmetic and bounds checks.
const INTERESTING_U32: [u32; 10] = [
    0,
    1,
    2,
    0x7F,
    0xFF,
    0xFFFF,
    0x1_0000,
    0x7FFF_FFFF,
    0xFFFF_FFFE,
    0xFFFF_FFFF,
];

/// One to four random byte-level changes.
pub fn mutate_bytes(rng: &mut ChaCha8Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        if out.is_empty() {
            out.push(rng.random());
            continue;
        }
        let at = rng.random_range(0..out.len());
        match rng.random_range(0..8) {
            0 => out[at] ^= 1 << rng.random_range(0..8),
            1 => out[at] = [0u8, 1, 0x7F, 0x80, 0xFF][rng.random_range(0..5)],
            2 => {
                let v = INTERESTING_U32[rng.random_range(0..INTERESTING_U32.len())];
                let bytes = if rng.random() {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                };
                for (k, b) in bytes.iter().enumerate() {
                    if let Some(slot) = out.get_mut(at + k) {
                        *slot = *b;
                    }
                }
            }
            3 => out.truncate(at),
            4 => {
                let end = (at + rng.random_range(1..64)).min(out.len());
                out.drain(at..end);
            }
            5 => {
                let end = (at + rng.random_range(1..64)).min(out.len());
                let piece = out[at..end].to_vec();
                let to = rng.random_range(0..=out.len());
                out.splice(to..to, piece);
            }
            6 => {
                let n = rng.random_range(1..32);
                let noise: Vec<u8> = (0..n).map(|_| rng.random()).collect();
                out.splice(at..at, noise);
            }
            _ => out[at] = rng.random(),
        }
    }
    out
}

/// Change one to three leaves of a JSON document to values a writer would never produce.
/// Input that is not JSON is mutated as bytes.
pub fn mutate_json(rng: &mut ChaCha8Rng, input: &[u8]) -> Vec<u8> {
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(input) else {
        return mutate_bytes(rng, input);
    };
    for _ in 0..rng.random_range(1..=3) {
        let mut leaves = Vec::new();
        collect_leaves(&value, String::new(), &mut leaves);
        if leaves.is_empty() {
            break;
        }
        let pointer = &leaves[rng.random_range(0..leaves.len())];
        if let Some(leaf) = value.pointer_mut(pointer) {
            *leaf = extreme(rng);
        }
    }
    serde_json::to_vec(&value).unwrap_or_else(|_| input.to_vec())
}

fn collect_leaves(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, child) in map {
                collect_leaves(
                    child,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        serde_json::Value::Array(items) => {
            out.push(at.clone());
            for (i, child) in items.iter().enumerate() {
                collect_leaves(child, format!("{at}/{i}"), out);
            }
        }
        _ => out.push(at),
    }
}

fn extreme(rng: &mut ChaCha8Rng) -> serde_json::Value {
    use serde_json::json;
    match rng.random_range(0..12) {
        0 => json!(0),
        1 => json!(-1),
        2 => json!(u64::MAX),
        3 => json!(1e300),
        4 => json!(-1e-300),
        5 => json!(""),
        6 => json!("x".repeat(10_000)),
        7 => json!(null),
        8 => json!([]),
        9 => json!({}),
        10 => json!(true),
        _ => json!(rng.random_range(2u64..100_000)),
    }
}

/// Recompute every PNG chunk's CRC, so that a mutated chunk reaches the code that reads it
/// instead of stopping at the checksum. Bytes that are not a PNG are returned as they are.
pub fn fix_png_crcs(mut png: Vec<u8>) -> Vec<u8> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !png.starts_with(SIGNATURE) {
        return png;
    }
    let mut at = SIGNATURE.len();
    while at + 12 <= png.len() {
        let len = u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]) as usize;
        let Some(end) = at.checked_add(8 + len).filter(|&e| e + 4 <= png.len()) else {
            break;
        };
        let crc = crate::common::png_crc32(&png[at + 4..end]);
        png[end..end + 4].copy_from_slice(&crc.to_be_bytes());
        at = end + 4;
    }
    png
}
