//! `clpdown`: stop the daemon, then shut down (or with `-r` reboot) the OS through the
//! OS-action layer.

use std::ffi::OsString;
use std::io::Write;

use clap::Parser;
use clp_core::client;

use crate::cli::{self, CliError};

/// Stop the daemon and shut down or reboot this server.
#[derive(Debug, Parser)]
#[command(
    name = "clpdown",
    version,
    disable_help_flag = true,
    about = "Stop the clp daemon, then shut down (or reboot) this server"
)]
pub struct Args {
    /// Reboot instead of shutting down.
    #[arg(short = 'r')]
    reboot: bool,
    /// `-h HOST`, `--help`.
    #[command(flatten)]
    target: cli::HostArgs,
}

/// Runs `clpdown`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
    args.target.check()?;
    client::down(&cli::paths(), args.reboot, "clpdown", &mut |warning| {
        eprintln!("{warning}")
    })?;
    cli::succeeded(out)
}
