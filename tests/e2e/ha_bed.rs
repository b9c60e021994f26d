//! The HA test bed: hosts as network namespaces on a bridge that the test makes and removes,
//! each with its own etcd member, its own clppm and `CLP_ROOT`, and its own host name (a
//! UTS namespace: a server is its host). Everything is removed on drop, even when the test
//! fails; names carry the test's tag and the pid, so tests run in parallel.
//!
//! Addresses are TEST-NET-1 (`192.0.2.0/24`), host N at `.1N`: each bed is its own bridge
//! with no address in the root namespace, so no traffic leaves the namespaces.
//!
//! Its parts: the [`journal`] of every service run and its split-brain checker
//! ([`overlap`]), the [`faults`] the scenarios inject, and a [`client`] host.
//! Names are short (an interface name has at most 15 bytes): a test's tag has at most 4.

pub mod client;
pub mod faults;
pub mod journal;
pub mod overlap;
pub mod pki;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::harness::{Cluster, Run, bin, die_with_test, signal, wait_until};
use crate::netns::{ip, is_root};
use journal::Journal;

/// One host of the bed.
pub struct Host {
    /// Its name: the host name inside its UTS namespace, and the server's name.
    pub name: String,
    /// Its network namespace.
    pub netns: String,
    /// Its address on the bridge.
    pub address: String,
    /// Its `CLP_ROOT` (absent on the witness, which runs only etcd).
    pub clp: Option<Cluster>,
    etcd_dir: tempfile::TempDir,
    veth_host: String,
}

/// The bed: a bridge, the hosts, and every process the test started on them.
pub struct Bed {
    bridge: String,
    tag: String,
    /// The hosts, in order: servers first, then the witness.
    pub hosts: Vec<Host>,
    /// Host N's etcd member at N (`None` while stopped).
    etcd: Vec<Option<Child>>,
    clppm: Vec<(usize, Child)>,
    /// Services the test started itself on a host ([`Bed::spawn_on`]).
    spawned: Vec<Child>,
    /// The journal of every service run (outside the namespaces).
    pub journal: Journal,
    /// etcd over TLS with client certificates ([`Bed::create_tls`]), or plain HTTP.
    pub tls: Option<pki::Pki>,
    /// `[etcd] witness_leads` in [`Bed::config`]: false for a test that puts etcd's leader on
    /// a server on purpose (the servers would hand it back to the witness).
    pub witness_leads: bool,
    /// The journal's folder (removed on drop).
    _dir: tempfile::TempDir,
}

/// The tags of the beds alive in this process: two at once with one tag would share their
/// names (nextest runs each test in its own process; `cargo test` runs them as threads).
static TAGS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Why the bed cannot be made here, when it cannot.
fn missing() -> Option<String> {
    if !is_root() {
        return Some("it makes network namespaces and a bridge, which needs root".into());
    }
    for (tool, hint) in [
        ("etcd", "run .ci/setup.d/etcd.sh (installs etcd-server)"),
        ("unshare", "install util-linux"),
        ("hostname", "install hostname"),
    ] {
        let found = std::env::var_os("PATH")
            .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).exists()));
        if !found {
            return Some(format!("`{tool}` is missing: {hint}"));
        }
    }
    None
}

impl Host {
    /// Its interface on the bridge, inside its namespace.
    pub fn interface(&self) -> String {
        format!("{}n", self.veth_host)
    }
}

impl Bed {
    /// Servers `servers` plus a witness running only etcd, on a fresh bridge; `None` (with
    /// the reason printed) where namespaces or etcd are not available.
    pub fn create(tag: &str, servers: usize) -> Option<Bed> {
        Bed::build(tag, servers, false)
    }

    /// [`Bed::create`] with etcd serving its clients over TLS only and asking each for a
    /// certificate its CA signed ([`pki`]); the bed's configurations name the files. The
    /// faults that ask a member's status ([`Bed::etcd_leader`]) need plain HTTP: not here.
    pub fn create_tls(tag: &str, servers: usize) -> Option<Bed> {
        Bed::build(tag, servers, true)
    }

