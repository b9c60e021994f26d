//! The pop3w type as the configuration sees it: its spec (defaults, rules), its
//! parameters and its detail codes. The probe that runs the check is
//! `clp_monitors::pop3w`, outside this crate, so validating a configuration links no
//! client.

use super::params::{ParamReader, Secret};
use super::spec::{DefaultRecovery, MonitorSpec, TargetRule};

/// The pop3w type.
pub static SPEC: MonitorSpec = MonitorSpec {
    kind: "pop3w",
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
    "authmethod",
    "encrypwd",
];

/// How the monitor logs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// `APOP user digest`: the password never crosses the network.
    Apop,
    /// `USER user`, then `PASS password`.
    UserPass,
}

impl AuthMethod {
    /// The value of `authmethod`.
    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::Apop => "APOP",
            AuthMethod::UserPass => "USER/PASS",
        }
    }
}

/// What a pop3w monitor talks to, and as whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pop3wParams {
    /// The server's address (or name).
    pub ipaddress: String,
    /// The server's port.
    pub port: u16,
    /// The user to log in as; empty: no login.
    pub username: String,
    /// The user's password.
    pub password: Secret,
    /// How to log in.
    pub authmethod: AuthMethod,
}

/// Reads `[monitor.parameters]`: the values (defaults where a value is bad) and the problems.
pub fn parse(parameters: &toml::Table) -> (Pop3wParams, Vec<String>) {
    let mut reader = ParamReader::new(parameters);
    let (ipaddress, port) = reader.server("POP3 server", 110);
    let (username, password) = reader.line_credentials();
    let authmethod = match reader
        .choice("authmethod", "APOP", &["APOP", "USER/PASS"])
        .as_str()
    {
        "USER/PASS" => AuthMethod::UserPass,
        _ => AuthMethod::Apop,
    };
    if authmethod == AuthMethod::Apop && username.contains(char::is_whitespace) {
        reader.problem(
            "username",
            "APOP takes a user name without spaces; use authmethod = \"USER/PASS\"",
        );
    }
    reader.refuse_encrypted_password();
    let problems = reader.finish(KEYS);
    let params = Pop3wParams {
        ipaddress,
        port,
        username,
        password: password.into(),
        authmethod,
    };
    (params, problems)
}
