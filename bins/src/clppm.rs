//! `clppm`: the daemon. `clppm --foreground` runs it in the foreground (for systemd units);
//! plain `clppm` starts it detached and returns once it answers, as `clpcl -s` does.

use std::ffi::OsString;
use std::io::Write;
use std::time::Duration;

use clap::Parser;
use clp_core::client;
use clp_core::client::clppm_process;
use clp_engine::daemon;

use crate::cli::{self, CliError, Refusal};

/// The clp supervisor daemon.
#[derive(Debug, Parser)]
#[command(
    name = "clppm",
    version,
    about = "The clp supervisor daemon (process manager)"
)]
pub struct Args {
    /// Run in the foreground (logs also to stderr); without it the daemon detaches.
    #[arg(long)]
    foreground: bool,
    /// Started by a command that waits for it: stop writing to stderr once ready.
    #[arg(long, hide = true)]
    detached: bool,
    /// The command that asked for the start, for the alert log.
    #[arg(long, hide = true)]
    requested_by: Option<String>,
    /// Run as the HA cluster's keeper of clppm's resources (started by clppm itself),
    /// killing MARGIN_MS before the lease's deadline.
    #[arg(long, hide = true, value_name = "MARGIN_MS")]
    keeper: Option<u64>,
}

/// Runs `clppm`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
    if let Some(margin) = args.keeper {
        let code = clp_engine::keeper::run(Duration::from_millis(margin));
        std::process::exit(i32::from(code));
    }
    let paths = cli::paths();
    if !args.foreground {
        let pid = clppm_process::start_detached(
            &paths,
            &clppm_process::clppm_beside_me(),
            "clppm",
            Duration::from_secs(60),
        )
        .map_err(client::Error::Start)?;
        writeln!(out, "clppm started (pid {pid}).")?;
        return Ok(());
    }
    daemon::check_writable_folders(&paths)
        .map_err(|error| Refusal::InitFailed(error.to_string()))?;
    clp_core::logging::init_daemon_logging(&paths, !args.detached).map_err(|error| {
        Refusal::InitFailed(format!(
            "cannot open the daemon log {}: {error}",
            paths.daemon_log().display()
        ))
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| Refusal::InitFailed(format!("cannot start the runtime: {error}")))?;
    runtime.block_on(async {
        let prepared = daemon::prepare(&paths, clp_monitors::builder).inspect_err(|error| {
            tracing::error!("{error}");
        })?;
        if args.detached {
            clp_core::startup_output::silence_stdio();
        }
        prepared.run(args.requested_by).await;
        Ok(())
    })
}
