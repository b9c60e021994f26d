//! Group ownership against a real etcd on loopback: two servers race for one group and
//! exactly one wins; a release lets the other win with a larger fencing token; the owner's
//! lease revoked, its key is gone and the watch calls the group an orphan, while a release
//! by a server that stays is not; a hand-over is heard as a move. Skips without `etcd`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clp_cluster::ownership::{self, Claim};
use clp_cluster::{Membership, OwnerEvent, Owners, Settings};

mod common;
use common::{etcd_or_skip, session_of, wait_until};

fn settings(cluster: &str, local: &str, client: u16) -> Settings {
    common::settings(cluster, local, &["a", "b"], client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_owner_per_group_a_release_hands_over_and_a_lost_lease_orphans() {
    let Some((client, _etcd)) = etcd_or_skip() else {
        return;
    };
    let cluster = format!("own{}", std::process::id());
    let a = Membership::start(settings(&cluster, "a", client), |_| {});
    let b = Membership::start(settings(&cluster, "b", client), |_| {});
    let session_a = session_of(&a).await;
    let session_b = session_of(&b).await;

    let events = Arc::new(Mutex::new(Vec::new()));
    let heard = Arc::clone(&events);
    let owners = Owners::start(&cluster, b.sessions(), move |event| {
        heard.lock().unwrap().push(event);
    });
    wait_until("the owners watch starts", Duration::from_secs(10), || {
        owners.view().known
    })
    .await;

    // Two servers race for one group, many times over: exactly one wins each race.
    for round in 0..10 {
        let group = format!("race{round}");
        let (first, second) = tokio::join!(
            ownership::claim(&session_a, &cluster, &group, "a"),
            ownership::claim(&session_b, &cluster, &group, "b"),
        );
        let won: Vec<_> = [first.unwrap(), second.unwrap()]
            .into_iter()
            .filter(|claim| matches!(claim, Claim::Won(_)))
            .collect();
        assert_eq!(won.len(), 1, "round {round}: {won:?}");
    }

    // a owns "web"; b cannot take it; a claiming again keeps the same token.
    let Claim::Won(first_fence) = ownership::claim(&session_a, &cluster, "web", "a")
        .await
        .unwrap()
    else {
        panic!("a did not win a free group");
    };
    match ownership::claim(&session_b, &cluster, "web", "b")
        .await
        .unwrap()
    {
        Claim::Held(owner) => {
            assert_eq!(owner.server, "a");
            assert_eq!(owner.fence, first_fence);
            assert_eq!(owner.lease, session_a.lease);
        }
        Claim::Won(fence) => panic!("b took a held group (token {fence})"),
    }
    assert_eq!(
        ownership::claim(&session_a, &cluster, "web", "a")
            .await
            .unwrap(),
        Claim::Won(first_fence)
    );
    wait_until("the watch sees a own web", Duration::from_secs(5), || {
        owners.view().owner("web").is_some_and(|o| o.server == "a")
    })
    .await;

    // b cannot release what a owns; a's release lets b win with a larger token.
    assert!(
        !ownership::release(&session_b, &cluster, "web", "b")
            .await
            .unwrap()
    );
    assert!(
        ownership::release(&session_a, &cluster, "web", "a")
            .await
            .unwrap()
    );
    let Claim::Won(second_fence) = ownership::claim(&session_b, &cluster, "web", "b")
        .await
        .unwrap()
    else {
        panic!("b did not win the released group");
    };
    assert!(
        second_fence > first_fence,
        "{second_fence} <= {first_fence}"
    );
    wait_until("the watch sees b own web", Duration::from_secs(5), || {
        owners.view().owner("web").is_some_and(|o| o.server == "b")
    })
    .await;
    assert!(
        events.lock().unwrap().contains(&OwnerEvent::Released {
            group: "web".into(),
            server: "a".into()
        }),
        "{:?}",
        events.lock().unwrap()
    );

    // b hands "web" over (it failed there): the watch hears a move, and a may take it.
    assert!(
        ownership::hand_over(&session_b, &cluster, "web", "b")
            .await
            .unwrap()
    );
    wait_until("the watch hears web moved", Duration::from_secs(5), || {
        events.lock().unwrap().contains(&OwnerEvent::Moved {
            group: "web".into(),
            server: "b".into(),
        })
    })
    .await;
    assert!(matches!(
        ownership::claim(&session_a, &cluster, "web", "a")
            .await
            .unwrap(),
        Claim::Won(_)
    ));

    // a owns "db"; a's lease revoked (it leaves): the key is gone with its presence, an orphan.
    assert!(matches!(
        ownership::claim(&session_a, &cluster, "db", "a")
            .await
            .unwrap(),
        Claim::Won(_)
    ));
    wait_until("the watch sees a own db", Duration::from_secs(5), || {
        owners.view().owner("db").is_some()
    })
    .await;
    a.leave().await;
    wait_until("db's owner key goes", Duration::from_secs(5), || {
        owners.view().owner("db").is_none()
    })
    .await;
    assert!(
        events.lock().unwrap().contains(&OwnerEvent::Orphaned {
            group: "db".into(),
            server: "a".into()
        }),
        "{:?}",
        events.lock().unwrap()
    );
    // The orphan is free: b takes it.
    assert!(matches!(
        ownership::claim(&session_b, &cluster, "db", "b")
            .await
            .unwrap(),
        Claim::Won(_)
    ));
    b.leave().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_that_stops_renewing_loses_its_key_after_the_ttl() {
    let Some((client, _etcd)) = etcd_or_skip() else {
        return;
    };
    let cluster = format!("ttl{}", std::process::id());
    let a = Membership::start(settings(&cluster, "a", client), |_| {});
    let b = Membership::start(settings(&cluster, "b", client), |_| {});
    let session_a = session_of(&a).await;
    let session_b = session_of(&b).await;
    assert!(matches!(
        ownership::claim(&session_a, &cluster, "web", "a")
            .await
            .unwrap(),
        Claim::Won(_)
    ));
    // Dropped, a stops renewing: its lease (2 s) runs out and the key with it.
    drop(a);
    let dropped = Instant::now();
    loop {
        match ownership::claim(&session_b, &cluster, "web", "b")
            .await
            .unwrap()
        {
            Claim::Won(_) => break,
            Claim::Held(owner) => {
                assert_eq!(owner.server, "a");
                assert!(
                    dropped.elapsed() < Duration::from_secs(10),
                    "a's key outlived its lease"
                );
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        dropped.elapsed() >= Duration::from_millis(1000),
        "the key went before the lease could run out: {:?}",
        dropped.elapsed()
    );
    b.leave().await;
}
