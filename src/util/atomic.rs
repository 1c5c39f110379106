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
    remove_stale_temps(path);
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

/// Write several files as a set: each atomically, and if one fails, the ones written before
/// it are removed again, so a failure leaves none of the set (the first error is returned
/// with the path it concerns).
pub fn write_set(files: &[(PathBuf, Vec<u8>)]) -> Result<(), (PathBuf, io::Error)> {
    for (k, (path, bytes)) in files.iter().enumerate() {
        if let Err(e) = write_atomic(path, bytes) {
            for (written, _) in &files[..k] {
                let _ = fs::remove_file(written);
            }
            return Err((path.clone(), e));
        }
    }
    Ok(())
}

/// Remove the temporary files that writes of `path` by processes no longer running left
/// behind (a kill between creating one and renaming it).
fn remove_stale_temps(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(".tmp"))
        else {
            continue;
        };
        let pid = rest.split('.').next().and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|pid| pid != std::process::id() && !process_runs(pid)) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Whether a process with this id runs (Linux: it has a /proc entry; elsewhere assume so,
/// which only keeps a stale file).
fn process_runs(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
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
    fn a_set_is_written_whole_or_not_at_all() {
        let dir = std::env::temp_dir().join(format!("bcm-atomic-set-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let ok: Vec<(PathBuf, Vec<u8>)> = (0..3)
            .map(|k| (dir.join(format!("f-{k:03}.png")), vec![k as u8; 10]))
            .collect();
        write_set(&ok).unwrap();
        assert!(ok.iter().all(|(p, b)| fs::read(p).unwrap() == *b));
        for (p, _) in &ok {
            fs::remove_file(p).unwrap();
        }
        // The third frame cannot be written (its folder is missing): the first two go again.
        let mut failing = ok.clone();
        failing[2].0 = dir.join("missing").join("f-002.png");
        let (path, _) = write_set(&failing).unwrap_err();
        assert_eq!(path, failing[2].0);
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            0,
            "nothing of the set is left"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_temporary_file_of_a_killed_writer_is_removed_by_the_next_write() {
        let dir = std::env::temp_dir().join(format!("bcm-atomic-stale-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let target = dir.join("out.png");
        // No process has pid 0x7fff_fff0 (pid_max is far lower); another file's temp stays.
        fs::write(dir.join(".out.png.2147483632.0.tmp"), b"half").unwrap();
        fs::write(dir.join(".other.png.2147483632.0.tmp"), b"half").unwrap();
        write_atomic(&target, b"whole").unwrap();
        let mut names: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, [".other.png.2147483632.0.tmp", "out.png"]);
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
