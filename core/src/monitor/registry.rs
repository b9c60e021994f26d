//! The monitor types this build knows: type name → [`MonitorSpec`] (defaults, parameter
//! check, constructor).

use super::spec::MonitorSpec;

/// Every type, one line each.
static SPECS: &[&MonitorSpec] = &[
    &super::pidw::SPEC,
    &super::userw::SPEC,
    &super::httpw::SPEC,
    &super::tcpw::SPEC,
    &super::ipw::SPEC,
    &super::miiw::SPEC,
    &super::fipw::SPEC,
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
