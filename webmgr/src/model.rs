//! What the JSON API answers: the status snapshot seen as the WebManager shows it, each
//! object's parameters from the configuration, and the one-word health the integrated
//! viewer colours.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use clp_core::config::{Config, ExecMode, GroupConfig, MonitorConfig, ResourceConfig, Timing};
use clp_core::status::{
    ClusterStatus, DaemonState, GroupStatus, MonitorState, MonitorStatus, ObjectStatus,
    ResourceStatus, ServerStatus,
};

/// How the whole server is, as the integrated viewer colours it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Green: the daemon runs, every group is Online, every monitor Normal.
    Normal,
    /// Yellow: something is not normal (a group offline or pending, a monitor suspended,
    /// warning or offline, the daemon suspended, starting or stopping).
    Caution,
    /// Red: a fault (a group or resource failed, a monitor in Error) or the daemon is not
    /// running, so nothing is protected.
    Error,
}

impl Health {
    /// The colour name the pages use.
    pub fn colour(self) -> &'static str {
        match self {
            Health::Normal => "green",
            Health::Caution => "yellow",
            Health::Error => "red",
        }
    }
}

/// The health of a status snapshot.
pub fn health(status: &ClusterStatus) -> Health {
    let failed = |s: ObjectStatus| {
        matches!(
            s,
            ObjectStatus::Error | ObjectStatus::OnlineFailure | ObjectStatus::OfflineFailure
        )
    };
    let error = status.daemon == DaemonState::Stopped
        || status
            .groups
            .iter()
            .any(|group| failed(group.status) || group.resources.iter().any(|r| failed(r.status)))
        || status
            .monitors
            .iter()
            .any(|monitor| monitor.status == MonitorStatus::Error);
    if error {
        return Health::Error;
    }
    let caution = status.daemon != DaemonState::Running
        || status
            .groups
            .iter()
            .any(|g| g.status != ObjectStatus::Online)
        || status
            .monitors
            .iter()
            .any(|m| m.status != MonitorStatus::Normal);
    if caution {
        Health::Caution
    } else {
        Health::Normal
    }
}

/// `GET /api/v1/cluster`: the whole status, its health, and whether the daemon answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClusterView {
    /// The status snapshot (from the configuration, everything Offline, when clppm is down).
    #[serde(flatten)]
    pub status: ClusterStatus,
    /// The one-word health.
    pub health: Health,
    /// Why the daemon did not answer, when it did not.
    pub daemon_message: Option<String>,
    /// The WebManager's language (`en`, `ja`).
    pub language: String,
}

/// One parameter of an object: a stable key (the page translates it) and its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parameter {
    /// The key (`interval`, `final_action`, `parameter.port`, ...).
    pub key: String,
    /// The value as shown.
    pub value: String,
}

fn parameter(key: &str, value: impl Into<String>) -> Parameter {
    Parameter {
        key: key.to_string(),
        value: value.into(),
    }
}

fn secs(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{}", duration.as_secs())
    } else {
        format!("{secs}")
    }
}

/// A group's detail: its state and its parameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupDetail {
    /// The state.
    #[serde(flatten)]
    pub status: GroupStatus,
    /// The configuration.
    pub parameters: Vec<Parameter>,
}

/// A resource's detail.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResourceDetail {
    /// The group it belongs to.
    pub group: String,
    /// The state.
    #[serde(flatten)]
    pub status: ResourceStatus,
    /// The configuration.
    pub parameters: Vec<Parameter>,
}

/// A monitor's detail: its state and counters, and its parameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MonitorDetail {
    /// The state and the recovery counters.
    #[serde(flatten)]
    pub status: MonitorState,
    /// The configuration.
    pub parameters: Vec<Parameter>,
}

/// The server's detail.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerDetail {
    /// The state.
    #[serde(flatten)]
    pub status: ServerStatus,
    /// The daemon's state.
    pub daemon: DaemonState,
    /// The daemon's pid.
    pub pid: Option<u32>,
    /// The configuration.
    pub parameters: Vec<Parameter>,
}

/// Every resource of a status, with its group's name.
pub fn resources(status: &ClusterStatus) -> Vec<(String, ResourceStatus)> {
    status
        .groups
        .iter()
        .flat_map(|group| {
            group
                .resources
                .iter()
                .map(|resource| (group.name.clone(), resource.clone()))
        })
        .collect()
}

/// The server's parameters.
pub fn server_parameters(config: &Config) -> Vec<Parameter> {
    vec![
        parameter("comment", config.server_comment().to_string()),
        parameter("language", config.cluster.language.clone()),
        parameter("max_records", config.alert.max_records.to_string()),
        parameter("alert_syslog", on_off(config.alert.syslog)),
        parameter(
            "disable_monitor_recovery",
            on_off(config.cluster.disable_monitor_recovery),
        ),
        parameter("shutdown", config.os_actions.shutdown.join(" ")),
        parameter("reboot", config.os_actions.reboot.join(" ")),
    ]
}

