//! pop3w against a real Dovecot (`crate::dovecot`): USER/PASS and APOP (Dovecot offers it
//! when its `auth_mechanisms` has apop: the greeting carries the timestamp), wrong
//! passwords, APOP asked of a Dovecot that does not offer it, a Dovecot stopped and
//! restarted by the monitor's recovery, and one that hangs (SIGSTOP).

use crate::app_servers::*;
use crate::dovecot::{Dovecot, PASSWORD};
use crate::harness::*;

/// A `[[monitor]]` pop3w on `port` checked every second, with `parameters` and `recovery`
/// (bodies of its tables).
fn pop3w(name: &str, port: u16, timeout: u32, parameters: &str, recovery: &str) -> String {
    format!(
        r#"
[[monitor]]
name = "{name}"
type = "pop3w"
interval = 1
timeout = {timeout}
retry = 0

[monitor.parameters]
port = {port}
{parameters}

[monitor.recovery]
{recovery}
"#
    )
}

const NO_RECOVERY: &str = "target = \"local-server\"\nfinal_action = \"none\"";

fn login(user: &str, password: &str, authmethod: &str) -> String {
    format!("username = \"{user}\"\npassword = \"{password}\"\nauthmethod = \"{authmethod}\"")
}

#[test]
fn pop3w_logs_in_with_user_pass_and_apop_and_reports_what_dovecot_refuses() {
    let mut dovecot = Dovecot::configure();
    let mut without_apop = Dovecot::configure_with_mechanisms("plain");
    let port = dovecot.pop3_port;
    let cluster = Cluster::with_config(&format!(
        "[cluster]\nname = \"zabi\"\n{}{}{}{}{}{}",
        pop3w("pop-anonymous", port, 5, "", NO_RECOVERY),
        pop3w(
            "pop-user",
            port,
            5,
            &login("alice", PASSWORD, "USER/PASS"),
            NO_RECOVERY
        ),
        // The original's default method: APOP.
        pop3w(
            "pop-apop",
            port,
            5,
            &format!("username = \"bob\"\npassword = \"{PASSWORD}\""),
            NO_RECOVERY
        ),
        pop3w(
            "pop-user-wrong",
            port,
            5,
            &login("carol", "not-her-password", "USER/PASS"),
            NO_RECOVERY
        ),
        pop3w(
            "pop-apop-wrong",
            port,
            5,
            &login("carol", "not-her-password", "APOP"),
            NO_RECOVERY
        ),
        pop3w(
            "pop-apop-unoffered",
            without_apop.pop3_port,
            5,
            &login("alice", PASSWORD, "APOP"),
            NO_RECOVERY
        ),
    ));
    dovecot.start();
    without_apop.start();
    cluster.start();
    // Two sessions each, ended with QUIT: the second began after the first was judged.
    wait_until("every method's sessions", WAIT, || {
        dovecot.anonymous_logouts("pop3") >= 2
            && dovecot.logouts("pop3", "alice") >= 2
            && dovecot.logouts("pop3", "bob") >= 2
    });
    assert!(dovecot.logins("pop3", "alice", "PLAIN") >= 2);
    assert!(dovecot.logins("pop3", "bob", "APOP") >= 2);
    for monitor in ["pop-anonymous", "pop-user", "pop-apop"] {
        assert_eq!(cluster.monitor_status(monitor), "Normal", "{monitor}");
    }

    // Dovecot's refusals, in its words (a wrong password is answered after 2 s).
    let refused = |monitor: &str, step: &str| {
        format!(
            "rm 9 Detected an error in monitoring {monitor}. (4 : Login as \"carol\" refused: {step} was answered -ERR [AUTH] Authentication failed.)"
        )
    };
    let unoffered = format!(
        "rm 9 Detected an error in monitoring pop-apop-unoffered. (4 : Cannot log in as \"alice\" with APOP: 127.0.0.1:{} offers no APOP (its greeting has no <timestamp>); set authmethod = \"USER/PASS\" for this server.)",
        without_apop.pop3_port
    );
    wait_until("the three refusals", WAIT, || {
        let alerts = cluster.alerts();
        alerts.contains(&refused("pop-user-wrong", "PASS"))
            && alerts.contains(&refused("pop-apop-wrong", "APOP"))
            && alerts.contains(&unoffered)
    });
    assert_eq!(cluster.count_alerts("rm 9 "), 3, "{}", cluster.alerts());
    assert!(!cluster.alerts().contains("not-her-password"));
    // APOP asked of a server without it sent nothing after the greeting: no login, no
    // failed attempt, only clients that hung up.
    assert_eq!(without_apop.log_count(&["Login: user="]), 0);
    assert_eq!(without_apop.log_count(&["auth failed"]), 0);
    cluster.stop();
}

