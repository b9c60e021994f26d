//! `clpstdn`: stop the cluster and shut down (or reboot) every server; on a single server,
//! the same as `clpdown`.

use std::ffi::OsString;
use std::io::Write;

use clap::Parser;
use clp_core::client::{self, Session};
use clp_core::ipc::{AfterStop, Request};

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
    let paths = cli::paths();
    if let Some(remote) = args.target.remote()? {
        // That server's clppm stops its groups, then shuts its OS down (or reboots it).
        let then = if args.reboot {
            AfterStop::Reboot
        } else {
            AfterStop::Shutdown
        };
        Session::new(&paths, "clpstdn")
            .through(Some(remote.as_ref()))
            .operate(&Request::StopDaemon { then })?;
        return cli::succeeded(out);
    }
    client::down(&paths, args.reboot, "clpstdn", &mut |warning| {
        eprintln!("{warning}")
    })?;
    cli::succeeded(out)
}
