//! bcm-studio: the editor (no subcommand) and the command-line tools.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use cli::{Cli, Command};

fn main() -> ExitCode {
    cpu_as_burn_default_device();
    let cli = Cli::parse();
    let result = std::panic::catch_unwind(|| dispatch(cli));
    match result {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
        Err(_) => {
            eprintln!("error: internal failure (see the message above); no output was written");
            ExitCode::from(2)
        }
    }
}

/// burn builds optimiser state read from a checkpoint on its default device and moves it to the
/// parameters' device on the next step. Left alone, that default is a wgpu adapter: without a GPU,
/// a software Vulkan device started just to hold it for one step. The CPU is always there.
fn cpu_as_burn_default_device() {
    if std::env::var_os("BURN_DEVICE").is_none() {
        // SAFETY: the first thing main does, before any other thread exists.
        unsafe { std::env::set_var("BURN_DEVICE", "flex") };
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => {
            let choice: bcm_studio::engine::device::DeviceChoice = cli.engine.device.parse()?;
            bcm_studio::app::run(
                choice,
                cli.engine.model.clone(),
                cli.open.clone(),
                cli.engine.tile,
            )?;
            Ok(())
        }
        Some(Command::Bench {
            repeat,
            sizes,
            preset,
            devices,
            batch,
        }) => cli::bench::run(repeat, &sizes, &preset, &devices, batch),
        Some(Command::Export { from, out }) => cli::export::run(&from, out),
        Some(Command::Merge {
            a,
            b,
            alpha,
            difference,
            out,
        }) => cli::export::merge(
            &a,
            &b,
            difference.as_deref(),
            alpha,
            out,
            cli.engine.overwrite,
        ),
        Some(command @ Command::Train { .. }) => {
            let choice: bcm_studio::engine::device::DeviceChoice = cli.engine.device.parse()?;
            let selected = bcm_studio::engine::device::select(choice)?;
            eprintln!("device: {}", selected.description);
            cli::train::run(command, &selected.device)
        }
        Some(command) => {
            let session = cli::common::Session::open(&cli.engine)?;
            cli::run::run(command, &session)
        }
    }
}
