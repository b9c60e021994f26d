//! The userw type as the configuration sees it: its spec (defaults, rules), its
//! parameters and its detail codes. The probe that runs the check is
//! `clp_monitors::userw`, outside this crate, so validating a configuration links no
//! client.

use super::spec::{DefaultRecovery, MonitorSpec, TargetRule, unknown_parameters};

/// The userw type.
pub static SPEC: MonitorSpec = MonitorSpec {
    kind: "userw",
    interval: 3.0,
    timeout: 90.0,
    retry: 0,
    default_comment: "",
    forced_timing: None,
    target_rule: TargetRule::Optional,
    default_recovery: DefaultRecovery::LocalServer,
    check_parameters,
};

const KEYS: &[&str] = &["method", "action", "usehb"];
const METHODS: &[&str] = &["none", "softdog", "keepalive"];

/// The detail code of a stall.
pub const STALL: u32 = 1;

fn check_parameters(parameters: &toml::Table) -> Vec<String> {
    let mut problems = unknown_parameters(parameters, KEYS);
    match parameters.get("method") {
        None => {}
        Some(toml::Value::String(method)) if METHODS.contains(&method.as_str()) => {}
        Some(toml::Value::String(method)) if method == "ipmi" => problems.push(
            "key \"method\": \"ipmi\" is not supported by this version; use \"softdog\", \"keepalive\" or \"none\"".into(),
        ),
        Some(other) => problems.push(format!(
            "key \"method\": {other} is not a method; use one of {}",
            METHODS.join(", ")
        )),
    }
    match parameters.get("action") {
        None => {}
        Some(toml::Value::String(action)) if action == "RESET" || action == "PANIC" => {}
        Some(other) => problems.push(format!(
            "key \"action\": {other} is not an action; use \"RESET\" or \"PANIC\""
        )),
    }
    match parameters.get("usehb") {
        None | Some(toml::Value::Boolean(_)) => {}
        Some(toml::Value::Integer(0 | 1)) => {}
        Some(other) => problems.push(format!("key \"usehb\": {other} is not 0 or 1")),
    }
    problems
}
