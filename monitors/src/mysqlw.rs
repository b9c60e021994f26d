//! `mysqlw`: a MySQL (or MariaDB) database accepts a session and runs the monitor's statements.
//!
//! Each check opens a session over TCP (the client/server protocol spoken natively by
//! `mysql_async`: no libmysqlclient; no TLS, as the original talks to a local server) as
//! `username` to `database`, runs the statements of the monitor level on the watch table
//! `table`, checks what it reads back and ends the session politely (`COM_QUIT`, so the
//! server counts no aborted connection). The session's connect attribute `program_name` is
//! `clp <monitor name>` (`performance_schema.session_connect_attrs` shows it where the
//! server keeps it). The levels are the original's `docreatedrop` values:
//! - `3` (select): `SELECT num FROM table`. The table must exist (create it once, or run
//!   level 0 once); reading it is all this level does, so it suits a read-only account.
//! - `0` (update/select, the default): `UPDATE table SET num = N`, inserting the row when
//!   the table is empty, then `SELECT num FROM table` must give back N, all in one
//!   transaction (on InnoDB; MyISAM has none). A missing table is created
//!   (`num INT NOT NULL PRIMARY KEY`, the original's layout, with the storage engine
//!   `engine`) by the first check.
//! - `1` (create/drop each time): `CREATE TABLE table ... ENGINE = engine`, `INSERT N`,
//!   `SELECT`, `DROP TABLE`. MySQL commits a CREATE and a DROP at once, so the table is made
//!   with the comment `clp mysqlw <monitor name>`: a check abandoned between its CREATE and
//!   its DROP leaves a table that the next check knows as its own and drops. Any other table
//!   of that name is a fault, never dropped.
//!
//! A session the server refuses (wrong password, unknown database, too many connections) is
//! a fault whose detail is the server's own error (`ERROR 1045 (28000): Access denied ...`);
//! a server that does not answer is abandoned by the engine at the monitor's timeout (detail
//! code 99). The monitor's timeout bounds the whole session, the connect included: a
//! shorter connect timeout of its own would turn a hang (the engine's timeout, 99) into an
//! ordinary failure. The abandoned session is dropped off the async runtime: its socket
//! closes at once, and nothing is left waiting on a hung server (see [`DropOffRuntime`]).
//!
//! Parameters (the original's names, reference §4): `ipaddress` (`127.0.0.1`), `port`
//! (3306), `database` and `username` (required: the reference gives no default for either),
//! `password` (empty: none is sent), `table` (`mysqlwatch`; `table` or `database.table`,
//! unquoted SQL names kept as written, as MySQL's table names are case-sensitive on Linux),
//! `docreatedrop` (0), `engine` (`InnoDB`, or `MyISAM`: the storage engine of the tables
//! levels 0 and 1 create), `libraryfullpath` (accepted for an original configuration and
//! unused: no client library is loaded), `encrypwd` (0; 1 = a clpencrypt'ed password,
//! refused by this version). Defaults interval 60 s, timeout 120 s, retry 2, as psqlw.
//!
//! Detail codes (ours, as psqlw's; the original's are not documented): 1 cannot reach the
//! server, 2 the server refused the session, 3 a statement failed, 4 the value read back is
//! not the one written.

use clp_core::monitor::mysqlw::*;
use clp_core::monitor::params::valid;
use clp_core::monitor::spec::ProbeSettings;
use clp_core::monitor::{CheckFuture, CheckOutcome, Probe, ProbeContext};
use clp_core::os_action::OsActions;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Row, Value};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// MySQL's `ER_NO_SUCH_TABLE`.
const NO_SUCH_TABLE: u16 = 1146;

/// MySQL's `ER_TABLE_EXISTS_ERROR`.
const TABLE_EXISTS: u16 = 1050;

/// A checked table name in backquotes (a name such as `order` is a reserved word).
fn quoted(table: &str) -> String {
    table
        .split('.')
        .map(|part| format!("`{part}`"))
        .collect::<Vec<_>>()
        .join(".")
}

/// The comment that marks a level-1 table as this monitor's own: the monitor's name, with
/// anything but letters, digits and `-_. ` replaced, so it needs no escaping in any SQL mode.
fn marker(monitor: &str) -> String {
    let name: String = monitor
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_. ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(200)
        .collect();
    format!("clp mysqlw {name}")
}

