//! How many pixels a photo may have: a small file can describe a huge image (a 294 KB PNG of
//! 16384×16384), and working on it takes memory per pixel, so the limit comes from the memory
//! the work needs, checked before the pixels are decoded.

use std::sync::OnceLock;

/// Bytes one pixel costs while a photo is worked on: the decoded original (up to 8 for 16-bit
/// RGBA), its planar f32 copy (12), the result (12), a restoration pass's mirrored copy and
/// average (24), the composed output (up to 8).
pub const BYTES_PER_PIXEL: u64 = 64;

/// Memory kept aside for the rest: the network's weights and its activations on one tile,
/// the editor's textures, the program itself.
pub const RESERVED_BYTES: u64 = 2 << 30;

/// Used where the machine's memory cannot be read.
const FALLBACK_PIXELS: u64 = 100_000_000;

/// The most pixels a photo may have with `available` bytes of memory free.
pub fn pixel_budget(available: u64) -> u64 {
    available.saturating_sub(RESERVED_BYTES) / BYTES_PER_PIXEL
}

/// Memory the system can give this process now (Linux: `MemAvailable`).
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The limit used unless a caller names one: from the memory free when first asked.
pub fn default_pixel_limit() -> u64 {
    static LIMIT: OnceLock<u64> = OnceLock::new();
    *LIMIT.get_or_init(|| available_memory().map_or(FALLBACK_PIXELS, pixel_budget))
}

/// "16384×16384 (268 MP)".
pub fn describe_size(width: u32, height: u32) -> String {
    let mp = f64::from(width) * f64::from(height) / 1e6;
    format!("{width}×{height} ({mp:.0} MP)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_follows_memory() {
        assert_eq!(pixel_budget(0), 0);
        assert_eq!(pixel_budget(RESERVED_BYTES), 0);
        // 16 GB free: a 12 MP phone photo fits many times over, 16384² does not.
        let sixteen = pixel_budget(16 << 30);
        assert!(sixteen > 12_000_000 * 10);
        assert!(sixteen < 16384 * 16384);
        assert!(pixel_budget(32 << 30) > sixteen);
    }

    #[test]
    fn this_machine_has_a_limit() {
        assert!(default_pixel_limit() > 0);
    }
}
