//! psqlw against a real PostgreSQL (Debian's, `.ci/setup.d/postgresql.sh`): every level's
//! statements, the server's own refusals (wrong password, missing database, missing table),
//! a server stopped with SIGTERM and started again, and one run by an exec resource that
//! the monitor's recovery restarts.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::app_servers::*;
use crate::harness::*;

/// The password of the `postgres` superuser over TCP (its Unix socket trusts).
const PASSWORD: &str = "secret";

/// A PostgreSQL cluster of the test's own: initdb into a temporary folder, on a loopback
/// port, run as the `postgres` user when the test runs as root (postgres refuses root).
/// Every statement that completes is logged with the session's application name
/// (`clp <monitor>: LOG:  duration: ...`), so a test can see a monitor's check succeed.
/// Dropping it shuts down whatever postgres still runs on its folder.
struct PgCluster {
    dir: tempfile::TempDir,
    port: u16,
    bin: PathBuf,
    /// The server the test started itself (the exec resource's is the daemon's child).
    started: Option<Child>,
}

impl PgCluster {
    /// initdb: superuser `postgres`, scram-sha-256 over TCP, trust on the socket.
    fn init(port: u16) -> PgCluster {
        let bin = postgres_bin();
        let dir = tempfile::Builder::new()
            .prefix("clp-pg-")
            .tempdir()
            .expect("a temporary folder");
        let pg = PgCluster {
            dir,
            port,
            bin,
            started: None,
        };
        std::fs::write(pg.path("password"), format!("{PASSWORD}\n")).unwrap();
        if let Some(user) = run_as() {
            for path in [pg.dir.path().to_path_buf(), pg.path("password")] {
                nix::unistd::chown(&path, Some(user.uid), Some(user.gid)).expect("chown");
            }
        }
        let output = pg
            .as_server_user(&pg.bin.join("initdb"))
            .args(["-D", &pg.data(), "-U", "postgres", "-E", "UTF8"])
            .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
            .arg(format!("--pwfile={}", pg.path("password").display()))
            .args(["--no-sync", "--no-instructions"])
            .output()
            .expect("run initdb");
        assert!(
            output.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        pg
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn data(&self) -> String {
        self.path("data").display().to_string()
    }

    /// A command run as the server's user.
    fn as_server_user(&self, program: &Path) -> Command {
        match run_as() {
            Some(user) => {
                let mut command = Command::new("setpriv");
                command
                    .arg(format!("--reuid={}", user.uid))
                    .arg(format!("--regid={}", user.gid))
                    .arg("--init-groups")
                    .arg(program);
                command
            }
            None => Command::new(program),
        }
    }

    /// The shell line that runs the server in the foreground (exec: the shell's pid is
    /// the postmaster's), its log appended to `server.log`.
    fn exec_line(&self) -> String {
        let setpriv = match run_as() {
            Some(user) => format!(
                "setpriv --reuid={} --regid={} --init-groups ",
                user.uid, user.gid
            ),
            None => String::new(),
        };
        format!(
            "exec {setpriv}'{}' -D '{}' -k '{}' -p {} -c listen_addresses=127.0.0.1 \
             -c 'log_line_prefix=%a: ' -c log_min_duration_statement=0 >> '{}' 2>&1",
            self.bin.join("postgres").display(),
            self.data(),
            self.dir.path().display(),
            self.port,
            self.path("server.log").display()
        )
    }

    /// Starts the server from the test and waits until it takes sessions.
    fn start(&mut self) {
        let child = Command::new("/bin/sh")
            .args(["-c", &self.exec_line()])
            .stdin(Stdio::null())
            .spawn()
            .expect("start postgres");
        self.started = Some(child);
        wait_until("postgres takes sessions", WAIT, || {
            self.try_psql("postgres", "SELECT 1").is_ok()
        });
    }

    /// The pid of the server the test started.
    fn pid(&self) -> u32 {
        self.started.as_ref().expect("started by the test").id()
    }

    /// Stops the server the test started with SIGTERM (a smart shutdown) and reaps it.
    fn stop(&mut self) {
        let mut child = self.started.take().expect("started by the test");
        signal(child.id(), libc::SIGTERM);
        let status = child.wait().expect("wait for postgres");
        assert!(status.success(), "postgres ended with {status}");
    }

    /// Runs `sql` with psql over TCP as postgres; the rows, unaligned.
    fn try_psql(&self, database: &str, sql: &str) -> Result<String, String> {
        let output = Command::new(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", "postgres", "-d", database, "-XAtq", "-c", sql])
            .env("PGPASSWORD", PASSWORD)
            .env("PGCONNECT_TIMEOUT", "5")
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
    fn psql(&self, database: &str, sql: &str) -> String {
        self.try_psql(database, sql)
            .unwrap_or_else(|error| panic!("psql {sql:?}: {error}"))
    }

    /// Statements of `monitor`'s sessions that completed.
    fn completed_statements(&self, monitor: &str) -> usize {
        count_lines(
            &self.path("server.log"),
            &format!("clp {monitor}: LOG:  duration: "),
        )
    }

    /// The postmaster of this folder, whoever started it.
    fn postmaster(&self) -> Option<u32> {
        std::fs::read_to_string(self.path("data/postmaster.pid"))
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = std::fs::read_to_string(self.path("server.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            eprintln!("--- postgres log (last lines) ---");
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
        // An immediate shutdown: the postmaster ends its children and frees its shared
        // memory (a SIGKILL would leave both behind). A stopped one is woken first.
        if let Some(pid) = self.postmaster().filter(|pid| alive(*pid)) {
            signal(pid, libc::SIGCONT);
            signal(pid, libc::SIGQUIT);
            let deadline = Instant::now() + Duration::from_secs(10);
            while alive(pid) && Instant::now() < deadline {
                if let Some(child) = &mut self.started {
                    let _ = child.try_wait();
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if alive(pid) {
                signal(pid, libc::SIGKILL);
            }
        }
        if let Some(mut child) = self.started.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Debian's newest PostgreSQL binaries.
fn postgres_bin() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("postgres").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found
        .pop()
        .map(|(_, bin)| bin)
        .expect("no /usr/lib/postgresql/*/bin/postgres: run `bash .ci/setup.d/postgresql.sh`")
}

/// The user the server runs as: `postgres` when the test runs as root, else the test's own.
fn run_as() -> Option<nix::unistd::User> {
    if !nix::unistd::geteuid().is_root() {
        return None;
    }
    let user = nix::unistd::User::from_name("postgres")
        .ok()
        .flatten()
        .expect("no postgres user: run `bash .ci/setup.d/postgresql.sh`");
    Some(user)
}

/// A `[[monitor]]` psqlw on `port` checked every second, with `parameters` and `recovery`
/// (bodies of its tables; `AS_POSTGRES` in the parameters logs in as the superuser).
fn psqlw(name: &str, port: u16, parameters: &str, recovery: &str) -> String {
    format!(
        r#"
[[monitor]]
name = "{name}"
type = "psqlw"
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

/// The rm 9 of a stopped server: refused once it is gone; a check during its shutdown
/// hears it say so.
#[track_caller]
fn assert_stopped_server_detail(alerts: &str, database: &str, port: u16) {
    let connecting = format!(
        "Connecting to database \"{database}\" at 127.0.0.1:{port} as \"postgres\" failed: "
    );
    assert!(
        alerts.contains(&format!(
            "(1 : {connecting}error connecting to server: Connection refused (os error 111).)"
        )) || alerts.contains(&format!(
            "(2 : {connecting}FATAL: the database system is shutting down (SQLSTATE 57P03).)"
        )),
        "{alerts}"
    );
}

const AS_POSTGRES: &str = "password = \"secret\"";
const NO_RECOVERY: &str = "target = \"local-server\"\nfinal_action = \"none\"";

#[test]
fn every_psqlw_level_runs_its_statements_and_a_dropped_table_is_an_error() {
    let port = free_port();
    let cluster = Cluster::with_config(&format!(
        "[cluster]\nname = \"zabi\"\n{}{}{}",
        psqlw(
            "psqlw-select",
            port,
            &format!("{AS_POSTGRES}\ndatabase = \"shop\"\ntable = \"watched\"\ndocreatedrop = 3"),
            NO_RECOVERY
        ),
        psqlw(
            "psqlw-update",
            port,
            &format!("{AS_POSTGRES}\ndatabase = \"shop\""),
            NO_RECOVERY
        ),
        psqlw(
            "psqlw-createdrop",
            port,
            &format!("{AS_POSTGRES}\ndatabase = \"shop\"\ntable = \"scratch\"\ndocreatedrop = 1"),
            NO_RECOVERY
        ),
    ));
    let mut pg = PgCluster::init(port);
    pg.start();
    pg.psql("postgres", "CREATE DATABASE shop");
    pg.psql(
        "shop",
        "CREATE TABLE watched (num integer NOT NULL PRIMARY KEY)",
    );
    cluster.start();
    // Three completed statements each: the last belongs to a check that began after the
    // first check was judged (level 0's first check also creates its table).
    for monitor in ["psqlw-select", "psqlw-update", "psqlw-createdrop"] {
        wait_until(&format!("{monitor} checks completed"), WAIT, || {
            pg.completed_statements(monitor) >= 3
        });
        assert_eq!(cluster.monitor_status(monitor), "Normal");
    }
    assert_eq!(cluster.count_alerts("rm 9 "), 0, "{}", cluster.alerts());
    // Level 0 made its table and keeps one row in it; level 1 leaves nothing behind.
    let written = pg.psql("shop", "SELECT num FROM psqlwatch");
    assert!(written.parse::<u32>().is_ok(), "{written:?}");
    wait_until("psqlw-update writes a new value", WAIT, || {
        pg.psql("shop", "SELECT num FROM psqlwatch") != written
    });
    assert_eq!(
        pg.psql("shop", "SELECT to_regclass('scratch') IS NULL"),
        "t"
    );

    // The DBA drops the table the select-only monitor reads.
    let since = mark(&cluster);
    pg.psql("shop", "DROP TABLE watched");
    wait_until("rm 9 psqlw-select", WAIT, || {
        count_since(&cluster, &since, "rm 9 ") == 1
    });
    let alerts = alerts_since(&cluster, &since);
    assert!(
        alerts.contains(
            "rm 9 Detected an error in monitoring psqlw-select. (3 : SELECT failed: ERROR: relation \"watched\" does not exist (SQLSTATE 42P01); monitor level 3 only reads the table: create it, or run level 0 once, which does.)"
        ),
        "{alerts}"
    );
    pg.psql(
        "shop",
        "CREATE TABLE watched (num integer NOT NULL PRIMARY KEY)",
    );
    wait_until("rm 26 psqlw-select", WAIT, || {
        count_since(
            &cluster,
            &since,
            "rm 26 psqlw-select status changed from error to normal.",
        ) == 1
    });
    assert_eq!(
        count_since(&cluster, &since, "rm 9 "),
        1,
        "only psqlw-select"
    );
    cluster.stop();
}

#[test]
fn psqlw_reports_the_servers_refusals_and_a_stopped_server() {
    let port = free_port();
    let cluster = Cluster::with_config(&format!(
        "[cluster]\nname = \"zabi\"\n{}{}",
        psqlw(
            "psqlw-password",
            port,
            "database = \"postgres\"\npassword = \"wrong\"",
            NO_RECOVERY
        ),
        psqlw(
            "psqlw-database",
            port,
            &format!("{AS_POSTGRES}\ndatabase = \"shop\""),
            NO_RECOVERY
        ),
    ));
    let mut pg = PgCluster::init(port);
    pg.start();
    cluster.start();
    let refused = |monitor: &str, database: &str, message: &str| {
        format!(
            "rm 9 Detected an error in monitoring {monitor}. (2 : Connecting to database \"{database}\" at 127.0.0.1:{port} as \"postgres\" failed: {message}.)"
        )
    };
    let wrong_password = refused(
        "psqlw-password",
        "postgres",
        "FATAL: password authentication failed for user \"postgres\" (SQLSTATE 28P01)",
    );
    let missing_database = refused(
        "psqlw-database",
        "shop",
        "FATAL: database \"shop\" does not exist (SQLSTATE 3D000)",
    );
    wait_until("both refusals", WAIT, || {
        let alerts = cluster.alerts();
        alerts.contains(&wrong_password) && alerts.contains(&missing_database)
    });
    assert!(
        !cluster.alerts().contains("wrong"),
        "no password in a detail"
    );

    // The DBA creates the database.
    pg.psql("postgres", "CREATE DATABASE shop");
    wait_until("rm 26 psqlw-database", WAIT, || {
        cluster.count_alerts("rm 26 psqlw-database status changed from error to normal.") == 1
    });

    // The server stops (SIGTERM to the postmaster the test started)...
    let since = mark(&cluster);
    let postmaster = pg.pid();
    pg.stop();
    assert!(!alive(postmaster));
    wait_until("rm 9 psqlw-database", WAIT, || {
        count_since(
            &cluster,
            &since,
            "rm 9 Detected an error in monitoring psqlw-database.",
        ) == 1
    });
    assert_stopped_server_detail(&alerts_since(&cluster, &since), "shop", port);
    // ... and starts again.
    pg.start();
    wait_until("rm 26 psqlw-database again", WAIT, || {
        count_since(
            &cluster,
            &since,
            "rm 26 psqlw-database status changed from error to normal.",
        ) == 1
    });
    assert_monitor_in_error(&cluster, "psqlw-password");
    cluster.stop();
}

#[test]
fn psqlw_sees_a_stopped_postgres_and_the_restart_that_recovers_it() {
    let port = free_port();
    let cluster = Cluster::with_config(&format!(
        r#"[cluster]
name = "zabi"

[[group]]
name = "db"

[[group.resource]]
name = "postgres"
mode = "async"
{}"#,
        psqlw(
            "psqlw",
            port,
            &format!("{AS_POSTGRES}\ndatabase = \"postgres\""),
            "target = \"postgres\"\nreactivation_threshold = 3\nfinal_action = \"none\""
        )
    ));
    let pg = PgCluster::init(port);
    cluster.script("db", "postgres", "start.sh", &pg.exec_line());
    cluster.script("db", "postgres", "stop.sh", "true");
    cluster.start();
    wait_until("a completed check, monitor normal", WAIT, || {
        pg.completed_statements("psqlw") >= 1 && cluster.monitor_status("psqlw") == "Normal"
    });
    let since = mark(&cluster);
    let before = pg.psql("postgres", "SELECT num FROM psqlwatch");

    // The database server stops.
    let server = cluster.resource_pid("postgres").expect("the postmaster");
    signal(server, libc::SIGTERM);
    wait_until("rm 9 psqlw", WAIT, || {
        count_since(
            &cluster,
            &since,
            "rm 9 Detected an error in monitoring psqlw.",
        ) == 1
    });
    assert_stopped_server_detail(&alerts_since(&cluster, &since), "postgres", port);

    // The recovery restarts the resource: the server is back, and so is the monitor.
    wait_until("rm 13 postgres", WAIT, || {
        count_since(
            &cluster,
            &since,
            "rm 13 Recovery target postgres has restarted because an error was detected in monitoring psqlw.",
        ) >= 1
    });
    wait_until("rm 26 psqlw", WAIT, || {
        count_since(
            &cluster,
            &since,
            "rm 26 psqlw status changed from error to normal.",
        ) == 1
    });
    assert_ne!(cluster.resource_pid("postgres"), Some(server));
    assert_ne!(pg.psql("postgres", "SELECT num FROM psqlwatch"), before);
    cluster.stop();
}

#[test]
fn a_hung_postgres_is_abandoned_at_the_timeout() {
    let port = free_port();
    let cluster = Cluster::with_config(&format!(
        "[cluster]\nname = \"zabi\"\n{}",
        psqlw(
            "psqlw",
            port,
            &format!("{AS_POSTGRES}\ndatabase = \"postgres\""),
            NO_RECOVERY
        )
        .replace("timeout = 5", "timeout = 1"),
    ));
    let mut pg = PgCluster::init(port);
    pg.start();
    cluster.start();
    wait_until("a completed check", WAIT, || {
        pg.completed_statements("psqlw") >= 2
    });

    // The postmaster stops answering: the kernel still accepts connections for it.
    let postmaster = pg.pid();
    signal(postmaster, libc::SIGSTOP);
    wait_until("rm 9 psqlw timed out", WAIT, || {
        cluster.alerts().contains(
            "rm 9 Detected an error in monitoring psqlw. (99 : Monitor timed out after 1 seconds.)",
        )
    });
    signal(postmaster, libc::SIGCONT);
    wait_until("rm 26 psqlw", WAIT, || {
        cluster.count_alerts("rm 26 psqlw status changed from error to normal.") == 1
    });
    cluster.stop();
}

#[test]
fn a_psqlw_without_its_database_is_refused_with_the_keys_named() {
    let cluster = Cluster::with_config(
        r#"
[cluster]
name = "zabi"
[[monitor]]
name = "psqlw"
type = "psqlw"
[monitor.parameters]
tabel = "watch"
docreatedrop = 2
"#,
    );
    let stderr = cluster.run("clpcl", &["-s"]).failure(4);
    for problem in [
        "monitor \"psqlw\".parameters: key \"database\" is missing",
        "monitor \"psqlw\".parameters: unknown key \"tabel\" (did you mean \"table\"?)",
        "monitor \"psqlw\".parameters: key \"docreatedrop\": 2 is not a psqlw level",
    ] {
        assert!(stderr.contains(problem), "{problem}\n{stderr}");
    }
    assert!(cluster.daemon_pid().is_none());
}
