//! A real etcd on loopback for the tests, killed on drop.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::process::{Child, Command, Stdio};

/// An etcd member on loopback, killed on drop.
pub struct Etcd {
    child: Child,
    _data: tempfile::TempDir,
}

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}

pub fn etcd_available() -> bool {
    Command::new("etcd")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Whether `etcd` is missing: the test is then skipped, saying how to install it.
pub fn skipped_without_etcd() -> bool {
    if etcd_available() {
        return false;
    }
    eprintln!("skipped: `etcd` is missing: run .ci/setup.d/etcd.sh (installs etcd-server)");
    true
}

/// One etcd member on a free loopback port (killed on drop) and that port, or None, said on
/// stderr, when etcd is missing: `let Some((port, _etcd)) = etcd_or_skip() else { return };`.
pub fn etcd_or_skip() -> Option<(u16, Etcd)> {
    if skipped_without_etcd() {
        return None;
    }
    let client = free_port();
    Some((client, start_etcd(client)))
}

pub fn start_etcd(client: u16) -> Etcd {
    let peer = free_port();
    spawn_member(
        "default",
        client,
        peer,
        &format!("default=http://127.0.0.1:{peer}"),
        &[],
    )
}

/// A cluster of `size` etcd members on loopback (killed on drop): each member's client port.
pub fn start_etcd_cluster(size: usize) -> (Vec<Etcd>, Vec<u16>) {
    let clients: Vec<u16> = (0..size).map(|_| free_port()).collect();
    let peers: Vec<u16> = (0..size).map(|_| free_port()).collect();
    let initial = peers
        .iter()
        .enumerate()
        .map(|(member, peer)| format!("m{member}=http://127.0.0.1:{peer}"))
        .collect::<Vec<_>>()
        .join(",");
    let tuning = [
        "--initial-cluster-state",
        "new",
        "--heartbeat-interval",
        "50",
        "--election-timeout",
        "500",
    ];
    let members = clients
        .iter()
        .zip(&peers)
        .enumerate()
        .map(|(member, (client, peer))| {
            spawn_member(&format!("m{member}"), *client, *peer, &initial, &tuning)
        })
        .collect();
    (members, clients)
}

/// Starts etcd member `name` on loopback ports `client` and `peer`, in the cluster
/// `initial` (etcd's `--initial-cluster`), with `tuning` added to its arguments.
fn spawn_member(name: &str, client: u16, peer: u16, initial: &str, tuning: &[&str]) -> Etcd {
    let data = data_folder();
    let child = Command::new("etcd")
        .arg("--name")
        .arg(name)
        .arg("--data-dir")
        .arg(data.path())
        .args([
            "--listen-client-urls",
            &format!("http://127.0.0.1:{client}"),
            "--advertise-client-urls",
            &format!("http://127.0.0.1:{client}"),
            "--listen-peer-urls",
            &format!("http://127.0.0.1:{peer}"),
            "--initial-advertise-peer-urls",
            &format!("http://127.0.0.1:{peer}"),
            "--initial-cluster",
            initial,
        ])
        .args(tuning)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start etcd");
    Etcd { child, _data: data }
}

/// A folder for an etcd member's data, in memory where the host has `/dev/shm`.
fn data_folder() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("clp-etcd-")
        .tempdir_in(if std::path::Path::new("/dev/shm").is_dir() {
            "/dev/shm"
        } else {
            "/tmp"
        })
        .expect("an etcd data folder")
}

/// The settings of server `local` of `cluster` (whose servers are `servers`) against the
/// etcd on loopback port `client`: renewed every half second, 2 s timeout, no TLS.
pub fn settings(
    cluster: &str,
    local: &str,
    servers: &[&str],
    client: u16,
) -> clp_cluster::Settings {
    clp_cluster::Settings {
        cluster: cluster.into(),
        local: local.into(),
        servers: servers.iter().map(|s| s.to_string()).collect(),
        endpoints: vec![format!("http://127.0.0.1:{client}")],
        interval: std::time::Duration::from_millis(500),
        timeout: std::time::Duration::from_secs(2),
        tls: None,
    }
}

/// `membership`'s etcd session, once it has one (at most 20 s).
pub async fn session_of(membership: &clp_cluster::Membership) -> clp_cluster::Session {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Some(session) = membership.session() {
            return session;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no etcd session within 20 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Waits until `ok`, failing the test after `within`.
pub async fn wait_until(what: &str, within: std::time::Duration, ok: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + within;
    while !ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within {within:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The changes a membership reports, kept for the test to read.
pub type Changes = std::sync::Arc<std::sync::Mutex<Vec<clp_cluster::Change>>>;

/// A place for a membership's changes and the callback that fills it.
pub fn recorder() -> (
    Changes,
    impl Fn(clp_cluster::Change) + Send + Sync + 'static,
) {
    let changes = Changes::default();
    let heard = std::sync::Arc::clone(&changes);
    (changes, move |change| heard.lock().unwrap().push(change))
}

/// The `Lost` changes among `changes`.
pub fn losses(changes: &Changes) -> Vec<clp_cluster::Change> {
    changes
        .lock()
        .unwrap()
        .iter()
        .filter(|change| matches!(change, clp_cluster::Change::Lost(_)))
        .cloned()
        .collect()
}
