//! Final actions that touch the OS: shutdown, reboot, sysrq, the watchdog device.
//!
//! Every command and path comes from `[os_actions]` in the configuration, so tests point
//! them at recorders. As a second lock, `CLP_FORBID_OS_ACTIONS=1` refuses the real defaults
//! (`/sbin/shutdown`, `/proc/sysrq-trigger`, `/dev/watchdog`) with an error.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// `[os_actions]`: the commands and files final actions use. Tests point these at recorders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OsActionsConfig {
    /// The shutdown command.
    pub shutdown: Vec<String>,
    /// The reboot command.
    pub reboot: Vec<String>,
    /// The sysrq trigger file (`c` panic, `b` reset).
    pub sysrq_trigger: PathBuf,
    /// The watchdog device (userw methods `softdog`, `keepalive`).
    pub watchdog_device: PathBuf,
}

impl OsActionsConfig {
    /// The real defaults. `CLP_FORBID_OS_ACTIONS=1` refuses exactly these.
    pub fn real_defaults() -> Self {
        Self {
            shutdown: vec!["/sbin/shutdown".into(), "-h".into(), "now".into()],
            reboot: vec!["/sbin/shutdown".into(), "-r".into(), "now".into()],
            sysrq_trigger: PathBuf::from("/proc/sysrq-trigger"),
            watchdog_device: PathBuf::from("/dev/watchdog"),
        }
    }
}

/// The environment variable that forbids the real OS actions.
pub const FORBID_ENV: &str = "CLP_FORBID_OS_ACTIONS";

