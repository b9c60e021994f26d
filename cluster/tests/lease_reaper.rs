//! The lease reaper against a real etcd on loopback: a lease nobody renews is revoked a
//! moment after it ran out (before etcd's half-second sweep, mostly), one renewed while it
//! was watched is left alone. Skips without `etcd`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use clp_cluster::lease_reaper::{Reaped, reap};
use etcd_client::Client;

mod common;
use common::etcd_or_skip;

/// The TTL of the leases here (etcd's minimum on loopback is 2 s).
const TTL: i64 = 3;

async fn connect(port: u16) -> Client {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(mut client) = Client::connect([format!("http://127.0.0.1:{port}")], None).await
            && client.status().await.is_ok()
        {
            return client;
        }
        assert!(Instant::now() < deadline, "etcd did not answer within 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whole seconds etcd says are left of `lease` (-1: gone).
async fn left(client: &mut Client, lease: i64) -> i64 {
    client.lease_time_to_live(lease, None).await.unwrap().ttl()
}

/// Waits until etcd says a second or less is left of `lease`.
async fn until_late(client: &mut Client, lease: i64) {
    while left(client, lease).await > 1 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_nobody_renews_is_revoked_once_it_surely_ran_out() {
    let Some((port, _etcd)) = etcd_or_skip() else {
        return;
    };
    let client = connect(port).await;
    // Several leases granted a little apart: etcd's sweep comes at another moment of each
    // one's expiry, so it cannot come first every time.
    let mut trials = Vec::new();
    for trial in 0..4u64 {
        let mut client = client.clone();
        trials.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(130 * trial)).await;
            let granted = Instant::now();
            let lease = client.lease_grant(TTL, None).await.unwrap().id();
            until_late(&mut client, lease).await;
            let reaped = reap(&mut client, lease).await.unwrap();
            let after = granted.elapsed();
            assert_eq!(
                left(&mut client, lease).await,
                -1,
                "the lease is still there"
            );
            (reaped, after)
        }));
    }
    let mut revoked = 0;
    for trial in trials {
        let (reaped, after) = trial.await.unwrap();
        eprintln!("{reaped:?} {after:?} after the grant (TTL {TTL} s)");
        assert_ne!(reaped, Reaped::Renewed);
        // Never before it ran out; never as late as etcd's sweep can be.
        assert!(after >= Duration::from_secs(TTL as u64), "{after:?}");
        if reaped == Reaped::Revoked {
            revoked += 1;
            assert!(
                after < Duration::from_secs(TTL as u64) + Duration::from_millis(400),
                "{after:?}"
            );
        }
    }
    assert!(revoked > 0, "etcd's sweep came first every time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_renewed_while_it_is_watched_is_left_alone() {
    let Some((port, _etcd)) = etcd_or_skip() else {
        return;
    };
    let mut client = connect(port).await;
    let lease = client.lease_grant(TTL, None).await.unwrap().id();
    // etcd says 0 s are left once less than a second is: the reaper then waits out that
    // second; the owner renews within it.
    while left(&mut client, lease).await > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut watcher = client.clone();
    let watching = tokio::spawn(async move { reap(&mut watcher, lease).await.unwrap() });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (mut keeper, mut acks) = client.lease_keep_alive(lease).await.unwrap();
    keeper.keep_alive().await.unwrap();
    let ack = acks.message().await.unwrap().expect("a renewal's answer");
    assert_eq!(ack.ttl(), TTL, "the renewal was refused");
    assert_eq!(watching.await.unwrap(), Reaped::Renewed);
    assert!(
        left(&mut client, lease).await >= 1,
        "the renewed lease went"
    );
}
