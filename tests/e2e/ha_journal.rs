//! The bed's journal for real: the service run on hosts of the bed writes its runs, the
//! watcher closes the run of a SIGKILLed service, a client host reaches it over TCP, and
//! the checker finds two servers holding one group at once (the journal would otherwise
//! prove nothing). No clppm: these test the bed itself.

use std::time::Duration;

use crate::ha_bed::Bed;
use crate::harness::{signal, wait_until};

/// The service's port.
const PORT: u16 = 8080;

/// Waits until `bed`'s journal shows `group` running on exactly `servers`; their pids.
fn wait_running(bed: &Bed, group: &str, servers: &[&str]) -> Vec<u32> {
    let mut pids = Vec::new();
    wait_until(
        &format!("{group} running on {servers:?}"),
        Duration::from_secs(10),
        || {
            let running = bed.journal.running(group);
            pids = running.iter().map(|(_, pid)| *pid).collect();
            let mut on: Vec<&str> = running.iter().map(|(s, _)| s.as_str()).collect();
            on.sort_unstable();
            on == servers
        },
    );
    pids
}

#[test]
fn the_journal_records_runs_closes_a_killed_one_and_finds_a_double_run() {
    let Some(mut bed) = Bed::create("jr", 2) else {
        return;
    };
    let client = bed.client();
    let serve = bed.journal.serve("node1", "web", PORT);
    bed.spawn_on(0, &serve);
    let pids = wait_running(&bed, "web", &["node1"]);
    let answer = client.ask(&bed.hosts[0].address, PORT, Duration::from_secs(5));
    assert_eq!(answer.as_deref(), Ok("node1 web"));

    // SIGTERM: the service writes its own `down`.
    signal(pids[0], libc::SIGTERM);
    wait_running(&bed, "web", &[]);
    let events: Vec<String> = bed.journal.entries().into_iter().map(|e| e.event).collect();
    assert_eq!(events, ["up", "down"]);

    // SIGKILL: it writes nothing, the watcher closes its run with `gone`.
    let serve = bed.journal.serve("node2", "web", PORT);
    bed.spawn_on(1, &serve);
    let pids = wait_running(&bed, "web", &["node2"]);
    signal(pids[0], libc::SIGKILL);
    wait_running(&bed, "web", &[]);
    let events: Vec<String> = bed.journal.entries().into_iter().map(|e| e.event).collect();
    assert_eq!(events, ["up", "down", "up", "gone"]);
    bed.journal.assert_no_overlap();

    // Both at once: the checker reports it, with both runs.
    for index in 0..2 {
        let serve = bed.journal.serve(&bed.hosts[index].name, "web", PORT);
        bed.spawn_on(index, &serve);
    }
    wait_running(&bed, "web", &["node1", "node2"]);
    let found = bed.journal.overlaps();
    assert_eq!(found.len(), 1, "{found:?}");
    let text = found[0].to_string();
    assert!(
        text.contains("ran on node") && text.contains("(still running)"),
        "{text}"
    );
}

#[test]
fn an_exec_resource_writes_its_scripts_and_its_service_in_the_journal() {
    let Some(mut bed) = Bed::create("je", 2) else {
        return;
    };
    let group =
        "[[group]]\nname = \"web\"\n\n[[group.resource]]\nname = \"service\"\nmode = \"async\"\n";
    bed.write_config(&bed.config(Duration::from_secs(3), group));
    for index in 0..2 {
        let name = bed.hosts[index].name.clone();
        let start = bed.journal.start_script(&name, "web", PORT);
        let stop = bed.journal.stop_script(&name, "web");
        bed.clp(index).script("web", "service", "start.sh", &start);
        bed.clp(index).script("web", "service", "stop.sh", &stop);
    }
    // Only node1 runs clppm: the group starts there.
    bed.start_clppm(0);
    wait_until("node1 up", Duration::from_secs(30), || {
        !bed.journal.running("web").is_empty()
    });
    let client = bed.client();
    let answer = client.ask(&bed.hosts[0].address, PORT, Duration::from_secs(5));
    assert_eq!(answer.as_deref(), Ok("node1 web"));
    bed.run(0, "clpgrp", &["-t", "web"]).success();
    wait_running(&bed, "web", &[]);
    let events: Vec<String> = bed
        .journal
        .entries()
        .into_iter()
        .map(|e| format!("{} {}", e.server, e.event))
        .collect();
    assert_eq!(
        events,
        [
            "node1 start-script",
            "node1 up",
            "node1 stop-script",
            "node1 down"
        ]
    );
    bed.journal.assert_no_overlap();
}
