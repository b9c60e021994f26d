//! `clpcl`: start, stop, restart, suspend and resume the daemon.

use std::ffi::OsString;
use std::io::Write;

use clap::{ArgGroup, Parser};
use clp_core::client::clppm_process::{self, ServiceError};
use clp_core::client::{self, Session};
use clp_core::ipc::{AfterStop, Request};

use crate::cli::{self, CliError};

/// Operate the cluster daemon.
#[derive(Debug, Parser)]
#[command(
    name = "clpcl",
    version,
    disable_help_flag = true,
    about = "Start, stop, restart, suspend or resume the clp daemon"
)]
#[command(group(ArgGroup::new("op").required(true).args(["start", "stop", "restart", "suspend", "resume"])))]
pub struct Args {
    /// Start the daemon.
    #[arg(short = 's')]
    start: bool,
    /// Stop the daemon: groups are stopped in reverse order.
    #[arg(short = 't')]
    stop: bool,
    /// Restart the daemon.
    #[arg(short = 'r')]
    restart: bool,
    /// Suspend: monitoring stops, resources keep running.
    #[arg(long)]
    suspend: bool,
    /// Resume after --suspend.
    #[arg(long)]
    resume: bool,
    /// All servers (a single server here: accepted for scripts written for the original).
    #[arg(short = 'a')]
    all: bool,
    /// Seconds to wait for the start or stop to complete.
    #[arg(short = 'w', value_name = "SEC")]
    wait: Option<u64>,
    /// Suspend even if not every server is online (accepted; one server).
    #[arg(long, requires = "suspend")]
    force: bool,
    /// `-h HOST`, `--help`.
    #[command(flatten)]
    target: cli::HostArgs,
}

/// Runs `clpcl`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
    args.target.check()?;
    let paths = cli::paths();
    let wait = cli::seconds(args.wait, 300);
    let host = clp_core::config::host_name();
    let prefix = if args.all {
        format!(
            "{} {host} : ",
            if args.start {
                "Start"
            } else if args.stop {
                "Stop"
            } else {
                "Restart"
            }
        )
    } else {
        String::new()
    };
    if args.start {
        clppm_process::start_detached(&paths, &clppm_process::clppm_beside_me(), "clpcl", wait)
            .map_err(client::Error::Start)?;
    } else if args.stop {
        clppm_process::stop_and_wait(&paths, "clpcl", AfterStop::Nothing, wait)
            .map_err(client::Error::Stop)?;
    } else if args.restart {
        match clppm_process::stop_and_wait(&paths, "clpcl", AfterStop::Nothing, wait) {
            Ok(())
            | Err(ServiceError::Client(clp_core::ipc::client::ClientError::NotRunning {
                ..
            })) => {}
            Err(error) => return Err(client::Error::Stop(error).into()),
        }
        clppm_process::start_detached(&paths, &clppm_process::clppm_beside_me(), "clpcl", wait)
            .map_err(client::Error::Start)?;
    } else if args.suspend {
        Session::new(&paths, "clpcl").operate(&Request::Suspend)?;
    } else if args.resume {
        Session::new(&paths, "clpcl").operate(&Request::Resume)?;
    }
    writeln!(out, "{prefix}{}", cli::SUCCEEDED)?;
    Ok(())
}
