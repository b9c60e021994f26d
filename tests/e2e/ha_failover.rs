//! The HA cluster's ownership and failover of an exec group, for real: two servers and a
//! witness on the bed ([`crate::ha_bed`]). The group may run on node1 and node2: it runs on
//! node1 only (node2 shows it owned by node1); `kill -9` of node1's clppm lets its lease
//! run out, and node2 starts the group with `CLP_EVENT=FAILOVER`, `CLP_SERVER=OTHER` and a
//! larger `CLP_FENCE`, within the heartbeat timeout and a few seconds.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::ha_bed::Bed;
use crate::harness::{signal, wait_until};

/// The heartbeat of these tests, as in `ha_membership`.
const TIMEOUT: Duration = Duration::from_secs(3);

/// What a failover may take beyond the timeout: etcd's expiry check, the watch, the start
/// script, clpstat's polling, a loaded CI machine.
const MARGIN: Duration = Duration::from_secs(7);

/// Every start script of the test appends `host event server fence pid` here (a file
/// outside the namespaces); the drop kills every pid written (the resource that `kill -9`
/// of clppm leaves behind on node1 is another slice's job).
struct Journal {
    dir: tempfile::TempDir,
}

impl Journal {
    fn new() -> Journal {
        Journal {
            dir: tempfile::Builder::new()
                .prefix("clp-ha-journal-")
                .tempdir()
                .expect("a journal folder"),
        }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("journal")
    }

    /// Every line: host, CLP_EVENT (or `stop`), CLP_SERVER (or CLP_FACTOR), CLP_FENCE,
    /// pid, time (ns since the epoch).
    fn lines(&self) -> Vec<Vec<String>> {
        std::fs::read_to_string(self.path())
            .unwrap_or_default()
            .lines()
            .map(|line| line.split_whitespace().map(str::to_string).collect())
            .collect()
    }

    /// The lines of the starts.
    fn starts(&self) -> Vec<Vec<String>> {
        self.lines()
            .into_iter()
            .filter(|line| line.get(1).is_some_and(|event| event != "stop"))
            .collect()
    }

    /// The lines of the stops.
    fn stops(&self) -> Vec<Vec<String>> {
        self.lines()
            .into_iter()
            .filter(|line| line.get(1).is_some_and(|event| event == "stop"))
            .collect()
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        for start in self.starts() {
            if let Some(pid) = start.get(4).and_then(|pid| pid.parse::<u32>().ok()) {
                signal(pid, libc::SIGKILL);
            }
        }
    }
}

fn config(bed: &Bed) -> String {
    let mut text = bed.config(TIMEOUT, "");
    text.push_str(concat!(
        "[os_actions]\n",
        "shutdown = [\"/bin/sh\", \"-c\", \"echo shutdown >> recorded-os-actions\"]\n",
        "reboot = [\"/bin/sh\", \"-c\", \"echo reboot >> recorded-os-actions\"]\n\n",
        "[[group]]\nname = \"web\"\nservers = [\"node1\", \"node2\"]\n\n",
        "[[group.resource]]\nname = \"exec\"\nmode = \"async\"\n",
    ));
    text
}

/// The start script: one journal line, then the resident process; the stop script: one
/// journal line.
fn write_scripts(bed: &Bed, index: usize, journal: &Path) {
    write_scripts_with_stop(bed, index, journal, "");
}

/// As [`write_scripts`], the stop script then running `stop_tail`.
fn write_scripts_with_stop(bed: &Bed, index: usize, journal: &Path, stop_tail: &str) {
    bed.clp(index).script(
        "web",
        "exec",
        "start.sh",
        &format!(
            "echo \"$(hostname) ${{CLP_EVENT:--}} ${{CLP_SERVER:--}} ${{CLP_FENCE:--}} $$ $(date +%s%N)\" >> {}\nexec sleep 600",
            journal.display()
        ),
    );
    bed.clp(index).script(
        "web",
        "exec",
        "stop.sh",
        &format!(
            "echo \"$(hostname) stop ${{CLP_FACTOR:--}} ${{CLP_FENCE:--}} $$ $(date +%s%N)\" >> {}\n{stop_tail}",
            journal.display()
        ),
    );
}

/// The group's current server as server `index` shows it (`clpstat --json`).
fn current(bed: &Bed, index: usize) -> Option<String> {
    let run = bed.run(index, "clpstat", &["--json"]);
    let status: serde_json::Value = serde_json::from_str(&run.stdout()).ok()?;
    status["groups"]
        .as_array()?
        .iter()
        .find(|g| g["name"] == "web")?["current"]
        .as_str()
        .map(str::to_string)
}