#[test]
fn pop3w_sees_a_stopped_dovecot_and_the_restart_that_recovers_it() {
    let dovecot = Dovecot::configure();
    let port = dovecot.pop3_port;
    let cluster = Cluster::with_config(&format!(
        r#"[cluster]
name = "zabi"

[[group]]
name = "mail"

[[group.resource]]
name = "dovecot"
mode = "async"
{}"#,
        pop3w(
            "pop3w",
            port,
            5,
            &format!("username = \"bob\"\npassword = \"{PASSWORD}\""),
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
    wait_until("a full APOP session, monitor normal", WAIT, || {
        dovecot.logouts("pop3", "bob") >= 1 && cluster.monitor_status("pop3w") == "Normal"
    });
    let since = mark(&cluster);

    // The mail server stops.
    let server = cluster.resource_pid("dovecot").expect("dovecot's master");
    assert_eq!(dovecot.master(), Some(server));
    signal(server, libc::SIGTERM);
    wait_until("rm 9 pop3w", WAIT, || {
        count_since(
            &cluster,
            &since,
            "rm 9 Detected an error in monitoring pop3w.",
        ) == 1
    });
    let alerts = alerts_since(&cluster, &since);
    // Refused once it is gone; a check during its shutdown sees it hang up or say so.
    let refused = format!("(1 : Cannot connect to 127.0.0.1:{port}: Connection refused");
    let closed = format!("(2 : 127.0.0.1:{port} closed the connection");
    // A connection the listener had queued when it closed is reset.
    let reset = format!(
        "(2 : Reading the answer to the greeting from 127.0.0.1:{port} failed: Connection reset by peer"
    );
    let shutting_down = "was answered -ERR";
    // A connection accepted while it shuts down may get no answer at all: on a loaded
    // machine the check then times out (seen in CI).
    let silent = "(99 : Monitor timed out after";
    assert!(
        [refused.as_str(), &closed, &reset, shutting_down, silent]
            .iter()
            .any(|detail| alerts.contains(detail)),
        "{alerts}"
    );
    let sessions = dovecot.logouts("pop3", "bob");

    // The recovery restarts the resource: Dovecot is back, and so is the monitor.
    wait_until("rm 13 dovecot", WAIT, || {
        count_since(
            &cluster,
            &since,
            "rm 13 Recovery target dovecot has restarted because an error was detected in monitoring pop3w.",
        ) >= 1
    });
    wait_until("rm 26 pop3w", WAIT, || {
        count_since(
            &cluster,
            &since,
            "rm 26 pop3w status changed from error to normal.",
        ) == 1
    });
    let restarted = cluster.resource_pid("dovecot").expect("the new master");
    assert_ne!(restarted, server);
    assert_eq!(dovecot.master(), Some(restarted));
    assert!(dovecot.logouts("pop3", "bob") > sessions);
    assert_eq!(cluster.monitor_status("pop3w"), "Normal");
    cluster.stop();
}

#[test]
fn a_hung_dovecot_is_abandoned_by_pop3w_at_the_timeout() {
    let mut dovecot = Dovecot::configure();
    let cluster = Cluster::with_config(&format!(
        "[cluster]\nname = \"zabi\"\n{}",
        pop3w(
            "pop3w",
            dovecot.pop3_port,
            1,
            &login("alice", PASSWORD, "USER/PASS"),
            NO_RECOVERY
        ),
    ));
    dovecot.start();
    cluster.start();
    wait_until("a full session", WAIT, || {
        dovecot.logouts("pop3", "alice") >= 1
    });

    // Every Dovecot process stops: the kernel still accepts connections, nobody greets.
    dovecot.freeze();
    wait_until("rm 9 pop3w timed out", WAIT, || {
        cluster.alerts().contains(
            "rm 9 Detected an error in monitoring pop3w. (99 : Monitor timed out after 1 seconds.)",
        )
    });
    assert_monitor_in_error(&cluster, "pop3w");
    dovecot.thaw();
    wait_until("rm 26 pop3w", WAIT, || {
        cluster.count_alerts("rm 26 pop3w status changed from error to normal.") == 1
    });
    assert_eq!(cluster.count_alerts("rm 9 "), 1, "{}", cluster.alerts());
    cluster.stop();
}
