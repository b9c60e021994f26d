//! The keeper's last step after it killed clppm's groups: release clppm's etcd lease (`lease
//! revoke`), so that the next server takes the groups over at once instead of waiting for
//! the lease to run out (the heartbeat timeout). Only when nothing of them can still run
//! here: no live process is left in any process group the keeper killed or swept (waited
//! for at most [`WAIT_GONE`]), every floating IP came off the interfaces, and clppm can no
//! longer renew the lease:
//! - clppm died: it is gone (the keeper was re-parented);
//! - clppm hangs (it did not renew in time): etcd says the lease is nearly out (nobody
//!   renewed it for two heartbeat intervals, [`stale_bound`]), and the keeper takes the
//!   lease's id out of service, so that nothing clppm starts under it when it wakes up may
//!   run ([`super::fence::Fence::retire`]); clppm must win a new lease, and the groups'
//!   ownership with it, first.
//!
//! Whenever one of these is not sure, or etcd does not answer, nothing is released and the
//! lease runs out as before: the release only ever makes a failover sooner, never less
//! safe.
//!
//! clppm hands the keeper the etcd access in its environment ([`Release::env`]): the
//! endpoints and the TLS files, never a secret's content.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clp_core::config::{EtcdTls, TlsFiles};

/// The etcd endpoints, separated by spaces.
const ENDPOINTS: &str = "CLP_KEEPER_ETCD";
/// The staleness bound of a hung clppm's lease ([`stale_bound`]), whole seconds.
const STALE: &str = "CLP_KEEPER_ETCD_STALE";
/// The TLS files.
const CA: &str = "CLP_KEEPER_ETCD_CA";
const CERT: &str = "CLP_KEEPER_ETCD_CERT";
const KEY: &str = "CLP_KEEPER_ETCD_KEY";

/// How long the killed groups may take to be gone before the lease is left to run out.
pub const WAIT_GONE: Duration = Duration::from_secs(1);

/// How long etcd may take to connect and revoke.
const ETCD_WAIT: Duration = Duration::from_secs(2);

/// The same for a hung clppm's lease: it runs out on its own a moment later (the keeper's
/// margin, and etcd's check of its leases every 500 ms), so waiting longer gains nothing
/// and keeps the keeper from its pipe.
const ETCD_WAIT_HUNG: Duration = Duration::from_millis(300);

/// How many whole seconds etcd may say are left of a hung clppm's lease for the keeper to
/// revoke it: a lease renewed within the last two heartbeat `interval`s has more left (of
/// its TTL, the heartbeat `timeout`; etcd counts whole seconds, rounded down). `None` when
/// the timeout is too short to tell (the lease then runs out on its own).
pub fn stale_bound(interval: Duration, timeout: Duration) -> Option<i64> {
    let bound = timeout
        .checked_sub(Duration::from_secs(1))?
        .checked_sub(interval * 2)?;
    i64::try_from(bound.as_secs()).ok()
}

/// How the keeper reaches etcd to release a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    endpoints: Vec<String>,
    tls: Option<EtcdTls>,
    /// [`stale_bound`], when a hung clppm's lease may be revoked.
    stale: Option<i64>,
}

impl Release {
    /// The environment that hands `endpoints`, `tls` and the [`stale_bound`] to a keeper.
    pub fn env(
        endpoints: &[String],
        tls: Option<&EtcdTls>,
        stale: Option<i64>,
    ) -> Vec<(&'static str, OsString)> {
        let mut env = vec![(ENDPOINTS, OsString::from(endpoints.join(" ")))];
        if let Some(stale) = stale {
            env.push((STALE, OsString::from(stale.to_string())));
        }
        if let Some(tls) = tls {
            if let Some(ca) = &tls.ca_file {
                env.push((CA, ca.clone().into_os_string()));
            }
            if let Some(client) = &tls.client {
                env.push((CERT, client.cert.clone().into_os_string()));
                env.push((KEY, client.key.clone().into_os_string()));
            }
        }
        env
    }

