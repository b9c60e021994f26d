//! `clpdown`: stop the daemon, then shut down (or with `-r` reboot) the OS through the
//! OS-action layer.

use std::ffi::OsString;
use std::io::Write;

use clap::Parser;

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
    down(args.reboot, "clpdown", out)
}

/// The shared work of `clpdown` and `clpstdn`.
pub fn down(reboot: bool, name: &str, out: &mut dyn Write) -> Result<(), CliError> {
    use clp_core::exit_code;
    use clp_core::ipc::AfterStop;
    use clp_core::service::{self, ServiceError};
    let paths = cli::paths();
    let then = if reboot {
        AfterStop::Reboot
    } else {
        AfterStop::Shutdown
    };
    match service::stop_and_wait(&paths, name, then, std::time::Duration::from_secs(3600)) {
        Ok(()) => {}
        Err(ServiceError::Client(clp_core::ipc::client::ClientError::NotRunning { .. })) => {
            // No daemon to stop: go straight to the OS action, from the root as the daemon
            // would (relative paths in the action resolve there), logged as the daemon would.
            let config = clp_core::client::load_config(&paths)?;
            std::env::set_current_dir(paths.root()).map_err(|error| {
                CliError::new(
                    exit_code::INIT_ERROR,
                    format!("cannot enter {}: {error}", paths.root().display()),
                )
            })?;
            let server = config.server_name();
            let (request_id, failure_id) = if reboot { (2, 12) } else { (1, 11) };
            log_alert(&paths, &config, request_id, &[&server, name]);
            let os = clp_core::os_action::OsActions::from_env(config.os_actions.clone());
            let result = if reboot { os.reboot() } else { os.shutdown() };
            if let Err(error) = result {
                log_alert(&paths, &config, failure_id, &[&server, &error.to_string()]);
                return Err(CliError::new(exit_code::OTHER, error.to_string()));
            }
        }
        Err(ServiceError::Client(error)) => return Err(error.into()),
        Err(error) => return Err(CliError::new(exit_code::OTHER, error.to_string())),
    }
    cli::succeeded(out)
}

/// Logs a `down` alert through the alert sink while no daemon runs; a failure to log is
/// said on stderr and does not hold the OS action back.
fn log_alert(
    paths: &clp_core::paths::Paths,
    config: &clp_core::config::Config,
    event_id: u32,
    args: &[&str],
) {
    let sink = clp_core::alert_sink::AlertSink::offline(config, paths);
    let event = clp_core::alert::AlertEvent::from_catalogue(sink.server(), "down", event_id, args);
    let message = event.message.clone();
    let delivery = sink.record(event);
    if let Some(error) = delivery.not_stored {
        eprintln!("warning: the alert \"{message}\" was not stored: {error}");
    }
    if let Some(error) = delivery.not_written {
        eprintln!(
            "warning: the alert \"{message}\" was not written to {}: {error}",
            paths.alert_log().display()
        );
    }
}
