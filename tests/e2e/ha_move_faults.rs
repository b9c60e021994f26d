//! A move by hand (`clpgrp -m`) that goes wrong half way, in the HA bed ([`crate::ha_bed`]):
//! the destination's clppm killed or hung while it starts the group, and the move's
//! `--apito` running out. Each ends with the group on exactly one server, the journal's
//! checker finding no overlap, and `clpgrp` saying what happened.

use std::process::{Child, Stdio};

use crate::ha_bed::Bed;
use crate::ha_move::{
    FORM, GROUP, SLOW, TIMEOUT, active_on, move_bed_with, running_on, slow_mark, start, wait_on,
};
use crate::harness::{Run, bin, wait_until};

/// `clpgrp -m web -a node2 --apito SECS` started on node1 (it waits for the outcome).
fn ask_move(bed: &Bed, apito: u64) -> Child {
    bed.on_host(0, &bin("clpgrp"))
        .args(["-m", GROUP, "-a", "node2", "--apito", &apito.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start clpgrp -m")
}

/// The outcome of [`ask_move`].
fn outcome(asked: Child) -> Run {
    Run {
        output: asked.wait_with_output().expect("clpgrp -m's outcome"),
    }
}

/// A bed where web runs on node1 and node2's first start of it is slow; the move to
/// node2 asked on node1 and under way: node2 is in the middle of starting the group (its
/// service already runs there).
fn moving_bed(tag: &str, apito: u64) -> Option<(Bed, Child)> {
    let mut bed = move_bed_with(tag, 2, &["node1", "node2"], &[], &["node2"])?;
    start(&mut bed, &[0, 1]);
    wait_until("both say web is on node1", FORM, || {
        active_on(&bed, 0) == "node1" && active_on(&bed, 1) == "node1"
    });
    let asked = ask_move(&bed, apito);
    let mark = slow_mark(&bed, "node2");
    wait_until("node2 in the middle of starting web", FORM, || {
        mark.exists()
    });
    // The service (before the slow resource) already runs on node2, and only there.
    wait_until("web's service on node2 alone", FORM, || {
        running_on(&bed) == ["node2"]
    });
    Some((bed, asked))
}

/// Checks the end of a move whose destination died: the command said so, the group runs
/// on node1 alone, both servers' clppm say so, and nothing overlapped.
fn ends_on_node1(bed: &Bed, asked: Child) {
    let message = outcome(asked).failure(255);
    assert!(
        message.contains("moving group \"web\" to server node2 failed: server node2 went down"),
        "{message}"
    );
    wait_on(bed, "node1", TIMEOUT + FORM);
    wait_until("node1 says web is on node1", FORM, || {
        active_on(bed, 0) == "node1"
    });
    bed.journal.assert_no_overlap();
}

#[test]
fn the_destination_killed_while_it_starts_the_moved_group_leaves_it_on_node1_alone() {
    let Some((mut bed, asked)) = moving_bed("mk", 60) else {
        return;
    };
    let pid = bed.clppm_pid(1).expect("node2's clppm");
    bed.kill_clppm(pid);
    ends_on_node1(&bed, asked);
    // node2's keeper ended its service when clppm died: nothing of web is left there.
    assert_eq!(running_on(&bed), ["node1"]);
    bed.wait_for(0, "node2", "Offline", FORM);
}

#[test]
fn the_destination_hung_while_it_starts_the_moved_group_leaves_it_on_node1_alone() {
    let Some((bed, asked)) = moving_bed("mh", 60) else {
        return;
    };
    let pid = bed.clppm_pid(1).expect("node2's clppm");
    let hung = bed.hang_clppm(pid);
    ends_on_node1(&bed, asked);
    // Continued after its lease ran out: node2 finds the group is not its own any more,
    // starts nothing, and comes back as a standby.
    drop(hung);
    bed.wait_for(0, "node2", "Online", FORM);
    wait_until("node2 says web is on node1", FORM, || {
        active_on(&bed, 1) == "node1"
    });
    // Longer than what was left of the slow start when node2 hung.
    std::thread::sleep(SLOW / 2);
    assert_eq!(running_on(&bed), ["node1"]);
    assert_eq!(active_on(&bed, 0), "node1");
    assert_eq!(active_on(&bed, 1), "node1");
    bed.journal.assert_no_overlap();
}

#[test]
fn a_move_whose_apito_runs_out_says_so_and_the_group_ends_on_the_destination() {
    let Some((bed, asked)) = moving_bed("ma", 2) else {
        return;
    };
    let message = outcome(asked).failure(255);
    assert!(
        message.contains("group \"web\" was not Online on server node2 within 2 seconds"),
        "{message}"
    );
    // The move itself goes on: once the slow start is over, web is Online on node2.
    let needle = " node2 rc 51 Moving group web has completed.";
    wait_until(needle, SLOW + FORM, || bed.clp(1).alerts().contains(needle));
    assert_eq!(active_on(&bed, 0), "node2");
    assert_eq!(active_on(&bed, 1), "node2");
    assert_eq!(running_on(&bed), ["node2"]);
    bed.journal.assert_no_overlap();
}
