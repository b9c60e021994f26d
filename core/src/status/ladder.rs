//! A monitor's position on the recovery ladder: the counters the status shows, saved in
//! the store so they survive a daemon restart (and read from it while the daemon is down).
//! The engine's pure `decide` moves it; this module only holds it.

use serde::{Deserialize, Serialize};

use super::MonitorStatus;

/// A monitor's ladder position; saved in the store so it survives a daemon restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ladder {
    /// Normal, Warning or Error.
    pub status: MonitorStatus,
    /// Failures in a row since the last healthy check or recovery step.
    pub consecutive_failures: u32,
    /// Reactivations since the last reset.
    pub reactivations: u32,
    /// Failovers since the last reset (always 0: no standby).
    pub failovers: u32,
    /// Whether the final action ran since the last reset.
    pub final_action_done: bool,
    /// A recovery step is running; observations wait for it.
    #[serde(skip)]
    pub recovering: bool,
    /// A recovery step brought the target back and the next check has not run yet: the
    /// monitor shows Online Pending instead of Error until it does.
    #[serde(skip)]
    pub rechecking: bool,
    /// The detail of the last failure.
    pub last_detail: Option<String>,
}

impl Default for Ladder {
    fn default() -> Self {
        Ladder {
            status: MonitorStatus::Normal,
            consecutive_failures: 0,
            reactivations: 0,
            failovers: 0,
            final_action_done: false,
            recovering: false,
            rechecking: false,
            last_detail: None,
        }
    }
}

impl Ladder {
    /// The status to show: Online Pending while a recovered target waits for its next
    /// check, the ladder's status otherwise.
    pub fn shown_status(&self) -> MonitorStatus {
        if self.rechecking && self.status == MonitorStatus::Error {
            MonitorStatus::OnlinePending
        } else {
            self.status
        }
    }

    /// `clpmonctrl -c`: the counters back to zero, the status kept.
    pub fn clear_counters(&mut self) {
        self.reactivations = 0;
        self.failovers = 0;
        self.final_action_done = false;
        self.consecutive_failures = 0;
    }
}
