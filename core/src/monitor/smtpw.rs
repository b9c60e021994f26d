//! The smtpw type as the configuration sees it: its spec (defaults, rules), its
//! parameters and its detail codes. The probe that runs the check is
//! `clp_monitors::smtpw`, outside this crate, so validating a configuration links no
//! client.

use super::params::ParamReader;
use super::spec::{DefaultRecovery, MonitorSpec, TargetRule};

/// The smtpw type.
pub static SPEC: MonitorSpec = MonitorSpec {
    kind: "smtpw",
    interval: 60.0,
    timeout: 120.0,
    retry: 2,
    default_comment: "",
    forced_timing: None,
    target_rule: TargetRule::Optional,
    default_recovery: DefaultRecovery::Target,
    check_parameters: |parameters| parse(parameters).1,
};

const KEYS: &[&str] = &["ipaddress", "port"];

/// What an smtpw monitor talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpwParams {
    /// The server's address (or name).
    pub ipaddress: String,
    /// The server's port.
    pub port: u16,
}

/// Reads `[monitor.parameters]`: the values (defaults where a value is bad) and the problems.
pub fn parse(parameters: &toml::Table) -> (SmtpwParams, Vec<String>) {
    let mut reader = ParamReader::new(parameters);
    let (ipaddress, port) = reader.server("SMTP server", 25);
    let problems = reader.finish(KEYS);
    (SmtpwParams { ipaddress, port }, problems)
}
