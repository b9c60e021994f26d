//! What the application monitors' tests (smtpw, ftpw, psqlw, imap4w, pop3w) share: the venv
//! of the Python test servers, free loopback ports, server logs to wait on, and the alert log
//! read from a mark on (a server started by a resource may lose the race with the monitor's
//! first check; a story told from the mark on is not disturbed by that).

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use crate::harness::Cluster;

/// The Python of the venv `.ci/setup.d/python-servers.sh` makes (aiosmtpd, pyftpdlib).
pub fn venv_python() -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ci-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `bash .ci/setup.d/python-servers.sh` (it makes the venv of the test servers)",
        python.display()
    );
    python
}

/// A loopback port free right now (the kernel's pick, released for the server to take).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// How many lines of the file at `path` contain `needle` (0 when it does not exist yet).
pub fn count_lines(path: &Path, needle: &str) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|line| line.contains(needle))
        .count()
}

/// A position in the alert log.
pub struct Mark(usize);

/// The alert log's current end.
pub fn mark(cluster: &Cluster) -> Mark {
    Mark(cluster.alerts().len())
}

/// The alert lines written after `mark`.
pub fn alerts_since(cluster: &Cluster, mark: &Mark) -> String {
    cluster
        .alerts()
        .get(mark.0..)
        .unwrap_or_default()
        .to_string()
}

/// How many alert lines after `mark` contain `needle`.
pub fn count_since(cluster: &Cluster, mark: &Mark, needle: &str) -> usize {
    alerts_since(cluster, mark)
        .lines()
        .filter(|line| line.contains(needle))
        .count()
}
