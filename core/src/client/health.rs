//! `clphealthchk`'s answer: whether the daemon's parts still show life. The original asks
//! its processes pm (process manager), rc (groups and resources), rm (monitors) and nm
//! (server and heartbeat) whether their health information was updated recently; clp's
//! parts live in one process, clppm, and answer through its status:
//!
//! - **pm**: clppm greets and answers a status request within the wait;
//! - **rc**: the engine's state (groups, resources) could be read for that answer;
//! - **rm**: every monitor that is switched on finished a check (or was switched on) less
//!   than its interval + timeout + delay before start + [`STALL_GRACE`] ago;
//! - **nm**: the server's heartbeat is Normal.

use std::time::Duration;

use serde::Serialize;

use super::{Error, RemoteError, Session, load_config};
use crate::exit_code::{self, Coded};
use crate::ipc::client::{Client, ClientError};
use crate::ipc::{Request, Response};
use crate::status::{ClusterStatus, DaemonState};

/// The slack on top of a monitor's own interval and timeout before its silence is a stall.
pub const STALL_GRACE: Duration = Duration::from_secs(30);

/// clphealthchk's return value: the cluster is stopped.
pub const STOPPED: u8 = 11;
/// clphealthchk's return value: the cluster is suspended.
pub const SUSPENDED: u8 = 12;
/// clphealthchk's return value: a part did not show life within its time.
pub const STALLED: u8 = 100;
/// clphealthchk's return value for an invalid option.
pub const INVALID_OPTION: u8 = 4;

/// A part of the daemon clphealthchk asks about, with the original's process names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    /// The process manager (clppm itself).
    Pm,
    /// Groups and resources.
    Rc,
    /// Monitors.
    Rm,
    /// The server and its heartbeat.
    Nm,
}

impl Part {
    /// Every part, in the original's order.
    pub const ALL: [Part; 4] = [Part::Pm, Part::Rc, Part::Rm, Part::Nm];

    /// The name the original prints.
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Pm => "pm",
            Part::Rc => "rc",
            Part::Rm => "rm",
            Part::Nm => "nm",
        }
    }
}

/// One part's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartHealth {
    /// The part.
    pub part: Part,
    /// It showed life in time.
    pub healthy: bool,
    /// Why it is not healthy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The parts asked about, in the original's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Health {
    /// One entry per part asked about.
    pub parts: Vec<PartHealth>,
}

impl Health {
    /// Ok when every part is healthy, else [`HealthError::Stalled`] naming the others.
    pub fn verdict(&self) -> Result<(), HealthError> {
        let stalled: Vec<String> = self
            .parts
            .iter()
            .filter(|part| !part.healthy)
            .map(|part| match &part.detail {
                Some(detail) => format!("{}: {detail}", part.part.as_str()),
                None => part.part.as_str().to_string(),
            })
            .collect();
        if stalled.is_empty() {
            Ok(())
        } else {
            Err(HealthError::Stalled(stalled.join("; ")))
        }
    }
}

/// Why the health check does not answer healthy.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    /// clppm is not running, or stopping.
    #[error("The cluster has been stopped (clppm is not running; start it with 'clpcl -s').")]
    Stopped,
    /// clppm is suspended (its monitors do not run).
    #[error("The cluster has been suspended (resume it with 'clpcl --resume').")]
    Suspended,
    /// A part did not show life in time.
    #[error("not healthy: {0}")]
    Stalled(String),
    /// Asking failed otherwise (the configuration, the socket's permissions, ...).
    #[error(transparent)]
    Other(#[from] Error),
}

impl Coded for HealthError {
    fn code(&self) -> u8 {
        match self {
            HealthError::Stopped => STOPPED,
            HealthError::Suspended => SUSPENDED,
            HealthError::Stalled(_) => STALLED,
            HealthError::Other(error) => match error.code() {
                exit_code::NOT_ROOT => exit_code::NOT_ROOT,
                exit_code::INIT_ERROR | exit_code::BAD_CONFIG => exit_code::INIT_ERROR,
                _ => exit_code::OTHER,
            },
        }
    }
}

/// Why no status came back: from the local socket or from another server.
enum Stalled {
    Local(ClientError),
    Remote(RemoteError),
}

impl Health {
    /// Every part of `parts` unhealthy: clppm did not answer within `wait`.
    fn all_stalled(parts: &[Part], wait: Duration) -> Health {
        let detail = format!("clppm did not answer within {} s", wait.as_secs_f64());
        Health {
            parts: parts
                .iter()
                .map(|&part| PartHealth {
                    part,
                    healthy: false,
                    detail: Some(detail.clone()),
                })
                .collect(),
        }
    }
}

