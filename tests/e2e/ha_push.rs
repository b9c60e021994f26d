//! `clpcfctrl --push` in an HA cluster, for real: the configuration goes to every server
//! through etcd, all or nothing. A push from node1 reaches node2; a push node2 refuses
//! changes neither server; a server that was down takes the new configuration when it
//! starts; an alert raised on node2 is read on node1.

use std::path::PathBuf;
use std::time::Duration;

use crate::ha_bed::Bed;
use crate::harness::wait_until;

/// The heartbeat timeout of these tests (clp's default).
const TIMEOUT: Duration = Duration::from_secs(3);

/// How long etcd may take to form its cluster and each clppm to join it.
const FORM: Duration = Duration::from_secs(30);

/// How long a server may take to apply a pushed configuration (hand-off, start again).
const APPLY: Duration = Duration::from_secs(30);

/// A bed of two servers and a witness, both clppm running and seeing each other Online.
fn running_bed(tag: &str) -> Option<Bed> {
    let mut bed = Bed::create(tag, 2)?;
    bed.write_config(&bed.config(TIMEOUT, ""));
    for index in 0..2 {
        bed.start_clppm(index);
    }
    bed.wait_formed(FORM);
    Some(bed)
}

/// The configuration of the bed plus one `userw` monitor named `monitor`.
fn with_monitor(bed: &Bed, monitor: &str) -> String {
    bed.config(
        TIMEOUT,
        &format!("[[monitor]]\nname = \"{monitor}\"\ntype = \"userw\"\n"),
    )
}

/// A folder on server `index` holding `config` as clp.conf (and an empty scripts/).
fn folder(bed: &Bed, index: usize, name: &str, config: &str) -> PathBuf {
    let dir = bed.clp(index).path(name);
    std::fs::create_dir_all(dir.join("scripts")).expect("the folder to push");
    std::fs::write(dir.join("clp.conf"), config).expect("clp.conf to push");
    dir
}

