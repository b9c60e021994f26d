//! `clpdown`: stop the daemon, then shut down (or with `-r` reboot) the OS through the
//! OS-action layer.

use std::ffi::OsString;
use std::io::Write;

use clap::Parser;
use clp_core::client::{self, Session};
use clp_core::ipc::{AfterStop, Request};

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
    let paths = cli::paths();
    if let Some(remote) = args.target.remote()? {
        // That server's clppm stops its groups, then shuts its OS down (or reboots it).
        let then = if args.reboot {
            AfterStop::Reboot
        } else {
            AfterStop::Shutdown
        };
        Session::new(&paths, "clpdown")
            .through(Some(remote.as_ref()))
            .operate(&Request::StopDaemon { then })?;
        return cli::succeeded(out);
    }
    client::down(&paths, args.reboot, "clpdown", &mut |warning| {
        eprintln!("{warning}")
    })?;
    cli::succeeded(out)
}
