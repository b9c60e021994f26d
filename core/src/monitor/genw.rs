//! The genw type as the configuration sees it: its spec (defaults, rules), its
//! parameters and its detail codes. The probe that runs the check is
//! `clp_monitors::genw`, outside this crate, so validating a configuration links no
//! client.

use std::time::Duration;

use super::params::ParamReader;
use super::spec::{DefaultRecovery, MonitorSpec, TargetRule};

/// The genw type.
pub static SPEC: MonitorSpec = MonitorSpec {
    kind: "genw",
    interval: 60.0,
    timeout: 120.0,
    retry: 1,
    default_comment: "",
    forced_timing: None,
    target_rule: TargetRule::Optional,
    default_recovery: DefaultRecovery::Target,
    check_parameters: |parameters| parse(parameters).1,
};

const KEYS: &[&str] = &["path", "sync", "normalval", "warningval", "waitmonstart"];

/// Detail code: the sync script exited with a code other than `normalval`.
pub const ABNORMAL_EXIT: u32 = 11;
/// Detail code: a signal killed the sync script.
pub const KILLED: u32 = 12;
/// Detail code: the script could not be started.
pub const CANNOT_START: u32 = 13;
/// Detail code: the async script ended.
pub const ASYNC_ENDED: u32 = 14;
/// Detail code of the warning: the script exited with `warningval`.
pub const WARNING_EXIT: u32 = 15;

/// The parameters of a genw monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenwParams {
    /// The script, as configured (relative to the monitor's script folder, or absolute).
    pub path: String,
    /// Run at every interval (true) or once, kept running (false).
    pub sync: bool,
    /// The exit code that means Normal.
    pub normalval: i32,
    /// The exit code that means Warning.
    pub warningval: Option<i32>,
    /// Async: how long after a start checks do not look at the script.
    pub waitmonstart: Duration,
}

/// Reads the parameters; the problems are empty when they are valid.
pub fn parse(table: &toml::Table) -> (GenwParams, Vec<String>) {
    let mut reader = ParamReader::new(table);
    let path = reader.required_string("path");
    if table.contains_key("path") && path.trim().is_empty() {
        reader.problem("path", "the script path is empty");
    }
    let sync = reader.flag("sync", true);
    let normalval = reader.integer("normalval", 0, 0, 255) as i32;
    let warningval = table
        .contains_key("warningval")
        .then(|| reader.integer("warningval", 0, 0, 255) as i32);
    if let Some(warning) = warningval {
        if warning == normalval {
            reader.problem(
                "warningval",
                format!("{warning} is also normalval; a warning code must differ"),
            );
        }
        if !sync {
            reader.problem(
                "warningval",
                "only a sync script (sync = 1) has exit codes to read",
            );
        }
    }
    let waitmonstart = reader.integer("waitmonstart", 0, 0, 9999) as u64;
    let params = GenwParams {
        path,
        sync,
        normalval,
        warningval,
        waitmonstart: Duration::from_secs(waitmonstart),
    };
    (params, reader.finish(KEYS))
}
