//! `clpstdn`: stop the cluster and shut down (or reboot) every server; on a single server,
//! the same as `clpdown`.

use std::ffi::OsString;
use std::io::Write;

use clap::Parser;
use clp_core::client;

use crate::cli::{self, CliError};

/// Stop the cluster and shut down or reboot its servers.
#[derive(Debug, Parser)]
#[command(
    name = "clpstdn",
    version,
    disable_help_flag = true,
    about = "Stop the cluster, then shut down (or reboot) its server"
)]
pub struct Args {
    /// Reboot instead of shutting down.
    #[arg(short = 'r')]
    reboot: bool,
    /// `-h HOST`, `--help`.
    #[command(flatten)]
    target: cli::HostArgs,
}

/// Runs `clpstdn`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
    args.target.check()?;
    client::down(&cli::paths(), args.reboot, "clpstdn", &mut |warning| {
        eprintln!("{warning}")
    })?;
    cli::succeeded(out)
}
