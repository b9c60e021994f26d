//! The recovery ladder, end to end: pidw detects a death at once, reactivates, exhausts its
//! threshold and runs the final action through the OS-action layer's recorder.

use crate::harness::*;

#[test]
fn a_killed_process_is_restarted_with_clp_event_recover() {
    let cluster = pidw_cluster(3, "none", "");
    cluster.start();
    wait_exec_started(&cluster);
    let first = cluster.resource_pid("exec").unwrap();
    signal(first, libc::SIGKILL);
    wait_until("restarted", WAIT, || {
        cluster.resource_pid("exec").is_some_and(|pid| pid != first)
    });
    wait_until("the start script ran", WAIT, || events(&cluster).len() == 3);
    assert_eq!(
        events(&cluster),
        ["START", "stop RESOURCERESTART", "RECOVER"]
    );
    wait_until("rm 13", WAIT, || cluster.count_alerts("rm 13") == 1);
    let alerts = cluster.alerts();
    assert!(
        alerts.contains("rm 9 Detected an error in monitoring pidw. (11 : Process did not exist.)"),
        "{alerts}"
    );
    assert!(alerts.contains("rc 80 Restarting resource exec has started."));
    assert!(alerts.contains(
        "rm 13 Recovery target exec has restarted because an error was detected in monitoring pidw."
    ));
    // The next check sees the process healthy: back to normal, counters reset (rm 26).
    wait_until("rm 26", WAIT, || {
        cluster.count_alerts("rm 26 pidw status changed from error to normal.") == 1
    });
    let counters = cluster.run("clpmonctrl", &["-v", "-m", "pidw"]).success();
    assert!(
        counters.contains("Reactivation Count                              : 0 / 3"),
        "{counters}"
    );
    cluster.stop();
}

#[test]
fn a_process_that_cannot_come_back_reaches_the_final_action_once() {
    let cluster = pidw_cluster(2, "stop-daemon-shutdown", "");
    // After the first start, every start dies at once.
    cluster.script(
        "failover",
        "exec",
        "start.sh",
        "echo \"$CLP_EVENT\" >> events\n[ \"$CLP_EVENT\" = RECOVER ] && exit 3\nexec sleep 600",
    );
    cluster.start();
    wait_exec_started(&cluster);
    let daemon = cluster.daemon_pid().unwrap();
    signal(cluster.resource_pid("exec").unwrap(), libc::SIGKILL);
    wait_until("daemon stopped by the final action", WAIT, || {
        !alive(daemon)
    });
    assert_eq!(
        events(&cluster),
        [
            "START",
            "stop RESOURCERESTART",
            "RECOVER",
            "stop RESOURCERESTART",
            "RECOVER",
            "stop CLUSTERSHUTDOWN"
        ]
    );
    let recorded = std::fs::read_to_string(cluster.path("recorded-os-actions")).unwrap_or_default();
    assert_eq!(
        recorded, "shutdown\n",
        "the recorder must have received exactly one shutdown"
    );
    let alerts = cluster.alerts();
    assert_eq!(
        cluster.count_alerts("rm 13 Recovery target exec has restarted"),
        2,
        "{alerts}"
    );
    assert!(alerts.contains("rm 16 Stopping the system has been required because an error was detected in monitoring pidw."));
    assert!(alerts.contains("pm 23 The system will be stopped."));
    assert_eq!(cluster.processes(), Vec::<u32>::new());
}

#[test]
fn the_real_shutdown_is_refused_under_the_lock() {
    let cluster = pidw_cluster(0, "stop-daemon-shutdown", "");
    // Back to the real default shutdown command: the lock must refuse it.
    let config = std::fs::read_to_string(cluster.path("etc/clp.conf")).unwrap();
    let config: String = config
        .lines()
        .filter(|l| !l.starts_with("shutdown ="))
        .collect::<Vec<_>>()
        .join("\n");
    cluster.write_config(&config);
    cluster.start();
    wait_until("exec online", WAIT, || {
        cluster.resource_status("exec") == "Online"
    });
    let daemon = cluster.daemon_pid().unwrap();
    signal(cluster.resource_pid("exec").unwrap(), libc::SIGKILL);
    wait_until("daemon stopped", WAIT, || !alive(daemon));
    let alerts = cluster.alerts();
    assert!(
        alerts.contains(&format!(
            "down 11 A request to shutdown {} failed(shutdown refused: CLP_FORBID_OS_ACTIONS=1",
            host()
        )),
        "{alerts}"
    );
}

