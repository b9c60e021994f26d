//! The test harness: a [`Cluster`] is a temporary `CLP_ROOT` with a configuration and
//! scripts, driven through the real binaries. Dropping it kills every process that carries
//! its root in its environment (the daemon and every script it started), so a failing test
//! leaves nothing behind.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Makes the process `command` starts die (SIGKILL) with the thread that starts it: when a
/// test is killed (nextest's timeout) its daemons do not outlive it. The setting survives the
/// `exec`s of `ip netns exec`, `unshare` and `sh -c exec`; start such processes from the
/// test's own thread, not from a thread that ends before them.
pub fn die_with_test(command: &mut std::process::Command) -> &mut std::process::Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and touches only the child being set up.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

/// The binary of a clp command.
pub fn bin(name: &str) -> PathBuf {
    let path = match name {
        "clppm" => env!("CARGO_BIN_EXE_clppm"),
        "clpcl" => env!("CARGO_BIN_EXE_clpcl"),
        "clpstat" => env!("CARGO_BIN_EXE_clpstat"),
        "clpgrp" => env!("CARGO_BIN_EXE_clpgrp"),
        "clprsc" => env!("CARGO_BIN_EXE_clprsc"),
        "clpmonctrl" => env!("CARGO_BIN_EXE_clpmonctrl"),
        "clplogcmd" => env!("CARGO_BIN_EXE_clplogcmd"),
        "clpdown" => env!("CARGO_BIN_EXE_clpdown"),
        "clpstdn" => env!("CARGO_BIN_EXE_clpstdn"),
        "clplogcc" => env!("CARGO_BIN_EXE_clplogcc"),
        "clplcncs" => env!("CARGO_BIN_EXE_clplcncs"),
        "clplcnsc" => env!("CARGO_BIN_EXE_clplcnsc"),
        "clplcncs-issue" => env!("CARGO_BIN_EXE_clplcncs-issue"),
        "clp_ml" => env!("CARGO_BIN_EXE_clp_ml"),
        "clp_mltool" => env!("CARGO_BIN_EXE_clp_mltool"),
        "clpwebmgr" => env!("CARGO_BIN_EXE_clpwebmgr"),
        "clp_mlftp" => env!("CARGO_BIN_EXE_clp_mlftp"),
        "clpcfctrl" => env!("CARGO_BIN_EXE_clpcfctrl"),
        "clpperfc" => env!("CARGO_BIN_EXE_clpperfc"),
        "clphealthchk" => env!("CARGO_BIN_EXE_clphealthchk"),
        "clpcfset" => env!("CARGO_BIN_EXE_clpcfset"),
        "clpcfget" => env!("CARGO_BIN_EXE_clpcfget"),
        other => panic!("no binary {other}"),
    };
    PathBuf::from(path)
}

/// A temporary installation root.
pub struct Cluster {
    root: tempfile::TempDir,
}

/// A command's result, with helpers that print everything on mismatch.
pub struct Run {
    /// The raw output.
    pub output: Output,
}

impl Run {
    /// Stdout as text.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    /// Stderr as text.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// The exit code.
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }

    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn success(&self) -> String {
        assert!(
            self.output.status.success(),
            "expected success, got {:?}\nstdout:\n{}\nstderr:\n{}",
            self.output.status,
            self.stdout(),
            self.stderr()
        );
        self.stdout()
    }

    /// Asserts failure with `code` and returns stderr.
    #[track_caller]
    pub fn failure(&self, code: i32) -> String {
        assert_eq!(
            self.code(),
            code,
            "expected exit code {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self.stderr()
    }
}

impl Cluster {
    /// An empty root (no configuration: the default one applies) with the trial licenses of
    /// every product registered, as `install_cluster.sh --yes trial` does.
    pub fn new() -> Cluster {
        let cluster = Cluster::unlicensed();
        for product in clp_core::license::PRODUCTS {
            cluster
                .run("clplcncs", &["--trial", "-P", product.id])
                .success();
        }
        cluster
    }

    /// An empty root with no license registered.
    pub fn unlicensed() -> Cluster {
        let root = tempfile::Builder::new()
            .prefix("clp-test-")
            .tempdir()
            .expect("a temporary root");
        std::fs::create_dir_all(root.path().join("etc/scripts")).expect("etc/scripts");
        Cluster { root }
    }

    /// A root with `clp.conf`.
    pub fn with_config(config: &str) -> Cluster {
        let cluster = Cluster::new();
        cluster.write_config(config);
        cluster
    }

