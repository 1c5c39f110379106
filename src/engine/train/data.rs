//! Training photos: a recursive folder scan, a validation split by file, and batches of random
//! crops decoded on worker threads. Batch k depends only on (seed, k), so a resumed run sees
//! exactly the batches it would have seen.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use image::RgbImage;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::error::TrainError;

const EXTENSIONS: [&str; 4] = ["jpg", "jpeg", "png", "webp"];

/// Photos found under a folder, split into training and validation files.
#[derive(Debug, Clone)]
pub struct PhotoSet {
    pub root: PathBuf,
    pub train: Vec<PathBuf>,
    pub validation: Vec<PathBuf>,
}

fn is_photo(path: &Path) -> bool {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|e| EXTENSIONS.contains(&e.as_str()))
}

fn scan(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            scan(&path, out)?;
        } else if is_photo(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// FNV-1a of the path relative to the root: a split that does not change when files are
/// added elsewhere.
fn split_hash(rel: &str) -> u64 {
    rel.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl PhotoSet {
    /// Scan `root`; about one file in `every` goes to validation (at least one when there are
    /// two or more files).
    pub fn scan(root: &Path, every: u64) -> Result<PhotoSet, TrainError> {
        if !root.is_dir() {
            return Err(TrainError::Data(format!(
                "{} is not a folder",
                root.display()
            )));
        }
        let mut files = Vec::new();
        scan(root, &mut files)
            .map_err(|e| TrainError::Data(format!("reading {}: {e}", root.display())))?;
        if files.is_empty() {
            return Err(TrainError::Data(format!(
                "no .jpg, .png or .webp photos under {}",
                root.display()
            )));
        }
        let (mut validation, mut train): (Vec<PathBuf>, Vec<PathBuf>) =
            files.into_iter().partition(|p| {
                let rel = p
                    .strip_prefix(root)
                    .unwrap_or(p)
                    .to_string_lossy()
                    .into_owned();
                split_hash(&rel).is_multiple_of(every.max(2))
            });
        if validation.is_empty() && train.len() >= 2 {
            validation.push(train.remove(train.len() / 2));
        }
        if train.is_empty() {
            train = validation.clone();
        }
        Ok(PhotoSet {
            root: root.into(),
            train,
            validation,
        })
    }
}

/// How crops are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CropSpec {
    pub patch: usize,
    /// Area-downscale each photo by this factor first (1 or 2): removes most of the
    /// compression artefacts of the source files.
    pub downscale: u32,
}

/// Decoded, downscaled photos, loaded on first use. A photo that cannot be read is skipped
/// (with one warning) instead of stopping the run: one bad file among thousands is common.
#[derive(Default)]
pub struct PhotoCache {
    images: Mutex<HashMap<PathBuf, Arc<RgbImage>>>,
    skipped: Mutex<HashMap<PathBuf, String>>,
}

/// Exact 2×2 (or k×k) box average.
pub fn area_downscale(img: &RgbImage, k: u32) -> RgbImage {
    if k <= 1 {
        return img.clone();
    }
    let (w, h) = (img.width() / k, img.height() / k);
    RgbImage::from_fn(w, h, |x, y| {
        let mut acc = [0u32; 3];
        for dy in 0..k {
            for dx in 0..k {
                let p = img.get_pixel(x * k + dx, y * k + dy).0;
                for c in 0..3 {
                    acc[c] += u32::from(p[c]);
                }
            }
        }
        let n = k * k;
        image::Rgb([0, 1, 2].map(|c| ((acc[c] + n / 2) / n) as u8))
    })
}

impl PhotoCache {
    /// The photo, or None if it cannot be read: it is then skipped from now on, and a warning
    /// names it and counts the skipped ones.
    pub fn get_or_skip(
        &self,
        path: &Path,
        downscale: u32,
    ) -> Result<Option<Arc<RgbImage>>, TrainError> {
        let poisoned = || TrainError::Data("cache poisoned".into());
        if self
            .skipped
            .lock()
            .map_err(|_| poisoned())?
            .contains_key(path)
        {
            return Ok(None);
        }
        match self.get(path, downscale) {
            Ok(img) => Ok(Some(img)),
            Err(e) => {
                let mut skipped = self.skipped.lock().map_err(|_| poisoned())?;
                if skipped.insert(path.to_path_buf(), e.to_string()).is_none() {
                    eprintln!(
                        "warning: skipping a photo that cannot be read ({} skipped so far): {e}",
                        skipped.len()
                    );
                }
                Ok(None)
            }
        }
    }

    /// How many photos were skipped.
    pub fn skipped(&self) -> usize {
        self.skipped.lock().map_or(0, |s| s.len())
    }

    /// Whether every one of `files` was skipped; then the first reason.
    fn all_skipped(&self, files: &[PathBuf]) -> Option<String> {
        let skipped = self.skipped.lock().ok()?;
        if files.iter().all(|f| skipped.contains_key(f)) {
            files.first().and_then(|f| skipped.get(f).cloned())
        } else {
            None
        }
    }

    pub fn get(&self, path: &Path, downscale: u32) -> Result<Arc<RgbImage>, TrainError> {
        if let Some(img) = self
            .images
            .lock()
            .map_err(|_| TrainError::Data("cache poisoned".into()))?
            .get(path)
        {
            return Ok(img.clone());
        }
        let bytes = std::fs::read(path)
            .map_err(|e| TrainError::Data(format!("{}: {e}", path.display())))?;
        let img =
            crate::photo::decode(&bytes, path).map_err(|e| TrainError::Data(e.to_string()))?;
        let img = Arc::new(area_downscale(&img.to_rgb8(), downscale));
        self.images
            .lock()
            .map_err(|_| TrainError::Data("cache poisoned".into()))?
            .insert(path.into(), img.clone());
        Ok(img)
    }
}

/// A batch of crops, [B, 3, P, P] channel-major in [-1, 1].
#[derive(Debug, Clone)]
pub struct Batch {
    pub step: u64,
    pub size: usize,
    pub patch: usize,
    pub data: Vec<f32>,
}

/// Crop `patch`×`patch` at (x, y), optionally mirrored, into `out` ([3, P, P]).
fn crop_into(img: &RgbImage, x: u32, y: u32, patch: usize, flip: bool, out: &mut [f32]) {
    let p = patch;
    for dy in 0..p {
        for dx in 0..p {
            let sx = if flip { p - 1 - dx } else { dx };
            let px = img.get_pixel(x + sx as u32, y + dy as u32).0;
            for c in 0..3 {
                out[c * p * p + dy * p + dx] = f32::from(px[c]) / 127.5 - 1.0;
            }
        }
    }
}

/// Make batch `step` of a run: which photo, where, and whether to flip all come from a
/// generator seeded with (seed, step).
pub fn make_batch(
    files: &[PathBuf],
    cache: &PhotoCache,
    spec: CropSpec,
    batch: usize,
    seed: u64,
    step: u64,
) -> Result<Batch, TrainError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ step.wrapping_mul(0xA076_1D64_78BD_642F));
    let p = spec.patch;
    let mut data = vec![0.0f32; batch * 3 * p * p];
    let mut filled = 0;
    let mut attempts = 0;
    while filled < batch {
        attempts += 1;
        if attempts > batch * 50 {
            return Err(TrainError::Data(format!(
                "no photo is at least {p}x{p} pixels after downscaling"
            )));
        }
        let path = &files[rng.random_range(0..files.len())];
        let Some(img) = cache.get_or_skip(path, spec.downscale)? else {
            if let Some(first) = cache.all_skipped(files) {
                return Err(TrainError::Data(format!(
                    "none of the {} photos can be read (the first: {first})",
                    files.len()
                )));
            }
            attempts -= 1; // a skipped photo is not a failed crop
            continue;
        };
        if (img.width() as usize) < p || (img.height() as usize) < p {
            continue;
        }
        let x = rng.random_range(0..=img.width() - p as u32);
        let y = rng.random_range(0..=img.height() - p as u32);
        let flip = rng.random::<bool>();
        crop_into(
            &img,
            x,
            y,
            p,
            flip,
            &mut data[filled * 3 * p * p..(filled + 1) * 3 * p * p],
        );
        filled += 1;
    }
    Ok(Batch {
        step,
        size: batch,
        patch: p,
        data,
    })
}

