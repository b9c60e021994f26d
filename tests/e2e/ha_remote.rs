//! `-h HOST` across the HA cluster, for real: a command on node1 asks node2's clppm through
//! etcd (the request channel of `clp_cluster::requests`) on the bed ([`crate::ha_bed`]):
//! node2's status, a group started there (the journal proves it never ran twice), its
//! monitors suspended; `clpcl -t -a` / `-s -a` with one line per server; a killed server
//! refused quickly and clearly; an unknown name refused naming the servers; and keys written
//! by hand under node2's requests (malformed, oversized, without a lease) neither crash nor
//! wedge its clppm.

use std::time::{Duration, Instant};

use crate::ha_bed::Bed;
use crate::ha_bed::client::in_netns;
use crate::harness::{text_once_it_holds, wait_until};

/// The heartbeat of these tests, as in `ha_membership`.
const TIMEOUT: Duration = Duration::from_secs(3);

/// The service's port.
const PORT: u16 = 8080;

/// Two servers, a group `web` that may run on both but starts on neither by itself, and a
/// user-space monitor; the group's scripts write the bed's journal.
fn start_bed(tag: &str) -> Option<Bed> {
    let mut bed = Bed::create(tag, 2)?;
    let extra = concat!(
        "[os_actions]\n",
        "shutdown = [\"/bin/sh\", \"-c\", \"echo shutdown >> recorded-os-actions\"]\n",
        "reboot = [\"/bin/sh\", \"-c\", \"echo reboot >> recorded-os-actions\"]\n\n",
        "[[group]]\nname = \"web\"\nauto_start = false\nservers = [\"node1\", \"node2\"]\n\n",
        "[[group.resource]]\nname = \"service\"\nmode = \"async\"\n\n",
        "[[monitor]]\nname = \"userw\"\ntype = \"userw\"\n",
    );
    bed.write_config(&bed.config(TIMEOUT, extra));
    for index in 0..2 {
        let name = bed.hosts[index].name.clone();
        let start = bed.journal.start_script(&name, "web", PORT);
        let stop = bed.journal.stop_script(&name, "web");
        bed.clp(index).script("web", "service", "start.sh", &start);
        bed.clp(index).script("web", "service", "stop.sh", &stop);
    }
    bed.start_clppm(0);
    bed.start_clppm(1);
    bed.wait_formed(Duration::from_secs(30));
    Some(bed)
}

/// The status of server `index` as JSON, asked locally there.
fn status(bed: &Bed, index: usize) -> serde_json::Value {
    let text = bed.run(index, "clpstat", &["--json"]).success();
    serde_json::from_str(&text).expect("clpstat --json")
}

