//! Shared value conversions: final-action codes and monitor parameter values.

/// Monitor final actions (`emergency/action`, reference §3).
pub(crate) fn monitor_final_action(code: &str) -> Result<&'static str, &'static str> {
    match code {
        "1" => Ok("none"),
        "2" => Ok("stop-group"),
        "3" => Ok("stop-daemon"),
        "4" => Ok("stop-daemon-shutdown"),
        "5" => Ok("stop-daemon-reboot"),
        "8" => Ok("sysrq-panic"),
        "9" => Ok("keepalive-reset"),
        "10" => Ok("keepalive-panic"),
        other => Err(action_name(other)),
    }
}

/// Group-resource final actions (`act/action`, `deact/action`, reference §5).
pub(crate) fn resource_final_action(code: &str) -> Result<&'static str, &'static str> {
    match code {
        "0" => Ok("continue"),
        other => monitor_final_action(other),
    }
}

fn action_name(code: &str) -> &'static str {
    match code {
        "11" => "BMC reset",
        "12" => "BMC power off",
        "13" => "BMC power cycle",
        "14" => "BMC NMI",
        "15" => "I/O fencing",
        "16" => "stop resource",
        _ => "an unknown action",
    }
}

/// Monitor parameters (reference §4) whose values are numbers; every other parameter is
/// carried as text.
const INTEGER_PARAMETERS: &[&str] = &[
    "port",
    "https",
    "requesttype",
    "encrypwd",
    "size",
    "usehb",
    "repopen",
    "repwrite",
    "writesize",
    "mkthread",
    "default",
    "sync",
    "waitmonstart",
    "normalval",
    "waitstop",
    "docreatedrop",
    "ignoreuse",
    "monmethod",
    "level",
    "authority",
    "processnum",
    "monmii",
    "use",
    "timeout",
    "pingtimeout",
    "interval",
];

/// userw options this build does not have; accepted when off (0), the behaviour here.
pub(super) const USERW_DUMMY_OPTIONS: &[&str] = &["repopen", "repwrite", "writesize", "mkthread"];

pub(super) fn parameter_value(tag: &str, text: &str) -> toml::Value {
    if INTEGER_PARAMETERS.contains(&tag)
        && let Ok(number) = text.parse::<i64>()
    {
        return toml::Value::Integer(number);
    }
    toml::Value::String(text.to_string())
}
