//! smtpw against a real SMTP server (aiosmtpd, run by an exec resource the monitor recovers)
//! and against the faults a real server will not make on demand: a server that never
//! greets, and one that turns EHLO away with 421.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::app_servers::*;
use crate::harness::*;

/// A group `mail` whose async resource `smtp` runs aiosmtpd on `port` (its log, with every
/// command it receives, in `smtp.log`), watched by `smtpw`, which restarts it.
fn mail_cluster(port: u16) -> Cluster {
    let cluster = Cluster::with_config(&format!(
        r#"[cluster]
name = "zabi"

[[group]]
name = "mail"

[[group.resource]]
name = "smtp"
mode = "async"

[[monitor]]
name = "smtpw"
type = "smtpw"
interval = 1
timeout = 5
retry = 0

[monitor.parameters]
ipaddress = "127.0.0.1"
port = {port}

[monitor.recovery]
target = "smtp"
reactivation_threshold = 3
final_action = "none"
"#
    ));
    cluster.script(
        "mail",
        "smtp",
        "start.sh",
        &format!(
            "exec '{}' -m aiosmtpd -n -d -l 127.0.0.1:{port} >> '{}' 2>&1",
            venv_python().display(),
            cluster.path("smtp.log").display()
        ),
    );
    cluster.script("mail", "smtp", "stop.sh", "true");
    cluster
}

/// Sessions aiosmtpd saw end with QUIT: smtpw sends QUIT only after NOOP succeeded.
fn full_sessions(cluster: &Cluster) -> usize {
    count_lines(&cluster.path("smtp.log"), ">> b'QUIT'")
}

#[test]
fn smtpw_sees_a_stopped_smtp_server_and_the_restart_that_recovers_it() {
    let port = free_port();
    let cluster = mail_cluster(port);
    cluster.start();
    wait_until("a full SMTP session, monitor normal", WAIT, || {
        full_sessions(&cluster) >= 1 && cluster.monitor_status("smtpw") == "Normal"
    });
    let since = mark(&cluster);
    let sessions = full_sessions(&cluster);

    // The mail server stops.
    let server = cluster.resource_pid("smtp").expect("aiosmtpd's pid");
    signal(server, libc::SIGTERM);
    wait_until("rm 9 smtpw", WAIT, || {
        count_since(
            &cluster,
            &since,
            "rm 9 Detected an error in monitoring smtpw.",
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
    wait_until("rm 13 smtp", WAIT, || {
        count_since(
            &cluster,
            &since,
            "rm 13 Recovery target smtp has restarted because an error was detected in monitoring smtpw.",
        ) >= 1
    });
    wait_until("rm 26 smtpw", WAIT, || {
        count_since(
            &cluster,
            &since,
            "rm 26 smtpw status changed from error to normal.",
        ) == 1
    });
    let restarted = cluster.resource_pid("smtp").expect("the new aiosmtpd");
    assert_ne!(restarted, server);
    assert!(alive(restarted));
    assert!(full_sessions(&cluster) > sessions);
    assert_eq!(cluster.monitor_status("smtpw"), "Normal");
    cluster.stop();
}

const SILENT: u8 = 0;
const REFUSE_EHLO: u8 = 1;
const HEALTHY: u8 = 2;

/// A loopback SMTP server of the test's own, for the faults: it accepts and says nothing
/// (`SILENT`), greets and answers EHLO with 421 (`REFUSE_EHLO`), or serves a short session
/// (`HEALTHY`). Each connection takes the behaviour current when it is accepted. Its
/// threads end with the test process.
struct FakeSmtp {
    port: u16,
    behaviour: Arc<AtomicU8>,
    /// For each silent connection: how long the client stayed before hanging up.
    silent_hang_ups: Arc<Mutex<Vec<Duration>>>,
}

impl FakeSmtp {
    fn start(behaviour: u8) -> FakeSmtp {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().unwrap().port();
        let fake = FakeSmtp {
            port,
            behaviour: Arc::new(AtomicU8::new(behaviour)),
            silent_hang_ups: Arc::default(),
        };
        let behaviour = Arc::clone(&fake.behaviour);
        let hang_ups = Arc::clone(&fake.silent_hang_ups);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let now = behaviour.load(Ordering::SeqCst);
                let hang_ups = Arc::clone(&hang_ups);
                std::thread::spawn(move || serve(stream, now, &hang_ups));
            }
        });
        fake
    }

    fn behave(&self, behaviour: u8) {
        self.behaviour.store(behaviour, Ordering::SeqCst);
    }
}

