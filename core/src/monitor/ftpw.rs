//! The ftpw type as the configuration sees it: its spec (defaults, rules), its
//! parameters and its detail codes. The probe that runs the check is
//! `clp_monitors::ftpw`, outside this crate, so validating a configuration links no
//! client.

use super::params::{ParamReader, Secret};
use super::spec::{DefaultRecovery, MonitorSpec, TargetRule};

/// The ftpw type.
pub static SPEC: MonitorSpec = MonitorSpec {
    kind: "ftpw",
    interval: 60.0,
    timeout: 120.0,
    retry: 2,
    default_comment: "",
    forced_timing: None,
    target_rule: TargetRule::Optional,
    default_recovery: DefaultRecovery::Target,
    check_parameters: |parameters| parse(parameters).1,
};

const KEYS: &[&str] = &[
    "ipaddress",
    "port",
    "username",
    "password",
    "protocol",
    "encrypwd",
];

/// What an ftpw monitor talks to, and as whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FtpwParams {
    /// The server's address (or name).
    pub ipaddress: String,
    /// The server's control port.
    pub port: u16,
    /// The user to log in as; empty: no login.
    pub username: String,
    /// The user's password.
    pub password: Secret,
}

/// Reads `[monitor.parameters]`: the values (defaults where a value is bad) and the problems.
pub fn parse(parameters: &toml::Table) -> (FtpwParams, Vec<String>) {
    let mut reader = ParamReader::new(parameters);
    let (ipaddress, port) = reader.server("FTP server", 21);
    let username = reader.string("username", "");
    let password = reader.string("password", "");
    for (key, value) in [("username", &username), ("password", &password)] {
        if value.contains(['\r', '\n']) {
            reader.problem(key, "must not contain a line break");
        }
    }
    if reader.integer("protocol", 0, 0, 1) == 1 {
        reader.problem(
            "protocol",
            "1 (FTPS) is not supported by this version; use 0 (FTP)",
        );
    }
    reader.refuse_encrypted_password();
    let problems = reader.finish(KEYS);
    let params = FtpwParams {
        ipaddress,
        port,
        username,
        password: password.into(),
    };
    (params, problems)
}