/// Builds the probe of a validated monitor ([`clp_core::monitor::spec::BuildProbe`]).
pub fn build(config: &ProbeSettings<'_>, _: &OsActions) -> Result<Box<dyn Probe>, String> {
    let params = valid(parse(config.parameters))?;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0);
    Ok(Box::new(Mysqlw {
        params: Arc::new(params),
        program_name: Arc::from(format!("clp {}", config.name)),
        marker: Arc::from(marker(config.name)),
        written: (seed % 1_000_000) as u32 * 1000,
    }))
}

/// The mysqlw probe.
#[derive(Debug)]
pub struct Mysqlw {
    params: Arc<MysqlwParams>,
    /// `clp <monitor name>`: the session's `program_name` connect attribute.
    program_name: Arc<str>,
    /// The comment of the tables level 1 creates.
    marker: Arc<str>,
    /// The last value written (levels 0 and 1 write the next one).
    written: u32,
}

/// A failed check.
struct Failure {
    code: u32,
    detail: String,
}

impl Probe for Mysqlw {
    fn check(&mut self, _: ProbeContext) -> CheckFuture<'_> {
        self.written = (self.written + 1) % 1_000_000_000;
        let session = DropOffRuntime::new(session(
            Arc::clone(&self.params),
            Arc::clone(&self.program_name),
            Arc::clone(&self.marker),
            self.written,
        ));
        Box::pin(async move {
            match session.await {
                Ok(()) => CheckOutcome::Normal,
                Err(Failure { code, detail }) => CheckOutcome::Failure { code, detail },
            }
        })
    }
}

/// A future that, dropped unfinished, is dropped on a short-lived thread of its own, outside
/// the async runtime.
///
/// The engine abandons a check at its timeout by dropping its future. A `mysql_async::Conn`
/// dropped inside a runtime before it said goodbye spawns a task that first reads the rest
/// of an answer it had begun to read, then says goodbye: against a server that hangs in the
/// middle of an answer, that task and its socket would wait for as long as the server hangs,
/// one more for each abandoned check. Dropped where there is no runtime, a `Conn` only
/// closes its socket (the server rolls back what the session had begun). Dropping does no
/// I/O that can block: the thread ends at once.
pub struct DropOffRuntime<F: Future + Send + 'static> {
    future: Option<Pin<Box<F>>>,
}

impl<F: Future + Send + 'static> DropOffRuntime<F> {
    /// Wraps `future`.
    pub fn new(future: F) -> Self {
        DropOffRuntime {
            future: Some(Box::pin(future)),
        }
    }
}

impl<F: Future + Send + 'static> Future for DropOffRuntime<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let Some(future) = self.future.as_mut() else {
            // Polled again after it was ready: a future is not, and there is nothing left.
            return Poll::Pending;
        };
        let output = std::task::ready!(future.as_mut().poll(cx));
        self.future = None;
        Poll::Ready(output)
    }
}

impl<F: Future + Send + 'static> Drop for DropOffRuntime<F> {
    fn drop(&mut self) {
        let Some(future) = self.future.take() else {
            return;
        };
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        // Should no thread be had, the closure and its future are dropped here after all:
        // the old behaviour, a task that waits for the server.
        let _ = std::thread::Builder::new()
            .name("clp-mysqlw-drop".into())
            .spawn(move || drop(future));
    }
}