    fn build(tag: &str, servers: usize, tls: bool) -> Option<Bed> {
        if let Some(reason) = missing() {
            eprintln!("skipped: the HA test bed cannot be made here: {reason}");
            return None;
        }
        assert!(tag.len() <= 4, "a bed's tag has at most 4 bytes: {tag:?}");
        remove_beds_of_dead_tests();
        {
            let mut tags = TAGS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            assert!(
                !tags.iter().any(|t| t == tag),
                "two beds with the tag {tag:?} at once: give each test its own"
            );
            tags.push(tag.to_string());
        }
        let pid = std::process::id();
        let dir = tempfile::Builder::new()
            .prefix("clp-bed-")
            .tempdir()
            .expect("the bed's folder");
        let mut bed = Bed {
            bridge: format!("hab{tag}{pid}"),
            tag: tag.to_string(),
            hosts: Vec::new(),
            etcd: Vec::new(),
            clppm: Vec::new(),
            spawned: Vec::new(),
            journal: Journal::create(dir.path()),
            tls: None,
            witness_leads: true,
            _dir: dir,
        };
        ip(&["link", "add", &bed.bridge, "type", "bridge"]);
        ip(&["link", "set", &bed.bridge, "up"]);
        for index in 0..=servers {
            let witness = index == servers;
            let name = if witness {
                "witness".to_string()
            } else {
                format!("node{}", index + 1)
            };
            let host = Host {
                netns: format!("{}-{index}", bed.netns_prefix()),
                address: format!("192.0.2.{}", 11 + index),
                clp: (!witness).then(Cluster::new),
                etcd_dir: etcd_dir(),
                veth_host: format!("{}{index}", bed.veth_prefix()),
                name,
            };
            let inner = host.interface();
            // Pushed first, so that drop removes whatever a failing step left.
            bed.hosts.push(host);
            let host = bed.hosts.last().expect("just pushed");
            ip(&["netns", "add", &host.netns]);
            ip(&[
                "link",
                "add",
                &host.veth_host,
                "type",
                "veth",
                "peer",
                "name",
                &inner,
            ]);
            ip(&["link", "set", &host.veth_host, "master", &bed.bridge]);
            ip(&["link", "set", &host.veth_host, "up"]);
            ip(&["link", "set", &inner, "netns", &host.netns]);
            ip(&["-n", &host.netns, "link", "set", "lo", "up"]);
            let cidr = format!("{}/24", host.address);
            ip(&["-n", &host.netns, "addr", "add", &cidr, "dev", &inner]);
            ip(&["-n", &host.netns, "link", "set", &inner, "up"]);
        }
        if tls {
            let addresses: Vec<String> = bed.hosts.iter().map(|h| h.address.clone()).collect();
            bed.tls = Some(pki::Pki::create(bed._dir.path(), &addresses));
        }
        for index in 0..bed.hosts.len() {
            let member = bed.spawn_etcd(index);
            bed.etcd.push(Some(member));
        }
        Some(bed)
    }

    /// The namespaces' names start with this (unique per test process and tag).
    fn netns_prefix(&self) -> String {
        format!("clp-ha{}-{}", self.tag, std::process::id())
    }

    /// The interfaces' names start with this.
    fn veth_prefix(&self) -> String {
        format!("ha{}{}", self.tag, std::process::id())
    }

