//! Small helpers shared by the engine, the CLI and the editor.

pub mod atomic;
pub mod memory;
pub mod panic;
