//! `psqlw`: a PostgreSQL database accepts a session and runs the monitor's statements.
//!
//! Each check opens a session (the wire protocol, spoken natively: no libpq; no TLS, as
//! the original talks to a local server) as `username` to `database`, runs the statements
//! of the monitor level on the watch table `table`, checks what it reads back and closes
//! the session (named `clp <monitor name>` for the server's `application_name`, so
//! `pg_stat_activity` and the server's log say which monitor it is). The levels are the original's `docreatedrop` values:
//! - `3` (select): `SELECT num FROM table`. The table must exist (create it once, or run
//!   level 0 once); reading it is all this level does, so it suits a read-only user.
//! - `0` (update/select, the default): `UPDATE table SET num = N`, inserting the row when
//!   the table is empty, then `SELECT num FROM table` must give back N, all in one
//!   transaction. A missing table is created (`num integer NOT NULL PRIMARY KEY`, the
//!   original's layout) by the first check.
//! - `1` (create/drop each time): `CREATE TABLE table`, `INSERT N`, `SELECT`, `DROP TABLE`
//!   in one transaction (an existing table of that name is a fault, never dropped).
//!
//! A session the server refuses (wrong password, missing database, server starting up) is
//! a fault whose detail is the server's own message; a server that does not answer is
//! abandoned by the engine at the monitor's timeout (detail code 99), and the session goes
//! with the dropped check.
//!
//! Parameters (the original's names, reference §4): `ipaddress` (`127.0.0.1`), `port`
//! (5432), `database` (required: the original has no default either), `username`
//! (`postgres`), `password` (empty: none is sent), `table` (`psqlwatch`; a plain or
//! schema-qualified SQL name, folded to lower case as the server does), `docreatedrop`
//! (0), `libraryfullpath` (accepted for an original configuration and unused: no client
//! library is loaded), `encrypwd` (0; 1 = a clpencrypt'ed password, refused by this
//! version). The original's `ignoreuse` is not supported. Defaults interval 60 s, timeout
//! 120 s, retry 2 are the reference's recalled values for the database monitors (\[M\]).
//!
//! Detail codes (ours; the original's are not documented): 1 cannot reach the server,
//! 2 the server refused the session, 3 a statement failed, 4 the value read back is not the
//! one written.

use clp_core::monitor::params::valid;
use clp_core::monitor::psqlw::*;
use clp_core::monitor::spec::ProbeSettings;
use clp_core::monitor::{CheckFuture, CheckOutcome, Probe, ProbeContext};
use clp_core::os_action::OsActions;
use std::fmt::Write as _;
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

/// Builds the probe of a validated monitor ([`clp_core::monitor::spec::BuildProbe`]).
pub fn build(config: &ProbeSettings<'_>, _: &OsActions) -> Result<Box<dyn Probe>, String> {
    let params = valid(parse(config.parameters))?;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0);
    Ok(Box::new(Psqlw {
        params,
        application_name: format!("clp {}", config.name),
        written: (seed % 1_000_000) as u32 * 1000,
    }))
}

/// The psqlw probe.
#[derive(Debug)]
pub struct Psqlw {
    params: PsqlwParams,
    /// `clp <monitor name>`: the session's name in `pg_stat_activity` and the server's log.
    application_name: String,
    /// The last value written (levels 0 and 1 write the next one).
    written: u32,
}

/// A failed check.
struct Failure {
    code: u32,
    detail: String,
}

impl Probe for Psqlw {
    fn check(&mut self, _: ProbeContext) -> CheckFuture<'_> {
        self.written = (self.written + 1) % 1_000_000_000;
        let value = self.written;
        Box::pin(async move {
            match session(&self.params, &self.application_name, value).await {
                Ok(()) => CheckOutcome::Normal,
                Err(Failure { code, detail }) => CheckOutcome::Failure { code, detail },
            }
        })
    }
}

