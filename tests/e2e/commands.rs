//! Every command's baseline (help, bad arguments, no daemon) and the smaller commands:
//! clplogcmd, clpdown, clpstdn.

use crate::harness::*;

const COMMANDS: &[&str] = &[
    "clppm",
    "clpcl",
    "clpstat",
    "clpgrp",
    "clprsc",
    "clpmonctrl",
    "clplogcmd",
    "clpdown",
    "clpstdn",
    "clpwebmgr",
    "clp_mlftp",
    "clpcfctrl",
    "clp_ml",
    "clp_mltool",
    "clpcfget",
    "clpcfset",
    "clphealthchk",
    "clplcncs",
    "clplcnsc",
    "clplogcc",
    "clpperfc",
];

/// The exit code of a bad option: 2 (clap's usage error), but clphealthchk's invalid option
/// is 4, as the original's.
fn bad_option_code(command: &str) -> i32 {
    match command {
        "clphealthchk" => 4,
        _ => 2,
    }
}

#[test]
fn every_command_has_help() {
    let cluster = Cluster::new();
    for command in COMMANDS {
        let help = cluster.run(command, &["--help"]).success();
        insta::with_settings!({ snapshot_suffix => *command, prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("help", help);
        });
    }
}

#[test]
fn a_bad_option_exits_with_its_usage_code_and_one_line() {
    let cluster = Cluster::new();
    for command in COMMANDS {
        let run = cluster.run(command, &["--no-such-option"]);
        let stderr = run.failure(bad_option_code(command));
        assert_eq!(stderr.lines().count(), 1, "{command}: {stderr}");
        assert!(stderr.starts_with(&format!("{command}: ")), "{stderr}");
    }
}

#[test]
fn operations_without_a_daemon_say_how_to_start_it() {
    let cluster = Cluster::new();
    for (command, args) in [
        ("clpgrp", &["-s"][..]),
        ("clprsc", &["-t", "exec"]),
        ("clpmonctrl", &["-s"]),
        ("clpcl", &["-t"]),
        ("clpcl", &["--suspend"]),
    ] {
        let stderr = cluster.run(command, args).failure(10);
        assert!(stderr.contains("clppm is not running"), "{stderr}");
        assert!(stderr.contains("'clpcl -s'"), "{stderr}");
    }
}

#[test]
fn clplogcmd_writes_to_the_alert_log_with_or_without_the_daemon() {
    let cluster = Cluster::new();
    cluster
        .run(
            "clplogcmd",
            &["-m", "offline note", "-l", "WARN", "--alert"],
        )
        .success();
    assert!(cluster.alerts().contains(&format!("Warning {}", host())));
    assert!(cluster.alerts().contains("logcmd 1 offline note"));
    cluster.start();
    cluster
        .run(
            "clplogcmd",
            &["-m", "online note", "-l", "ERR", "-i", "42", "--alert"],
        )
        .success();
    assert!(cluster.alerts().contains("logcmd 42 online note"));
    let bad = cluster.run("clplogcmd", &["-m", "x", "-l", "LOUD"]);
    assert!(
        bad.failure(2)
            .contains("level \"LOUD\" is not INFO, WARN or ERR")
    );
    let long = "x".repeat(600);
    assert!(
        cluster
            .run("clplogcmd", &["-m", &long])
            .failure(2)
            .contains("the limit is 511")
    );
    cluster.stop();
}

#[test]
fn clpdown_stops_the_daemon_then_reaches_the_recorder() {
    for (command, args, recorded) in [
        ("clpdown", &[][..], "shutdown\n"),
        ("clpdown", &["-r"][..], "reboot\n"),
        ("clpstdn", &["-r"][..], "reboot\n"),
    ] {
        let cluster = pidw_cluster(3, "none", "");
        cluster.start();
        wait_until("exec online", WAIT, || {
            cluster.resource_status("exec") == "Online"
        });
        assert_eq!(cluster.run(command, args).success(), "Command succeeded.\n");
        assert_eq!(
            events(&cluster).last().map(String::as_str),
            Some("stop CLUSTERSHUTDOWN")
        );
        let written = std::fs::read_to_string(cluster.path("recorded-os-actions")).unwrap();
        assert_eq!(written, recorded, "{command} {args:?}");
        assert_eq!(cluster.processes(), Vec::<u32>::new());
    }
}

#[test]
fn clpdown_under_the_lock_never_reaches_the_real_shutdown() {
    let cluster = Cluster::new();
    let stderr = cluster.run("clpdown", &[]).failure(255);
    assert!(
        stderr.contains("shutdown refused: CLP_FORBID_OS_ACTIONS=1 forbids /sbin/shutdown -h now"),
        "{stderr}"
    );
}
