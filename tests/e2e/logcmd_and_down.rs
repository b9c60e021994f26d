//! Commands that used to succeed silently while doing nothing: `clplogcmd` with an empty
//! message, `--mail` without a `[mail]` section, `--syslog` without a syslog socket, and
//! `clpdown` with clppm stopped (which ran the OS action from the caller's folder, unlogged).

use crate::harness::*;

#[test]
fn clplogcmd_refuses_what_it_cannot_do() {
    let cluster = Cluster::new();
    let empty = cluster.run("clplogcmd", &["-m", ""]).failure(2);
    assert!(empty.contains("the message is empty"), "{empty}");
    let blank = cluster
        .run("clplogcmd", &["-m", "  ", "--alert"])
        .failure(2);
    assert!(blank.contains("the message is empty"), "{blank}");

    let mail = cluster
        .run("clplogcmd", &["-m", "hello", "--mail"])
        .failure(4);
    assert!(
        mail.contains("--mail needs a [mail] section in")
            && mail.contains(&cluster.path("etc/clp.conf").display().to_string()),
        "{mail}"
    );

    let syslog = cluster
        .command("clplogcmd")
        .args(["-m", "hello", "--syslog"])
        .env("CLP_SYSLOG_SOCKET", cluster.path("no-such-dev-log"))
        .output()
        .unwrap();
    let syslog = Run { output: syslog }.failure(3);
    assert!(
        syslog.contains("--syslog: there is no syslog socket")
            && syslog.contains("no-such-dev-log"),
        "{syslog}"
    );
    // Nothing was logged by the refused commands.
    assert_eq!(cluster.count_alerts("hello"), 0);
}

#[test]
fn clpdown_with_clppm_stopped_acts_from_the_root_and_logs_it() {
    for (args, recorded, alert) in [
        (
            &[][..],
            "shutdown\n",
            "down 1 There was a request to shutdown",
        ),
        (
            &["-r"][..],
            "reboot\n",
            "down 2 There was a request to reboot",
        ),
    ] {
        let cluster = pidw_cluster(3, "none", "");
        let caller = tempfile::tempdir().unwrap();
        let run = cluster
            .command("clpdown")
            .args(args)
            .current_dir(caller.path())
            .output()
            .unwrap();
        Run { output: run }.success();
        assert!(
            !caller.path().join("recorded-os-actions").exists(),
            "the OS action ran in the caller's folder"
        );
        let written = std::fs::read_to_string(cluster.path("recorded-os-actions")).unwrap();
        assert_eq!(written, recorded);
        assert_eq!(cluster.count_alerts(alert), 1, "{}", cluster.alerts());
        assert!(
            cluster.alerts().contains("from the clpdown."),
            "{}",
            cluster.alerts()
        );
    }
}

/// The storm found it: a daemon that goes away between the greeting and the request made
/// `clplogcmd` exit 0 (its "Broken pipe" was taken for a closed stdout), so a script
/// believed a message logged that was never written anywhere. (The request now goes with
/// the greeting, in one write: it is the answer that never comes, and that is a failure
/// too, which names the lost connection.)
#[test]
fn a_daemon_gone_before_the_request_is_a_failure_not_a_success() {
    use std::io::{BufRead, BufReader, Write};
    let cluster = Cluster::new();
    let socket = clp_core::paths::Paths::new(cluster.root()).socket();
    std::fs::create_dir_all(socket.parent().unwrap()).unwrap();
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let daemon = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut hello = String::new();
        BufReader::new(&stream).read_line(&mut hello).unwrap();
        // Stops reading before it greets: the request then meets a broken pipe.
        stream.shutdown(std::net::Shutdown::Read).unwrap();
        let welcome = clp_core::ipc::Response::Welcome {
            protocol: clp_core::ipc::PROTOCOL,
            daemon_version: "test".into(),
            pid: std::process::id(),
        };
        let mut line = serde_json::to_string(&welcome).unwrap();
        line.push('\n');
        (&stream).write_all(line.as_bytes()).unwrap();
        std::thread::sleep(std::time::Duration::from_secs(2));
    });
    let run = cluster.run("clplogcmd", &["-m", "lost on the way", "-l", "ERR"]);
    daemon.join().unwrap();
    assert_ne!(run.code(), 0, "clplogcmd succeeded: {}", run.stderr());
    assert!(
        run.stderr().contains("lost the connection to clppm"),
        "{}",
        run.stderr()
    );
}

#[test]
fn clplogcmd_with_clppm_stopped_reports_an_unwritable_alert_log_in_the_store() {
    let cluster = Cluster::new();
    // log/alert.log is a folder: no record can be appended to it.
    std::fs::create_dir_all(cluster.path("log/alert.log")).unwrap();
    cluster
        .run("clplogcmd", &["-m", "offline hello", "--alert"])
        .failure(255);
    // The message and the failure are both in the store, as the daemon would keep them.
    let messages = cluster.run("clp_mltool", &["messages"]).success();
    assert!(messages.contains("offline hello"), "{messages}");
    assert!(
        messages.contains("Cannot write the alert log"),
        "the failure is an alert in the store:\n{messages}"
    );
}
