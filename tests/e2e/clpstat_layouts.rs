//! The original's text layouts, as snapshots: scripts in the field parse these.

use crate::harness::*;

fn layout_cluster() -> Cluster {
    let cluster = pidw_cluster(
        3,
        "none",
        "\n[[monitor]]\nname = \"userw\"\ntype = \"userw\"\ncomment = \"user mode monitor\"\n",
    );
    let config = std::fs::read_to_string(cluster.path("etc/clp.conf")).unwrap();
    cluster.write_config(&config.replace(
        "name = \"failover\"",
        "name = \"failover\"\ncomment = \"business application\"",
    ));
    cluster
}

#[test]
fn the_status_layouts_while_running() {
    let cluster = layout_cluster();
    cluster.start();
    wait_until("pidw normal", WAIT, || {
        cluster.monitor_status("pidw") == "Normal"
    });
    let settings = snapshot_settings(&cluster);
    settings.bind(|| {
        insta::assert_snapshot!("clpstat_running", cluster.run("clpstat", &[]).success());
        insta::assert_snapshot!(
            "clpstat_long",
            cluster.run("clpstat", &["--long"]).success()
        );
        insta::assert_snapshot!(
            "clpstat_group_map",
            cluster.run("clpstat", &["-g"]).success()
        );
        insta::assert_snapshot!(
            "clpstat_monitor_map",
            cluster.run("clpstat", &["-m"]).success()
        );
        insta::assert_snapshot!(
            "clpmonctrl_counters",
            cluster.run("clpmonctrl", &["-v"]).success()
        );
    });
    // The columns the original's scripts rely on.
    let text = cluster.run("clpstat", &["--long"]).success();
    // The server is the host, the cluster keeps its own name.
    let host = clp_core::config::host_name();
    let server = text
        .lines()
        .find(|l| l.contains(&format!("*{host} ")))
        .unwrap();
    assert_eq!(server.split_whitespace().nth(2), Some("Online"), "{server}");
    let json: serde_json::Value =
        serde_json::from_str(&cluster.run("clpstat", &["-g", "--json"]).success()).unwrap();
    assert_eq!(json["groups"][0]["status"], "Online");
    cluster.stop();
}

/// `clpstat --json` passes the daemon's status through re-indented, without decoding it:
/// what it prints is exactly what decoding the status and printing it pretty gives (the
/// way it was printed before), escapes and empty lists included.
#[test]
fn the_json_status_is_the_daemons_status_printed_pretty() {
    let cluster = pidw_cluster(
        3,
        "none",
        "\n[[monitor]]\nname = \"userw\"\ntype = \"userw\"\ncomment = \"a \\\"quoted\\\" é \\\\ {[,:]} \\u0001\"\n",
    );
    cluster.start();
    wait_until("pidw normal", WAIT, || {
        cluster.monitor_status("pidw") == "Normal"
    });
    let out = cluster.run("clpstat", &["--json"]).success();
    let status: clp_core::status::ClusterStatus =
        serde_json::from_str(&out).expect("clpstat --json is a status");
    assert_eq!(status.monitors[1].comment, "a \"quoted\" é \\ {[,:]} \u{1}");
    let printed = serde_json::to_string_pretty(&status).expect("encodes") + "\n";
    assert_eq!(out, printed);
    cluster.stop();
    // Stopped: the status built from the configuration, printed the same way.
    let out = cluster.run("clpstat", &["--json"]).success();
    let status: clp_core::status::ClusterStatus =
        serde_json::from_str(&out).expect("clpstat --json is a status");
    assert_eq!(status.daemon, clp_core::status::DaemonState::Stopped);
    assert_eq!(
        out,
        serde_json::to_string_pretty(&status).expect("encodes") + "\n"
    );
}