/// The monitors server `index` runs (`clpstat --json`).
fn monitors(bed: &Bed, index: usize) -> Vec<String> {
    let run = bed.run(index, "clpstat", &["--json"]);
    let Ok(status) = serde_json::from_str::<serde_json::Value>(&run.stdout()) else {
        return Vec::new();
    };
    status["monitors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["name"].as_str().map(str::to_string))
        .collect()
}

#[track_caller]
fn wait_monitor(bed: &Bed, index: usize, monitor: &str, within: Duration) {
    wait_until(
        &format!("{} to run monitor {monitor}", bed.hosts[index].name),
        within,
        || monitors(bed, index).iter().any(|m| m == monitor),
    );
}

#[test]
fn a_push_from_node1_reaches_node2() {
    let Some(bed) = running_bed("pa") else {
        return;
    };
    let dir = folder(&bed, 0, "push", &with_monitor(&bed, "watch1"));
    let started = std::time::Instant::now();
    let run = bed.run(
        0,
        "clpcfctrl",
        &["--push", "-x", &dir.display().to_string()],
    );
    let text = run.success();
    for line in ["Upload node1 : Success", "Upload node2 : Success"] {
        assert!(text.lines().any(|l| l == line), "{line:?} not in\n{text}");
    }
    assert!(
        text.contains("The upload is completed successfully.(cfmgr:0)"),
        "{text}"
    );
    let pushed = started.elapsed();
    wait_monitor(&bed, 1, "watch1", APPLY);
    eprintln!(
        "clpcfctrl --push took {pushed:?}; node2 ran the new configuration {:?} after the push started",
        started.elapsed()
    );
    wait_monitor(&bed, 0, "watch1", APPLY);
    // Each server logged the upload as the original does.
    for index in 0..2 {
        wait_until("cfmgr 1", Duration::from_secs(5), || {
            bed.clp(index)
                .alerts()
                .contains("cfmgr 1 The cluster configuration data has been uploaded by clpcfctrl.")
        });
    }
    // The same folder again changes nothing.
    let again = bed
        .run(
            0,
            "clpcfctrl",
            &["--push", "-x", &dir.display().to_string()],
        )
        .success();
    assert!(again.contains("already runs this configuration"), "{again}");
}

#[test]
fn a_push_node2_refuses_changes_neither_server() {
    let Some(bed) = running_bed("pr") else {
        return;
    };
    let before: Vec<Option<u32>> = (0..2).map(|index| bed.clppm_pid(index)).collect();
    // A typo in node2's name: node1 can run it, node2 is not one of its servers.
    let config = with_monitor(&bed, "watch2").replace("name = \"node2\"", "name = \"node-2\"");
    let dir = folder(&bed, 0, "push", &config);
    let run = bed.run(
        0,
        "clpcfctrl",
        &["--push", "-x", &dir.display().to_string()],
    );
    let stderr = run.stderr();
    let stdout = run.stdout();
    assert_ne!(run.code(), 0, "{stdout}\n{stderr}");
    assert!(
        stdout.lines().any(|l| l == "Upload node1 : Success"),
        "{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l.starts_with(
            "Upload node2 : Refused: this server (node2) is not one of the configuration's servers"
        )),
        "{stdout}"
    );
    assert!(
        stderr.contains("not every Online server accepted it; no server changed")
            && stderr.contains("node2: this server (node2)"),
        "{stderr}"
    );
    // Neither server takes it: no generation made, the same clppm, no monitor.
    std::thread::sleep(Duration::from_secs(2));
    for (index, pid) in before.iter().enumerate() {
        assert!(
            !monitors(&bed, index).iter().any(|m| m == "watch2"),
            "{} runs the refused configuration",
            bed.hosts[index].name
        );
        assert!(
            !bed.clp(index).path("etc/generations").exists(),
            "{} made a generation of the refused configuration",
            bed.hosts[index].name
        );
        assert_eq!(bed.clppm_pid(index), *pid);
        assert!(
            !bed.clp(index).alerts().contains(" cfmgr 1 "),
            "{} logged an upload:\n{}",
            bed.hosts[index].name,
            bed.clp(index).alerts()
        );
    }
    // A good push afterwards goes through: the refused proposal left nothing in the way.
    let dir = folder(&bed, 0, "push2", &with_monitor(&bed, "watch3"));
    bed.run(
        0,
        "clpcfctrl",
        &["--push", "-x", &dir.display().to_string()],
    )
    .success();
    wait_monitor(&bed, 1, "watch3", APPLY);
}

#[test]
fn a_server_down_during_a_push_takes_it_when_it_starts() {
    let Some(mut bed) = running_bed("pd") else {
        return;
    };
    let second = bed.clppm_pid(1).expect("node2's clppm");
    bed.kill_clppm(second);
    bed.wait_for(0, "node2", "Offline", Duration::from_secs(10));
    let dir = folder(&bed, 0, "push", &with_monitor(&bed, "watch4"));
    let text = bed
        .run(
            0,
            "clpcfctrl",
            &["--push", "-x", &dir.display().to_string()],
        )
        .success();
    assert!(
        text.lines()
            .any(|l| l == "Upload node2 : Offline (takes the configuration when it starts)"),
        "{text}"
    );
    wait_monitor(&bed, 0, "watch4", APPLY);
    // node2 still has the old configuration on disk; started, it takes the cluster's first.
    assert!(!bed.clp(1).path("etc/generations").exists());
    bed.start_clppm(1);
    bed.wait_for(0, "node2", "Online", FORM);
    wait_monitor(&bed, 1, "watch4", APPLY);
    let pulled = bed.clp(1).path("pulled");
    bed.run(
        1,
        "clpcfctrl",
        &["--pull", "-x", &pulled.display().to_string()],
    )
    .success();
    let text = std::fs::read_to_string(pulled.join("clp.conf")).expect("the pulled clp.conf");
    assert!(text.contains("name = \"watch4\""), "{text}");
}

