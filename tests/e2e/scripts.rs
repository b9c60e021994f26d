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
    let child = pid_written_to(&cluster.path("etc/scripts/web/app/child.pid"), WAIT);
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

/// Writes an operator's script as the original's users often wrote them: no `#!` line.
fn write_plain(path: &std::path::Path, body: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn scripts_without_a_shebang_run_with_the_shell_as_in_the_original() {
    let cluster = Cluster::with_config(
        r#"
[cluster]
name = "zabi"
[[group]]
name = "web"
[[group.resource]]
name = "app"
[[monitor]]
name = "genw"
type = "genw"
interval = 0.2
timeout = 5
retry = 0
[monitor.parameters]
path = "genw.sh"
[monitor.recovery]
final_action = "none"
"#,
    );
    let scripts = cluster.path("etc/scripts/web/app");
    write_plain(
        &scripts.join("start.sh"),
        b"# start.sh of the original, no #! line\necho \"$CLP_EVENT\" > started\n",
    );
    write_plain(&scripts.join("stop.sh"), b"echo done > stopped\n");
    let genw = cluster.path("etc/scripts/monitor.s/genw");
    write_plain(&genw.join("genw.sh"), b"echo checked > checked\nexit 0\n");
    cluster.start();
    wait_until("app online", WAIT, || {
        cluster.resource_status("app") == "Online"
    });
    assert_eq!(
        std::fs::read_to_string(scripts.join("started")).unwrap(),
        "START\n"
    );
    wait_until("a genw check", WAIT, || genw.join("checked").exists());
    wait_until("genw normal", WAIT, || {
        cluster.monitor_status("genw") == "Normal"
    });
    cluster.run("clpgrp", &["-t", "web"]).success();
    assert_eq!(cluster.resource_status("app"), "Offline");
    assert_eq!(
        std::fs::read_to_string(scripts.join("stopped")).unwrap(),
        "done\n"
    );
    assert_eq!(cluster.count_alerts("Exec format error"), 0);
    cluster.stop();
}

#[test]
fn a_script_with_crlf_line_endings_is_refused_naming_the_file_and_the_fix() {
    let cluster = Cluster::with_config(
        r#"
[cluster]
name = "zabi"
[[group]]
name = "web"
[[group.resource]]
name = "app"
"#,
    );
    let start = cluster.path("etc/scripts/web/app/start.sh");
    write_plain(&start, b"#!/bin/sh\r\necho started\r\n");
    let refused = cluster.run("clpcl", &["-s"]);
    let text = format!("{}{}", refused.stdout(), refused.stderr());
    assert_ne!(refused.code(), 0, "{text}");
    assert!(text.contains(&start.display().to_string()), "{text}");
    assert!(text.contains("CRLF"), "{text}");
    assert!(text.contains("dos2unix"), "{text}");

    // A genw script is read at each check: the monitor's error says the same.
    cluster.write_config(
        r#"
[cluster]
name = "zabi"
[[monitor]]
name = "genw"
type = "genw"
interval = 0.2
timeout = 5
retry = 0
[monitor.parameters]
path = "genw.sh"
[monitor.recovery]
final_action = "none"
"#,
    );
    let genw = cluster.path("etc/scripts/monitor.s/genw/genw.sh");
    write_plain(&genw, b"exit 0\r\n");
    cluster.start();
    wait_until("the genw error", WAIT, || {
        cluster.alerts().contains(&format!(
            "cannot run {}: it has Windows (CRLF) line endings",
            genw.display()
        ))
    });
    assert!(cluster.alerts().contains("dos2unix"));
    cluster.stop();
}
