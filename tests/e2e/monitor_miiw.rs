//! miiw: the host end of a veth pair whose peer lives in a network namespace the test
//! makes. The peer goes down (the host end loses its carrier), then the host end itself is
//! set administratively down; each time the link comes back.

use crate::harness::*;
use crate::netns::{TestNetns, ip};

#[test]
fn miiw_follows_the_carrier_and_admin_state_of_a_veth_in_a_netns() {
    let Some(net) = TestNetns::create("miiw") else {
        return;
    };
    let host_end = net.host_end.clone();
    let missing = format!("nosuch{}", std::process::id());
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
name = "miiw1"
type = "miiw"
interval = 0.5
timeout = 5
retry = 1
[monitor.parameters]
object = "{host_end}"
[monitor.recovery]
target = "exec"
reactivation_threshold = 1
final_action = "none"

[[monitor]]
name = "miiw2"
type = "miiw"
interval = 0.5
timeout = 5
retry = 0
[monitor.parameters]
object = "{missing}"
[monitor.recovery]
target = "local-server"
final_action = "none"
"#
    ));
    cluster.script(
        "failover",
        "exec",
        "start.sh",
        "echo \"$CLP_EVENT\" >> events\nexec sleep 600",
    );
    cluster.script("failover", "exec", "stop.sh", "echo stop >> events");
    cluster.start();
    wait_until("exec online", WAIT, || {
        cluster.resource_status("exec") == "Online"
    });

    // A missing interface is a fault at the first check; the real one stays normal.
    wait_until("miiw2 in error", WAIT, || {
        cluster.alerts().contains(&format!(
            "rm 9 Detected an error in monitoring miiw2. (2 : NIC {missing} does not exist.)"
        ))
    });
    assert_eq!(cluster.monitor_status("miiw1"), "Normal");
    assert!(!cluster.alerts().contains("monitoring miiw1."));

    // The far end goes down: no carrier on ours (operstate down or lowerlayerdown).
    net.inside(&["link", "set", &net.inner_end, "down"]);
    wait_until("miiw1 in error (no carrier)", WAIT, || {
        cluster.alerts().contains(&format!(
            "rm 9 Detected an error in monitoring miiw1. (1 : NIC {host_end} has no carrier: the link is down (operstate "
        ))
    });
    wait_until("exec reactivated", WAIT, || {
        cluster.alerts().contains(
            "rm 13 Recovery target exec has restarted because an error was detected in monitoring miiw1.",
        )
    });
    net.inside(&["link", "set", &net.inner_end, "up"]);
    wait_until("miiw1 back to normal", WAIT, || {
        cluster.count_alerts("rm 26 miiw1 status changed from error to normal.") == 1
    });

    // Ours is set administratively down (reading its carrier fails with EINVAL then).
    ip(&["link", "set", &host_end, "down"]);
    wait_until("miiw1 in error (admin down)", WAIT, || {
        cluster.alerts().contains(&format!(
            "rm 9 Detected an error in monitoring miiw1. (1 : NIC {host_end} is administratively down (operstate down).)"
        ))
    });
    ip(&["link", "set", &host_end, "up"]);
    wait_until("miiw1 back to normal again", WAIT, || {
        cluster.count_alerts("rm 26 miiw1 status changed from error to normal.") == 2
    });
    assert_eq!(cluster.monitor_status("miiw1"), "Normal");
    assert!(
        !cluster.alerts().contains("rm 4 "),
        "an outage the checks saw is no flap:\n{}",
        cluster.alerts()
    );
    cluster.stop();
}
