//! The bed's journal: one file outside the namespaces (they share the file system) where
//! every run of a group's service is written down with CLOCK_MONOTONIC (system-wide), so the
//! split-brain checker ([`super::overlap`]) sees when each service REALLY ran.
//!
//! The service is a small TCP server (Python, [`SERVICE`]) that the exec resource's start
//! script execs: it writes `up` once it listens and `down` when a signal ends it, and
//! answers every connection with its server and group. The start and stop scripts add
//! their own notes. A SIGKILLed service writes nothing: a watcher thread polls the pids of
//! the open runs from the root namespace and writes `gone` when one has disappeared (an
//! upper bound of its end, so the checker errs towards finding an overlap).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::overlap::{self, Entry, Interval, Overlap};
use crate::harness::is_zombie;

/// The service: `service.py JOURNAL SERVER GROUP serve PORT` listens on PORT on every
/// address; `service.py JOURNAL SERVER GROUP note EVENT PID` appends one line.
const SERVICE: &str = r#"import os, signal, socket, sys, time
journal, server, group, mode = sys.argv[1:5]
def note(event, pid, fence=""):
    line = "%d %s %s %s %d %s" % (time.monotonic_ns(), server, group, event, pid, fence)
    line = line.rstrip() + "\n"
    fd = os.open(journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
if mode == "note":
    note(sys.argv[5], int(sys.argv[6]))
    sys.exit(0)
def stop(signum, frame):
    note("down", os.getpid())
    os._exit(0)
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("0.0.0.0", int(sys.argv[5])))
listener.listen(16)
fence = os.environ.get("CLP_FENCE", "")
note("up", os.getpid(), fence if fence.isdigit() else "")
while True:
    connection, _ = listener.accept()
    try:
        connection.sendall(("%s %s\n" % (server, group)).encode())
    except OSError:
        pass
    connection.close()
"#;

/// How often the watcher looks for services that died without a word.
const SWEEP_EVERY: Duration = Duration::from_millis(50);

/// The journal of one bed, with its watcher (stopped on drop).
pub struct Journal {
    path: PathBuf,
    service: PathBuf,
    stop: Arc<AtomicBool>,
    watcher: Option<std::thread::JoinHandle<()>>,
}