#[test]
fn a_group_runs_on_one_server_and_fails_over_when_its_clppm_is_killed() {
    let Some(mut bed) = Bed::create("f", 2) else {
        return;
    };
    let journal = Journal::new();
    let config = config(&bed);
    for index in 0..2 {
        bed.clp(index).write_config(&config);
        write_scripts(&bed, index, &journal.path());
    }
    // node1 first: it is the group's first server, and the only one up.
    let first = bed.start_clppm(0);
    wait_until("web starts on node1", Duration::from_secs(40), || {
        !journal.starts().is_empty()
    });
    bed.start_clppm(1);
    for server in ["node1", "node2"] {
        bed.wait_for(1, server, "Online", Duration::from_secs(30));
    }
    // node2 shows the group on node1 and does not start it.
    wait_until("node2 shows web on node1", Duration::from_secs(10), || {
        current(&bed, 1).as_deref() == Some("node1")
    });
    assert_eq!(current(&bed, 0).as_deref(), Some("node1"));
    std::thread::sleep(Duration::from_secs(2));
    let starts = journal.starts();
    assert_eq!(starts.len(), 1, "{starts:?}");
    assert_eq!(starts[0][..3], ["node1", "START", "HOME"], "{starts:?}");
    let first_fence: i64 = starts[0][3].parse().expect("CLP_FENCE is a revision");

    // kill -9 of node1's clppm: its lease runs out, node2 takes the group.
    bed.kill_clppm(first);
    let killed = Instant::now();
    wait_until("web fails over to node2", TIMEOUT + MARGIN, || {
        journal.starts().len() >= 2
    });
    let failover_after = killed.elapsed();
    eprintln!(
        "web started on node2 {failover_after:?} after kill -9 of node1's clppm (timeout {TIMEOUT:?})"
    );
    let starts = journal.starts();
    assert_eq!(starts.len(), 2, "{starts:?}");
    assert_eq!(starts[1][..3], ["node2", "FAILOVER", "OTHER"], "{starts:?}");
    assert!(journal.stops().is_empty(), "{:?}", journal.lines());
    let second_fence: i64 = starts[1][3].parse().expect("CLP_FENCE is a revision");
    assert!(second_fence > first_fence, "{starts:?}");
    wait_until("node2 shows web on node2", Duration::from_secs(5), || {
        current(&bed, 1).as_deref() == Some("node2")
    });
    for needle in [
        " node2 rc 60 Failover group web has started.",
        " node2 rc 61 Failover group web has completed.",
    ] {
        wait_until(needle, Duration::from_secs(5), || {
            bed.clp(1).alerts().contains(needle)
        });
    }
}

/// Sets every link of host `index` but `lo` down (`up = false`) or up: the host is cut off
/// the bridge, its etcd member in the minority.
fn set_links(bed: &Bed, index: usize, up: bool) {
    let netns = &bed.hosts[index].netns;
    let listed = crate::netns::ip(&["-n", netns, "-o", "link", "show"]);
    for line in listed.lines() {
        let Some(name) = line.split(": ").nth(1) else {
            continue;
        };
        let name = name.split('@').next().unwrap_or(name);
        if name != "lo" {
            crate::netns::ip(&[
                "-n",
                netns,
                "link",
                "set",
                name,
                if up { "up" } else { "down" },
            ]);
        }
    }
}

/// The time field of a journal line.
fn time_of(line: &[String]) -> u128 {
    line.get(5)
        .and_then(|time| time.parse().ok())
        .expect("a time in ns in the journal")
}