    /// The root.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// A file under the root.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.root().join(relative)
    }

    /// Writes `etc/clp.conf`.
    pub fn write_config(&self, config: &str) {
        std::fs::write(self.path("etc/clp.conf"), config).expect("clp.conf");
    }

    /// Writes an executable script `etc/scripts/<group>/<resource>/<name>`.
    pub fn script(&self, group: &str, resource: &str, name: &str, body: &str) -> PathBuf {
        let dir = self.path(&format!("etc/scripts/{group}/{resource}"));
        std::fs::create_dir_all(&dir).expect("script dir");
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }

    /// A command with this root and the OS-action lock.
    pub fn command(&self, name: &str) -> Command {
        let mut command = Command::new(bin(name));
        command
            .env("CLP_ROOT", self.root())
            .env("CLP_FORBID_OS_ACTIONS", "1")
            .env_remove("CLP_LOG");
        command
    }

    /// Runs a command to its end.
    pub fn run(&self, name: &str, args: &[&str]) -> Run {
        let output = self
            .command(name)
            .args(args)
            .output()
            .expect("run a command");
        Run { output }
    }

    /// `clpcl -s`, asserted to succeed.
    pub fn start(&self) {
        self.run("clpcl", &["-s"]).success();
    }

    /// `clpcl -t`, asserted to succeed.
    pub fn stop(&self) {
        self.run("clpcl", &["-t"]).success();
    }

    /// The daemon's pid, from its pid file.
    pub fn daemon_pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.path("run/clppm.pid"))
            .ok()
            .and_then(|text| text.trim().parse().ok())
    }

    /// `clpstat --json`.
    pub fn status(&self) -> Value {
        let out = self.run("clpstat", &["--json"]).success();
        serde_json::from_str(&out).expect("clpstat --json is JSON")
    }

    /// One resource of `clpstat --json`.
    fn resource_json(&self, name: &str) -> Value {
        let status = self.status();
        status["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["resources"].as_array().into_iter().flatten())
            .find(|r| r["name"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// The state word of a resource.
    pub fn resource_status(&self, name: &str) -> String {
        self.resource_json(name)["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The pid of an async resource's process.
    pub fn resource_pid(&self, name: &str) -> Option<u32> {
        self.resource_json(name)["pid"]
            .as_u64()
            .map(|pid| pid as u32)
    }

    /// The state word of a monitor.
    pub fn monitor_status(&self, name: &str) -> String {
        let status = self.status();
        status["monitors"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["name"] == name)
            .map(|m| m["status"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default()
    }

    /// The text alert log.
    pub fn alerts(&self) -> String {
        std::fs::read_to_string(self.path("log/alert.log")).unwrap_or_default()
    }

    /// How many alert lines contain `needle`.
    pub fn count_alerts(&self, needle: &str) -> usize {
        self.alerts()
            .lines()
            .filter(|line| line.contains(needle))
            .count()
    }

    /// Every live process whose environment carries this root (the daemon's scripts and
    /// what they started, and the daemon itself).
    pub fn processes(&self) -> Vec<u32> {
        let marker = format!("CLP_ROOT={}", self.root().display());
        let me = std::process::id();
        let mut found = Vec::new();
        let Ok(pids) = clp_core::process::pids() else {
            return found;
        };
        for pid in pids {
            if pid == me || is_zombie(pid) {
                continue;
            }
            let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
                continue;
            };
            if environ
                .split(|b| *b == 0)
                .any(|var| var == marker.as_bytes())
            {
                found.push(pid);
            }
        }
        found
    }
}

/// Whether `pid` is gone or a zombie.
pub fn is_zombie(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(text) => text
            .rfind(')')
            .and_then(|i| text[i + 2..].chars().next())
            .is_none_or(|state| state == 'Z' || state == 'X'),
        Err(_) => true,
    }
}

/// Whether `pid` runs.
pub fn alive(pid: u32) -> bool {
    !is_zombie(pid)
}

/// Sends a signal.
pub fn signal(pid: u32, signal: i32) {
    // SAFETY: kill with a pid and a signal number has no memory effects.
    unsafe {
        libc::kill(pid as i32, signal);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = std::fs::read_to_string(self.path("log/clppm.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- clppm.log (last lines) ---");
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
            eprintln!("--- alert.log ---\n{}", self.alerts());
        }
        if let Some(pid) = self.daemon_pid() {
            signal(pid, libc::SIGKILL);
        }
        for _ in 0..3 {
            for pid in self.processes() {
                signal(pid, libc::SIGKILL);
            }
        }
    }
}

/// Polls `condition` until it holds or `timeout` passes (then panics with `what`).
#[track_caller]
pub fn wait_until(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The text of the file at `path` once it holds `needle`, or what it holds after `timeout`:
/// a process may write its log line a moment after the effect a test has already seen.
pub fn text_once_it_holds(path: &Path, needle: &str, timeout: Duration) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) || Instant::now() >= deadline {
            return text;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The pid a script wrote to `path` (as `echo $$ > path`), once the whole line is there: the
/// shell creates the file before it writes the number, so "the file exists" is not enough.
pub fn pid_written_to(path: &Path, timeout: Duration) -> u32 {
    let deadline = Instant::now() + timeout;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if let Some(pid) = text
            .strip_suffix('\n')
            .and_then(|line| line.trim().parse().ok())
        {
            return pid;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for a pid in {} (it holds {text:?})",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The deadline most waits use.
pub const WAIT: Duration = Duration::from_secs(15);

/// A group `failover` with one async exec resource `exec` whose start script records its
/// event and runs `sleep`, watched by `pidw`. `extra` is appended to the configuration.
pub fn pidw_cluster(threshold: u32, final_action: &str, extra: &str) -> Cluster {
    let cluster = Cluster::with_config(&format!(
        r#"[cluster]
name = "zabi"

[os_actions]
shutdown = ["/bin/sh", "-c", "echo shutdown >> recorded-os-actions"]
reboot = ["/bin/sh", "-c", "echo reboot >> recorded-os-actions"]

[[group]]
name = "failover"

[[group.resource]]
name = "exec"
mode = "async"

[group.resource.deactivation]
final_action = "stop-daemon"

[[monitor]]
name = "pidw"
type = "pidw"
target = "exec"
interval = 0.5

[monitor.recovery]
target = "exec"
reactivation_threshold = {threshold}
final_action = "{final_action}"
{extra}"#
    ));
    cluster.script(
        "failover",
        "exec",
        "start.sh",
        "echo \"$CLP_EVENT\" >> events\nexec sleep 600",
    );
    cluster.script(
        "failover",
        "exec",
        "stop.sh",
        "echo \"stop $CLP_FACTOR\" >> events",
    );
    cluster
}

/// Waits until `exec` of a `pidw_cluster` is Online and its start script has written its
/// event: a process killed before that line is written would lose it.
pub fn wait_exec_started(cluster: &Cluster) {
    wait_until("exec online, its start script run", WAIT, || {
        cluster.resource_status("exec") == "Online" && !events(cluster).is_empty()
    });
}

/// Lines of the `events` file the start/stop scripts of `pidw_cluster` append to.
pub fn events(cluster: &Cluster) -> Vec<String> {
    std::fs::read_to_string(cluster.path("etc/scripts/failover/exec/events"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// This server's name: the host's short name (the cluster has its own, `zabi` in most tests).
pub fn host() -> String {
    clp_core::config::host_name()
}

/// insta settings that hide what changes from run to run (times, pids, the root).
pub fn snapshot_settings(cluster: &Cluster) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(
        &regex_escape(&cluster.root().display().to_string()),
        "[ROOT]",
    );
    settings.add_filter(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{3}", "[TIME]");
    settings.add_filter(r"pid \d+", "pid [PID]");
    let host = clp_core::config::host_name();
    // The server's dot-filled field keeps its width whatever the host is called.
    for (width, cut) in [(17, true), (34, false)] {
        settings.add_filter(
            &regex_escape(&dotted(&host, width, cut)),
            dotted("[HOST]", width, cut),
        );
    }
    settings.add_filter(&format!(r"\b{}\b", regex_escape(&host)), "[HOST]");
    settings.set_prepend_module_to_snapshot(false);
    settings
}

/// A server name in clpstat's dot-filled field of `width` (cut to `width - 1` in the
/// narrow layout).
fn dotted(name: &str, width: usize, cut: bool) -> String {
    let name: String = if cut {
        name.chars().take(width - 1).collect()
    } else {
        name.to_string()
    };
    let dots = width.saturating_sub(name.chars().count() + 1);
    format!("{name} {}", ".".repeat(dots))
}

fn regex_escape(text: &str) -> String {
    let mut escaped = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Asserts that a monitor shows the error it detected: `Error`, or `Online Pending` once a
/// recovery step has restarted its target and the re-check is due.
#[track_caller]
pub fn assert_monitor_in_error(cluster: &Cluster, monitor: &str) {
    let status = cluster.monitor_status(monitor);
    assert!(
        status == "Error" || status == "Online Pending",
        "{monitor} is {status:?}, not in error"
    );
}
