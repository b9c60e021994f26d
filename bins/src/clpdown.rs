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
    about = "Stop the clp daemon, then shut down (or reboot) this server"
)]
pub struct Args {
    /// Reboot instead of shutting down.
    #[arg(short = 'r')]
    reboot: bool,
}

/// Runs `clpdown`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
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
            // No daemon to stop: go straight to the OS action.
            let config = crate::clpstat::load_config(&paths)?;
            let os = clp_core::os_action::OsActions::from_env(config.os_actions);
            let result = if reboot { os.reboot() } else { os.shutdown() };
            result.map_err(|error| CliError::new(exit_code::OTHER, error.to_string()))?;
        }
        Err(ServiceError::Client(error)) => return Err(error.into()),
        Err(error) => return Err(CliError::new(exit_code::OTHER, error.to_string())),
    }
    cli::succeeded(out)
}