/// One session: connect, run the level's statements, close.
async fn session(params: &PsqlwParams, application_name: &str, value: u32) -> Result<(), Failure> {
    let mut config = tokio_postgres::Config::new();
    config
        .host(&params.ipaddress)
        .port(params.port)
        .dbname(&params.database)
        .user(&params.username)
        .application_name(application_name);
    if !params.password.is_empty() {
        config.password(params.password.as_bytes());
    }
    let server = format!("{}:{}", params.ipaddress, params.port);
    let (client, connection) = config.connect(NoTls).await.map_err(|error| {
        let code = if error.as_db_error().is_some() {
            SESSION_REFUSED
        } else {
            CONNECT_FAILED
        };
        Failure {
            code,
            detail: format!(
                "Connecting to database \"{}\" at {server} as \"{}\" failed: {}.",
                params.database,
                params.username,
                describe(&error)
            ),
        }
    })?;
    // The connection is driven here, not by a spawned task: when the engine abandons the
    // check, dropping this future closes the socket.
    tokio::pin!(connection);
    let outcome = tokio::select! {
        outcome = statements(&client, params, value) => outcome,
        ended = &mut connection => Err(Failure {
            code: STATEMENT_FAILED,
            detail: match ended {
                Ok(()) => format!("{server} closed the session."),
                Err(error) => format!("The session with {server} broke: {}.", describe(&error)),
            },
        }),
    };
    // A polite end (Terminate), so the server does not log an unexpected EOF.
    drop(client);
    let _ = connection.await;
    outcome
}

/// The statements of the monitor's level.
async fn statements(client: &Client, params: &PsqlwParams, value: u32) -> Result<(), Failure> {
    let table = &params.table;
    match params.level {
        Level::Select => {
            run(client, "SELECT", &format!("SELECT num FROM {table}"))
                .await
                .map_err(|failure| {
                    if failure.missing_table {
                        Failure {
                            code: STATEMENT_FAILED,
                            detail: format!(
                                "{}; monitor level 3 only reads the table: create it, or run level 0 once, which does.",
                                failure.detail
                            ),
                        }
                    } else {
                        failure.into()
                    }
                })?;
            Ok(())
        }
        Level::UpdateSelect => {
            // One simple query is one transaction: the SELECT sees this UPDATE, whatever
            // another monitor of the same table does meanwhile.
            let update = format!(
                "UPDATE {table} SET num = {value}; \
                 INSERT INTO {table} (num) SELECT {value} WHERE NOT EXISTS (SELECT 1 FROM {table}); \
                 SELECT num FROM {table}"
            );
            let rows = match run(client, "UPDATE/SELECT", &update).await {
                Err(failure) if failure.missing_table => {
                    run(
                        client,
                        "CREATE TABLE",
                        &format!(
                            "CREATE TABLE IF NOT EXISTS {table} (num integer NOT NULL PRIMARY KEY)"
                        ),
                    )
                    .await
                    .map_err(Failure::from)?;
                    run(client, "UPDATE/SELECT", &update)
                        .await
                        .map_err(Failure::from)?
                }
                other => other.map_err(Failure::from)?,
            };
            read_back(&rows, value, table)
        }
        Level::CreateDrop => {
            let rows = run(
                client,
                "CREATE/INSERT/SELECT/DROP",
                &format!(
                    "CREATE TABLE {table} (num integer NOT NULL PRIMARY KEY); \
                     INSERT INTO {table} (num) VALUES ({value}); \
                     SELECT num FROM {table}; \
                     DROP TABLE {table}"
                ),
            )
            .await
            .map_err(Failure::from)?;
            read_back(&rows, value, table)
        }
    }
}

/// A statement's failure, and whether it was a missing table.
struct StatementFailure {
    /// What failed and the server's message, without a full stop.
    detail: String,
    missing_table: bool,
}

impl From<StatementFailure> for Failure {
    fn from(failure: StatementFailure) -> Self {
        Failure {
            code: STATEMENT_FAILED,
            detail: format!("{}.", failure.detail),
        }
    }
}

/// Runs `sql` as one simple query (`what` names it in a failure); returns the first column
/// of every row.
async fn run(
    client: &Client,
    what: &str,
    sql: &str,
) -> Result<Vec<Option<String>>, StatementFailure> {
    let messages = client.simple_query(sql).await.map_err(|error| {
        let missing_table = error
            .code()
            .is_some_and(|code| *code == tokio_postgres::error::SqlState::UNDEFINED_TABLE);
        StatementFailure {
            detail: format!("{what} failed: {}", describe(&error)),
            missing_table,
        }
    })?;
    Ok(messages
        .iter()
        .filter_map(|message| match message {
            SimpleQueryMessage::Row(row) => Some(row.get(0).map(str::to_string)),
            _ => None,
        })
        .collect())
}

