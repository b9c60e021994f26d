//! The faults the scenarios inject, each with a guard that undoes it when dropped (the bed's
//! own drop removes whatever is left in any case): a hung clppm (SIGSTOP, undone by SIGCONT),
//! a host's link cut (its bridge end down, undone by up), an etcd member stopped (restarted
//! by [`Bed::restart_etcd`]). `kill -9` of a clppm is [`Bed::kill_clppm`].

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

impl Bed {
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

    /// Starts host `index`'s etcd member again on its data: it rejoins the cluster.
    pub fn restart_etcd(&mut self, index: usize) {
        self.stop_etcd(index);
        self.etcd[index] = Some(self.spawn_etcd(index));
    }
}
