//! The converted configuration, before it is written as TOML.

// ---------------------------------------------------------------------------------------
// The converted configuration

#[derive(Debug, Default)]
pub(super) struct Model {
    pub(super) server: Option<String>,
    pub(super) server_comment: Option<String>,
    pub(super) cluster_name: Option<String>,
    pub(super) cluster_comment: Option<String>,
    pub(super) language: Option<&'static str>,
    pub(super) disable_monitor_recovery: Option<bool>,
    pub(super) webmanager_allow: Vec<String>,
    pub(super) groups: Vec<OutGroup>,
    pub(super) monitors: Vec<OutMonitor>,
}

#[derive(Debug, Default)]
pub(super) struct OutGroup {
    pub(super) name: String,
    pub(super) comment: Option<String>,
    pub(super) auto_start: Option<bool>,
    pub(super) resources: Vec<OutResource>,
}

#[derive(Debug, Default)]
pub(super) struct OutPolicy {
    pub(super) retry: Option<i64>,
    pub(super) failover_threshold: Option<i64>,
    pub(super) final_action: Option<&'static str>,
}

impl OutPolicy {
    pub(super) fn is_empty(&self) -> bool {
        self.retry.is_none() && self.failover_threshold.is_none() && self.final_action.is_none()
    }
}

#[derive(Debug, Default)]
pub(super) struct OutResource {
    pub(super) name: String,
    /// `exec` (also when empty) or `fip`.
    pub(super) kind: &'static str,
    /// Type-specific parameters (a fip's `ip`).
    pub(super) parameters: toml::Table,
    pub(super) comment: Option<String>,
    pub(super) start: Option<String>,
    pub(super) stop: Option<String>,
    pub(super) mode: Option<&'static str>,
    pub(super) timeout: Option<i64>,
    pub(super) stop_timeout: Option<i64>,
    pub(super) depends_on: Vec<String>,
    pub(super) activation: OutPolicy,
    pub(super) deactivation: OutPolicy,
}

#[derive(Debug, Default)]
pub(super) struct OutRecovery {
    pub(super) target: Option<String>,
    pub(super) reactivation_threshold: Option<i64>,
    pub(super) failover_threshold: Option<i64>,
    pub(super) final_action: Option<&'static str>,
}

#[derive(Debug, Default)]
pub(super) struct OutMonitor {
    pub(super) name: String,
    pub(super) kind: String,
    pub(super) comment: Option<String>,
    pub(super) target: Option<String>,
    pub(super) interval: Option<i64>,
    pub(super) timeout: Option<i64>,
    pub(super) retry: Option<i64>,
    pub(super) wait_before_start: Option<i64>,
    pub(super) timing: Option<&'static str>,
    pub(super) parameters: toml::Table,
    pub(super) recovery: OutRecovery,
}
