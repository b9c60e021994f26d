//! `clppm`: the daemon. `clppm --foreground` runs it in the foreground (for systemd units);
//! plain `clppm` starts it detached and returns once it answers, as `clpcl -s` does.

use std::ffi::OsString;
use std::io::Write;
use std::time::Duration;

use clap::Parser;
use clp_core::client;
use clp_core::exit_code;
use clp_core::service;
use clp_engine::daemon::{self, DaemonError};

use crate::cli::{self, CliError};

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
}

/// Runs `clppm`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
    let paths = cli::paths();
    if !args.foreground {
        let pid = service::start_detached(
            &paths,
            &service::clppm_beside_me(),
            "clppm",
            Duration::from_secs(60),
        )
        .map_err(client::Error::Start)?;
        writeln!(out, "clppm started (pid {pid}).")?;
        return Ok(());
    }
    daemon::check_writable_folders(&paths)
        .map_err(|error| CliError::new(exit_code::INIT_ERROR, error.to_string()))?;
    clp_core::logging::init_daemon_logging(&paths, !args.detached).map_err(|error| {
        CliError::new(
            exit_code::INIT_ERROR,
            format!(
                "cannot open the daemon log {}: {error}",
                paths.daemon_log().display()
            ),
        )
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| {
            CliError::new(
                exit_code::INIT_ERROR,
                format!("cannot start the runtime: {error}"),
            )
        })?;
    runtime.block_on(async {
        let prepared = daemon::prepare(&paths, clp_monitors::builder).map_err(|error| {
            let code = match &error {
                DaemonError::AlreadyRunning { .. } => exit_code::ALREADY_RUNNING,
                DaemonError::Config(_) | DaemonError::NotThisServer { .. } => exit_code::BAD_CONFIG,
                DaemonError::Store(_)
                | DaemonError::Io { .. }
                | DaemonError::NotWritable { .. }
                | DaemonError::License(_) => exit_code::INIT_ERROR,
            };
            tracing::error!("{error}");
            CliError::new(code, error.to_string())
        })?;
        if args.detached {
            clp_core::startup_output::silence_stdio();
        }
        prepared.run(args.requested_by).await;
        Ok(())
    })
}
