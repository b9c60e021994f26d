//! The httpw type as the configuration sees it: its spec (defaults, rules), its
//! parameters and its detail codes. The probe that runs the check is
//! `clp_monitors::httpw`, outside this crate, so validating a configuration links no
//! client.

use std::path::PathBuf;

use rustls::pki_types::ServerName;

use super::params::{ParamReader, Secret};
use super::spec::{DefaultRecovery, MonitorSpec, TargetRule};

/// The httpw type.
pub static SPEC: MonitorSpec = MonitorSpec {
    kind: "httpw",
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
    "servername",
    "port",
    "requesturi",
    "https",
    "requesttype",
    "username",
    "password",
    "errorstatus",
    "verifycert",
    "cafile",
];

/// Detail code: the server name does not resolve.
pub const NAME_RESOLUTION: u32 = 1;
/// Detail code: no TCP connection (refused, unreachable).
pub const CONNECTION_FAILED: u32 = 2;
/// Detail code: the TLS handshake failed (certificate, name, protocol).
pub const TLS_FAILED: u32 = 3;
/// Detail code: the server answered a status at or above `errorstatus`.
pub const ERROR_STATUS: u32 = 4;
/// Detail code: the answer was not a valid HTTP response (closed early, malformed).
pub const PROTOCOL_ERROR: u32 = 5;

/// The request method (`requesttype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestType {
    /// `HEAD` (the original's 0, the default).
    Head,
    /// `GET` (the original's 1).
    Get,
}

impl RequestType {
    /// The request method: `HEAD` or `GET`.
    pub fn method(self) -> &'static str {
        match self {
            RequestType::Head => "HEAD",
            RequestType::Get => "GET",
        }
    }
}

/// The parameters of an httpw monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpwParams {
    /// Host name or IP address.
    pub servername: String,
    /// TCP port.
    pub port: u16,
    /// The request target.
    pub requesturi: String,
    /// HTTPS instead of HTTP.
    pub https: bool,
    /// HEAD or GET.
    pub requesttype: RequestType,
    /// Basic authentication user, when given.
    pub username: Option<String>,
    /// Basic authentication password.
    pub password: Secret,
    /// The lowest status that is a fault.
    pub errorstatus: u16,
    /// HTTPS: verify the certificate.
    pub verifycert: bool,
    /// HTTPS: the CA certificates to trust instead of the system's.
    pub cafile: Option<PathBuf>,
}

/// Reads the parameters of an httpw monitor; the second value lists every problem.
pub fn parse(table: &toml::Table) -> (HttpwParams, Vec<String>) {
    let mut reader = ParamReader::new(table);
    let servername = reader.string("servername", "localhost");
    if servername.is_empty()
        || !servername
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._:".contains(c))
    {
        reader.problem(
            "servername",
            format!("\"{servername}\" is not a host name or an IP address"),
        );
    }
    let https = reader.flag("https", false);
    let default_port = if https { 443 } else { 80 };
    let port = reader.integer("port", default_port, 1, 65535) as u16;
    let requesturi = reader.string("requesturi", "/");
    if !requesturi.starts_with('/') || !requesturi.chars().all(|c| c.is_ascii_graphic()) {
        reader.problem(
            "requesturi",
            format!("\"{requesturi}\" must start with \"/\" and hold only visible ASCII characters (percent-encode the others)"),
        );
    }
    let requesttype = match table.get("requesttype") {
        None | Some(toml::Value::Integer(0)) => RequestType::Head,
        Some(toml::Value::Integer(1)) => RequestType::Get,
        Some(toml::Value::String(name)) if name.eq_ignore_ascii_case("HEAD") => RequestType::Head,
        Some(toml::Value::String(name)) if name.eq_ignore_ascii_case("GET") => RequestType::Get,
        Some(other) => {
            reader.problem(
                "requesttype",
                format!("{other} is not 0/\"HEAD\" or 1/\"GET\""),
            );
            RequestType::Head
        }
    };
    let username = reader.string("username", "");
    let password = reader.string("password", "");
    if username.contains(':') {
        reader.problem(
            "username",
            "a Basic authentication user name cannot hold \":\"",
        );
    }
    if username
        .chars()
        .chain(password.chars())
        .any(char::is_control)
    {
        reader.problem("username", "the credentials hold control characters");
    }
    if username.is_empty() && !password.is_empty() {
        reader.problem("password", "is given without \"username\"");
    }
    let errorstatus = reader.integer("errorstatus", 400, 201, 1000) as u16;
    let verifycert = reader.flag("verifycert", true);
    let cafile = table
        .contains_key("cafile")
        .then(|| PathBuf::from(reader.string("cafile", "")));
    if let Some(path) = &cafile {
        if table.get("cafile").is_some_and(toml::Value::is_str) && !path.is_absolute() {
            reader.problem(
                "cafile",
                format!("\"{}\" is not an absolute path", path.display()),
            );
        }
        if !https || !verifycert {
            reader.problem(
                "cafile",
                "is used only with https = 1 and verifycert = 1; remove it or turn them on",
            );
        }
    }
    if https && ServerName::try_from(servername.as_str()).is_err() {
        reader.problem(
            "servername",
            format!("\"{servername}\" is not a name a certificate can carry"),
        );
    }
    let params = HttpwParams {
        servername,
        port,
        requesturi,
        https,
        requesttype,
        username: (!username.is_empty()).then_some(username),
        password: password.into(),
        errorstatus,
        verifycert,
        cafile,
    };
    (params, reader.finish(KEYS))
}
