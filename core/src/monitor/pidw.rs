//! The pidw type as the configuration sees it: its spec (defaults, rules), its
//! parameters and its detail codes. The probe that runs the check is
//! `clp_monitors::pidw`, outside this crate, so validating a configuration links no
//! client.

use super::spec::{DefaultRecovery, MonitorSpec, TargetRule, Timing, unknown_parameters};

/// The pidw type.
pub static SPEC: MonitorSpec = MonitorSpec {
    kind: "pidw",
    interval: 5.0,
    timeout: 60.0,
    retry: 0,
    default_comment: "",
    forced_timing: Some(Timing::Active),
    target_rule: TargetRule::AsyncExecResource,
    default_recovery: DefaultRecovery::Target,
    check_parameters: |parameters| unknown_parameters(parameters, &[]),
};

/// The original's detail code for "process not found".
pub const PROCESS_GONE: u32 = 11;
