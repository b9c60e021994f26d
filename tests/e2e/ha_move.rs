//! Moving a group by hand (`clpgrp -m [GROUP] [-a SERVER]`) and the heartbeat matrix
//! (`clpstat -n`) in the HA bed ([`crate::ha_bed`]), for real: the move is an intent in
//! etcd that the owner and the destination carry out; the journal's checker proves that the
//! group stops on its owner before it starts on the destination.

use std::time::{Duration, Instant};

use crate::ha_bed::Bed;
use crate::harness::{Cluster, wait_until};

/// The heartbeat timeout of these tests.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(3);

/// How long etcd may take to form its cluster and the servers to see each other.
pub(crate) const FORM: Duration = Duration::from_secs(30);

/// The service's port.
const PORT: u16 = 8080;

/// The group of these tests.
pub(crate) const GROUP: &str = "web";

/// A bed of `servers` servers and a witness, the group on `order`, its scripts on every
/// server: a sync resource `check` that notes each run in `events` (`host start CLP_EVENT
/// CLP_FENCE` / `host stop CLP_FACTOR`) and fails to start on the `failing` servers, then
/// the journal's service.
fn move_bed(tag: &str, servers: usize, order: &[&str], failing: &[&str]) -> Option<Bed> {
    move_bed_with(tag, servers, order, failing, &[])
}

/// [`move_bed`] with, when `slow` names servers, a third sync resource `slow` after the
/// service: its first start on each `slow` server leaves a mark ([`slow_mark`]) and then
/// takes [`SLOW`] (the window in which a test hurts that server mid-start); elsewhere it
/// does nothing.
pub(crate) fn move_bed_with(
    tag: &str,
    servers: usize,
    order: &[&str],
    failing: &[&str],
    slow: &[&str],
) -> Option<Bed> {
    let bed = Bed::create(tag, servers)?;
    let order: Vec<String> = order.iter().map(|s| format!("\"{s}\"")).collect();
    let mut group = format!(
        "[[group]]\nname = \"{GROUP}\"\nservers = [{}]\n\n\
         [[group.resource]]\nname = \"check\"\n\n\
         [group.resource.activation]\nfinal_action = \"none\"\n\n\
         [[group.resource]]\nname = \"service\"\nmode = \"async\"\n",
        order.join(", ")
    );
    if !slow.is_empty() {
        group.push_str(&format!(
            "\n[[group.resource]]\nname = \"slow\"\ntimeout = {}\n\n\
             [group.resource.activation]\nfinal_action = \"none\"\n",
            SLOW.as_secs() * 3
        ));
    }
    bed.write_config(&bed.config(TIMEOUT, &group));
    let events = events_path(&bed);
    for index in 0..servers {
        let name = bed.hosts[index].name.clone();
        let fails = if failing.contains(&name.as_str()) {
            "\nexit 1"
        } else {
            ""
        };
        bed.clp(index).script(
            GROUP,
            "check",
            "start.sh",
            &format!(
                "echo \"$(hostname) start ${{CLP_EVENT:--}} ${{CLP_FENCE:--}}\" >> {}{fails}",
                events.display()
            ),
        );
        bed.clp(index).script(
            GROUP,
            "check",
            "stop.sh",
            &format!(
                "echo \"$(hostname) stop ${{CLP_FACTOR:--}}\" >> {}",
                events.display()
            ),
        );
        let start = bed.journal.start_script(&name, GROUP, PORT);
        let stop = bed.journal.stop_script(&name, GROUP);
        bed.clp(index).script(GROUP, "service", "start.sh", &start);
        bed.clp(index).script(GROUP, "service", "stop.sh", &stop);
        if !slow.is_empty() {
            let body = if slow.contains(&name.as_str()) {
                let mark = slow_mark(&bed, &name);
                format!(
                    "if [ ! -e {mark} ]; then touch {mark}; sleep {}; fi",
                    SLOW.as_secs(),
                    mark = mark.display()
                )
            } else {
                String::new()
            };
            bed.clp(index).script(GROUP, "slow", "start.sh", &body);
            bed.clp(index).script(GROUP, "slow", "stop.sh", "");
        }
    }
    Some(bed)
}