    /// Host `index`'s etcd member, one of a cluster of every host (on its data folder: a
    /// restarted member rejoins).
    fn spawn_etcd(&self, index: usize) -> Child {
        let initial: Vec<String> = self
            .hosts
            .iter()
            .map(|h| format!("{}=http://{}:2380", h.name, h.address))
            .collect();
        let initial = initial.join(",");
        let tag = &self.tag;
        let host = &self.hosts[index];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(host.etcd_dir.path().join("etcd.log"))
            .expect("the etcd log");
        let scheme = self.scheme();
        let mut command = Command::new(ip_path());
        die_with_test(&mut command)
            .args(["netns", "exec", &host.netns, "etcd"])
            .args(["--name", &host.name])
            .arg("--data-dir")
            .arg(host.etcd_dir.path().join("data"))
            .args([
                "--listen-client-urls",
                &format!("{scheme}://{}:2379,http://127.0.0.1:2379", host.address),
                "--advertise-client-urls",
                &format!("{scheme}://{}:2379", host.address),
                "--listen-peer-urls",
                &format!("http://{}:2380", host.address),
                "--initial-advertise-peer-urls",
                &format!("http://{}:2380", host.address),
                "--initial-cluster",
                &initial,
                "--initial-cluster-state",
                "new",
                "--initial-cluster-token",
                &format!("clp-test-{tag}-{}", std::process::id()),
                // A new leader within 0.5-1 s of losing one (raft waits a randomized one
                // to two election timeouts): well inside clp's silence limit (half the
                // heartbeat timeout), so losing the leader with the quorum kept moves
                // nothing. The README's set-up says the same.
                "--heartbeat-interval",
                "50",
                "--election-timeout",
                "500",
                // A member that was cut off does not force an election when it comes
                // back (its term grew while it was alone): the majority keeps its leader.
                "--pre-vote",
            ]);
        if let Some(tls) = &self.tls {
            let (cert, key) = &tls.members[index];
            command
                .arg("--cert-file")
                .arg(cert)
                .arg("--key-file")
                .arg(key)
                .arg("--trusted-ca-file")
                .arg(&tls.ca)
                .arg("--client-cert-auth");
        }
        command
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the etcd log"))
            .stderr(log)
            .spawn()
            .expect("start etcd")
    }

    /// The etcd client URLs of every member.
    pub fn endpoints(&self) -> String {
        let urls: Vec<String> = self
            .hosts
            .iter()
            .map(|h| format!("\"{}://{}:2379\"", self.scheme(), h.address))
            .collect();
        urls.join(", ")
    }

    /// A configuration of every server of the bed, its etcd members, and a heartbeat
    /// renewed every half second with `timeout` whole seconds; `extra` (groups, ...)
    /// appended.
    pub fn config(&self, timeout: Duration, extra: &str) -> String {
        let mut text = String::from("[cluster]\nname = \"ha\"\n\n");
        for host in self.servers() {
            text.push_str(&format!(
                "[[server]]\nname = \"{}\"\naddresses = [\"{}\"]\n\n",
                host.name, host.address
            ));
        }
        text.push_str(&format!("[etcd]\nendpoints = [{}]\n", self.endpoints()));
        if !self.witness_leads {
            text.push_str("witness_leads = false\n");
        }
        if let Some(tls) = &self.tls {
            text.push_str(&format!(
                "ca_file = \"{}\"\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
                tls.ca.display(),
                tls.client.0.display(),
                tls.client.1.display()
            ));
        }
        text.push_str(&format!(
            "\n[heartbeat]\ninterval = 0.5\ntimeout = {}\n\n{extra}",
            timeout.as_secs()
        ));
        text
    }

    /// `https` when etcd serves its clients over TLS, else `http`.
    fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// Writes `config` on every server.
    pub fn write_config(&self, config: &str) {
        for host in self.servers() {
            if let Some(clp) = &host.clp {
                clp.write_config(config);
            }
        }
    }

    /// The servers (every host but the witness).
    pub fn servers(&self) -> impl Iterator<Item = &Host> {
        self.hosts.iter().filter(|h| h.clp.is_some())
    }

    /// `command` run on host `index`: in its namespace, under its host name, with its root.
    pub fn on_host(&self, index: usize, program: &Path) -> Command {
        let host = &self.hosts[index];
        let mut command = Command::new(ip_path());
        command
            .args(["netns", "exec", &host.netns, "unshare", "--uts", "sh", "-c"])
            .arg("hostname \"$0\" && exec \"$@\"")
            .arg(&host.name)
            .arg(program);
        if let Some(clp) = &host.clp {
            command
                .env("CLP_ROOT", clp.root())
                .env("CLP_FORBID_OS_ACTIONS", "1")
                .env_remove("CLP_LOG");
        }
        command
    }

    /// Starts clppm in the foreground on server `index`; its pid is the child's (every
    /// step before it execs).
    pub fn start_clppm(&mut self, index: usize) -> u32 {
        let mut command = self.on_host(index, &bin("clppm"));
        die_with_test(&mut command)
            .arg("--foreground")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = command.spawn().expect("start clppm");
        let pid = child.id();
        self.clppm.push((index, child));
        pid
    }

