//! imap4w against a real Dovecot (`crate::dovecot`): every login method, a wrong password and
//! a method the server does not offer, a Dovecot stopped and restarted by the monitor's
//! recovery, and one that hangs (SIGSTOP).

use crate::app_servers::*;
use crate::dovecot::{Dovecot, PASSWORD};
use crate::harness::*;

/// A `[[monitor]]` imap4w on `port` checked every second, with `parameters` and `recovery`
/// (bodies of its tables).
fn imap4w(name: &str, port: u16, timeout: u32, parameters: &str, recovery: &str) -> String {
    format!(
        r#"
[[monitor]]
name = "{name}"
type = "imap4w"
interval = 1
timeout = {timeout}
retry = 0

[monitor.parameters]
ipaddress = "127.0.0.1"
port = {port}
{parameters}

[monitor.recovery]
{recovery}
"#
    )
}

const NO_RECOVERY: &str = "target = \"local-server\"\nfinal_action = \"none\"";

fn login(user: &str, authmethod: &str) -> String {
    format!("username = \"{user}\"\npassword = \"{PASSWORD}\"\nauthmethod = \"{authmethod}\"")
}

#[test]
fn imap4w_logs_in_every_way_and_reports_what_dovecot_refuses() {
    let mut dovecot = Dovecot::configure();
    let mut plain_only = Dovecot::configure_with_mechanisms("plain");
    let port = dovecot.imap_port;
    let cluster = Cluster::with_config(&format!(
        "[cluster]\nname = \"zabi\"\n{}{}{}{}{}{}",
        imap4w("imap-anonymous", port, 5, "", NO_RECOVERY),
        imap4w("imap-login", port, 5, &login("alice", "LOGIN"), NO_RECOVERY),
        // The original's default method: AUTHENTICATE LOGIN.
        imap4w(
            "imap-authlogin",
            port,
            5,
            &format!("username = \"bob\"\npassword = \"{PASSWORD}\""),
            NO_RECOVERY
        ),
        imap4w(
            "imap-plain",
            port,
            5,
            &login("carol", "AUTHENTICATE PLAIN"),
            NO_RECOVERY
        ),
        imap4w(
            "imap-wrong",
            port,
            5,
            "username = \"alice\"\npassword = \"not-her-password\"\nauthmethod = \"LOGIN\"",
            NO_RECOVERY
        ),
        imap4w(
            "imap-unoffered",
            plain_only.imap_port,
            5,
            &login("alice", "AUTHENTICATE LOGIN"),
            NO_RECOVERY
        ),
    ));
    dovecot.start();
    plain_only.start();
    cluster.start();
    // Two sessions each, logged out in order: the second began after the first was judged.
    wait_until("every method's sessions", WAIT, || {
        dovecot.anonymous_logouts("imap") >= 2
            && dovecot.logouts("imap", "alice") >= 2
            && dovecot.logouts("imap", "bob") >= 2
            && dovecot.logouts("imap", "carol") >= 2
    });
    // Dovecot's names: IMAP's LOGIN command is a PLAIN login.
    assert!(dovecot.logins("imap", "alice", "PLAIN") >= 2);
    assert!(dovecot.logins("imap", "bob", "LOGIN") >= 2);
    assert!(dovecot.logins("imap", "carol", "PLAIN") >= 2);
    for monitor in [
        "imap-anonymous",
        "imap-login",
        "imap-authlogin",
        "imap-plain",
    ] {
        assert_eq!(cluster.monitor_status(monitor), "Normal", "{monitor}");
    }

    // Dovecot's refusals, in its words (a wrong password is answered after 2 s).
    let wrong = "rm 9 Detected an error in monitoring imap-wrong. (4 : Login as \"alice\" refused: LOGIN was answered NO [AUTHENTICATIONFAILED] Authentication failed.)";
    let unoffered = format!(
        "rm 9 Detected an error in monitoring imap-unoffered. (4 : Cannot log in as \"alice\" with AUTHENTICATE LOGIN: 127.0.0.1:{} does not offer it (its AUTHENTICATE mechanisms: PLAIN); set authmethod to one it offers, or \"LOGIN\".)",
        plain_only.imap_port
    );
    wait_until("both refusals", WAIT, || {
        let alerts = cluster.alerts();
        alerts.contains(wrong) && alerts.contains(&unoffered)
    });
    assert_monitor_in_error(&cluster, "imap-wrong");
    assert_monitor_in_error(&cluster, "imap-unoffered");
    assert_eq!(cluster.count_alerts("rm 9 "), 2, "{}", cluster.alerts());
    assert!(!cluster.alerts().contains("not-her-password"));
    // The unoffered method sent no password: that Dovecot saw no login attempt at all.
    assert_eq!(plain_only.log_count(&["auth failed"]), 0);
    assert_eq!(plain_only.logins("imap", "alice", "LOGIN"), 0);
    cluster.stop();
}

