//! The mysqlw type as the configuration sees it: its spec (defaults, rules), its
//! parameters and its detail codes. The probe that runs the check is
//! `clp_monitors::mysqlw`, outside this crate, so validating a configuration links no
//! client.

use super::database::{is_sql_name, read_level};
use super::params::{ParamReader, Secret};
use super::spec::{DefaultRecovery, MonitorSpec, TargetRule};

/// The mysqlw type.
pub static SPEC: MonitorSpec = MonitorSpec {
    kind: "mysqlw",
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
    "engine",
    "libraryfullpath",
    "encrypwd",
];

pub use super::database::{CONNECT_FAILED, SESSION_REFUSED, STATEMENT_FAILED, WRONG_VALUE};

pub use super::database::Level;

/// The storage engine of the tables mysqlw creates (`engine`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// `InnoDB` (the default): transactional.
    InnoDb,
    /// `MyISAM`.
    MyIsam,
}

impl Engine {
    /// The engine's name in SQL.
    pub fn sql(self) -> &'static str {
        match self {
            Engine::InnoDb => "InnoDB",
            Engine::MyIsam => "MyISAM",
        }
    }
}

/// What a mysqlw monitor talks to, as whom, and what it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MysqlwParams {
    /// The server's address (or name).
    pub ipaddress: String,
    /// The server's port.
    pub port: u16,
    /// The database.
    pub database: String,
    /// The account to log in as.
    pub username: String,
    /// The account's password; empty: none.
    pub password: Secret,
    /// The watch table, as written in the configuration (`table` or `database.table`).
    pub table: String,
    /// The statements of each check.
    pub level: Level,
    /// The storage engine of the tables the checks create.
    pub engine: Engine,
}

/// Reads `[monitor.parameters]`: the values (defaults where a value is bad) and the problems.
pub fn parse(parameters: &toml::Table) -> (MysqlwParams, Vec<String>) {
    let mut reader = ParamReader::new(parameters);
    let (ipaddress, port) = reader.server("MySQL server", 3306);
    let database = reader.required_string("database");
    if parameters.contains_key("database") && database.is_empty() {
        reader.problem("database", "is empty; name the database to watch");
    }
    let username = reader.required_string("username");
    if parameters.contains_key("username") && username.is_empty() {
        reader.problem("username", "is empty; name the account to log in as");
    }
    let password = reader.string("password", "");
    let table = reader.string("table", "mysqlwatch");
    if !is_sql_name(&table, 64) {
        reader.problem(
            "table",
            format!(
                "\"{table}\" is not a table name (letters, digits, _ and $, not starting with a digit, at most 64 characters; optionally database.table)"
            ),
        );
    }
    let level = read_level(&mut reader, "mysqlw");
    let engine_name = reader.string("engine", "InnoDB");
    let engine = if engine_name.eq_ignore_ascii_case("innodb") {
        Engine::InnoDb
    } else if engine_name.eq_ignore_ascii_case("myisam") {
        Engine::MyIsam
    } else {
        reader.problem(
            "engine",
            format!(
                "\"{engine_name}\" is not a storage engine mysqlw creates tables with; use \"InnoDB\" or \"MyISAM\""
            ),
        );
        Engine::InnoDb
    };
    let _ = reader.string("libraryfullpath", "");
    reader.refuse_encrypted_password();
    let problems = reader.finish(KEYS);
    let params = MysqlwParams {
        ipaddress,
        port,
        database,
        username,
        password: password.into(),
        table,
        level,
        engine,
    };
    (params, problems)
}
