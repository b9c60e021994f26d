//! keepalived, the peer: one daemon per server, inside its namespace, moving the floating
//! address by VRRP (unicast between the servers, `advert_int 1`, both `state BACKUP` with
//! `nopreempt` and one priority: no failback, as clp's groups by default), the service
//! following its state as keepalived users run one: `notify_master` starts it,
//! `notify_backup`/`notify_fault`/`notify_stop` stop it, and a `track_script` checks every
//! second that a service that should run does. Everything it started is stopped on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::ha_bed::journal::shell;
use crate::ha_bed::{Bed, ip_path};
use crate::harness::{is_zombie, signal};

/// The settings, said in the benchmark's output.
pub const SETTINGS: &str = "keepalived 2.2.7: VRRP unicast between the two servers, advert_int 1, \
     state BACKUP + nopreempt + priority 100 on both (no failback), the service started by \
     notify_master and stopped by notify_backup/fault/stop, track_script (kill -0 of the \
     service) interval 1 fall 1 rise 1";

/// The keepalived of every server, its files, and the services its scripts started.
pub struct Keepalived {
    dir: tempfile::TempDir,
    /// Server N's daemon (the parent process), while it runs.
    daemons: Vec<Option<Child>>,
}

impl Keepalived {
    /// Writes each server's configuration and scripts: the service of group `group` on
    /// `port`, the floating `address`. Starts nothing.
    pub fn configure(bed: &Bed, group: &str, address: &str, port: u16) -> Keepalived {
        let dir = tempfile::Builder::new()
            .prefix("clp-bench-keepalived-")
            .tempdir()
            .expect("keepalived's folder");
        let servers: Vec<_> = bed.servers().collect();
        for (index, host) in servers.iter().enumerate() {
            let peers: Vec<&str> = servers
                .iter()
                .filter(|peer| peer.name != host.name)
                .map(|peer| peer.address.as_str())
                .collect();
            let pidfile = service_pidfile(dir.path(), index);
            let serve = bed.journal.serve(&host.name, group, port);
            let script = |name: &str, body: String| {
                let path = dir.path().join(format!("{}-{name}.sh", host.name));
                std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("a keepalived script");
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                    .expect("chmod a keepalived script");
                path
            };
            let pid = pidfile.display();
            let master = script(
                "master",
                format!(
                    "p='{pid}'\n[ -s \"$p\" ] && kill -0 \"$(cat \"$p\")\" 2>/dev/null && exit 0\n\
                     setsid {} </dev/null >/dev/null 2>&1 &\necho $! > \"$p\"",
                    shell(&serve)
                ),
            );
            let standby = script(
                "standby",
                format!(
                    "p='{pid}'\n[ -s \"$p\" ] || exit 0\nkill -TERM \"$(cat \"$p\")\" 2>/dev/null\nrm -f \"$p\""
                ),
            );
            let check = script(
                "check",
                format!(
                    "p='{pid}'\n[ -s \"$p\" ] || exit 0\n\
                     s=$(awk '{{print $3}}' \"/proc/$(cat \"$p\")/stat\" 2>/dev/null)\n\
                     [ -n \"$s\" ] && [ \"$s\" != Z ]"
                ),
            );
            let peers: String = peers.iter().map(|p| format!("    {p}\n")).collect();
            let config = format!(
                r#"global_defs {{
  router_id {name}
  script_user root
}}
vrrp_script service_alive {{
  script "{check}"
  interval 1
  fall 1
  rise 1
}}
vrrp_instance web {{
  state BACKUP
  nopreempt
  interface {interface}
  virtual_router_id 51
  priority 100
  advert_int 1
  unicast_src_ip {source}
  unicast_peer {{
{peers}  }}
  virtual_ipaddress {{
    {address}/24 dev {interface}
  }}
  track_script {{
    service_alive
  }}
  notify_master "{master}"
  notify_backup "{standby}"
  notify_fault "{standby}"
  notify_stop "{standby}"
}}
"#,
                name = host.name,
                check = check.display(),
                interface = host.interface(),
                source = host.address,
                master = master.display(),
                standby = standby.display(),
            );
            std::fs::write(config_path(dir.path(), index), config).expect("keepalived.conf");
        }
        Keepalived {
            dir,
            daemons: servers.iter().map(|_| None).collect(),
        }
    }

    /// Starts server `index`'s keepalived (VRRP only, in the foreground, its own pid files).
    pub fn start(&mut self, bed: &Bed, index: usize) {
        let host = &bed.hosts[index];
        let dir = self.dir.path();
        let file = |what: &str| dir.join(format!("{}.{what}", host.name));
        // Its processes are gone (or zombies that init has not reaped yet, which keepalived
        // would take for a daemon still running): the pid files of the last one go.
        if self.pids(index).is_empty() {
            for what in ["pid", "vrrp.pid", "checkers.pid"] {
                let _ = std::fs::remove_file(file(what));
            }
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(format!("{}.log", host.name)))
            .expect("keepalived's log");
        let mut command = Command::new(ip_path());
        let child = crate::harness::die_with_test(&mut command)
            .args(["netns", "exec", &host.netns, "keepalived"])
            .args(["--dont-fork", "--log-console", "--log-detail", "--vrrp"])
            .arg("--use-file")
            .arg(config_path(dir, index))
            .arg("--pid")
            .arg(file("pid"))
            .arg("--vrrp_pid")
            .arg(file("vrrp.pid"))
            .arg("--checkers_pid")
            .arg(file("checkers.pid"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("keepalived's log"))
            .stderr(log)
            .spawn()
            .expect("start keepalived: install it with benches/failover/install-keepalived.sh");
        self.daemons[index] = Some(child);
    }

    /// Server `index`'s keepalived processes: every process of the keepalived binary whose
    /// command line names this server's configuration (the parent and its VRRP process, as
    /// `pkill -f` of the configuration would match them).
    pub fn pids(&self, index: usize) -> Vec<u32> {
        let config = config_path(self.dir.path(), index);
        let config = config.to_string_lossy();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        let mut pids: Vec<u32> = entries
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
                let command = std::fs::read(entry.path().join("cmdline")).ok()?;
                let mut words = command.split(|b| *b == 0);
                let program = words.next()?;
                let ours =
                    program.ends_with(b"keepalived") && words.any(|word| word == config.as_bytes());
                (ours && !is_zombie(pid)).then_some(pid)
            })
            .collect();
        pids.sort_unstable();
        pids
    }

    /// Whether server `index`'s keepalived runs with its VRRP process.
    pub fn running(&self, index: usize) -> bool {
        let pids = self.pids(index);
        pids.len() >= 2 && pids.iter().all(|pid| !is_zombie(*pid))
    }

    /// `kill -9` of server `index`'s keepalived (its main process, the one of the pid file,
    /// as clp's benchmark kills clppm; its VRRP process learns of it from the kernel), and
    /// a wait until none of its processes runs.
    pub fn kill(&mut self, index: usize) {
        if let Some(mut child) = self.daemons[index].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.pids(index).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGSTOP of every keepalived process of server `index`; continued when dropped.
    pub fn hang(&self, index: usize) -> Stopped {
        let pids = self.pids(index);
        for pid in &pids {
            signal(*pid, libc::SIGSTOP);
        }
        Stopped { pids }
    }

    /// The pid of the service keepalived's script started on server `index`, if any.
    pub fn service(&self, index: usize) -> Option<u32> {
        std::fs::read_to_string(service_pidfile(self.dir.path(), index))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Server `index`'s keepalived log, for a report.
    pub fn log(&self, bed: &Bed, index: usize) -> String {
        std::fs::read_to_string(
            self.dir
                .path()
                .join(format!("{}.log", bed.hosts[index].name)),
        )
        .unwrap_or_default()
    }

    /// Stops every daemon (SIGTERM: its notify_stop stops the service), then kills what is
    /// left, services included.
    pub fn stop(&mut self) {
        for index in 0..self.daemons.len() {
            if let Some(child) = &self.daemons[index] {
                signal(child.id(), libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        for index in 0..self.daemons.len() {
            if let Some(mut child) = self.daemons[index].take() {
                while Instant::now() < deadline && !is_zombie(child.id()) {
                    std::thread::sleep(Duration::from_millis(50));
                }
                let _ = child.kill();
                let _ = child.wait();
            }
            if let Some(service) = self.service(index)
                && !is_zombie(service)
            {
                signal(service, libc::SIGTERM);
            }
        }
    }
}

impl Drop for Keepalived {
    fn drop(&mut self) {
        for index in 0..self.daemons.len() {
            for pid in self.pids(index) {
                signal(pid, libc::SIGCONT);
            }
        }
        self.stop();
    }
}

/// keepalived processes stopped with SIGSTOP: continued on drop.
#[must_use = "dropping it continues keepalived at once"]
pub struct Stopped {
    pids: Vec<u32>,
}

impl Drop for Stopped {
    fn drop(&mut self) {
        for pid in &self.pids {
            signal(*pid, libc::SIGCONT);
        }
    }
}

fn config_path(dir: &Path, index: usize) -> PathBuf {
    dir.join(format!("keepalived-{index}.conf"))
}

fn service_pidfile(dir: &Path, index: usize) -> PathBuf {
    dir.join(format!("service-{index}.pid"))
}
