//! `-h <host>` as the original's commands take it (the server to send the request to; clp
//! manages one server, so only this one's names work), `--help` for help, and bad-argument
//! messages that name what is missing.

use crate::harness::*;

/// A cluster with one group `failover` holding one exec resource `exec`, and `userw`.
fn cluster() -> Cluster {
    let cluster = Cluster::with_config(
        r#"[[group]]
name = "failover"

[[group.resource]]
name = "exec"

[[monitor]]
name = "userw"
type = "userw"
"#,
    );
    cluster.script("failover", "exec", "start.sh", "exit 0");
    cluster.script("failover", "exec", "stop.sh", "exit 0");
    cluster
}

/// `hostname`'s answer, as an operator's script writes `-h $(hostname)`.
fn hostname() -> String {
    let output = std::process::Command::new("hostname").output().unwrap();
    assert!(output.status.success(), "hostname failed");
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

#[test]
fn dash_h_with_this_servers_name_runs_the_command() {
    let cluster = cluster();
    let host = hostname();
    cluster.run("clpcl", &["-s", "-h", "localhost"]).success();
    for name in ["localhost", host.as_str(), "127.0.0.1", "::1"] {
        let status = cluster.run("clpstat", &["-h", name]).success();
        assert!(status.contains("CLUSTER STATUS"), "-h {name}: {status}");
    }
    cluster
        .run("clpgrp", &["-t", "failover", "-h", &host])
        .success();
    assert_eq!(cluster.resource_status("exec"), "Offline");
    cluster
        .run("clpgrp", &["-s", "failover", "-h", "localhost"])
        .success();
    assert_eq!(cluster.resource_status("exec"), "Online");
    cluster
        .run("clprsc", &["-t", "exec", "-h", &host])
        .success();
    assert_eq!(cluster.resource_status("exec"), "Offline");
    cluster
        .run("clpmonctrl", &["-s", "-m", "userw", "-h", &host])
        .success();
    assert_eq!(cluster.monitor_status("userw"), "Suspend");
    cluster
        .run("clpmonctrl", &["-r", "-h", "localhost"])
        .success();
    cluster
        .run("clpcfctrl", &["--list", "-h", "localhost"])
        .success();
    cluster.run("clpcl", &["-t", "-h", &host]).success();
    assert_eq!(cluster.daemon_pid(), None);
}

#[test]
fn dash_h_with_another_server_fails_and_does_nothing() {
    let cluster = cluster();
    let this = clp_core::config::host_name();
    let pull = cluster.path("pulled");
    let pull = pull.to_str().unwrap();
    for (command, args) in [
        ("clpcl", &["-s"][..]),
        ("clpstat", &[][..]),
        ("clpstat", &["-i"][..]),
        ("clpgrp", &["-s"][..]),
        ("clprsc", &["-s", "exec"][..]),
        ("clpmonctrl", &["-v"][..]),
        ("clplogcc", &[][..]),
        ("clpcfctrl", &["--pull", "-x", pull][..]),
        ("clpdown", &[][..]),
        ("clpstdn", &["-r"][..]),
    ] {
        let mut args = args.to_vec();
        args.extend(["-h", "db-server-2"]);
        let stderr = cluster.run(command, &args).failure(2);
        assert_eq!(
            stderr.trim_end(),
            format!(
                "{command}: server db-server-2 is not this server ({this}); clp manages one server until the HA cluster is configured"
            ),
            "{command} {args:?}"
        );
    }
    // Nothing ran: no daemon, no collected log, no pulled configuration.
    assert_eq!(cluster.daemon_pid(), None);
    assert!(!cluster.path("pulled").exists());
    assert!(
        std::fs::read_dir(cluster.path("tmp"))
            .map(|entries| entries.count() == 0)
            .unwrap_or(true)
    );
}

#[test]
fn dash_h_is_not_help_and_help_is_long_only() {
    let cluster = Cluster::new();
    let stderr = cluster.run("clpstat", &["-h"]).failure(2);
    assert!(
        stderr.contains("a value is required for '-h <HOST>'"),
        "{stderr}"
    );
    let help = cluster.run("clpgrp", &["--help"]).success();
    assert!(help.contains("-h <HOST>"), "{help}");
    assert!(help.contains("--help"), "{help}");
}

#[test]
fn missing_arguments_are_named() {
    let cluster = Cluster::new();
    for (command, args, named) in [
        ("clpmonctrl", &["-e"][..], "-m <MONITOR>"),
        ("clpcfctrl", &["--push"][..], "-x <DIR>"),
        ("clpcfctrl", &["--push", "-l"][..], "-x <DIR>"),
        ("clpcfctrl", &["--convert"][..], "-x <DIR>, -o <DST>"),
        ("clplogcmd", &["--alert"][..], "-m <MESSAGE>"),
        ("clpcl", &[][..], "<-s|-t|-r|--suspend|--resume>"),
    ] {
        let stderr = cluster.run(command, args).failure(2);
        assert_eq!(
            stderr.trim_end(),
            format!(
                "{command}: the following required arguments were not provided: {named} (see --help)"
            ),
            "{command} {args:?}"
        );
    }
}