#[test]
fn a_server_cut_off_stops_its_group_before_the_other_starts_it_and_rejoins_as_standby() {
    let Some(mut bed) = Bed::create("c", 2) else {
        return;
    };
    let journal = Journal::new();
    let config = config(&bed);
    for index in 0..2 {
        bed.clp(index).write_config(&config);
        write_scripts(&bed, index, &journal.path());
    }
    bed.start_clppm(0);
    wait_until("web starts on node1", Duration::from_secs(40), || {
        !journal.starts().is_empty()
    });
    bed.start_clppm(1);
    for server in ["node1", "node2"] {
        bed.wait_for(1, server, "Online", Duration::from_secs(30));
    }
    wait_until("node2 shows web on node1", Duration::from_secs(10), || {
        current(&bed, 1).as_deref() == Some("node1")
    });

    // node1 cut off: it cannot renew its lease, so it stops web; node2 (with the witness,
    // the majority) starts it once node1's lease has run out, never before node1's stop.
    set_links(&bed, 0, false);
    wait_until(
        "web fails over to node2",
        TIMEOUT + MARGIN + Duration::from_secs(5),
        || journal.starts().len() >= 2,
    );
    let stops = journal.stops();
    let starts = journal.starts();
    assert_eq!(stops.len(), 1, "{:?}", journal.lines());
    assert_eq!(
        stops[0][..3],
        ["node1", "stop", "GROUPFAILOVER"],
        "{stops:?}"
    );
    assert_eq!(starts[1][..2], ["node2", "FAILOVER"], "{starts:?}");
    let gap = time_of(&starts[1]).saturating_sub(time_of(&stops[0]));
    assert!(
        time_of(&stops[0]) < time_of(&starts[1]),
        "node2 started web before node1 stopped it: {:?}",
        journal.lines()
    );
    eprintln!(
        "node1 stopped web {} ms before node2 started it",
        gap / 1_000_000
    );
    // The stop finished in time: no fencing.
    assert!(
        !bed.clp(0).path("recorded-os-actions").exists(),
        "node1 fenced itself"
    );

    // Healed: node1 rejoins as a standby; the group stays on node2 (failback off).
    set_links(&bed, 0, true);
    bed.wait_for(0, "node2", "Online", Duration::from_secs(30));
    wait_until("node1 shows web on node2", Duration::from_secs(10), || {
        current(&bed, 0).as_deref() == Some("node2")
    });
    std::thread::sleep(TIMEOUT);
    assert_eq!(journal.starts().len(), 2, "{:?}", journal.lines());
}

#[test]
fn a_server_cut_off_whose_group_does_not_stop_in_time_fences_itself() {
    let Some(mut bed) = Bed::create("x", 2) else {
        return;
    };
    let journal = Journal::new();
    // The shutdown writes down which of node1's journalled processes (its service, its hung
    // stop script) still run when it starts: none may, the fence kills them first.
    let check = bed.clp(0).path("fence-check.sh");
    std::fs::write(
        &check,
        format!(
            "for p in $(awk '$1==\"node1\" {{print $5}}' {}); do\n\
             \x20 s=$(cut -d' ' -f3 /proc/$p/stat 2>/dev/null)\n\
             \x20 [ -n \"$s\" ] && [ \"$s\" != Z ] && echo \"alive $p\"\n\
             done >> recorded-os-actions\n\
             echo shutdown >> recorded-os-actions\n",
            journal.path().display()
        ),
    )
    .expect("write the fence's check");
    let config = config(&bed).replace(
        "shutdown = [\"/bin/sh\", \"-c\", \"echo shutdown >> recorded-os-actions\"]",
        &format!("shutdown = [\"/bin/sh\", \"{}\"]", check.display()),
    );
    assert!(config.contains("fence-check.sh"), "{config}");
    for index in 0..2 {
        bed.clp(index).write_config(&config);
    }
    // node1's stop hangs (its pid is journalled, so the drop kills it).
    write_scripts_with_stop(&bed, 0, &journal.path(), "exec sleep 60");
    write_scripts(&bed, 1, &journal.path());
    bed.start_clppm(0);
    wait_until("web starts on node1", Duration::from_secs(40), || {
        !journal.starts().is_empty()
    });
    bed.start_clppm(1);
    // Let a renewal or two pass, then cut node1 off.
    std::thread::sleep(Duration::from_secs(1));
    set_links(&bed, 0, false);
    let cut = Instant::now();
    let recorded = bed.clp(0).path("recorded-os-actions");
    // node1's lease ends TIMEOUT after the last keep-alive its etcd member acknowledged,
    // which may come after the cut while that member still believes it leads (up to an
    // election timeout, longer on a loaded machine); node2 can take the group only after
    // that. The property: node1 fences itself before node2 starts the group.
    wait_until("node1 fences itself", TIMEOUT + MARGIN, || {
        std::fs::read_to_string(&recorded).is_ok_and(|text| text.contains("shutdown"))
    });
    let fenced_after = cut.elapsed();
    let node2_started_first = journal
        .starts()
        .iter()
        .any(|start| start.first().is_some_and(|host| host == "node2"));
    eprintln!("node1 fenced itself {fenced_after:?} after its link was cut (lease {TIMEOUT:?})");
    assert!(
        !node2_started_first,
        "node2 started web before node1 fenced itself: {:?}",
        journal.lines()
    );
    assert_eq!(
        std::fs::read_to_string(&recorded).unwrap_or_default(),
        "shutdown\n"
    );
    assert_eq!(journal.stops().len(), 1, "{:?}", journal.lines());
    let needle = " node1 nm 43 Network partition was detected.  Execute action(shutdown) on the server node1 to protect data.";
    wait_until("nm 43", Duration::from_secs(5), || {
        bed.clp(0).alerts().contains(needle)
    });
    wait_until("web fails over to node2", TIMEOUT + MARGIN, || {
        journal
            .starts()
            .iter()
            .any(|start| start.first().is_some_and(|host| host == "node2"))
    });
}

