//! The status as the daemon writes it: [`StatusView`] borrows every name, kind, comment and
//! target from the configuration instead of cloning them, so that a status answer of 1,000
//! monitors is encoded without building (and freeing) ~10,000 strings; it encodes byte for
//! byte as [`ClusterStatus`] does (its tests hold it to that), and
//! [`StatusView::into_owned`] is that [`ClusterStatus`].
//!
//! [`Summary`] encodes the part of a view that `clpstat`'s text layouts show, as
//! [`StatusSummary`] reads it.

use std::borrow::Cow;

use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

use super::{
    CheckFigures, ClusterStatus, DaemonState, GroupStatus, GroupTimes, HeartbeatStatus,
    MonitorState, MonitorStatus, ObjectStatus, ResourceStatus, ServerStatus, ServersView,
};

/// A [`ClusterStatus`] whose strings are borrowed; it encodes as that status does.
#[derive(Debug, Serialize)]
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_log_problem: Option<String>,
    /// An HA cluster's servers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ha: Option<ServersView>,
}

/// A [`ServerStatus`], borrowed.
#[derive(Debug, Serialize)]
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
#[derive(Debug, Serialize)]
pub struct HeartbeatView<'a> {
    /// `lanhb1`.
    pub name: &'a str,
    /// Normal while the daemon runs, Offline otherwise.
    pub status: &'a str,
    /// `LAN Heartbeat`.
    pub comment: &'a str,
}

/// A [`GroupStatus`], borrowed.
#[derive(Debug, Serialize)]
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub times: Option<GroupTimes>,
}

/// A [`ResourceStatus`], borrowed.
#[derive(Debug, Serialize)]
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
#[derive(Debug, Serialize)]
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_figures: Option<CheckFigures>,
}

impl StatusView<'_> {
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

    /// What `clpstat`'s text layouts show of this status, for encoding.
    pub fn summary(&self) -> Summary<'_> {
        Summary(self)
    }

    /// Appends the protocol's status answer (`{"type":"status",` and the status's fields,
    /// as [`crate::ipc::Response::Status`] encodes) to `out`.
    pub fn write_answer(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        // The tag, then the status's own object with its `{` turned into the comma after
        // the tag: no copy of the ~0.5 MB to make room.
        out.extend_from_slice(br#"{"type":"status""#);
        let brace = out.len();
        serde_json::to_writer(&mut *out, self)?;
        out[brace] = b',';
        Ok(())
    }

    /// Appends the status as `clpstat --json` prints it (serde's pretty printer, two
    /// spaces, and a newline at the end) to `out`.
    pub fn write_pretty(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        out.push(b'\n');
        Ok(())
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
/// none of the counters and figures. A tenth of a whole status at 1,000 monitors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusSummary {
    /// The cluster name.
    pub cluster: String,
    /// The daemon's state.
    pub daemon: DaemonState,
    /// The one server.
    pub server: ServerStatus,
    /// Groups in configuration order.
    pub groups: Vec<GroupSummary>,
    /// Monitors in configuration order.
    pub monitors: Vec<MonitorSummary>,
    /// Set while the text alert log cannot be written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_log_problem: Option<Box<String>>,
    /// An HA cluster's servers as this server sees them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ha: Option<Box<ServersView>>,
}

/// What the summary shows of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSummary {
    /// Its name.
    pub name: String,
    /// Its state.
    pub status: ObjectStatus,
    /// Free text.
    pub comment: String,
    /// The server it is active on (`None` when offline).
    pub current: Option<String>,
    /// Its resources, in start order.
    pub resources: Vec<ResourceSummary>,
}

/// What the summary shows of a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceSummary {
    /// Its name.
    pub name: String,
    /// Its state.
    pub status: ObjectStatus,
    /// Free text.
    pub comment: String,
}

/// What the summary shows of a monitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorSummary {
    /// Its name.
    pub name: String,
    /// Its state.
    pub status: MonitorStatus,
    /// Free text.
    pub comment: String,
    /// Dummy failure is on (`clpstat` marks the comment).
    #[serde(default)]
    pub dummy_failure: bool,
}