impl Session<'_> {
    /// The health of `parts` (every part when empty), asking clppm and waiting at most
    /// `wait` for its answer: a clppm that does not answer in time is stalled (every part
    /// lives in it), one that is not running is [`HealthError::Stopped`].
    pub fn health(&self, parts: &[Part], wait: Duration) -> Result<Health, HealthError> {
        let parts = if parts.is_empty() {
            &Part::ALL[..]
        } else {
            parts
        };
        let status = match self.status_within(wait) {
            Ok(status) => status,
            Err(Stalled::Remote(RemoteError::Offline { .. })) => return Err(HealthError::Stopped),
            Err(Stalled::Remote(RemoteError::Timeout { .. })) => {
                return Ok(Health::all_stalled(parts, wait));
            }
            Err(Stalled::Remote(other)) => return Err(HealthError::Other(other.into())),
            Err(Stalled::Local(local)) => match local {
                ClientError::NotRunning { .. } => return Err(HealthError::Stopped),
                ClientError::Timeout { .. } | ClientError::Io { .. } => {
                    return Ok(Health::all_stalled(parts, wait));
                }
                other => return Err(HealthError::Other(other.into())),
            },
        };
        match status.daemon {
            DaemonState::Stopped | DaemonState::Stopping => return Err(HealthError::Stopped),
            DaemonState::Suspended => return Err(HealthError::Suspended),
            DaemonState::Starting | DaemonState::Running => {}
        }
        let limits = self.stall_limits(&status);
        Ok(Health {
            parts: parts
                .iter()
                .map(|&part| judge(part, &status, &limits))
                .collect(),
        })
    }

    /// The status from clppm (here, or on the server `-h` names), greeting and answer each
    /// within `wait`.
    fn status_within(&self, wait: Duration) -> Result<ClusterStatus, Stalled> {
        let answer = match self.remote() {
            Some(remote) => remote
                .ask(self.caller, &Request::STATUS, Some(wait))
                .map_err(Stalled::Remote)?,
            None => Client::connect_within(&self.paths.socket(), self.caller, wait)
                .and_then(|mut client| client.request(&Request::STATUS, Some(wait)))
                .map_err(Stalled::Local)?,
        };
        match answer {
            Response::Status(status) => Ok(status),
            other => Err(Stalled::Local(ClientError::Protocol {
                message: format!("clppm answered {other:?} to a status request"),
            })),
        }
    }

    /// For each monitor of `status`, how long it may stay silent (None: not in the
    /// configuration file, not judged).
    fn stall_limits(&self, status: &ClusterStatus) -> Vec<Option<Duration>> {
        let config = load_config(self.paths).ok();
        status
            .monitors
            .iter()
            .map(|monitor| {
                let config = config.as_ref()?;
                let monitor = config.monitors.iter().find(|m| m.name == monitor.name)?;
                Some(monitor.interval + monitor.timeout + monitor.wait_before_start + STALL_GRACE)
            })
            .collect()
    }
}

/// One part's health from clppm's status.
fn judge(part: Part, status: &ClusterStatus, limits: &[Option<Duration>]) -> PartHealth {
    let problem = match part {
        Part::Pm | Part::Rc => None,
        Part::Rm => status
            .monitors
            .iter()
            .zip(limits)
            .find_map(|(monitor, limit)| {
                let idle = Duration::from_millis(monitor.check_figures?.idle_ms?);
                let limit = (*limit)?;
                (idle > limit).then(|| {
                    format!(
                        "monitor {} has not finished a check for {} s (its limit is {} s)",
                        monitor.name,
                        idle.as_secs(),
                        limit.as_secs()
                    )
                })
            }),
        Part::Nm => (status.server.heartbeat.status != "Normal").then(|| {
            format!(
                "heartbeat {} is {}",
                status.server.heartbeat.name, status.server.heartbeat.status
            )
        }),
    };
    PartHealth {
        part,
        healthy: problem.is_none(),
        detail: problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::Paths;

    #[test]
    fn with_clppm_down_the_cluster_is_stopped() {
        let root = tempfile::tempdir().expect("temp dir");
        let paths = Paths::new(root.path());
        let error = Session::new(&paths, "test")
            .health(&[], Duration::from_secs(1))
            .expect_err("stopped");
        assert!(matches!(error, HealthError::Stopped));
        assert_eq!(error.code(), STOPPED);
    }

    #[test]
    fn a_monitor_silent_past_its_limit_stalls_rm_only() {
        let paths = Paths::new(std::path::Path::new("/nonexistent"));
        let mut status = crate::status::offline_status(
            &crate::config::load(&paths).expect("the default configuration"),
            None,
        );
        status.daemon = DaemonState::Running;
        status.server.heartbeat.status = "Normal".into();
        let silent = |idle_s: u64| {
            crate::status::CheckFigures::of(
                1,
                Duration::from_millis(5),
                Duration::from_millis(5),
                Some(Duration::from_secs(idle_s)),
            )
        };
        let limits = [Some(Duration::from_secs(60))];
        status.monitors[0].check_figures = silent(59);
        assert!(judge(Part::Rm, &status, &limits).healthy);
        status.monitors[0].check_figures = silent(61);
        let rm = judge(Part::Rm, &status, &limits);
        assert!(!rm.healthy);
        assert_eq!(
            rm.detail.as_deref(),
            Some("monitor userw has not finished a check for 61 s (its limit is 60 s)")
        );
        assert!(judge(Part::Pm, &status, &limits).healthy);
        assert!(judge(Part::Nm, &status, &limits).healthy);
        status.server.heartbeat.status = "Offline".into();
        assert!(!judge(Part::Nm, &status, &limits).healthy);
    }

    #[test]
    fn a_stalled_part_names_itself_and_exits_100() {
        let health = Health {
            parts: vec![
                PartHealth {
                    part: Part::Pm,
                    healthy: true,
                    detail: None,
                },
                PartHealth {
                    part: Part::Rm,
                    healthy: false,
                    detail: Some("monitor genw1 is silent".into()),
                },
            ],
        };
        let error = health.verdict().expect_err("stalled");
        assert_eq!(error.code(), STALLED);
        assert_eq!(
            error.to_string(),
            "not healthy: rm: monitor genw1 is silent"
        );
    }
}
