//! genw: an operator's script decides — its exit code (sync), its life (async) — and a script
//! that hangs is abandoned at the timeout with everything it started.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::app_servers::count_lines;
use crate::harness::*;

fn write_script(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The pids a script appended to `file`, one a line.
fn pids(file: &Path) -> Vec<u32> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.trim().parse().ok())
        .collect()
}

#[test]
fn genw_exit_codes_give_normal_warning_and_error() {
    let cluster = Cluster::with_config(
        r#"
[cluster]
name = "zabi"
[[monitor]]
name = "genw"
type = "genw"
interval = 0.2
timeout = 5
retry = 0
nice = 5
[monitor.parameters]
path = "genw.sh"
warningval = 3
[monitor.recovery]
reactivation_threshold = 0
final_action = "none"
"#,
    );
    // A relative path: the script lives in etc/scripts/monitor.s/<monitor>/, as in the original.
    let dir = cluster.path("etc/scripts/monitor.s/genw");
    write_script(
        &dir.join("genw.sh"),
        // Written aside and renamed, so the test never reads a half-written file.
        "cut -d' ' -f19 /proc/$$/stat > nice.new\nenv > env.new\nmv nice.new nice.seen\nmv env.new env.seen\necho checked\nexit $(cat verdict)",
    );
    let verdict = |code: &str| {
        std::fs::write(dir.join("verdict.new"), code).unwrap();
        std::fs::rename(dir.join("verdict.new"), dir.join("verdict")).unwrap();
    };
    verdict("0");
    cluster.start();
    wait_until("a first check", WAIT, || dir.join("env.seen").exists());
    assert_eq!(cluster.monitor_status("genw"), "Normal");
    let nice = std::fs::read_to_string(dir.join("nice.seen")).unwrap();
    assert_eq!(
        nice.trim(),
        "5",
        "the script runs at the monitor's nice value"
    );
    let env = std::fs::read_to_string(dir.join("env.seen")).unwrap();
    assert!(
        env.contains(&format!("CLP_ROOT={}", cluster.root().display())),
        "{env}"
    );
    assert!(
        !env.contains("CARGO"),
        "the daemon's environment leaked: {env}"
    );
    let log = std::fs::read_to_string(cluster.path("log/monitor.genw.log")).unwrap();
    assert!(log.starts_with("checked\n"), "{log}");

    verdict("3");
    wait_until("rm 4", WAIT, || {
        cluster
            .alerts()
            .contains("rm 4 Warn monitoring genw. (15 : genw.sh exited with code 3 (warningval).)")
    });
    assert_eq!(cluster.monitor_status("genw"), "Warning");
    verdict("0");
    wait_until("rm 49", WAIT, || {
        cluster
            .alerts()
            .contains("rm 49 genw status changed from warning to normal.")
    });

    verdict("1");
    wait_until("rm 9", WAIT, || {
        cluster.alerts().contains(
            "rm 9 Detected an error in monitoring genw. (11 : genw.sh exited with code 1 (normalval 0).)",
        )
    });
    assert_monitor_in_error(&cluster, "genw");
    verdict("0");
    wait_until("rm 26", WAIT, || {
        cluster
            .alerts()
            .contains("rm 26 genw status changed from error to normal.")
    });
    cluster.stop();
}

#[test]
fn a_hung_genw_script_is_abandoned_at_the_timeout_with_its_process_group() {
    let cluster = Cluster::new();
    let script = cluster.path("hang.sh");
    let started = cluster.path("started");
    // The script starts a child in its group, then stops itself: it never ends on its own.
    write_script(
        &script,
        &format!(
            "echo $$ >> {started}\nsleep 600 &\necho $! >> {started}\nkill -STOP $$",
            started = started.display()
        ),
    );
    cluster.write_config(&format!(
        r#"
[cluster]
name = "zabi"
[[monitor]]
name = "genw"
type = "genw"
interval = 0.5
timeout = 1
retry = 0
[monitor.parameters]
path = "{}"
[monitor.recovery]
reactivation_threshold = 0
final_action = "none"
"#,
        script.display()
    ));
    cluster.start();
    wait_until("the first script and its child", WAIT, || {
        pids(&started).len() >= 2
    });
    let first = pids(&started)[..2].to_vec();
    wait_until("rm 9 at the timeout", WAIT, || {
        cluster.alerts().contains(
            "rm 9 Detected an error in monitoring genw. (99 : Monitor timed out after 1 seconds.)",
        )
    });
    wait_until("the stopped script and its child killed", WAIT, || {
        first.iter().all(|pid| !alive(*pid))
    });
    cluster.stop();
    let every = pids(&started);
    wait_until("no script left after the stop", WAIT, || {
        every.iter().all(|pid| !alive(*pid))
    });
    assert_eq!(cluster.processes(), Vec::<u32>::new());
}

