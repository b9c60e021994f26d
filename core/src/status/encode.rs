//! The daemon's status answers, written from a [`StatusView`] by hand: the whole status
//! (compact, the protocol's `{"type":"status",...}`), the summary
//! (`{"type":"status_summary",...}`) and the pretty text `clpstat --json` prints. Each is
//! byte for byte what serde_json writes for [`crate::ipc::Response::Status`],
//! [`crate::ipc::Response::StatusSummary`] and the [`super::ClusterStatus`] printed pretty
//! (the tests below hold them to it for any status), at a fraction of its cost: no
//! per-field calls, keys and enum words copied as they are, strings copied in runs.

use super::kept::{self, EncodedMonitors, KeptMonitor};
use super::view::{GroupView, MonitorView, StatusView};
use super::{CheckFigures, GroupTimes, ObjectStatus, ServerStatus, ServersView};
use crate::json_writer::JsonWriter;

/// Which answer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    /// The whole status, compact, with the protocol's tag.
    Answer,
    /// The whole status, pretty, no tag.
    Pretty,
    /// The summary, compact, with its tag.
    Summary,
}

impl StatusView<'_> {
    /// Appends the protocol's status answer (`{"type":"status",` and the status's fields,
    /// as [`crate::ipc::Response::Status`] encodes) to `out`.
    pub fn write_answer(&self, out: &mut Vec<u8>) {
        encode(self, Form::Answer, out, None);
    }

    /// [`Self::write_answer`], copying each monitor whose fields are those `kept` has of it
    /// from the answers before, and keeping the others' for the next one (with `None`, as
    /// [`Self::write_answer`]).
    pub fn write_answer_keeping(&self, out: &mut Vec<u8>, kept: Option<&mut EncodedMonitors>) {
        encode(self, Form::Answer, out, kept.map(|kept| &mut kept.compact));
    }

    /// Appends the protocol's summary answer (`{"type":"status_summary",` and the fields of
    /// [`super::StatusSummary`], as [`crate::ipc::Response::StatusSummary`] encodes) to
    /// `out`: what `clpstat`'s text layouts show.
    pub fn write_summary(&self, out: &mut Vec<u8>) {
        encode(self, Form::Summary, out, None);
    }

    /// Appends the status as `clpstat --json` prints it (serde's pretty printer, two
    /// spaces, and a newline at the end) to `out`.
    pub fn write_pretty(&self, out: &mut Vec<u8>) {
        encode(self, Form::Pretty, out, None);
        out.push(b'\n');
    }

    /// [`Self::write_pretty`], copying each monitor whose fields are those `kept` has of it
    /// from the texts before, and keeping the others' for the next one (with `None`, as
    /// [`Self::write_pretty`]).
    pub fn write_pretty_keeping(&self, out: &mut Vec<u8>, kept: Option<&mut EncodedMonitors>) {
        encode(self, Form::Pretty, out, kept.map(|kept| &mut kept.pretty));
        out.push(b'\n');
    }
}

/// Writes `view` in `form`; `kept`: the monitors of this form's answers before, to copy
/// what did not change from and keep what did.
fn encode(
    view: &StatusView<'_>,
    form: Form,
    out: &mut Vec<u8>,
    mut kept: Option<&mut Vec<KeptMonitor>>,
) {
    let json = &mut JsonWriter::new(out, form == Form::Pretty);
    let whole = form != Form::Summary;
    json.begin_object();
    match form {
        Form::Answer => {
            json.key("type");
            json.word("status");
        }
        Form::Summary => {
            json.key("type");
            json.word("status_summary");
        }
        Form::Pretty => {}
    }
    json.key("cluster");
    json.string(view.cluster);
    json.key("daemon");
    json.word(view.daemon.as_str());
    if whole {
        json.key("pid");
        json.optional_number(view.pid.map(u64::from));
    }
    json.key("server");
    let server = &view.server;
    let heartbeat = &server.heartbeat;
    server_object(
        json,
        server.name,
        server.status,
        server.comment,
        [heartbeat.name, heartbeat.status, heartbeat.comment],
    );
    json.key("groups");
    json.begin_array();
    for group in &view.groups {
        json.element();
        group_object(json, group, whole);
    }
    json.end_array();
    json.key("monitors");
    json.begin_array();
    for (index, monitor) in view.monitors.iter().enumerate() {
        json.element();
        if whole {
            let kept = kept.as_deref_mut().map(|list| kept::entry(list, index));
            monitor_object(json, monitor, kept);
        } else {
            json.begin_object();
            json.key("name");
            json.string(monitor.name);
            json.key("status");
            json.word(monitor.status.as_str());
            json.key("comment");
            json.string(monitor.comment);
            json.key("dummy_failure");
            json.boolean(monitor.dummy_failure);
            json.end_object();
        }
    }
    json.end_array();
    if let Some(list) = kept {
        list.truncate(view.monitors.len());
    }
    if let Some(problem) = &view.alert_log_problem {
        json.key("alert_log_problem");
        json.string(problem);
    }
    if let Some(ha) = &view.ha {
        json.key("ha");
        servers_object(json, ha);
    }
    json.end_object();
}

