//! The alert service: error-level alerts mailed through a real SMTP server (aiosmtpd on
//! loopback), a burst gathered into one mail, clplogcmd --mail, and the ALRT10 license.

use crate::app_servers::*;
use crate::harness::*;

/// A group running aiosmtpd (its Maildir in `maildir/`) and two genw monitors that fail
/// together one interval after the server is up.
fn mail_cluster(cluster: &Cluster, port: u16) {
    cluster.write_config(&format!(
        r#"[cluster]
name = "zabi"

[mail]
to = ["admin@example.invalid", "oncall@example.invalid"]
from = "clp@example.invalid"
server = "127.0.0.1"
port = {port}
subject = "CLUSTERPRO"
batch_seconds = 3

[[group]]
name = "mail"
[[group.resource]]
name = "smtp"
mode = "async"

[[monitor]]
name = "first"
type = "genw"
target = "smtp"
timing = "active"
interval = 1
retry = 0
[monitor.parameters]
path = "fail.sh"
[monitor.recovery]
target = "local-server"
final_action = "none"

[[monitor]]
name = "second"
type = "genw"
target = "smtp"
timing = "active"
interval = 1
retry = 0
[monitor.parameters]
path = "fail.sh"
[monitor.recovery]
target = "local-server"
final_action = "none"
"#
    ));
    cluster.script(
        "mail",
        "smtp",
        "start.sh",
        &format!(
            "exec '{}' -m aiosmtpd -n -l 127.0.0.1:{port} -c aiosmtpd.handlers.Mailbox '{}'",
            venv_python().display(),
            cluster.path("maildir").display()
        ),
    );
    for monitor in ["first", "second"] {
        let dir = cluster.path(&format!("etc/scripts/monitor.s/{monitor}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("fail.sh"), "exit 1\n").unwrap();
    }
}

fn mails(cluster: &Cluster) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(cluster.path("maildir/new")) else {
        return Vec::new();
    };
    let mut mails: Vec<String> = entries
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    mails.sort();
    mails
}

#[test]
fn error_alerts_are_mailed_a_burst_in_one_mail() {
    let port = free_port();
    let cluster = Cluster::new();
    mail_cluster(&cluster, port);
    cluster.start();
    wait_until("a mail", WAIT, || !mails(&cluster).is_empty());
    wait_until("mail 6", WAIT, || {
        cluster.alerts().contains(&format!(
            "mail 6 mail successed.(SMTP server: 127.0.0.1:{port})"
        ))
    });
    let all = mails(&cluster);
    assert_eq!(
        all.len(),
        1,
        "the two errors of one burst go in one mail: {all:#?}"
    );
    // Long headers are folded onto continuation lines: unfold them.
    let mail = &all[0].replace("\n ", " ");
    assert!(
        mail.contains(&format!(
            "Subject: CLUSTERPRO {}: Detected an error in monitoring",
            host()
        )),
        "{mail}"
    );
    assert!(mail.contains("(+1 more)"), "{mail}");
    assert!(
        mail.contains("To: admin@example.invalid, oncall@example.invalid"),
        "{mail}"
    );
    for monitor in ["first", "second"] {
        assert!(
            mail.contains(&format!(
                "Message: Detected an error in monitoring {monitor}. (11 :"
            )),
            "{mail}"
        );
    }
    assert!(
        mail.contains(&format!("Type: rm\nID: 9\nHost: {}\nDate: ", host())),
        "{mail}"
    );
    // Info alerts are not mailed; clplogcmd --mail is, whatever its level.
    cluster
        .run("clplogcmd", &["-m", "backup finished", "--mail"])
        .success();
    wait_until("a second mail", WAIT, || mails(&cluster).len() == 2);
    assert!(
        mails(&cluster)
            .iter()
            .any(|m| m.contains("Message: backup finished\nType: logcmd\nID: 1"))
    );
    assert!(
        !cluster.alerts().contains("backup finished"),
        "--mail alone does not write the alert log"
    );
    cluster.stop();
}

#[test]
fn without_the_alert_license_nothing_is_mailed() {
    let port = free_port();
    let cluster = Cluster::unlicensed();
    cluster
        .run("clplcncs", &["--trial", "-P", "XSS10"])
        .success();
    mail_cluster(&cluster, port);
    cluster.start();
    wait_until("rm 9", WAIT, || cluster.count_alerts("rm 9") >= 2);
    assert!(
        cluster
            .alerts()
            .contains("lcns 4 The license is not registered. (Product name:ALRT10)")
    );
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(mails(&cluster).is_empty());
    cluster.stop();
}

#[test]
fn a_bad_mail_table_is_refused_with_every_key() {
    let cluster =
        Cluster::with_config("[mail]\nto = [\"nobody\"]\nsecurity = \"ssl\"\nsubjet = \"x\"\n");
    let stderr = cluster.run("clpcl", &["-s"]).failure(4);
    for expected in [
        "mail: unknown key \"subjet\" (did you mean \"subject\"?)",
        "mail: key \"to\": \"nobody\" is not a mail address",
        "mail: key \"server\" is missing",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in {stderr}"
        );
    }
}
