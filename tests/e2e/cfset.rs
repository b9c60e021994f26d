//! clpcfset and clpcfget: a configuration built with the original's documented steps
//! (create, add srv, add grp failover, add rsc exec, add rscparam, add mon, add monparam)
//! pushes with `clpcfctrl --push -x` and starts; clpcfget answers by the original's paths
//! what the running configuration holds; hostile steps are refused, naming what.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::harness::*;

/// A folder for clpcfset (its current folder) with the exec resource's scripts where the
/// original's documentation puts them: `scripts/<group>/<resource>/`.
fn folder() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("clp-cfset-")
        .tempdir()
        .expect("a temporary folder");
    let scripts = dir.path().join("scripts/failover1/exec1");
    std::fs::create_dir_all(&scripts).expect("scripts");
    for (name, body) in [("start.sh", "exec sleep 300"), ("stop.sh", "exit 0")] {
        let path = scripts.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    dir
}

/// `clpcfset ARGS` run in `dir`.
fn cfset(cluster: &Cluster, dir: &Path, args: &[&str]) -> Run {
    let output = cluster
        .command("clpcfset")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run clpcfset");
    Run { output }
}

/// The documented single-server script (CFSETDOC exec.md, pidw.md; CreateClusterOnLinux's
/// sample script order), with an async exec resource watched by pidw.
fn script(host: &str) -> Vec<Vec<String>> {
    let lines = [
        "create cluster ASCII ASCII linux".to_string(),
        format!("add srv {host} 0"),
        "add grp failover failover1".into(),
        "add rsc failover1 exec exec1".into(),
        "add rscparam exec exec1 parameters/act/path start.sh".into(),
        "add rscparam exec exec1 parameters/deact/path stop.sh".into(),
        "add rscparam exec exec1 parameters/act/sync 0".into(),
        "add mon userw userw".into(),
        "add monparam userw userw relation/type cls".into(),
        "add monparam userw userw relation/name LocalServer".into(),
        "add mon pidw pidw1".into(),
        "add monparam pidw pidw1 target exec1".into(),
        "add monparam pidw pidw1 relation/type rsc".into(),
        "add monparam pidw pidw1 relation/name exec1".into(),
        "add monparam pidw pidw1 polling/interval 5".into(),
        "add webmgr clientlist 127.0.0.1".into(),
        "add webmgr clientlist 10.0.0.0/24".into(),
    ];
    lines
        .iter()
        .map(|line| line.split(' ').map(str::to_string).collect())
        .collect()
}

#[test]
fn the_documented_script_builds_a_configuration_that_pushes_and_starts() {
    let cluster = Cluster::new();
    let dir = folder();
    let mut outputs = String::new();
    for line in script(&host()) {
        let args: Vec<&str> = line.iter().map(String::as_str).collect();
        let stdout = cfset(&cluster, dir.path(), &args).success();
        outputs
            .push_str(&format!("$ clpcfset {}\n{stdout}", args.join(" ")).replace(&host(), "HOST"));
    }
    insta::assert_snapshot!("cfset_documented_script", outputs);
    let pushed = cluster.run(
        "clpcfctrl",
        &["--push", "-x", &dir.path().display().to_string()],
    );
    pushed.success();
    cluster.start();
    wait_until("exec1 online", std::time::Duration::from_secs(20), || {
        cluster.resource_status("exec1") == "Online"
    });
    wait_until("pidw1 normal", std::time::Duration::from_secs(20), || {
        cluster.monitor_status("pidw1") == "Normal"
    });

    // clpcfget answers for the running configuration, as clpstat sees it.
    let status = cluster.status();
    let get = |args: &[&str]| cluster.run("clpcfget", args).success();
    let mut running_types: Vec<String> = status["monitors"]
        .as_array()
        .expect("monitors")
        .iter()
        .map(|m| m["kind"].as_str().unwrap_or_default().to_string())
        .collect();
    running_types.dedup();
    let types: Vec<String> = get(&["-e", "/root/monitor/types"])
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(types, ["userw", "pidw"]);
    for kind in &running_types {
        assert!(types.contains(kind), "{kind} not in {types:?}");
    }
    assert_eq!(get(&["-e", "/root/monitor/pidw"]), "pidw1\n");
    assert_eq!(get(&["-g", "/root/cluster/name"]), "cluster\n");
    assert_eq!(
        get(&["-g", "/root/monitor/pidw@pidw1/polling/interval"]),
        "5\n"
    );
    assert_eq!(get(&["-g", "/root/monitor/pidw@pidw1/target"]), "exec1\n");
    assert_eq!(
        get(&["-e", "/root/group@failover1/resource"]),
        "exec@exec1\n"
    );
    assert_eq!(
        get(&["-g", "/root/resource/exec@exec1/parameters/act/sync"]),
        "0\n"
    );
    assert_eq!(
        get(&["-e", "/root/webmgr/security/clientlist/ip"]),
        "127.0.0.1\n10.0.0.0/24\n"
    );
    assert_eq!(
        get(&["-e", "/root/monitor/types", "--json"]),
        "[\"userw\",\"pidw\"]\n"
    );
    assert_eq!(
        get(&["-g", "/root/cluster/name", "-h", "localhost"]),
        "cluster\n"
    );
    let missing = cluster
        .run("clpcfget", &["-g", "/root/monitor/genw@genw1/target"])
        .failure(5);
    insta::assert_snapshot!("cfget_missing_path", missing);
    let bad = cluster.run("clpcfget", &["-g", "cluster/name"]).failure(2);
    insta::assert_snapshot!("cfget_bad_path", bad);
    cluster.stop();
}

