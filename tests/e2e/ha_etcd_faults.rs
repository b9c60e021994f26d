//! What each server shows when the network or etcd fails, before groups have owners (the
//! HA cluster's first slice): a server cut off from the others says that it has lost etcd
//! and guesses nobody's state, while the others see it Offline; losing one etcd member of
//! three changes nothing; losing the quorum shows the problem on every server. Each fault
//! heals, and every server is Online again.

use std::time::{Duration, Instant};

use crate::ha_bed::Bed;
use crate::harness::{text_once_it_holds, wait_until};
use clp_cluster::leader_placement::LOOK_EVERY;

/// The heartbeat timeout of these tests (clp's default).
const TIMEOUT: Duration = Duration::from_secs(3);

/// What a change may take beyond the timeout: etcd checks expiry every 0.5 s, plus
/// clpstat's polling and a loaded machine.
const MARGIN: Duration = Duration::from_secs(4);

/// How long etcd may take to form its cluster, or to elect a leader again.
const FORM: Duration = Duration::from_secs(30);

/// A bed of two servers and a witness, both clppm running and seeing each other Online.
fn running_bed(tag: &str) -> Option<Bed> {
    running_bed_with(tag, TIMEOUT, true)
}

/// [`running_bed`] with a heartbeat timeout of `timeout`, and `[etcd] witness_leads`.
fn running_bed_with(tag: &str, timeout: Duration, witness_leads: bool) -> Option<Bed> {
    let mut bed = Bed::create(tag, 2)?;
    bed.witness_leads = witness_leads;
    bed.write_config(&bed.config(timeout, ""));
    for index in 0..2 {
        bed.start_clppm(index);
    }
    all_online(&bed, FORM);
    Some(bed)
}

/// Waits until both servers see both Online, with no problem shown.
fn all_online(bed: &Bed, within: Duration) {
    for index in 0..2 {
        for server in ["node1", "node2"] {
            bed.wait_for(index, server, "Online", within);
        }
        wait_until("no problem shown", within, || bed.problem(index).is_none());
    }
}

/// The state server `index` shows for `server`.
fn shown(bed: &Bed, index: usize, server: &str) -> String {
    bed.view(index)
        .into_iter()
        .find(|(name, _)| name == server)
        .map(|(_, state)| state)
        .unwrap_or_default()
}

/// Waits until server `index` shows a problem; the problem.
#[track_caller]
fn wait_problem(bed: &Bed, index: usize, within: Duration) -> String {
    let mut problem = None;
    wait_until(
        &format!("{} to show a problem", bed.hosts[index].name),
        within,
        || {
            problem = bed.problem(index);
            problem.is_some()
        },
    );
    problem.unwrap_or_default()
}

#[test]
fn a_cut_link_shows_etcd_lost_there_and_the_server_offline_elsewhere_until_healed() {
    let Some(bed) = running_bed("lc") else {
        return;
    };
    let started = Instant::now();
    let cut = bed.cut_link(0);
    // node1 cannot renew its heartbeat: it says so and shows node2 Unknown (no guess).
    let problem = wait_problem(&bed, 0, TIMEOUT + MARGIN);
    assert!(problem.contains("etcd"), "{problem}");
    assert_eq!(shown(&bed, 0, "node2"), "Unknown");
    let text = bed.run(0, "clpstat", &[]).success();
    assert!(text.contains("Error: "), "{text}");
    // node2, with the witness a majority, sees node1 Offline and has no problem.
    bed.wait_for(1, "node1", "Offline", TIMEOUT + MARGIN);
    eprintln!(
        "cut: both views changed {:?} after the cut",
        started.elapsed()
    );
    assert_eq!(bed.problem(1), None);
    assert_eq!(shown(&bed, 1, "node2"), "Online");

    let healed = Instant::now();
    cut.heal();
    all_online(&bed, FORM);
    eprintln!("healed: both Online again {:?} after", healed.elapsed());
    wait_until("nm 1 for node1 on node2", Duration::from_secs(5), || {
        bed.clp(1)
            .count_alerts(" node2 nm 1 Server node1 has started.")
            >= 1
    });
}

