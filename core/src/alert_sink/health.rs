//! The text alert log's health: whether writes to `log/alert.log` fail (a full disk, a
//! read-only file system), since when, and how many records were lost — so that a failure
//! is reported once, shown by `clpstat`, and its end is written to the log itself.

use std::sync::{Mutex, PoisonError};

use crate::alert::{AlertEvent, AlertFile, Level};

/// The module of clp's own alert-log events.
pub const MODULE: &str = "clp";
/// Event id: writing the alert log failed (records are being lost).
pub const WRITE_FAILED: u32 = 1;
/// Event id: writing the alert log works again.
pub const WRITE_RESUMED: u32 = 2;

#[derive(Debug, Default)]
struct Failing {
    since: String,
    error: String,
    lost: u64,
}

/// What a write changed in the log's health, for the engine to report.
#[derive(Debug)]
pub enum Change {
    /// Nothing to report (it worked, or it still fails and was reported already).
    None,
    /// The first failure: this event reports it (store, syslog, daemon log).
    Failed(AlertEvent),
    /// Writes work again: this event (already in the text log) says so.
    Resumed(AlertEvent),
}

/// The alert log and its health.
#[derive(Debug)]
pub struct AlertLog {
    file: AlertFile,
    failing: Mutex<Option<Failing>>,
}

impl AlertLog {
    /// Writes to `file`.
    pub fn new(file: AlertFile) -> AlertLog {
        AlertLog {
            file,
            failing: Mutex::new(None),
        }
    }

    /// Writes `event` (after the "resumed" record when writes failed until now); says what
    /// changed in the log's health, and whether `event` itself was written.
    pub fn write(&self, server: &str, event: &AlertEvent) -> (Change, std::io::Result<()>) {
        let mut failing = self.failing.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(state) = failing.as_mut() {
            let resumed = AlertEvent::custom(
                server,
                MODULE,
                WRITE_RESUMED,
                Level::Info,
                &format!(
                    "Writing the alert log {} works again; {} records since {} were lost ({}).",
                    self.file.path().display(),
                    state.lost,
                    state.since,
                    state.error
                ),
            );
            if let Err(error) = self.file.append(&resumed) {
                state.lost += 1;
                return (Change::None, Err(error));
            }
            *failing = None;
            let written = self.file.append(event);
            if let Err(error) = &written {
                *failing = Some(Failing {
                    since: event.time.clone(),
                    error: error.to_string(),
                    lost: 1,
                });
            }
            return (Change::Resumed(resumed), written);
        }
        match self.file.append(event) {
            Ok(()) => (Change::None, Ok(())),
            Err(error) => {
                let failed = AlertEvent::custom(
                    server,
                    MODULE,
                    WRITE_FAILED,
                    Level::Error,
                    &format!(
                        "Cannot write the alert log {}: {error}. Alert records are kept in the store (clpstat, clp_mltool messages) but not in the file until it can be written again; free space or fix the file system.",
                        self.file.path().display()
                    ),
                );
                *failing = Some(Failing {
                    since: event.time.clone(),
                    error: error.to_string(),
                    lost: 1,
                });
                (Change::Failed(failed), Err(error))
            }
        }
    }

    /// One line for `clpstat` while writes fail; None while the log is healthy.
    pub fn problem(&self) -> Option<String> {
        let failing = self.failing.lock().unwrap_or_else(PoisonError::into_inner);
        failing.as_ref().map(|state| {
            format!(
                "cannot write {} since {} ({}); {} records not written",
                self.file.path().display(),
                state.since,
                state.error,
                state.lost
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_reported_once_and_its_end_written() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("alert.log");
        let log = AlertLog::new(AlertFile::new("/dev/full", 1 << 20));
        let event = AlertEvent::custom("s", "logcmd", 1, Level::Info, "one");
        assert!(matches!(
            log.write("s", &event),
            (Change::Failed(_), Err(_))
        ));
        assert!(matches!(log.write("s", &event), (Change::None, Err(_))));
        assert!(log.problem().is_some_and(|line| line.contains("2 records")));
        // The same state, pointed at a writable file: the next write resumes.
        let healthy = AlertLog {
            file: AlertFile::new(&path, 1 << 20),
            failing: Mutex::new(log.failing.lock().expect("not poisoned").take()),
        };
        assert!(matches!(
            healthy.write("s", &event),
            (Change::Resumed(_), Ok(()))
        ));
        assert!(healthy.problem().is_none());
        let text = std::fs::read_to_string(&path).expect("the log");
        assert!(text.contains("clp 2 Writing the alert log"), "{text}");
        assert!(
            text.lines()
                .last()
                .is_some_and(|l| l.ends_with("logcmd 1 one"))
        );
    }
}
