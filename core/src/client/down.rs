//! `clpdown` and `clpstdn`: stop the daemon, which then shuts down (or reboots) the OS; with
//! no daemon running, the OS action is taken here, logged as the daemon would log it.

use std::time::Duration;

use super::Error;
use crate::alert::AlertEvent;
use crate::alert_sink::AlertSink;
use crate::client::clppm_process::{self, ServiceError};
use crate::config::Config;
use crate::ipc::AfterStop;
use crate::ipc::client::ClientError;
use crate::os_action::OsActions;
use crate::paths::Paths;

/// How long a down waits for the daemon to stop (its groups stop first).
const STOP_WAIT: Duration = Duration::from_secs(3600);

/// Stops the daemon of `paths` and shuts down (`reboot`: reboots) this server; `caller` is
/// the command's name (for the daemon's log and the alert). `warn` hears what went wrong on
/// the way without holding the OS action back (an alert that was not logged).
pub fn down(
    paths: &Paths,
    reboot: bool,
    caller: &str,
    warn: &mut dyn FnMut(String),
) -> Result<(), Error> {
    let then = if reboot {
        AfterStop::Reboot
    } else {
        AfterStop::Shutdown
    };
    match clppm_process::stop_and_wait(paths, caller, then, STOP_WAIT) {
        Ok(()) => Ok(()),
        Err(ServiceError::Client(ClientError::NotRunning { .. })) => {
            // No daemon to stop: go straight to the OS action, from the root as the daemon
            // would (relative paths in the action resolve there), logged as the daemon would.
            let config = super::load_config(paths)?;
            std::env::set_current_dir(paths.root()).map_err(|source| Error::EnterRoot {
                root: paths.root().to_path_buf(),
                source,
            })?;
            let server = config.server_name();
            let (request_id, failure_id) = if reboot { (2, 12) } else { (1, 11) };
            log_alert(paths, &config, request_id, &[&server, caller], warn);
            let os = OsActions::from_env(config.os_actions.clone());
            let result = if reboot { os.reboot() } else { os.shutdown() };
            if let Err(error) = result {
                log_alert(
                    paths,
                    &config,
                    failure_id,
                    &[&server, &error.to_string()],
                    warn,
                );
                return Err(Error::OsAction(error));
            }
            Ok(())
        }
        Err(error) => Err(Error::Down(error)),
    }
}

/// Logs a `down` alert through the alert sink while no daemon runs; a failure to log goes to
/// `warn` and does not hold the OS action back.
fn log_alert(
    paths: &Paths,
    config: &Config,
    event_id: u32,
    args: &[&str],
    warn: &mut dyn FnMut(String),
) {
    let sink = AlertSink::offline(config, paths);
    let event = AlertEvent::from_catalogue(sink.server(), "down", event_id, args);
    let message = event.message.clone();
    let delivery = sink.record(event);
    if let Some(error) = delivery.not_stored {
        warn(format!(
            "warning: the alert \"{message}\" was not stored: {error}"
        ));
    }
    if let Some(error) = delivery.not_written {
        warn(format!(
            "warning: the alert \"{message}\" was not written to {}: {error}",
            paths.alert_log().display()
        ));
    }
}
