//! ftpw against a real FTP server (pyftpdlib, run by an exec resource the monitor recovers):
//! a stopped server, and a login refused because the user's password changed on the server.

use crate::app_servers::*;
use crate::harness::*;

/// pyftpdlib with one user, `tester`, whose password is read from a file at every login
/// (so a test can change it on the running server), logging every command.
const FTP_SERVER: &str = r#"
import logging, os, sys
from pyftpdlib.authorizers import AuthenticationFailed, DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer

port, home, password_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]

class PasswordFileAuthorizer(DummyAuthorizer):
    def validate_authentication(self, username, password, handler):
        with open(password_file) as f:
            expected = f.read().strip()
        if username != "tester" or password != expected:
            raise AuthenticationFailed("Authentication failed.")

logging.basicConfig(level=logging.DEBUG)
os.makedirs(home, exist_ok=True)
authorizer = PasswordFileAuthorizer()
authorizer.add_user("tester", "", home, perm="elr")
FTPHandler.authorizer = authorizer
FTPServer(("127.0.0.1", port), FTPHandler).serve_forever()
"#;

/// A group `files` whose async resource `ftp` runs pyftpdlib on `port` (log in `ftp.log`,
/// the user's password in `ftp-password`, initially `secret`), watched by `ftpw` logging in
/// as tester/secret. `recovery` is the monitor's `[monitor.recovery]` body.
fn ftp_cluster(port: u16, timeout: u32, recovery: &str) -> Cluster {
    let cluster = Cluster::with_config(&format!(
        r#"[cluster]
name = "zabi"

[[group]]
name = "files"

[[group.resource]]
name = "ftp"
mode = "async"

[[monitor]]
name = "ftpw"
type = "ftpw"
interval = 1
timeout = {timeout}
retry = 0

[monitor.parameters]
ipaddress = "127.0.0.1"
port = {port}
username = "tester"
password = "secret"

[monitor.recovery]
{recovery}
"#
    ));
    std::fs::write(cluster.path("ftpserver.py"), FTP_SERVER).unwrap();
    std::fs::write(cluster.path("ftp-password"), "secret\n").unwrap();
    cluster.script(
        "files",
        "ftp",
        "start.sh",
        &format!(
            "exec '{}' '{}' {port} '{}' '{}' >> '{}' 2>&1",
            venv_python().display(),
            cluster.path("ftpserver.py").display(),
            cluster.path("ftp-home").display(),
            cluster.path("ftp-password").display(),
            cluster.path("ftp.log").display()
        ),
    );
    cluster.script("files", "ftp", "stop.sh", "true");
    cluster
}

/// Sessions pyftpdlib saw end with QUIT: ftpw sends QUIT only after its login and NOOP
/// succeeded.
fn full_sessions(cluster: &Cluster) -> usize {
    count_lines(&cluster.path("ftp.log"), "[tester] <- QUIT")
}

#[test]
fn ftpw_sees_a_stopped_ftp_server_and_the_restart_that_recovers_it() {
    let port = free_port();
    let cluster = ftp_cluster(
        port,
        5,
        "target = \"ftp\"\nreactivation_threshold = 3\nfinal_action = \"none\"",
    );
    cluster.start();
    wait_until("a full FTP session, monitor normal", WAIT, || {
        full_sessions(&cluster) >= 1 && cluster.monitor_status("ftpw") == "Normal"
    });
    let since = mark(&cluster);
    let sessions = full_sessions(&cluster);

    // The FTP server stops.
    let server = cluster.resource_pid("ftp").expect("pyftpdlib's pid");
    signal(server, libc::SIGTERM);
    wait_until("rm 9 ftpw", WAIT, || {
        count_since(
            &cluster,
            &since,
            "rm 9 Detected an error in monitoring ftpw.",
        ) == 1
    });
    let alerts = alerts_since(&cluster, &since);
    let refused = format!("(1 : Cannot connect to 127.0.0.1:{port}: Connection refused");
    // A check that met the server half-way through its stop sees the connection close.
    let closed = format!("(2 : 127.0.0.1:{port} closed the connection without answering");
    assert!(
        alerts.contains(&refused) || alerts.contains(&closed),
        "{alerts}"
    );

    // The recovery restarts the resource: the server is back, and so is the monitor.
    wait_until("rm 13 ftp", WAIT, || {
        count_since(
            &cluster,
            &since,
            "rm 13 Recovery target ftp has restarted because an error was detected in monitoring ftpw.",
        ) >= 1
    });
    wait_until("rm 26 ftpw", WAIT, || {
        count_since(
            &cluster,
            &since,
            "rm 26 ftpw status changed from error to normal.",
        ) == 1
    });
    let restarted = cluster.resource_pid("ftp").expect("the new pyftpdlib");
    assert_ne!(restarted, server);
    assert!(full_sessions(&cluster) > sessions);
    assert_eq!(cluster.monitor_status("ftpw"), "Normal");
    cluster.stop();
}

#[test]
fn ftpw_is_in_error_while_the_server_refuses_its_password() {
    let port = free_port();
    // pyftpdlib answers a wrong password after 3 seconds: the timeout leaves room for it.
    let cluster = ftp_cluster(
        port,
        10,
        "target = \"local-server\"\nfinal_action = \"none\"",
    );
    cluster.start();
    wait_until("a full FTP session, monitor normal", WAIT, || {
        full_sessions(&cluster) >= 1 && cluster.monitor_status("ftpw") == "Normal"
    });
    let since = mark(&cluster);

    // The user's password is changed on the server; the monitor still has the old one.
    std::fs::write(cluster.path("ftp-password"), "rotated\n").unwrap();
    wait_until("rm 9 ftpw login refused", WAIT, || {
        alerts_since(&cluster, &since).contains(
            "rm 9 Detected an error in monitoring ftpw. (4 : Login as \"tester\" refused: PASS was answered 530 Authentication failed.)",
        )
    });
    assert_monitor_in_error(&cluster, "ftpw");
    assert!(
        !cluster.alerts().contains("secret"),
        "a detail never quotes the password"
    );

    // The password is set back: the monitor logs in again.
    std::fs::write(cluster.path("ftp-password"), "secret\n").unwrap();
    wait_until("rm 26 ftpw", WAIT, || {
        count_since(
            &cluster,
            &since,
            "rm 26 ftpw status changed from error to normal.",
        ) == 1
    });
    cluster.stop();
}
