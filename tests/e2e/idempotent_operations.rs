//! Starting what is started and stopping what is stopped do nothing but say so, at every
//! level: resource, group, cluster, and the WebManager's REST API. An async exec resource is
//! never started twice (no orphan), and `stop.sh` never runs for a resource already stopped.

use crate::harness::*;
use crate::webmgr_http::{post, start_webmgr};

/// The argument of the resource's `sleep`: how its process is told from every other one.
const MARKER: &str = "7777";

/// A group `failover` with one async exec resource `exec` whose scripts record what they
/// were asked (`start`, `stop pid=<CLP_PID>`).
fn cluster() -> Cluster {
    let cluster = Cluster::with_config(
        r#"[cluster]
name = "zabi"

[[group]]
name = "failover"

[[group.resource]]
name = "exec"
mode = "async"
"#,
    );
    cluster.script(
        "failover",
        "exec",
        "start.sh",
        &format!("echo start >> events\nexec sleep {MARKER}"),
    );
    cluster.script(
        "failover",
        "exec",
        "stop.sh",
        "echo \"stop pid=$CLP_PID\" >> events",
    );
    cluster
}

/// The live processes of the resource (its `sleep`), whoever their parent is.
fn copies(cluster: &Cluster) -> Vec<u32> {
    cluster
        .processes()
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmdline| cmdline == format!("sleep\0{MARKER}\0").as_bytes())
        })
        .collect()
}

fn script_events(cluster: &Cluster) -> Vec<String> {
    std::fs::read_to_string(cluster.path("etc/scripts/failover/exec/events"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn commands_refuse_to_start_what_is_started_and_stop_what_is_stopped() {
    let cluster = cluster();
    cluster.start();
    wait_until("exec online", WAIT, || {
        cluster.resource_status("exec") == "Online"
    });
    let first = cluster.resource_pid("exec").expect("exec's pid");
    assert_eq!(copies(&cluster), [first]);

    // Resource: a second start runs nothing, the first process stays the only one.
    let again = cluster.run("clprsc", &["-s", "exec"]);
    assert!(
        again
            .failure(128)
            .contains("resource \"exec\" is already started (Online); nothing was done"),
        "{}",
        again.stderr()
    );
    assert_eq!(copies(&cluster), [first]);
    assert_eq!(cluster.resource_pid("exec"), Some(first));
    assert_eq!(script_events(&cluster), ["start"]);
    assert_eq!(cluster.count_alerts("rc 83"), 0, "{}", cluster.alerts());

    // Group: already started, by name and as "every group".
    let group = cluster.run("clpgrp", &["-s", "failover"]);
    assert!(
        group
            .failure(128)
            .contains("group \"failover\" is already started (Online); nothing was done")
    );
    let every = cluster.run("clpgrp", &["-s"]);
    assert!(
        every
            .failure(128)
            .contains("every group is already started (Online); nothing was done")
    );
    assert_eq!(copies(&cluster), [first]);
    assert_eq!(cluster.count_alerts("rc 10 "), 1, "{}", cluster.alerts());

    // The stop runs stop.sh once; the second stop runs nothing.
    cluster.run("clprsc", &["-t", "exec"]).success();
    assert_eq!(copies(&cluster), Vec::<u32>::new());
    let stop_line = format!("stop pid={first}");
    assert_eq!(script_events(&cluster), ["start", stop_line.as_str()]);
    let stopped = cluster.run("clprsc", &["-t", "exec"]);
    assert!(
        stopped
            .failure(129)
            .contains("resource \"exec\" is already stopped (Offline); nothing was done"),
        "{}",
        stopped.stderr()
    );
    let group = cluster.run("clpgrp", &["-t", "failover"]);
    assert!(
        group
            .failure(129)
            .contains("group \"failover\" is already stopped (Offline); nothing was done")
    );
    assert_eq!(script_events(&cluster), ["start", stop_line.as_str()]);
    assert_eq!(cluster.count_alerts("rc 87"), 1, "{}", cluster.alerts());
    assert_eq!(cluster.count_alerts("rc 20 "), 0, "{}", cluster.alerts());

    // Started again by its group: still one copy, and the group start is refused once done.
    cluster.run("clpgrp", &["-s", "failover"]).success();
    assert_eq!(copies(&cluster).len(), 1);
    cluster.run("clprsc", &["-s", "exec"]).failure(128);
    assert_eq!(copies(&cluster).len(), 1);

    // Cluster: started is refused, resume without suspend says so, stopped says so.
    let pid = cluster.daemon_pid().expect("clppm's pid");
    assert!(
        cluster
            .run("clpcl", &["-s"])
            .failure(128)
            .contains(&format!("clppm is already running (pid {pid})"))
    );
    assert!(
        cluster
            .run("clpcl", &["--resume"])
            .failure(128)
            .contains("clppm is not suspended (it is running); nothing was done")
    );
    cluster.stop();
    assert_eq!(copies(&cluster), Vec::<u32>::new());
    let stopped = cluster.run("clpcl", &["-t"]);
    assert!(
        stopped.failure(10).contains("not running"),
        "{}",
        stopped.stderr()
    );
}

#[test]
fn the_rest_api_answers_409_to_what_is_already_done() {
    let cluster = cluster();
    let addr = start_webmgr(&cluster);
    assert_eq!(post(addr, "/api/v1/cluster/start").status, 200);
    wait_until("exec online", WAIT, || {
        cluster.resource_status("exec") == "Online"
    });
    let first = cluster.resource_pid("exec").expect("exec's pid");

    let again = post(addr, "/api/v1/resources/exec/start");
    assert_eq!(again.status, 409, "{}", again.text());
    assert!(
        again.text().contains("is already started"),
        "{}",
        again.text()
    );
    assert_eq!(post(addr, "/api/v1/groups/failover/start").status, 409);
    assert_eq!(post(addr, "/api/v1/cluster/start").status, 409);
    assert_eq!(copies(&cluster), [first]);
    assert_eq!(script_events(&cluster), ["start"]);

    assert_eq!(post(addr, "/api/v1/resources/exec/stop").status, 200);
    let again = post(addr, "/api/v1/resources/exec/stop");
    assert_eq!(again.status, 409, "{}", again.text());
    assert!(
        again.text().contains("is already stopped"),
        "{}",
        again.text()
    );
    assert_eq!(post(addr, "/api/v1/groups/failover/stop").status, 409);
    let stop_line = format!("stop pid={first}");
    assert_eq!(script_events(&cluster), ["start", stop_line.as_str()]);
    assert_eq!(copies(&cluster), Vec::<u32>::new());

    assert_eq!(post(addr, "/api/v1/cluster/stop").status, 200);
    let again = post(addr, "/api/v1/cluster/stop");
    assert_eq!(again.status, 409, "{}", again.text());
    assert!(again.text().contains("already stopped"), "{}", again.text());
}