fn server_object(
    json: &mut JsonWriter<'_>,
    name: &str,
    status: ObjectStatus,
    comment: &str,
    [heartbeat, heartbeat_status, heartbeat_comment]: [&str; 3],
) {
    json.begin_object();
    json.key("name");
    json.string(name);
    json.key("status");
    json.word(status.as_str());
    json.key("comment");
    json.string(comment);
    json.key("heartbeat");
    json.begin_object();
    json.key("name");
    json.string(heartbeat);
    json.key("status");
    json.string(heartbeat_status);
    json.key("comment");
    json.string(heartbeat_comment);
    json.end_object();
    json.end_object();
}

fn group_object(json: &mut JsonWriter<'_>, group: &GroupView<'_>, whole: bool) {
    json.begin_object();
    json.key("name");
    json.string(group.name);
    json.key("status");
    json.word(group.status.as_str());
    json.key("comment");
    json.string(group.comment);
    json.key("current");
    json.optional_string(group.current.as_deref());
    json.key("resources");
    json.begin_array();
    for resource in &group.resources {
        json.element();
        json.begin_object();
        json.key("name");
        json.string(resource.name);
        if whole {
            json.key("kind");
            json.string(resource.kind);
        }
        json.key("status");
        json.word(resource.status.as_str());
        json.key("comment");
        json.string(resource.comment);
        if whole {
            json.key("pid");
            json.optional_number(resource.pid.map(u64::from));
        }
        json.end_object();
    }
    json.end_array();
    if whole && let Some(times) = &group.times {
        json.key("times");
        times_object(json, times);
    }
    json.end_object();
}

fn times_object(json: &mut JsonWriter<'_>, times: &GroupTimes) {
    json.begin_object();
    json.key("starts");
    json.number(times.starts);
    json.key("start_median_ms");
    json.optional_number(times.start_median_ms);
    json.key("stops");
    json.number(times.stops);
    json.key("stop_median_ms");
    json.optional_number(times.stop_median_ms);
    json.end_object();
}

/// A monitor's object; its members up to `dummy_failure` copied from `kept` when they were
/// written from the same fields, else written (and kept).
fn monitor_object(
    json: &mut JsonWriter<'_>,
    monitor: &MonitorView<'_>,
    kept: Option<&mut KeptMonitor>,
) {
    json.begin_object();
    match kept {
        Some(kept) if kept.matches(monitor) => json.written_members(&kept.members),
        Some(kept) => {
            let start = json.position();
            steady_members(json, monitor);
            kept.keep(monitor, json.since(start));
        }
        None => steady_members(json, monitor),
    }
    json.key("checks");
    json.number(monitor.checks);
    json.key("last_check_us");
    json.optional_number(monitor.last_check_us);
    json.key("last_lateness_us");
    json.optional_number(monitor.last_lateness_us);
    if let Some(figures) = &monitor.check_figures {
        json.key("check_figures");
        figures_object(json, figures);
    }
    json.end_object();
}

/// A monitor's members that change only with its ladder, a switch or the configuration
/// (see `kept.rs`): `name` to `dummy_failure`.
fn steady_members(json: &mut JsonWriter<'_>, monitor: &MonitorView<'_>) {
    json.key("name");
    json.string(monitor.name);
    json.key("kind");
    json.string(monitor.kind);
    json.key("status");
    json.word(monitor.status.as_str());
    json.key("comment");
    json.string(monitor.comment);
    json.key("reactivations");
    json.number(u64::from(monitor.reactivations));
    json.key("reactivation_threshold");
    json.number(u64::from(monitor.reactivation_threshold));
    json.key("failovers");
    json.number(u64::from(monitor.failovers));
    json.key("failover_threshold");
    json.number(u64::from(monitor.failover_threshold));
    json.key("final_action_done");
    json.boolean(monitor.final_action_done);
    json.key("final_action");
    json.string(monitor.final_action);
    json.key("recovery_target");
    json.string(monitor.recovery_target);
    json.key("last_detail");
    json.optional_string(monitor.last_detail.as_deref());
    json.key("dummy_failure");
    json.boolean(monitor.dummy_failure);
}

