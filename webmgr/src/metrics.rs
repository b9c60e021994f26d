//! `/metrics`: the status in the Prometheus text format (version 0.0.4), built in where the
//! original needs a separate exporter.
//!
//! States are "state sets": one sample per possible state, 1 for the current one and 0 for
//! the others, so that `clp_group_state{state="Online"} == 0` alerts without knowing every
//! other word.

use std::collections::BTreeMap;
use std::fmt::Write;

use clp_core::alert::Level;
use clp_core::status::{ClusterStatus, DaemonState, MonitorStatus, ObjectStatus};

const DAEMON_STATES: &[(DaemonState, &str)] = &[
    (DaemonState::Stopped, "stopped"),
    (DaemonState::Starting, "starting"),
    (DaemonState::Running, "running"),
    (DaemonState::Suspended, "suspended"),
    (DaemonState::Stopping, "stopping"),
];

const OBJECT_STATES: &[ObjectStatus] = &ObjectStatus::ALL;

const MONITOR_STATES: &[MonitorStatus] = &MonitorStatus::ALL;

/// The content type of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Escapes a label value (backslash, double quote, line feed).
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

struct Family<'a> {
    text: &'a mut String,
}

impl Family<'_> {
    fn header(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.text, "# HELP {name} {help}");
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        let _ = write!(self.text, "{name}");
        if !labels.is_empty() {
            let labels: Vec<String> = labels
                .iter()
                .map(|(key, value)| format!("{key}=\"{}\"", escape(value)))
                .collect();
            let _ = write!(self.text, "{{{}}}", labels.join(","));
        }
        let _ = writeln!(self.text, " {value}");
    }
}

/// The whole exposition: daemon, groups, resources, monitors, and alert counts by level.
pub fn render(status: &ClusterStatus, daemon_up: bool, alerts: &BTreeMap<Level, u64>) -> String {
    let mut text = String::new();
    let mut out = Family { text: &mut text };
    let cluster = status.cluster.as_str();

    out.header(
        "clp_daemon_up",
        "gauge",
        "1 when clppm answers on its control socket.",
    );
    out.sample(
        "clp_daemon_up",
        &[("cluster", cluster)],
        u8::from(daemon_up),
    );
    out.header(
        "clp_daemon_state",
        "gauge",
        "The daemon's state (1 for the current one).",
    );
    for (state, word) in DAEMON_STATES {
        out.sample(
            "clp_daemon_state",
            &[("cluster", cluster), ("state", word)],
            u8::from(status.daemon == *state),
        );
    }

    out.header(
        "clp_group_state",
        "gauge",
        "A group's state (1 for the current one).",
    );
    for group in &status.groups {
        for state in OBJECT_STATES {
            out.sample(
                "clp_group_state",
                &[("group", &group.name), ("state", state.as_str())],
                u8::from(group.status == *state),
            );
        }
    }
    out.header(
        "clp_resource_state",
        "gauge",
        "A group resource's state (1 for the current one).",
    );
    for group in &status.groups {
        for resource in &group.resources {
            for state in OBJECT_STATES {
                out.sample(
                    "clp_resource_state",
                    &[
                        ("group", &group.name),
                        ("resource", &resource.name),
                        ("state", state.as_str()),
                    ],
                    u8::from(resource.status == *state),
                );
            }
        }
    }

    out.header(
        "clp_monitor_state",
        "gauge",
        "A monitor's state (1 for the current one).",
    );
    for monitor in &status.monitors {
        for state in MONITOR_STATES {
            out.sample(
                "clp_monitor_state",
                &[
                    ("monitor", &monitor.name),
                    ("type", &monitor.kind),
                    ("state", state.as_str()),
                ],
                u8::from(monitor.status == *state),
            );
        }
    }
    out.header(
        "clp_monitor_last_check_seconds",
        "gauge",
        "How long a monitor's last check took.",
    );
    for monitor in &status.monitors {
        if let Some(us) = monitor.last_check_us {
            out.sample(
                "clp_monitor_last_check_seconds",
                &[("monitor", &monitor.name)],
                us as f64 / 1e6,
            );
        }
    }
    out.header(
        "clp_monitor_checks_total",
        "counter",
        "Checks a monitor ran since the daemon started.",
    );
    for monitor in &status.monitors {
        out.sample(
            "clp_monitor_checks_total",
            &[("monitor", &monitor.name)],
            monitor.checks,
        );
    }
    out.header(
        "clp_monitor_reactivations",
        "gauge",
        "Reactivations of a monitor's recovery target since its counters were reset.",
    );
    for monitor in &status.monitors {
        out.sample(
            "clp_monitor_reactivations",
            &[("monitor", &monitor.name)],
            monitor.reactivations,
        );
    }
    out.header(
        "clp_monitor_reactivation_threshold",
        "gauge",
        "Reactivations allowed before the final action.",
    );
    for monitor in &status.monitors {
        out.sample(
            "clp_monitor_reactivation_threshold",
            &[("monitor", &monitor.name)],
            monitor.reactivation_threshold,
        );
    }
    out.header(
        "clp_monitor_failovers",
        "gauge",
        "Failovers since the counters were reset (always 0 on a single server).",
    );
    for monitor in &status.monitors {
        out.sample(
            "clp_monitor_failovers",
            &[("monitor", &monitor.name)],
            monitor.failovers,
        );
    }
    out.header(
        "clp_monitor_final_action_done",
        "gauge",
        "1 when the final action ran since the counters were reset.",
    );
    for monitor in &status.monitors {
        out.sample(
            "clp_monitor_final_action_done",
            &[
                ("monitor", &monitor.name),
                ("final_action", &monitor.final_action),
            ],
            u8::from(monitor.final_action_done),
        );
    }

    out.header(
        "clp_alerts_total",
        "counter",
        "Alert log records by level: those kept when clpwebmgr started, and every one since.",
    );
    for level in [Level::Info, Level::Warning, Level::Error] {
        out.sample(
            "clp_alerts_total",
            &[("level", level.as_str())],
            alerts.get(&level).copied().unwrap_or(0),
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use clp_core::paths::Paths;

    #[test]
    fn every_line_is_a_comment_or_a_sample() {
        let config = clp_core::config::Config::default_for(&Paths::new("/nonexistent"));
        let mut status = clp_core::status::offline_status(&config, None);
        status.monitors[0].name = "odd\"name\\".into();
        status.monitors[0].last_check_us = Some(1500);
        let mut alerts = BTreeMap::new();
        alerts.insert(Level::Error, 2);
        let text = render(&status, false, &alerts);
        for line in text.lines() {
            assert!(
                line.starts_with("# HELP ")
                    || line.starts_with("# TYPE ")
                    || line.starts_with("clp_"),
                "{line}"
            );
        }
        assert!(text.contains("clp_daemon_up{cluster="), "{text}");
        assert!(text.contains("state=\"stopped\"} 1"), "{text}");
        assert!(
            text.contains("clp_monitor_last_check_seconds{monitor=\"odd\\\"name\\\\\"} 0.0015"),
            "{text}"
        );
        assert!(text.contains("clp_alerts_total{level=\"Error\"} 2"));
        assert!(text.contains("clp_alerts_total{level=\"Info\"} 0"));
    }
}
