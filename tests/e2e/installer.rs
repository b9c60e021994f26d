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
        trial.contains("Register the trial BASE10 licenses. [Y/N]:(N) > y"),
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
        // Installing copies and checksums every debug binary (~900 MiB): seconds on a quiet
        // machine, minutes on a loaded one (nextest's slow-timeout for these is 6 min).
        let deadline = Instant::now() + Duration::from_secs(180);
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
    for next in ["DBAG10", "FSAG10", "ALRT10", "BASE10"] {
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

/// `man` (man-db) with `pager` as the pager, in `path`.
fn man(args: &[&str], path: &str) -> Run {
    let output = Command::new("man")
        .args(args)
        .env("PATH", path)
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .env("MANWIDTH", "200")
        .env_remove("MANPATH")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run { output }
}

#[test]
fn man_finds_every_page_with_every_section_after_install() {
    if Command::new("man").arg("-w").arg("man").output().is_err() {
        eprintln!("man is not installed (.ci/setup.d/shells.sh): skipping");
        return;
    }
    let cluster = Cluster::unlicensed();
    script(&cluster, &["--yes", "install"]).success();
    let pages = cluster.path("share/man");
    for command in clp_bins::generate::commands() {
        let name = command.get_name();
        let page = man(&["-M", pages.to_str().unwrap(), name], "/usr/bin:/bin").success();
        for section in [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "OPTIONS",
            "EXIT STATUS",
            "ENVIRONMENT",
            "CLP_ROOT",
            "FILES",
            "EXAMPLES",
        ] {
            assert!(
                page.lines().any(|line| line.trim_start() == section
                    || line.trim_start().starts_with(&format!("{section} "))
                    || line.trim() == section),
                "man {name} has no {section}:\n{page}"
            );
        }
        // Every code the page lists is a code of the original's table.
        assert!(page.contains("       0      success"), "{page}");
    }
    // With $CLP_ROOT/bin on PATH, man finds the pages beside it, without MANPATH.
    let path = format!("{}:/usr/bin:/bin", cluster.path("bin").display());
    let found = man(&["-w", "clpstat"], &path).success();
    assert_eq!(
        found.trim(),
        cluster
            .path("share/man/man1/clpstat.1")
            .display()
            .to_string()
    );
}

/// The installer as root into /opt/clp, with a stand-in for /usr/local and /etc/systemd:
/// the same script, its system-wide branch taken, its paths moved into the test's folder.
#[test]
fn a_system_wide_install_links_man_pages_and_completions_where_man_and_the_shells_look() {
    let cluster = Cluster::unlicensed();
    let local = cluster.path("usr-local");
    let units = cluster.path("systemd");
    for dir in ["sbin", "share/man"] {
        std::fs::create_dir_all(local.join(dir)).unwrap();
    }
    std::fs::create_dir_all(&units).unwrap();
    // fish is installed (its /etc/fish exists): its completions go where it looks.
    let fish = cluster.path("etc-fish");
    std::fs::create_dir_all(&fish).unwrap();
    let text = std::fs::read_to_string(installer())
        .unwrap()
        .replace("/usr/local", local.to_str().unwrap())
        .replace("/etc/systemd/system", units.to_str().unwrap())
        .replace("/etc/fish", fish.to_str().unwrap())
        .replace(
            "system_wide() { [ \"$(id -u)\" = 0 ] && [ \"$CLP_ROOT\" = /opt/clp ]; }",
            "system_wide() { true; }",
        );
    assert!(
        text.contains("system_wide() { true; }"),
        "system_wide() changed"
    );
    let copy = cluster.path("install_cluster.sh");
    std::fs::write(&copy, text).unwrap();
    // The copy finds completions/ and README.md beside itself.
    std::os::unix::fs::symlink(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("completions"),
        cluster.path("completions"),
    )
    .unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"),
        cluster.path("README.md"),
    )
    .unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"),
        cluster.path("Cargo.toml"),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let output = Command::new("bash")
            .arg(&copy)
            .args(args)
            .env("CLP_ROOT", cluster.path("opt"))
            .env("CLP_INSTALL_FROM", built())
            .env("CLP_FORBID_OS_ACTIONS", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        Run { output }
    };
    run(&["--yes", "install"]).success();
    for (dir, file) in [
        ("share/man/man1", "clpstat.1"),
        ("share/bash-completion/completions", "clpgrp"),
        ("share/zsh/site-functions", "_clpgrp"),
    ] {
        let link = local.join(dir).join(file);
        assert!(link.is_file(), "{} is missing", link.display());
    }
    assert!(fish.join("completions/clpgrp.fish").is_file());
    if Command::new("man").arg("-w").arg("man").output().is_ok() {
        // The commands' folder on PATH is enough for man, as /usr/local/sbin is.
        let path = format!("{}:/usr/bin:/bin", local.join("sbin").display());
        // (man names the file the link points to.)
        let found = man(&["-w", "clpstat"], &path).success();
        assert!(
            found.trim().ends_with("/share/man/man1/clpstat.1"),
            "{found}"
        );
    }
    run(&["--yes", "uninstall"]).success();
    for dir in [
        local.join("share/man/man1"),
        local.join("share/bash-completion/completions"),
        fish.join("completions"),
    ] {
        let left: Vec<_> = std::fs::read_dir(dir)
            .map(|entries| entries.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "uninstall left {left:?}");
    }
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