#[test]
fn clpstat_grp_and_monctrl_with_h_act_on_the_other_server() {
    let Some(bed) = start_bed("rs") else {
        return;
    };
    // node2's own view, asked from node1: '*' marks the server that answered.
    let text = bed.run(0, "clpstat", &["-h", "node2"]).success();
    assert!(
        text.lines().any(|l| l == "   *node2 ...........: Online"),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l == "    node1 ...........: Online"),
        "{text}"
    );
    // What the way through etcd costs a command, beside asking node1's own clppm.
    let median = |args: &[&str]| {
        let mut times: Vec<Duration> = (0..5)
            .map(|_| {
                let started = Instant::now();
                bed.run(0, "clpstat", args).success();
                started.elapsed()
            })
            .collect();
        times.sort();
        times[2]
    };
    let local = median(&[]);
    let remote = median(&["-h", "node2"]);
    eprintln!("clpstat on node1, median of 5: {local:?} here, {remote:?} with -h node2");
    // By address too, and the JSON is node2's.
    let json = bed
        .run(0, "clpstat", &["--json", "-h", "192.0.2.12"])
        .success();
    let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(json["server"]["name"], "node2", "{json}");

    // The group starts on node2, asked from node1: node2 takes its ownership there.
    bed.run(0, "clpgrp", &["-s", "web", "-h", "node2"])
        .success();
    wait_until("web running on node2", Duration::from_secs(15), || {
        bed.journal
            .running("web")
            .iter()
            .map(|(s, _)| s.as_str())
            .collect::<Vec<_>>()
            == ["node2"]
    });
    // node1 refuses to start it while node2 owns it, and so does node2 asked again.
    let refused = bed.run(0, "clpgrp", &["-s", "web"]);
    assert_ne!(refused.code(), 0, "{}", refused.stdout());
    let again = bed.run(0, "clpgrp", &["-s", "web", "-h", "node2"]);
    assert_eq!(again.code(), 128, "already started: {}", again.stderr());
    assert!(
        again.stderr().starts_with("clpgrp: server node2: "),
        "{}",
        again.stderr()
    );
    // Stopped there from node1 again.
    bed.run(0, "clpgrp", &["-t", "web", "-h", "node2"])
        .success();
    wait_until("web stopped", Duration::from_secs(15), || {
        bed.journal.running("web").is_empty()
    });
    bed.journal.assert_no_overlap();

    // Monitors of node2 suspended from node1; node1's own keep running.
    bed.run(0, "clpmonctrl", &["-s", "-h", "node2"]).success();
    let monitors = |index| status(&bed, index)["monitors"][0]["status"].clone();
    assert_eq!(monitors(1), "Suspend");
    assert_ne!(monitors(0), "Suspend");
    let counters = bed
        .run(0, "clpmonctrl", &["-v", "-h", "node2", "--json"])
        .success();
    assert!(counters.contains("\"userw\""), "{counters}");
    bed.run(0, "clpmonctrl", &["-r", "-h", "node2"]).success();
    assert_ne!(monitors(1), "Suspend");
    // The request reached node2's log as the command and the server that asked.
    // (The log's own thread writes it: the line may follow the answer by a moment.)
    let log = text_once_it_holds(
        &bed.clp(1).path("log/clppm.log"),
        "clpmonctrl@node1",
        Duration::from_secs(10),
    );
    assert!(log.contains("clpmonctrl@node1"), "{log}");

    // A name that is no server of the cluster is refused, naming the servers.
    let unknown = bed.run(0, "clpstat", &["-h", "node9"]).failure(2);
    assert_eq!(
        unknown.trim(),
        "clpstat: server node9 is not a server of this cluster; the servers are node1, node2"
    );
    // Commands that work on this server's own files say where to run them.
    let local = bed.run(0, "clplogcc", &["-h", "node2"]).failure(2);
    assert!(
        local.contains("collects the logs of the server it runs on; run it on server node2 itself"),
        "{local}"
    );
}

#[test]
fn a_killed_server_is_refused_quickly_and_clearly() {
    let Some(mut bed) = start_bed("rk") else {
        return;
    };
    let second = bed.clppm_pid(1).expect("node2's clppm");
    bed.kill_clppm(second);
    // Its presence lives until its lease runs out: a request put meanwhile ends when it
    // goes, within the timeout, never hangs.
    let asked = Instant::now();
    let run = bed.run(0, "clpstat", &["-h", "node2"]);
    let waited = asked.elapsed();
    assert_eq!(run.code(), 10, "{}", run.stderr());
    assert!(waited < TIMEOUT + Duration::from_secs(5), "{waited:?}");
    assert!(run.stderr().contains("server node2 "), "{}", run.stderr());
    bed.wait_for(0, "node2", "Offline", TIMEOUT + Duration::from_secs(5));

    // Offline in the cluster: refused at once, saying so.
    let asked = Instant::now();
    let stderr = bed
        .run(0, "clpgrp", &["-s", "web", "-h", "node2"])
        .failure(10);
    let waited = asked.elapsed();
    eprintln!("clpgrp -h of an Offline server answered in {waited:?}");
    assert!(waited < Duration::from_secs(2), "{waited:?}");
    assert_eq!(
        stderr.trim(),
        "clpgrp: server node2 is not running (Offline in the cluster)"
    );
    // clpcl -s cannot start clppm there, and says what to do.
    let stderr = bed.run(0, "clpcl", &["-s", "-h", "node2"]).failure(10);
    assert!(stderr.contains("run 'clpcl -s' on node2"), "{stderr}");
    // Nothing ran anywhere.
    assert!(bed.journal.entries().is_empty());
}

