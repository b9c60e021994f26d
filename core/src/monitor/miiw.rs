//! The miiw type as the configuration sees it: its spec (defaults, rules), its
//! parameters and its detail codes. The probe that runs the check is
//! `clp_monitors::miiw`, outside this crate, so validating a configuration links no
//! client.

use super::params::ParamReader;
use super::spec::{DefaultRecovery, MonitorSpec, TargetRule};

/// The miiw type.
pub static SPEC: MonitorSpec = MonitorSpec {
    kind: "miiw",
    interval: 10.0,
    timeout: 60.0,
    retry: 3,
    default_comment: "",
    forced_timing: None,
    target_rule: TargetRule::Optional,
    default_recovery: DefaultRecovery::Target,
    check_parameters: |parameters| parse(parameters).1,
};

const KEYS: &[&str] = &["object"];

/// Detail code: the link is down (administratively, no carrier, or not operational).
pub const LINK_DOWN: u32 = 1;
/// Detail code: the interface does not exist.
pub const NOT_FOUND: u32 = 2;
/// Detail code: the interface's state could not be read.
pub const UNREADABLE: u32 = 3;
/// Warning code: the link went down and came back between two checks.
pub const LINK_FLAPPED: u32 = 4;

/// miiw's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MiiwParams {
    /// The interface name.
    pub object: String,
}

/// Reads miiw's parameters; returns them with one message per problem.
pub fn parse(parameters: &toml::Table) -> (MiiwParams, Vec<String>) {
    let mut reader = ParamReader::new(parameters);
    let object = reader.required_string("object");
    if parameters.contains_key("object")
        && let Err(why) = check_interface_name(&object)
    {
        reader.problem("object", why);
    }
    (MiiwParams { object }, reader.finish(KEYS))
}

/// The kernel's rule for interface names (`dev_valid_name`).
pub(crate) fn check_interface_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("an interface name cannot be empty".into());
    }
    if name.len() > 15 {
        return Err(format!(
            "\"{name}\" is longer than the 15 bytes of an interface name"
        ));
    }
    if name == "."
        || name == ".."
        || name.contains(['/', ':'])
        || name.contains(char::is_whitespace)
    {
        return Err(format!(
            "\"{name}\" is not an interface name (no '/', ':', blanks, \".\" or \"..\")"
        ));
    }
    Ok(())
}
