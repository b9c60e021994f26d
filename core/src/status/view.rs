//! The status as the daemon writes it: [`StatusView`] borrows every name, kind, comment and
//! target from the configuration instead of cloning them, so that a status answer of 1,000
//! monitors is encoded without building (and freeing) ~10,000 strings; it encodes byte for
//! byte as [`ClusterStatus`] does (`super::encode`, whose tests hold it to that), and
//! [`StatusView::into_owned`] is that [`ClusterStatus`].

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::{
    CheckFigures, ClusterStatus, DaemonState, GroupStatus, GroupTimes, HeartbeatStatus,
    MonitorState, MonitorStatus, ObjectStatus, ResourceStatus, ServerStatus, ServersView,
};

/// A [`ClusterStatus`] whose strings are borrowed; it encodes as that status does.
#[derive(Debug)]
pub struct StatusView<'a> {
    /// The cluster name.
    pub cluster: &'a str,
    /// The daemon's state.
    pub daemon: DaemonState,
    /// The daemon's pid, when running.
    pub pid: Option<u32>,
    /// The one server.
    pub server: ServerView<'a>,
    /// Groups in configuration order.
    pub groups: Vec<GroupView<'a>>,
    /// Monitors in configuration order.
    pub monitors: Vec<MonitorView<'a>>,
    /// What fails while the text alert log cannot be written.
    pub alert_log_problem: Option<String>,
    /// An HA cluster's servers.
    pub ha: Option<ServersView>,
}

/// A [`ServerStatus`], borrowed.
#[derive(Debug)]
pub struct ServerView<'a> {
    /// Its name.
    pub name: &'a str,
    /// Online while the daemon runs.
    pub status: ObjectStatus,
    /// Free text.
    pub comment: &'a str,
    /// The built-in heartbeat.
    pub heartbeat: HeartbeatView<'a>,
}

/// A [`HeartbeatStatus`], borrowed.
#[derive(Debug)]
pub struct HeartbeatView<'a> {
    /// `lanhb1`.
    pub name: &'a str,
    /// Normal while the daemon runs, Offline otherwise.
    pub status: &'a str,
    /// `LAN Heartbeat`.
    pub comment: &'a str,
}

/// A [`GroupStatus`], borrowed.
#[derive(Debug)]
pub struct GroupView<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its state.
    pub status: ObjectStatus,
    /// Free text.
    pub comment: &'a str,
    /// The server it is active on.
    pub current: Option<Cow<'a, str>>,
    /// Its resources, in start order.
    pub resources: Vec<ResourceView<'a>>,
    /// How long its starts and stops take.
    pub times: Option<GroupTimes>,
}

/// A [`ResourceStatus`], borrowed.
#[derive(Debug)]
pub struct ResourceView<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its type.
    pub kind: &'a str,
    /// Its state.
    pub status: ObjectStatus,
    /// Free text.
    pub comment: &'a str,
    /// The process of an async exec resource, while it runs.
    pub pid: Option<u32>,
}

/// A [`MonitorState`], borrowed.
#[derive(Debug)]
pub struct MonitorView<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its type.
    pub kind: &'a str,
    /// Its state.
    pub status: MonitorStatus,
    /// Free text.
    pub comment: &'a str,
    /// Reactivations done since the last reset.
    pub reactivations: u32,
    /// The reactivation threshold.
    pub reactivation_threshold: u32,
    /// Failovers done.
    pub failovers: u32,
    /// The failover threshold as configured.
    pub failover_threshold: u32,
    /// Whether the final action has run since the last reset.
    pub final_action_done: bool,
    /// The final action.
    pub final_action: &'a str,
    /// The recovery target's name.
    pub recovery_target: &'a str,
    /// The last check's detail when it failed.
    pub last_detail: Option<String>,
    /// Dummy failure is on.
    pub dummy_failure: bool,
    /// Checks run since the daemon started.
    pub checks: u64,
    /// How long the last check took, in µs.
    pub last_check_us: Option<u64>,
    /// How late the last check started against its schedule, in µs.
    pub last_lateness_us: Option<u64>,
    /// The checks' durations and the last sign of life.
    pub check_figures: Option<CheckFigures>,
}