#[test]
fn counters_survive_a_restart_and_are_cleared_on_request() {
    let cluster = pidw_cluster(5, "none", "");
    cluster.start();
    wait_until("exec online", WAIT, || {
        cluster.resource_status("exec") == "Online"
    });
    // Suspend checks so the counter is not reset by a healthy check.
    signal(cluster.resource_pid("exec").unwrap(), libc::SIGKILL);
    wait_until("rm 13", WAIT, || cluster.count_alerts("rm 13") == 1);
    cluster.run("clpmonctrl", &["-s", "-m", "pidw"]).success();
    let daemon = cluster.daemon_pid().unwrap();
    signal(daemon, libc::SIGKILL);
    wait_until("daemon gone", WAIT, || !alive(daemon));
    let offline = cluster.run("clpmonctrl", &["-v", "-m", "pidw"]).success();
    assert!(
        offline.contains("Reactivation Count                              : 1 / 5"),
        "{offline}"
    );
    cluster.start();
    let shown = cluster.run("clpmonctrl", &["-v"]).success();
    assert!(
        shown.contains("Reactivation Count                              : 1 / 5"),
        "{shown}"
    );
    assert_eq!(
        shown
            .lines()
            .filter(|l| l.contains("Resource"))
            .map(|l| l.split_whitespace().nth(2).unwrap())
            .collect::<Vec<_>>(),
        ["pidw"]
    );
    cluster.run("clpmonctrl", &["-c", "-m", "pidw"]).success();
    let cleared = cluster.run("clpmonctrl", &["-v", "-m", "pidw"]).success();
    assert!(
        cleared.contains("Reactivation Count                              : 0 / 5"),
        "{cleared}"
    );
    cluster.stop();
}

#[test]
fn a_suspended_monitor_does_not_react_and_resumes() {
    let cluster = pidw_cluster(3, "none", "");
    cluster.start();
    wait_until("pidw normal", WAIT, || {
        cluster.monitor_status("pidw") == "Normal"
    });
    cluster.run("clpmonctrl", &["-s", "-m", "pidw"]).success();
    assert_eq!(cluster.monitor_status("pidw"), "Suspend");
    assert!(
        cluster
            .alerts()
            .contains("rm 29 Monitoring pidw was suspended.")
    );
    cluster.run("clpmonctrl", &["-r", "-m", "pidw"]).success();
    assert!(
        cluster
            .alerts()
            .contains("rm 30 Monitoring pidw was resumed.")
    );
    let unknown = cluster.run("clpmonctrl", &["-s", "-m", "nosuch"]);
    assert!(
        unknown
            .failure(5)
            .contains("monitor \"nosuch\" is not in the configuration")
    );
    cluster.stop();
}

#[test]
fn group_recovery_restarts_the_whole_group() {
    let cluster = pidw_cluster(1, "stop-group", "");
    let config = std::fs::read_to_string(cluster.path("etc/clp.conf")).unwrap();
    cluster.write_config(&config.replace(
        "[monitor.recovery]\ntarget = \"exec\"",
        "[monitor.recovery]\ntarget = \"failover\"",
    ));
    cluster.start();
    wait_until("exec online", WAIT, || {
        cluster.resource_status("exec") == "Online"
    });
    signal(cluster.resource_pid("exec").unwrap(), libc::SIGKILL);
    wait_until("group restarted", WAIT, || {
        cluster.count_alerts("rc 71 Restarting group failover has completed.") == 1
    });
    assert!(events(&cluster).contains(&"stop GROUPRESTART".to_string()));
    // Second death: threshold 1 spent → the final action stops the group.
    wait_until("exec online", WAIT, || {
        cluster.resource_status("exec") == "Online"
    });
    signal(cluster.resource_pid("exec").unwrap(), libc::SIGKILL);
    wait_until("group stopped", WAIT, || {
        cluster.count_alerts("rc 21 Stopping group failover has completed.") == 2
    });
    assert!(cluster.alerts().contains("rm 12 Recovery target failover has stopped because an error was detected in monitoring pidw."));
    cluster.stop();
}