/// Every status is read from the engine when it is asked for (nothing cached): a change
/// shows in the very next `clpstat`, `clpstat -m` and `clpstat --json`.
#[test]
fn a_change_shows_in_the_next_status() {
    let cluster = layout_cluster();
    cluster.start();
    wait_until("userw normal", WAIT, || {
        cluster.monitor_status("userw") == "Normal"
    });
    let userw_line = |text: &str| {
        text.lines()
            .find(|line| line.trim_start().starts_with("userw "))
            .map(str::to_string)
            .unwrap_or_default()
    };
    for (operation, shown) in [("-s", true), ("-r", false), ("-s", true)] {
        cluster
            .run("clpmonctrl", &[operation, "-m", "userw"])
            .success();
        let text = cluster.run("clpstat", &[]).success();
        assert_eq!(userw_line(&text).contains("Suspend"), shown, "{text}");
        let map = cluster.run("clpstat", &["-m"]).success();
        assert_eq!(map.contains("[userw : Suspend]"), shown, "{map}");
        assert_eq!(cluster.monitor_status("userw") == "Suspend", shown);
    }
    cluster.stop();
}

#[test]
fn the_status_layout_when_stopped() {
    let cluster = layout_cluster();
    let settings = snapshot_settings(&cluster);
    settings.bind(|| {
        insta::assert_snapshot!("clpstat_stopped", cluster.run("clpstat", &[]).success());
    });
}

#[test]
fn the_configuration_layouts() {
    let cluster = layout_cluster();
    let settings = snapshot_settings(&cluster);
    settings.bind(|| {
        insta::assert_snapshot!("clpstat_info", cluster.run("clpstat", &["-i"]).success());
        // Column for column the original's `clpstat --hb` (EXPRESSCLUSTER/Tools capture).
        assert_eq!(
            cluster.run("clpstat", &["--hb"]).success(),
            "=======================  CLUSTER INFORMATION  =======================\n\
             [HB0 : lanhb1]\n\
             \x20 Type                                                   : lanhb\n\
             \x20 Comment                                                : LAN Heartbeat\n\
             =====================================================================\n"
        );
        insta::assert_snapshot!(
            "clpstat_info_detail",
            cluster.run("clpstat", &["-i", "--detail"]).success()
        );
        insta::assert_snapshot!(
            "clpstat_mon_detail",
            cluster
                .run("clpstat", &["--mon", "pidw", "--detail"])
                .success()
        );
    });
    let json: serde_json::Value =
        serde_json::from_str(&cluster.run("clpstat", &["-i", "--json"]).success()).unwrap();
    assert_eq!(json["monitors"][0]["kind"], "pidw");
    let unknown = cluster.run("clpstat", &["--grp", "nosuch"]);
    assert!(
        unknown
            .failure(5)
            .contains("\"nosuch\" is not in the configuration")
    );
}

#[test]
fn long_names_are_cut_at_16() {
    let cluster = Cluster::with_config(
        "[cluster]\nname = \"zabi\"\n[[group]]\nname = \"container-recovery\"\n[[monitor]]\nname = \"a-very-long-monitor-name\"\ntype = \"userw\"\n",
    );
    let text = cluster.run("clpstat", &[]).success();
    assert!(text.contains("    container-recove : Offline"), "{text}");
    assert!(text.contains("    a-very-long-moni : Offline"), "{text}");
    let long = cluster.run("clpstat", &["--long"]).success();
    assert!(
        long.contains("    container-recovery ...............: Offline"),
        "{long}"
    );
}

#[test]
fn passwords_are_never_shown() {
    let cluster = pidw_cluster(
        3,
        "none",
        "\n[[monitor]]\nname = \"web\"\ntype = \"httpw\"\n[monitor.parameters]\nservername = \"127.0.0.1\"\nusername = \"operator\"\npassword = \"hunter2-secret\"\n",
    );
    for args in [
        &["-i", "--detail"][..],
        &["--mon", "web", "--detail"],
        &["-i", "--json"],
        &["--mon", "web", "--json"],
    ] {
        let text = cluster.run("clpstat", args).success();
        assert!(
            !text.contains("hunter2"),
            "clpstat {args:?} shows the password:\n{text}"
        );
        assert!(text.contains("********"), "clpstat {args:?}:\n{text}");
        assert!(text.contains("operator"), "clpstat {args:?}:\n{text}");
    }
}
