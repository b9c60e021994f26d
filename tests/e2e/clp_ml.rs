//! clp_ml: the services in order, questions with N as the default, status with pids.

use std::io::Write;
use std::process::Stdio;

use crate::harness::*;

fn answered(cluster: &Cluster, args: &[&str], answer: &str) -> Run {
    let mut child = cluster
        .command("clp_ml")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answer.as_bytes())
        .unwrap();
    Run {
        output: child.wait_with_output().unwrap(),
    }
}

#[test]
fn start_asks_first_and_no_is_the_default() {
    let cluster = pidw_cluster(3, "none", "\n[webmanager]\nlisten = \"127.0.0.1:0\"\n");
    let declined = answered(&cluster, &["start"], "\n");
    assert_eq!(
        declined.success(),
        "Start the clp services. [Y/N]:(N) > \nNothing was done.\n"
    );
    assert!(cluster.daemon_pid().is_none());
    let started = answered(&cluster, &["start"], "y\n");
    let out = started.success();
    assert!(
        out.starts_with(
            "Start the clp services. [Y/N]:(N) > Starting clppm ....\n[INFO]: clppm started (pid "
        ),
        "{out}"
    );
    assert!(
        out.ends_with("[INFO]: The operation was successful\n"),
        "{out}"
    );
    let pid = cluster.daemon_pid().unwrap();
    let status = cluster.run("clp_ml", &["status"]).success();
    assert!(
        status.starts_with(&format!("clppm      running (pid {pid})\n")),
        "{status}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&cluster.run("clp_ml", &["status", "--json"]).success()).unwrap();
    assert_eq!(json[0]["pid"], pid);
    let again = cluster.run("clp_ml", &["start", "-y"]).success();
    assert!(
        again.contains(&format!("[INFO]: clppm is already running (pid {pid})")),
        "{again}"
    );
    wait_until("exec online", WAIT, || {
        cluster.resource_status("exec") == "Online"
    });
    let stopped = cluster.run("clp_ml", &["stop", "-y"]).success();
    assert!(
        stopped.contains("Stopping clppm ....\n[INFO]: clppm stopped\n"),
        "{stopped}"
    );
    assert_eq!(
        events(&cluster).last().map(String::as_str),
        Some("stop CLUSTERSHUTDOWN")
    );
    assert_eq!(cluster.processes(), Vec::<u32>::new());
    let status = cluster.run("clp_ml", &["status"]).success();
    assert!(status.starts_with("clppm      stopped\n"), "{status}");
}

#[test]
fn boot_switches_need_systemd_as_init() {
    let cluster = Cluster::new();
    if std::path::Path::new("/run/systemd/system").is_dir() {
        eprintln!("skipped: systemd is init here; enabling units would change this machine");
        return;
    }
    let refused = cluster.run("clp_ml", &["on", "-y"]);
    assert!(
        refused
            .failure(255)
            .contains("systemd is not the init system here"),
        "{}",
        refused.stderr()
    );
}