/// Validation crops: the centre of each validation photo (deterministic), at most `max`.
pub fn validation_batch(
    set: &PhotoSet,
    cache: &PhotoCache,
    spec: CropSpec,
    max: usize,
) -> Result<Batch, TrainError> {
    let p = spec.patch;
    let mut data = Vec::new();
    let mut n = 0;
    for path in set.validation.iter().take(max) {
        let Some(img) = cache.get_or_skip(path, spec.downscale)? else {
            continue;
        };
        if (img.width() as usize) < p || (img.height() as usize) < p {
            continue;
        }
        let mut crop = vec![0.0; 3 * p * p];
        crop_into(
            &img,
            (img.width() - p as u32) / 2,
            (img.height() - p as u32) / 2,
            p,
            false,
            &mut crop,
        );
        data.extend(crop);
        n += 1;
    }
    if n == 0 {
        return Err(TrainError::Data(format!(
            "no validation photo is at least {p}x{p} pixels"
        )));
    }
    Ok(Batch {
        step: 0,
        size: n,
        patch: p,
        data,
    })
}

/// Batches made ahead of time on worker threads, handed out in step order.
pub struct Prefetcher {
    receivers: Vec<Receiver<Result<Batch, TrainError>>>,
    workers: Vec<JoinHandle<()>>,
    first: u64,
    next: u64,
}

impl Prefetcher {
    pub fn start(
        files: Vec<PathBuf>,
        spec: CropSpec,
        batch: usize,
        seed: u64,
        first_step: u64,
        threads: usize,
    ) -> Self {
        let threads = threads.max(1);
        let files = Arc::new(files);
        let cache = Arc::new(PhotoCache::default());
        let mut receivers = Vec::new();
        let mut workers = Vec::new();
        for w in 0..threads as u64 {
            let (tx, rx): (SyncSender<_>, _) = sync_channel(2);
            let (files, cache) = (files.clone(), cache.clone());
            workers.push(std::thread::spawn(move || {
                // Worker w makes the steps ≡ w (mod threads).
                let mut step = first_step + w;
                loop {
                    let result = make_batch(&files, &cache, spec, batch, seed, step);
                    let failed = result.is_err();
                    if tx.send(result).is_err() || failed {
                        break;
                    }
                    step += threads as u64;
                }
            }));
            receivers.push(rx);
        }
        Self {
            receivers,
            workers,
            first: first_step,
            next: first_step,
        }
    }

    /// The batch for the next step.
    pub fn next_batch(&mut self) -> Result<Batch, TrainError> {
        // Worker w makes steps first + w, first + w + n, …
        let k = ((self.next - self.first) % self.receivers.len() as u64) as usize;
        let batch = self.receivers[k]
            .recv()
            .map_err(|_| TrainError::Data("photo loader stopped".into()))??;
        self.next += 1;
        Ok(batch)
    }
}

impl Drop for Prefetcher {
    fn drop(&mut self) {
        self.receivers.clear(); // unblocks the workers' sends
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}