/// The allocation of a [`StatusView`]'s monitor list, emptied, for the next view
/// ([`super::build_view_in`]): at 1,000 monitors the list is ~200 KB, a block that `clppm`'s
/// allocator maps and unmaps on each answer (~50 page faults) unless it is kept.
#[derive(Debug, Default)]
pub struct SpareMonitorList(Vec<MonitorView<'static>>);

impl SpareMonitorList {
    /// Bytes of memory the list holds.
    pub fn bytes(&self) -> usize {
        self.0.capacity() * std::mem::size_of::<MonitorView<'static>>()
    }

    /// An empty list in this allocation, with room for `count` monitors.
    pub(super) fn into_list<'a>(self, count: usize) -> Vec<MonitorView<'a>> {
        let mut list = empty_in(self.0);
        list.reserve_exact(count);
        list
    }
}

/// An empty list in `list`'s allocation, for views of another lifetime. Collecting a Vec's
/// own iterator into a Vec of items of the same size and alignment reuses its allocation
/// (std's in-place collect; a test below holds it to that).
fn empty_in<'b>(mut list: Vec<MonitorView<'_>>) -> Vec<MonitorView<'b>> {
    list.clear();
    #[expect(
        clippy::unnecessary_filter_map,
        reason = "the map changes the item's lifetime, which a filter cannot"
    )]
    list.into_iter().filter_map(|_| None).collect()
}

impl StatusView<'_> {
    /// Gives up the view, keeping its monitor list's allocation for the next one.
    pub fn into_spare(self) -> SpareMonitorList {
        SpareMonitorList(empty_in(self.monitors))
    }

    /// The same status with its own strings.
    pub fn into_owned(self) -> ClusterStatus {
        ClusterStatus {
            cluster: self.cluster.to_string(),
            daemon: self.daemon,
            pid: self.pid,
            server: self.server.into_owned(),
            groups: self.groups.into_iter().map(GroupView::into_owned).collect(),
            monitors: self
                .monitors
                .into_iter()
                .map(MonitorView::into_owned)
                .collect(),
            alert_log_problem: self.alert_log_problem.map(Box::new),
            ha: self.ha.map(Box::new),
        }
    }
}

impl ServerView<'_> {
    fn into_owned(self) -> ServerStatus {
        ServerStatus {
            name: self.name.to_string(),
            status: self.status,
            comment: self.comment.to_string(),
            heartbeat: HeartbeatStatus {
                name: self.heartbeat.name.to_string(),
                status: self.heartbeat.status.to_string(),
                comment: self.heartbeat.comment.to_string(),
            },
        }
    }
}

impl GroupView<'_> {
    fn into_owned(self) -> GroupStatus {
        GroupStatus {
            name: self.name.to_string(),
            status: self.status,
            comment: self.comment.to_string(),
            current: self.current.map(Cow::into_owned),
            resources: self
                .resources
                .into_iter()
                .map(|resource| ResourceStatus {
                    name: resource.name.to_string(),
                    kind: resource.kind.to_string(),
                    status: resource.status,
                    comment: resource.comment.to_string(),
                    pid: resource.pid,
                })
                .collect(),
            times: self.times,
        }
    }
}

impl MonitorView<'_> {
    /// The same monitor state with its own strings.
    pub fn into_owned(self) -> MonitorState {
        MonitorState {
            name: self.name.to_string(),
            kind: self.kind.to_string(),
            status: self.status,
            comment: self.comment.to_string(),
            reactivations: self.reactivations,
            reactivation_threshold: self.reactivation_threshold,
            failovers: self.failovers,
            failover_threshold: self.failover_threshold,
            final_action_done: self.final_action_done,
            final_action: self.final_action.to_string(),
            recovery_target: self.recovery_target.to_string(),
            last_detail: self.last_detail,
            dummy_failure: self.dummy_failure,
            checks: self.checks,
            last_check_us: self.last_check_us,
            last_lateness_us: self.last_lateness_us,
            check_figures: self.check_figures,
        }
    }
}