    /// What this keeper was handed; `None` without endpoints.
    pub fn from_env() -> Option<Release> {
        let endpoints: Vec<String> = std::env::var(ENDPOINTS)
            .ok()?
            .split_whitespace()
            .map(str::to_string)
            .collect();
        if endpoints.is_empty() {
            return None;
        }
        let path = |name: &str| std::env::var_os(name).map(PathBuf::from);
        let client = match (path(CERT), path(KEY)) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            _ => None,
        };
        let ca_file = path(CA);
        let tls = (ca_file.is_some() || client.is_some()).then_some(EtcdTls { ca_file, client });
        let stale = std::env::var(STALE).ok().and_then(|s| s.parse().ok());
        Some(Release {
            endpoints,
            tls,
            stale,
        })
    }

    /// Revokes the lease of a clppm that died (the owner keys and the presence on it go at
    /// once); or why not.
    pub fn revoke(&self, lease: i64) -> Result<(), String> {
        self.run(lease, ETCD_WAIT, None).map(|_| ())
    }

    /// Revokes the lease of a clppm that hangs, when etcd says nobody renewed it lately; what
    /// happened, or why not.
    pub fn revoke_stale(&self, lease: i64) -> Result<clp_cluster::Revoked, String> {
        let Some(stale) = self.stale else {
            return Err("the heartbeat timeout is too short to tell a hung lease".into());
        };
        self.run(lease, ETCD_WAIT_HUNG, Some(stale))
    }

    fn run(
        &self,
        lease: i64,
        wait: Duration,
        unless_renewed: Option<i64>,
    ) -> Result<clp_cluster::Revoked, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| format!("no runtime: {error}"))?;
        runtime.block_on(clp_cluster::revoke_lease(
            &self.endpoints,
            self.tls.as_ref(),
            lease,
            wait,
            unless_renewed,
        ))
    }
}

/// Waits until this process's parent is no longer `parent` (it exited and the kernel gave
/// this one another), for at most `within`; whether it happened.
pub fn wait_reparented(parent: i32, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        // SAFETY: getppid has no preconditions.
        if unsafe { libc::getppid() } != parent {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Waits until no process of the process groups `groups` runs (zombies are dead), for at
/// most `within`; whether they are all gone.
pub fn wait_gone(groups: &[i32], within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if !any_alive(groups) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Whether a live (not zombie) process belongs to one of `groups`.
fn any_alive(groups: &[i32]) -> bool {
    if groups.is_empty() {
        return false;
    }
    let Ok(mut pids) = clp_core::process::pids() else {
        // Cannot look: not sure they are gone.
        return true;
    };
    pids.any(|pid| {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return false;
        };
        live_group(&stat).is_some_and(|group| groups.contains(&group))
    })
}

/// The process group of a `/proc/PID/stat` line, unless the process is a zombie (or dead).
fn live_group(stat: &str) -> Option<i32> {
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace();
    let state = fields.next()?;
    if state == "Z" || state == "X" {
        return None;
    }
    let _parent = fields.next()?;
    fields.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_group_of_a_stat_line_unless_a_zombie() {
        let line = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0";
        assert_eq!(live_group(line), Some(4242));
        assert_eq!(live_group("17 (sh) Z 1 15 15 0"), None);
        assert_eq!(live_group("17 (sh) R 1"), None);
        assert_eq!(live_group("garbage"), None);
    }

    #[test]
    fn the_environment_hands_the_access_over() {
        let tls = EtcdTls {
            ca_file: Some("/etc/clp/ca.pem".into()),
            client: Some(TlsFiles {
                cert: "/etc/clp/c.pem".into(),
                key: "/etc/clp/k.pem".into(),
            }),
        };
        let env = Release::env(
            &["https://a:2379".into(), "https://b:2379".into()],
            Some(&tls),
            Some(1),
        );
        let names: Vec<&str> = env.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, [ENDPOINTS, STALE, CA, CERT, KEY]);
        assert_eq!(env[1].1, "1");
        assert_eq!(env[0].1, "https://a:2379 https://b:2379");
    }

    #[test]
    fn a_lease_is_stale_when_two_intervals_passed_without_renewal() {
        let ms = Duration::from_millis;
        // The defaults: 0.5 s / 3 s; at most 1 s left (less than 2 s: renewed over 1 s ago).
        assert_eq!(stale_bound(ms(500), ms(3000)), Some(1));
        assert_eq!(stale_bound(ms(1000), ms(3000)), Some(0));
        assert_eq!(stale_bound(ms(3000), ms(90_000)), Some(83));
        // Too short to tell: the lease runs out on its own.
        assert_eq!(stale_bound(ms(1000), ms(2000)), None);
        assert_eq!(stale_bound(ms(500), ms(500)), None);
    }

    #[test]
    fn a_parent_that_lives_on_is_not_taken_for_gone() {
        // SAFETY: getppid has no preconditions.
        let parent = unsafe { libc::getppid() };
        assert!(!wait_reparented(parent, Duration::from_millis(20)));
        assert!(wait_reparented(parent + 1, Duration::ZERO));
    }

    #[test]
    fn our_own_process_group_is_alive_and_an_unused_one_is_gone() {
        // SAFETY: getpgrp has no preconditions.
        let ours = unsafe { libc::getpgrp() };
        assert!(any_alive(&[ours]));
        assert!(wait_gone(&[], Duration::ZERO));
        assert!(!any_alive(&[i32::MAX]));
    }
}
