//! What a caught panic said.

use std::any::Any;

/// The message a panic carried (`panic!` with a string or a format), or "unknown failure".
pub fn panic_text(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown failure".into())
}
