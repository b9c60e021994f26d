//! The one status builder: the layout of every object's status is decided here, whether the
//! facts come from the running engine or, while the daemon is down, from the configuration
//! and the store (`clpstat` then shows everything Offline with the saved counters).

use std::borrow::Cow;
use std::time::Duration;

use crate::config::{Config, GroupConfig, MonitorConfig, ResourceConfig};
use crate::store::Store;

use super::view::{
    GroupView, HeartbeatView, MonitorView, ResourceView, ServerView, SpareMonitorList, StatusView,
};
use super::{
    CheckFigures, ClusterStatus, DaemonState, GroupTimes, Ladder, MonitorState, MonitorStatus,
    ObjectStatus, ServersView, micros,
};

/// What a status is built from: the running engine's state, or [`Offline`] facts.
pub trait Facts {
    /// The daemon's state.
    fn daemon(&self) -> DaemonState;
    /// The daemon's pid, when it runs.
    fn pid(&self) -> Option<u32>;
    /// A group's state.
    fn group(&self, group: &GroupConfig) -> ObjectStatus;
    /// How long the group's starts and stops take (none while the daemon is down).
    fn group_times(&self, _group: &GroupConfig) -> Option<GroupTimes> {
        None
    }
    /// A resource's state and process.
    fn resource(&self, resource: &ResourceConfig) -> ResourceFacts;
    /// The monitor at `index` in the configuration.
    fn monitor(&self, index: usize, monitor: &MonitorConfig) -> MonitorFacts;
    /// What fails while the text alert log cannot be written, since when.
    fn alert_log_problem(&self) -> Option<String>;
    /// An HA cluster's servers (none on a one-server configuration).
    fn servers(&self, config: &Config) -> Option<ServersView>;
    /// In an HA cluster, the server that owns `group` in etcd: its `current` server, on
    /// every server (none on one server: `current` is this server while it runs the group).
    fn owner(&self, _group: &GroupConfig) -> Option<String> {
        None
    }
}

/// What the status shows of a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceFacts {
    /// Its state.
    pub status: ObjectStatus,
    /// The process of an async exec resource, while it runs.
    pub pid: Option<u32>,
}

/// What the status shows of a monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorFacts {
    /// Its state as shown (Suspend, Offline, or the ladder's).
    pub status: MonitorStatus,
    /// Its recovery counters.
    pub ladder: Ladder,
    /// Dummy failure is on.
    pub dummy_failure: bool,
    /// Checks run since the daemon started.
    pub checks: u64,
    /// How long the last check took.
    pub last_check: Option<Duration>,
    /// How late the last check started against its schedule.
    pub last_lateness: Option<Duration>,
    /// The checks' durations and the last sign of life (clpperfc, clphealthchk).
    pub check_figures: Option<CheckFigures>,
}

impl MonitorFacts {
    /// A monitor that is not checking: its saved counters, nothing measured.
    pub fn idle(status: MonitorStatus, ladder: Ladder) -> Self {
        MonitorFacts {
            status,
            ladder,
            dummy_failure: false,
            checks: 0,
            last_check: None,
            last_lateness: None,
            check_figures: None,
        }
    }
}

/// The status of `config` on the server `server` from `facts`.
pub fn build(config: &Config, server: &str, facts: &impl Facts) -> ClusterStatus {
    build_view(config, server, facts).into_owned()
}

/// [`build`], its strings borrowed from `config` and `server`: what the daemon encodes.
pub fn build_view<'a>(config: &'a Config, server: &'a str, facts: &impl Facts) -> StatusView<'a> {
    build_view_in(config, server, facts, SpareMonitorList::default())
}

/// [`build_view`], its monitor list in the allocation a former view left ([`StatusView::into_spare`]).
pub fn build_view_in<'a>(
    config: &'a Config,
    server: &'a str,
    facts: &impl Facts,
    spare: SpareMonitorList,
) -> StatusView<'a> {
    let mut monitors = spare.into_list(config.monitors.len());
    monitors.extend(
        config
            .monitors
            .iter()
            .enumerate()
            .map(|(index, monitor)| monitor_view(monitor, facts.monitor(index, monitor))),
    );
    let daemon = facts.daemon();
    let running = daemon != DaemonState::Stopped;
    StatusView {
        ha: facts.servers(config),
        alert_log_problem: facts.alert_log_problem(),
        cluster: &config.cluster.name,
        daemon,
        pid: facts.pid(),
        server: ServerView {
            name: server,
            status: if running {
                ObjectStatus::Online
            } else {
                ObjectStatus::Offline
            },
            comment: config.server_comment(),
            heartbeat: HeartbeatView {
                name: "lanhb1",
                status: if running { "Normal" } else { "Offline" },
                comment: "LAN Heartbeat",
            },
        },
        groups: config
            .groups
            .iter()
            .map(|group| group_view(group, server, facts))
            .collect(),
        monitors,
    }
}

fn group_view<'a>(group: &'a GroupConfig, server: &'a str, facts: &impl Facts) -> GroupView<'a> {
    let status = facts.group(group);
    GroupView {
        name: &group.name,
        status,
        comment: &group.comment,
        current: facts
            .owner(group)
            .map(Cow::Owned)
            .or_else(|| (status != ObjectStatus::Offline).then_some(Cow::Borrowed(server))),
        resources: group
            .resources
            .iter()
            .map(|resource| {
                let runtime = facts.resource(resource);
                ResourceView {
                    name: &resource.name,
                    kind: &resource.kind,
                    status: runtime.status,
                    comment: &resource.comment,
                    pid: runtime.pid,
                }
            })
            .collect(),
        times: facts.group_times(group),
    }
}

