//! Atomic file writes: write a temporary file beside the target, then rename it over.
//! A reader (or a crash) never sees a half-written file.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Write `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |f| f.write_all(bytes))
}

/// Create `path` atomically from what `fill` writes.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut fs::File) -> io::Result<()>,
) -> io::Result<()> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        fill(&mut file)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// A temporary name beside `path`, unique to this process and this write: two saves of one
/// file at once (two quick Ctrl+S) must not write into the same temporary file.
fn temp_path(path: &Path) -> PathBuf {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_leaves_no_temp_file() {
        let dir = std::env::temp_dir().join(format!("bcm-atomic-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let target = dir.join("out.bin");
        write_atomic(&target, b"first").unwrap();
        write_atomic(&target, b"second").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"second");
        let failed = write_atomic_with(&target, |_| Err(io::Error::other("disk full")));
        assert!(failed.is_err());
        assert_eq!(
            fs::read(&target).unwrap(),
            b"second",
            "a failed write must keep the old file"
        );
        let leftovers: Vec<_> = fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()).collect();
        assert_eq!(leftovers.len(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn two_writes_of_one_file_at_once_use_their_own_temporary_files() {
        let target = Path::new("/photos/out.png");
        assert_ne!(temp_path(target), temp_path(target));
        let dir = std::env::temp_dir().join(format!("bcm-atomic-race-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let target = dir.join("out.bin");
        let writers: Vec<_> = (0..8u8)
            .map(|k| {
                let target = target.clone();
                std::thread::spawn(move || write_atomic(&target, &vec![k; 1 << 16]))
            })
            .collect();
        for w in writers {
            w.join().unwrap().unwrap();
        }
        // Whichever write came last, the file is one of them whole, never a mix.
        let bytes = fs::read(&target).unwrap();
        assert_eq!(bytes.len(), 1 << 16);
        assert!(bytes.iter().all(|&b| b == bytes[0]));
        let entries = fs::read_dir(&dir).unwrap().count();
        assert_eq!(entries, 1, "no temporary file is left");
        fs::remove_dir_all(&dir).unwrap();
    }
}
