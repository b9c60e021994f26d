//! Event-driven detection beyond pidw: a probe's wake-up makes the engine check at once,
//! long before the monitor's interval (600 s here).

use std::process::Command;

use crate::harness::*;

fn checks(cluster: &Cluster, monitor: &str) -> u64 {
    let status = cluster.status();
    status["monitors"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["name"] == monitor)
        .and_then(|m| m["checks"].as_u64())
        .unwrap_or(0)
}

#[test]
fn psw_reports_a_death_at_once() {
    let marker = format!("clp-events-{}", std::process::id());
    let cluster = Cluster::with_config(&format!(
        "[[monitor]]\nname = \"psw\"\ntype = \"psw\"\ninterval = 600\n[monitor.parameters]\nprocessname = \"{marker}-*\"\nprocessnum = 2\n"
    ));
    // The workers carry the cluster's root, so its guard kills them whatever happens.
    let workers: Vec<u32> = (1..=2)
        .map(|n| {
            Command::new("bash")
                .args(["-c", &format!("exec -a {marker}-{n} sleep 600")])
                .env("CLP_ROOT", cluster.root())
                .spawn()
                .unwrap()
                .id()
        })
        .collect();
    wait_until("workers named", WAIT, || {
        workers.iter().all(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.starts_with(marker.as_bytes()))
        })
    });
    cluster.start();
    wait_until("the first check", WAIT, || checks(&cluster, "psw") == 1);
    assert_eq!(cluster.monitor_status("psw"), "Normal");
    signal(workers[0], libc::SIGKILL);
    wait_until("rm 9 long before the 600 s interval", WAIT, || {
        cluster
            .alerts()
            .contains("rm 9 Detected an error in monitoring psw. (11 : 1 process(es) match")
    });
    cluster.stop();
}

#[test]
fn async_genw_reports_its_scripts_death_at_once() {
    let cluster = Cluster::with_config(
        "[[monitor]]\nname = \"genw\"\ntype = \"genw\"\ninterval = 600\n[monitor.parameters]\npath = \"watch.sh\"\nsync = false\n",
    );
    let dir = cluster.path("etc/scripts/monitor.s/genw");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("watch.sh"),
        "#!/bin/sh\necho $$ > watch.pid\nexec sleep 600\n",
    )
    .unwrap();
    cluster.start();
    let pid_file = dir.join("watch.pid");
    let pid = pid_written_to(&pid_file, WAIT);
    signal(pid, libc::SIGKILL);
    wait_until("rm 9 long before the 600 s interval", WAIT, || {
        cluster
            .alerts()
            .contains("rm 9 Detected an error in monitoring genw. (14 :")
    });
    cluster.stop();
}
