//! `clpmonctrl`: suspend and resume monitors, show and clear their recovery counters.

use std::ffi::OsString;
use std::io::Write;

use clap::{ArgGroup, Parser};
use clp_core::client::Session;
use clp_core::ipc::Request;

use crate::cli::{self, CliError};
use crate::render;

/// Control monitors.
#[derive(Debug, Parser)]
#[command(
    name = "clpmonctrl",
    version,
    disable_help_flag = true,
    about = "Suspend or resume monitors; show or clear their recovery counters"
)]
#[command(group(ArgGroup::new("op").required(true).args(["suspend", "resume", "clear", "view", "dummy_on", "dummy_off"])))]
pub struct Args {
    /// Suspend monitoring.
    #[arg(short = 's')]
    suspend: bool,
    /// Resume monitoring.
    #[arg(short = 'r')]
    resume: bool,
    /// Clear the recovery counters (reactivation, failover, final action).
    #[arg(short = 'c')]
    clear: bool,
    /// Show the recovery counters.
    #[arg(short = 'v')]
    view: bool,
    /// Enable dummy failure: the monitor reports a fault without checking (needs -m).
    #[arg(short = 'e', requires = "monitors")]
    dummy_on: bool,
    /// Disable dummy failure (every monitor when -m is omitted).
    #[arg(short = 'n')]
    dummy_off: bool,
    /// The monitor (repeatable; every monitor when omitted).
    #[arg(short = 'm', value_name = "MONITOR")]
    monitors: Vec<String>,
    /// Seconds to wait (accepted; operations answer when done).
    #[arg(short = 'w', value_name = "SEC")]
    wait: Option<u64>,
    /// JSON instead of the text layout (with -v).
    #[arg(long)]
    json: bool,
    /// `-h HOST`, `--help`.
    #[command(flatten)]
    target: cli::HostArgs,
}

/// Runs `clpmonctrl`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
    let remote = args.target.remote()?;
    let paths = cli::paths();
    let session = Session::new(&paths, "clpmonctrl").through(remote.as_deref());
    let monitors = args.monitors.clone();
    if args.view {
        let states = session.monitor_counters(&monitors)?;
        let text = if args.json {
            serde_json::to_string_pretty(&states)? + "\n"
        } else {
            render::counters(&states)
        };
        out.write_all(text.as_bytes())?;
        return Ok(());
    }
    let request = if args.suspend {
        Request::SuspendMonitors { monitors }
    } else if args.resume {
        Request::ResumeMonitors { monitors }
    } else if args.dummy_on || args.dummy_off {
        Request::DummyFailure {
            monitors,
            enable: args.dummy_on,
        }
    } else {
        Request::ClearCounters { monitors }
    };
    session.operate(&request)?;
    cli::succeeded(out)
}