/// What `clpstat` (and `-g`, `-m`, `-n`) show of the status: the servers, the groups with
/// their resources, the monitors' names, states and comments, and the problems reported;
/// none of the counters and figures. A quarter of a whole status at 1,000 monitors.
///
/// Its names and comments borrow from the answer it is read from (`'a`) unless they hold
/// an escape: a command reads ~6,000 of them at 1,000 monitors without a `String` each.
/// [`StatusSummary::into_owned`] is the same summary on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusSummary<'a> {
    /// The cluster name.
    #[serde(borrow)]
    pub cluster: Cow<'a, str>,
    /// The daemon's state.
    pub daemon: DaemonState,
    /// The one server.
    pub server: ServerStatus,
    /// Groups in configuration order.
    #[serde(borrow)]
    pub groups: Vec<GroupSummary<'a>>,
    /// Monitors in configuration order.
    #[serde(borrow)]
    pub monitors: Vec<MonitorSummary<'a>>,
    /// Set while the text alert log cannot be written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_log_problem: Option<Box<String>>,
    /// An HA cluster's servers as this server sees them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ha: Option<Box<ServersView>>,
}

/// What the summary shows of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSummary<'a> {
    /// Its name.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// Its state.
    pub status: ObjectStatus,
    /// Free text.
    #[serde(borrow)]
    pub comment: Cow<'a, str>,
    /// The server it is active on (`None` when offline).
    #[serde(borrow, deserialize_with = "borrowed_or_null")]
    pub current: Option<Cow<'a, str>>,
    /// Its resources, in start order.
    #[serde(borrow)]
    pub resources: Vec<ResourceSummary<'a>>,
}

/// What the summary shows of a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceSummary<'a> {
    /// Its name.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// Its state.
    pub status: ObjectStatus,
    /// Free text.
    #[serde(borrow)]
    pub comment: Cow<'a, str>,
}

/// What the summary shows of a monitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorSummary<'a> {
    /// Its name.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// Its state.
    pub status: MonitorStatus,
    /// Free text.
    #[serde(borrow)]
    pub comment: Cow<'a, str>,
    /// Dummy failure is on (`clpstat` marks the comment).
    #[serde(default)]
    pub dummy_failure: bool,
}

/// A string or `null`, the string borrowed from the input when it holds no escape (serde
/// borrows only a plain `Cow<str>` field by itself, not one inside an `Option`).
fn borrowed_or_null<'de: 'a, 'a, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Cow<'a, str>>, D::Error> {
    #[derive(Deserialize)]
    struct Text<'a>(#[serde(borrow)] Cow<'a, str>);
    Ok(Option::<Text<'a>>::deserialize(deserializer)?.map(|text| text.0))
}

fn owned(text: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(text.into_owned())
}

impl StatusSummary<'_> {
    /// The same summary, its strings its own.
    pub fn into_owned(self) -> StatusSummary<'static> {
        StatusSummary {
            cluster: owned(self.cluster),
            daemon: self.daemon,
            server: self.server,
            groups: self
                .groups
                .into_iter()
                .map(|group| GroupSummary {
                    name: owned(group.name),
                    status: group.status,
                    comment: owned(group.comment),
                    current: group.current.map(owned),
                    resources: group
                        .resources
                        .into_iter()
                        .map(|resource| ResourceSummary {
                            name: owned(resource.name),
                            status: resource.status,
                            comment: owned(resource.comment),
                        })
                        .collect(),
                })
                .collect(),
            monitors: self
                .monitors
                .into_iter()
                .map(|monitor| MonitorSummary {
                    name: owned(monitor.name),
                    status: monitor.status,
                    comment: owned(monitor.comment),
                    dummy_failure: monitor.dummy_failure,
                })
                .collect(),
            alert_log_problem: self.alert_log_problem,
            ha: self.ha,
        }
    }
}

