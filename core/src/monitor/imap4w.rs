//! The imap4w type as the configuration sees it: its spec (defaults, rules), its
//! parameters and its detail codes. The probe that runs the check is
//! `clp_monitors::imap4w`, outside this crate, so validating a configuration links no
//! client.

use super::params::{ParamReader, Secret};
use super::spec::{DefaultRecovery, MonitorSpec, TargetRule};

/// The imap4w type.
pub static SPEC: MonitorSpec = MonitorSpec {
    kind: "imap4w",
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
    /// `AUTHENTICATE LOGIN`: user and password base64-encoded, one per server prompt.
    AuthenticateLogin,
    /// `LOGIN user password`, both as IMAP strings.
    Login,
    /// `AUTHENTICATE PLAIN`: one base64 message of user and password (RFC 4616).
    AuthenticatePlain,
}

impl AuthMethod {
    const ALL: [AuthMethod; 3] = [
        AuthMethod::AuthenticateLogin,
        AuthMethod::Login,
        AuthMethod::AuthenticatePlain,
    ];

    /// The value of `authmethod`, also the command as a detail shows it.
    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::AuthenticateLogin => "AUTHENTICATE LOGIN",
            AuthMethod::Login => "LOGIN",
            AuthMethod::AuthenticatePlain => "AUTHENTICATE PLAIN",
        }
    }

    /// The SASL mechanism of an AUTHENTICATE method.
    pub fn mechanism(self) -> Option<&'static str> {
        match self {
            AuthMethod::AuthenticateLogin => Some("LOGIN"),
            AuthMethod::Login => None,
            AuthMethod::AuthenticatePlain => Some("PLAIN"),
        }
    }
}

/// What an imap4w monitor talks to, and as whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imap4wParams {
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
pub fn parse(parameters: &toml::Table) -> (Imap4wParams, Vec<String>) {
    let mut reader = ParamReader::new(parameters);
    let (ipaddress, port) = reader.server("IMAP server", 143);
    let (username, password) = reader.line_credentials();
    let names = AuthMethod::ALL.map(AuthMethod::name);
    let chosen = reader.choice("authmethod", AuthMethod::AuthenticateLogin.name(), &names);
    let authmethod = AuthMethod::ALL
        .into_iter()
        .find(|method| method.name() == chosen)
        .unwrap_or(AuthMethod::AuthenticateLogin);
    reader.refuse_encrypted_password();
    let problems = reader.finish(KEYS);
    let params = Imap4wParams {
        ipaddress,
        port,
        username,
        password: password.into(),
        authmethod,
    };
    (params, problems)
}
