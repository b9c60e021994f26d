//! userw: a stall of the daemon itself (SIGSTOP) puts the monitor in Error.

use std::time::Duration;

use crate::harness::*;

#[test]
fn a_stalled_daemon_puts_userw_in_error() {
    let cluster = Cluster::with_config(
        r#"
[cluster]
name = "zabi"
[[monitor]]
name = "userw"
type = "userw"
interval = 0.2
timeout = 1
"#,
    );
    cluster.start();
    wait_until("userw normal", WAIT, || {
        cluster.monitor_status("userw") == "Normal"
    });
    let daemon = cluster.daemon_pid().unwrap();
    signal(daemon, libc::SIGSTOP);
    std::thread::sleep(Duration::from_millis(2000));
    signal(daemon, libc::SIGCONT);
    wait_until("rm 9 userw", WAIT, || {
        cluster
            .alerts()
            .contains("rm 9 Detected an error in monitoring userw. (1 : The daemon stalled for")
    });
    // The next tick is on time again: back to normal.
    wait_until("rm 26 userw", WAIT, || {
        cluster
            .alerts()
            .contains("rm 26 userw status changed from error to normal.")
    });
    cluster.stop();
}

#[test]
fn the_watchdog_device_is_fed_and_disarmed_with_the_magic_close() {
    let cluster = Cluster::new();
    let device = cluster.path("fake-watchdog");
    std::fs::write(&device, "").unwrap();
    cluster.write_config(&format!(
        r#"
[os_actions]
watchdog_device = "{}"
[[monitor]]
name = "userw"
type = "userw"
interval = 0.1
[monitor.parameters]
method = "softdog"
"#,
        device.display()
    ));
    cluster.start();
    wait_until("fed", WAIT, || std::fs::read(&device).unwrap().len() >= 3);
    cluster.stop();
    let written = std::fs::read(&device).unwrap();
    assert_eq!(
        written.last(),
        Some(&b'V'),
        "the magic close ends the feeding"
    );
    assert!(written[..written.len() - 1].iter().all(|b| *b == 0));
}

#[test]
fn the_real_watchdog_is_refused_under_the_lock() {
    let cluster = Cluster::with_config(
        r#"
[[monitor]]
name = "userw"
type = "userw"
[monitor.parameters]
method = "softdog"
"#,
    );
    cluster.start();
    wait_until("rm 7", WAIT, || {
        cluster
            .alerts()
            .contains("rm 7 Failed to start monitoring userw.")
    });
    // The log's own thread writes it: the line may follow the alert by a moment.
    wait_until("the refusal in clppm.log", WAIT, || {
        std::fs::read_to_string(cluster.path("log/clppm.log")).is_ok_and(|log| {
            log.contains(
                "opening the watchdog refused: CLP_FORBID_OS_ACTIONS=1 forbids /dev/watchdog",
            )
        })
    });
    cluster.stop();
}