impl From<&ClusterStatus> for StatusSummary {
    fn from(status: &ClusterStatus) -> Self {
        StatusSummary {
            cluster: status.cluster.clone(),
            daemon: status.daemon,
            server: status.server.clone(),
            groups: status
                .groups
                .iter()
                .map(|group| GroupSummary {
                    name: group.name.clone(),
                    status: group.status,
                    comment: group.comment.clone(),
                    current: group.current.clone(),
                    resources: group
                        .resources
                        .iter()
                        .map(|resource| ResourceSummary {
                            name: resource.name.clone(),
                            status: resource.status,
                            comment: resource.comment.clone(),
                        })
                        .collect(),
                })
                .collect(),
            monitors: status
                .monitors
                .iter()
                .map(|monitor| MonitorSummary {
                    name: monitor.name.clone(),
                    status: monitor.status,
                    comment: monitor.comment.clone(),
                    dummy_failure: monitor.dummy_failure,
                })
                .collect(),
            alert_log_problem: status.alert_log_problem.clone(),
            ha: status.ha.clone(),
        }
    }
}

/// A [`StatusView`] encoded as the protocol's summary answer (`{"type":"status_summary",`
/// and [`StatusSummary`]'s fields), straight from the view.
pub struct Summary<'v>(&'v StatusView<'v>);

impl Serialize for Summary<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let view = self.0;
        let mut out = serializer.serialize_struct("StatusSummary", 8)?;
        out.serialize_field("type", "status_summary")?;
        out.serialize_field("cluster", view.cluster)?;
        out.serialize_field("daemon", &view.daemon)?;
        out.serialize_field("server", &view.server)?;
        out.serialize_field("groups", &Each(&view.groups, GroupBrief))?;
        out.serialize_field("monitors", &Each(&view.monitors, MonitorBrief))?;
        if let Some(problem) = &view.alert_log_problem {
            out.serialize_field("alert_log_problem", problem)?;
        }
        if let Some(ha) = &view.ha {
            out.serialize_field("ha", ha)?;
        }
        out.end()
    }
}

/// A slice encoded as a sequence of `W(item)`.
struct Each<'v, T, W>(&'v [T], fn(&'v T) -> W);

impl<'v, T, W: Serialize> Serialize for Each<'v, T, W> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(self.1))
    }
}

/// A [`GroupView`] as [`GroupSummary`] encodes.
struct GroupBrief<'v>(&'v GroupView<'v>);

impl Serialize for GroupBrief<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let group = self.0;
        let mut out = serializer.serialize_struct("GroupSummary", 5)?;
        out.serialize_field("name", group.name)?;
        out.serialize_field("status", &group.status)?;
        out.serialize_field("comment", group.comment)?;
        out.serialize_field("current", &group.current)?;
        out.serialize_field("resources", &Each(&group.resources, ResourceBrief))?;
        out.end()
    }
}

/// A [`ResourceView`] as [`ResourceSummary`] encodes.
struct ResourceBrief<'v>(&'v ResourceView<'v>);

impl Serialize for ResourceBrief<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let resource = self.0;
        let mut out = serializer.serialize_struct("ResourceSummary", 3)?;
        out.serialize_field("name", resource.name)?;
        out.serialize_field("status", &resource.status)?;
        out.serialize_field("comment", resource.comment)?;
        out.end()
    }
}

/// A [`MonitorView`] as [`MonitorSummary`] encodes.
struct MonitorBrief<'v>(&'v MonitorView<'v>);

impl Serialize for MonitorBrief<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let monitor = self.0;
        let mut out = serializer.serialize_struct("MonitorSummary", 4)?;
        out.serialize_field("name", monitor.name)?;
        out.serialize_field("status", &monitor.status)?;
        out.serialize_field("comment", monitor.comment)?;
        out.serialize_field("dummy_failure", &monitor.dummy_failure)?;
        out.end()
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
            view.write_answer(&mut answer).expect("encodes");
            let owned = build(&config, "node1", &facts);
            assert_eq!(
                String::from_utf8(answer).expect("utf-8"),
                "before".to_string()
                    + &serde_json::to_string(&Response::Status(owned.clone())).expect("ok")
            );
            let mut pretty = Vec::new();
            view.write_pretty(&mut pretty).expect("encodes");
            assert_eq!(
                String::from_utf8(pretty).expect("utf-8"),
                serde_json::to_string_pretty(&owned).expect("encodes") + "\n"
            );
            assert_eq!(view.into_owned(), owned);
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
            let line = serde_json::to_vec(&view.summary()).expect("encodes");
            assert_eq!(
                String::from_utf8(line.clone()).expect("utf-8"),
                serde_json::to_string(&Response::StatusSummary(summary.clone())).expect("ok")
            );
            assert_eq!(
                Response::from_line(&line).expect("reads"),
                Response::StatusSummary(summary.clone())
            );
            let mut whole = Vec::new();
            view.write_answer(&mut whole).expect("encodes");
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
