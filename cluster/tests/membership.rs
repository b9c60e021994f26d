//! Membership against a real etcd on loopback: Unknown (and why) while etcd cannot be
//! reached, then each server Online or Offline as its lease says; a server that leaves is
//! Offline at once; etcd gone, nobody's state is known again. Skips without `etcd`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clp_cluster::{Change, Membership, Presence, Settings, View};

mod common;
use common::{free_port, skipped_without_etcd, start_etcd};

fn settings(local: &str, client: u16) -> Settings {
    let cluster = format!("test{}", std::process::id());
    common::settings(&cluster, local, &["a", "b"], client)
}

async fn wait_for(
    membership: &Membership,
    what: &str,
    within: Duration,
    ok: impl Fn(&View) -> bool,
) {
    let deadline = Instant::now() + within;
    while !ok(&membership.view()) {
        assert!(
            Instant::now() < deadline,
            "{what}: not within {within:?}; the view is {:?}",
            membership.view()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_follows_the_leases_and_nobody_is_guessed_without_etcd() {
    if skipped_without_etcd() {
        return;
    }
    let client = free_port();
    let changes = Arc::new(Mutex::new(Vec::new()));
    let heard = Arc::clone(&changes);
    let a = Membership::start(settings("a", client), move |change| {
        heard.lock().unwrap().push(change);
    });
    // No etcd yet: every state is unknown, and the view says why.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let view = a.view();
    assert_eq!(view.presence("a"), Presence::Unknown);
    assert_eq!(view.presence("b"), Presence::Unknown);
    assert!(view.problem.is_some(), "{view:?}");
    assert!(a.session().is_none());

    let etcd = start_etcd(client);
    wait_for(&a, "a joins", Duration::from_secs(20), |v| {
        v.problem.is_none()
            && v.presence("a") == Presence::Online
            && v.presence("b") == Presence::Offline
    })
    .await;
    assert!(a.session().is_some());

    let b = Membership::start(settings("b", client), |_| {});
    wait_for(&a, "a sees b", Duration::from_secs(10), |v| {
        v.presence("b") == Presence::Online
    })
    .await;
    // Leaving revokes the lease: Offline at once, not after the timeout.
    let left = Instant::now();
    b.leave().await;
    wait_for(&a, "a sees b leave", Duration::from_secs(1), |v| {
        v.presence("b") == Presence::Offline
    })
    .await;
    assert!(
        left.elapsed() < Duration::from_secs(2),
        "{:?}",
        left.elapsed()
    );

    // etcd gone: nobody's state is known, and that is said.
    drop(etcd);
    wait_for(&a, "a loses etcd", Duration::from_secs(10), |v| {
        v.problem.is_some() && v.presence("b") == Presence::Unknown
    })
    .await;
    a.leave().await;

    let changes = changes.lock().unwrap().clone();
    let expected_order = [
        Change::Regained,
        Change::Up("b".into()),
        Change::Down("b".into()),
    ];
    let mut position = 0;
    for change in &changes {
        if position < expected_order.len() && *change == expected_order[position] {
            position += 1;
        }
    }
    assert_eq!(position, expected_order.len(), "{changes:?}");
    assert!(
        matches!(changes.last(), Some(Change::Lost(_))),
        "{changes:?}"
    );
}
