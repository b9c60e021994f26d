//! The psqlw type as the configuration sees it: its spec (defaults, rules), its
//! parameters and its detail codes. The probe that runs the check is
//! `clp_monitors::psqlw`, outside this crate, so validating a configuration links no
//! client.

use super::database::{is_sql_name, read_level};
use super::params::{ParamReader, Secret};
use super::spec::{DefaultRecovery, MonitorSpec, TargetRule};

/// The psqlw type.
pub static SPEC: MonitorSpec = MonitorSpec {
    kind: "psqlw",
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
    "database",
    "username",
    "password",
    "table",
    "docreatedrop",
    "libraryfullpath",
    "encrypwd",
];

pub use super::database::{CONNECT_FAILED, SESSION_REFUSED, STATEMENT_FAILED, WRONG_VALUE};

pub use super::database::Level;

/// What a psqlw monitor talks to, as whom, and what it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PsqlwParams {
    /// The server's address (or name).
    pub ipaddress: String,
    /// The server's port.
    pub port: u16,
    /// The database.
    pub database: String,
    /// The role to log in as.
    pub username: String,
    /// The role's password; empty: none.
    pub password: Secret,
    /// The watch table, as written in SQL.
    pub table: String,
    /// The statements of each check.
    pub level: Level,
}

/// Reads `[monitor.parameters]`: the values (defaults where a value is bad) and the problems.
pub fn parse(parameters: &toml::Table) -> (PsqlwParams, Vec<String>) {
    let mut reader = ParamReader::new(parameters);
    let (ipaddress, port) = reader.server("PostgreSQL server", 5432);
    let database = reader.required_string("database");
    if parameters.contains_key("database") && database.is_empty() {
        reader.problem("database", "is empty; name the database to watch");
    }
    let username = reader.string("username", "postgres");
    if username.is_empty() {
        reader.problem("username", "is empty; name the role to log in as");
    }
    let password = reader.string("password", "");
    let table = reader.string("table", "psqlwatch");
    if !is_sql_name(&table, 63) {
        reader.problem(
            "table",
            format!(
                "\"{table}\" is not a table name (letters, digits, _ and $, not starting with a digit, at most 63 characters; optionally schema.table)"
            ),
        );
    }
    let level = read_level(&mut reader, "psqlw");
    let _ = reader.string("libraryfullpath", "");
    reader.refuse_encrypted_password();
    let problems = reader.finish(KEYS);
    let params = PsqlwParams {
        ipaddress,
        port,
        database,
        username,
        password: password.into(),
        table: table.to_ascii_lowercase(),
        level,
    };
    (params, problems)
}
