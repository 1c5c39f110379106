//! bcm-studio: the editor (no subcommand) and the command-line tools.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use cli::{Cli, Command};

fn main() -> ExitCode {
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
        }) => cli::bench::run(repeat, &sizes, &preset, &devices),
        Some(Command::Export {
            from,
            output,
            half,
            name,
        }) => cli::export::run(&from, &output, half, name),
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