#[test]
fn clpcl_a_stops_and_starts_every_server_one_line_each() {
    let Some(bed) = start_bed("ra") else {
        return;
    };
    let stopped = bed.run(0, "clpcl", &["-t", "-a"]).success();
    // Both clppm are gone: node2 stopped through etcd, node1 here.
    for index in 0..2 {
        wait_until("clppm stopped", Duration::from_secs(15), || {
            status(&bed, index)["daemon"] == "stopped"
        });
    }
    // Started again from node1: node1 starts; node2's clppm cannot be started from here.
    let started = bed.run(0, "clpcl", &["-s", "-a"]);
    assert_eq!(started.code(), 10, "{}", started.stderr());
    let outputs = format!(
        "$ clpcl -t -a\n{stopped}\n$ clpcl -s -a  (exit {})\n{}--- stderr ---\n{}",
        started.code(),
        started.stdout(),
        started.stderr()
    );
    insta::assert_snapshot!("ha_remote_clpcl_all", outputs);
    bed.wait_for(0, "node1", "Online", Duration::from_secs(30));
}

/// Puts `key` = `value` (under a fresh lease of 30 s when `leased`) into the etcd member of
/// server `index`, by hand, as anyone allowed to write into the cluster's etcd could.
fn put_by_hand(bed: &Bed, index: usize, key: &str, value: Vec<u8>, leased: bool) {
    let key = key.to_string();
    in_netns(&bed.hosts[index].netns, move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async move {
            let mut client = clp_cluster::Client::connect(["http://127.0.0.1:2379"], None)
                .await
                .map_err(|e| e.to_string())?;
            let options = if leased {
                let lease = client
                    .lease_grant(30, None)
                    .await
                    .map_err(|e| e.to_string())?;
                Some(clp_cluster::PutOptions::new().with_lease(lease.id()))
            } else {
                None
            };
            client
                .put(key, value, options)
                .await
                .map_err(|e| e.to_string())?;
            Ok(())
        })
    })
    .expect("a key written by hand into etcd");
}

/// The value of `key` in the etcd member of server `index` (None: absent).
fn get_by_hand(bed: &Bed, index: usize, key: &str) -> Option<Vec<u8>> {
    let key = key.to_string();
    in_netns(&bed.hosts[index].netns, move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async move {
            let mut client = clp_cluster::Client::connect(["http://127.0.0.1:2379"], None)
                .await
                .map_err(|e| e.to_string())?;
            let found = client.get(key, None).await.map_err(|e| e.to_string())?;
            Ok(found.kvs().first().map(|kv| kv.value().to_vec()))
        })
    })
    .expect("a key read by hand from etcd")
}