fn figures_object(json: &mut JsonWriter<'_>, figures: &CheckFigures) {
    json.begin_object();
    json.key("average_us");
    json.number(figures.average_us);
    json.key("max_us");
    json.number(figures.max_us);
    json.key("idle_ms");
    json.optional_number(figures.idle_ms);
    json.end_object();
}

fn servers_object(json: &mut JsonWriter<'_>, ha: &ServersView) {
    json.begin_object();
    json.key("servers");
    json.begin_array();
    for server in &ha.servers {
        json.element();
        server_status_object(json, server);
    }
    json.end_array();
    if let Some(problem) = &ha.problem {
        json.key("problem");
        json.string(problem);
    }
    if ha.alerts_not_copied != 0 {
        json.key("alerts_not_copied");
        json.number(ha.alerts_not_copied);
    }
    if !ha.heard.is_empty() {
        json.key("heard");
        json.begin_object();
        for (server, hears) in &ha.heard {
            json.key_text(server);
            json.strings(hears.iter().map(String::as_str));
        }
        json.end_object();
    }
    json.end_object();
}

fn server_status_object(json: &mut JsonWriter<'_>, server: &ServerStatus) {
    let heartbeat = &server.heartbeat;
    server_object(
        json,
        &server.name,
        server.status,
        &server.comment,
        [&heartbeat.name, &heartbeat.status, &heartbeat.comment],
    );
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::collections::BTreeMap;

    use super::*;
    use crate::ipc::Response;
    use crate::status::view::{HeartbeatView, ResourceView, ServerView};
    use crate::status::{
        ClusterStatus, DaemonState, GroupStatus, HeartbeatStatus, MonitorState, MonitorStatus,
        ResourceStatus, StatusSummary,
    };

    /// xorshift64*: the same statuses on every run, many different ones.
    struct Random(u64);

    impl Random {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn chance(&mut self, in_four: usize) -> bool {
            self.below(4) < in_four
        }

        /// Text meant to break an encoder: quotes, backslashes, every control character,
        /// DEL, non-ASCII, U+2028/2029, the last code point; empty, short or very long.
        fn text(&mut self) -> String {
            const PIECES: &[&str] = &[
                "a",
                "Z",
                "0",
                " ",
                "/",
                "\"",
                "\\",
                "\\u0041",
                "é",
                "日本",
                "\u{2028}",
                "\u{2029}",
                "\u{7f}",
                "\u{85}",
                "\u{202e}",
                "\u{10ffff}",
                "{[,:]}",
                "null",
            ];
            let length = match self.below(8) {
                0 => 0,
                1 => 2000 + self.below(3000),
                _ => 1 + self.below(12),
            };
            let mut text = String::new();
            for _ in 0..length {
                if self.chance(1) {
                    // A control character, U+0000 to U+001F.
                    text.push(char::from(self.below(0x20) as u8));
                } else {
                    text.push_str(PIECES[self.below(PIECES.len())]);
                }
            }
            text
        }

        fn maybe_text(&mut self) -> Option<String> {
            self.chance(2).then(|| self.text())
        }

        fn number(&mut self) -> u64 {
            match self.below(4) {
                0 => 0,
                1 => u64::MAX - self.below(2) as u64,
                2 => self.below(1000) as u64,
                _ => self.next(),
            }
        }

        fn maybe_number(&mut self) -> Option<u64> {
            self.chance(2).then(|| self.number())
        }

        fn small(&mut self) -> u32 {
            (self.number() >> 32) as u32
        }

        fn object_status(&mut self) -> ObjectStatus {
            ObjectStatus::ALL[self.below(ObjectStatus::ALL.len())]
        }

        fn server(&mut self) -> ServerStatus {
            ServerStatus {
                name: self.text(),
                status: self.object_status(),
                comment: self.text(),
                heartbeat: HeartbeatStatus {
                    name: self.text(),
                    status: self.text(),
                    comment: self.text(),
                },
            }
        }

        fn status(&mut self) -> ClusterStatus {
            let groups = (0..self.below(5))
                .map(|_| GroupStatus {
                    name: self.text(),
                    status: self.object_status(),
                    comment: self.text(),
                    current: self.maybe_text(),
                    resources: (0..self.below(4))
                        .map(|_| ResourceStatus {
                            name: self.text(),
                            kind: self.text(),
                            status: self.object_status(),
                            comment: self.text(),
                            pid: self.chance(2).then(|| self.small()),
                        })
                        .collect(),
                    times: self.chance(2).then(|| GroupTimes {
                        starts: self.number(),
                        start_median_ms: self.maybe_number(),
                        stops: self.number(),
                        stop_median_ms: self.maybe_number(),
                    }),
                })
                .collect();
            let monitors = (0..self.below(6))
                .map(|_| MonitorState {
                    name: self.text(),
                    kind: self.text(),
                    status: MonitorStatus::ALL[self.below(MonitorStatus::ALL.len())],
                    comment: self.text(),
                    reactivations: self.small(),
                    reactivation_threshold: self.small(),
                    failovers: self.small(),
                    failover_threshold: self.small(),
                    final_action_done: self.chance(2),
                    final_action: self.text(),
                    recovery_target: self.text(),
                    last_detail: self.maybe_text(),
                    dummy_failure: self.chance(2),
                    checks: self.number(),
                    last_check_us: self.maybe_number(),
                    last_lateness_us: self.maybe_number(),
                    check_figures: self.chance(2).then(|| CheckFigures {
                        average_us: self.number(),
                        max_us: self.number(),
                        idle_ms: self.maybe_number(),
                    }),
                })
                .collect();
            ClusterStatus {
                cluster: self.text(),
                daemon: [
                    DaemonState::Stopped,
                    DaemonState::Starting,
                    DaemonState::Running,
                    DaemonState::Suspended,
                    DaemonState::Stopping,
                ][self.below(5)],
                pid: self.chance(2).then(|| self.small()),
                server: self.server(),
                groups,
                monitors,
                alert_log_problem: self.maybe_text().map(Box::new),
                ha: self.chance(1).then(|| {
                    Box::new(ServersView {
                        servers: (0..self.below(4)).map(|_| self.server()).collect(),
                        problem: self.maybe_text(),
                        alerts_not_copied: if self.chance(2) { self.number() } else { 0 },
                        heard: (0..self.below(3))
                            .map(|_| {
                                (
                                    self.text(),
                                    (0..self.below(3)).map(|_| self.text()).collect(),
                                )
                            })
                            .collect::<BTreeMap<_, _>>(),
                    })
                }),
            }
        }
    }

    /// The view the daemon would build of `status`.
    fn view_of(status: &ClusterStatus) -> StatusView<'_> {
        let server = &status.server;
        StatusView {
            cluster: &status.cluster,
            daemon: status.daemon,
            pid: status.pid,
            server: ServerView {
                name: &server.name,
                status: server.status,
                comment: &server.comment,
                heartbeat: HeartbeatView {
                    name: &server.heartbeat.name,
                    status: &server.heartbeat.status,
                    comment: &server.heartbeat.comment,
                },
            },
            groups: status
                .groups
                .iter()
                .map(|group| GroupView {
                    name: &group.name,
                    status: group.status,
                    comment: &group.comment,
                    current: group.current.as_deref().map(Cow::Borrowed),
                    resources: group
                        .resources
                        .iter()
                        .map(|resource| ResourceView {
                            name: &resource.name,
                            kind: &resource.kind,
                            status: resource.status,
                            comment: &resource.comment,
                            pid: resource.pid,
                        })
                        .collect(),
                    times: group.times,
                })
                .collect(),
            monitors: status
                .monitors
                .iter()
                .map(|monitor| MonitorView {
                    name: &monitor.name,
                    kind: &monitor.kind,
                    status: monitor.status,
                    comment: &monitor.comment,
                    reactivations: monitor.reactivations,
                    reactivation_threshold: monitor.reactivation_threshold,
                    failovers: monitor.failovers,
                    failover_threshold: monitor.failover_threshold,
                    final_action_done: monitor.final_action_done,
                    final_action: &monitor.final_action,
                    recovery_target: &monitor.recovery_target,
                    last_detail: monitor.last_detail.clone(),
                    dummy_failure: monitor.dummy_failure,
                    checks: monitor.checks,
                    last_check_us: monitor.last_check_us,
                    last_lateness_us: monitor.last_lateness_us,
                    check_figures: monitor.check_figures,
                })
                .collect(),
            alert_log_problem: status.alert_log_problem.as_deref().cloned(),
            ha: status.ha.as_deref().cloned(),
        }
    }

    /// Changes `status`'s monitors as time does between two answers: a check counted (most
    /// steps), one steady field of one monitor changed, a monitor added, removed or moved.
    fn change(random: &mut Random, status: &mut ClusterStatus) {
        let monitors = &mut status.monitors;
        if monitors.is_empty() || random.below(12) == 0 {
            let mut other = random.status();
            let at = random.below(monitors.len() + 1);
            if let Some(monitor) = other.monitors.pop() {
                monitors.insert(at, monitor);
            }
            return;
        }
        let at = random.below(monitors.len());
        match random.below(16) {
            0 => {
                monitors.remove(at);
            }
            1 => {
                let to = random.below(monitors.len());
                monitors.swap(at, to);
            }
            2 => monitors[at].name = random.text(),
            3 => monitors[at].kind = random.text(),
            4 => monitors[at].status = MonitorStatus::ALL[random.below(MonitorStatus::ALL.len())],
            5 => monitors[at].comment = random.text(),
            6 => monitors[at].reactivations = random.small(),
            7 => monitors[at].reactivation_threshold = random.small(),
            8 => monitors[at].failovers = random.small(),
            9 => monitors[at].failover_threshold = random.small(),
            10 => monitors[at].final_action_done ^= true,
            11 => monitors[at].final_action = random.text(),
            12 => monitors[at].recovery_target = random.text(),
            13 => monitors[at].last_detail = random.maybe_text(),
            14 => monitors[at].dummy_failure ^= true,
            _ => {
                for monitor in monitors.iter_mut() {
                    monitor.checks = monitor.checks.wrapping_add(1);
                    monitor.last_check_us = random.maybe_number();
                    monitor.last_lateness_us = random.maybe_number();
                }
            }
        }
    }

    /// An answer that copies the monitors kept from the answers before is byte for byte
    /// the answer written whole, however the monitors changed in between (each steady
    /// field alone, monitors added, removed and moved), the two forms taking turns.
    #[test]
    fn answers_that_copy_kept_monitors_are_the_answers_written_whole() {
        for seed in 1..=80_u64 {
            let mut random = Random(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let mut status = random.status();
            let mut kept = EncodedMonitors::default();
            for step in 0..60 {
                change(&mut random, &mut status);
                let view = view_of(&status);
                let (mut whole, mut copied) = (b"kept".to_vec(), b"kept".to_vec());
                if random.chance(2) {
                    view.write_answer(&mut whole);
                    view.write_answer_keeping(&mut copied, Some(&mut kept));
                } else {
                    view.write_pretty(&mut whole);
                    view.write_pretty_keeping(&mut copied, Some(&mut kept));
                }
                assert!(
                    whole == copied,
                    "seed {seed}, step {step}: the answers differ"
                );
            }
        }
    }

    /// What was kept is what the next answer of its form copies: a monitor unchanged since
    /// the last answer is not written again (its kept bytes, altered here, show up as they
    /// are), and one changed since is; in each form, the other form's kept bytes untouched.
    #[test]
    fn an_unchanged_monitor_is_copied_and_a_changed_one_written() {
        type Write = fn(&StatusView<'_>, &mut Vec<u8>, &mut EncodedMonitors);
        let forms: [(&str, Write); 2] = [
            ("compact", |view, out, kept| {
                view.write_answer_keeping(out, Some(kept))
            }),
            ("pretty", |view, out, kept| {
                view.write_pretty_keeping(out, Some(kept))
            }),
        ];
        for (form, write) in forms {
            let mut random = Random(7);
            let mut status = random.status();
            while status.monitors.len() < 2 {
                change(&mut random, &mut status);
            }
            status.monitors[0].name = "first".to_string();
            status.monitors[1].name = "second".to_string();
            let mut kept = EncodedMonitors::default();
            let mut answer = Vec::new();
            write(&view_of(&status), &mut answer, &mut kept);
            let (this, other) = if form == "pretty" {
                (&mut kept.pretty, &kept.compact)
            } else {
                (&mut kept.compact, &kept.pretty)
            };
            assert!(other.is_empty(), "{form}: the other form kept something");
            for entry in &mut this[..2] {
                let members = String::from_utf8(entry.members.clone()).expect("text");
                entry.members = members
                    .replace("first", "FIRST")
                    .replace("second", "SECOND")
                    .into_bytes();
            }
            status.monitors[1].comment.push('!');
            answer.clear();
            write(&view_of(&status), &mut answer, &mut kept);
            let answer = String::from_utf8(answer).expect("text");
            assert!(
                answer.contains("\"FIRST\""),
                "{form}: the unchanged monitor was written again"
            );
            assert!(
                answer.contains("\"second\"") && !answer.contains("SECOND"),
                "{form}: the changed monitor was copied"
            );
        }
    }

    /// For hundreds of statuses full of hostile strings and extreme numbers, each of the
    /// three answers is byte for byte what serde_json writes for the status it stands for,
    /// and reads back as it (the summary borrowing what it can from the answer).
    #[test]
    fn every_encoding_is_what_serde_writes_for_any_status() {
        for seed in 1..=400_u64 {
            let mut random = Random(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let status = random.status();
            let view = view_of(&status);

            let mut answer = b"kept".to_vec();
            view.write_answer(&mut answer);
            let serde = serde_json::to_vec(&Response::Status(status.clone())).expect("encodes");
            assert!(answer.starts_with(b"kept"), "seed {seed}");
            assert!(answer[4..] == serde[..], "seed {seed}: the answer differs");
            assert_eq!(
                Response::from_line(&answer[4..]).expect("reads"),
                Response::Status(status.clone()),
                "seed {seed}"
            );

            let mut pretty = Vec::new();
            view.write_pretty(&mut pretty);
            let mut serde = serde_json::to_vec_pretty(&status).expect("encodes");
            serde.push(b'\n');
            assert!(pretty == serde, "seed {seed}: the pretty text differs");

            let summary = StatusSummary::from(&status);
            let mut line = Vec::new();
            view.write_summary(&mut line);
            let serde = serde_json::to_vec(&Response::StatusSummary(summary.clone().into_owned()))
                .expect("encodes");
            assert!(line == serde, "seed {seed}: the summary differs");
            let read = crate::ipc::summary_from_line(&line)
                .expect("a summary answer")
                .expect("reads");
            assert_eq!(read, summary, "seed {seed}");
        }
    }
}

/// What keeping the monitors saves an answer: not a test, a measurement (`#[ignore]`d):
/// `cargo test --release -p clp-core --lib status::encode::timing -- --ignored --nocapture`.
#[cfg(test)]
mod timing {
    use super::*;
    use crate::status::view::{HeartbeatView, ServerView};
    use crate::status::{DaemonState, MonitorStatus};

    #[test]
    #[ignore = "a measurement, not a test: prints the time of an answer written whole and copying kept monitors"]
    fn an_answer_of_1000_monitors_written_whole_and_copying_kept_ones() {
        let names: Vec<String> = (0..1000).map(|i| format!("tcpw{i:05}")).collect();
        let view = StatusView {
            cluster: "scale",
            daemon: DaemonState::Running,
            pid: Some(1),
            server: ServerView {
                name: "server",
                status: ObjectStatus::Online,
                comment: "",
                heartbeat: HeartbeatView {
                    name: "none",
                    status: "Normal",
                    comment: "",
                },
            },
            groups: Vec::new(),
            monitors: names
                .iter()
                .map(|name| MonitorView {
                    name,
                    kind: "tcpw",
                    status: MonitorStatus::Normal,
                    comment: "",
                    reactivations: 0,
                    reactivation_threshold: 3,
                    failovers: 0,
                    failover_threshold: 0,
                    final_action_done: false,
                    final_action: "none",
                    recovery_target: "LocalServer",
                    last_detail: None,
                    dummy_failure: false,
                    checks: 12_345,
                    last_check_us: Some(40),
                    last_lateness_us: Some(7_466),
                    check_figures: Some(CheckFigures {
                        average_us: 286,
                        max_us: 1_991,
                        idle_ms: Some(182),
                    }),
                })
                .collect(),
            alert_log_problem: None,
            ha: None,
        };
        let mut out = Vec::with_capacity(1 << 20);
        let mut kept = EncodedMonitors::default();
        for round in 1..=3 {
            let started = std::time::Instant::now();
            for _ in 0..200 {
                out.clear();
                view.write_pretty(&mut out);
            }
            let whole = started.elapsed() / 200;
            let started = std::time::Instant::now();
            for _ in 0..200 {
                out.clear();
                view.write_pretty_keeping(&mut out, Some(&mut kept));
            }
            let copying = started.elapsed() / 200;
            println!(
                "round {round}: the pretty text of 1,000 monitors ({} bytes) written whole in \
                 {whole:?}, copying kept monitors in {copying:?} (kept: {} bytes)",
                out.len(),
                kept.bytes()
            );
        }
    }
}
