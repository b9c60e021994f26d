//! The status snapshot of the running engine, and of a configuration whose daemon is down.

use crate::config::Config;
use crate::status::{
    ClusterStatus, DaemonState, GroupStatus, HeartbeatStatus, MonitorState, MonitorStatus,
    ObjectStatus, ResourceStatus, ServerStatus,
};
use crate::store::Store;

use super::policy::Ladder;
use super::{Engine, State};

impl Engine {
    /// The status snapshot.
    pub fn status(&self) -> ClusterStatus {
        let state = self.lock();
        let running = !matches!(state.daemon, DaemonState::Stopped);
        let groups = self
            .config
            .groups
            .iter()
            .map(|group| {
                let status = group_status(&state, group);
                GroupStatus {
                    name: group.name.clone(),
                    status,
                    comment: group.comment.clone(),
                    current: (status != ObjectStatus::Offline).then(|| self.server().to_string()),
                    resources: group
                        .resources
                        .iter()
                        .map(|resource| {
                            let runtime = state.resources.get(&resource.name);
                            ResourceStatus {
                                name: resource.name.clone(),
                                kind: resource.kind.clone(),
                                status: runtime.map_or(ObjectStatus::Unknown, |r| r.status),
                                comment: resource.comment.clone(),
                                pid: runtime.and_then(|r| r.process).map(|p| p.pid),
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        let monitors = self
            .config
            .monitors
            .iter()
            .zip(&state.monitors)
            .map(|(config, runtime)| {
                let status = if state.daemon == DaemonState::Suspended || runtime.suspended {
                    MonitorStatus::Suspend
                } else if !runtime.enabled && runtime.ladder.status == MonitorStatus::Normal {
                    MonitorStatus::Offline
                } else {
                    runtime.ladder.shown_status()
                };
                let mut state = monitor_state(config, &runtime.ladder, status);
                state.dummy_failure = runtime.dummy_failure;
                state.checks = runtime.checks;
                state.last_check_us = runtime
                    .last_check
                    .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
                state.last_lateness_us = runtime
                    .last_lateness
                    .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
                state
            })
            .collect();
        ClusterStatus {
            alert_log_problem: self.alert_sink.problem().map(Box::new),
            cluster: self.config.cluster.name.clone(),
            daemon: state.daemon,
            pid: Some(std::process::id()),
            server: ServerStatus {
                name: self.server().to_string(),
                status: if running {
                    ObjectStatus::Online
                } else {
                    ObjectStatus::Offline
                },
                comment: self.config.server_comment().to_string(),
                heartbeat: HeartbeatStatus {
                    name: "lanhb1".into(),
                    status: if running { "Normal" } else { "Offline" }.into(),
                    comment: "LAN Heartbeat".into(),
                },
            },
            groups,
            monitors,
        }
    }
}

pub(super) fn group_status(state: &State, group: &crate::config::GroupConfig) -> ObjectStatus {
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

/// A monitor's state for status and counters.
pub fn monitor_state(
    config: &crate::config::MonitorConfig,
    ladder: &Ladder,
    status: MonitorStatus,
) -> MonitorState {
    MonitorState {
        name: config.name.clone(),
        kind: config.kind.clone(),
        status,
        comment: config.comment.clone(),
        reactivations: ladder.reactivations,
        reactivation_threshold: config.recovery.reactivation_threshold,
        failovers: ladder.failovers,
        failover_threshold: config.recovery.failover_threshold,
        final_action_done: ladder.final_action_done,
        final_action: config.recovery.final_action.as_str().to_string(),
        recovery_target: config.recovery.target.display_name().to_string(),
        last_detail: ladder.last_detail.clone(),
        dummy_failure: false,
        checks: 0,
        last_check_us: None,
        last_lateness_us: None,
    }
}

/// The status of a configuration whose daemon is not running: everything Offline.
pub fn offline_status(config: &Config, store: Option<&Store>) -> ClusterStatus {
    ClusterStatus {
        alert_log_problem: None,
        cluster: config.cluster.name.clone(),
        daemon: DaemonState::Stopped,
        pid: None,
        server: ServerStatus {
            name: config.server_name(),
            status: ObjectStatus::Offline,
            comment: config.server_comment().to_string(),
            heartbeat: HeartbeatStatus {
                name: "lanhb1".into(),
                status: "Offline".into(),
                comment: "LAN Heartbeat".into(),
            },
        },
        groups: config
            .groups
            .iter()
            .map(|group| GroupStatus {
                name: group.name.clone(),
                status: ObjectStatus::Offline,
                comment: group.comment.clone(),
                current: None,
                resources: group
                    .resources
                    .iter()
                    .map(|r| ResourceStatus {
                        name: r.name.clone(),
                        kind: r.kind.clone(),
                        status: ObjectStatus::Offline,
                        comment: r.comment.clone(),
                        pid: None,
                    })
                    .collect(),
            })
            .collect(),
        monitors: config
            .monitors
            .iter()
            .map(|m| {
                let ladder = store
                    .and_then(|s| s.monitor::<Ladder>(&m.name).ok().flatten())
                    .unwrap_or_default();
                monitor_state(m, &ladder, MonitorStatus::Offline)
            })
            .collect(),
    }
}
