//! A move of a group against a real etcd on loopback: a request naming a stale fencing token,
//! or a move key that changed, is not written; the owner's release deletes its owner key and
//! marks the move released in one transaction, heard by the watch as such; the destination
//! then wins the key with a larger token; an outcome written over a stale key is refused; a
//! failure after one was seen is heard. Skips without `etcd`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use clp_cluster::moving::{self, MoveIntent, MoveState};
use clp_cluster::ownership::{self, Claim};
use clp_cluster::{Membership, OwnerEvent, Owners, Settings};

mod common;
use common::{etcd_or_skip, session_of, wait_until};

fn settings(cluster: &str, local: &str, client: u16) -> Settings {
    common::settings(cluster, local, &["a", "b"], client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_is_written_only_over_the_owner_it_names_and_released_in_one_transaction() {
    let Some((client, _etcd)) = etcd_or_skip() else {
        return;
    };
    let cluster = format!("mov{}", std::process::id());
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
    let Claim::Won(fence) = ownership::claim(&session_a, &cluster, "web", "a")
        .await
        .unwrap()
    else {
        panic!("a did not win a free group");
    };

    // A stale token, or a move key other than the one read: nothing is written.
    let stale = MoveIntent::new("stale".into(), "a", "b", fence - 1);
    assert!(
        !moving::request(&session_b, &cluster, "web", &stale, 0)
            .await
            .unwrap()
    );
    let intent = MoveIntent::new("m1".into(), "a", "b", fence);
    assert!(
        !moving::request(&session_b, &cluster, "web", &intent, 12345)
            .await
            .unwrap()
    );
    assert!(
        moving::request(&session_b, &cluster, "web", &intent, 0)
            .await
            .unwrap()
    );
    // A second request over the one just written, read as absent: refused.
    let again = MoveIntent::new("m2".into(), "a", "b", fence);
    assert!(
        !moving::request(&session_b, &cluster, "web", &again, 0)
            .await
            .unwrap()
    );
    wait_until(
        "the watch hears the request",
        Duration::from_secs(5),
        || {
            events.lock().unwrap().iter().any(|event| {
                matches!(event, OwnerEvent::MoveRequested { group, moving }
                if group == "web" && moving.intent == intent)
            })
        },
    )
    .await;
    let requested = owners.view().moves["web"].clone();

    // Only the owner releases; its key and the move change in one revision.
    assert!(
        !moving::release(&session_b, &cluster, "web", "b", &requested)
            .await
            .unwrap()
    );
    assert!(
        moving::release(&session_a, &cluster, "web", "a", &requested)
            .await
            .unwrap()
    );
    wait_until(
        "the watch hears the release",
        Duration::from_secs(5),
        || {
            let view = owners.view();
            view.owner("web").is_none()
            && view.moves["web"].intent.state == MoveState::Released
            && events.lock().unwrap().iter().any(|event| {
                matches!(event, OwnerEvent::MoveReleased { group, .. } if group == "web")
            })
        },
    )
    .await;
    let released = owners.view().moves["web"].clone();
    assert_eq!(released.intent.id, "m1");

    // The destination takes the key with a larger token and writes the outcome; an outcome
    // over a stale read of the key is refused.
    let Claim::Won(second) = ownership::claim(&session_b, &cluster, "web", "b")
        .await
        .unwrap()
    else {
        panic!("b did not win the released group");
    };
    assert!(second > fence, "{second} <= {fence}");
    let done = released.intent.with_state(MoveState::Done, None);
    assert!(
        !moving::finish(&session_b, &cluster, "web", &requested, &done)
            .await
            .unwrap()
    );
    assert!(
        moving::finish(&session_b, &cluster, "web", &released, &done)
            .await
            .unwrap()
    );
    wait_until(
        "the watch sees the move done",
        Duration::from_secs(5),
        || owners.view().moves["web"].intent.state == MoveState::Done,
    )
    .await;

    // A later move that fails is heard as failed.
    let seen = owners.view().moves["web"].revision;
    let back = MoveIntent::new("m3".into(), "b", "a", second);
    assert!(
        moving::request(&session_a, &cluster, "web", &back, seen)
            .await
            .unwrap()
    );
    wait_until("the watch sees m3", Duration::from_secs(5), || {
        owners.view().moves["web"].intent.id == "m3"
    })
    .await;
    let asked = owners.view().moves["web"].clone();
    let failed = back.with_state(MoveState::Failed, Some("no".into()));
    assert!(
        moving::finish(&session_b, &cluster, "web", &asked, &failed)
            .await
            .unwrap()
    );
    wait_until(
        "the watch hears the failure",
        Duration::from_secs(5),
        || {
            events.lock().unwrap().iter().any(|event| {
                matches!(event, OwnerEvent::MoveFailed { group, moving }
                if group == "web" && moving.intent.reason.as_deref() == Some("no"))
            })
        },
    )
    .await;
}