#[test]
fn an_alert_raised_on_node2_is_read_on_node1() {
    let Some(bed) = running_bed("pl") else {
        return;
    };
    bed.run(
        1,
        "clplogcmd",
        &["-m", "hello from node2", "--alert", "-l", "WARN"],
    )
    .success();
    bed.run(0, "clplogcmd", &["-m", "hello from node1", "--alert"])
        .success();
    let mut text = String::new();
    wait_until("node2's alert on node1", Duration::from_secs(10), || {
        text = bed
            .run(0, "clp_mltool", &["messages", "-m", "logcmd"])
            .success();
        text.lines()
            .any(|l| l.ends_with(" Warning node2 logcmd 1 hello from node2"))
    });
    // Merged by time with node1's own, each with its server's name.
    assert!(
        text.lines()
            .any(|l| l.ends_with(" Info    node1 logcmd 1 hello from node1")),
        "{text}"
    );
    let node2 = text.lines().position(|l| l.contains("hello from node2"));
    let node1 = text.lines().position(|l| l.contains("hello from node1"));
    assert!(node2 < node1, "not in time order:\n{text}");
    // And the other way round: node1's alerts on node2 (its own start, too).
    wait_until("node1's alert on node2", Duration::from_secs(10), || {
        bed.run(1, "clp_mltool", &["messages", "-m", "logcmd"])
            .success()
            .contains(" node1 logcmd 1 hello from node1")
    });
    // Only node2's alert log file has node2's line: the copy is not written into node1's.
    assert!(!bed.clp(0).alerts().contains("hello from node2"));
}

#[test]
fn a_rollback_in_a_cluster_goes_back_on_every_server_and_force_is_refused() {
    let Some(bed) = running_bed("pb") else {
        return;
    };
    for (name, monitor) in [("first", "watch5"), ("second", "watch6")] {
        let dir = folder(&bed, 0, name, &with_monitor(&bed, monitor));
        bed.run(
            0,
            "clpcfctrl",
            &["--push", "-x", &dir.display().to_string()],
        )
        .success();
        for index in 0..2 {
            wait_monitor(&bed, index, monitor, APPLY);
        }
        // A server that applied it by a hand-off is back in the cluster only once its new
        // clppm registered: a rollback before that finds it Offline.
        bed.wait_all_online(APPLY);
    }
    // --force has no meaning for a cluster's configuration: refused, nothing proposed.
    let dir = folder(&bed, 1, "forced", &with_monitor(&bed, "watch7"));
    let refused = bed.run(
        1,
        "clpcfctrl",
        &["--push", "--force", "-x", &dir.display().to_string()],
    );
    let message = refused.failure(2);
    assert!(
        message.contains("--force makes a one-server configuration this host's")
            && message.contains("push without --force"),
        "{message}"
    );
    bed.run(1, "clpcfctrl", &["--rollback", "--force"])
        .failure(2);

    // Asked on node2: the configuration before the active one goes to every server.
    let text = bed.run(1, "clpcfctrl", &["--rollback"]).success();
    assert!(
        text.starts_with("Rolling the cluster ha back to the configuration of generation "),
        "{text}"
    );
    for line in ["Upload node1 : Success", "Upload node2 : Success"] {
        assert!(text.lines().any(|l| l == line), "{line:?} not in\n{text}");
    }
    for index in 0..2 {
        wait_monitor(&bed, index, "watch5", APPLY);
        wait_until("watch6 gone", APPLY, || {
            !monitors(&bed, index).iter().any(|m| m == "watch6")
        });
    }
    // The cluster's configuration is the rolled-back one: pulled on node1, it has watch5.
    let pulled = bed.clp(0).path("pulled");
    bed.run(
        0,
        "clpcfctrl",
        &["--pull", "-x", &pulled.display().to_string()],
    )
    .success();
    let text = std::fs::read_to_string(pulled.join("clp.conf")).expect("the pulled clp.conf");
    assert!(text.contains("name = \"watch5\""), "{text}");
    assert!(!text.contains("watch6"), "{text}");
}
