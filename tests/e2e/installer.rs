//! install_cluster.sh: scripted and through its menu on a pseudo-terminal; uninstall removes
//! exactly what install added.

use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::harness::*;

fn installer() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("install_cluster.sh")
}

/// Where the test's binaries are: the installer copies them instead of building.
fn built() -> PathBuf {
    bin("clppm").parent().unwrap().to_path_buf()
}

fn every_file(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                files.push(path.clone());
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn script(cluster: &Cluster, args: &[&str]) -> Run {
    let output = Command::new("bash")
        .arg(installer())
        .args(args)
        .env("CLP_ROOT", cluster.root())
        .env("CLP_INSTALL_FROM", built())
        .env("CLP_FORBID_OS_ACTIONS", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run { output }
}

#[test]
fn scripted_install_trial_and_uninstall() {
    let cluster = Cluster::unlicensed();
    cluster.write_config("[cluster]\nname = \"zabi\"\n");
    let before = every_file(cluster.root());
    let installed = script(&cluster, &["--yes", "install"]).success();
    assert!(
        installed.contains("[INFO]: The operation was successful"),
        "{installed}"
    );
    let bin = cluster.path("bin");
    for name in [
        "clppm",
        "clpcl",
        "clpstat",
        "clplcncs",
        "clp_ml",
        "SHA256SUMS",
    ] {
        assert!(bin.join(name).is_file(), "{name} not installed");
    }
    assert!(cluster.path("share/man/man1/clpstat.1").is_file());
    assert!(
        cluster
            .path("share/bash-completion/completions/clpstat")
            .is_file()
    );
    let again = script(&cluster, &["--yes", "install"]);
    assert!(again.failure(1).contains("already installed"));
    let trial = script(&cluster, &["--yes", "trial"]).success();
    assert!(trial.contains("----- XSS10 TRIAL -----"), "{trial}");
    assert!(
        trial.contains("Register the trial ALRT10 licenses. [Y/N]:(N) > y"),
        "{trial}"
    );
    assert!(
        script(&cluster, &["--yes", "verify"])
            .success()
            .contains("clppm: OK")
    );
    // The installed commands run.
    let run = Command::new(bin.join("clpcl"))
        .arg("-s")
        .env("CLP_ROOT", cluster.root())
        .env("CLP_FORBID_OS_ACTIONS", "1")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let verified = Command::new(bin.join("clp_mltool"))
        .arg("verify")
        .env("CLP_ROOT", cluster.root())
        .output()
        .unwrap();
    assert!(verified.status.success());
    let uninstalled = script(&cluster, &["--yes", "uninstall"]).success();
    assert!(
        uninstalled.contains("[INFO]: The operation was successful"),
        "{uninstalled}"
    );
    assert!(
        cluster.daemon_pid().is_none() || !alive(cluster.daemon_pid().unwrap()),
        "uninstall stops the services"
    );
    // What was there before is still there; what install added is gone; what clp wrote
    // while it ran (logs, store, licenses) stays.
    let after = every_file(cluster.root());
    for path in &before {
        assert!(after.contains(path), "uninstall removed {}", path.display());
    }
    for path in &after {
        let runtime = path.starts_with(cluster.path("var"))
            || path.starts_with(cluster.path("log"))
            || path.starts_with(cluster.path("run"))
            || path.starts_with(cluster.path("tmp"));
        assert!(
            before.contains(path)
                || runtime
                || *path == cluster.path("var")
                || *path == cluster.path("log")
                || *path == cluster.path("run"),
            "left behind: {}",
            path.display()
        );
    }
    assert!(!bin.exists());
    // The trials stay used: the record survives uninstall, and a reinstall cannot start
    // them again.
    let record = std::fs::read_to_string(cluster.path("var/license-trials")).unwrap();
    assert!(record.contains("XSS10 "), "{record}");
    script(&cluster, &["--yes", "install"]).success();
    let again = script(&cluster, &["--yes", "trial"]).success();
    assert!(!again.contains("----- XSS10 TRIAL -----"), "{again}");
    let refused = Command::new(bin.join("clplcncs"))
        .args(["--trial", "-P", "XSS10"])
        .env("CLP_ROOT", cluster.root())
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(255));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("already used"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

/// A terminal for the menu: everything the installer prints, and a way to answer.
struct Terminal {
    master: std::fs::File,
    screen: Arc<Mutex<String>>,
    child: std::process::Child,
}

impl Terminal {
    fn start(cluster: &Cluster) -> Terminal {
        let pty = nix::pty::openpty(None, None).unwrap();
        let slave: OwnedFd = pty.slave;
        let child = Command::new("bash")
            .arg(installer())
            .env("CLP_ROOT", cluster.root())
            .env("CLP_INSTALL_FROM", built())
            .env("CLP_FORBID_OS_ACTIONS", "1")
            .stdin(Stdio::from(slave.as_fd().try_clone_to_owned().unwrap()))
            .stdout(Stdio::from(slave.as_fd().try_clone_to_owned().unwrap()))
            .stderr(Stdio::from(slave))
            .spawn()
            .unwrap();
        let master = std::fs::File::from(pty.master);
        let screen = Arc::new(Mutex::new(String::new()));
        let mut reader = master.try_clone().unwrap();
        let sink = Arc::clone(&screen);
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(read) = reader.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buffer[..read]));
            }
        });
        Terminal {
            master,
            screen,
            child,
        }
    }

    /// Waits until the screen shows `text` after what was already consumed; returns it all.
    #[track_caller]
    fn expect(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen.lock().unwrap().clone();
            if let Some(at) = screen.find(text) {
                self.screen.lock().unwrap().drain(..at + text.len());
                return screen[..at + text.len()].to_string();
            }
            assert!(
                Instant::now() < deadline,
                "the installer never showed {text:?}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn answer(&mut self, line: &str) {
        self.master
            .write_all(format!("{line}\n").as_bytes())
            .unwrap();
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_menu_answered_on_a_terminal() {
    let cluster = Cluster::unlicensed();
    let mut terminal = Terminal::start(&cluster);
    let menu = terminal.expect("Select: (Q) > ");
    assert!(menu.contains(" 1. Install clp"), "{menu}");
    assert!(
        menu.contains(" 7. Read Me First! [Quick Installation Guide]"),
        "{menu}"
    );
    terminal.answer("1");
    terminal.expect(&format!(
        "Install clp {} into {}. [Y/N]:(N) > ",
        env!("CARGO_PKG_VERSION"),
        cluster.root().display()
    ));
    terminal.answer("y");
    terminal.expect("[INFO]: The operation was successful");
    terminal.expect("Register the trial XSS10 licenses. [Y/N]:(N) > ");
    terminal.answer("y");
    let listing = terminal.expect("Register the trial ISAG10 licenses. [Y/N]:(N) > ");
    assert!(listing.contains("Status..... valid"), "{listing}");
    // N is the default: an empty answer registers nothing.
    for next in ["DBAG10", "FSAG10", "ALRT10"] {
        terminal.answer("");
        terminal.expect(&format!("Register the trial {next} licenses. [Y/N]:(N) > "));
    }
    terminal.answer("");
    terminal.expect("Select: (Q) > ");
    terminal.answer("5");
    terminal.expect("Add-on the operation scripts. [Y/N]:(N) > ");
    terminal.answer("y");
    let added = terminal.expect("[INFO]: The operation was successful");
    assert!(
        added.contains(&format!("Add:{}/sbin/clp_ml", cluster.root().display())),
        "{added}"
    );
    terminal.expect("Select: (Q) > ");
    terminal.answer("3");
    terminal.expect("Uninstall clp from");
    terminal.answer("n");
    terminal.expect("Select: (Q) > ");
    terminal.answer("Q");
    let status = terminal.child.wait().unwrap();
    assert!(status.success());
    let licenses = cluster.run("clplcncs", &["-l"]).success();
    assert_eq!(
        licenses.matches("----- ").count(),
        1,
        "only XSS10 was answered yes: {licenses}"
    );
    assert!(cluster.path("sbin/clp_ml").exists());
    assert!(
        cluster.path("bin/clppm").is_file(),
        "answering n keeps the installation"
    );
}

#[test]
fn help_ends_with_the_usage_trial_says_it_succeeded_and_uninstall_leaves_no_empty_sbin() {
    let cluster = Cluster::unlicensed();
    let help = script(&cluster, &["--help"]).success();
    assert!(!help.contains("set -euo pipefail"), "{help}");
    assert!(help.starts_with("The clp installer"), "{help}");
    assert!(
        help.trim_end().ends_with("uninstall removes those only."),
        "{help}"
    );
    script(&cluster, &["--yes", "install"]).success();
    let trial = script(&cluster, &["--yes", "trial"]).success();
    assert!(
        trial
            .trim_end()
            .ends_with("[INFO]: The operation was successful"),
        "{trial}"
    );
    let added = script(&cluster, &["--yes", "addon"]).success();
    assert!(
        added.contains(&format!("Add:{}/sbin/clp_ml", cluster.root().display())),
        "{added}"
    );
    script(&cluster, &["--yes", "uninstall"]).success();
    assert!(
        !cluster.path("sbin").exists(),
        "uninstall left {}",
        cluster.path("sbin").display()
    );
    assert!(!cluster.path("bin").exists());
    // What uninstall keeps on purpose: the store (the licenses) and the trial record.
    assert!(cluster.path("var/license-trials").is_file());
}
