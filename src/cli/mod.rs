//! The command-line interface: one file per subcommand, shared options here.

pub mod args;
pub mod bench;
pub mod common;
pub mod eval;
pub mod export;
pub mod inpaint_args;
pub mod interpolate;
pub mod run;
pub mod table;
pub mod train;

pub use args::{Cli, Command};
