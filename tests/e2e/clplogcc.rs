//! clplogcc: the tarball's content, unreadable files in the manifest, a full disk.

use std::process::Command;

use crate::harness::*;

fn entries(tarball: &std::path::Path) -> Vec<String> {
    let output = Command::new("tar")
        .arg("tzf")
        .arg(tarball)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn extract(tarball: &std::path::Path, member: &str) -> String {
    let output = Command::new("tar")
        .arg("xzOf")
        .arg(tarball)
        .arg(member)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_tarball_holds_logs_configuration_status_and_system_information() {
    let cluster = pidw_cluster(3, "none", "");
    std::os::unix::fs::symlink("/nonexistent/file", cluster.path("etc/dangling")).unwrap();
    std::fs::write(cluster.path("etc/smtp.password"), "hunter2").unwrap();
    cluster.start();
    wait_until("exec online", WAIT, || {
        cluster.resource_status("exec") == "Online"
    });
    let out_dir = cluster.path("collected");
    std::fs::create_dir(&out_dir).unwrap();
    let run = cluster.run("clplogcc", &["-o", out_dir.to_str().unwrap()]);
    assert_eq!(run.success(), format!("Collect Log {} : Success\n", host()));
    assert_eq!(run.stderr(), "", "no progress bar without a terminal");
    let tarball = out_dir.join(format!("{}-log.tar.gz", host()));
    let names = entries(&tarball);
    for expected in [
        "HOST-log/clp/log/alert.log",
        "HOST-log/clp/log/clppm.log",
        "HOST-log/clp/log/scripts/failover.exec.log",
        "HOST-log/clp/etc/clp.conf",
        "HOST-log/clp/etc/scripts/failover/exec/start.sh",
        "HOST-log/clp/clpstat.txt",
        "HOST-log/system/uname.txt",
        "HOST-log/system/ps.txt",
        "HOST-log/system/df.txt",
        "HOST-log/MANIFEST.txt",
    ] {
        assert!(
            names
                .iter()
                .any(|n| *n == expected.replace("HOST", &host())),
            "missing {expected} in {names:#?}"
        );
    }
    let status = extract(&tarball, &format!("{}-log/clp/clpstat.txt", host()));
    assert!(
        status
            .lines()
            .any(|l| l.trim_start().starts_with("exec ") && l.ends_with(": Online")),
        "{status}"
    );
    let manifest = extract(&tarball, &format!("{}-log/MANIFEST.txt", host()));
    assert!(
        manifest.contains("skipped clp/etc/dangling: /"),
        "{manifest}"
    );
    // No temporary file is left beside the tarball.
    let left: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        left,
        [std::ffi::OsString::from(format!("{}-log.tar.gz", host()))]
    );
    cluster.stop();
    // Without the daemon it still collects, into $CLP_ROOT/tmp by default.
    cluster.run("clplogcc", &["-t", "type3"]).success();
    let minimal = entries(&cluster.path(&format!("tmp/{}-log.tar.gz", host())));
    assert!(
        !minimal.iter().any(|n| n.contains("system/")),
        "type3 has no system information"
    );
    assert!(
        cluster
            .run("clplogcc", &["-t", "type9"])
            .failure(2)
            .contains("type \"type9\"")
    );
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_tarball_holds_no_secret_and_only_its_owner_may_read_it() {
    let cluster = Cluster::unlicensed();
    cluster.write_config(
        r#"[cluster]
name = "zabi"

[[monitor]]
name = "web"
type = "httpw"
[monitor.parameters]
username = "webuser"
password = "S3CRET-httpw"

[[monitor]]
name = "db"
type = "mysqlw"
[monitor.parameters]
database = "app"
username = "dbuser"
password = "S3CRET-mysqlw"
"#,
    );
    let secrets = [
        ("etc/webmgr.key", "S3CRET-tls-private-key"),
        ("etc/smtp.secret", "S3CRET-smtp"),
        ("etc/issuer.key", "S3CRET-issuer"),
        ("etc/other.secret", "S3CRET-other"),
        ("etc/notes.bin", "S3CRET-not-on-the-allow-list"),
    ];
    for (file, secret) in secrets {
        std::fs::write(cluster.path(file), secret).unwrap();
    }
    std::fs::write(
        cluster.path("etc/ftp.toml"),
        "host = \"h\"\nuser = \"u\"\npassword = \"S3CRET-ftp\"\n",
    )
    .unwrap();
    std::fs::write(
        cluster.path("etc/clp.conf.xml"),
        "<root>\n  <passwd>S3CRET-xml</passwd>\n</root>\n",
    )
    .unwrap();
    cluster.script(
        "failover",
        "exec",
        "start.sh",
        "#!/bin/sh\nexport DB_PASSWORD=S3CRET-script\nexit 0\n",
    );
    std::fs::create_dir_all(cluster.path("etc/generations/1")).unwrap();
    std::fs::copy(
        cluster.path("etc/clp.conf"),
        cluster.path("etc/generations/1/clp.conf"),
    )
    .unwrap();
    let out_dir = cluster.path("collected");
    std::fs::create_dir(&out_dir).unwrap();
    let run = cluster.run(
        "clplogcc",
        &["-t", "type3", "-o", out_dir.to_str().unwrap()],
    );
    assert_eq!(
        run.success(),
        format!("Collect Log {} : Success\n", host()),
        "{}",
        run.stderr()
    );
    let tarball = out_dir.join(format!("{}-log.tar.gz", host()));
    assert_eq!(mode(&tarball), 0o600);
    let names = entries(&tarball);
    for collected in [
        "HOST-log/clp/etc/clp.conf",
        "HOST-log/clp/etc/ftp.toml",
        "HOST-log/clp/etc/generations/1/clp.conf",
        "HOST-log/clp/etc/scripts/failover/exec/start.sh",
    ] {
        assert!(
            names
                .iter()
                .any(|n| *n == collected.replace("HOST", &host())),
            "{collected}: {names:#?}"
        );
    }
    for never in ["webmgr.key", "smtp.secret", "issuer.key", "notes.bin"] {
        assert!(
            !names.iter().any(|n| n.ends_with(never)),
            "{never}: {names:#?}"
        );
    }
    let unpacked = cluster.path("unpacked");
    std::fs::create_dir(&unpacked).unwrap();
    let untar = Command::new("tar")
        .arg("xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(&unpacked)
        .status()
        .unwrap();
    assert!(untar.success());
    let grep = Command::new("grep")
        .args(["-r", "-l", "S3CRET"])
        .arg(&unpacked)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&grep.stdout),
        "",
        "a secret left the machine"
    );
    let config = extract(&tarball, &format!("{}-log/clp/etc/clp.conf", host()));
    assert!(config.contains("password = \"********\""), "{config}");
    assert!(config.contains("username = \"webuser\""), "{config}");
    let manifest = extract(&tarball, &format!("{}-log/MANIFEST.txt", host()));
    assert!(
        manifest.contains("skipped clp/etc/webmgr.key: a secret file"),
        "{manifest}"
    );
    assert!(
        manifest.contains("skipped clp/etc/notes.bin: not on the allow-list"),
        "{manifest}"
    );
    assert!(manifest.contains("masked  clp/etc/clp.conf"), "{manifest}");
    // The default folder is clp's own, for its owner only.
    cluster.run("clplogcc", &["-t", "type3"]).success();
    assert_eq!(mode(&cluster.path("tmp")), 0o700);
    assert_eq!(
        mode(&cluster.path(&format!("tmp/{}-log.tar.gz", host()))),
        0o600
    );
}

#[test]
fn an_output_folder_that_does_not_exist_is_refused_not_made() {
    let cluster = Cluster::unlicensed();
    let missing = cluster.path("no/such/folder");
    let stderr = cluster
        .run("clplogcc", &["-o", missing.to_str().unwrap()])
        .failure(2);
    assert!(
        stderr.contains(&format!(
            "the output folder {} does not exist",
            missing.display()
        )),
        "{stderr}"
    );
    assert!(!cluster.path("no").exists());
}

/// Unmounts on drop.
struct Mount(std::path::PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_leaves_no_partial_tarball() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: mounting a small tmpfs needs root");
        return;
    }
    let cluster = pidw_cluster(3, "none", "");
    // Enough log content that the tarball cannot fit in 16 KiB.
    let noise: String = (0..20_000)
        .map(|i| format!("{i:x}{}", i * 7919 % 104_729))
        .collect();
    std::fs::create_dir_all(cluster.path("log")).unwrap();
    std::fs::write(cluster.path("log/noise.log"), noise).unwrap();
    let small = cluster.path("small");
    std::fs::create_dir_all(&small).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=16k", "tmpfs"])
        .arg(&small)
        .status()
        .unwrap();
    if !mounted.success() {
        eprintln!("skipped: tmpfs cannot be mounted here");
        return;
    }
    let _mount = Mount(small.clone());
    let run = cluster.run("clplogcc", &["-t", "type3", "-o", small.to_str().unwrap()]);
    assert_eq!(
        run.stdout(),
        format!("Collect Log {} : No Freespace\n", host())
    );
    let stderr = run.failure(255);
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert!(stderr.contains("choose another folder with -o"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(&small).unwrap().count(),
        0,
        "a partial tarball was left"
    );
}

/// The one `*-log.tar.gz` in `dir`, and the folder its entries are under (`<server>-log`).
fn the_tarball(dir: &std::path::Path) -> (std::path::PathBuf, String) {
    let tarballs: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with("-log.tar.gz"))
        .collect();
    assert_eq!(tarballs.len(), 1, "{tarballs:?}");
    let name = tarballs[0].file_name().unwrap().to_str().unwrap();
    let prefix = name.trim_end_matches(".tar.gz").to_string();
    (tarballs[0].clone(), prefix)
}

