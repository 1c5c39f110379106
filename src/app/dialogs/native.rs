//! Whether the desktop's own file dialog is there: rfd reaches it over the D-Bus session bus
//! (the xdg portal), and without one it answers "nothing chosen" at once.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// What the desktop's dialog told us about itself.
pub(super) const NATIVE_UNKNOWN: u8 = 0;
pub(super) const NATIVE_WORKS: u8 = 1;
pub(super) const NATIVE_UNAVAILABLE: u8 = 2;

/// A "nothing chosen" sooner than this is the portal failing, not a person cancelling.
const NO_PERSON_ANSWERS_THIS_FAST: Duration = Duration::from_millis(400);

/// How one answer of the desktop's dialog reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NativeOutcome {
    Picked(PathBuf),
    Cancelled,
    /// No dialog was shown: use the built-in browser.
    Unavailable,
}

/// Read the desktop dialog's answer: an empty one that came back at once, from a desktop whose
/// dialog has never worked in this session, means there is no dialog.
pub fn classify(answer: Option<PathBuf>, took: Duration, worked_before: bool) -> NativeOutcome {
    match answer {
        Some(path) => NativeOutcome::Picked(path),
        None if !worked_before && took < NO_PERSON_ANSWERS_THIS_FAST => NativeOutcome::Unavailable,
        None => NativeOutcome::Cancelled,
    }
}

/// Whether the desktop can have a portal at all: rfd reaches it over the D-Bus session bus.
pub(super) fn session_bus_exists() -> bool {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|a| !a.is_empty()) {
        return true;
    }
    std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| Path::new(&d).join("bus").exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_answer_at_once_means_no_dialog() {
        let quick = Duration::from_millis(20);
        let slow = Duration::from_secs(3);
        assert_eq!(classify(None, quick, false), NativeOutcome::Unavailable);
        assert_eq!(classify(None, slow, false), NativeOutcome::Cancelled);
        // Once the desktop's dialog has worked, a quick Esc is a person's.
        assert_eq!(classify(None, quick, true), NativeOutcome::Cancelled);
        let p = PathBuf::from("/tmp/a.png");
        assert_eq!(
            classify(Some(p.clone()), quick, false),
            NativeOutcome::Picked(p)
        );
    }
}