    /// The pid of the clppm running on server `index` (the latest started there).
    pub fn clppm_pid(&self, index: usize) -> Option<u32> {
        self.clppm
            .iter()
            .rev()
            .find(|(host, _)| *host == index)
            .map(|(_, child)| child.id())
    }

    /// The servers whose clppm exited by itself (a fence's recorder killed it, as a power-off
    /// would), each reaped and forgotten.
    pub fn reap_dead_clppm(&mut self) -> Vec<usize> {
        let mut gone = Vec::new();
        self.clppm.retain_mut(|(host, child)| {
            let exited = child.try_wait().is_ok_and(|status| status.is_some());
            if exited {
                gone.push(*host);
            }
            !exited
        });
        gone
    }

    /// `kill -9` of the clppm started as `pid`, reaped.
    pub fn kill_clppm(&mut self, pid: u32) {
        signal(pid, libc::SIGKILL);
        if let Some(position) = self.clppm.iter().position(|(_, c)| c.id() == pid) {
            let (_, mut child) = self.clppm.remove(position);
            let _ = child.wait();
        }
    }

    /// A clp command run on server `index`.
    pub fn run(&self, index: usize, name: &str, args: &[&str]) -> Run {
        let output = self
            .on_host(index, &bin(name))
            .args(args)
            .output()
            .expect("run a command on a host");
        Run { output }
    }