#[test]
fn hostile_keys_under_a_servers_requests_neither_crash_nor_wedge_it() {
    let Some(bed) = start_bed("rh") else {
        return;
    };
    let node2 = bed.clppm_pid(1).expect("node2's clppm");
    let requests = "/clp/ha/requests/node2/";
    // Keys no clp command writes: removed.
    put_by_hand(
        &bed,
        0,
        &format!("{requests}../../groups/web/owner"),
        b"node1".to_vec(),
        false,
    );
    put_by_hand(
        &bed,
        0,
        &format!("{requests}{}", "x".repeat(300)),
        b"{}".to_vec(),
        true,
    );
    // A well-named request without a lease (its answer would never go): removed.
    put_by_hand(
        &bed,
        0,
        &format!("{requests}nolease"),
        br#"{"client":"x","from":"y","request":{"type":"status"}}"#.to_vec(),
        false,
    );
    // Leased, but malformed, oversized, or not to be carried out: answered with an error.
    put_by_hand(
        &bed,
        0,
        &format!("{requests}garbage"),
        b"{not json".to_vec(),
        true,
    );
    put_by_hand(
        &bed,
        0,
        &format!("{requests}huge"),
        vec![b'{'; 1_200_000],
        true,
    );
    put_by_hand(
        &bed,
        0,
        &format!("{requests}handoff"),
        br#"{"client":"x","from":"y","request":{"type":"handoff"}}"#.to_vec(),
        true,
    );
    // A huge answer nobody asked for, and one for a request another server will send.
    put_by_hand(
        &bed,
        0,
        "/clp/ha/answers/0000000000000001",
        vec![b'x'; 1_200_000],
        true,
    );

    let answer = |id: &str| get_by_hand(&bed, 0, &format!("/clp/ha/answers/{id}"));
    wait_until(
        "the hostile requests answered",
        Duration::from_secs(10),
        || {
            ["garbage", "huge", "handoff"]
                .iter()
                .all(|id| answer(id).is_some())
        },
    );
    let text = |id: &str| String::from_utf8_lossy(&answer(id).unwrap_or_default()).into_owned();
    assert!(
        text("garbage").contains("cannot read the request"),
        "{}",
        text("garbage")
    );
    assert!(text("huge").contains("at most"), "{}", text("huge"));
    assert!(text("handoff").contains("clpcfctrl"), "{}", text("handoff"));
    for key in [
        format!("{requests}../../groups/web/owner"),
        format!("{requests}{}", "x".repeat(300)),
        format!("{requests}nolease"),
        format!("{requests}garbage"),
    ] {
        wait_until(&format!("{key} removed"), Duration::from_secs(10), || {
            get_by_hand(&bed, 0, &key).is_none()
        });
    }
    // node2's clppm lives and still answers, here and through etcd; nothing started.
    assert_eq!(bed.clppm_pid(1), Some(node2));
    assert_eq!(status(&bed, 1)["daemon"], "running", "node2's clppm");
    let text = bed.run(0, "clpstat", &["-h", "node2"]).success();
    assert!(text.contains("   *node2 ...........: Online"), "{text}");
    bed.run(1, "clpstat", &[]).success();
    assert!(bed.journal.entries().is_empty());
}

/// What server `index` recorded of its OS actions (the configuration points them at a file).
fn recorded(bed: &Bed, index: usize) -> String {
    std::fs::read_to_string(bed.clp(index).path("recorded-os-actions")).unwrap_or_default()
}

#[test]
fn clpdown_h_reboots_the_other_server_and_clpstdn_shuts_down_every_one() {
    let Some(mut bed) = start_bed("rd") else {
        return;
    };
    // clpdown -r -h node2: node2's clppm stops, then reboots node2 (its recorder), not node1.
    bed.run(0, "clpdown", &["-r", "-h", "node2"]).success();
    wait_until("node2 rebooted", Duration::from_secs(15), || {
        recorded(&bed, 1) == "reboot\n"
    });
    assert_eq!(status(&bed, 1)["daemon"], "stopped");
    assert_eq!(recorded(&bed, 0), "");
    assert_eq!(status(&bed, 0)["daemon"], "running");

    // clpstdn on node1: node2 (asked through etcd) and node1 both shut down.
    bed.start_clppm(1);
    bed.wait_for(0, "node2", "Online", Duration::from_secs(30));
    bed.run(0, "clpstdn", &[]).success();
    wait_until("both shut down", Duration::from_secs(15), || {
        recorded(&bed, 0) == "shutdown\n" && recorded(&bed, 1) == "reboot\nshutdown\n"
    });
    for index in 0..2 {
        assert_eq!(status(&bed, index)["daemon"], "stopped");
    }
}
