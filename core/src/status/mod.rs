//! The status words and the status snapshot the daemon reports and commands render, and
//! the one builder of that snapshot ([`build`]), online and offline.

mod build;
mod encode;
mod kept;
mod ladder;
mod view;

use serde::{Deserialize, Serialize};

pub use build::{
    Facts, MonitorFacts, Offline, ResourceFacts, build, build_view, build_view_in, monitor_state,
    offline_status,
};
pub use kept::EncodedMonitors;
pub use ladder::Ladder;
pub use view::{
    GroupSummary, GroupView, HeartbeatView, MonitorSummary, MonitorView, ResourceSummary,
    ResourceView, ServerView, SpareMonitorList, StatusSummary, StatusView,
};

/// The daemon's own state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DaemonState {
    /// Not running (the snapshot was built from the configuration).
    Stopped,
    /// Starting groups and monitors.
    Starting,
    /// Running.
    Running,
    /// Running, monitoring suspended, operations refused.
    Suspended,
    /// Stopping.
    Stopping,
}

impl DaemonState {
    /// The word the status encodes.
    pub fn as_str(self) -> &'static str {
        match self {
            DaemonState::Stopped => "stopped",
            DaemonState::Starting => "starting",
            DaemonState::Running => "running",
            DaemonState::Suspended => "suspended",
            DaemonState::Stopping => "stopping",
        }
    }
}

/// A group's or a server's state, with the original's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectStatus {
    /// Active.
    Online,
    /// Not active.
    Offline,
    /// Being started.
    #[serde(rename = "Online Pending")]
    OnlinePending,
    /// Being stopped.
    #[serde(rename = "Offline Pending")]
    OfflinePending,
    /// Failed to start.
    #[serde(rename = "Online Failure")]
    OnlineFailure,
    /// Failed to stop.
    #[serde(rename = "Offline Failure")]
    OfflineFailure,
    /// A group with a failed resource.
    Error,
    /// Not known.
    Unknown,
}

impl ObjectStatus {
    /// Every state, in the order of its declaration.
    pub const ALL: [ObjectStatus; 8] = [
        ObjectStatus::Online,
        ObjectStatus::Offline,
        ObjectStatus::OnlinePending,
        ObjectStatus::OfflinePending,
        ObjectStatus::OnlineFailure,
        ObjectStatus::OfflineFailure,
        ObjectStatus::Error,
        ObjectStatus::Unknown,
    ];

    /// The word `clpstat` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectStatus::Online => "Online",
            ObjectStatus::Offline => "Offline",
            ObjectStatus::OnlinePending => "Online Pending",
            ObjectStatus::OfflinePending => "Offline Pending",
            ObjectStatus::OnlineFailure => "Online Failure",
            ObjectStatus::OfflineFailure => "Offline Failure",
            ObjectStatus::Error => "Error",
            ObjectStatus::Unknown => "Unknown",
        }
    }

    /// The group map letter (`o` online, `x` offline, `e` error, `p` pending, `-` unknown).
    pub fn letter(self) -> char {
        match self {
            ObjectStatus::Online => 'o',
            ObjectStatus::Offline => 'x',
            ObjectStatus::OnlinePending | ObjectStatus::OfflinePending => 'p',
            ObjectStatus::OnlineFailure | ObjectStatus::OfflineFailure | ObjectStatus::Error => 'e',
            ObjectStatus::Unknown => '-',
        }
    }
}

/// A monitor's state, with the original's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MonitorStatus {
    /// Checks pass.
    Normal,
    /// A check warned.
    Warning,
    /// The failure streak passed the retry count.
    Error,
    /// A recovery step brought the target back; the next check confirms it (then Normal,
    /// rm 26) or finds it failing again (Error).
    #[serde(rename = "Online Pending")]
    OnlinePending,
    /// Suspended by an operator (`clpmonctrl -s`, `clpcl --suspend`).
    Suspend,
    /// Not checking: the daemon is down or the target is not active.
    Offline,
    /// Not known yet.
    Unknown,
}

impl MonitorStatus {
    /// Every state, in the order of its declaration.
    pub const ALL: [MonitorStatus; 7] = [
        MonitorStatus::Normal,
        MonitorStatus::Warning,
        MonitorStatus::Error,
        MonitorStatus::OnlinePending,
        MonitorStatus::Suspend,
        MonitorStatus::Offline,
        MonitorStatus::Unknown,
    ];

    /// The word `clpstat` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            MonitorStatus::Normal => "Normal",
            MonitorStatus::Warning => "Warning",
            MonitorStatus::Error => "Error",
            MonitorStatus::OnlinePending => "Online Pending",
            MonitorStatus::Suspend => "Suspend",
            MonitorStatus::Offline => "Offline",
            MonitorStatus::Unknown => "Unknown",
        }
    }
}

/// The whole status, as `clpstat` and the web manager show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterStatus {
    /// The cluster name.
    pub cluster: String,
    /// The daemon's state.
    pub daemon: DaemonState,
    /// The daemon's pid, when running.
    pub pid: Option<u32>,
    /// The one server.
    pub server: ServerStatus,
    /// Groups in configuration order.
    pub groups: Vec<GroupStatus>,
    /// Monitors in configuration order.
    pub monitors: Vec<MonitorState>,
    /// Set while the text alert log cannot be written (a full disk): what fails, since when.
    /// (Boxed: it is rare, and keeps the status small inside the protocol's `Response`.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_log_problem: Option<Box<String>>,
    /// An HA cluster's servers as this server sees them in etcd; `None` on a one-server
    /// configuration. (Boxed, as `alert_log_problem`.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ha: Option<Box<ServersView>>,
}

