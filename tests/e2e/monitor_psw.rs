//! psw: an exec resource starts three worker processes under a marked name; psw counts them,
//! sees one killed, has the resource restarted, and counts three again.

use crate::harness::*;

/// The `bash` that renames its `sleep` with `exec -a`.
fn bash() -> &'static str {
    let bash = "/bin/bash";
    assert!(
        std::path::Path::new(bash).exists(),
        "psw's test needs {bash} (Debian's essential bash package)"
    );
    bash
}

/// Whether `holder` holds a pidfd of `pid` (what psw watches a found process with).
fn holds_pidfd(holder: u32, pid: u32) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{holder}/fdinfo")) else {
        return false;
    };
    let line = format!("Pid:\t{pid}");
    fds.flatten().any(|fd| {
        std::fs::read_to_string(fd.path()).is_ok_and(|info| info.lines().any(|l| l == line))
    })
}

#[test]
fn psw_sees_a_worker_die_and_the_restarted_resource_bring_it_back() {
    // A marker no other process on the machine carries, so parallel runs never count each
    // other's workers.
    let marker = format!("clp-psw-test-{}", std::process::id());
    let cluster = Cluster::with_config(&format!(
        r#"
[cluster]
name = "zabi"

[[group]]
name = "failover"

[[group.resource]]
name = "exec"
mode = "async"

[[monitor]]
name = "psw"
type = "psw"
target = "exec"
timing = "active"
interval = 0.3
[monitor.parameters]
processname = "{marker}-*"
processnum = 3
[monitor.recovery]
target = "exec"
reactivation_threshold = 1
final_action = "none"
"#
    ));
    cluster.script(
        "failover",
        "exec",
        "start.sh",
        &format!(
            "echo \"$CLP_EVENT\" >> events\nfor n in 1 2 3; do\n  {bash} -c 'exec -a {marker}-'$n' sleep 600' &\ndone\nwait",
            bash = bash()
        ),
    );
    cluster.start();
    let workers = || -> Vec<u32> {
        let mut found: Vec<u32> = cluster
            .processes()
            .into_iter()
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|cmdline| cmdline.starts_with(marker.as_bytes()))
            })
            .collect();
        found.sort();
        found
    };
    wait_until("three workers", WAIT, || workers().len() == 3);
    let first = workers();
    // A check found them: each is watched through a pidfd the daemon holds.
    let daemon = cluster.daemon_pid().unwrap();
    wait_until("psw watches the three workers", WAIT, || {
        first.iter().all(|pid| holds_pidfd(daemon, *pid))
    });
    assert_eq!(cluster.monitor_status("psw"), "Normal");

    let victim = first[1];
    let cmdline = std::fs::read(format!("/proc/{victim}/cmdline")).unwrap();
    let name = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    signal(victim, libc::SIGKILL);
    wait_until("rm 9", WAIT, || {
        cluster.alerts().contains(&format!(
            "rm 9 Detected an error in monitoring psw. (11 : 2 process(es) match \"{marker}-*\", fewer than processnum 3; down: {} (pid={victim}).)",
            name.trim_end()
        ))
    });
    wait_until("rm 13", WAIT, || {
        cluster.alerts().contains(
            "rm 13 Recovery target exec has restarted because an error was detected in monitoring psw.",
        )
    });
    wait_until("rm 26", WAIT, || {
        cluster
            .alerts()
            .contains("rm 26 psw status changed from error to normal.")
    });
    let second = workers();
    assert_eq!(second.len(), 3, "{second:?}");
    assert!(
        second.iter().all(|pid| !first.contains(pid)),
        "the reactivation replaced every worker: {first:?} → {second:?}"
    );
    assert_eq!(events(&cluster), ["START", "RECOVER"]);
    cluster.stop();
    assert!(workers().is_empty());
}
