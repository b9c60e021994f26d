//! Licenses: trials, signed key files, the daemon's refusal without a core license.

use std::process::Command;

use crate::harness::*;

/// `clplcncs -l | grep Status | awk '{print $2}'`, as field scripts do.
fn statuses(cluster: &Cluster) -> Vec<String> {
    let listing = cluster.run("clplcncs", &["-l"]).success();
    listing
        .lines()
        .filter(|l| l.contains("Status"))
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
        .collect()
}

/// An issuer of this test: its private key (outside the root) and its trusted public key.
fn issuer(cluster: &Cluster) -> std::path::PathBuf {
    let private = cluster.path("issuer.key");
    let run = cluster.run("clplcncs-issue", &["--new-key", private.to_str().unwrap()]);
    let public = std::path::PathBuf::from(run.success().trim());
    std::fs::create_dir_all(cluster.path("etc/license-issuers")).unwrap();
    std::fs::copy(&public, cluster.path("etc/license-issuers/test.pub")).unwrap();
    private
}

fn issue(cluster: &Cluster, private: &std::path::Path, args: &[&str]) -> std::path::PathBuf {
    let mut all = vec!["--key", private.to_str().unwrap()];
    all.extend_from_slice(args);
    let line = cluster.run("clplcncs-issue", &all).success();
    let file = cluster.path(&format!("license-{}.key", line.len() + args.len()));
    std::fs::write(&file, line).unwrap();
    file
}

#[test]
fn without_a_core_license_the_daemon_refuses_to_start() {
    let cluster = Cluster::unlicensed();
    let stderr = cluster.run("clpcl", &["-s"]).failure(3);
    assert!(
        stderr.contains("The license is not registered. (Product name:XSS10)"),
        "{stderr}"
    );
    assert!(stderr.contains("clplcncs --trial -P XSS10"), "{stderr}");
    assert!(
        cluster
            .alerts()
            .contains("lcns 4 The license is not registered. (Product name:XSS10)")
    );
    assert_eq!(cluster.processes(), Vec::<u32>::new());
}

#[test]
fn a_trial_is_registered_once_and_lets_the_daemon_start() {
    let cluster = Cluster::unlicensed();
    let out = cluster
        .run("clplcncs", &["--trial", "-P", "XSS10"])
        .success();
    assert!(out.starts_with("----- XSS10 TRIAL -----\n< Cluster CPU License CLUSTERPRO X SingleServerSafe 1.0 for Linux <TRIAL> >\n"), "{out}");
    assert!(out.contains("  Status..... valid\n"), "{out}");
    assert!(out.ends_with("Command succeeded.\n"));
    let again = cluster.run("clplcncs", &["--trial", "-P", "XSS10"]);
    assert!(
        again
            .failure(255)
            .contains("the trial of XSS10 was already used on this server")
    );
    assert_eq!(statuses(&cluster), ["valid"]);
    cluster.start();
    assert!(
        cluster
            .alerts()
            .contains("lcns 2 The trial license is valid until ")
    );
    // While the daemon runs, the commands go through it.
    assert_eq!(statuses(&cluster), ["valid"]);
    cluster
        .run("clplcnsc", &["--trial", "-P", "ISAG10"])
        .success();
    assert_eq!(statuses(&cluster).len(), 2);
    // A deleted trial does not come back.
    cluster.run("clplcncs", &["-d", "-t"]).success();
    assert!(statuses(&cluster).is_empty());
    assert!(
        cluster
            .run("clplcncs", &["--trial", "-P", "XSS10"])
            .failure(255)
            .contains("already used")
    );
    cluster.stop();
    let refused = cluster.run("clpcl", &["-s"]);
    assert!(refused.failure(3).contains("not registered"));
}