/// Stops the etcd member of `member` (a host index) and checks for twice the heartbeat
/// timeout that both servers keep seeing both Online with no problem and no `nm 2`; then
/// restarts it.
fn losing_one_member_changes_nothing(bed: &mut Bed, member: usize) {
    bed.stop_etcd(member);
    let stopped = Instant::now();
    let until = Instant::now() + TIMEOUT * 2;
    while Instant::now() < until {
        for index in 0..2 {
            for server in ["node1", "node2"] {
                assert_eq!(
                    shown(bed, index, server),
                    "Online",
                    "{server} on {} after the loss of {}'s etcd member ({:?}): {:?}",
                    bed.hosts[index].name,
                    bed.hosts[member].name,
                    stopped.elapsed(),
                    bed.problem(index)
                );
            }
            assert_eq!(
                bed.problem(index),
                None,
                "on {} after the loss of {}'s etcd member ({:?})",
                bed.hosts[index].name,
                bed.hosts[member].name,
                stopped.elapsed()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    for index in 0..2 {
        assert_eq!(
            bed.clp(index).count_alerts(" nm 2 "),
            0,
            "{}",
            bed.clp(index).alerts()
        );
    }
    bed.restart_etcd(member);
    all_online(bed, Duration::from_secs(5));
}

/// Waits until the etcd members agree on a leader; its host.
fn leader(bed: &Bed) -> usize {
    let mut found = None;
    wait_until("an etcd leader", FORM, || {
        found = bed.etcd_leader();
        found.is_some()
    });
    found.unwrap_or_default()
}

#[test]
fn losing_an_etcd_member_that_does_not_lead_changes_nothing() {
    // The witness's member, a follower: the servers must leave the leader where it is put.
    let Some(mut bed) = running_bed_with("wl", TIMEOUT, false) else {
        return;
    };
    if leader(&bed) == 2 {
        bed.move_etcd_leader(0);
    }
    losing_one_member_changes_nothing(&mut bed, 2);
}

#[test]
fn losing_the_etcd_leader_with_the_quorum_kept_changes_nothing() {
    let Some(mut bed) = running_bed_with("ll", crate::ha_scenarios::LEADER_LOSS_TIMEOUT, true)
    else {
        return;
    };
    // The witness's member, made the leader.
    if leader(&bed) != 2 {
        bed.move_etcd_leader(2);
    }
    losing_one_member_changes_nothing(&mut bed, 2);
}

#[test]
fn the_server_whose_etcd_member_leads_hands_the_leadership_to_the_witness() {
    let Some(bed) = running_bed("wt") else {
        return;
    };
    // However etcd elected, the witness leads within a look or two.
    wait_until("the witness's etcd member to lead", FORM, || {
        bed.etcd_leader() == Some(2)
    });
    // Put on node1's member by hand, the leadership goes back to the witness: node1 moves it.
    bed.move_etcd_leader(0);
    let moved = Instant::now();
    wait_until(
        "the witness's etcd member to lead again",
        LOOK_EVERY * 2 + MARGIN,
        || bed.etcd_leader() == Some(2),
    );
    eprintln!("back on the witness {:?} after", moved.elapsed());
    let log = text_once_it_holds(
        &bed.clp(0).path("log/clppm.log"),
        "moved to the witness",
        MARGIN,
    );
    assert!(log.contains("moved to the witness"), "node1's log:\n{log}");
    // Nobody noticed: both Online, no problem, no server reported down.
    all_online(&bed, Duration::ZERO);
    for index in 0..2 {
        assert_eq!(
            bed.clp(index).count_alerts(" nm 2 "),
            0,
            "a server was reported down while the leadership moved"
        );
    }
    // Stays there: nothing moves it back and forth.
    std::thread::sleep(LOOK_EVERY * 2);
    assert_eq!(bed.etcd_leader(), Some(2));
}

#[test]
fn losing_the_quorum_shows_the_problem_everywhere_until_it_returns() {
    let Some(mut bed) = running_bed("ql") else {
        return;
    };
    let started = Instant::now();
    bed.stop_etcd(1);
    bed.stop_etcd(2);
    for index in 0..2 {
        let problem = wait_problem(&bed, index, TIMEOUT + MARGIN);
        assert!(problem.contains("etcd"), "{problem}");
        let other = ["node2", "node1"][index];
        assert_eq!(shown(&bed, index, other), "Unknown");
    }
    eprintln!("quorum lost: both show it {:?} after", started.elapsed());
    let returned = Instant::now();
    bed.restart_etcd(1);
    bed.restart_etcd(2);
    all_online(&bed, FORM);
    eprintln!("quorum back: both Online {:?} after", returned.elapsed());
}

#[test]
fn a_hung_clppm_goes_offline_for_the_others_and_comes_back_when_continued() {
    let Some(bed) = running_bed("hg") else {
        return;
    };
    let pid = bed.clppm_pid(0).expect("node1's clppm");
    let started = Instant::now();
    let hung = bed.hang_clppm(pid);
    bed.wait_for(1, "node1", "Offline", TIMEOUT + MARGIN);
    eprintln!(
        "hung: node1 Offline on node2 {:?} after SIGSTOP",
        started.elapsed()
    );
    assert_eq!(bed.problem(1), None);
    let continued = Instant::now();
    drop(hung);
    all_online(&bed, FORM);
    eprintln!(
        "continued: both Online {:?} after SIGCONT",
        continued.elapsed()
    );
}

#[test]
fn a_silent_partition_shows_etcd_lost_there_and_the_server_offline_elsewhere_until_healed() {
    if !crate::ha_bed::faults::has_nft() {
        eprintln!("skipped: no nft (run .ci/setup.d/nftables.sh)");
        return;
    }
    let Some(bed) = running_bed("sp") else {
        return;
    };
    let started = Instant::now();
    let partition = bed.partition(0);
    let problem = wait_problem(&bed, 0, TIMEOUT + MARGIN);
    assert!(problem.contains("etcd"), "{problem}");
    assert_eq!(shown(&bed, 0, "node2"), "Unknown");
    bed.wait_for(1, "node1", "Offline", TIMEOUT + MARGIN);
    eprintln!(
        "partition: both views changed {:?} after",
        started.elapsed()
    );
    assert_eq!(bed.problem(1), None);
    let healed = Instant::now();
    partition.heal();
    all_online(&bed, FORM);
    eprintln!("healed: both Online again {:?} after", healed.elapsed());
}

#[test]
fn losing_a_servers_own_etcd_member_changes_nothing_and_it_returns_to_it() {
    // node1's own member, a follower (the witness leads): node1's connection breaks, and it
    // goes on through another member on the same lease, seen by nobody.
    let Some(mut bed) = running_bed("ow") else {
        return;
    };
    wait_until("the witness's etcd member to lead", FORM, || {
        bed.etcd_leader() == Some(2)
    });
    losing_one_member_changes_nothing(&mut bed, 0);
    // Its member back, node1 talks to it again (a look every 5 s).
    let log = text_once_it_holds(
        &bed.clp(0).path("log/clppm.log"),
        "own etcd member",
        Duration::from_secs(5) + MARGIN * 2,
    );
    assert!(log.contains("own etcd member"), "node1's log:\n{log}");
    assert!(
        !log.contains("every server's state is unknown"),
        "node1 took the loss of its member for the loss of etcd:\n{log}"
    );
}
