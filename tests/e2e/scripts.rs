//! Exec resources: the script environment, sync and async modes, retries, timeouts and
//! per-resource logs.

use crate::harness::*;

fn sync_cluster(activation: &str, timeout: &str) -> Cluster {
    Cluster::with_config(&format!(
        r#"
[cluster]
name = "zabi"
[[group]]
name = "web"
[[group.resource]]
name = "app"
timeout = {timeout}
[group.resource.activation]
{activation}
"#
    ))
}

#[test]
fn scripts_get_the_originals_environment_and_nothing_of_the_daemons() {
    let cluster = sync_cluster("retry = 0", "10");
    cluster.script(
        "web",
        "app",
        "start.sh",
        "env | sort > env.txt\npwd > pwd.txt\nclplogcmd -m \"start your application\"",
    );
    let mut command = cluster.command("clpcl");
    command.arg("-s").env("SECRET_OF_THE_DAEMON", "leak");
    assert!(command.status().unwrap().success());
    wait_until("app online", WAIT, || {
        cluster.resource_status("app") == "Online"
    });
    let env = std::fs::read_to_string(cluster.path("etc/scripts/web/app/env.txt")).unwrap();
    for expected in [
        "CLP_EVENT=START",
        "CLP_SERVER=HOME",
        "CLP_DISK=SUCCESS",
        "CLP_GROUPNAME=web",
        "CLP_RESOURCENAME=app",
        "CLP_PRIORITY=1",
    ] {
        assert!(
            env.lines().any(|l| l == expected),
            "missing {expected} in\n{env}"
        );
    }
    assert!(
        !env.contains("SECRET_OF_THE_DAEMON"),
        "the daemon's environment leaked:\n{env}"
    );
    let path_line = env.lines().find(|l| l.starts_with("PATH=")).unwrap();
    let first = path_line
        .trim_start_matches("PATH=")
        .split(':')
        .next()
        .unwrap();
    assert_eq!(
        std::path::Path::new(first),
        bin("clplogcmd").parent().unwrap()
    );
    let pwd = std::fs::read_to_string(cluster.path("etc/scripts/web/app/pwd.txt")).unwrap();
    assert_eq!(
        pwd.trim(),
        cluster
            .path("etc/scripts/web/app")
            .canonicalize()
            .unwrap()
            .display()
            .to_string()
    );
    wait_until("clplogcmd from the script", WAIT, || {
        cluster.alerts().contains("logcmd 1 start your application")
    });
    cluster.stop();
}

#[test]
fn a_failing_sync_start_script_is_retried_then_the_final_action_runs() {
    let cluster = sync_cluster("retry = 2\nfinal_action = \"none\"", "10");
    cluster.script(
        "web",
        "app",
        "start.sh",
        "echo attempt >> attempts\necho 'it broke' >&2\nexit 7",
    );
    cluster.start();
    wait_until("group failed", WAIT, || {
        cluster.count_alerts("rc 12 Activating group web has failed.") == 1
    });
    let attempts = std::fs::read_to_string(cluster.path("etc/scripts/web/app/attempts")).unwrap();
    assert_eq!(attempts.lines().count(), 3, "one start and two retries");
    assert_eq!(
        cluster.count_alerts("rc 32 Activating app resource has failed.(7 : Command was failed.)"),
        3
    );
    assert_eq!(
        cluster.count_alerts(
            "rc 200 Resource(app) will be reactivated since activating resource(app) failed."
        ),
        2
    );
    assert_eq!(cluster.resource_status("app"), "Online Failure");
    let status = cluster.status();
    assert_eq!(status["groups"][0]["status"], "Error");
    let log = std::fs::read_to_string(cluster.path("log/scripts/web.app.log")).unwrap();
    assert!(
        log.contains("it broke"),
        "script output goes to the per-resource log: {log}"
    );
    // clpgrp reports the failure with a way forward.
    let again = cluster.run("clpgrp", &["-s", "web"]);
    assert!(again.failure(255).contains("failed to start group web"));
    cluster.stop();
}

#[test]
fn a_script_outliving_its_timeout_is_killed_with_its_children() {
    let cluster = sync_cluster("final_action = \"none\"", "1");
    cluster.script(
        "web",
        "app",
        "start.sh",
        "sleep 300 &\necho $! > child.pid\nsleep 300",
    );
    cluster.start();
    wait_until("timeout", WAIT, || {
        cluster
            .alerts()
            .contains("rc 32 Activating app resource has failed.(99 : command is timeout)")
    });
    let child: u32 = std::fs::read_to_string(cluster.path("etc/scripts/web/app/child.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    wait_until("child killed", WAIT, || !alive(child));
    cluster.stop();
    assert_eq!(cluster.processes(), Vec::<u32>::new());
}

#[test]
fn activation_final_action_stop_daemon_stops_everything() {
    let cluster = sync_cluster("final_action = \"stop-daemon\"", "10");
    cluster.script("web", "app", "start.sh", "exit 1");
    cluster.start();
    let daemon = cluster.daemon_pid().unwrap();
    wait_until("daemon stopped", WAIT, || !alive(daemon));
    assert!(
        cluster.alerts().contains(
            "rc 203 Cluster daemon will be stopped since activating  resource(app) failed."
        )
    );
}

#[test]
fn single_resources_start_and_stop() {
    let cluster = pidw_cluster(3, "none", "");
    cluster.start();
    wait_until("exec online", WAIT, || {
        cluster.resource_status("exec") == "Online"
    });
    assert_eq!(
        cluster.run("clprsc", &["-t", "exec"]).success(),
        "Command succeeded.\n"
    );
    assert_eq!(cluster.resource_status("exec"), "Offline");
    assert_eq!(cluster.monitor_status("pidw"), "Offline");
    assert_eq!(cluster.run("clprsc", &["-n", "exec"]).success(), "None\n");
    cluster.run("clprsc", &["-s", "exec"]).success();
    assert_eq!(cluster.resource_status("exec"), "Online");
    assert_eq!(
        cluster.run("clprsc", &["-n", "exec"]).success(),
        format!("{}\n", host())
    );
    assert!(
        cluster
            .alerts()
            .contains("rc 84 A single resource exec has been started.")
    );
    let unknown = cluster.run("clprsc", &["-s", "nosuch"]);
    assert!(
        unknown
            .failure(5)
            .contains("resource \"nosuch\" is not in the configuration")
    );
    cluster.run("clpgrp", &["-t"]).success();
    assert_eq!(cluster.status()["groups"][0]["status"], "Offline");
    assert_eq!(
        cluster.run("clpgrp", &["-n", "failover"]).success(),
        "None\n"
    );
    cluster.run("clpgrp", &["-s", "failover"]).success();
    assert_eq!(
        cluster.run("clpgrp", &["-n", "failover"]).success(),
        format!("{}\n", host())
    );
    cluster.stop();
}
