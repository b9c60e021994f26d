//! What a monitor type is, seen from outside it: its defaults, its rules for the
//! configuration, and the settings its probe is built from. The configuration and every type
//! import this file; it imports neither, so the registry can list the types for validation
//! without a circle.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Probe;
use crate::os_action::OsActions;

/// When a monitor checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Timing {
    /// From daemon start to daemon stop.
    Always,
    /// Only while its target resource is active.
    Active,
}

/// What a type's probe is built from: the part of `[[monitor]]` a probe needs.
#[derive(Debug, Clone, Copy)]
pub struct ProbeSettings<'a> {
    /// The monitor's name.
    pub name: &'a str,
    /// Time a check may take.
    pub timeout: Duration,
    /// Further consecutive failures before Error.
    pub retry: u32,
    /// Nice value of check processes.
    pub nice: i32,
    /// Type-specific parameters, already checked by the type's `check_parameters`.
    pub parameters: &'a toml::Table,
    /// The parameters of the target resource (empty without one), already checked by the
    /// resource's type.
    pub target_parameters: &'a toml::Table,
}

/// What a type needs of the monitor's `target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetRule {
    /// Optional (needed for `timing = "active"`).
    Optional,
    /// Required: an exec resource with `mode = "async"`.
    AsyncExecResource,
    /// Required: a fip resource.
    FipResource,
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
pub type BuildProbe = fn(&ProbeSettings<'_>, &OsActions) -> Result<Box<dyn Probe>, String>;

/// Finds the probe constructor of a type name. The probes live in the `clp-monitors` crate,
/// above this one: the daemon hands `clp_monitors::builder` to the engine, so a command that
/// only validates a configuration or reads a status links no database, mail or HTTP client.
pub type FindBuilder = fn(&str) -> Option<BuildProbe>;

/// Everything the engine and the validator need to know of a type, but its probe
/// ([`FindBuilder`]).
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
}

/// Reports every key of `parameters` not in `known` (shared by the types' parameter checks).
pub fn unknown_parameters(parameters: &toml::Table, known: &[&str]) -> Vec<String> {
    parameters
        .keys()
        .filter(|key| !known.contains(&key.as_str()))
        .map(|key| crate::suggest::unknown_key_message(key, known))
        .collect()
}
