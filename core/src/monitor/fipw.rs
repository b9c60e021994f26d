//! The fipw type as the configuration sees it: its spec (defaults, rules), its parameters
//! and its detail codes. The probe is `clp_monitors::fipw`. A fipw watches one fip resource
//! (its `target`) and runs only while that resource is active, so in an HA cluster it runs
//! where the fip's group runs.

use super::params::ParamReader;
use super::spec::{DefaultRecovery, MonitorSpec, TargetRule, Timing};

/// The fipw type.
pub static SPEC: MonitorSpec = MonitorSpec {
    kind: "fipw",
    interval: 60.0,
    timeout: 180.0,
    retry: 1,
    default_comment: "",
    forced_timing: Some(Timing::Active),
    target_rule: TargetRule::FipResource,
    default_recovery: DefaultRecovery::Target,
    check_parameters: |parameters| parse(parameters).1,
};

const KEYS: &[&str] = &["monmii"];

/// Detail code: the floating address is on no interface.
pub const MISSING: u32 = 1;
/// Detail code: the interface's link is down (with `monmii`).
pub const LINK_DOWN: u32 = 2;
/// Detail code: the interfaces could not be read.
pub const UNREADABLE: u32 = 3;
/// Detail code: the address is on another interface than the one configured.
pub const OTHER_INTERFACE: u32 = 4;

/// fipw's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FipwParams {
    /// Also check the interface's link (the original's `parameters/monmii`).
    pub monmii: bool,
}

/// Reads fipw's parameters; returns them with one message per problem.
pub fn parse(parameters: &toml::Table) -> (FipwParams, Vec<String>) {
    let mut reader = ParamReader::new(parameters);
    let monmii = reader.flag("monmii", false);
    (FipwParams { monmii }, reader.finish(KEYS))
}
