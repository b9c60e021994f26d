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
    /// The real defaults. `CLP_FORBID_OS_ACTIONS=1` refuses these and anything that reaches
    /// the same thing by another spelling (see [`is_real_power_command`]).
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
        self.run("shutdown", &self.config.shutdown)
    }

    /// Reboots the OS.
    pub fn reboot(&self) -> Result<(), OsActionError> {
        self.run("reboot", &self.config.reboot)
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
        if self.forbid_real && is_real_watchdog(path) {
            return Err(OsActionError::Forbidden {
                what: "opening the watchdog",
                target: path.display().to_string(),
            });
        }
        Ok(path)
    }

    fn run(&self, what: &'static str, command: &[String]) -> Result<(), OsActionError> {
        let line = command.join(" ");
        if self.forbid_real && is_real_power_command(command) {
            return Err(OsActionError::Forbidden { what, target: line });
        }
        let Some((program, args)) = command.split_first() else {
            return Err(OsActionError::Command {
                what,
                command: line,
                message: "empty command".into(),
            });
        };
        // The machine may go with the command: the daemon's log first.
        crate::logging::flush();
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
        if self.forbid_real && is_real_sysrq(path) {
            return Err(OsActionError::Forbidden {
                what,
                target: path.display().to_string(),
            });
        }
        // The machine goes with the write: the daemon's log first.
        crate::logging::flush();
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

/// The programs that power the machine off or restart it, whatever their folder.
const POWER_PROGRAMS: &[&str] = &[
    "shutdown",
    "reboot",
    "halt",
    "poweroff",
    "systemctl",
    "init",
    "telinit",
];

/// Whether `command` runs a program that shuts down or reboots the machine (by any path, or
/// through a link to one), whatever its arguments: what the lock refuses.
pub fn is_real_power_command(command: &[String]) -> bool {
    let Some(program) = command.first() else {
        return false;
    };
    reaches(Path::new(program), |path| {
        path.file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| POWER_PROGRAMS.contains(&name))
    })
}

/// Whether `path` is the kernel's sysrq trigger, by any spelling or link.
pub fn is_real_sysrq(path: &Path) -> bool {
    reaches(path, |path| path.starts_with("/proc/sysrq-trigger"))
}

/// Whether `path` is a watchdog device (`/dev/watchdog`, `/dev/watchdog0`, ...), by any
/// spelling or link.
pub fn is_real_watchdog(path: &Path) -> bool {
    reaches(path, |path| {
        path.parent() == Some(Path::new("/dev"))
            && path
                .file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with("watchdog"))
    })
}

/// Whether `path` satisfies `real` as written, with `.`/`..` taken out, or where its links
/// lead (also when what a link names does not exist here).
fn reaches(path: &Path, real: impl Fn(&Path) -> bool) -> bool {
    let mut spellings = vec![path.to_path_buf(), lexical(path)];
    spellings.extend(std::fs::canonicalize(path).ok());
    let mut link = path.to_path_buf();
    for _ in 0..8 {
        let Ok(target) = std::fs::read_link(&link) else {
            break;
        };
        link = lexical(&link.parent().unwrap_or(Path::new("/")).join(target));
        spellings.push(link.clone());
    }
    spellings.iter().any(|spelling| real(spelling))
}

/// `path` with `.` and `..` resolved by their names alone.
fn lexical(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
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

    /// Only the predicates: nothing here opens, writes or runs anything.
    #[test]
    fn the_lock_knows_the_real_things_by_any_spelling_or_link() {
        let words = |line: &str| line.split(' ').map(String::from).collect::<Vec<_>>();
        for real in [
            "/sbin/shutdown -h now",
            "shutdown -h +5",
            "/usr/sbin/reboot",
            "poweroff",
            "systemctl reboot",
            "/sbin/halt -p",
        ] {
            assert!(is_real_power_command(&words(real)), "{real}");
        }
        for recorder in ["/bin/sh -c echo shutdown", "/tmp/record-shutdown.sh", ""] {
            assert!(!is_real_power_command(&words(recorder)), "{recorder}");
        }
        assert!(is_real_sysrq(Path::new("/proc/sysrq-trigger")));
        assert!(is_real_sysrq(Path::new("/proc/../proc/sysrq-trigger")));
        assert!(is_real_watchdog(Path::new("/dev/watchdog")));
        assert!(is_real_watchdog(Path::new("/dev/watchdog0")));
        let dir = tempfile::tempdir().unwrap();
        // A link is judged by where it leads (the links are made, never opened).
        let sysrq_link = dir.path().join("trigger");
        std::os::unix::fs::symlink("/proc/sysrq-trigger", &sysrq_link).unwrap();
        assert!(is_real_sysrq(&sysrq_link));
        let power_link = dir.path().join("off");
        std::os::unix::fs::symlink("/sbin/shutdown", &power_link).unwrap();
        assert!(is_real_power_command(&[power_link.display().to_string()]));
        assert!(!is_real_sysrq(&dir.path().join("sysrq")));
        assert!(!is_real_watchdog(&dir.path().join("watchdog")));
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
