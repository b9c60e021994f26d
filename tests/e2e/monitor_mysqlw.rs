//! mysqlw against a real MariaDB (Debian's, `.ci/setup.d/mariadb.sh`): every level's
//! statements and both storage engines, a level-1 table left behind and one that is not the
//! monitor's, the server's own refusals (wrong password, unknown database, a missing
//! privilege, a missing table), a server stopped with SIGTERM and started again, one run by
//! an exec resource that the monitor's recovery restarts, and one that hangs (SIGSTOP).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::app_servers::*;
use crate::harness::*;

/// The password of the `clp` account (all privileges) and of `reader` (SELECT only).
const PASSWORD: &str = "secret";

/// A MariaDB server of the test's own: `mariadb-install-db` into a temporary folder (in
/// /dev/shm where there is one: the install's many fsyncs cost nothing there), on a loopback
/// port, as root when the test runs as root (`--user=root`). Every statement is written to
/// `general.log`, so a test can see which statements a monitor sent. Dropping it ends
/// whatever mariadbd still runs on its folder.
struct MariaDb {
    dir: tempfile::TempDir,
    port: u16,
    /// The server the test started itself (the exec resource's is the daemon's child).
    started: Option<Child>,
}

impl MariaDb {
    /// A new data folder: root without a password (the test uses it over the socket), no
    /// test database.
    fn init(port: u16) -> MariaDb {
        let shm = std::path::Path::new("/dev/shm");
        let builder = {
            let mut builder = tempfile::Builder::new();
            builder.prefix("clp-mariadb-");
            builder
        };
        let dir = if shm.is_dir() {
            builder.tempdir_in(shm)
        } else {
            builder.tempdir()
        }
        .expect("a temporary folder");
        let db = MariaDb {
            dir,
            port,
            started: None,
        };
        let began = Instant::now();
        let output = Command::new("mariadb-install-db")
            .arg("--no-defaults")
            .arg(format!("--datadir={}", db.data()))
            .args([
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
            ])
            .args(as_root())
            .args(SERVER_SIZES)
            .stdin(Stdio::null())
            .output()
            .expect("run mariadb-install-db: run `bash .ci/setup.d/mariadb.sh`");
        assert!(
            output.status.success(),
            "mariadb-install-db failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        eprintln!("mariadb-install-db took {:?}", began.elapsed());
        db
    }

    /// `init`, started, with the database `shop`, the account `clp` (all privileges) and
    /// `reader` (SELECT on `shop`), both with [`PASSWORD`].
    fn with_accounts(port: u16) -> MariaDb {
        let mut db = MariaDb::init(port);
        db.start();
        db.sql(&format!(
            "CREATE DATABASE shop; \
             CREATE USER clp@'%' IDENTIFIED BY '{PASSWORD}'; \
             GRANT ALL ON *.* TO clp@'%'; \
             CREATE USER reader@'%' IDENTIFIED BY '{PASSWORD}'; \
             GRANT SELECT ON shop.* TO reader@'%'"
        ));
        db
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn data(&self) -> String {
        self.path("data").display().to_string()
    }

    /// mariadbd's arguments.
    fn server_args(&self) -> Vec<String> {
        let mut args = vec![
            "--no-defaults".to_string(),
            format!("--datadir={}", self.data()),
            format!("--socket={}", self.path("sock").display()),
            format!("--port={}", self.port),
            "--bind-address=127.0.0.1".to_string(),
            format!("--pid-file={}", self.path("mariadbd.pid").display()),
            format!("--log-error={}", self.path("err.log").display()),
            "--general-log".to_string(),
            format!("--general-log-file={}", self.path("general.log").display()),
            "--skip-name-resolve".to_string(),
            "--innodb-flush-log-at-trx-commit=0".to_string(),
        ];
        args.extend(as_root().iter().map(|arg| arg.to_string()));
        args.extend(SERVER_SIZES.iter().map(|arg| arg.to_string()));
        args
    }

    /// The shell line that runs the server in the foreground (exec: the shell's pid is
    /// mariadbd's), what it prints before its error log opens appended to `output.log`.
    fn exec_line(&self) -> String {
        let args: Vec<String> = self
            .server_args()
            .iter()
            .map(|arg| format!("'{arg}'"))
            .collect();
        format!(
            "exec {MARIADBD} {} >> '{}' 2>&1",
            args.join(" "),
            self.path("output.log").display()
        )
    }

    /// Starts the server from the test and waits until it takes sessions.
    fn start(&mut self) {
        let began = Instant::now();
        let output = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path("output.log"))
            .expect("output.log");
        let child = Command::new(MARIADBD)
            .args(self.server_args())
            .stdin(Stdio::null())
            .stdout(output.try_clone().expect("output.log"))
            .stderr(output)
            .spawn()
            .expect("start mariadbd: run `bash .ci/setup.d/mariadb.sh`");
        self.started = Some(child);
        self.wait_for_sessions();
        eprintln!("mariadbd took {:?} to take sessions", began.elapsed());
    }

    fn wait_for_sessions(&self) {
        wait_until("mariadbd takes sessions", WAIT, || {
            self.try_sql("SELECT 1").is_ok()
        });
    }

    /// The pid of the server the test started.
    fn pid(&self) -> u32 {
        self.started.as_ref().expect("started by the test").id()
    }

    /// Stops the server the test started with SIGTERM (a normal shutdown) and reaps it.
    fn stop(&mut self) {
        let mut child = self.started.take().expect("started by the test");
        signal(child.id(), libc::SIGTERM);
        let status = child.wait().expect("wait for mariadbd");
        assert!(status.success(), "mariadbd ended with {status}");
    }

    /// Runs `sql` as root over the Unix socket; the rows, tab-separated.
    fn try_sql(&self, sql: &str) -> Result<String, String> {
        let output = Command::new("mariadb")
            .arg("--no-defaults")
            .arg(format!("--socket={}", self.path("sock").display()))
            .args(["--user=root", "--batch", "--skip-column-names"])
            .args(["--connect-timeout=5", "-e", sql])
            .stdin(Stdio::null())
            .output()
            .map_err(|error| error.to_string())?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    #[track_caller]
    fn sql(&self, sql: &str) -> String {
        self.try_sql(sql)
            .unwrap_or_else(|error| panic!("mariadb {sql:?}: {error}"))
    }

    /// Statements the server received that contain `needle` (from any session).
    fn statements(&self, needle: &str) -> usize {
        count_lines(&self.path("general.log"), needle)
    }

    /// The mariadbd of this folder, whoever started it.
    fn server(&self) -> Option<u32> {
        std::fs::read_to_string(self.path("mariadbd.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = std::fs::read_to_string(self.path("err.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            eprintln!("--- mariadbd error log (last lines) ---");
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
        // A stopped server is woken, then ended: SIGKILL, as the folder goes too.
        if let Some(pid) = self.server().filter(|pid| alive(*pid)) {
            signal(pid, libc::SIGCONT);
            signal(pid, libc::SIGKILL);
            let deadline = Instant::now() + Duration::from_secs(10);
            while alive(pid) && Instant::now() < deadline {
                if let Some(child) = &mut self.started {
                    let _ = child.try_wait();
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        if let Some(mut child) = self.started.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

const MARIADBD: &str = "/usr/sbin/mariadbd";

/// Small InnoDB files and buffers: the test's server starts in a fraction of a second.
const SERVER_SIZES: &[&str] = &[
    "--innodb-buffer-pool-size=16M",
    "--innodb-log-file-size=4M",
    "--skip-log-bin",
];

/// `--user=root` when the test runs as root (mariadbd refuses root without it).
fn as_root() -> &'static [&'static str] {
    if nix::unistd::geteuid().is_root() {
        &["--user=root"]
    } else {
        &[]
    }
}

/// A `[[monitor]]` mysqlw on `port` checked every second, with `parameters` and `recovery`
/// (bodies of its tables; `AS_CLP` in the parameters logs in as `clp`).
fn mysqlw(name: &str, port: u16, parameters: &str, recovery: &str) -> String {
    format!(
        r#"
[[monitor]]
name = "{name}"
type = "mysqlw"
interval = 1
timeout = 5
retry = 0

[monitor.parameters]
port = {port}
{parameters}

[monitor.recovery]
{recovery}
"#
    )
}

const AS_CLP: &str = "username = \"clp\"\npassword = \"secret\"";
const NO_RECOVERY: &str = "target = \"local-server\"\nfinal_action = \"none\"";

/// The rm 9 of a stopped server: refused once it is gone; a check during its shutdown may
/// hear it say so, or lose the session it had.
#[track_caller]
fn assert_stopped_server_detail(alerts: &str, monitor: &str, database: &str, port: u16) {
    let prefix = format!("rm 9 Detected an error in monitoring {monitor}. (");
    let line = alerts
        .lines()
        .find(|line| line.contains(&prefix))
        .unwrap_or_else(|| panic!("no rm 9 of {monitor}: {alerts}"));
    let detail = &line[line.find(&prefix).unwrap() + prefix.len()..];
    let connecting =
        format!("Connecting to database \"{database}\" at 127.0.0.1:{port} as \"clp\" failed: ");
    let shutting_down = [
        "ERROR 1053 (08S01): Server shutdown in progress.)",
        "ERROR 1927 (70100): Connection was killed.)",
        "Connection to the server is closed.)",
    ];
    assert!(
        detail == format!("1 : {connecting}Connection refused (os error 111).)")
            || detail
                == format!("2 : {connecting}ERROR 1053 (08S01): Server shutdown in progress.)")
            || (detail.starts_with("3 : ")
                && shutting_down.iter().any(|end| detail.ends_with(end))),
        "{alerts}"
    );
}

#[test]
fn every_mysqlw_level_runs_its_statements_on_its_engine() {
    let port = free_port();
    let level = |name: &str, parameters: &str| {
        mysqlw(
            name,
            port,
            &format!("{AS_CLP}\ndatabase = \"shop\"\n{parameters}"),
            NO_RECOVERY,
        )
    };
    let cluster = Cluster::with_config(&format!(
        "[cluster]\nname = \"zabi\"\n{}{}{}{}{}{}",
        level("mysqlw-select", "table = \"watched\"\ndocreatedrop = 3"),
        level("mysqlw-update", ""),
        level(
            "mysqlw-myisam",
            "table = \"shop.myisamwatch\"\nengine = \"MyISAM\""
        ),
        level("mysqlw-createdrop", "table = \"scratch\"\ndocreatedrop = 1"),
        level("mysqlw-leftover", "table = \"leftover\"\ndocreatedrop = 1"),
        level("mysqlw-foreign", "table = \"foreign_t\"\ndocreatedrop = 1"),
    ));
    let db = MariaDb::with_accounts(port);
    db.sql("CREATE TABLE shop.watched (num INT NOT NULL PRIMARY KEY)");
    // What an abandoned check of mysqlw-leftover leaves, and a table of the DBA's.
    db.sql(
        "CREATE TABLE shop.leftover (num INT NOT NULL PRIMARY KEY) COMMENT = 'clp mysqlw mysqlw-leftover'; \
         CREATE TABLE shop.foreign_t (num INT NOT NULL PRIMARY KEY); \
         INSERT INTO shop.foreign_t VALUES (42)",
    );
    cluster.start();
    // Three statements each: the last belongs to a check that began after the first check
    // was judged.
    for (monitor, statement) in [
        ("mysqlw-select", "SELECT num FROM `watched`"),
        ("mysqlw-update", "UPDATE `mysqlwatch` SET num = "),
        ("mysqlw-myisam", "UPDATE `shop`.`myisamwatch` SET num = "),
        ("mysqlw-createdrop", "DROP TABLE `scratch`"),
        ("mysqlw-leftover", "DROP TABLE `leftover`"),
    ] {
        wait_until(&format!("{monitor}'s checks"), WAIT, || {
            db.statements(statement) >= 3
        });
        assert_eq!(cluster.monitor_status(monitor), "Normal", "{monitor}");
    }
    // Over TCP, as configured (not switched to the server's Unix socket).
    assert!(db.statements("Connect\tclp@127.0.0.1 on shop using TCP/IP") >= 15);
    assert_eq!(db.statements("Connect\tclp@localhost"), 0);
    // Level 0 made its tables on the engine asked for and keeps one row in each.
    assert_eq!(
        db.sql(
            "SELECT table_name, engine FROM information_schema.tables \
             WHERE table_schema = 'shop' AND table_name LIKE '%watch' ORDER BY table_name"
        ),
        "myisamwatch\tMyISAM\nmysqlwatch\tInnoDB"
    );
    let written = db.sql("SELECT num FROM shop.mysqlwatch");
    assert!(written.parse::<u32>().is_ok(), "{written:?}");
    wait_until("mysqlw-update writes a new value", WAIT, || {
        db.sql("SELECT num FROM shop.mysqlwatch") != written
    });
    assert_eq!(db.sql("SELECT COUNT(*) FROM shop.myisamwatch"), "1");
    // Level 1 creates its table on the engine, with its mark, and drops it each time (a
    // check in flight may hold the last one).
    let created = db.statements(
        "CREATE TABLE `scratch` (num INT NOT NULL PRIMARY KEY) ENGINE = InnoDB COMMENT = 'clp mysqlw mysqlw-createdrop'",
    );
    let dropped = db.statements("DROP TABLE `scratch`");
    assert!(
        created >= dropped && created <= dropped + 1,
        "{created} {dropped}"
    );
    // The DBA's table is left alone, with its row.
    let foreign = "rm 9 Detected an error in monitoring mysqlw-foreign. (3 : CREATE TABLE failed: ERROR 1050 (42S01): Table 'foreign_t' already exists; monitor level 1 creates and drops the table each time and leaves one it did not make alone: drop or rename it, or name another table.)";
    wait_until("rm 9 mysqlw-foreign", WAIT, || {
        cluster.alerts().contains(foreign)
    });
    assert_eq!(db.sql("SELECT num FROM shop.foreign_t"), "42");
    assert_eq!(cluster.count_alerts("rm 9 "), 1, "{}", cluster.alerts());

    // The DBA drops it: the monitor goes on. Then the DBA drops the table the
    // select-only monitor reads.
    let since = mark(&cluster);
    db.sql("DROP TABLE shop.foreign_t");
    wait_until("rm 26 mysqlw-foreign", WAIT, || {
        count_since(
            &cluster,
            &since,
            "rm 26 mysqlw-foreign status changed from error to normal.",
        ) == 1
    });
    db.sql("DROP TABLE shop.watched");
    wait_until("rm 9 mysqlw-select", WAIT, || {
        count_since(&cluster, &since, "rm 9 ") == 1
    });
    let alerts = alerts_since(&cluster, &since);
    assert!(
        alerts.contains(
            "rm 9 Detected an error in monitoring mysqlw-select. (3 : SELECT failed: ERROR 1146 (42S02): Table 'shop.watched' doesn't exist; monitor level 3 only reads the table: create it, or run level 0 once, which does.)"
        ),
        "{alerts}"
    );
    db.sql("CREATE TABLE shop.watched (num INT NOT NULL PRIMARY KEY)");
    wait_until("rm 26 mysqlw-select", WAIT, || {
        count_since(
            &cluster,
            &since,
            "rm 26 mysqlw-select status changed from error to normal.",
        ) == 1
    });
    assert_eq!(
        count_since(&cluster, &since, "rm 9 "),
        1,
        "only mysqlw-select"
    );
    cluster.stop();
}

#[test]
fn mysqlw_reports_the_servers_refusals_and_a_stopped_server() {
    let port = free_port();
    let cluster = Cluster::with_config(&format!(
        "[cluster]\nname = \"zabi\"\n{}{}{}",
        mysqlw(
            "mysqlw-password",
            port,
            "username = \"clp\"\npassword = \"wrong\"\ndatabase = \"shop\"",
            NO_RECOVERY
        ),
        mysqlw(
            "mysqlw-database",
            port,
            &format!("{AS_CLP}\ndatabase = \"stock\""),
            NO_RECOVERY
        ),
        mysqlw(
            "mysqlw-privilege",
            port,
            "username = \"reader\"\npassword = \"secret\"\ndatabase = \"shop\"",
            NO_RECOVERY
        ),
    ));
    let mut db = MariaDb::with_accounts(port);
    db.sql("CREATE TABLE shop.mysqlwatch (num INT NOT NULL PRIMARY KEY)");
    cluster.start();
    let wrong_password = format!(
        "rm 9 Detected an error in monitoring mysqlw-password. (2 : Connecting to database \"shop\" at 127.0.0.1:{port} as \"clp\" failed: ERROR 1045 (28000): Access denied for user 'clp'@'127.0.0.1' (using password: YES).)"
    );
    let unknown_database = format!(
        "rm 9 Detected an error in monitoring mysqlw-database. (2 : Connecting to database \"stock\" at 127.0.0.1:{port} as \"clp\" failed: ERROR 1049 (42000): Unknown database 'stock'.)"
    );
    let no_privilege = "rm 9 Detected an error in monitoring mysqlw-privilege. (3 : UPDATE failed: ERROR 1142 (42000): UPDATE command denied to user 'reader'@'127.0.0.1' for table `shop`.`mysqlwatch`.)";
    wait_until("three refusals", WAIT, || {
        let alerts = cluster.alerts();
        alerts.contains(&wrong_password)
            && alerts.contains(&unknown_database)
            && alerts.contains(no_privilege)
    });
    assert!(
        !cluster.alerts().contains("wrong"),
        "no password in a detail"
    );
    // Nothing was written by the account that may only read.
    assert_eq!(db.sql("SELECT COUNT(*) FROM shop.mysqlwatch"), "0");

    // The DBA creates the database and grants what level 0 needs.
    db.sql("CREATE DATABASE stock; GRANT UPDATE, INSERT ON shop.* TO reader@'%'");
    for monitor in ["mysqlw-database", "mysqlw-privilege"] {
        wait_until(&format!("rm 26 {monitor}"), WAIT, || {
            cluster.count_alerts(&format!(
                "rm 26 {monitor} status changed from error to normal."
            )) == 1
        });
    }
    assert_eq!(db.sql("SELECT COUNT(*) FROM shop.mysqlwatch"), "1");

    // The server stops (SIGTERM to the mariadbd the test started)...
    let since = mark(&cluster);
    let server = db.pid();
    db.stop();
    assert!(!alive(server));
    wait_until("rm 9 mysqlw-database", WAIT, || {
        count_since(
            &cluster,
            &since,
            "rm 9 Detected an error in monitoring mysqlw-database.",
        ) == 1
    });
    assert_stopped_server_detail(
        &alerts_since(&cluster, &since),
        "mysqlw-database",
        "stock",
        port,
    );
    // ... and starts again.
    db.start();
    wait_until("rm 26 mysqlw-database again", WAIT, || {
        count_since(
            &cluster,
            &since,
            "rm 26 mysqlw-database status changed from error to normal.",
        ) == 1
    });
    assert_monitor_in_error(&cluster, "mysqlw-password");
    cluster.stop();
}

#[test]
fn mysqlw_sees_a_stopped_mariadb_and_the_restart_that_recovers_it() {
    let port = free_port();
    let cluster = Cluster::with_config(&format!(
        r#"[cluster]
name = "zabi"

[[group]]
name = "db"

[[group.resource]]
name = "mariadb"
mode = "async"
{}"#,
        mysqlw(
            "mysqlw",
            port,
            &format!("{AS_CLP}\ndatabase = \"shop\""),
            "target = \"mariadb\"\nreactivation_threshold = 3\nfinal_action = \"none\""
        )
    ));
    // The accounts are made by a first start of the test's own; then the resource runs it.
    let mut db = MariaDb::with_accounts(port);
    db.stop();
    cluster.script("db", "mariadb", "start.sh", &db.exec_line());
    cluster.script("db", "mariadb", "stop.sh", "true");
    cluster.start();
    wait_until("a completed check, monitor normal", WAIT, || {
        db.try_sql("SELECT num FROM shop.mysqlwatch")
            .is_ok_and(|num| !num.is_empty())
            && cluster.monitor_status("mysqlw") == "Normal"
    });
    let since = mark(&cluster);
    let before = db.sql("SELECT num FROM shop.mysqlwatch");

    // The database server stops.
    let server = cluster.resource_pid("mariadb").expect("mariadbd");
    signal(server, libc::SIGTERM);
    wait_until("rm 9 mysqlw", WAIT, || {
        count_since(
            &cluster,
            &since,
            "rm 9 Detected an error in monitoring mysqlw.",
        ) == 1
    });
    assert_stopped_server_detail(&alerts_since(&cluster, &since), "mysqlw", "shop", port);

    // The recovery restarts the resource: the server is back, and so is the monitor.
    wait_until("rm 13 mariadb", WAIT, || {
        count_since(
            &cluster,
            &since,
            "rm 13 Recovery target mariadb has restarted because an error was detected in monitoring mysqlw.",
        ) >= 1
    });
    wait_until("rm 26 mysqlw", WAIT, || {
        count_since(
            &cluster,
            &since,
            "rm 26 mysqlw status changed from error to normal.",
        ) == 1
    });
    assert_ne!(cluster.resource_pid("mariadb"), Some(server));
    db.wait_for_sessions();
    assert_ne!(db.sql("SELECT num FROM shop.mysqlwatch"), before);
    cluster.stop();
}

/// Connections to `port` of the process `pid` holds open (its sockets, looked up in the
/// kernel's TCP tables of its network namespace).
fn connections_to(pid: u32, port: u16) -> usize {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let target = std::fs::read_link(entry.path()).ok()?;
            let target = target.to_str()?;
            Some(
                target
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .to_string(),
            )
        })
        .collect();
    tcp_entries(pid)
        .iter()
        .filter(|(_, remote, _, inode)| *remote == port && inodes.contains(inode))
        .count()
}

/// Server-side connections on `port` (every state but LISTEN), as the kernel sees them:
/// those a stopped server never accepted included.
fn connections_on(port: u16) -> usize {
    tcp_entries(std::process::id())
        .iter()
        .filter(|(local, _, state, _)| *local == port && state != "0A")
        .count()
}

/// (local port, remote port, state, inode) of every TCP socket in `pid`'s namespace.
fn tcp_entries(pid: u32) -> Vec<(u16, u16, String, String)> {
    let port_of = |address: &str| {
        address
            .rsplit_once(':')
            .and_then(|(_, port)| u16::from_str_radix(port, 16).ok())
            .unwrap_or(0)
    };
    ["tcp", "tcp6"]
        .iter()
        .map(|table| {
            std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).unwrap_or_default()
        })
        .collect::<String>()
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (fields.len() > 9 && fields[0].ends_with(':')).then(|| {
                (
                    port_of(fields[1]),
                    port_of(fields[2]),
                    fields[3].to_string(),
                    fields[9].to_string(),
                )
            })
        })
        .collect()
}

#[test]
fn a_hung_mariadb_is_abandoned_at_the_timeout_and_leaves_no_connection_behind() {
    let port = free_port();
    let cluster = Cluster::with_config(&format!(
        "[cluster]\nname = \"zabi\"\n{}",
        mysqlw(
            "mysqlw",
            port,
            &format!("{AS_CLP}\ndatabase = \"shop\""),
            NO_RECOVERY
        )
        .replace("timeout = 5", "timeout = 1"),
    ));
    let db = MariaDb::with_accounts(port);
    cluster.start();
    wait_until("completed checks", WAIT, || {
        db.statements("SELECT num FROM `mysqlwatch`") >= 2
    });

    // mariadbd stops answering: the kernel still accepts connections for it.
    let server = db.pid();
    let before = connections_on(port);
    signal(server, libc::SIGSTOP);
    wait_until("rm 9 mysqlw timed out", WAIT, || {
        cluster.alerts().contains(
            "rm 9 Detected an error in monitoring mysqlw. (99 : Monitor timed out after 1 seconds.)",
        )
    });
    // Each abandoned check closed its connection: the daemon holds at most the one of the
    // check under way.
    wait_until("three more checks", WAIT, || {
        connections_on(port) >= before + 3
    });
    let daemon = cluster.daemon_pid().expect("the daemon");
    assert!(
        connections_to(daemon, port) <= 1,
        "the daemon holds {} connections to the hung server",
        connections_to(daemon, port)
    );
    signal(server, libc::SIGCONT);
    wait_until("rm 26 mysqlw", WAIT, || {
        cluster.count_alerts("rm 26 mysqlw status changed from error to normal.") == 1
    });
    cluster.stop();
}

#[test]
fn a_mysqlw_without_its_database_and_account_is_refused_with_the_keys_named() {
    let cluster = Cluster::with_config(
        r#"
[cluster]
name = "zabi"
[[monitor]]
name = "mysqlw"
type = "mysqlw"
[monitor.parameters]
tabel = "watch"
docreatedrop = 2
engine = "Aria"
"#,
    );
    let stderr = cluster.run("clpcl", &["-s"]).failure(4);
    for problem in [
        "monitor \"mysqlw\".parameters: key \"database\" is missing",
        "monitor \"mysqlw\".parameters: key \"username\" is missing",
        "monitor \"mysqlw\".parameters: unknown key \"tabel\" (did you mean \"table\"?)",
        "monitor \"mysqlw\".parameters: key \"docreatedrop\": 2 is not a mysqlw level",
        "monitor \"mysqlw\".parameters: key \"engine\": \"Aria\" is not a storage engine",
    ] {
        assert!(stderr.contains(problem), "{problem}\n{stderr}");
    }
    assert!(cluster.daemon_pid().is_none());
}