/// How long the first start of the resource `slow` takes on a slow server.
pub(crate) const SLOW: Duration = Duration::from_secs(15);

/// The mark the first start of `slow` on `server` leaves as it begins.
pub(crate) fn slow_mark(bed: &Bed, server: &str) -> std::path::PathBuf {
    bed.journal.path().with_file_name(format!("slow-{server}"))
}

/// The scripts' notes, beside the journal.
pub(crate) fn events_path(bed: &Bed) -> std::path::PathBuf {
    bed.journal.path().with_file_name("events")
}

/// Every note of the scripts so far, one a line.
pub(crate) fn events(bed: &Bed) -> Vec<String> {
    std::fs::read_to_string(events_path(bed))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Starts clppm on `servers` (the first one first: the group starts there) and waits until
/// every one of them sees every other Online.
pub(crate) fn start(bed: &mut Bed, servers: &[usize]) {
    bed.start_clppm(servers[0]);
    let first = bed.hosts[servers[0]].name.clone();
    wait_on(bed, &first, FORM);
    for &index in &servers[1..] {
        bed.start_clppm(index);
    }
    for &index in servers {
        for &other in servers {
            let name = bed.hosts[other].name.clone();
            bed.wait_for(index, &name, "Online", FORM);
        }
    }
}

/// The servers where the group runs now (from the journal).
pub(crate) fn running_on(bed: &Bed) -> Vec<String> {
    bed.journal.servers_running(GROUP)
}

/// Waits until the group runs on `server` alone.
#[track_caller]
pub(crate) fn wait_on(bed: &Bed, server: &str, within: Duration) {
    wait_until(&format!("{GROUP} on {server} alone"), within, || {
        running_on(bed) == [server]
    });
}

/// `clpgrp -n web` on server `index`: where the group is active, as that server says.
pub(crate) fn active_on(bed: &Bed, index: usize) -> String {
    bed.run(index, "clpgrp", &["-n", GROUP])
        .success()
        .trim()
        .to_string()
}

#[test]
fn a_planned_move_stops_the_group_on_node1_before_node2_starts_it_and_back() {
    let Some(mut bed) = move_bed("mp", 2, &["node1", "node2"], &[]) else {
        return;
    };
    start(&mut bed, &[0, 1]);
    wait_until("both say web is on node1", FORM, || {
        active_on(&bed, 0) == "node1" && active_on(&bed, 1) == "node1"
    });

    // Asked on node2 (any server of the cluster): the command returns once web is Online
    // on node2.
    let asked = Instant::now();
    let moved = bed.run(1, "clpgrp", &["-m", GROUP, "-a", "node2", "--apito", "60"]);
    assert_eq!(moved.success(), "Command succeeded.\n");
    eprintln!("clpgrp -m web -a node2 took {:?}", asked.elapsed());
    // Online in clp's terms: the service's process started (it notes `up` once it listens).
    wait_on(&bed, "node2", Duration::from_secs(5));
    bed.journal.assert_no_overlap();
    assert_eq!(active_on(&bed, 0), "node2");
    assert_eq!(active_on(&bed, 1), "node2");
    let notes = events(&bed);
    assert_eq!(notes.len(), 3, "{notes:?}");
    assert!(notes[0].starts_with("node1 start START "), "{notes:?}");
    assert_eq!(notes[1], "node1 stop GROUPMOVE", "{notes:?}");
    assert!(notes[2].starts_with("node2 start START "), "{notes:?}");
    let fence = |note: &str| -> i64 {
        note.rsplit(' ')
            .next()
            .and_then(|f| f.parse().ok())
            .expect("CLP_FENCE is a revision")
    };
    assert!(fence(&notes[2]) > fence(&notes[0]), "{notes:?}");
    for (index, needle) in [
        (0, " node1 rc 50 Moving group web has started."),
        (1, " node2 rc 51 Moving group web has completed."),
    ] {
        wait_until(needle, Duration::from_secs(5), || {
            bed.clp(index).alerts().contains(needle)
        });
    }

    // Without -a, asked on node2 itself: the next server of the order after node2, round
    // to node1.
    bed.run(1, "clpgrp", &["-m", "--apito", "60"]).success();
    wait_on(&bed, "node1", Duration::from_secs(5));
    bed.journal.assert_no_overlap();
    let notes = events(&bed);
    assert_eq!(notes[3], "node2 stop GROUPMOVE", "{notes:?}");
    assert!(notes[4].starts_with("node1 start START "), "{notes:?}");
    assert_eq!(active_on(&bed, 1), "node1");
}

#[test]
fn a_move_to_an_offline_or_unknown_server_is_refused_and_without_a_destination_skips_it() {
    // node3 is configured but its clppm never starts: it stays Offline.
    let Some(mut bed) = move_bed("mr", 3, &["node1", "node3", "node2"], &[]) else {
        return;
    };
    start(&mut bed, &[0, 1]);
    wait_until("node2 says web is on node1", FORM, || {
        active_on(&bed, 1) == "node1"
    });
    bed.wait_for(0, "node3", "Offline", FORM);

    let refused = bed.run(0, "clpgrp", &["-m", GROUP, "-a", "node3"]);
    let message = refused.failure(255);
    assert!(message.contains("server node3 is not Online"), "{message}");
    let refused = bed.run(1, "clpgrp", &["-m", GROUP, "-a", "nosuch"]);
    let message = refused.failure(5);
    assert!(
        message.contains("server nosuch is not in the configuration"),
        "{message}"
    );
    let refused = bed.run(1, "clpgrp", &["-m", GROUP, "-a", "node1"]);
    let message = refused.failure(255);
    assert!(
        message.contains("the group already runs on server node1"),
        "{message}"
    );
    let needle = " node1 rc 63 Server node3 is not in a condition to move group web.";
    assert!(
        bed.clp(0).alerts().contains(needle),
        "{}",
        bed.clp(0).alerts()
    );
    // Nothing stopped.
    assert_eq!(events(&bed).len(), 1, "{:?}", events(&bed));
    assert_eq!(running_on(&bed), ["node1"]);

    // Without -a: the next server of the order that is Online, node3 skipped.
    let moved = bed.run(0, "clpgrp", &["-m", GROUP, "--apito", "60"]);
    assert_eq!(moved.success(), "Command succeeded.\n");
    wait_on(&bed, "node2", Duration::from_secs(5));
    bed.journal.assert_no_overlap();
}

#[test]
fn a_move_whose_destination_fails_to_start_falls_back_to_the_first_server() {
    let Some(mut bed) = move_bed("mf", 2, &["node1", "node2"], &["node2"]) else {
        return;
    };
    start(&mut bed, &[0, 1]);
    wait_until("node2 says web is on node1", FORM, || {
        active_on(&bed, 1) == "node1"
    });

    let failed = bed.run(0, "clpgrp", &["-m", GROUP, "-a", "node2", "--apito", "60"]);
    let message = failed.failure(255);
    assert!(
        message.contains("starting the group failed on server node2"),
        "{message}"
    );
    // node2 gave it up: node1 takes it again as after a failure on node2.
    wait_on(&bed, "node1", Duration::from_secs(20));
    bed.journal.assert_no_overlap();
    let notes = events(&bed);
    assert!(notes[0].starts_with("node1 start START "), "{notes:?}");
    assert_eq!(notes[1], "node1 stop GROUPMOVE", "{notes:?}");
    assert!(notes[2].starts_with("node2 start START "), "{notes:?}");
    assert!(
        notes[3..]
            .iter()
            .any(|note| note.starts_with("node1 start FAILOVER ")),
        "{notes:?}"
    );
    let needle = " node2 rc 52 Moving group web has failed.";
    wait_until(needle, Duration::from_secs(5), || {
        bed.clp(1).alerts().contains(needle)
    });
    wait_until("both say web is on node1", Duration::from_secs(10), || {
        active_on(&bed, 0) == "node1" && active_on(&bed, 1) == "node1"
    });
}

#[test]
fn the_heartbeat_matrix_on_both_servers_and_after_one_is_killed() {
    let Some(mut bed) = move_bed("mn", 2, &["node1", "node2"], &[]) else {
        return;
    };
    start(&mut bed, &[0, 1]);
    for index in 0..2 {
        let shown = bed.run(index, "clpstat", &["-n"]).success();
        insta::assert_snapshot!(format!("heartbeats_both_up_on_node{}", index + 1), shown);
    }
    let json = bed.run(1, "clpstat", &["-n", "--json"]).success();
    let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(json["local"], 1);
    assert_eq!(json["servers"], serde_json::json!(["node1", "node2"]));
    assert_eq!(json["blocks"][0]["rows"], serde_json::json!([["o"], ["o"]]));
    // node1's block, shown on node2, is what node1 published in etcd that it hears.
    wait_until("node1's published view on node2", FORM, || {
        let status = bed.run(1, "clpstat", &["--json"]).stdout();
        serde_json::from_str::<serde_json::Value>(&status)
            .is_ok_and(|s| s["ha"]["heard"]["node1"] == serde_json::json!(["node1", "node2"]))
    });

    // node2's clppm killed: its lease runs out, node1 sees its heartbeat lost.
    let pid = bed.clppm_pid(1).expect("node2's clppm");
    bed.kill_clppm(pid);
    bed.wait_for(0, "node2", "Offline", TIMEOUT + FORM);
    let shown = bed.run(0, "clpstat", &["-n"]).success();
    insta::assert_snapshot!("heartbeats_node2_killed_on_node1", shown);
}

#[test]
fn the_heartbeat_matrix_shows_what_a_hung_server_published_not_what_this_one_hears() {
    // A heartbeat timeout far longer than the test: node1's lease outlives its hang.
    let timeout = Duration::from_secs(20);
    let Some(mut bed) = Bed::create("mp", 2) else {
        return;
    };
    bed.write_config(&bed.config(timeout, ""));
    bed.start_clppm(0);
    wait_until("node1 publishes that it hears itself", FORM, || {
        heard(&bed, 0, "node1") == serde_json::json!(["node1"])
    });
    // node1 hangs before node2 comes: what it published stays as it was, its lease alive.
    let pid = bed.clppm_pid(0).expect("node1's clppm");
    let hung = bed.hang_clppm(pid);
    bed.start_clppm(1);
    bed.wait_for(1, "node1", "Online", FORM);
    bed.wait_for(1, "node2", "Online", FORM);
    // On node2: node1's block is node1's word (it hears only itself), node2's its own.
    let shown = bed.run(1, "clpstat", &["-n"]).success();
    insta::assert_snapshot!("heartbeats_node1_hung_before_node2_came", shown);
    let json = bed.run(1, "clpstat", &["-n", "--json"]).success();
    let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(
        json["blocks"][0]["rows"],
        serde_json::json!([["o"], ["x"]]),
        "{json}"
    );
    assert_eq!(
        json["blocks"][1]["rows"],
        serde_json::json!([["o"], ["o"]]),
        "{json}"
    );
    // Continued, node1 hears node2 and says so.
    drop(hung);
    wait_until("node1's new word on node2", FORM, || {
        heard(&bed, 1, "node1") == serde_json::json!(["node1", "node2"])
    });
}

/// What `server` published that it hears, as server `index` shows it.
fn heard(bed: &Bed, index: usize, server: &str) -> serde_json::Value {
    let status = bed.run(index, "clpstat", &["--json"]).stdout();
    serde_json::from_str::<serde_json::Value>(&status)
        .map(|s| s["ha"]["heard"][server].clone())
        .unwrap_or_default()
}

#[test]
fn on_one_server_a_move_is_refused_as_a_bad_option() {
    let cluster = Cluster::new();
    let refused = cluster.run("clpgrp", &["-m", "failover1"]);
    let message = refused.failure(2);
    assert!(
        message.contains("this configuration has one server"),
        "{message}"
    );
    // -a needs -m.
    cluster.run("clpgrp", &["-s", "-a", "node2"]).failure(2);
}