#[test]
fn a_monitors_failover_rung_moves_the_group_to_the_next_server() {
    let Some(mut bed) = Bed::create("r", 2) else {
        return;
    };
    let journal = Journal::new();
    let config = format!(
        "{}\n[[monitor]]\nname = \"pidw\"\ntype = \"pidw\"\ntarget = \"exec\"\ninterval = 0.5\n\n[monitor.recovery]\ntarget = \"exec\"\nreactivation_threshold = 0\nfailover_threshold = 1\nfinal_action = \"none\"\n",
        config(&bed)
    );
    for index in 0..2 {
        bed.clp(index).write_config(&config);
        write_scripts(&bed, index, &journal.path());
    }
    bed.start_clppm(0);
    wait_until("web starts on node1", Duration::from_secs(40), || {
        !journal.starts().is_empty()
    });
    bed.start_clppm(1);
    for server in ["node1", "node2"] {
        bed.wait_for(0, server, "Online", Duration::from_secs(30));
    }
    wait_until("node2 shows web on node1", Duration::from_secs(10), || {
        current(&bed, 1).as_deref() == Some("node1")
    });
    // The resource's process dies on node1: pidw's error, no reactivation, the failover rung.
    let pid: u32 = journal.starts()[0][4]
        .parse()
        .expect("a pid in the journal");
    signal(pid, libc::SIGKILL);
    wait_until("web moves to node2", TIMEOUT + MARGIN, || {
        journal.starts().len() >= 2
    });
    let starts = journal.starts();
    assert_eq!(starts[1][..3], ["node2", "FAILOVER", "OTHER"], "{starts:?}");
    let stops = journal.stops();
    assert_eq!(stops.len(), 1, "{:?}", journal.lines());
    assert_eq!(
        stops[0][..3],
        ["node1", "stop", "GROUPFAILOVER"],
        "{stops:?}"
    );
    assert!(
        time_of(&stops[0]) < time_of(&starts[1]),
        "{:?}",
        journal.lines()
    );
    let needle = " node1 rm 14 Recovery target exec failed over because an error was detected in monitoring pidw.";
    wait_until("rm 14 on node1", Duration::from_secs(5), || {
        bed.clp(0).alerts().contains(needle)
    });
    wait_until("both show web on node2", Duration::from_secs(10), || {
        current(&bed, 0).as_deref() == Some("node2") && current(&bed, 1).as_deref() == Some("node2")
    });

    // The same fault on node2 moves it back: a server where the group failed before is
    // eligible again once the group found a new owner (its monitor's threshold bounds a
    // ping-pong, not a memory of old failures).
    wait_until("node2's monitor normal", Duration::from_secs(10), || {
        let run = bed.run(1, "clpstat", &["--json"]);
        let status: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap_or_default();
        status["monitors"][0]["status"] == "Normal"
    });
    let pid: u32 = journal.starts()[1][4]
        .parse()
        .expect("a pid in the journal");
    signal(pid, libc::SIGKILL);
    wait_until("web moves back to node1", TIMEOUT + MARGIN, || {
        journal.starts().len() >= 3
    });
    let starts = journal.starts();
    assert_eq!(starts[2][..3], ["node1", "FAILOVER", "HOME"], "{starts:?}");
    wait_until("both show web on node1", Duration::from_secs(10), || {
        current(&bed, 0).as_deref() == Some("node1") && current(&bed, 1).as_deref() == Some("node1")
    });

    // Stopped on purpose, the group gives its key up and stays stopped: nobody takes it.
    bed.run(0, "clpgrp", &["-t", "web"]).success();
    wait_until("nobody shows web", Duration::from_secs(10), || {
        current(&bed, 0).is_none() && current(&bed, 1).is_none()
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(journal.starts().len(), 3, "{:?}", journal.lines());
}
