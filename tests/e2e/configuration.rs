//! The configuration: defaults without a file, a bad file refused whole with every problem
//! named.

use crate::harness::*;

#[test]
fn without_a_file_the_default_configuration_runs() {
    let cluster = Cluster::new();
    cluster.start();
    let status = cluster.status();
    assert_eq!(status["cluster"], clp_core::config::host_name());
    assert_eq!(status["monitors"][0]["name"], "userw");
    assert_eq!(status["monitors"][0]["comment"], "user mode monitor");
    assert_eq!(status["groups"].as_array().unwrap().len(), 0);
    cluster.stop();
}

#[test]
fn a_bad_file_is_refused_with_every_key_named() {
    let cluster = Cluster::with_config(
        r#"
[cluster]
name = "zabi"
[[monitor]]
name = "u"
type = "userw"
intervall = 3
[[monitor]]
name = "p"
type = "pidw"
target = "nosuch"
"#,
    );
    let run = cluster.run("clpcl", &["-s"]);
    let stderr = run.failure(4);
    assert!(
        stderr.contains("monitor \"u\": unknown key \"intervall\" (did you mean \"interval\"?)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("monitor \"p\": key \"target\": \"nosuch\" is not a resource"),
        "{stderr}"
    );
    assert!(cluster.daemon_pid().is_none());
    assert_eq!(cluster.processes(), Vec::<u32>::new());
}

#[test]
fn a_running_daemon_keeps_its_configuration_when_the_file_goes_bad() {
    let cluster = pidw_cluster(3, "none", "");
    cluster.start();
    cluster.write_config("[[monitor]]\nname = 1\n");
    let status = cluster.status();
    assert_eq!(status["monitors"][0]["name"], "pidw");
    // Commands that read the file say what is wrong with it.
    let info = cluster.run("clpstat", &["-i"]);
    assert!(
        info.failure(4)
            .contains("monitor #1: key \"name\": invalid type"),
        "{}",
        info.stderr()
    );
    cluster.stop_with_file_broken();
}

impl Cluster {
    /// `clpcl -t` still works while the file is broken: it talks to the daemon only.
    fn stop_with_file_broken(&self) {
        self.stop();
    }
}

#[test]
fn the_demo_configuration_runs() {
    let cluster = Cluster::new();
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo");
    std::fs::copy(demo.join("clp.conf"), cluster.path("etc/clp.conf")).unwrap();
    for script in ["start.sh", "stop.sh"] {
        let body =
            std::fs::read_to_string(demo.join("scripts/failover/exec").join(script)).unwrap();
        cluster.script(
            "failover",
            "exec",
            script,
            body.trim_start_matches("#!/bin/sh\n"),
        );
    }
    cluster.start();
    wait_until("exec online", WAIT, || {
        cluster.resource_status("exec") == "Online"
    });
    wait_until("start logged", WAIT, || {
        cluster
            .alerts()
            .contains("start your application (CLP_EVENT=START)")
    });
    assert_eq!(cluster.monitor_status("userw"), "Normal");
    cluster.stop();
    assert!(
        cluster
            .alerts()
            .contains("stop your application (CLP_FACTOR=CLUSTERSHUTDOWN, pid ")
    );
}

#[test]
fn bad_numbers_are_named_once_with_the_value_as_written() {
    let cluster = Cluster::with_config(
        r#"
[cluster]
name = "zabi"
[[group]]
name = "g"
[[group.resource]]
name = "r"
[group.resource.activation]
retry = -1
[[monitor]]
name = "u"
type = "userw"
interval = "five"
[[monitor]]
name = "v"
type = "userw"
interval = 9223372036854775807
retry = -1
"#,
    );
    cluster.script("g", "r", "start.sh", "exit 0");
    let stderr = cluster.run("clpstat", &["-i"]).failure(4);
    assert!(!stderr.contains("untagged enum"), "{stderr}");
    assert!(!stderr.contains("9223372036854776000"), "{stderr}");
    assert_eq!(stderr.matches("retry").count(), 2, "{stderr}");
    let settings = snapshot_settings(&cluster);
    settings.bind(|| insta::assert_snapshot!("configuration_bad_numbers", stderr));
    // The daemon refuses the same file with the same words.
    let start = cluster.run("clpcl", &["-s"]).failure(4);
    assert!(
        start.contains(
            "monitor \"v\": key \"interval\": 9223372036854775807 is out of range (more than 0, up to 999999 seconds)"
        ),
        "{start}"
    );
}