/// One session: connect, run the level's statements, say goodbye.
async fn session(
    params: Arc<MysqlwParams>,
    program_name: Arc<str>,
    marker: Arc<str>,
    value: u32,
) -> Result<(), Failure> {
    let server = format!("{}:{}", params.ipaddress, params.port);
    let opts = OptsBuilder::default()
        .ip_or_hostname(params.ipaddress.clone())
        .tcp_port(params.port)
        .user(Some(params.username.clone()))
        .pass((!params.password.is_empty()).then(|| params.password.to_string()))
        .db_name(Some(params.database.clone()))
        // Over TCP as configured: not over the server's Unix socket, which the client would
        // otherwise ask for and switch to.
        .prefer_socket(false)
        .stmt_cache_size(0)
        // Given, so the client does not ask the server for them in one more round trip.
        .max_allowed_packet(Some(16 * 1024 * 1024))
        .wait_timeout(Some(28_800))
        .connect_attributes(HashMap::from([(
            "program_name".to_string(),
            program_name.to_string(),
        )]));
    let mut conn = Conn::new(opts).await.map_err(|error| {
        let code = if matches!(error, mysql_async::Error::Server(_)) {
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
    let outcome = statements(&mut conn, &params, &marker, value).await;
    // COM_QUIT; an unfinished transaction is rolled back by the server.
    let _ = conn.disconnect().await;
    outcome
}

/// The statements of the monitor's level.
async fn statements(
    conn: &mut Conn,
    params: &MysqlwParams,
    marker: &str,
    value: u32,
) -> Result<(), Failure> {
    let table = quoted(&params.table);
    let engine = params.engine.sql();
    match params.level {
        Level::Select => {
            run(conn, "SELECT", &format!("SELECT num FROM {table}"))
                .await
                .map_err(|failure| {
                    if failure.code == Some(NO_SUCH_TABLE) {
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
            let rows = match update_select(conn, &table, value).await {
                Err(failure) if failure.code == Some(NO_SUCH_TABLE) => {
                    run(
                        conn,
                        "CREATE TABLE",
                        &format!(
                            "CREATE TABLE IF NOT EXISTS {table} (num INT NOT NULL PRIMARY KEY) ENGINE = {engine}"
                        ),
                    )
                    .await?;
                    update_select(conn, &table, value).await?
                }
                other => other?,
            };
            read_back(&rows, value, &params.table)
        }
        Level::CreateDrop => {
            create_own_table(conn, params, &table, marker).await?;
            let used = async {
                run(
                    conn,
                    "INSERT",
                    &format!("INSERT INTO {table} (num) VALUES ({value})"),
                )
                .await?;
                run(conn, "SELECT", &format!("SELECT num FROM {table}")).await
            }
            .await;
            // Dropped whatever the INSERT and SELECT did: it is ours.
            let dropped = run(conn, "DROP TABLE", &format!("DROP TABLE {table}")).await;
            let rows = used?;
            dropped?;
            read_back(&rows, value, &params.table)
        }
    }
}

/// Level 0's transaction: write `value` (inserting the row into an empty table) and read
/// the table back.
async fn update_select(
    conn: &mut Conn,
    table: &str,
    value: u32,
) -> Result<Vec<Option<String>>, StatementFailure> {
    run(conn, "START TRANSACTION", "START TRANSACTION").await?;
    run(conn, "UPDATE", &format!("UPDATE {table} SET num = {value}")).await?;
    run(
        conn,
        "INSERT",
        &format!(
            "INSERT INTO {table} (num) SELECT {value} FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM {table})"
        ),
    )
    .await?;
    let rows = run(conn, "SELECT", &format!("SELECT num FROM {table}")).await?;
    run(conn, "COMMIT", "COMMIT").await?;
    Ok(rows)
}

/// Level 1's CREATE TABLE; a table of that name that an abandoned check of this monitor left
/// behind (its comment is `marker`) is dropped first.
async fn create_own_table(
    conn: &mut Conn,
    params: &MysqlwParams,
    table: &str,
    marker: &str,
) -> Result<(), Failure> {
    let create = format!(
        "CREATE TABLE {table} (num INT NOT NULL PRIMARY KEY) ENGINE = {} COMMENT = '{marker}'",
        params.engine.sql()
    );
    let exists = match run(conn, "CREATE TABLE", &create).await {
        Ok(_) => return Ok(()),
        Err(failure) if failure.code == Some(TABLE_EXISTS) => failure,
        Err(failure) => return Err(failure.into()),
    };
    let (schema, name) = match params.table.split_once('.') {
        Some((schema, name)) => (format!("'{schema}'"), name),
        None => ("DATABASE()".to_string(), params.table.as_str()),
    };
    let comment = run(
        conn,
        "SELECT table_comment",
        &format!(
            "SELECT table_comment FROM information_schema.tables WHERE table_schema = {schema} AND table_name = '{name}'"
        ),
    )
    .await?;
    if comment.first().and_then(Option::as_deref) != Some(marker) {
        return Err(Failure {
            code: STATEMENT_FAILED,
            detail: format!(
                "{}; monitor level 1 creates and drops the table each time and leaves one it did not make alone: drop or rename it, or name another table.",
                exists.detail
            ),
        });
    }
    run(conn, "DROP TABLE", &format!("DROP TABLE {table}")).await?;
    run(conn, "CREATE TABLE", &create).await?;
    Ok(())
}

/// A statement's failure, and the server's error number when it sent one.
struct StatementFailure {
    /// What failed and the server's message, without a full stop.
    detail: String,
    code: Option<u16>,
}

impl From<StatementFailure> for Failure {
    fn from(failure: StatementFailure) -> Self {
        Failure {
            code: STATEMENT_FAILED,
            detail: format!("{}.", failure.detail),
        }
    }
}

/// Runs `sql` (`what` names it in a failure); returns the first column of every row.
async fn run(
    conn: &mut Conn,
    what: &str,
    sql: &str,
) -> Result<Vec<Option<String>>, StatementFailure> {
    let rows: Vec<Row> = conn.query(sql).await.map_err(|error| StatementFailure {
        detail: format!("{what} failed: {}", describe(&error)),
        code: match &error {
            mysql_async::Error::Server(server) => Some(server.code),
            _ => None,
        },
    })?;
    Ok(rows
        .iter()
        .map(|row| match row.as_ref(0) {
            None | Some(Value::NULL) => None,
            Some(Value::Bytes(bytes)) => Some(String::from_utf8_lossy(bytes).into_owned()),
            Some(other) => Some(other.as_sql(true)),
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

/// A client error as one line: the server's own error when it sent one
/// (`ERROR 1045 (28000): Access denied ...`, as the mysql client prints it).
fn describe(error: &mysql_async::Error) -> String {
    let text = match error {
        mysql_async::Error::Server(server) => server.to_string(),
        mysql_async::Error::Io(mysql_async::IoError::Io(io)) => io.to_string(),
        mysql_async::Error::Driver(driver) => driver.to_string(),
        other => other.to_string(),
    };
    text.replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clp_core::monitor::params::Secret;

    fn parsed(text: &str) -> (MysqlwParams, Vec<String>) {
        parse(&text.parse::<toml::Table>().unwrap())
    }

    const REQUIRED: &str = "database = \"d\"\nusername = \"u\"";

    #[test]
    fn defaults_are_the_originals() {
        let (params, problems) = parsed("database = \"shop\"\nusername = \"clp\"");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            params,
            MysqlwParams {
                ipaddress: "127.0.0.1".into(),
                port: 3306,
                database: "shop".into(),
                username: "clp".into(),
                password: Secret::default(),
                table: "mysqlwatch".into(),
                level: Level::UpdateSelect,
                engine: Engine::InnoDb,
            }
        );
    }

    #[test]
    fn levels_are_the_originals_numbers() {
        let level = |n: i64| parsed(&format!("{REQUIRED}\ndocreatedrop = {n}"));
        assert_eq!(level(3).0.level, Level::Select);
        assert_eq!(level(0).0.level, Level::UpdateSelect);
        assert_eq!(level(1).0.level, Level::CreateDrop);
        assert_eq!(level(2).1.len(), 1, "{:?}", level(2).1);
        assert!(level(2).1[0].contains("2 is not a mysqlw level"));
        assert_eq!(
            level(4).1,
            ["key \"docreatedrop\": 4 is out of range (0 to 3)"]
        );
    }

    #[test]
    fn the_engine_is_innodb_or_myisam_in_any_case() {
        let engine = |name: &str| parsed(&format!("{REQUIRED}\nengine = \"{name}\""));
        for (name, expected) in [
            ("InnoDB", Engine::InnoDb),
            ("innodb", Engine::InnoDb),
            ("MyISAM", Engine::MyIsam),
            ("MYISAM", Engine::MyIsam),
        ] {
            let (params, problems) = engine(name);
            assert!(problems.is_empty(), "{name}: {problems:?}");
            assert_eq!(params.engine, expected, "{name}");
        }
        assert_eq!(Engine::MyIsam.sql(), "MyISAM");
        let (params, problems) = engine("Aria");
        assert_eq!(params.engine, Engine::InnoDb);
        assert_eq!(
            problems,
            [
                "key \"engine\": \"Aria\" is not a storage engine mysqlw creates tables with; use \"InnoDB\" or \"MyISAM\""
            ]
        );
        let (_, problems) = parsed(&format!("{REQUIRED}\nengine = 1"));
        assert_eq!(problems, ["key \"engine\": 1 is not a string"]);
    }

    #[test]
    fn bad_values_and_unknown_keys_are_problems() {
        let (_, problems) = parsed("port = 0\ntabel = \"x\"\nencrypwd = 1");
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(problems.iter().any(|p| p == "key \"database\" is missing"));
        assert!(problems.iter().any(|p| p == "key \"username\" is missing"));
        assert!(
            problems
                .iter()
                .any(|p| p.contains("did you mean \"table\""))
        );
        assert!(problems.iter().any(|p| p.contains("encrypted passwords")));
        let (_, problems) = parsed("database = \"\"\nusername = \"\"\nipaddress = \" \"");
        assert_eq!(problems.len(), 3, "{problems:?}");
        // The original's library path is accepted and unused.
        let (_, problems) = parsed(&format!(
            "{REQUIRED}\nlibraryfullpath = \"/usr/lib64/mysql/libmysqlclient.so\"\nencrypwd = 0"
        ));
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn the_table_is_a_plain_sql_name_kept_as_written() {
        for good in [
            "mysqlwatch",
            "_w$1",
            "shop.mysqlwatch",
            "MySqlWatch",
            "order",
        ] {
            let (params, problems) = parsed(&format!("{REQUIRED}\ntable = \"{good}\""));
            assert!(problems.is_empty(), "{good}: {problems:?}");
            assert_eq!(params.table, good);
        }
        for bad in [
            "",
            "1st",
            "a;drop table x",
            "a b",
            "`q`",
            "a.b.c",
            "a'b",
            &"x".repeat(65),
        ] {
            let (_, problems) = parsed(&format!("{REQUIRED}\ntable = \"{bad}\""));
            assert_eq!(problems.len(), 1, "{bad}: {problems:?}");
        }
        assert_eq!(quoted("order"), "`order`");
        assert_eq!(quoted("shop.mysqlwatch"), "`shop`.`mysqlwatch`");
    }

    #[test]
    fn the_marker_needs_no_escaping() {
        assert_eq!(marker("mysqlw-1"), "clp mysqlw mysqlw-1");
        assert_eq!(marker("a'b\\c"), "clp mysqlw a_b_c");
    }

    #[test]
    fn passwords_are_not_shown() {
        let (params, _) = parsed(&format!("{REQUIRED}\npassword = \"hunter2\""));
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

    /// Tells, when dropped, whether a runtime was at hand.
    struct Witness(std::sync::mpsc::Sender<bool>);

    impl Drop for Witness {
        fn drop(&mut self) {
            let _ = self.0.send(tokio::runtime::Handle::try_current().is_ok());
        }
    }

    #[tokio::test]
    async fn an_unfinished_future_is_dropped_off_the_runtime() {
        let (sender, receiver) = std::sync::mpsc::channel();
        let witness = Witness(sender);
        let mut future = DropOffRuntime::new(async move {
            let _witness = witness;
            std::future::pending::<()>().await;
        });
        let polled = tokio::time::timeout(std::time::Duration::from_millis(10), &mut future);
        assert!(polled.await.is_err());
        drop(future);
        let in_runtime = receiver
            .recv_timeout(std::time::Duration::from_secs(5))
            .unwrap();
        assert!(!in_runtime, "dropped inside the runtime");

        // A finished one was dropped where it finished.
        let (sender, receiver) = std::sync::mpsc::channel();
        let witness = Witness(sender);
        assert_eq!(DropOffRuntime::new(async move { drop(witness) }).await, ());
        assert!(receiver.recv().unwrap());
    }

    /// A MySQL packet: length, sequence number, payload.
    fn packet(sequence: u8, payload: &[u8]) -> Vec<u8> {
        let mut bytes = u32::try_from(payload.len()).unwrap().to_le_bytes()[..3].to_vec();
        bytes.push(sequence);
        bytes.extend_from_slice(payload);
        bytes
    }

    /// Reads one packet's payload.
    async fn read_packet(socket: &mut tokio::net::TcpStream) -> Vec<u8> {
        use tokio::io::AsyncReadExt;
        let mut header = [0u8; 4];
        socket.read_exact(&mut header).await.unwrap();
        let length = u32::from_le_bytes([header[0], header[1], header[2], 0]);
        let mut payload = vec![0u8; length as usize];
        socket.read_exact(&mut payload).await.unwrap();
        payload
    }

    /// A server that greets, accepts any login, answers the first query with its column
    /// definitions and then hangs before the rows (a server stopped mid-answer): the check
    /// is abandoned, and its connection must close at once. A Conn dropped inside the
    /// runtime would leave a task reading the rest of the answer, the socket open.
    #[tokio::test]
    async fn a_check_abandoned_mid_answer_closes_its_connection() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let capabilities: u32 = 0x0000_0001 // long password
                | 0x0000_0008 // connect with db
                | 0x0000_0200 // protocol 41
                | 0x0000_2000 // transactions
                | 0x0000_8000 // secure connection
                | 0x0002_0000 // multi results
                | 0x0008_0000 // plugin auth
                | 0x0010_0000 // connect attrs
                | 0x0020_0000; // plugin auth lenenc data
            let mut greeting = vec![10];
            greeting.extend_from_slice(b"5.7.99-fake\0");
            greeting.extend_from_slice(&1u32.to_le_bytes());
            greeting.extend_from_slice(b"abcdefgh\0");
            greeting.extend_from_slice(&capabilities.to_le_bytes()[..2]);
            greeting.push(0x21);
            greeting.extend_from_slice(&2u16.to_le_bytes());
            greeting.extend_from_slice(&capabilities.to_le_bytes()[2..]);
            greeting.push(21);
            greeting.extend_from_slice(&[0; 10]);
            greeting.extend_from_slice(b"ijklmnopqrst\0");
            greeting.extend_from_slice(b"mysql_native_password\0");
            socket.write_all(&packet(0, &greeting)).await.unwrap();
            read_packet(&mut socket).await;
            socket
                .write_all(&packet(2, &[0, 0, 0, 2, 0, 0, 0]))
                .await
                .unwrap();
            let query = read_packet(&mut socket).await;
            assert_eq!(&query[1..], b"SELECT num FROM `mysqlwatch`");
            let column = [
                &[3][..],
                b"def",
                &[0, 0, 0, 3],
                b"num",
                &[0, 0x0c, 0x3f, 0, 11, 0, 0, 0, 0x03, 0, 0, 0, 0, 0],
            ]
            .concat();
            let mut answer = packet(1, &[1]);
            answer.extend(packet(2, &column));
            answer.extend(packet(3, &[0xfe, 0, 0, 2, 0]));
            socket.write_all(&answer).await.unwrap();
            // The rows never come. The client's next bytes, if any, then its end of file.
            let mut rest = Vec::new();
            let read = tokio::time::timeout(
                std::time::Duration::from_secs(5),
                socket.read_to_end(&mut rest),
            )
            .await;
            (read.is_ok(), rest)
        });
        let (params, problems) = parsed(&format!("{REQUIRED}\nport = {port}\ndocreatedrop = 3"));
        assert!(problems.is_empty(), "{problems:?}");
        let mut probe = Mysqlw {
            params: Arc::new(params),
            program_name: Arc::from("clp mysqlw"),
            marker: Arc::from(marker("mysqlw")),
            written: 0,
        };
        let context = ProbeContext {
            lateness: std::time::Duration::ZERO,
            timeout: std::time::Duration::from_secs(1),
            target_process: None,
        };
        let abandoned =
            tokio::time::timeout(std::time::Duration::from_millis(500), probe.check(context)).await;
        assert!(abandoned.is_err(), "the check ended: {abandoned:?}");
        let (closed, rest) = server.await.unwrap();
        assert!(closed, "the connection was still open after 5 s");
        assert!(rest.is_empty(), "no goodbye is sent: {rest:?}");
    }
}
