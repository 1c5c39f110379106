//! Decoders are third-party code that a crafted file reaches: a panic inside one (png 0.18.1
//! indexes past a short palette, found by the fuzz harness) becomes a decode error here, so a
//! bad file is refused like any other instead of ending the program.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::util::panic::panic_text;

thread_local! {
    static GUARDED: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread is inside a guarded decode: a panic hook may keep quiet, since the
/// panic is reported as the file's error.
pub fn in_guarded_decode() -> bool {
    GUARDED.with(Cell::get)
}

/// Run `decode`; a panic inside it comes back as its message.
pub fn guarded<T>(decode: impl FnOnce() -> T) -> Result<T, String> {
    let outer = GUARDED.with(|g| g.replace(true));
    let result = catch_unwind(AssertUnwindSafe(decode));
    GUARDED.with(|g| g.set(outer));
    result.map_err(|panic| panic_text(panic.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message_and_the_flag_is_restored() {
        assert!(!in_guarded_decode());
        let r: Result<(), String> = guarded(|| {
            assert!(in_guarded_decode());
            panic!("index out of range")
        });
        assert_eq!(r.unwrap_err(), "index out of range");
        assert!(!in_guarded_decode());
        assert_eq!(guarded(|| 7), Ok(7));
    }
}
