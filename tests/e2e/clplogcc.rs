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
    let run = cluster.run("clplogcc", &["-o", out_dir.to_str().unwrap()]);
    assert_eq!(run.success(), "Collect Log zabi : Success\n");
    assert_eq!(run.stderr(), "", "no progress bar without a terminal");
    let tarball = out_dir.join("zabi-log.tar.gz");
    let names = entries(&tarball);
    for expected in [
        "zabi-log/clp/log/alert.log",
        "zabi-log/clp/log/clppm.log",
        "zabi-log/clp/log/scripts/failover.exec.log",
        "zabi-log/clp/etc/clp.conf",
        "zabi-log/clp/etc/scripts/failover/exec/start.sh",
        "zabi-log/clp/clpstat.txt",
        "zabi-log/system/uname.txt",
        "zabi-log/system/ps.txt",
        "zabi-log/system/df.txt",
        "zabi-log/MANIFEST.txt",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "missing {expected} in {names:#?}"
        );
    }
    let status = extract(&tarball, "zabi-log/clp/clpstat.txt");
    assert!(
        status
            .lines()
            .any(|l| l.trim_start().starts_with("exec ") && l.ends_with(": Online")),
        "{status}"
    );
    let manifest = extract(&tarball, "zabi-log/MANIFEST.txt");
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
    assert_eq!(left, [std::ffi::OsString::from("zabi-log.tar.gz")]);
    cluster.stop();
    // Without the daemon it still collects, into $CLP_ROOT/tmp by default.
    cluster.run("clplogcc", &["-t", "type3"]).success();
    let minimal = entries(&cluster.path("tmp/zabi-log.tar.gz"));
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
    assert_eq!(run.stdout(), "Collect Log zabi : No Freespace\n");
    let stderr = run.failure(255);
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert!(stderr.contains("choose another folder with -o"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(&small).unwrap().count(),
        0,
        "a partial tarball was left"
    );
}