/// A monitor's state, as the status and `clpmonctrl -v` show it.
pub fn monitor_state(config: &MonitorConfig, facts: &MonitorFacts) -> MonitorState {
    monitor_view(config, facts.clone()).into_owned()
}

/// The view of one monitor, taking the facts' detail text (one copy of it per status, not
/// two).
fn monitor_view(config: &MonitorConfig, facts: MonitorFacts) -> MonitorView<'_> {
    let ladder = facts.ladder;
    MonitorView {
        name: &config.name,
        kind: &config.kind,
        status: facts.status,
        comment: &config.comment,
        reactivations: ladder.reactivations,
        reactivation_threshold: config.recovery.reactivation_threshold,
        failovers: ladder.failovers,
        failover_threshold: config.recovery.failover_threshold,
        final_action_done: ladder.final_action_done,
        final_action: config.recovery.final_action.as_str(),
        recovery_target: config.recovery.target.display_name(),
        last_detail: ladder.last_detail,
        dummy_failure: facts.dummy_failure,
        checks: facts.checks,
        last_check_us: facts.last_check.map(micros),
        last_lateness_us: facts.last_lateness.map(micros),
        check_figures: facts.check_figures,
    }
}

/// The facts of a configuration whose daemon is not running: everything Offline, the
/// monitors' counters as the store kept them (none without a store).
pub struct Offline<'a> {
    /// The store, when it could be opened.
    pub store: Option<&'a Store>,
}

impl Facts for Offline<'_> {
    fn daemon(&self) -> DaemonState {
        DaemonState::Stopped
    }

    fn pid(&self) -> Option<u32> {
        None
    }

    fn group(&self, _group: &GroupConfig) -> ObjectStatus {
        ObjectStatus::Offline
    }

    fn resource(&self, _resource: &ResourceConfig) -> ResourceFacts {
        ResourceFacts {
            status: ObjectStatus::Offline,
            pid: None,
        }
    }

    fn monitor(&self, _index: usize, monitor: &MonitorConfig) -> MonitorFacts {
        let ladder = self
            .store
            .and_then(|store| store.monitor::<Ladder>(&monitor.name).ok().flatten())
            .unwrap_or_default();
        MonitorFacts::idle(MonitorStatus::Offline, ladder)
    }

    fn alert_log_problem(&self) -> Option<String> {
        None
    }

    fn servers(&self, config: &Config) -> Option<ServersView> {
        crate::membership::lines::offline_view(config)
    }
}

/// The status of a configuration whose daemon is not running: everything Offline.
pub fn offline_status(config: &Config, store: Option<&Store>) -> ClusterStatus {
    build(config, &config.server_name(), &Offline { store })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        let text = "[cluster]\nname = \"cluster1\"\n\n[[group]]\nname = \"failover1\"\n\n[[group.resource]]\nname = \"exec1\"\nstart = \"/bin/true\"\n\n[[monitor]]\nname = \"userw\"\ntype = \"userw\"\n";
        crate::config::parse_str(text, std::path::Path::new("/nonexistent"))
            .expect("a valid test configuration")
    }

    #[test]
    fn a_stopped_daemon_shows_everything_offline_on_no_server() {
        let config = config();
        let status = offline_status(&config, None);
        assert_eq!(status.daemon, DaemonState::Stopped);
        assert_eq!(status.pid, None);
        assert_eq!(status.server.status, ObjectStatus::Offline);
        assert_eq!(status.server.heartbeat.status, "Offline");
        assert_eq!(status.groups[0].status, ObjectStatus::Offline);
        assert_eq!(status.groups[0].current, None);
        assert_eq!(status.groups[0].resources[0].status, ObjectStatus::Offline);
        assert_eq!(status.monitors[0].status, MonitorStatus::Offline);
        assert_eq!(status.monitors[0].checks, 0);
    }

    /// A daemon on node2 of a cluster whose group is owned by node1.
    struct OwnedElsewhere;

    impl Facts for OwnedElsewhere {
        fn daemon(&self) -> DaemonState {
            DaemonState::Running
        }
        fn pid(&self) -> Option<u32> {
            Some(1)
        }
        fn group(&self, _group: &GroupConfig) -> ObjectStatus {
            ObjectStatus::Offline
        }
        fn resource(&self, resource: &ResourceConfig) -> ResourceFacts {
            Offline { store: None }.resource(resource)
        }
        fn monitor(&self, index: usize, monitor: &MonitorConfig) -> MonitorFacts {
            Offline { store: None }.monitor(index, monitor)
        }
        fn alert_log_problem(&self) -> Option<String> {
            None
        }
        fn servers(&self, _config: &Config) -> Option<ServersView> {
            None
        }
        fn owner(&self, _group: &GroupConfig) -> Option<String> {
            Some("node1".into())
        }
    }

    #[test]
    fn a_group_owned_by_another_server_shows_it_as_current() {
        let status = build(&config(), "node2", &OwnedElsewhere);
        assert_eq!(status.groups[0].status, ObjectStatus::Offline);
        assert_eq!(status.groups[0].current.as_deref(), Some("node1"));
    }

    #[test]
    fn the_saved_counters_show_while_the_daemon_is_down() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let store = Store::open(dir.path()).expect("a store");
        let ladder = Ladder {
            reactivations: 2,
            last_detail: Some("gone".into()),
            ..Ladder::default()
        };
        store
            .put_monitor("userw", &ladder, crate::store::Durable::Now)
            .expect("saved");
        let status = offline_status(&config(), Some(&store));
        assert_eq!(status.monitors[0].reactivations, 2);
        assert_eq!(status.monitors[0].last_detail.as_deref(), Some("gone"));
    }
}