#[test]
fn signed_key_files_are_verified_and_dated() {
    let cluster = Cluster::unlicensed();
    let private = issuer(&cluster);
    let good = issue(
        &cluster,
        &private,
        &[
            "-P",
            "XSS10",
            "--kind",
            "fixed",
            "--start",
            "20200101",
            "--end",
            "20991231",
            "--user",
            "sample XSS10",
        ],
    );
    let out = cluster
        .run("clplcncs", &["-I", good.to_str().unwrap(), "-P", "XSS10"])
        .success();
    assert!(out.contains("  User name..... sample XSS10\n  Count..... 1\n  Start date..... 2020/01/01\n  End date..... 2099/12/31\n  Status..... valid\n"), "{out}");
    // A tampered file does not verify.
    let text = std::fs::read_to_string(&good)
        .unwrap()
        .replace("20991231", "21991231");
    let tampered = cluster.path("tampered.key");
    std::fs::write(&tampered, text).unwrap();
    let refused = cluster.run("clplcncs", &["-i", tampered.to_str().unwrap()]);
    assert!(
        refused
            .failure(255)
            .contains("does not verify with any trusted issuer")
    );
    // The wrong product for the file.
    let mismatch = cluster.run("clplcncs", &["-I", good.to_str().unwrap(), "-P", "ISAG10"]);
    assert!(
        mismatch
            .failure(255)
            .contains("the key file is for XSS10, not ISAG10")
    );
    // An expired fixed-term license registers, shows expired, and does not start the daemon.
    let old = issue(
        &cluster,
        &private,
        &[
            "-P", "ISAG10", "--kind", "fixed", "--start", "20200101", "--end", "20201231",
            "--user", "old",
        ],
    );
    cluster
        .run("clplcncs", &["-i", old.to_str().unwrap()])
        .success();
    let mut states = statuses(&cluster);
    states.sort();
    assert_eq!(states, ["expired", "valid"]);
    cluster.start();
    cluster.stop();
    // Remove the good one by its serial: the daemon no longer starts.
    let json: serde_json::Value =
        serde_json::from_str(&cluster.run("clplcncs", &["-l", "--json"]).success()).unwrap();
    let serial = json
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["product"] == "XSS10")
        .unwrap()["serial"]
        .as_str()
        .unwrap()
        .to_string();
    cluster.run("clplcncs", &["-d", &serial]).success();
    assert!(
        cluster
            .run("clplcncs", &["-d", "NOSUCHSERIAL"])
            .failure(5)
            .contains("no registered license has serial number NOSUCHSERIAL")
    );
    assert!(
        cluster
            .run("clpcl", &["-s"])
            .failure(3)
            .contains("not registered")
    );
    // A private key others can read is refused.
    let loose = cluster.path("loose.key");
    std::fs::copy(&private, &loose).unwrap();
    Command::new("chmod")
        .arg("644")
        .arg(&loose)
        .status()
        .unwrap();
    let refused = cluster.run(
        "clplcncs-issue",
        &["--key", loose.to_str().unwrap(), "-P", "XSS10"],
    );
    assert!(refused.failure(2).contains("chmod 600"));
}

#[test]
fn a_monitor_without_its_option_license_stays_offline() {
    let cluster = Cluster::unlicensed();
    cluster
        .run("clplcncs", &["--trial", "-P", "XSS10"])
        .success();
    cluster.write_config(
        "[[monitor]]\nname = \"web\"\ntype = \"httpw\"\ninterval = 0.2\n[monitor.parameters]\nservername = \"127.0.0.1\"\nport = 9\n",
    );
    cluster.start();
    assert!(
        cluster
            .alerts()
            .contains("lcns 4 The license is not registered. (Product name:ISAG10)")
    );
    assert!(cluster.alerts().contains(
        "rm 160 Monitor resource web cannot be controlled since the license is invalid."
    ));
    std::thread::sleep(std::time::Duration::from_millis(600));
    assert_eq!(cluster.monitor_status("web"), "Offline");
    assert_eq!(
        cluster.count_alerts("rm 9"),
        0,
        "an unlicensed monitor never checks"
    );
    // Nor can it report a dummy failure: rm 184, and the command says why.
    let refused = cluster.run("clpmonctrl", &["-e", "-m", "web"]);
    assert_ne!(refused.code(), 0);
    assert!(
        refused.stderr().contains("web never runs"),
        "{}",
        refused.stderr()
    );
    assert!(cluster.alerts().contains(
        "rm 184 An attempt was made to enable Dummy Failure of monitor resource web. but failed."
    ));
    assert_eq!(cluster.status()["monitors"][0]["dummy_failure"], false);
    cluster.run("clpmonctrl", &["-n", "-m", "web"]);
    assert!(
        cluster
            .alerts()
            .contains("rm 185 An attempt was made to disable Dummy Failure")
    );
    cluster.stop();
}
