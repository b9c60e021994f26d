//! Alert sync's losses, in the HA bed ([`crate::ha_bed`]): an alert raised on a server cut
//! off from etcd cannot be copied there; `clpstat` (and `--json`) on that server counts
//! it, and once etcd answers again an alert (clp 3) says so, which the other server reads.

use std::time::Duration;

use crate::ha_bed::Bed;
use crate::harness::wait_until;

/// The heartbeat timeout of this test.
const TIMEOUT: Duration = Duration::from_secs(3);

/// How long etcd may take to form its cluster and each clppm to join it.
const FORM: Duration = Duration::from_secs(30);

/// `ha.alerts_not_copied` of server `index`'s `clpstat --json` (0 when absent).
fn not_copied(bed: &Bed, index: usize) -> u64 {
    let run = bed.run(index, "clpstat", &["--json"]);
    serde_json::from_str::<serde_json::Value>(&run.stdout())
        .ok()
        .and_then(|status| status["ha"]["alerts_not_copied"].as_u64())
        .unwrap_or(0)
}

#[test]
fn alerts_raised_while_cut_off_from_etcd_are_counted_in_clpstat_and_reported_to_the_others() {
    let Some(mut bed) = Bed::create("as", 2) else {
        return;
    };
    bed.write_config(&bed.config(TIMEOUT, ""));
    for index in 0..2 {
        bed.start_clppm(index);
    }
    bed.wait_formed(FORM);
    assert_eq!(not_copied(&bed, 1), 0);
    let text = bed.run(1, "clpstat", &[]).success();
    assert!(!text.contains("were not copied"), "{text}");

    let cut = bed.cut_link(1);
    wait_until("node2 to lose etcd", FORM, || bed.problem(1).is_some());
    bed.run(
        1,
        "clplogcmd",
        &["-m", "said while cut off", "--alert", "-l", "WARN"],
    )
    .success();
    wait_until("node2 to count it", FORM, || not_copied(&bed, 1) >= 1);
    let counted = not_copied(&bed, 1);
    let text = bed.run(1, "clpstat", &[]).success();
    let line = format!(
        "    Warning: {counted} alerts of this server were not copied to the other servers (etcd did not take them); this server's alert log has them"
    );
    assert!(text.lines().any(|l| l == line), "{line:?} not in\n{text}");
    // Nothing is reported while etcd does not answer (the report could not be copied).
    assert!(!bed.clp(1).alerts().contains(" node2 clp 3 "));

    cut.heal();
    wait_until("node2 to regain etcd", FORM, || bed.problem(1).is_none());
    let needle = " node2 clp 3 ";
    wait_until("node2's report of the lost copies", FORM, || {
        bed.clp(1).alerts().contains(needle)
    });
    let alerts = bed.clp(1).alerts();
    let report = alerts
        .lines()
        .find(|l| l.contains(needle))
        .expect("the report");
    assert!(
        report.contains("alerts of this server were not copied into etcd"),
        "{report}"
    );
    // The report itself reaches node1; the alert said while cut off stays node2's own.
    wait_until("node2's report read on node1", FORM, || {
        bed.run(0, "clp_mltool", &["messages", "-m", "clp"])
            .success()
            .contains(needle)
    });
    let node1 = bed
        .run(0, "clp_mltool", &["messages", "-m", "logcmd"])
        .success();
    assert!(!node1.contains("said while cut off"), "{node1}");
    assert!(not_copied(&bed, 1) >= counted);
}
