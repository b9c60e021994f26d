//! A silent peer's lease revoked the moment it has surely run out. etcd removes a lease that
//! ran out only at its next sweep, every half second: a server that fell silent (its link
//! cut, a partition) would hold its groups for up to 0.5 s beyond its heartbeat timeout. Each
//! server therefore watches the others' leases and revokes one itself once etcd's own answers
//! prove it ran out; what was on it (the presence, the group owner keys) goes with it, as it
//! would at the sweep.
//!
//! etcd says what is left of a lease in whole seconds, rounded down. A peer renews every
//! heartbeat interval, so its lease normally has more than one second left; one that shows
//! one second or less is late and watched closely ([`CLOSE_LOOK`]); with a TTL of 2 s, which
//! shows 1 even when renewed on time, only one that shows 0 is late. The answer that first
//! says 0 arrived at `t`: the lease then had less than a second left, so it ran out before
//! `t + 1 s`. At that moment (plus [`MARGIN`]) etcd is asked once more: a lease it still has,
//! still says 0 of, and under the same raft term (no new leader, which would have extended
//! every lease) has run out, and etcd no longer renews a lease that ran out. Only then it is
//! revoked. The peer's own keeper stops its groups before the lease's deadline as the peer
//! counts it, which is never later than etcd's: revoking after etcd's deadline is safe.

use std::time::Duration;

use etcd_client::{Client, GetOptions};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::{Session, keys};

/// How often the peers' leases are looked at while they renew on time.
pub const LOOK_EVERY: Duration = Duration::from_millis(500);

/// How often a lease with a second or less left is looked at.
pub const CLOSE_LOOK: Duration = Duration::from_millis(50);

/// Waited beyond the latest moment the lease can run out, before the last question.
pub const MARGIN: Duration = Duration::from_millis(20);

/// What became of a watched lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaped {
    /// It ran out and this server revoked it.
    Revoked,
    /// etcd no longer had it (its sweep came first, or it was revoked).
    Gone,
    /// It was renewed, or a new etcd leader extended it: left to etcd.
    Renewed,
}

/// What etcd says of a lease at one moment.
#[derive(Debug, Clone, Copy)]
struct Left {
    /// Whole seconds left, rounded down (-1: etcd has no such lease).
    seconds: i64,
    /// The TTL it was granted, in seconds.
    granted: i64,
    /// The raft term of the answer (a new leader, a new term).
    term: u64,
}

/// Whether a lease that shows `seconds` left of the `granted` TTL missed a renewal.
fn late(seconds: i64, granted: i64) -> bool {
    seconds == 0 || (seconds == 1 && granted >= 3)
}

/// What etcd says of `lease` now.
async fn left(client: &mut Client, lease: i64) -> Result<Left, String> {
    let answer = client
        .lease_time_to_live(lease, None)
        .await
        .map_err(|error| format!("etcd did not say what is left of lease {lease:x}: {error}"))?;
    Ok(Left {
        seconds: answer.ttl(),
        granted: answer.granted_ttl(),
        term: answer.header().map_or(0, |header| header.raft_term()),
    })
}

/// Watches `lease` while it is late (it missed a renewal) until it is renewed, gone, or
/// surely ran out — then revokes it.
pub async fn reap(client: &mut Client, lease: i64) -> Result<Reaped, String> {
    let (ran_out_by, term) = loop {
        let now = left(client, lease).await?;
        match now.seconds {
            ..0 => return Ok(Reaped::Gone),
            0 => break (Instant::now() + Duration::from_secs(1) + MARGIN, now.term),
            seconds if late(seconds, now.granted) => tokio::time::sleep(CLOSE_LOOK).await,
            _ => return Ok(Reaped::Renewed),
        }
    };
    tokio::time::sleep_until(ran_out_by).await;
    let last = left(client, lease).await?;
    match last.seconds {
        ..0 => Ok(Reaped::Gone),
        0 if last.term == term => {
            match client.lease_revoke(lease).await {
                Ok(_) => Ok(Reaped::Revoked),
                // etcd's sweep came between the last question and the revoke.
                Err(error) if crate::membership::lease_not_found(&error) => Ok(Reaped::Gone),
                Err(error) => Err(format!("etcd did not revoke lease {lease:x}: {error}")),
            }
        }
        _ => Ok(Reaped::Renewed),
    }
}

/// The peers' presence leases, from their server keys: `(server, lease)`, this server's
/// own left out.
async fn peer_leases(
    client: &mut Client,
    cluster: &str,
    local: &str,
) -> Result<Vec<(String, i64)>, String> {
    let prefix = keys::servers_prefix(cluster);
    let listed = client
        .get(
            prefix.as_str(),
            Some(GetOptions::new().with_prefix().with_keys_only()),
        )
        .await
        .map_err(|error| format!("etcd did not list the servers: {error}"))?;
    Ok(listed
        .kvs()
        .iter()
        .filter_map(|kv| {
            let name = keys::server_of(&prefix, kv.key())?;
            (name != local && kv.lease() != 0).then(|| (name.to_string(), kv.lease()))
        })
        .collect())
}

/// Looks at the peers' leases every [`LOOK_EVERY`] through the current session's client and
/// reaps ([`reap`]) each one that is late, each in a task of its own.
/// Runs until the sessions' sender is dropped; spawn it and abort it to end it sooner.
pub async fn reap_silent_peers(
    sessions: watch::Receiver<Option<Session>>,
    cluster: String,
    local: String,
) {
    // The leases being reaped; the tasks end with this one (a JoinSet aborts them on drop).
    let mut watched = std::collections::HashSet::new();
    let mut reaping = tokio::task::JoinSet::new();
    let mut looks = crate::rounds::Looks::every(LOOK_EVERY, sessions);
    while let Some(mut client) = looks.next().await {
        while let Some(done) = reaping.try_join_next() {
            if let Ok(lease) = done {
                watched.remove(&lease);
            }
        }
        let peers = match peer_leases(&mut client, &cluster, &local).await {
            Ok(peers) => peers,
            Err(error) => {
                tracing::debug!("{error}");
                continue;
            }
        };
        for (server, lease) in peers {
            if watched.contains(&lease) {
                continue;
            }
            match left(&mut client, lease).await {
                Ok(now) if late(now.seconds, now.granted) => {}
                Ok(_) => continue,
                Err(error) => {
                    tracing::debug!("{error}");
                    continue;
                }
            }
            let mut client = client.clone();
            watched.insert(lease);
            reaping.spawn(async move {
                match reap(&mut client, lease).await {
                    Ok(Reaped::Revoked) => tracing::info!(
                        "server {server}'s etcd lease {lease:x} ran out: revoked without waiting for etcd's sweep"
                    ),
                    Ok(_) => {}
                    Err(error) => tracing::debug!("server {server}: {error}"),
                }
                lease
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::late;

    #[test]
    fn a_lease_is_late_once_it_shows_less_than_a_renewal_leaves() {
        // TTL 3 s renewed every second or more often shows 2 or 3.
        assert!(!late(3, 3));
        assert!(!late(2, 3));
        assert!(late(1, 3));
        assert!(late(0, 3));
        // TTL 2 s shows 1 right after a renewal.
        assert!(!late(1, 2));
        assert!(late(0, 2));
        assert!(!late(-1, 3));
    }
}
