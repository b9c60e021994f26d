//! `clpperfc`'s figures: how long a monitor's checks take, from what the daemon measures
//! at each check (the count, the last, mean and longest durations since it started).

use serde::Serialize;

use super::{Error, Session, unexpected};
use crate::ipc::{Request, Response};
use crate::status::MonitorState;

/// One monitor's check durations since the daemon started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonitorPerformance {
    /// The monitor's name.
    pub monitor: String,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Checks finished since the daemon started.
    pub checks: u64,
    /// The last check's duration, in ms (rounded; absent before the first check).
    pub last_ms: Option<u64>,
    /// The mean duration, in ms.
    pub average_ms: Option<u64>,
    /// The longest check, in ms.
    pub max_ms: Option<u64>,
    /// The last check's duration, in µs.
    pub last_us: Option<u64>,
    /// The mean duration, in µs.
    pub average_us: Option<u64>,
    /// The longest check, in µs.
    pub max_us: Option<u64>,
}

impl MonitorPerformance {
    /// The figures of one monitor's state as the daemon reports it.
    pub fn of(state: &MonitorState) -> MonitorPerformance {
        let figures = state.check_figures.filter(|_| state.checks > 0);
        let average_us = figures.map(|f| f.average_us);
        let max_us = figures.map(|f| f.max_us);
        let last_us = state.last_check_us.filter(|_| state.checks > 0);
        MonitorPerformance {
            monitor: state.name.clone(),
            kind: state.kind.clone(),
            checks: state.checks,
            last_ms: last_us.map(millis),
            average_ms: average_us.map(millis),
            max_ms: max_us.map(millis),
            last_us,
            average_us,
            max_us,
        }
    }

    /// What `clpperfc -m` prints: the last check's duration in ms, 0 before the first
    /// check (a number always, for the scripts that parse it).
    pub fn shown_ms(&self) -> u64 {
        self.last_ms.unwrap_or(0)
    }
}

/// Microseconds to milliseconds, rounded to the nearest.
fn millis(micros: u64) -> u64 {
    micros.saturating_add(500) / 1000
}

impl Session<'_> {
    /// The check figures of the monitors `names` (every monitor when empty), from the
    /// daemon: it alone measures them, so a stopped daemon is an error (not running).
    pub fn monitor_performance(&self, names: &[String]) -> Result<Vec<MonitorPerformance>, Error> {
        let request = Request::Counters {
            monitors: names.to_vec(),
        };
        match self.ask(&request)? {
            Response::Counters { monitors } => {
                Ok(monitors.iter().map(MonitorPerformance::of).collect())
            }
            other => Err(unexpected(&other)),
        }
    }
}

/// One group's start and stop times: the medians of its latest successful ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupPerformance {
    /// The group's name.
    pub group: String,
    /// Successful starts since the daemon started.
    pub starts: u64,
    /// The median start time, in ms (absent before the first start).
    pub start_ms: Option<u64>,
    /// Successful stops since the daemon started.
    pub stops: u64,
    /// The median stop time, in ms.
    pub stop_ms: Option<u64>,
}

impl Session<'_> {
    /// The start and stop times of the groups `names` (every group when empty), from the
    /// daemon, which alone measures them.
    pub fn group_performance(&self, names: &[String]) -> Result<Vec<GroupPerformance>, Error> {
        let status = match self.ask(&Request::STATUS)? {
            Response::Status(status) => status,
            other => return Err(unexpected(&other)),
        };
        let figures: Vec<GroupPerformance> = status
            .groups
            .iter()
            .map(|group| {
                let times = group.times.unwrap_or(crate::status::GroupTimes {
                    starts: 0,
                    start_median_ms: None,
                    stops: 0,
                    stop_median_ms: None,
                });
                GroupPerformance {
                    group: group.name.clone(),
                    starts: times.starts,
                    start_ms: times.start_median_ms,
                    stops: times.stops,
                    stop_ms: times.stop_median_ms,
                }
            })
            .collect();
        if names.is_empty() {
            return Ok(figures);
        }
        names
            .iter()
            .map(|name| {
                figures
                    .iter()
                    .find(|f| &f.group == name)
                    .cloned()
                    .ok_or_else(|| Error::UnknownGroup(name.clone()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{CheckFigures, MonitorStatus};
    use std::time::Duration;

    fn state(checks: u64, last_us: Option<u64>) -> MonitorState {
        MonitorState {
            name: "genw1".into(),
            kind: "genw".into(),
            status: MonitorStatus::Normal,
            comment: String::new(),
            reactivations: 0,
            reactivation_threshold: 0,
            failovers: 0,
            failover_threshold: 0,
            final_action_done: false,
            final_action: String::new(),
            recovery_target: String::new(),
            last_detail: None,
            dummy_failure: false,
            checks,
            last_check_us: last_us,
            last_lateness_us: None,
            check_figures: CheckFigures::of(
                checks,
                Duration::from_micros(3 * 250_400),
                Duration::from_micros(300_600),
                Some(Duration::from_millis(20)),
            ),
        }
    }

    #[test]
    fn the_figures_are_rounded_to_milliseconds() {
        let figures = MonitorPerformance::of(&state(3, Some(200_499)));
        assert_eq!(figures.last_ms, Some(200));
        assert_eq!(figures.average_ms, Some(250));
        assert_eq!(figures.max_ms, Some(301));
        assert_eq!(figures.shown_ms(), 200);
    }

    #[test]
    fn before_the_first_check_the_shown_figure_is_zero() {
        let figures = MonitorPerformance::of(&state(0, None));
        assert_eq!(figures.last_ms, None);
        assert_eq!(figures.average_ms, None);
        assert_eq!(figures.shown_ms(), 0);
    }
}