#[test]
fn hostile_steps_are_refused_naming_what() {
    let cluster = Cluster::new();
    let dir = folder();
    let missing_create = cfset(&cluster, dir.path(), &["add", "grp", "failover", "g"]).failure(4);
    assert!(
        missing_create.contains("run 'clpcfset create"),
        "{missing_create}"
    );
    for line in script(&host()).iter().take(4) {
        let args: Vec<&str> = line.iter().map(String::as_str).collect();
        cfset(&cluster, dir.path(), &args).success();
    }
    let mut refusals = String::new();
    for (args, code) in [
        (&["add", "mon", "genww", "g1"][..], 4),
        (&["add", "grp", "failover", "failover1"], 4),
        (&["add", "rsc", "failover1", "exec", "../../etc"], 2),
        (&["add", "rsc", "failover1", "exec", "exec1"], 4),
        (&["add", "rsc", "nosuch", "exec", "exec2"], 4),
        (&["add", "rsc", "failover1", "disk", "disk1"], 4),
        (
            &["add", "rscparam", "exec", "exec1", "parameters/../x", "1"],
            2,
        ),
        (
            &[
                "add",
                "rscparam",
                "exec",
                "exec1",
                "parameters/act/pth",
                "a.sh",
            ],
            4,
        ),
        (
            &[
                "add",
                "rscparam",
                "exec",
                "exec1",
                "parameters/timeout/start",
                "soon",
            ],
            4,
        ),
        (&["add", "srv", "other", "1"], 4),
        (&["add", "hb", "lankhb", "0", "0"], 4),
        (&["add", "webmgr", "clientlist", "10.0.0.0/33"], 2),
        (
            &[
                "add",
                "monparam",
                "userw",
                "nosuch",
                "polling/interval",
                "3",
            ],
            4,
        ),
    ] {
        let stderr = cfset(&cluster, dir.path(), args).failure(code);
        refusals.push_str(&format!("$ clpcfset {}\n{stderr}", args.join(" ")));
    }
    insta::assert_snapshot!("cfset_refusals", refusals.replace(&host(), "HOST"));
    // Nothing refused reached the files: the configuration is still the four steps'.
    let text = std::fs::read_to_string(dir.path().join("clp.conf")).expect("clp.conf");
    assert!(!text.contains("disk1") && !text.contains("genww") && !text.contains("other"));
    let other = cfset(
        &cluster,
        dir.path(),
        &["-h", "not-this-server", "add", "mon", "userw", "u"],
    );
    other.failure(2);
}

#[test]
fn the_commands_have_help() {
    let cluster = Cluster::new();
    for command in ["clpcfset", "clpcfget"] {
        let help = cluster.run(command, &["--help"]).success();
        insta::with_settings!({ snapshot_suffix => command }, {
            insta::assert_snapshot!("help", help);
        });
        let stderr = cluster.run(command, &["--no-such-option"]).failure(2);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
}