/// The servers of an HA cluster as this server sees them, and why they are not known
/// when they are not ([`ClusterStatus::ha`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServersView {
    /// Every server, this one included, in the configuration's order.
    pub servers: Vec<ServerStatus>,
    /// Why their states are unknown (etcd cannot be reached), while so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// How many of this server's alerts could not be copied into etcd since clppm started
    /// (the other servers do not show them; this server's alert log has them).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub alerts_not_copied: u64,
    /// What each Online server says it hears of the others, as it published it in etcd
    /// (lower-case names; `clpstat -n`'s blocks). Empty while not known.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub heard: std::collections::BTreeMap<String, Vec<String>>,
}

fn is_zero(count: &u64) -> bool {
    *count == 0
}

/// Where the engine reads [`ServersView`] from: set by the cluster link ([`crate::membership`]).
pub type ServersSource = Box<dyn Fn() -> ServersView + Send + Sync>;

/// The server and its heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerStatus {
    /// Its name.
    pub name: String,
    /// Online while the daemon runs.
    pub status: ObjectStatus,
    /// Free text.
    pub comment: String,
    /// The built-in heartbeat (`lanhb1`): the daemon's own liveness.
    pub heartbeat: HeartbeatStatus,
}

/// The heartbeat line of `clpstat`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatStatus {
    /// `lanhb1`.
    pub name: String,
    /// Normal while the daemon runs, Offline otherwise.
    pub status: String,
    /// `LAN Heartbeat`.
    pub comment: String,
}

/// One group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupStatus {
    /// Its name.
    pub name: String,
    /// Its state.
    pub status: ObjectStatus,
    /// Free text.
    pub comment: String,
    /// The server it is active on (`None` when offline).
    pub current: Option<String>,
    /// Its resources, in start order.
    pub resources: Vec<ResourceStatus>,
    /// How long its starts and stops take (clpperfc -g); absent while the daemon is down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<GroupTimes>,
}

/// The median durations of a group's latest successful starts and stops, as `clpperfc -g`
/// shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupTimes {
    /// Successful starts since the daemon started.
    pub starts: u64,
    /// The median start time of the latest ones, in ms.
    pub start_median_ms: Option<u64>,
    /// Successful stops since the daemon started.
    pub stops: u64,
    /// The median stop time of the latest ones, in ms.
    pub stop_median_ms: Option<u64>,
}

impl GroupTimes {
    /// The figures of a group's start and stop timings.
    pub fn of(start: &crate::timings::Timings, stop: &crate::timings::Timings) -> GroupTimes {
        GroupTimes {
            starts: start.count(),
            start_median_ms: start.median_ms(),
            stops: stop.count(),
            stop_median_ms: stop.median_ms(),
        }
    }
}

/// One group resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceStatus {
    /// Its name.
    pub name: String,
    /// Its type (`exec`).
    pub kind: String,
    /// Its state.
    pub status: ObjectStatus,
    /// Free text.
    pub comment: String,
    /// The process of an async exec resource, while it runs.
    pub pid: Option<u32>,
}

/// One monitor with its recovery counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorState {
    /// Its name.
    pub name: String,
    /// Its type.
    pub kind: String,
    /// Its state.
    pub status: MonitorStatus,
    /// Free text.
    pub comment: String,
    /// Reactivations done since the last reset.
    pub reactivations: u32,
    /// The reactivation threshold.
    pub reactivation_threshold: u32,
    /// Failovers done (always 0 on a single server).
    pub failovers: u32,
    /// The failover threshold as configured.
    pub failover_threshold: u32,
    /// Whether the final action has run since the last reset.
    pub final_action_done: bool,
    /// The final action.
    pub final_action: String,
    /// The recovery target's name.
    pub recovery_target: String,
    /// The last check's detail when it failed.
    pub last_detail: Option<String>,
    /// Dummy failure is on (`clpmonctrl -e`): the monitor reports a fault without checking.
    #[serde(default)]
    pub dummy_failure: bool,
    /// Checks run since the daemon started.
    #[serde(default)]
    pub checks: u64,
    /// How long the last check took, in microseconds.
    #[serde(default)]
    pub last_check_us: Option<u64>,
    /// How late the last check started against its schedule (scheduling jitter), in µs.
    #[serde(default)]
    pub last_lateness_us: Option<u64>,
    /// The checks' durations since the daemon started (clpperfc) and how long ago the
    /// monitor last showed life (clphealthchk); absent while the daemon is down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_figures: Option<CheckFigures>,
}

/// A duration in whole µs (saturating), as the status reports durations.
pub(crate) fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// A monitor's check durations since the daemon started, and the age of its last sign of
/// life: what `clpperfc -m` and `clphealthchk -t rm` read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckFigures {
    /// The mean duration of the checks, in µs.
    pub average_us: u64,
    /// The longest check, in µs.
    pub max_us: u64,
    /// Time since the monitor last finished a check or was switched on, in ms (absent while
    /// it is switched off).
    #[serde(default)]
    pub idle_ms: Option<u64>,
}

impl CheckFigures {
    /// The figures of `checks` checks lasting `total` together, the longest `max`, the
    /// last sign of life `idle` ago; `None` when there is nothing to tell.
    pub fn of(
        checks: u64,
        total: std::time::Duration,
        max: std::time::Duration,
        idle: Option<std::time::Duration>,
    ) -> Option<CheckFigures> {
        if checks == 0 && idle.is_none() {
            return None;
        }
        Some(CheckFigures {
            average_us: micros(total).checked_div(checks).unwrap_or(0),
            max_us: micros(max),
            idle_ms: idle.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        })
    }
}