impl Journal {
    /// A new, empty journal in `dir`, the service next to it, and the watcher running.
    pub fn create(dir: &Path) -> Journal {
        let path = dir.join("journal");
        let service = dir.join("service.py");
        std::fs::write(&path, "").expect("the journal");
        std::fs::write(&service, SERVICE).expect("the journal's service");
        let stop = Arc::new(AtomicBool::new(false));
        let watcher = {
            let (path, stop) = (path.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    sweep(&path);
                    std::thread::sleep(SWEEP_EVERY);
                }
            })
        };
        Journal {
            path,
            service,
            stop,
            watcher: Some(watcher),
        }
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every entry so far, after closing the runs of services that are gone.
    pub fn entries(&self) -> Vec<Entry> {
        sweep(&self.path);
        read(&self.path)
    }

    /// Every run of a service so far.
    pub fn runs(&self) -> Vec<Interval> {
        overlap::intervals(&self.entries())
    }

    /// The runs of `group` still open (their service runs), as `(server, pid)`.
    pub fn running(&self, group: &str) -> Vec<(String, u32)> {
        self.runs()
            .into_iter()
            .filter(|run| run.group == group && run.end.is_none())
            .map(|run| (run.server, run.pid))
            .collect()
    }

    /// The servers where `group` runs now, sorted.
    pub fn servers_running(&self, group: &str) -> Vec<String> {
        let mut servers: Vec<String> = self
            .running(group)
            .into_iter()
            .map(|(server, _)| server)
            .collect();
        servers.sort_unstable();
        servers
    }

    /// Every pair of servers that held one group at once.
    pub fn overlaps(&self) -> Vec<Overlap> {
        overlap::overlaps(&self.entries())
    }

    /// Panics with every overlap and the whole journal when two servers held one group at
    /// once, or when a run started with an older fencing token than the run before it.
    #[track_caller]
    pub fn assert_no_overlap(&self) {
        let entries = self.entries();
        let mut report: Vec<String> = overlap::overlaps(&entries)
            .iter()
            .map(|found| format!("split brain: {found}"))
            .collect();
        for (earlier, later) in overlap::fence_regressions(&entries) {
            report.push(format!(
                "fencing token went back: {} on {} (pid {}) after {} on {} (pid {})",
                later.fence.unwrap_or_default(),
                later.server,
                later.pid,
                earlier.fence.unwrap_or_default(),
                earlier.server,
                earlier.pid
            ));
        }
        if report.is_empty() {
            return;
        }
        panic!(
            "{}\n--- journal ---\n{}",
            report.join("\n"),
            std::fs::read_to_string(&self.path).unwrap_or_default()
        );
    }

    /// The program and arguments that run the service of `group` on `server`, on `port`.
    pub fn serve(&self, server: &str, group: &str, port: u16) -> Vec<String> {
        let mut command = self.service_command(server, group);
        command.extend(["serve".to_string(), port.to_string()]);
        command
    }

    /// The body of a start script that runs the service and nothing else: the benchmark's,
    /// where keepalived's notify script only starts the service too (a note would put one
    /// more Python start, ~25 ms, on clp's side of every failover).
    pub fn serve_script(&self, server: &str, group: &str, port: u16) -> String {
        format!("exec {}", shell(&self.serve(server, group, port)))
    }

    /// The body of an async exec resource's start script: a note, then the service.
    pub fn start_script(&self, server: &str, group: &str, port: u16) -> String {
        format!(
            "{} note start-script $$\nexec {}",
            shell(&self.service_command(server, group)),
            shell(&self.serve(server, group, port)),
        )
    }

    /// The body of its stop script: a note (clp ends the service with SIGTERM after it).
    pub fn stop_script(&self, server: &str, group: &str) -> String {
        format!(
            "{} note stop-script $$",
            shell(&self.service_command(server, group))
        )
    }

    fn service_command(&self, server: &str, group: &str) -> Vec<String> {
        vec![
            python(),
            self.service.display().to_string(),
            self.path.display().to_string(),
            server.to_string(),
            group.to_string(),
        ]
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(watcher) = self.watcher.take() {
            let _ = watcher.join();
        }
    }
}

/// CLOCK_MONOTONIC now, in nanoseconds: the journal's clock (Python's `monotonic_ns`).
pub fn monotonic_ns() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec it is given, which lives here.
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now);
    }
    u64::try_from(now.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(now.tv_nsec).unwrap_or(0)
}

/// The journal's entries (lines that are not entries are skipped).
fn read(path: &Path) -> Vec<Entry> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(Entry::parse)
        .collect()
}

/// Writes `gone` for every open run whose process has disappeared (or is a zombie nobody
/// reaped: a stopped clppm reaps nothing). One sweep at a time: the watcher and a test
/// reading the entries sweep the same file, and two at once both wrote `gone` for one run.
fn sweep(path: &Path) {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _sweeping = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for run in overlap::intervals(&read(path)) {
        if run.end.is_none() && is_zombie(run.pid) {
            append(
                path,
                &format!(
                    "{} {} {} gone {}\n",
                    monotonic_ns(),
                    run.server,
                    run.group,
                    run.pid
                ),
            );
        }
    }
}

/// Appends one line in one write (O_APPEND: lines from many processes never interleave).
fn append(path: &Path, line: &str) {
    if let Ok(mut file) = std::fs::OpenOptions::new().append(true).open(path) {
        let _ = file.write_all(line.as_bytes());
    }
}

/// The system's Python (not a version manager's shim, which is slow to start).
fn python() -> String {
    ["/usr/bin/python3", "/usr/local/bin/python3"]
        .into_iter()
        .find(|path| Path::new(path).exists())
        .unwrap_or("python3")
        .to_string()
}

/// `words` as one shell command line, each word single-quoted.
pub fn shell(words: &[String]) -> String {
    let quoted: Vec<String> = words
        .iter()
        .map(|word| format!("'{}'", word.replace('\'', r"'\''")))
        .collect();
    quoted.join(" ")
}
