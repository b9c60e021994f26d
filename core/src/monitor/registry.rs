//! The monitor types this build knows: type name → defaults, parameter check, constructor.

use super::Probe;
use crate::config::{MonitorConfig, Timing};
use crate::os_action::OsActions;

/// What a type needs of the monitor's `target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetRule {
    /// Optional (needed for `timing = "active"`).
    Optional,
    /// Required: an exec resource with `mode = "async"`.
    AsyncExecResource,
}

/// The recovery target when `[monitor.recovery] target` is not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultRecovery {
    /// The monitor's target resource (the local server when it has none).
    Target,
    /// The local server.
    LocalServer,
}

/// Builds the probe of a validated monitor, or says why it cannot run.
pub type BuildProbe = fn(&MonitorConfig, &OsActions) -> Result<Box<dyn Probe>, String>;

/// Everything the engine and the validator need to know of a type.
#[derive(Debug)]
pub struct MonitorSpec {
    /// The type name in `clp.conf`.
    pub kind: &'static str,
    /// Default interval, seconds.
    pub interval: f64,
    /// Default timeout, seconds.
    pub timeout: f64,
    /// Default retry count.
    pub retry: u32,
    /// The comment shown when the configuration gives none.
    pub default_comment: &'static str,
    /// A timing the type always has.
    pub forced_timing: Option<Timing>,
    /// What the type needs of `target`.
    pub target_rule: TargetRule,
    /// The default recovery target.
    pub default_recovery: DefaultRecovery,
    /// Checks `[monitor.parameters]`; returns one message per problem.
    pub check_parameters: fn(&toml::Table) -> Vec<String>,
    /// Builds the probe of a validated monitor.
    pub build: BuildProbe,
}

/// Every type, one line each.
static SPECS: &[&MonitorSpec] = &[
    &super::pidw::SPEC,
    &super::userw::SPEC,
    &super::httpw::SPEC,
    &super::tcpw::SPEC,
    &super::ipw::SPEC,
    &super::miiw::SPEC,
    &super::genw::SPEC,
    &super::psw::SPEC,
    &super::diskw::SPEC,
    &super::smtpw::SPEC,
    &super::ftpw::SPEC,
    &super::imap4w::SPEC,
    &super::pop3w::SPEC,
    &super::psqlw::SPEC,
    &super::mysqlw::SPEC,
];

/// The spec of a type name.
pub fn spec(kind: &str) -> Option<&'static MonitorSpec> {
    SPECS.iter().copied().find(|spec| spec.kind == kind)
}

/// The known type names.
pub fn kinds() -> Vec<&'static str> {
    SPECS.iter().map(|spec| spec.kind).collect()
}

/// Reports every key of `parameters` not in `known` (shared by the types' parameter checks).
pub fn unknown_parameters(parameters: &toml::Table, known: &[&str]) -> Vec<String> {
    parameters
        .keys()
        .filter(|key| !known.contains(&key.as_str()))
        .map(|key| crate::config::unknown_key_message(key, known))
        .collect()
}
