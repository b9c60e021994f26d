//! clpperfc and clphealthchk: a monitor's check time the test controls (a genw script that
//! sleeps a known time) read back through clpperfc; clphealthchk's return values with clppm
//! running, stopped, suspended, hung (SIGSTOP) and killed.

use std::os::unix::fs::PermissionsExt;

use crate::harness::*;

/// How long the genw script sleeps, in ms.
const SLEEP_MS: u64 = 300;

/// A genw whose every check sleeps [`SLEEP_MS`], and a userw.
fn sleeping_genw() -> Cluster {
    let cluster = Cluster::with_config(
        r#"
[cluster]
name = "perf"
[[monitor]]
name = "genw-sleeps"
type = "genw"
interval = 0.5
timeout = 10
retry = 0
[monitor.parameters]
path = "genw.sh"
[monitor.recovery]
reactivation_threshold = 0
final_action = "none"
[[monitor]]
name = "userw"
type = "userw"
"#,
    );
    let dir = cluster.path("etc/scripts/monitor.s/genw-sleeps");
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("genw.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nsleep {}\nexit 0\n", SLEEP_MS as f64 / 1000.0),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    cluster
}

/// `clpperfc -m NAME --json`.
fn figures(cluster: &Cluster, monitor: &str) -> serde_json::Value {
    let out = cluster
        .run("clpperfc", &["-m", monitor, "--json"])
        .success();
    serde_json::from_str(&out).expect("clpperfc --json is JSON")
}

#[test]
fn clpperfc_reports_the_check_time_of_a_script_that_sleeps_a_known_time() {
    let cluster = sleeping_genw();
    // Stopped: clppm alone measures the checks.
    let stderr = cluster.run("clpperfc", &["-m", "genw-sleeps"]).failure(10);
    assert!(stderr.contains("clppm is not running"), "{stderr}");
    cluster.start();
    wait_until("three checks of genw-sleeps", WAIT, || {
        figures(&cluster, "genw-sleeps")["checks"]
            .as_u64()
            .is_some_and(|checks| checks >= 3)
    });
    let json = figures(&cluster, "genw-sleeps");
    // Sane bounds: no less than the sleep, not more than the sleep plus a slow machine's
    // fork and exec of sh and sleep.
    let sane = SLEEP_MS..SLEEP_MS + 1500;
    for key in ["last_ms", "average_ms", "max_ms"] {
        let value = json[key]
            .as_u64()
            .unwrap_or_else(|| panic!("{key}: {json}"));
        assert!(sane.contains(&value), "{key} = {value}: {json}");
    }
    assert!(
        json["max_us"].as_u64() >= json["average_us"].as_u64(),
        "{json}"
    );
    assert_eq!(json["type"], "genw");

    // The original's layout: one integer (what clp_exporter parses with ParseUint).
    let text = cluster.run("clpperfc", &["-m", "genw-sleeps"]).success();
    assert!(
        text.ends_with('\n') && text.lines().count() == 1,
        "{text:?}"
    );
    let shown: u64 = text.trim().parse().expect("one unsigned integer");
    assert!(sane.contains(&shown), "{shown}");

    // The table names every monitor; userw's checks are far quicker than the sleep.
    let table = cluster.run("clpperfc", &["-h", "localhost"]).success();
    assert!(table.starts_with("Monitor "), "{table}");
    assert!(table.contains("\ngenw-sleeps "), "{table}");
    assert!(table.contains("\nuserw "), "{table}");

    let stderr = cluster.run("clpperfc", &["-m", "nosuch"]).failure(5);
    assert!(stderr.contains("nosuch"), "{stderr}");
    cluster.run("clpperfc", &["-h", "db-server-2"]).failure(2);
}