#[test]
fn an_async_genw_script_that_dies_is_an_error_and_is_started_again() {
    let cluster = Cluster::with_config(
        r#"
[cluster]
name = "zabi"

[[group]]
name = "failover"

[[group.resource]]
name = "exec"

[[monitor]]
name = "genw"
type = "genw"
interval = 0.3
retry = 0
[monitor.parameters]
path = "genw.sh"
sync = 0
[monitor.recovery]
target = "exec"
reactivation_threshold = 1
final_action = "none"
"#,
    );
    cluster.script(
        "failover",
        "exec",
        "start.sh",
        "echo \"$CLP_EVENT\" >> events",
    );
    let dir = cluster.path("etc/scripts/monitor.s/genw");
    write_script(&dir.join("genw.sh"), "echo $$ >> pids\nexec sleep 600");
    let started = dir.join("pids");
    cluster.start();
    wait_until("the async script runs", WAIT, || pids(&started).len() == 1);
    let first = pids(&started)[0];
    assert!(alive(first));
    signal(first, libc::SIGKILL);
    wait_until("rm 9", WAIT, || {
        cluster.alerts().contains(
            "rm 9 Detected an error in monitoring genw. (14 : genw.sh was killed by signal 9.)",
        )
    });
    wait_until("rm 13", WAIT, || {
        cluster.alerts().contains(
            "rm 13 Recovery target exec has restarted because an error was detected in monitoring genw.",
        )
    });
    assert_eq!(events(&cluster), ["START", "RECOVER"]);
    wait_until("rm 26", WAIT, || {
        cluster
            .alerts()
            .contains("rm 26 genw status changed from error to normal.")
    });
    // Normal comes as the script is spawned, maybe before it has written its pid.
    wait_until("the new script's pid", WAIT, || pids(&started).len() >= 2);
    let now = pids(&started);
    assert_eq!(now.len(), 2, "started again once: {now:?}");
    assert!(alive(now[1]));
    cluster.stop();
    wait_until("the async script ends with the daemon", WAIT, || {
        !alive(now[1])
    });
}

#[test]
fn a_slow_check_is_a_delay_warning_once_per_run_of_slow_checks() {
    let cluster = Cluster::with_config(
        r#"
[cluster]
name = "zabi"
monitor_delay_warning = 50
[[monitor]]
name = "genw"
type = "genw"
interval = 0.2
timeout = 2
retry = 0
[monitor.parameters]
path = "genw.sh"
[monitor.recovery]
reactivation_threshold = 0
final_action = "none"
"#,
    );
    let dir = cluster.path("etc/scripts/monitor.s/genw");
    // Each check sleeps as long as `delay` says and counts itself.
    write_script(
        &dir.join("genw.sh"),
        "sleep $(cat delay)\necho x >> checks\nexit 0",
    );
    let delay = |seconds: &str| {
        std::fs::write(dir.join("delay.new"), seconds).unwrap();
        std::fs::rename(dir.join("delay.new"), dir.join("delay")).unwrap();
    };
    let checks = || count_lines(&dir.join("checks"), "x");
    let warning = "rm 71 Detected a monitor delay in monitoring genw. (timeout=2*100 actual-time=";
    delay("0");
    cluster.start();
    wait_until("fast checks", WAIT, || checks() >= 3);
    assert_eq!(cluster.count_alerts("rm 71"), 0, "{}", cluster.alerts());

    // Over 50 % of the 2 s timeout: a warning, and the monitor stays Normal.
    delay("1.3");
    let before = checks();
    wait_until("three slow checks", WAIT, || checks() >= before + 3);
    let alerts = cluster.alerts();
    assert_eq!(cluster.count_alerts(warning), 1, "{alerts}");
    assert!(alerts.contains("delay warning rate=50)"), "{alerts}");
    assert_eq!(cluster.monitor_status("genw"), "Normal");

    // Fast again, then slow again: a new run of delays, a new warning.
    delay("0");
    let before = checks();
    wait_until("fast checks again", WAIT, || checks() >= before + 3);
    delay("1.3");
    wait_until("a second warning", WAIT, || {
        cluster.count_alerts(warning) == 2
    });
    assert_eq!(cluster.count_alerts("rm 9 "), 0, "{}", cluster.alerts());
    cluster.stop();
}
