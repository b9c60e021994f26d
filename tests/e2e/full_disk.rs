//! The alert log on a full disk: no record lost silently, none cut or glued onto another,
//! writing resumes when space returns; a read-only log or store folder stops the start.
//! Needs mount(8) (root): skipped with a reason otherwise.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::*;

/// A mount over a folder of the test's root, undone when dropped.
struct Mounted {
    target: PathBuf,
}

impl Mounted {
    /// Runs `mount args... target`; None (after printing why) when mounting is not allowed.
    fn new(args: &[&str], target: &Path) -> Option<Mounted> {
        std::fs::create_dir_all(target).unwrap();
        let output = Command::new("mount").args(args).arg(target).output();
        match output {
            Ok(output) if output.status.success() => Some(Mounted {
                target: target.to_path_buf(),
            }),
            Ok(output) => {
                eprintln!(
                    "skipped: cannot mount on {}: {}",
                    target.display(),
                    String::from_utf8_lossy(&output.stderr).trim()
                );
                None
            }
            Err(error) => {
                eprintln!("skipped: cannot run mount: {error}");
                None
            }
        }
    }

    /// The folder bound onto itself, read-only (its content stays visible).
    fn read_only(target: &Path) -> Option<Mounted> {
        let mounted = Mounted::new(&["--bind", &target.display().to_string()], target)?;
        let remount = Command::new("mount")
            .args(["-o", "remount,ro,bind"])
            .arg(target)
            .output()
            .unwrap();
        if !remount.status.success() {
            eprintln!(
                "skipped: cannot make {} read-only: {}",
                target.display(),
                String::from_utf8_lossy(&remount.stderr).trim()
            );
            return None;
        }
        Some(mounted)
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.target).output();
    }
}

/// Whether `line` looks like one whole alert record (and not two glued together): it starts
/// with a record's time and level, and no other record's time and level follow inside.
fn whole_record(line: &str) -> bool {
    let record_start = |text: &str| {
        let bytes = text.as_bytes();
        bytes.len() > 32
            && bytes[4] == b'/'
            && bytes[7] == b'/'
            && bytes[10] == b' '
            && bytes[13] == b':'
            && bytes[..4].iter().all(u8::is_ascii_digit)
            && ["Info ", "Warning ", "Error "]
                .iter()
                .any(|level| text[24..].starts_with(level))
    };
    let glued = line
        .match_indices("20")
        .skip(1)
        .any(|(at, _)| record_start(&line[at..]));
    record_start(line) && !glued
}

fn log(cluster: &Cluster, message: &str) {
    cluster
        .run("clplogcmd", &["-m", message, "-l", "ERR"])
        .success();
}

#[test]
fn a_full_disk_loses_no_record_silently_and_cuts_none() {
    let cluster = Cluster::new();
    let Some(_disk) = Mounted::new(
        &["-t", "tmpfs", "-o", "size=256k", "tmpfs"],
        &cluster.path("log"),
    ) else {
        return;
    };
    cluster.start();
    // Fill the disk to the last byte.
    let filler_path = cluster.path("log/filler");
    let mut filler = std::fs::File::create(&filler_path).unwrap();
    let block = vec![b'f'; 1000];
    while filler.write(&block).is_ok_and(|written| written > 0) {}
    drop(filler);
    // Long records: one will straddle the end of the space left in alert.log's last page.
    let body = "x".repeat(480);
    for index in 0..20 {
        log(&cluster, &format!("during {index:02} {body}"));
    }
    let status = cluster.run("clpstat", &[]).success();
    assert!(
        status.contains("<alert log>") && status.contains("cannot write"),
        "clpstat shows the failure:\n{status}"
    );
    let messages = cluster.run("clp_mltool", &["messages"]).success();
    assert!(
        messages.contains("Cannot write the alert log"),
        "the failure is an alert in the store:\n{messages}"
    );
    let daemon_log = cluster.run("clpstat", &["--json"]).success();
    assert!(daemon_log.contains("alert_log_problem"), "{daemon_log}");

    // Space returns: writing resumes on a fresh line, and says how much was lost.
    std::fs::remove_file(&filler_path).unwrap();
    for index in 0..3 {
        log(&cluster, &format!("after {index:02} {body}"));
    }
    let text = cluster.alerts();
    for line in text.lines() {
        assert!(
            whole_record(line),
            "a cut or glued record: {line:?}\n{text}"
        );
        if let Some(at) = line.find("during ").or_else(|| line.find("after ")) {
            assert!(line[at..].ends_with(&body), "a cut record: {line:?}");
        }
    }
    assert!(text.ends_with('\n'));
    assert_eq!(cluster.count_alerts(" clp 2 "), 1, "{text}");
    for index in 0..3 {
        assert_eq!(
            cluster.count_alerts(&format!("after {index:02} ")),
            1,
            "{text}"
        );
    }
    let status = cluster.run("clpstat", &[]).success();
    assert!(!status.contains("<alert log>"), "{status}");
    cluster.stop();
}

#[test]
fn a_read_only_log_or_store_folder_stops_the_start() {
    for folder in ["log", "var/store"] {
        let cluster = Cluster::new();
        // Both exist with content before they are made read-only.
        cluster.start();
        cluster.stop();
        let Some(_read_only) = Mounted::read_only(&cluster.path(folder)) else {
            return;
        };
        let stderr = cluster.run("clpcl", &["-s"]).failure(3);
        assert!(
            stderr.contains(&format!(
                "cannot write to {}",
                cluster.path(folder).display()
            )),
            "{stderr}"
        );
        assert!(stderr.contains("make it writable"), "{stderr}");
        assert!(cluster.daemon_pid().is_none_or(|pid| !alive(pid)));
    }
}
