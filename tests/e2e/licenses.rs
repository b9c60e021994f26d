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

/// `clplcncs -i FILE`'s refusal of a forged line: exit 255, naming the file.
fn refused(cluster: &Cluster, name: &str, line: &str) -> String {
    let file = cluster.path(name);
    std::fs::write(&file, format!("{line}\n")).unwrap();
    let stderr = cluster
        .run("clplcncs", &["-i", file.to_str().unwrap()])
        .failure(255);
    assert!(
        stderr.contains(&format!("{}: ", file.display())),
        "the refusal names the file: {stderr}"
    );
    stderr
}

#[test]
fn forged_key_files_are_refused_and_say_why() {
    let cluster = Cluster::unlicensed();
    let private = issuer(&cluster);
    // The issue's forgeries: an unsigned trial, with a big count.
    let stderr = refused(
        &cluster,
        "f.key",
        "trial,,XSS10,1,20260101,29991231,attacker,",
    );
    assert!(stderr.contains("is not signed"), "{stderr}");
    assert!(stderr.contains("clplcncs --trial -P XSS10"), "{stderr}");
    let stderr = refused(
        &cluster,
        "count.key",
        "trial,,XSS10,9999,20260101,29991231,attacker,",
    );
    assert!(stderr.contains("is not signed"), "{stderr}");
    // A signed trial whose key was emptied and whose end was moved.
    let signed = issue(
        &cluster,
        &private,
        &[
            "-P", "XSS10", "--kind", "trial", "--start", "20260101", "--end", "20260301", "--user",
            "t",
        ],
    );
    let line = std::fs::read_to_string(&signed).unwrap();
    let key = line.split(',').nth(1).unwrap().to_string();
    let emptied = line.replace(&key, "").replace("20260301", "29991231");
    let stderr = refused(&cluster, "emptied.key", emptied.trim());
    assert!(stderr.contains("is not signed"), "{stderr}");
    let moved = line.replace("20260301", "29991231");
    let stderr = refused(&cluster, "moved.key", moved.trim());
    assert!(
        stderr.contains("does not verify with any trusted issuer"),
        "{stderr}"
    );
    let stderr = refused(&cluster, "short.key", line.replace(&key, "deadbeef").trim());
    assert!(stderr.contains("is not a signature"), "{stderr}");
    // Nothing was registered; the signed original registers.
    assert!(statuses(&cluster).is_empty());
    assert!(
        cluster
            .run("clpcl", &["-s"])
            .failure(3)
            .contains("not registered")
    );
    cluster
        .run("clplcncs", &["-i", signed.to_str().unwrap()])
        .success();
    // With the daemon running, a forged license sent straight to the socket is refused too.
    let valid = issue(
        &cluster,
        &private,
        &[
            "-P", "XSS10", "--kind", "fixed", "--start", "20200101", "--end", "20991231", "--user",
            "ok",
        ],
    );
    cluster
        .run("clplcncs", &["-i", valid.to_str().unwrap()])
        .success();
    cluster.start();
    let forged = refused(
        &cluster,
        "daemon.key",
        "trial,,ISAG10,1,20260101,29991231,attacker,",
    );
    assert!(forged.contains("is not signed"), "{forged}");
    use std::io::{BufRead, BufReader, Write};
    let mut stream =
        std::os::unix::net::UnixStream::connect(cluster.path("run/clppm.sock")).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut exchange = |line: &str| {
        stream.write_all(format!("{line}\n").as_bytes()).unwrap();
        let mut answer = String::new();
        reader.read_line(&mut answer).unwrap();
        answer
    };
    exchange(r#"{"type":"hello","protocol":1,"client":"test"}"#);
    let answer = exchange(
        r#"{"type":"register_license","license":{"serial":"TRIAL-ISAG10","kind":"trial","product":"ISAG10","count":1,"start":"2026-01-01","end":"2999-12-31","user":"a","key":""}}"#,
    );
    assert!(answer.contains("is not signed"), "{answer}");
    let products: Vec<String> = statuses(&cluster);
    assert_eq!(
        products.len(),
        2,
        "only the two signed licenses, no forgery"
    );
    cluster.stop();
}

#[test]
fn the_originals_product_ids_name_the_same_products() {
    let cluster = Cluster::unlicensed();
    // The original's id starts clp's trial of the same product, once.
    let out = cluster
        .run("clplcncs", &["--trial", "-P", "XSSS40"])
        .success();
    assert!(out.starts_with("----- XSS10 TRIAL -----\n"), "{out}");
    assert!(
        cluster
            .run("clplcncs", &["--trial", "-P", "XSS10"])
            .failure(255)
            .contains("the trial of XSS10 was already used")
    );
    cluster
        .run("clplcnsc", &["--trial", "-p", "isag40"])
        .success();
    // The listing's -P filter takes either id.
    let only = cluster.run("clplcncs", &["-l", "-P", "XSSS40"]).success();
    assert!(only.starts_with("----- XSS10 TRIAL -----\n"), "{only}");
    assert!(!only.contains("ISAG10"), "{only}");
    let only = cluster.run("clplcncs", &["-l", "-P", "ISAG10"]).success();
    assert!(only.starts_with("----- ISAG10 TRIAL -----\n"), "{only}");
    assert_eq!(
        cluster.run("clplcncs", &["-l", "-P", "DBAG40"]).success(),
        ""
    );
    // A product of the original that clp does not have is named as such.
    let missing = cluster
        .run("clplcncs", &["--trial", "-P", "JRAG40"])
        .failure(2);
    let settings = snapshot_settings(&cluster);
    settings.bind(|| insta::assert_snapshot!("clplcncs_original_only_product", missing));
    // A key issued for the original's id is clp's product, and -I takes either id.
    let private = issuer(&cluster);
    let key = issue(&cluster, &private, &["-P", "DBAG40", "--user", "migrated"]);
    let line = std::fs::read_to_string(&key).unwrap();
    assert!(line.contains(",DBAG10,"), "{line}");
    let out = cluster
        .run("clplcncs", &["-I", key.to_str().unwrap(), "-P", "DBAG40"])
        .success();
    assert!(out.starts_with("----- DBAG10 -----\n"), "{out}");
}

#[test]
fn an_original_key_file_is_refused_saying_what_it_is() {
    let cluster = Cluster::unlicensed();
    let file = cluster.path("XSSS40-trial.key");
    std::fs::write(
        &file,
        "trial,7A3B9C0D1E2F3A4B,XSSS40,1,20210101,20210331,\n",
    )
    .unwrap();
    for args in [
        vec!["-i", file.to_str().unwrap()],
        vec!["-I", file.to_str().unwrap(), "-P", "XSSS40"],
    ] {
        let stderr = cluster.run("clplcncs", &args).failure(2);
        assert!(!stderr.contains("fields"), "{stderr}");
        let settings = snapshot_settings(&cluster);
        settings.bind(|| insta::assert_snapshot!("clplcncs_original_key_file", stderr));
    }
    // clp's own line with an empty user is refused for that, not as six fields.
    let empty_user = cluster.path("empty-user.key");
    std::fs::write(&empty_user, "trial,,XSS10,1,20260101,20260301,,\n").unwrap();
    let stderr = cluster
        .run("clplcncs", &["-i", empty_user.to_str().unwrap()])
        .failure(2);
    assert!(stderr.contains("the user name is empty"), "{stderr}");
    assert!(statuses(&cluster).is_empty());
}

#[test]
fn a_cluster_of_two_servers_needs_the_ha_base_license_not_the_single_server_one() {
    let cluster = Cluster::unlicensed();
    cluster
        .run("clplcncs", &["--trial", "-P", "XSS10"])
        .success();
    // Two servers, this host first; etcd is never reached: the license check comes first.
    let this = clp_core::config::host_name();
    cluster.write_config(&format!(
        "[cluster]\nname = \"ha\"\n\n[[server]]\nname = \"{this}\"\n\n[[server]]\nname = \"other\"\n\n[etcd]\nendpoints = [\"http://127.0.0.1:9\"]\n"
    ));
    let stderr = cluster.run("clpcl", &["-s"]).failure(3);
    assert!(
        stderr.contains("The license is not registered. (Product name:BASE10)"),
        "{stderr}"
    );
    assert!(stderr.contains("clplcncs --trial -P BASE10"), "{stderr}");
    assert_eq!(cluster.processes(), Vec::<u32>::new());
    // The original's id of the same product registers it.
    let out = cluster
        .run("clplcncs", &["--trial", "-P", "BASE40"])
        .success();
    assert!(
        out.starts_with(
            "----- BASE10 TRIAL -----\n< Cluster CPU License CLUSTERPRO X 1.0 for Linux <TRIAL> >\n"
        ),
        "{out}"
    );
}
