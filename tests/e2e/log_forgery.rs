//! Alert-log line forgery: whatever a message, a client's name or a configuration name holds,
//! it cannot write a second, fake record into `alert.log`, `clp_mltool messages`, the daemon
//! log or a terminal.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;

use crate::harness::*;

/// A fake record an attacker appends after a newline.
const FORGED: &str = "2026/12/02 17:00:00.000 Error   rt rm 9 Monitor forged detected an error.";

/// No line of `text` starts with the forged record's time.
fn no_forged_line(what: &str, text: &str) {
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("2026/12/02 17:00:00.000")),
        "{what} holds a forged line:\n{text}"
    );
}

#[test]
fn a_message_with_a_newline_is_one_alert_record() {
    let cluster = Cluster::new();
    cluster.start();
    let message = format!("x\n{FORGED}\u{1b}[2J\u{202e}");
    cluster
        .run("clplogcmd", &["-m", &message, "-l", "ERR", "--alert"])
        .success();
    let alerts = cluster.alerts();
    no_forged_line("alert.log", &alerts);
    let lines: Vec<&str> = alerts.lines().filter(|l| l.contains("forged")).collect();
    assert_eq!(lines.len(), 1, "{alerts}");
    assert!(
        lines[0].ends_with(&format!("logcmd 1 x\\n{FORGED}\\u{{1b}}[2J\\u{{202e}}")),
        "{}",
        lines[0]
    );
    let shown = cluster
        .run("clp_mltool", &["messages", "-l", "ERR"])
        .success();
    no_forged_line("clp_mltool messages", &shown);
    assert_eq!(
        shown.lines().filter(|l| l.contains("forged")).count(),
        1,
        "{shown}"
    );
    assert!(
        !shown.contains('\u{1b}') && !shown.contains('\u{202e}'),
        "{shown:?}"
    );
    assert!(
        cluster
            .run("clp_mltool", &["messages", "-m", "rm"])
            .success()
            .lines()
            .all(|l| !l.contains("forged")),
        "the forged rm record is not there"
    );
    cluster.stop();
    // Read back from the store with the daemon down: still one record.
    let offline = cluster
        .run("clp_mltool", &["messages", "-l", "ERR"])
        .success();
    no_forged_line("clp_mltool messages (store)", &offline);
}

#[test]
fn a_client_name_with_a_newline_forges_nothing() {
    let cluster = Cluster::new();
    cluster.start();
    let mut stream = UnixStream::connect(cluster.path("run/clppm.sock")).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut exchange = |request: serde_json::Value| {
        stream.write_all(format!("{request}\n").as_bytes()).unwrap();
        let mut answer = String::new();
        reader.read_line(&mut answer).unwrap();
        serde_json::from_str::<serde_json::Value>(&answer).unwrap()
    };
    let hello = exchange(serde_json::json!({
        "type": "hello", "protocol": 1, "client": format!("evil\n{FORGED}")
    }));
    assert_eq!(hello["type"], "welcome", "{hello}");
    let done = exchange(serde_json::json!({"type": "suspend"}));
    assert_eq!(done["type"], "done", "{done}");
    wait_until("the suspension is logged", WAIT, || {
        cluster.count_alerts("forged") >= 2
    });
    let alerts = cluster.alerts();
    no_forged_line("alert.log", &alerts);
    assert!(
        alerts.contains("evil\\n2026/12/02 17:00:00.000 Error"),
        "{alerts}"
    );
    // The name is escaped when it arrives, so the store holds no raw newline either.
    let json: serde_json::Value = serde_json::from_str(
        &cluster
            .run("clp_mltool", &["messages", "-m", "pm", "--json"])
            .success(),
    )
    .unwrap();
    let messages: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["message"].as_str())
        .filter(|m| m.contains("forged"))
        .collect();
    assert!(!messages.is_empty(), "{json}");
    assert!(messages.iter().all(|m| !m.contains('\n')), "{messages:?}");
    cluster.run("clpcl", &["--resume"]).success();
    cluster.stop();
    let daemon_log = std::fs::read_to_string(cluster.path("log/clppm.log")).unwrap();
    no_forged_line("clppm.log", &daemon_log);
}

#[test]
fn a_configuration_name_with_a_control_character_is_refused_and_shown_escaped() {
    let cluster = Cluster::new();
    cluster.write_config(
        "[cluster]\nname = \"zabi\"\n[[group]]\nname = \"web\\u001b[2J\\u202e\"\n[[monitor]]\nname = \"u\\nfake\"\ntype = \"userw\"\n",
    );
    let run = cluster.run("clpstat", &["-i"]);
    let stderr = run.stderr();
    assert_ne!(run.code(), 0, "{stderr}");
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{202e}'),
        "{stderr:?}"
    );
    assert!(
        stderr.contains(
            "group \"web\\u{1b}[2J\\u{202e}\": name \"web\\u{1b}[2J\\u{202e}\" holds a control character"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("monitor \"u\\nfake\": name \"u\\nfake\" holds a control character"),
        "{stderr}"
    );
    let start = cluster.run("clpcl", &["-s"]);
    assert_ne!(start.code(), 0);
    assert!(!start.stderr().contains('\u{1b}'), "{:?}", start.stderr());
}
