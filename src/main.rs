//! bcm-studio: the editor (no subcommand) and the command-line tools.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use cli::{Cli, Command};

fn main() -> ExitCode {
    cpu_as_burn_default_device();
    one_line_panics();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return command_line_error(e),
    };
    let result = std::panic::catch_unwind(|| dispatch(cli));
    match result {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("error: {}", one_line(&format!("{e:#}")));
            ExitCode::from(1)
        }
        Err(_) => {
            eprintln!("error: internal failure (see the message above); no output was written");
            ExitCode::from(2)
        }
    }
}

/// A panic prints one line, and none at all inside a guarded decode (the file's error says
/// it then).
fn one_line_panics() {
    std::panic::set_hook(Box::new(|info| {
        if !bcm_studio::photo::in_guarded_decode() {
            eprintln!("internal error: {}", one_line(&info.to_string()));
        }
    }));
}

/// A bad command line is one line on stderr and exit code 2; help and version are printed as
/// clap prints them.
fn command_line_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        };
    }
    // clap's first line says what is wrong; the usage text after it is left to --help.
    let text = e.render().to_string();
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("invalid command line");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    eprintln!("error: {} (see --help)", one_line(first));
    ExitCode::from(2)
}

/// A message as one line: control characters (a newline in a file name, say) are escaped.
fn one_line(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
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
            photo_scale,
        }) => cli::bench::run(repeat, &sizes, &preset, &devices, batch, photo_scale),
        Some(Command::Export { from, out }) => cli::export::run(&from, out, cli.engine.overwrite),
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