fn serve(mut stream: TcpStream, behaviour: u8, hang_ups: &Mutex<Vec<Duration>>) {
    let accepted = Instant::now();
    if behaviour == SILENT {
        // Read until the client gives up: a read of 0 bytes is its hang-up.
        let mut buffer = [0u8; 256];
        while matches!(stream.read(&mut buffer), Ok(n) if n > 0) {}
        hang_ups.lock().unwrap().push(accepted.elapsed());
        return;
    }
    let Ok(reader) = stream.try_clone() else {
        return;
    };
    let _ = stream.write_all(b"220 fake.test ESMTP\r\n");
    for line in BufReader::new(reader).lines() {
        let Ok(line) = line else { return };
        let verb = line
            .split(' ')
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reply: &[u8] = match (verb.as_str(), behaviour) {
            ("EHLO", REFUSE_EHLO) => b"421 4.3.2 Service shutting down\r\n",
            ("EHLO", _) => b"250-fake.test\r\n250 HELP\r\n",
            ("NOOP", _) => b"250 OK\r\n",
            ("QUIT", _) => b"221 Bye\r\n",
            _ => b"500 Unknown command\r\n",
        };
        if stream.write_all(reply).is_err() || reply.starts_with(b"421") || verb == "QUIT" {
            return;
        }
    }
}

/// One smtpw on `port`, checked every second, recovered by nothing (local server, final
/// action none).
fn smtpw_cluster(port: u16, timeout: u32) -> Cluster {
    Cluster::with_config(&format!(
        r#"[cluster]
name = "zabi"

[[monitor]]
name = "smtpw"
type = "smtpw"
interval = 1
timeout = {timeout}
retry = 0

[monitor.parameters]
port = {port}

[monitor.recovery]
target = "local-server"
final_action = "none"
"#
    ))
}

#[test]
fn an_smtp_server_that_never_greets_is_abandoned_at_the_timeout() {
    let fake = FakeSmtp::start(SILENT);
    let cluster = smtpw_cluster(fake.port, 1);
    cluster.start();
    wait_until("rm 9 smtpw timed out", WAIT, || {
        cluster.alerts().contains(
            "rm 9 Detected an error in monitoring smtpw. (99 : Monitor timed out after 1 seconds.)",
        )
    });
    assert_monitor_in_error(&cluster, "smtpw");
    // The abandoned check let its connection go at the timeout, not later.
    wait_until("the abandoned check hung up", WAIT, || {
        !fake.silent_hang_ups.lock().unwrap().is_empty()
    });
    let stayed = fake.silent_hang_ups.lock().unwrap()[0];
    assert!(
        stayed >= Duration::from_millis(900) && stayed < Duration::from_secs(3),
        "the check stayed connected {stayed:?}"
    );

    // The server greets again: back to normal.
    fake.behave(HEALTHY);
    wait_until("rm 26 smtpw", WAIT, || {
        cluster.count_alerts("rm 26 smtpw status changed from error to normal.") == 1
    });
    assert_eq!(cluster.count_alerts("rm 9 "), 1);
    cluster.stop();
}

#[test]
fn an_smtp_server_that_answers_ehlo_with_421_is_in_error() {
    let fake = FakeSmtp::start(REFUSE_EHLO);
    let cluster = smtpw_cluster(fake.port, 5);
    cluster.start();
    wait_until("rm 9 smtpw 421", WAIT, || {
        cluster.alerts().contains(
            "rm 9 Detected an error in monitoring smtpw. (3 : EHLO was answered 421 4.3.2 Service shutting down.)",
        )
    });
    assert_monitor_in_error(&cluster, "smtpw");

    fake.behave(HEALTHY);
    wait_until("rm 26 smtpw", WAIT, || {
        cluster.count_alerts("rm 26 smtpw status changed from error to normal.") == 1
    });
    assert_eq!(cluster.monitor_status("smtpw"), "Normal");
    cluster.stop();
}