/// Every row must hold the value just written.
fn read_back(rows: &[Option<String>], value: u32, table: &str) -> Result<(), Failure> {
    let expected = value.to_string();
    if !rows.is_empty() && rows.iter().all(|row| row.as_deref() == Some(&expected)) {
        return Ok(());
    }
    let found: Vec<&str> = rows
        .iter()
        .map(|row| row.as_deref().unwrap_or("NULL"))
        .take(5)
        .collect();
    Err(Failure {
        code: WRONG_VALUE,
        detail: format!(
            "Wrote {value} to {table} but read back [{}].",
            found.join(", ")
        ),
    })
}

/// A client error as one line: the server's own message when it sent one.
fn describe(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        let mut text = format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        );
        if let Some(hint) = db.hint() {
            let _ = write!(text, "; hint: {hint}");
        }
        return text.replace(['\r', '\n'], " ");
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text.replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clp_core::monitor::params::Secret;

    fn parsed(text: &str) -> (PsqlwParams, Vec<String>) {
        parse(&text.parse::<toml::Table>().unwrap())
    }

    #[test]
    fn defaults_are_the_originals() {
        let (params, problems) = parsed("database = \"shop\"");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            params,
            PsqlwParams {
                ipaddress: "127.0.0.1".into(),
                port: 5432,
                database: "shop".into(),
                username: "postgres".into(),
                password: Secret::default(),
                table: "psqlwatch".into(),
                level: Level::UpdateSelect,
            }
        );
    }

    #[test]
    fn levels_are_the_originals_numbers() {
        let level = |n: i64| parsed(&format!("database = \"d\"\ndocreatedrop = {n}"));
        assert_eq!(level(3).0.level, Level::Select);
        assert_eq!(level(0).0.level, Level::UpdateSelect);
        assert_eq!(level(1).0.level, Level::CreateDrop);
        assert_eq!(level(2).1.len(), 1, "{:?}", level(2).1);
        assert_eq!(
            level(4).1,
            ["key \"docreatedrop\": 4 is out of range (0 to 3)"]
        );
    }

    #[test]
    fn bad_values_and_unknown_keys_are_problems() {
        let (_, problems) = parsed("port = 0\ntabel = \"x\"\nencrypwd = 1");
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems.iter().any(|p| p == "key \"database\" is missing"));
        assert!(
            problems
                .iter()
                .any(|p| p.contains("did you mean \"table\""))
        );
        assert!(problems.iter().any(|p| p.contains("encrypted passwords")));
        let (_, problems) = parsed("database = \"\"\nusername = \"\"");
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn the_table_is_a_plain_sql_name() {
        for good in ["psqlwatch", "_w$1", "watch.psqlwatch", "PsqlWatch"] {
            let (params, problems) = parsed(&format!("database = \"d\"\ntable = \"{good}\""));
            assert!(problems.is_empty(), "{good}: {problems:?}");
            assert_eq!(params.table, good.to_ascii_lowercase());
        }
        for bad in [
            "",
            "1st",
            "a;drop table x",
            "a b",
            "\"q\"",
            "a.b.c",
            &"x".repeat(64),
        ] {
            let (_, problems) = parsed(&format!("database = \"d\"\ntable = '{bad}'"));
            assert_eq!(problems.len(), 1, "{bad}: {problems:?}");
        }
    }

    #[test]
    fn passwords_are_not_shown() {
        let (params, _) = parsed("database = \"d\"\npassword = \"hunter2\"");
        assert!(!format!("{params:?}").contains("hunter2"));
    }

    #[test]
    fn the_value_read_back_must_be_the_one_written() {
        assert!(read_back(&[Some("7".into())], 7, "t").is_ok());
        let wrong = read_back(&[Some("6".into())], 7, "t").err().unwrap();
        assert_eq!(wrong.code, WRONG_VALUE);
        assert_eq!(wrong.detail, "Wrote 7 to t but read back [6].");
        assert!(read_back(&[], 7, "t").is_err());
        assert!(read_back(&[None], 7, "t").is_err());
    }
}