#[test]
fn clphealthchk_says_healthy_stopped_suspended_hung_and_killed() {
    let cluster = sleeping_genw();
    let stderr = cluster.run("clphealthchk", &[]).failure(11);
    assert!(stderr.contains("The cluster has been stopped"), "{stderr}");

    cluster.start();
    let out = cluster.run("clphealthchk", &[]).success();
    assert_eq!(out, "pm OK\nrc OK\nrm OK\nnm OK\n");
    let out = cluster.run("clphealthchk", &["-t", "rm"]).success();
    assert_eq!(out, "rm OK\n");
    let json = cluster
        .run("clphealthchk", &["--json", "-h", "localhost"])
        .success();
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["parts"].as_array().map(Vec::len), Some(4), "{json}");

    // The original's invalid option and a server that is not this one: 4.
    cluster.run("clphealthchk", &["-t", "xx"]).failure(4);
    cluster
        .run("clphealthchk", &["-h", "db-server-2"])
        .failure(4);

    cluster.run("clpcl", &["--suspend"]).success();
    let stderr = cluster.run("clphealthchk", &[]).failure(12);
    assert!(stderr.contains("suspended"), "{stderr}");
    cluster.run("clpcl", &["--resume"]).success();
    cluster.run("clphealthchk", &[]).success();

    // Hung: clppm stopped by SIGSTOP answers nothing; every part lives in it.
    let pid = cluster.daemon_pid().expect("clppm's pid");
    signal(pid, libc::SIGSTOP);
    let run = cluster.run("clphealthchk", &["-w", "1"]);
    signal(pid, libc::SIGCONT);
    let stderr = run.failure(100);
    assert_eq!(run.stdout(), "pm NG\nrc NG\nrm NG\nnm NG\n");
    assert!(stderr.contains("did not answer"), "{stderr}");
    cluster.run("clphealthchk", &[]).success();

    // Killed: the cluster is not running.
    signal(pid, libc::SIGKILL);
    wait_until("clppm gone", WAIT, || !alive(pid) || is_zombie(pid));
    cluster.run("clphealthchk", &[]).failure(11);
}

#[test]
fn clpperfc_reports_group_start_and_stop_times_the_scripts_control() {
    let cluster = Cluster::with_config(
        r#"
[[group]]
name = "failover"

[[group.resource]]
name = "exec"

[[monitor]]
name = "userw"
type = "userw"
"#,
    );
    cluster.script("failover", "exec", "start.sh", "sleep 0.3\nexit 0");
    cluster.script("failover", "exec", "stop.sh", "sleep 0.2\nexit 0");
    cluster.start();
    wait_until("failover online", WAIT, || {
        cluster.status()["groups"][0]["status"] == "Online"
    });
    let start: u64 = cluster
        .run("clpperfc", &["--starttime", "-g", "failover"])
        .success()
        .trim()
        .parse()
        .expect("one integer");
    assert!((300..1800).contains(&start), "start {start}");
    // Not stopped yet: 0, a number always.
    let stop = cluster
        .run("clpperfc", &["--stoptime", "-g", "failover"])
        .success();
    assert_eq!(stop, "0\n");

    cluster.run("clpgrp", &["-t", "failover"]).success();
    let stop: u64 = cluster
        .run("clpperfc", &["--stoptime", "-g", "failover"])
        .success()
        .trim()
        .parse()
        .expect("one integer");
    assert!((200..1700).contains(&stop), "stop {stop}");

    let table = cluster.run("clpperfc", &["-g"]).success();
    assert!(table.starts_with("Group "), "{table}");
    assert!(table.contains("\nfailover "), "{table}");
    let json = cluster
        .run("clpperfc", &["-g", "failover", "--json"])
        .success();
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["starts"], 1, "{json}");
    assert_eq!(json["stops"], 1, "{json}");

    cluster.run("clpperfc", &["-g", "nosuch"]).failure(5);
    cluster.run("clpperfc", &["--starttime"]).failure(2);
    cluster.run("clpperfc", &["--starttime", "-g"]).failure(2);
    cluster
        .run("clpperfc", &["-m", "userw", "-g", "failover"])
        .failure(2);
}
