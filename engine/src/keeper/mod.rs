//! The keeper: clppm's death is not the service's death, nor a licence to run twice.
//!
//! In an HA cluster (more than one server) clppm starts a small process, the keeper, and
//! feeds it through a pipe: the validity deadline of its etcd lease at every renewal, and the
//! process group of every resource as it starts and stops. The keeper kills those groups
//! (SIGKILL) when clppm dies (the pipe closes without `bye`), talks nonsense, or does not
//! renew its lease in time (it hangs, or lost etcd and did not stop its groups): always a
//! margin before the lease can run out, so no other server can start a group while this one
//! still runs it. A one-server configuration has no keeper.
//!
//! Choices: a hidden mode of clppm rather than a binary of its own, so it is always the
//! version of the clppm that feeds it (started through `/proc/self/exe`, which still works
//! after an upgrade replaced the file) and needs no install step, completion or man page.
//! Process groups rather than a cgroup: every resource already leads its own group
//! (`clp_core::process`), and a cgroup needs a writable, delegated cgroup v2 hierarchy that
//! hosts lay out differently (systemd's, hybrid mounts). A resource that leaves its group
//! (`setsid`) is still found by the sweep while it keeps its environment.
//!
//! It is named [`NAME`] (its argv\[0\] and its comm), not `clppm`: an operator's
//! `pkill -9 clppm`, `pkill -9 -f clppm` or `killall -9 clppm` ends clppm and leaves the
//! keeper to end the resources. What nothing in user space can cover is both killed at
//! once (`kill -9` of both pids, the OOM killer): the resources then run unsupervised until
//! a clppm starts here again, which stops a group whose owner key another server took
//! meanwhile (`Engine::regained_cluster`).
//!
//! - [`fence`]: the keeper's decision, pure; [`protocol`]: its input lines.
//! - [`run`]: the keeper process itself (`clppm --keeper MARGIN_MS`, a hidden mode).
//! - [`supervise`]: clppm's side: start, feed, replace a keeper that dies, `bye`.
//! - [`release`]: after it killed the groups of a clppm that died or hangs, the keeper
//!   releases its lease so that the next server takes over at once.
//! - `sweep.rs`: when it kills, the keeper also kills the resource scripts of its root that
//!   clppm had not told it of yet (found by their environment).

pub mod fence;
pub mod protocol;
pub mod release;
mod run;
pub mod supervise;
mod sweep;

use std::time::Duration;

pub use run::run;

/// The keeper's process name (argv\[0\] and comm): not `clppm`, so that killing clppm by
/// name does not kill its keeper too.
pub const NAME: &str = "clpkeeper";
pub use supervise::{Keeper, Link};

use clp_core::config::Config;
use clp_core::paths::Paths;

/// Starts the keeper when `config` is a cluster's; it writes what it does to `paths`' daemon
/// log. `on_lost` runs when it cannot be started, or dies and cannot be replaced: clppm can
/// then no longer promise that its resources stop with its ownership. Call inside the tokio
/// runtime, before the engine starts (it adopts processes), and hand the engine its
/// [`Keeper::link`].
pub fn start(
    config: &Config,
    paths: &Paths,
    on_lost: impl Fn(String) + Send + Sync + 'static,
) -> Option<Keeper> {
    if !config.is_cluster() {
        return None;
    }
    let margin = margin(config.heartbeat.interval, config.heartbeat.timeout);
    let etcd = config
        .etcd
        .as_ref()
        .map(|etcd| {
            let stale = release::stale_bound(config.heartbeat.interval, config.heartbeat.timeout);
            release::Release::env(&etcd.endpoints, etcd.tls.as_ref(), stale)
        })
        .unwrap_or_default();
    let on_lost = std::sync::Arc::new(on_lost);
    let lost = std::sync::Arc::clone(&on_lost);
    match Keeper::start(margin, etcd, paths, move |why| lost(why)) {
        Ok(keeper) => Some(keeper),
        Err(error) => {
            on_lost(format!(
                "cannot start the keeper of this server's resources: {error}"
            ));
            None
        }
    }
}

/// How long before the lease's deadline the keeper kills: half a heartbeat interval, between
/// 100 ms and 1 s, and never more than a quarter of the timeout.
pub fn margin(interval: Duration, timeout: Duration) -> Duration {
    (interval / 2)
        .clamp(Duration::from_millis(100), Duration::from_secs(1))
        .min(timeout / 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_margin_is_half_an_interval_within_bounds() {
        let ms = Duration::from_millis;
        assert_eq!(margin(ms(500), ms(3000)), ms(250));
        assert_eq!(margin(ms(100), ms(3000)), ms(100));
        assert_eq!(margin(ms(5000), ms(30000)), ms(1000));
        assert_eq!(margin(ms(1000), ms(2000)), ms(500));
        assert_eq!(margin(ms(1000), ms(1000)), ms(250));
    }
}
