//! The HA cluster's first slice, for real: two servers and a witness, each host a network
//! namespace with its own etcd member; each server's clppm joins the cluster in etcd. Both
//! see each other Online; `kill -9` of one clppm shows it Offline on the other within the
//! heartbeat timeout (nm 2), and it comes back Online when restarted (nm 1).

use std::time::{Duration, Instant};

use crate::ha_bed::Bed;

/// The heartbeat of these tests: clp's default timeout, renewed every half second (etcd's
/// shortest lease, 2 s, flaps on a CI machine whose disk and cores are busy).
const TIMEOUT: Duration = Duration::from_secs(3);

/// What an Offline may take beyond the timeout: etcd checks expiry every 0.5 s, plus
/// clpstat's polling and a loaded CI machine.
const MARGIN: Duration = Duration::from_secs(3);

fn config(bed: &Bed) -> String {
    bed.config(TIMEOUT, "")
}

#[test]
fn two_servers_see_each_other_and_a_killed_clppm_goes_offline_and_comes_back() {
    let Some(mut bed) = Bed::create("m", 2) else {
        return;
    };
    let config = config(&bed);
    for index in 0..2 {
        bed.clp(index).write_config(&config);
    }
    bed.start_clppm(0);
    let second = bed.start_clppm(1);
    // etcd forms its cluster in a few seconds; each clppm joins as soon as it answers.
    bed.wait_formed(Duration::from_secs(30));
    // The original's layout: every server with its heartbeat line, '*' on this one.
    let text = bed.run(0, "clpstat", &[]).success();
    let expected = [
        "   *node1 ...........: Online",
        "      lanhb1         : Normal           LAN Heartbeat",
        "    node2 ...........: Online",
    ];
    for line in expected {
        assert!(text.lines().any(|l| l == line), "{line:?} not in\n{text}");
    }
    let text = bed.run(1, "clpstat", &[]).success();
    assert!(
        text.lines().any(|l| l == "   *node2 ...........: Online"),
        "{text}"
    );

    // kill -9 of node2's clppm: node1 sees it Offline within the heartbeat timeout.
    bed.kill_clppm(second);
    let killed = Instant::now();
    bed.wait_for(0, "node2", "Offline", TIMEOUT + MARGIN);
    let offline_after = killed.elapsed();
    eprintln!("node2 Offline on node1 {offline_after:?} after kill -9 (timeout {TIMEOUT:?})");
    // (More than once only if node2's lease also lapsed earlier, on a starved machine.)
    assert!(
        bed.clp(0)
            .count_alerts(" node1 nm 2 Server node2 has been stopped.")
            >= 1,
        "nm 2:\n{}",
        bed.clp(0).alerts()
    );
    // node1 itself stays Online.
    bed.wait_for(0, "node1", "Online", Duration::from_secs(1));

    // Restarted, it is Online again on both, and node1 says so (nm 1).
    bed.start_clppm(1);
    bed.wait_for(0, "node2", "Online", Duration::from_secs(20));
    bed.wait_for(1, "node1", "Online", Duration::from_secs(20));
    crate::harness::wait_until("nm 1 on node1", Duration::from_secs(5), || {
        bed.clp(0)
            .count_alerts(" node1 nm 1 Server node2 has started.")
            >= 1
    });
}