/// The summary of a whole status, its strings borrowed from it.
impl<'a> From<&'a ClusterStatus> for StatusSummary<'a> {
    fn from(status: &'a ClusterStatus) -> Self {
        StatusSummary {
            cluster: Cow::Borrowed(&status.cluster),
            daemon: status.daemon,
            server: status.server.clone(),
            groups: status
                .groups
                .iter()
                .map(|group| GroupSummary {
                    name: Cow::Borrowed(&group.name),
                    status: group.status,
                    comment: Cow::Borrowed(&group.comment),
                    current: group.current.as_deref().map(Cow::Borrowed),
                    resources: group
                        .resources
                        .iter()
                        .map(|resource| ResourceSummary {
                            name: Cow::Borrowed(&resource.name),
                            status: resource.status,
                            comment: Cow::Borrowed(&resource.comment),
                        })
                        .collect(),
                })
                .collect(),
            monitors: status
                .monitors
                .iter()
                .map(|monitor| MonitorSummary {
                    name: Cow::Borrowed(&monitor.name),
                    status: monitor.status,
                    comment: Cow::Borrowed(&monitor.comment),
                    dummy_failure: monitor.dummy_failure,
                })
                .collect(),
            alert_log_problem: status.alert_log_problem.clone(),
            ha: status.ha.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::{Config, GroupConfig, MonitorConfig, ResourceConfig};
    use crate::ipc::Response;
    use crate::status::{Facts, Ladder, MonitorFacts, ResourceFacts, build, build_view};

    fn config() -> Config {
        let text = r#"
[cluster]
name = "c1"

[[group]]
name = "g1"
comment = "a \"quoted\" é \\ {[,:]} \u0001"

[[group.resource]]
name = "r1"
start = "/bin/true"
comment = "tab\there"

[[group.resource]]
name = "r2"
start = "/bin/true"

[[group]]
name = "g2"

[[group]]
name = "g3"

[[monitor]]
name = "u1"
type = "userw"
comment = "line\nbreak"

[[monitor]]
name = "u2"
type = "userw"

[[monitor]]
name = "u3"
type = "userw"
"#;
        crate::config::parse_str(text, std::path::Path::new("/nonexistent"))
            .expect("a valid test configuration")
    }

    /// A running daemon with something of everything: owners, times, processes, a failed
    /// check's detail, dummy failure, figures, an alert log problem, an HA view.
    struct Varied {
        ha: bool,
    }

    impl Facts for Varied {
        fn daemon(&self) -> DaemonState {
            DaemonState::Running
        }
        fn pid(&self) -> Option<u32> {
            Some(4242)
        }
        fn group(&self, group: &GroupConfig) -> ObjectStatus {
            match group.name.as_str() {
                "g1" => ObjectStatus::Online,
                "g2" => ObjectStatus::Offline,
                _ => ObjectStatus::OnlinePending,
            }
        }
        fn group_times(&self, group: &GroupConfig) -> Option<GroupTimes> {
            (group.name == "g1").then_some(GroupTimes {
                starts: 3,
                start_median_ms: Some(12),
                stops: 0,
                stop_median_ms: None,
            })
        }
        fn resource(&self, resource: &ResourceConfig) -> ResourceFacts {
            ResourceFacts {
                status: ObjectStatus::Online,
                pid: (resource.name == "r1").then_some(77),
            }
        }
        fn monitor(&self, index: usize, _monitor: &MonitorConfig) -> MonitorFacts {
            let ladder = Ladder {
                status: MonitorStatus::Error,
                reactivations: 2,
                final_action_done: index == 0,
                last_detail: (index == 0).then(|| "gone \"away\"\n\u{7}".to_string()),
                ..Ladder::default()
            };
            MonitorFacts {
                status: [
                    MonitorStatus::Error,
                    MonitorStatus::Suspend,
                    MonitorStatus::Normal,
                ][index],
                ladder,
                dummy_failure: index == 1,
                checks: 10 * index as u64,
                last_check: (index > 0).then_some(Duration::from_micros(1234)),
                last_lateness: (index > 1).then_some(Duration::from_micros(56)),
                check_figures: CheckFigures::of(
                    10 * index as u64,
                    Duration::from_millis(20),
                    Duration::from_millis(5),
                    (index > 1).then_some(Duration::from_millis(300)),
                ),
            }
        }
        fn alert_log_problem(&self) -> Option<String> {
            self.ha.then(|| "cannot write \"alert.log\"".to_string())
        }
        fn servers(&self, _config: &Config) -> Option<ServersView> {
            self.ha.then(|| ServersView {
                servers: vec![ServerStatus {
                    name: "node2".into(),
                    status: ObjectStatus::Offline,
                    comment: "second".into(),
                    heartbeat: HeartbeatStatus {
                        name: "lanhb1".into(),
                        status: "Offline".into(),
                        comment: "LAN Heartbeat".into(),
                    },
                }],
                problem: Some("etcd \"down\"".into()),
                alerts_not_copied: 3,
                heard: [("node2".to_string(), vec!["node1".to_string()])].into(),
            })
        }
        fn owner(&self, group: &GroupConfig) -> Option<String> {
            (group.name == "g2").then(|| "node2".to_string())
        }
    }

    /// The daemon's answer line, encoded from the view, is byte for byte the encoding of
    /// the owned status it stands for, HA parts and escapes included; its pretty text is
    /// what printing that status pretty gives.
    #[test]
    fn the_view_encodes_as_the_status_answer() {
        let config = config();
        for facts in [Varied { ha: false }, Varied { ha: true }] {
            let view = build_view(&config, "node1", &facts);
            let mut answer = b"before".to_vec();
            view.write_answer(&mut answer);
            let owned = build(&config, "node1", &facts);
            assert_eq!(
                String::from_utf8(answer).expect("utf-8"),
                "before".to_string()
                    + &serde_json::to_string(&Response::Status(owned.clone())).expect("ok")
            );
            let mut pretty = Vec::new();
            view.write_pretty(&mut pretty);
            assert_eq!(
                String::from_utf8(pretty).expect("utf-8"),
                serde_json::to_string_pretty(&owned).expect("encodes") + "\n"
            );
            assert_eq!(view.into_owned(), owned);
        }
    }

    /// A view built in a former view's monitor list uses its allocation (no new block per
    /// answer) and encodes as a fresh view does.
    #[test]
    fn a_view_built_in_a_spare_list_reuses_its_memory_and_encodes_the_same() {
        let config = config();
        let facts = Varied { ha: false };
        let encoded = |view: &StatusView<'_>| {
            let mut answer = Vec::new();
            view.write_answer(&mut answer);
            answer
        };
        let fresh = build_view(&config, "node1", &facts);
        let expected = encoded(&fresh);
        let mut spare = fresh.into_spare();
        assert!(spare.bytes() >= 3 * std::mem::size_of::<MonitorView<'static>>());
        for _ in 0..3 {
            let memory = spare.0.as_ptr() as usize;
            let server = String::from("node1");
            let view = crate::status::build_view_in(&config, &server, &facts, spare);
            assert_eq!(
                view.monitors.as_ptr() as usize,
                memory,
                "the same allocation"
            );
            assert_eq!(encoded(&view), expected);
            spare = view.into_spare();
            assert_eq!(spare.0.as_ptr() as usize, memory);
            assert!(spare.0.is_empty());
        }
    }

    /// The summary encoded from the view is the summary answer of the same status; a whole
    /// status (an older daemon's answer) reads as the same summary.
    #[test]
    fn the_summary_encodes_as_the_summary_answer_and_a_status_reads_as_it() {
        let config = config();
        for facts in [Varied { ha: false }, Varied { ha: true }] {
            let view = build_view(&config, "node1", &facts);
            let owned = build(&config, "node1", &facts);
            let summary = StatusSummary::from(&owned);
            let mut line = Vec::new();
            view.write_summary(&mut line);
            assert_eq!(
                String::from_utf8(line.clone()).expect("utf-8"),
                serde_json::to_string(&Response::StatusSummary(summary.clone().into_owned()))
                    .expect("ok")
            );
            assert_eq!(
                Response::from_line(&line).expect("reads"),
                Response::StatusSummary(summary.clone().into_owned())
            );
            // The generic path too (another server's answer, through etcd).
            let generic: Response = serde_json::from_slice(&line).expect("reads");
            assert_eq!(
                generic,
                Response::StatusSummary(summary.clone().into_owned())
            );
            let mut whole = Vec::new();
            view.write_answer(&mut whole);
            for answer in [line, whole] {
                let read = crate::ipc::summary_from_line(&answer)
                    .expect("a status answer")
                    .expect("reads");
                assert_eq!(read, summary);
            }
            assert!(summary.monitors[1].dummy_failure);
            assert_eq!(summary.groups[1].current.as_deref(), Some("node2"));
        }
    }
}
