//! Starting and stopping the daemon: single instance, orderly stop, crash and restart.

use crate::harness::*;

#[test]
fn start_answers_then_stop_leaves_nothing_running() {
    let cluster = pidw_cluster(3, "none", "");
    let out = cluster.run("clpcl", &["-s"]).success();
    assert_eq!(out, "Command succeeded.\n");
    wait_exec_started(&cluster);
    let pid = cluster.resource_pid("exec").expect("async resource pid");
    assert!(alive(pid));
    assert!(!cluster.processes().is_empty());
    cluster.stop();
    assert!(!alive(pid), "the resource process survived clpcl -t");
    assert_eq!(
        cluster.processes(),
        Vec::<u32>::new(),
        "processes left behind"
    );
    assert!(!cluster.path("run/clppm.sock").exists());
    assert!(!cluster.path("run/clppm.pid").exists());
    assert_eq!(events(&cluster), ["START", "stop CLUSTERSHUTDOWN"]);
    let alerts = cluster.alerts();
    for expected in [
        "pm 1 Starting the cluster daemon...",
        "rc 10 Activating group failover has started.",
        "rc 31 Activating exec resource has completed.",
        "rm 1 Monitoring pidw has started.",
        "pm 2 Shutting down the cluster daemon...",
        "rc 21 Stopping group failover has completed.",
    ] {
        assert!(
            alerts.contains(expected),
            "missing {expected:?} in\n{alerts}"
        );
    }
}

#[test]
fn a_second_daemon_is_refused() {
    let cluster = Cluster::new();
    cluster.start();
    let pid = cluster.daemon_pid().expect("pid file");
    let second = cluster.run("clpcl", &["-s"]);
    let stderr = second.failure(128);
    assert!(
        stderr.contains(&format!("clppm is already running (pid {pid})")),
        "{stderr}"
    );
    let direct = cluster.run("clppm", &["--foreground"]);
    let stderr = direct.failure(128);
    assert!(stderr.contains("clppm is already running on"), "{stderr}");
    cluster.stop();
}

#[test]
fn groups_stop_in_reverse_order_of_start() {
    let cluster = Cluster::with_config(
        r#"
[[group]]
name = "first"
[[group.resource]]
name = "a"
[[group.resource]]
name = "b"
depends_on = ["c"]
[[group.resource]]
name = "c"
[[group]]
name = "second"
[[group.resource]]
name = "d"
"#,
    );
    let log = cluster.path("order");
    for (group, resource) in [
        ("first", "a"),
        ("first", "b"),
        ("first", "c"),
        ("second", "d"),
    ] {
        cluster.script(
            group,
            resource,
            "start.sh",
            &format!("echo start {resource} >> {}", log.display()),
        );
        cluster.script(
            group,
            resource,
            "stop.sh",
            &format!("echo stop {resource} >> {}", log.display()),
        );
    }
    cluster.start();
    wait_until("second online", WAIT, || {
        cluster.resource_status("d") == "Online"
    });
    cluster.stop();
    let order = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        order.lines().collect::<Vec<_>>(),
        [
            "start a", "start c", "start b", "start d", "stop d", "stop b", "stop c", "stop a"
        ]
    );
}

#[test]
fn a_killed_daemon_restarts_without_starting_resources_twice() {
    let cluster = pidw_cluster(3, "none", "");
    cluster.start();
    wait_until("exec online", WAIT, || {
        cluster.resource_status("exec") == "Online"
    });
    let resource = cluster.resource_pid("exec").unwrap();
    let daemon = cluster.daemon_pid().unwrap();
    signal(daemon, libc::SIGKILL);
    wait_until("daemon gone", WAIT, || !alive(daemon));
    assert!(
        alive(resource),
        "the resource must outlive a crash of clppm"
    );
    cluster.start();
    wait_until("exec online again", WAIT, || {
        cluster.resource_status("exec") == "Online"
    });
    assert_eq!(
        cluster.resource_pid("exec"),
        Some(resource),
        "the running process is adopted"
    );
    assert_eq!(events(&cluster), ["START"], "start.sh ran twice");
    // The adopted process is still watched, event-driven, through its pidfd.
    signal(resource, libc::SIGKILL);
    wait_until("reactivated", WAIT, || {
        events(&cluster).contains(&"RECOVER".to_string())
    });
    cluster.stop();
    assert_eq!(cluster.processes(), Vec::<u32>::new());
}

#[test]
fn sigterm_is_an_orderly_stop() {
    let cluster = pidw_cluster(3, "none", "");
    cluster.start();
    wait_exec_started(&cluster);
    let daemon = cluster.daemon_pid().unwrap();
    signal(daemon, libc::SIGTERM);
    wait_until("daemon gone", WAIT, || !alive(daemon));
    assert_eq!(events(&cluster), ["START", "stop CLUSTERSHUTDOWN"]);
    assert_eq!(cluster.processes(), Vec::<u32>::new());
}

#[test]
fn suspend_keeps_resources_and_stops_monitoring() {
    let cluster = pidw_cluster(3, "none", "");
    cluster.start();
    wait_until("pidw normal", WAIT, || {
        cluster.monitor_status("pidw") == "Normal"
    });
    let pid = cluster.resource_pid("exec").unwrap();
    cluster.run("clpcl", &["--suspend"]).success();
    assert_eq!(cluster.monitor_status("pidw"), "Suspend");
    let refused = cluster.run("clpgrp", &["-t", "failover"]);
    assert!(refused.failure(11).contains("suspended"));
    signal(pid, libc::SIGKILL);
    std::thread::sleep(std::time::Duration::from_millis(700));
    assert_eq!(
        events(&cluster),
        ["START"],
        "a suspended monitor must not recover"
    );
    cluster.run("clpcl", &["--resume"]).success();
    assert!(
        cluster
            .alerts()
            .contains("rm 31 All monitors were suspended.")
    );
    assert!(
        cluster
            .alerts()
            .contains("rm 32 All monitors were resumed.")
    );
    cluster.stop();
}

#[test]
fn restart_stops_and_starts_again() {
    let cluster = pidw_cluster(3, "none", "");
    cluster.start();
    let first = cluster.daemon_pid().unwrap();
    cluster.run("clpcl", &["-r"]).success();
    let second = cluster.daemon_pid().unwrap();
    assert_ne!(first, second);
    wait_until("exec online", WAIT, || {
        cluster.resource_status("exec") == "Online"
    });
    cluster.stop();
}

#[test]
fn stop_is_quick_with_idle_monitors() {
    // pidw is switched off (its resource is stopped): the stop must not wait for it.
    let cluster = pidw_cluster(3, "none", "");
    cluster.start();
    wait_until("exec online", WAIT, || {
        cluster.resource_status("exec") == "Online"
    });
    cluster.run("clprsc", &["-t", "exec"]).success();
    let started = std::time::Instant::now();
    cluster.stop();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn commands_run_during_the_daemons_start_do_not_break_it() {
    // clpstat while clppm starts: it must wait for the daemon, not take its store.
    for _ in 0..5 {
        let cluster = Cluster::new();
        let mut daemon = cluster
            .command("clppm")
            .arg("--foreground")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Whether it came before the daemon or during its start, clpstat answers and the
        // daemon comes up.
        cluster.run("clpstat", &["--json"]).success();
        wait_until("the daemon answers", WAIT, || {
            assert!(
                daemon.try_wait().unwrap().is_none(),
                "clppm exited after clpstat ran"
            );
            cluster.status()["daemon"] == "running"
        });
        cluster.stop();
        assert!(daemon.wait().unwrap().success());
    }
}