#[test]
fn dummy_failure_drills_the_ladder_without_breaking_anything() {
    let cluster = pidw_cluster(1, "stop-group", "");
    cluster.start();
    wait_until("pidw normal", WAIT, || {
        cluster.monitor_status("pidw") == "Normal"
    });
    let refused = cluster.run("clpmonctrl", &["-e"]);
    assert_eq!(refused.code(), 2, "-e needs -m: {}", refused.stderr());
    cluster.run("clpmonctrl", &["-e", "-m", "pidw"]).success();
    assert!(
        cluster
            .alerts()
            .contains("rm 180 Dummy Failure of monitor resource pidw is enabled.")
    );
    let text = cluster.run("clpstat", &[]).success();
    assert!(text.contains("[dummy failure]"), "{text}");
    assert_eq!(cluster.status()["monitors"][0]["dummy_failure"], true);
    // One reactivation (threshold 1), then the final action stops the group.
    wait_until("group stopped", WAIT, || {
        cluster.count_alerts("rm 12 Recovery target exec has stopped") == 1
    });
    assert!(cluster.alerts().contains("(9 : Dummy failure.)"));
    assert_eq!(
        events(&cluster)[..3],
        ["START", "stop RESOURCERESTART", "RECOVER"]
    );
    cluster.run("clpmonctrl", &["-n"]).success();
    assert!(
        cluster
            .alerts()
            .contains("rm 183 Dummy Failure of all monitor will be disabled.")
    );
    assert!(
        cluster
            .alerts()
            .contains("rm 181 Dummy Failure of monitor resource pidw is disabled.")
    );
    // Back to real checks: start the group again and the monitor is Normal.
    cluster.run("clpgrp", &["-s", "failover"]).success();
    wait_until("rm 26", WAIT, || cluster.count_alerts("rm 26 pidw") == 1);
    cluster.stop();
}

#[test]
fn pidw_learns_of_a_death_at_once_not_at_its_interval() {
    // An interval far longer than the wait: only event-driven detection can be this fast.
    let cluster = pidw_cluster(3, "none", "");
    let config = std::fs::read_to_string(cluster.path("etc/clp.conf")).unwrap();
    cluster.write_config(&config.replace("interval = 0.5", "interval = 600"));
    cluster.start();
    wait_until("exec online", WAIT, || {
        cluster.resource_status("exec") == "Online"
    });
    let first = cluster.resource_pid("exec").unwrap();
    signal(first, libc::SIGKILL);
    wait_until("restarted long before the interval", WAIT, || {
        events(&cluster).contains(&"RECOVER".to_string())
    });
    cluster.stop();
}

#[test]
fn after_a_recovery_restart_the_monitor_is_online_pending_until_its_next_check() {
    let cluster = pidw_cluster(3, "none", "");
    // A long interval: the restarted process gets a whole interval before its first check.
    let config = std::fs::read_to_string(cluster.path("etc/clp.conf")).unwrap();
    cluster.write_config(&config.replace("interval = 0.5", "interval = 4"));
    cluster.start();
    wait_until("exec online", WAIT, || {
        cluster.resource_status("exec") == "Online"
    });
    wait_until("pidw normal", WAIT, || {
        cluster.monitor_status("pidw") == "Normal"
    });
    let first = cluster.resource_pid("exec").unwrap();
    signal(first, libc::SIGKILL);
    wait_until("rm 13", WAIT, || cluster.count_alerts("rm 13") == 1);
    // The resource is Online again and the monitor says it waits to re-check, not Error.
    wait_until("pidw online pending", WAIT, || {
        cluster.monitor_status("pidw") == "Online Pending"
    });
    assert_eq!(cluster.resource_status("exec"), "Online");
    assert_eq!(cluster.count_alerts("rm 26"), 0, "{}", cluster.alerts());
    let settings = snapshot_settings(&cluster);
    settings.bind(|| {
        insta::assert_snapshot!(
            "clpstat_monitor_map_online_pending",
            cluster.run("clpstat", &["-m"]).success()
        );
    });
    // Its next check confirms the restart: Normal, and rm 26.
    wait_until("rm 26", WAIT, || cluster.count_alerts("rm 26 pidw") == 1);
    assert_eq!(cluster.monitor_status("pidw"), "Normal");
    cluster.stop();
}