    /// Server `index`'s view: each server's name and state from `clpstat --json`.
    pub fn view(&self, index: usize) -> Vec<(String, String)> {
        let run = self.run(index, "clpstat", &["--json"]);
        let Ok(status) = serde_json::from_str::<serde_json::Value>(&run.stdout()) else {
            return Vec::new();
        };
        status["ha"]["servers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                (
                    s["name"].as_str().unwrap_or_default().to_string(),
                    s["status"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    /// Waits until server `index` shows `server` as `state`.
    #[track_caller]
    pub fn wait_for(&self, index: usize, server: &str, state: &str, within: Duration) {
        wait_until(
            &format!("{} to show {server} {state}", self.hosts[index].name),
            within,
            || {
                self.view(index)
                    .iter()
                    .any(|(name, shown)| name == server && shown == state)
            },
        );
    }

    /// Waits until the cluster has formed: every server shows every server `Online`, and
    /// with `witness_leads` etcd's leadership is on the witness. A test's fault then never
    /// meets the servers' first hand-over of etcd's leadership (a few seconds after the
    /// start), which disturbs the etcd streams of the server whose member led.
    #[track_caller]
    pub fn wait_formed(&self, within: Duration) {
        self.wait_all_online(within);
        if self.witness_leads {
            let witness = self.hosts.len() - 1;
            wait_until("etcd's leadership on the witness", within, || {
                self.etcd_leader() == Some(witness)
            });
        }
    }

    /// Waits until every server shows every server `Online`.
    #[track_caller]
    pub fn wait_all_online(&self, within: Duration) {
        let names: Vec<String> = self.servers().map(|host| host.name.clone()).collect();
        for index in 0..names.len() {
            for server in &names {
                self.wait_for(index, server, "Online", within);
            }
        }
    }

    /// Starts `program args` on host `index` (in its namespace, under its host name),
    /// killed when the bed drops; its pid.
    pub fn spawn_on(&mut self, index: usize, command: &[String]) -> u32 {
        let (program, args) = command.split_first().expect("a program");
        let mut command = self.on_host(index, Path::new(program));
        let child = die_with_test(&mut command)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start a program on a host");
        let pid = child.id();
        self.spawned.push(child);
        pid
    }

    /// Why server `index` does not know the others' states (`clpstat --json`'s
    /// `ha.problem`), when it does not.
    pub fn problem(&self, index: usize) -> Option<String> {
        let run = self.run(index, "clpstat", &["--json"]);
        let status = serde_json::from_str::<serde_json::Value>(&run.stdout()).ok()?;
        status["ha"]["problem"].as_str().map(str::to_string)
    }

    /// The clp root of server `index`.
    pub fn clp(&self, index: usize) -> &Cluster {
        self.hosts[index]
            .clp
            .as_ref()
            .expect("a server, not the witness")
    }
}

impl Drop for Bed {
    fn drop(&mut self) {
        TAGS.lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .retain(|tag| *tag != self.tag);
        if std::thread::panicking() {
            for host in &self.hosts {
                let log = std::fs::read_to_string(host.etcd_dir.path().join("etcd.log"))
                    .unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(10).collect();
                eprintln!("--- etcd.log of {} (last lines) ---", host.name);
                for line in tail.iter().rev() {
                    eprintln!("{line}");
                }
            }
            let journal = std::fs::read_to_string(self.journal.path()).unwrap_or_default();
            eprintln!("--- the bed's journal ---\n{journal}");
        }
        for child in &mut self.spawned {
            let _ = child.kill();
            let _ = child.wait();
        }
        for (_, child) in &mut self.clppm {
            let _ = child.kill();
            let _ = child.wait();
        }
        for child in self.etcd.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
        for host in &self.hosts {
            let _ = Command::new(ip_path())
                .args(["netns", "del", &host.netns])
                .stderr(Stdio::null())
                .status();
            let _ = Command::new(ip_path())
                .args(["link", "del", &host.veth_host])
                .stderr(Stdio::null())
                .status();
        }
        let _ = Command::new(ip_path())
            .args(["link", "del", &self.bridge])
            .stderr(Stdio::null())
            .status();
    }
}

/// The `[os_actions]` of a server that fences itself as a power-off would (the scenarios'
/// [`crate::ha_scenarios::FENCE`]: write the action down, kill every process of its root).
pub fn fence_actions() -> String {
    let fence = crate::ha_scenarios::FENCE
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    format!(
        "[os_actions]\nshutdown = [\"/bin/sh\", \"-c\", \"{fence}\", \"shutdown\"]\nreboot = [\"/bin/sh\", \"-c\", \"{fence}\", \"reboot\"]\n"
    )
}

/// A group `group` on node1 then node2: the floating IP `floating` (`fip1`), the bed's
/// service after it (`service`, async), and the fip's monitor `fipw1` (every second).
pub fn fip_group(group: &str, floating: &str) -> String {
    format!(
        r#"[[group]]
name = "{group}"
servers = ["node1", "node2"]

[[group.resource]]
name = "fip1"
type = "fip"
[group.resource.parameters]
ip = "{floating}"

[[group.resource]]
name = "service"
mode = "async"
depends_on = ["fip1"]

[[monitor]]
name = "fipw1"
type = "fipw"
target = "fip1"
interval = 1
[monitor.parameters]
monmii = 1
"#
    )
}

/// Removes the namespaces and bridges of beds whose test process is gone (killed, so its
/// drop never ran: a timeout of the test runner): their processes died with the test
/// ([`die_with_test`]), what is left is names.
fn remove_beds_of_dead_tests() {
    let listed = crate::netns::ip(&["netns", "list"]);
    for name in listed
        .lines()
        .filter_map(|line| line.split_whitespace().next())
    {
        // clp-ha{tag}-{pid}-{index}
        let mut parts = name.split('-');
        let (Some("clp"), Some(bed), Some(pid), Some(_)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let (Some(tag), Ok(pid)) = (bed.strip_prefix("ha"), pid.parse::<u32>()) else {
            continue;
        };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        for args in [
            vec!["netns", "del", name],
            vec!["link", "del", &format!("hab{tag}{pid}")],
        ] {
            let _ = Command::new(ip_path())
                .args(&args)
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// A temporary folder for an etcd member: in memory (`/dev/shm`) where there is one, since
/// etcd syncs its log on every write and a busy disk makes its heartbeats late.
fn etcd_dir() -> tempfile::TempDir {
    let mut builder = tempfile::Builder::new();
    builder.prefix("clp-etcd-");
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = builder.tempdir_in(shm)
    {
        return dir;
    }
    builder.tempdir().expect("an etcd data folder")
}

/// The `ip` command.
pub fn ip_path() -> PathBuf {
    ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        .into_iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
        .unwrap_or_else(|| PathBuf::from("ip"))
}
