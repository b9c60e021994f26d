//! clp_mltool: messages filtered, licenses, drivers (read-only), checksums.

use crate::harness::*;

#[test]
fn messages_are_filtered_by_level_module_and_time() {
    let cluster = pidw_cluster(3, "none", "");
    cluster.start();
    // The daemon's own start-up messages first, so the script's are the newest.
    wait_until("pidw started", WAIT, || {
        cluster.count_alerts("rm 1 Monitoring pidw has started.") == 1
    });
    cluster
        .run(
            "clplogcmd",
            &["-m", "an error from a script", "-l", "ERR", "--alert"],
        )
        .success();
    cluster
        .run("clplogcmd", &["-m", "a note", "--alert"])
        .success();
    let errors = cluster
        .run("clp_mltool", &["messages", "-l", "ERR"])
        .success();
    assert_eq!(errors.lines().count(), 1, "{errors}");
    assert!(
        errors.contains(&format!(
            "Error   {} logcmd 1 an error from a script",
            host()
        )),
        "{errors}"
    );
    let rc = cluster
        .run("clp_mltool", &["messages", "-m", "rc"])
        .success();
    assert!(
        rc.lines().all(|l| l.contains(&format!(" {} rc ", host()))),
        "{rc}"
    );
    assert!(
        rc.contains("rc 10 Activating group failover has started."),
        "{rc}"
    );
    let last = cluster
        .run("clp_mltool", &["messages", "-n", "1"])
        .success();
    assert!(last.trim_end().ends_with("logcmd 1 a note"), "{last}");
    let future = cluster
        .run("clp_mltool", &["messages", "-s", "2999/01/01"])
        .success();
    assert_eq!(future, "");
    cluster.stop();
    // With the daemon down the store is read directly.
    let offline = cluster
        .run("clp_mltool", &["messages", "-m", "pm", "--json"])
        .success();
    let json: serde_json::Value = serde_json::from_str(&offline).unwrap();
    assert!(json.as_array().unwrap().iter().any(|e| e["event_id"] == 2));
    assert!(
        cluster
            .run("clp_mltool", &["licenses"])
            .success()
            .contains("Status..... valid")
    );
}

#[test]
fn drivers_are_checked_without_opening_anything() {
    let cluster = Cluster::new();
    assert!(
        cluster
            .run("clp_mltool", &["drivers"])
            .success()
            .contains("[OK]   userw userw (method none): no driver needed")
    );
    let device = cluster.path("not-a-device");
    std::fs::write(&device, "").unwrap();
    cluster.write_config(&format!(
        "[os_actions]\nwatchdog_device = \"{}\"\n[[monitor]]\nname = \"userw\"\ntype = \"userw\"\n[monitor.parameters]\nmethod = \"softdog\"\n",
        device.display()
    ));
    let run = cluster.run("clp_mltool", &["drivers"]);
    let stderr = run.failure(255);
    assert!(
        run.stdout().contains(&format!(
            "[NG]   userw userw (method softdog): device: {} is not a character device",
            device.display()
        )),
        "{}",
        run.stdout()
    );
    assert!(stderr.contains("a driver the configuration needs is missing"));
    assert_eq!(
        std::fs::read(&device).unwrap(),
        b"",
        "the device file was written to"
    );
}

#[test]
fn verify_compares_the_installed_binaries_with_the_manifest() {
    let cluster = Cluster::new();
    let missing = cluster.run("clp_mltool", &["verify"]);
    assert!(
        missing
            .failure(255)
            .contains("was clp installed with install_cluster.sh?")
    );
    let bin = cluster.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(bin.join("clppm"), "binary").unwrap();
    let sum = clp_core::diagnose::sha256_file(&bin.join("clppm")).unwrap();
    std::fs::write(bin.join("SHA256SUMS"), format!("{sum}  clppm\n")).unwrap();
    assert_eq!(
        cluster.run("clp_mltool", &["verify"]).success(),
        "[OK]   clppm: OK\n"
    );
    std::fs::write(bin.join("clppm"), "tampered").unwrap();
    let run = cluster.run("clp_mltool", &["verify"]);
    run.failure(255);
    assert_eq!(run.stdout(), "[NG]   clppm: FAILED (checksum differs)\n");
}

#[test]
fn a_since_that_is_not_a_time_is_refused() {
    let cluster = Cluster::new();
    for bad in ["garbage", "2026-12-02", "2026/13/40", "20"] {
        let stderr = cluster
            .run("clp_mltool", &["messages", "-s", bad])
            .failure(2);
        assert!(
            stderr.contains(&format!("-s \"{bad}\" is not a time")),
            "{stderr}"
        );
    }
    for good in ["2026", "2026/12/02", "2026/12/02 17:00:00"] {
        cluster
            .run("clp_mltool", &["messages", "-s", good])
            .success();
    }
}
