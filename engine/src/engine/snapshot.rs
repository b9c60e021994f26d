//! The running engine's facts for the one status builder ([`clp_core::status::build`]).

use clp_core::config::{GroupConfig, MonitorConfig, ResourceConfig};
use clp_core::status::{
    self, ClusterStatus, DaemonState, Facts, MonitorFacts, MonitorStatus, ObjectStatus,
    ResourceFacts, StatusView,
};

use super::{Engine, State};

impl Engine {
    /// The status snapshot.
    pub fn status(&self) -> ClusterStatus {
        self.status_view().into_owned()
    }

    /// The status snapshot, its names, kinds, comments and targets borrowed from the
    /// configuration: what the control socket encodes (without ~10,000 strings cloned and
    /// freed per answer at 1,000 monitors). The engine's lock is held while it is built,
    /// not while it is encoded.
    pub fn status_view(&self) -> StatusView<'_> {
        self.status_view_in(status::SpareMonitorList::default())
    }

    /// [`Self::status_view`], its monitor list in the allocation a former view left.
    pub fn status_view_in(&self, spare: status::SpareMonitorList) -> StatusView<'_> {
        let state = self.lock();
        let facts = Live {
            owners: self.cluster.get().map(|link| link.owners()),
            servers: self.servers.get().map(|source| source()),
            state: &state,
            config: &self.config,
            alert_log_problem: self.alert_sink.problem(),
            now: std::time::Instant::now(),
        };
        status::build_view_in(&self.config, self.server(), &facts, spare)
    }
}

/// The engine's state under its lock, as the status builder asks for it.
struct Live<'a> {
    /// An HA cluster's group owners, as etcd last said.
    owners: Option<clp_cluster::OwnersView>,
    servers: Option<status::ServersView>,
    state: &'a State,
    config: &'a clp_core::config::Config,
    alert_log_problem: Option<String>,
    /// When the status is taken: one clock read for every monitor's idle time.
    now: std::time::Instant,
}

impl Facts for Live<'_> {
    fn daemon(&self) -> DaemonState {
        self.state.daemon
    }

    fn pid(&self) -> Option<u32> {
        Some(std::process::id())
    }

    fn group(&self, group: &GroupConfig) -> ObjectStatus {
        group_status(self.state, group)
    }

    fn group_times(&self, group: &GroupConfig) -> Option<status::GroupTimes> {
        let runtime = self.state.groups.get(&group.name)?;
        Some(status::GroupTimes::of(
            &runtime.start_times,
            &runtime.stop_times,
        ))
    }

    fn resource(&self, resource: &ResourceConfig) -> ResourceFacts {
        let runtime = self.state.resources.get(&resource.name);
        ResourceFacts {
            status: runtime.map_or(ObjectStatus::Unknown, |r| r.status),
            pid: runtime.and_then(|r| r.process).map(|p| p.pid),
        }
    }

    fn monitor(&self, index: usize, _monitor: &MonitorConfig) -> MonitorFacts {
        let runtime = &self.state.monitors[index];
        let status = if self.state.daemon == DaemonState::Suspended || runtime.suspended {
            MonitorStatus::Suspend
        } else if !runtime.enabled && runtime.ladder.status == MonitorStatus::Normal {
            MonitorStatus::Offline
        } else {
            runtime.ladder.shown_status()
        };
        MonitorFacts {
            status,
            ladder: runtime.ladder.clone(),
            dummy_failure: runtime.dummy_failure,
            checks: runtime.checks,
            last_check: runtime.last_check,
            last_lateness: runtime.last_lateness,
            check_figures: status::CheckFigures::of(
                runtime.checks,
                runtime.check_total,
                runtime.check_max,
                runtime
                    .checked_at
                    .map(|at| self.now.saturating_duration_since(at)),
            ),
        }
    }

    fn servers(&self, _config: &clp_core::config::Config) -> Option<status::ServersView> {
        self.servers.clone()
    }

    fn alert_log_problem(&self) -> Option<String> {
        self.alert_log_problem.clone()
    }

    fn owner(&self, group: &GroupConfig) -> Option<String> {
        let owners = self.owners.as_ref()?;
        let server = &owners.owner(&group.name)?.server;
        // Keys hold names in lower case: shown as the configuration spells them.
        let config = &self.config.servers;
        Some(
            config
                .iter()
                .find(|s| s.name.eq_ignore_ascii_case(server))
                .map_or_else(|| server.clone(), |s| s.name.clone()),
        )
    }
}

pub(super) fn group_status(state: &State, group: &GroupConfig) -> ObjectStatus {
    let Some(runtime) = state.groups.get(&group.name) else {
        return ObjectStatus::Unknown;
    };
    if let Some(pending) = runtime.pending {
        return pending;
    }
    let failed_resource = group.resources.iter().any(|r| {
        state.resources.get(&r.name).is_some_and(|r| {
            matches!(
                r.status,
                ObjectStatus::OnlineFailure | ObjectStatus::OfflineFailure
            )
        })
    });
    if runtime.failed || failed_resource {
        ObjectStatus::Error
    } else if runtime.active {
        ObjectStatus::Online
    } else {
        ObjectStatus::Offline
    }
}