/// Why an OS action did not happen.
#[derive(Debug, thiserror::Error)]
pub enum OsActionError {
    /// `CLP_FORBID_OS_ACTIONS=1` and the configuration names the real thing.
    #[error("{what} refused: {FORBID_ENV}=1 forbids {target}; point [os_actions] at a recorder")]
    Forbidden {
        /// The action.
        what: &'static str,
        /// The command or file.
        target: String,
    },
    /// The command could not run or failed.
    #[error("{what} failed: {command}: {message}")]
    Command {
        /// The action.
        what: &'static str,
        /// The command line.
        command: String,
        /// What happened.
        message: String,
    },
    /// The trigger file could not be written.
    #[error("{what} failed: cannot write {}: {source}", path.display())]
    File {
        /// The action.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Whether `CLP_FORBID_OS_ACTIONS` is set to something other than `0`.
pub fn forbidden_by_env() -> bool {
    std::env::var(FORBID_ENV).is_ok_and(|value| !value.is_empty() && value != "0")
}

/// Runs the OS actions as configured.
#[derive(Debug, Clone)]
pub struct OsActions {
    config: OsActionsConfig,
    forbid_real: bool,
}

impl OsActions {
    /// The actions of `config`; the real defaults are refused when `forbid_real`.
    pub fn new(config: OsActionsConfig, forbid_real: bool) -> Self {
        Self {
            config,
            forbid_real,
        }
    }

    /// The actions of `config`, with the lock taken from the environment.
    pub fn from_env(config: OsActionsConfig) -> Self {
        Self::new(config, forbidden_by_env())
    }

    /// Shuts the OS down.
    pub fn shutdown(&self) -> Result<(), OsActionError> {
        self.run(
            "shutdown",
            &self.config.shutdown,
            &OsActionsConfig::real_defaults().shutdown,
        )
    }

    /// Reboots the OS.
    pub fn reboot(&self) -> Result<(), OsActionError> {
        self.run(
            "reboot",
            &self.config.reboot,
            &OsActionsConfig::real_defaults().reboot,
        )
    }

    /// Panics the kernel (sysrq `c`).
    pub fn sysrq_panic(&self) -> Result<(), OsActionError> {
        self.sysrq("sysrq panic", b'c')
    }

    /// Resets the machine at once (sysrq `b`); the original does this with its keepalive
    /// driver, which this implementation replaces with sysrq.
    pub fn keepalive_reset(&self) -> Result<(), OsActionError> {
        self.sysrq("keepalive reset", b'b')
    }

    /// Panics the machine (sysrq `c`); the original's keepalive-driver panic.
    pub fn keepalive_panic(&self) -> Result<(), OsActionError> {
        self.sysrq("keepalive panic", b'c')
    }

    /// The watchdog device, checked against the lock.
    pub fn watchdog_device(&self) -> Result<&Path, OsActionError> {
        let path = &self.config.watchdog_device;
        if self.forbid_real && *path == OsActionsConfig::real_defaults().watchdog_device {
            return Err(OsActionError::Forbidden {
                what: "opening the watchdog",
                target: path.display().to_string(),
            });
        }
        Ok(path)
    }

    fn run(
        &self,
        what: &'static str,
        command: &[String],
        real: &[String],
    ) -> Result<(), OsActionError> {
        let line = command.join(" ");
        if self.forbid_real && command == real {
            return Err(OsActionError::Forbidden { what, target: line });
        }
        let Some((program, args)) = command.split_first() else {
            return Err(OsActionError::Command {
                what,
                command: line,
                message: "empty command".into(),
            });
        };
        // A script without a `#!` line runs with /bin/sh, as an exec resource's does.
        let status = crate::process::operator_command(program)
            .and_then(|mut command| command.args(args).status())
            .map_err(|error| OsActionError::Command {
                what,
                command: line.clone(),
                message: error.to_string(),
            })?;
        if status.success() {
            Ok(())
        } else {
            Err(OsActionError::Command {
                what,
                command: line,
                message: format!("exited with {status}"),
            })
        }
    }

    fn sysrq(&self, what: &'static str, key: u8) -> Result<(), OsActionError> {
        let path = &self.config.sysrq_trigger;
        if self.forbid_real && *path == OsActionsConfig::real_defaults().sysrq_trigger {
            return Err(OsActionError::Forbidden {
                what,
                target: path.display().to_string(),
            });
        }
        let write = || -> std::io::Result<()> {
            let mut file = OpenOptions::new()
                .append(true)
                .create(!path.starts_with("/proc"))
                .open(path)?;
            file.write_all(&[key])?;
            file.flush()
        };
        write().map_err(|source| OsActionError::File {
            what,
            path: path.clone(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_refuses_the_real_defaults() {
        let actions = OsActions::new(OsActionsConfig::real_defaults(), true);
        assert!(matches!(
            actions.shutdown(),
            Err(OsActionError::Forbidden { .. })
        ));
        assert!(matches!(
            actions.reboot(),
            Err(OsActionError::Forbidden { .. })
        ));
        assert!(matches!(
            actions.sysrq_panic(),
            Err(OsActionError::Forbidden { .. })
        ));
        assert!(matches!(
            actions.keepalive_reset(),
            Err(OsActionError::Forbidden { .. })
        ));
        assert!(matches!(
            actions.watchdog_device(),
            Err(OsActionError::Forbidden { .. })
        ));
    }

    #[test]
    fn recorders_receive_the_actions() {
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("record");
        let trigger = dir.path().join("sysrq");
        let config = OsActionsConfig {
            shutdown: vec![
                "/bin/sh".into(),
                "-c".into(),
                format!("echo shutdown >> {}", record.display()),
            ],
            reboot: vec![
                "/bin/sh".into(),
                "-c".into(),
                format!("echo reboot >> {}", record.display()),
            ],
            sysrq_trigger: trigger.clone(),
            watchdog_device: dir.path().join("watchdog"),
        };
        let actions = OsActions::new(config, true);
        actions.shutdown().unwrap();
        actions.reboot().unwrap();
        actions.sysrq_panic().unwrap();
        actions.keepalive_reset().unwrap();
        assert_eq!(
            std::fs::read_to_string(record).unwrap(),
            "shutdown\nreboot\n"
        );
        assert_eq!(std::fs::read_to_string(trigger).unwrap(), "cb");
    }

    #[test]
    fn a_recorder_script_without_a_shebang_runs_with_the_shell() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("record");
        let script = dir.path().join("shutdown.sh");
        std::fs::write(&script, format!("echo \"$@\" >> {}\n", record.display())).unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let crlf = dir.path().join("reboot.sh");
        std::fs::write(&crlf, "echo reboot\r\n").unwrap();
        std::fs::set_permissions(&crlf, std::fs::Permissions::from_mode(0o755)).unwrap();
        let config = OsActionsConfig {
            shutdown: vec![script.display().to_string(), "-h".into(), "now".into()],
            reboot: vec![crlf.display().to_string()],
            sysrq_trigger: dir.path().join("sysrq"),
            watchdog_device: dir.path().join("watchdog"),
        };
        let actions = OsActions::new(config, true);
        actions.shutdown().unwrap();
        assert_eq!(std::fs::read_to_string(&record).unwrap(), "-h now\n");
        let error = actions.reboot().unwrap_err().to_string();
        assert!(
            error.contains("CRLF") && error.contains("dos2unix"),
            "{error}"
        );
    }
}