#[test]
fn imap4w_sees_a_stopped_dovecot_and_the_restart_that_recovers_it() {
    let dovecot = Dovecot::configure();
    let port = dovecot.imap_port;
    let cluster = Cluster::with_config(&format!(
        r#"[cluster]
name = "zabi"

[[group]]
name = "mail"

[[group.resource]]
name = "dovecot"
mode = "async"
{}"#,
        imap4w(
            "imap4w",
            port,
            5,
            &login("alice", "LOGIN"),
            "target = \"dovecot\"\nreactivation_threshold = 3\nfinal_action = \"none\""
        )
        // It watches Dovecot while the resource is active, from one interval after its start.
        .replace(
            "retry = 0",
            "retry = 0\ntarget = \"dovecot\"\ntiming = \"active\""
        )
    ));
    cluster.script("mail", "dovecot", "start.sh", &dovecot.exec_line());
    cluster.script("mail", "dovecot", "stop.sh", "true");
    cluster.start();
    wait_until("a full session, monitor normal", WAIT, || {
        dovecot.logouts("imap", "alice") >= 1 && cluster.monitor_status("imap4w") == "Normal"
    });
    let since = mark(&cluster);

    // The mail server stops.
    let server = cluster.resource_pid("dovecot").expect("dovecot's master");
    assert_eq!(dovecot.master(), Some(server));
    signal(server, libc::SIGTERM);
    wait_until("rm 9 imap4w", WAIT, || {
        count_since(
            &cluster,
            &since,
            "rm 9 Detected an error in monitoring imap4w.",
        ) == 1
    });
    let alerts = alerts_since(&cluster, &since);
    // Refused once it is gone; a check during its shutdown hears it say so, or hang up.
    let refused = format!("(1 : Cannot connect to 127.0.0.1:{port}: Connection refused");
    let closed = format!("(2 : 127.0.0.1:{port} closed the connection");
    // A connection the listener had queued when it closed is reset.
    let reset = format!(
        "(2 : Reading the answer to the greeting from 127.0.0.1:{port} failed: Connection reset by peer"
    );
    let bye = "was answered BYE Server shutting down.)";
    assert!(
        [refused.as_str(), &closed, &reset, bye]
            .iter()
            .any(|detail| alerts.contains(detail)),
        "{alerts}"
    );
    let sessions = dovecot.logouts("imap", "alice");

    // The recovery restarts the resource: Dovecot is back, and so is the monitor.
    wait_until("rm 13 dovecot", WAIT, || {
        count_since(
            &cluster,
            &since,
            "rm 13 Recovery target dovecot has restarted because an error was detected in monitoring imap4w.",
        ) >= 1
    });
    wait_until("rm 26 imap4w", WAIT, || {
        count_since(
            &cluster,
            &since,
            "rm 26 imap4w status changed from error to normal.",
        ) == 1
    });
    let restarted = cluster.resource_pid("dovecot").expect("the new master");
    assert_ne!(restarted, server);
    assert_eq!(dovecot.master(), Some(restarted));
    assert!(dovecot.logouts("imap", "alice") > sessions);
    assert_eq!(cluster.monitor_status("imap4w"), "Normal");
    cluster.stop();
}

#[test]
fn a_hung_dovecot_is_abandoned_by_imap4w_at_the_timeout() {
    let mut dovecot = Dovecot::configure();
    let cluster = Cluster::with_config(&format!(
        "[cluster]\nname = \"zabi\"\n{}",
        imap4w(
            "imap4w",
            dovecot.imap_port,
            1,
            &login("alice", "LOGIN"),
            NO_RECOVERY
        ),
    ));
    dovecot.start();
    cluster.start();
    wait_until("a full session", WAIT, || {
        dovecot.logouts("imap", "alice") >= 1
    });

    // Every Dovecot process stops: the kernel still accepts connections, nobody greets.
    dovecot.freeze();
    wait_until("rm 9 imap4w timed out", WAIT, || {
        cluster.alerts().contains(
            "rm 9 Detected an error in monitoring imap4w. (99 : Monitor timed out after 1 seconds.)",
        )
    });
    assert_monitor_in_error(&cluster, "imap4w");
    dovecot.thaw();
    wait_until("rm 26 imap4w", WAIT, || {
        cluster.count_alerts("rm 26 imap4w status changed from error to normal.") == 1
    });
    assert_eq!(cluster.count_alerts("rm 9 "), 1, "{}", cluster.alerts());
    cluster.stop();
}
