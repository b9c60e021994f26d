//! ipw: pings across a veth pair into a network namespace the test makes. The address
//! inside is removed (nobody answers any more) and given back.

use std::net::Ipv4Addr;

use crate::harness::*;
use crate::netns::{TestNetns, ip};

/// A /29 of 10.64.0.0/10 taken from the pid, so parallel runs use different subnets:
/// (the host end's address, the inner end's address, an address nobody has).
fn addresses() -> (Ipv4Addr, Ipv4Addr, Ipv4Addr) {
    let pid = std::process::id();
    let base = Ipv4Addr::new(
        10,
        (64 + (pid >> 13) % 64) as u8,
        ((pid >> 5) & 0xff) as u8,
        ((pid & 0x1f) << 3) as u8,
    );
    let host = |offset: u32| Ipv4Addr::from(u32::from(base) + offset);
    (host(1), host(2), host(3))
}

fn ipw(name: &str, list: &str, retry: u32, timeout: u32, extra: &str, recovery: &str) -> String {
    format!(
        r#"
[[monitor]]
name = "{name}"
type = "ipw"
interval = 0.5
timeout = {timeout}
retry = {retry}
[monitor.parameters]
list = {list}
{extra}
[monitor.recovery]
{recovery}
"#
    )
}

#[test]
fn ipw_follows_an_address_removed_and_restored_in_a_netns() {
    let Some(net) = TestNetns::create("ipw") else {
        return;
    };
    let (host, peer, silent) = addresses();
    ip(&["addr", "add", &format!("{host}/29"), "dev", &net.host_end]);
    net.inside(&["addr", "add", &format!("{peer}/29"), "dev", &net.inner_end]);
    // Every address pinged here must leave through the pair and nowhere else.
    for address in [peer, silent] {
        let route = ip(&["route", "get", &address.to_string()]);
        assert!(
            route.contains(&format!("dev {} ", net.host_end)),
            "{address} is not routed through the test's veth: {route}"
        );
    }

    let fast = "pingtimeout = 200\npingcount = 2";
    let local_server = "target = \"local-server\"\nfinal_action = \"none\"";
    let mut config = String::from(
        "[cluster]\nname = \"zabi\"\n\n[[group]]\nname = \"failover\"\n[[group.resource]]\nname = \"exec\"\nmode = \"async\"\n",
    );
    config += &ipw(
        "ipw1",
        &format!("[\"{peer}\"]"),
        1,
        5,
        fast,
        "target = \"exec\"\nreactivation_threshold = 1\nfinal_action = \"none\"",
    );
    // One silent address beside an answering one: still normal, at the first failure.
    config += &ipw(
        "ipw2",
        &format!("[\"{silent}\", \"{peer}\"]"),
        0,
        5,
        fast,
        local_server,
    );
    // The silent address alone: proof that it is silent.
    config += &ipw(
        "ipw3",
        &format!("[{{ ip = \"{silent}\" }}]"),
        1,
        5,
        fast,
        local_server,
    );
    // Echo requests far longer than the monitor timeout: the check ends by itself in time.
    config += &ipw(
        "ipw4",
        &format!("[\"{silent}\"]"),
        0,
        1,
        "pingtimeout = 5000\npingcount = 3",
        local_server,
    );
    // Declared after the namespace, dropped before it: the daemon is gone before the
    // addresses are, so it never pings them through another route.
    let cluster = Cluster::with_config(&config);
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

    let silent_error = format!(
        "rm 9 Detected an error in monitoring ipw3. (1 : No address answered the ping: {silent} ("
    );
    wait_until("ipw3 in error", WAIT, || {
        cluster.alerts().contains(&silent_error)
    });
    // ipw2 ran as many checks as ipw3, with retry 0: one answering address kept it normal.
    assert_eq!(cluster.monitor_status("ipw2"), "Normal");
    assert_eq!(cluster.monitor_status("ipw1"), "Normal");
    let alerts = cluster.alerts();
    assert!(!alerts.contains("monitoring ipw1."), "{alerts}");
    assert!(!alerts.contains("monitoring ipw2."), "{alerts}");
    wait_until("ipw4 in error", WAIT, || {
        cluster.alerts().contains(&format!(
            "rm 9 Detected an error in monitoring ipw4. (1 : No address answered the ping: {silent} ("
        ))
    });
    assert!(
        !cluster.alerts().contains("monitoring ipw4. (99"),
        "the engine had to abandon an ipw check:\n{}",
        cluster.alerts()
    );

    // The fault: the address disappears inside the namespace.
    net.inside(&["addr", "del", &format!("{peer}/29"), "dev", &net.inner_end]);
    wait_until("ipw1 in error", WAIT, || {
        cluster.alerts().contains(&format!(
            "rm 9 Detected an error in monitoring ipw1. (1 : No address answered the ping: {peer} ("
        ))
    });
    wait_until("exec reactivated", WAIT, || {
        cluster.alerts().contains(
            "rm 13 Recovery target exec has restarted because an error was detected in monitoring ipw1.",
        )
    });
    // Now both of ipw2's addresses are silent.
    wait_until("ipw2 in error", WAIT, || {
        cluster.alerts().contains(
            "rm 9 Detected an error in monitoring ipw2. (1 : No address answered the ping: ",
        )
    });
    assert_monitor_in_error(&cluster, "ipw1");

    // The repair: the address is back.
    net.inside(&["addr", "add", &format!("{peer}/29"), "dev", &net.inner_end]);
    wait_until("ipw1 and ipw2 back to normal", WAIT, || {
        let alerts = cluster.alerts();
        alerts.contains("rm 26 ipw1 status changed from error to normal.")
            && alerts.contains("rm 26 ipw2 status changed from error to normal.")
    });
    assert_eq!(cluster.monitor_status("ipw1"), "Normal");
    assert_monitor_in_error(&cluster, "ipw3");
    cluster.stop();
}
