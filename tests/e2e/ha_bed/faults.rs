//! The faults the scenarios inject, each with a guard that undoes it when dropped (the bed's
//! own drop removes whatever is left in any case): a hung clppm (SIGSTOP, undone by SIGCONT),
//! a host's link cut (its bridge end down, undone by up), a host silently partitioned (an
//! nft table inside its namespace drops everything but loopback, undone by deleting it), an
//! etcd member stopped (restarted by [`Bed::restart_etcd`]). `kill -9` of a clppm is
//! [`Bed::kill_clppm`].

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use super::{Bed, ip_path};
use crate::harness::signal;

/// A clppm stopped with SIGSTOP: continued (SIGCONT) on drop.
#[must_use = "dropping it continues the clppm at once"]
pub struct Hung {
    pid: u32,
}

impl Drop for Hung {
    fn drop(&mut self) {
        signal(self.pid, libc::SIGCONT);
    }
}

/// A host whose link is cut (the bridge end of its veth down: the host sees carrier loss):
/// healed on drop.
#[must_use = "dropping it heals the link at once"]
pub struct LinkCut {
    veth: String,
}

impl LinkCut {
    /// Heals the link now.
    pub fn heal(self) {}
}

impl Drop for LinkCut {
    fn drop(&mut self) {
        let _ = Command::new(ip_path())
            .args(["link", "set", &self.veth, "up"])
            .stderr(Stdio::null())
            .status();
    }
}

/// The nft table of a silent partition: nothing in or out but loopback.
const PARTITION: &str = "table inet clp_partition {
  chain input { type filter hook input priority 0; policy drop; iif \"lo\" accept; }
  chain output { type filter hook output priority 0; policy drop; oif \"lo\" accept; }
}
";

/// A host cut off silently (its link stays up, nothing passes): healed on drop.
#[must_use = "dropping it heals the partition at once"]
pub struct Partition {
    netns: String,
}

impl Partition {
    /// Heals the partition now.
    pub fn heal(self) {}
}

impl Drop for Partition {
    fn drop(&mut self) {
        let _ = Command::new(ip_path())
            .args(["netns", "exec", &self.netns])
            .args([nft(), "delete", "table", "inet", "clp_partition"])
            .stderr(Stdio::null())
            .status();
    }
}

/// The `nft` command.
fn nft() -> &'static str {
    ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"]
        .into_iter()
        .find(|path| Path::new(path).exists())
        .unwrap_or("nft")
}

/// Whether `nft` is there (a partition needs it: `.ci/setup.d/nftables.sh`).
pub fn has_nft() -> bool {
    Path::new(nft()).exists()
}

impl Bed {
    /// Cuts host `index` off silently: its link stays up and nothing passes until the guard
    /// drops (or [`Partition::heal`]). Needs `nft` ([`has_nft`]).
    pub fn partition(&self, index: usize) -> Partition {
        let netns = self.hosts[index].netns.clone();
        let mut child = Command::new(ip_path())
            .args(["netns", "exec", &netns, nft(), "-f", "-"])
            .stdin(Stdio::piped())
            .spawn()
            .expect("run nft: install it with .ci/setup.d/nftables.sh");
        let partition = Partition { netns };
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(PARTITION.as_bytes())
                .expect("the partition's rules to nft");
        }
        let status = child.wait().expect("nft");
        assert!(status.success(), "nft refused the partition's table");
        partition
    }

    /// SIGSTOP of the clppm started as `pid` (a hang): continued when the guard drops.
    pub fn hang_clppm(&self, pid: u32) -> Hung {
        signal(pid, libc::SIGSTOP);
        Hung { pid }
    }

    /// Cuts host `index`'s link: nothing passes between it and the others until the guard
    /// drops (or [`LinkCut::heal`]).
    pub fn cut_link(&self, index: usize) -> LinkCut {
        let veth = self.hosts[index].veth_host.clone();
        crate::netns::ip(&["link", "set", &veth, "down"]);
        LinkCut { veth }
    }

    /// `kill -9` of host `index`'s etcd member (its data stays: [`Bed::restart_etcd`]).
    pub fn stop_etcd(&mut self, index: usize) {
        if let Some(child) = self.etcd[index].as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.etcd[index] = None;
    }

    /// The host whose etcd member leads the cluster now, as the members say (etcd's
    /// `maintenance/status` over its HTTP gateway); `None` while none answers with a leader.
    pub fn etcd_leader(&self) -> Option<usize> {
        self.hosts.iter().enumerate().find_map(|(index, host)| {
            self.etcd[index].as_ref()?;
            let address = format!("{}:2379", host.address);
            let status = super::client::in_netns(&host.netns, move || {
                etcd_post(&address, "/v3/maintenance/status", "{}")
            });
            let status = status.ok()?;
            let member = status["header"]["member_id"].as_str()?;
            (Some(member) == status["leader"].as_str()).then_some(index)
        })
    }

    /// Hands etcd's leadership to host `to`'s member (etcd's `transfer-leadership`, sent to
    /// the leader); waits until it leads.
    pub fn move_etcd_leader(&self, to: usize) {
        let target = &self.hosts[to];
        let address = format!("{}:2379", target.address);
        let status = super::client::in_netns(&target.netns, move || {
            etcd_post(&address, "/v3/maintenance/status", "{}")
        })
        .expect("the status of the new leader's member");
        let id = status["header"]["member_id"]
            .as_str()
            .expect("a member id")
            .to_string();
        crate::harness::wait_until(
            &format!("{}'s etcd member to lead", target.name),
            std::time::Duration::from_secs(15),
            || {
                let Some(leader) = self.etcd_leader() else {
                    return false;
                };
                if leader == to {
                    return true;
                }
                let host = &self.hosts[leader];
                let address = format!("{}:2379", host.address);
                let body = format!("{{\"targetID\": \"{id}\"}}");
                let _ = super::client::in_netns(&host.netns, move || {
                    etcd_post(&address, "/v3/maintenance/transfer-leadership", &body)
                });
                false
            },
        );
        // Requests stall while leadership moves: let the servers' heartbeats catch up (two
        // renewals) before the caller's fault, which is then measured on its own.
        std::thread::sleep(std::time::Duration::from_secs(1));
    }

    /// Starts host `index`'s etcd member again on its data: it rejoins the cluster.
    pub fn restart_etcd(&mut self, index: usize) {
        self.stop_etcd(index);
        self.etcd[index] = Some(self.spawn_etcd(index));
    }
}

/// `POST path` with the JSON `body` to the etcd member at `address` (its HTTP gateway,
/// from inside its namespace): the answer.
fn etcd_post(address: &str, path: &str, body: &str) -> Result<serde_json::Value, String> {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(address).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "POST {path} HTTP/1.0\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| e.to_string())?;
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).map_err(|e| format!("{e}: {answer}"))
}