#[test]
fn the_tarball_holds_the_licenses_the_configuration_in_force_and_the_pushed_scripts() {
    let cluster = Cluster::unlicensed();
    cluster
        .run("clplcncs", &["--trial", "-P", "XSS10"])
        .success();
    // No clp.conf was ever written: the defaults in force are what is collected.
    assert!(!cluster.path("etc/clp.conf").exists());
    let first = cluster.path("first");
    std::fs::create_dir(&first).unwrap();
    cluster
        .run("clplogcc", &["-t", "type3", "-o", first.to_str().unwrap()])
        .success();
    let (tarball, prefix) = the_tarball(&first);
    let licenses = extract(&tarball, &format!("{prefix}/clp/clplcncs.txt"));
    assert!(licenses.contains("----- XSS10 TRIAL -----"), "{licenses}");
    assert!(licenses.contains("Status..... valid"), "{licenses}");
    let effective = extract(&tarball, &format!("{prefix}/clp/effective-config.toml"));
    assert!(
        effective.contains("the default configuration"),
        "{effective}"
    );
    let parsed: toml::Table = effective.parse().unwrap();
    assert_eq!(parsed["alert"]["max_records"].as_integer(), Some(10_000));
    assert_eq!(parsed["monitors"][0]["name"].as_str(), Some("userw"));
    assert_eq!(parsed["monitors"][0]["interval"].as_integer(), Some(3));

    // A configuration pushed with clpcfctrl: etc/scripts is a link through etc/current, and
    // the scripts it leads to are collected under clp/etc/scripts, secrets masked.
    let folder = tempfile::Builder::new()
        .prefix("clp-push-")
        .tempdir()
        .unwrap();
    std::fs::write(
        folder.path().join("clp.conf"),
        r#"[cluster]
name = "zabi"

[[group]]
name = "failover"

[[group.resource]]
name = "exec"

[[monitor]]
name = "web"
type = "httpw"
[monitor.parameters]
servername = "127.0.0.1"
username = "webuser"
password = "S3CRET-httpw"
"#,
    )
    .unwrap();
    let scripts = folder.path().join("scripts/failover/exec");
    std::fs::create_dir_all(&scripts).unwrap();
    std::fs::write(
        scripts.join("start.sh"),
        "#!/bin/sh\nDB_PASSWORD=S3CRET-script\necho started\n",
    )
    .unwrap();
    std::fs::write(scripts.join("stop.sh"), "#!/bin/sh\necho stopped\n").unwrap();
    cluster
        .run(
            "clpcfctrl",
            &["--push", "-x", folder.path().to_str().unwrap()],
        )
        .success();
    assert!(
        std::fs::symlink_metadata(cluster.path("etc/scripts"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let second = cluster.path("second");
    std::fs::create_dir(&second).unwrap();
    cluster
        .run("clplogcc", &["-t", "type3", "-o", second.to_str().unwrap()])
        .success();
    let (tarball, prefix) = the_tarball(&second);
    let start = extract(
        &tarball,
        &format!("{prefix}/clp/etc/scripts/failover/exec/start.sh"),
    );
    assert_eq!(
        start, "#!/bin/sh\nDB_PASSWORD=\"********\"\necho started\n",
        "the script's content, its secret masked"
    );
    let stop = extract(
        &tarball,
        &format!("{prefix}/clp/etc/scripts/failover/exec/stop.sh"),
    );
    assert_eq!(stop, "#!/bin/sh\necho stopped\n");
    let effective = extract(&tarball, &format!("{prefix}/clp/effective-config.toml"));
    assert!(!effective.contains("S3CRET"), "{effective}");
    assert!(effective.contains("password = \"********\""), "{effective}");
    assert!(effective.contains("username = \"webuser\""), "{effective}");
    assert!(effective.contains("name = \"failover\""), "{effective}");
}