fn on_off(value: bool) -> &'static str {
    if value { "On" } else { "Off" }
}

/// A group's parameters.
pub fn group_parameters(group: &GroupConfig) -> Vec<Parameter> {
    vec![
        parameter("comment", group.comment.clone()),
        parameter(
            "startup",
            if group.auto_start {
                "Auto Startup"
            } else {
                "Manual Startup"
            },
        ),
        parameter(
            "resources",
            group
                .resources
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
    ]
}

/// A resource's parameters.
pub fn resource_parameters(resource: &ResourceConfig) -> Vec<Parameter> {
    vec![
        parameter("type", resource.kind.clone()),
        parameter("comment", resource.comment.clone()),
        parameter("start_script", resource.start.display().to_string()),
        parameter(
            "stop_script",
            resource
                .stop
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        ),
        parameter(
            "mode",
            match resource.mode {
                ExecMode::Async => "Asynchronous",
                ExecMode::Sync => "Synchronous",
            },
        ),
        parameter("timeout", secs(resource.timeout)),
        parameter("stop_timeout", secs(resource.stop_timeout)),
        parameter("depends_on", resource.depends_on.join(", ")),
        parameter("activation_retry", resource.activation.retry.to_string()),
        parameter(
            "activation_final_action",
            resource.activation.final_action.label(),
        ),
        parameter(
            "deactivation_retry",
            resource.deactivation.retry.to_string(),
        ),
        parameter(
            "deactivation_final_action",
            resource.deactivation.final_action.label(),
        ),
    ]
}

/// A monitor's parameters; secrets (any key naming a password) are masked.
pub fn monitor_parameters(monitor: &MonitorConfig) -> Vec<Parameter> {
    let mut parameters = vec![
        parameter("type", monitor.kind.clone()),
        parameter("comment", monitor.comment.clone()),
        parameter(
            "timing",
            match monitor.timing {
                Timing::Always => "Always",
                Timing::Active => "Active",
            },
        ),
        parameter("target", monitor.target.clone().unwrap_or_default()),
        parameter("interval", secs(monitor.interval)),
        parameter("timeout", secs(monitor.timeout)),
        parameter("retry", monitor.retry.to_string()),
        parameter("wait_before_start", secs(monitor.wait_before_start)),
        parameter("nice", monitor.nice.to_string()),
        parameter(
            "recovery_target",
            monitor.recovery.target.display_name().to_string(),
        ),
        parameter(
            "reactivation_threshold",
            monitor.recovery.reactivation_threshold.to_string(),
        ),
        parameter(
            "failover_threshold",
            monitor.recovery.failover_threshold.to_string(),
        ),
        parameter("final_action", monitor.recovery.final_action.label()),
    ];
    for (key, value) in monitor.shown_parameters() {
        parameters.push(parameter(&format!("parameter.{key}"), value));
    }
    parameters
}

#[cfg(test)]
mod tests {
    use super::*;
    use clp_core::paths::Paths;

    fn status() -> ClusterStatus {
        let config = clp_core::config::parse_str(
            "[[monitor]]\nname = \"userw\"\ntype = \"userw\"\n[[monitor]]\nname = \"h\"\ntype = \"httpw\"\n[monitor.parameters]\nusername = \"u\"\npassword = \"p\"\n",
            &Paths::new("/nonexistent").scripts_dir(),
        )
        .unwrap();
        let mut status = clp_core::status::offline_status(&config, None);
        status.daemon = DaemonState::Running;
        for monitor in &mut status.monitors {
            monitor.status = MonitorStatus::Normal;
        }
        status
    }

    #[test]
    fn health_is_the_worst_thing_seen() {
        let mut status = status();
        assert_eq!(health(&status), Health::Normal);
        status.monitors[0].status = MonitorStatus::Suspend;
        assert_eq!(health(&status), Health::Caution);
        status.monitors[1].status = MonitorStatus::Error;
        assert_eq!(health(&status), Health::Error);
        let mut stopped = self::status();
        stopped.daemon = DaemonState::Stopped;
        assert_eq!(health(&stopped), Health::Error);
        assert_eq!(Health::Caution.colour(), "yellow");
    }

    #[test]
    fn monitor_parameters_hide_passwords() {
        let config = clp_core::config::parse_str(
            "[[monitor]]\nname = \"h\"\ntype = \"httpw\"\n[monitor.parameters]\nusername = \"u\"\npassword = \"p\"\n",
            &Paths::new("/nonexistent").scripts_dir(),
        )
        .unwrap();
        let parameters = monitor_parameters(&config.monitors[0]);
        let password = parameters
            .iter()
            .find(|p| p.key == "parameter.password")
            .unwrap();
        assert_eq!(password.value, "********");
        assert!(
            parameters
                .iter()
                .any(|p| p.key == "interval" && p.value == "60")
        );
    }
}
