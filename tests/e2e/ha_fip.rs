//! A floating IP in the HA cluster, for real: two servers and a witness on the bed, one
//! group `web` of a fip (`192.0.2.100`) and the bed's service. The client on the bridge
//! reaches the service through the floating address; `kill -9` of the active server's clppm
//! makes its keeper take the address down with the service, and the other server brings
//! both up (its duplicate probe finds nobody) and answers through the same address.

use std::time::{Duration, Instant};

use crate::ha_bed::Bed;
use crate::ha_bed::client::Client;
use crate::harness::wait_until;
use crate::netns::ip;

/// The heartbeat timeout (clp's default).
const TIMEOUT: Duration = Duration::from_secs(3);
/// What the takeover may take beyond it: etcd's expiry check, the keeper, the probe, the
/// group's start, a loaded machine.
const MARGIN: Duration = Duration::from_secs(7);
/// How long etcd may take to form its cluster.
const FORM: Duration = Duration::from_secs(30);
/// The service's port.
const PORT: u16 = 8080;
/// The floating address.
const FLOATING: &str = "192.0.2.100";
const GROUP: &str = "web";

fn fip_bed(tag: &str) -> Option<Bed> {
    let bed = Bed::create(tag, 2)?;
    let group = crate::ha_bed::fip_group(GROUP, FLOATING);
    bed.write_config(&bed.config(TIMEOUT, &group));
    for index in 0..2 {
        let name = bed.hosts[index].name.clone();
        let start = bed.journal.start_script(&name, GROUP, PORT);
        let stop = bed.journal.stop_script(&name, GROUP);
        bed.clp(index).script(GROUP, "service", "start.sh", &start);
        bed.clp(index).script(GROUP, "service", "stop.sh", &stop);
    }
    Some(bed)
}

/// Whether host `index` holds the floating address.
fn holds(bed: &Bed, index: usize) -> bool {
    ip(&["-n", &bed.hosts[index].netns, "-br", "addr"]).contains(&format!("{FLOATING}/24"))
}

/// Waits until the client gets `SERVER web` through the floating address.
#[track_caller]
fn wait_answer_through_fip(bed: &Bed, client: &Client, index: usize, within: Duration) {
    let expected = format!("{} {GROUP}", bed.hosts[index].name);
    wait_until(&format!("{expected} through {FLOATING}"), within, || {
        client.ask(FLOATING, PORT, Duration::from_millis(500)) == Ok(expected.clone())
    });
}

/// The status word of monitor `fipw1` as server `index` shows it.
fn fipw_status(bed: &Bed, index: usize) -> String {
    let run = bed.run(index, "clpstat", &["--json"]);
    let status: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap_or_default();
    status["monitors"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["name"] == "fipw1")
        .and_then(|m| m["status"].as_str())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn ha_kill_9_of_clppm_moves_the_floating_ip_with_its_group_without_overlap() {
    let Some(mut bed) = fip_bed("fp") else {
        return;
    };
    bed.start_clppm(0);
    let client = bed.client();
    wait_answer_through_fip(&bed, &client, 0, FORM);
    bed.start_clppm(1);
    bed.wait_formed(FORM);
    assert!(
        holds(&bed, 0) && !holds(&bed, 1),
        "the fip is on node1 alone"
    );

    let pid = bed.clppm_pid(0).expect("node1's clppm");
    let fault = Instant::now();
    bed.kill_clppm(pid);
    wait_until(
        "node1's keeper takes the fip down",
        TIMEOUT + MARGIN,
        || !holds(&bed, 0),
    );
    wait_answer_through_fip(&bed, &client, 1, TIMEOUT + MARGIN);
    eprintln!(
        "kill -9: node2 answers through {FLOATING} {:?} after the fault",
        fault.elapsed()
    );
    assert!(holds(&bed, 1) && !holds(&bed, 0), "the fip moved to node2");
    wait_until("fipw1 normal on node2", TIMEOUT + MARGIN, || {
        fipw_status(&bed, 1) == "Normal"
    });
    let alerts = bed.clp(1).alerts();
    assert!(!alerts.contains("fip 10"), "{alerts}");
    assert!(!alerts.contains("monitoring fipw1."), "{alerts}");
    bed.journal.assert_no_overlap();
}
