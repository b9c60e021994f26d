//! etcd's leadership moves again and again (as the servers hand it to the witness, or as
//! elections land) while a server that owns a group keeps writing its record: the server
//! must never take a dropped request for a lost cluster (which stops every group it
//! carries), keep its lease and its group, and the others must never see it go. A cluster
//! of three etcd members on loopback. Skips without `etcd`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use clp_cluster::ownership::{Claim, claim};
use clp_cluster::{Change, Client, Membership, Presence};

mod common;
use common::{losses, recorder, skipped_without_etcd, start_etcd_cluster};

/// Server `local` of the cluster `a`, `b`, `c`, talking to the member at `port` only.
fn settings(cluster: &str, local: &str, port: u16) -> clp_cluster::Settings {
    clp_cluster::Settings {
        timeout: Duration::from_secs(4),
        ..common::settings(cluster, local, &["a", "b", "c"], port)
    }
}

/// Moves the leadership from the member that has it to the next one; the new leader's id.
async fn move_leadership(ports: &[u16]) -> Result<u64, String> {
    for port in ports {
        let Ok(mut client) = Client::connect([format!("http://127.0.0.1:{port}")], None).await
        else {
            continue;
        };
        let Ok(status) = client.status().await else {
            continue;
        };
        let leader = status.leader();
        let this = status.header().map_or(0, |header| header.member_id());
        if leader == 0 || leader != this {
            continue;
        }
        let members = client.member_list().await.map_err(|e| e.to_string())?;
        let mut ids: Vec<u64> = members.members().iter().map(|m| m.id()).collect();
        ids.sort_unstable();
        let at = ids.iter().position(|id| *id == leader).unwrap_or(0);
        let next = ids[(at + 1) % ids.len()];
        client
            .move_leader(next)
            .await
            .map_err(|error| format!("move to {next:x}: {error}"))?;
        return Ok(next);
    }
    Err("no member leads".into())
}

/// How many times the leadership is moved.
const MOVES: usize = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leadership_moving_under_a_writing_owner_takes_nothing_from_it() {
    if skipped_without_etcd() {
        return;
    }
    let (_members, ports) = start_etcd_cluster(3);
    let cluster = format!("moves{}", std::process::id());
    let (a_changes, heard) = recorder();
    let a = Membership::start(settings(&cluster, "a", ports[0]), heard);
    let (b_changes, heard) = recorder();
    let b = Membership::start(settings(&cluster, "b", ports[1]), heard);
    common::wait_until("a and b see each other", Duration::from_secs(30), || {
        a.view().presence("b") == Presence::Online && b.view().presence("a") == Presence::Online
    })
    .await;
    let session = common::session_of(&a).await;
    match claim(&session, &cluster, "g", "a").await {
        Ok(Claim::Won(_)) => {}
        other => panic!("a could not take g: {other:?}"),
    }

    // c comes and goes, so a rewrites its record (whom it hears) at each change, while the
    // leadership goes round the members.
    let churn = tokio::spawn({
        let cluster = cluster.clone();
        let port = ports[2];
        async move {
            loop {
                let c = Membership::start(settings(&cluster, "c", port), |_| {});
                tokio::time::sleep(Duration::from_millis(150)).await;
                c.leave().await;
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        }
    });
    let mut moved = 0;
    for _ in 0..MOVES {
        match move_leadership(&ports).await {
            Ok(_) => moved += 1,
            Err(error) => eprintln!("no move this time: {error}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    churn.abort();
    assert!(
        moved >= MOVES / 2,
        "only {moved} of {MOVES} moves were made"
    );

    let lost = losses(&a_changes);
    assert!(
        lost.is_empty(),
        "a took the moves for a lost cluster: {lost:?}"
    );
    assert_eq!(
        a.session().map(|session| session.lease),
        Some(session.lease),
        "a took another lease"
    );
    assert!(
        !b_changes
            .lock()
            .unwrap()
            .contains(&Change::Down("a".into())),
        "b saw a go: {:?}",
        b_changes.lock().unwrap()
    );
    let owner = clp_cluster::keys::group_owner(&cluster, "g");
    let mut client = session.client.clone();
    let got = client
        .get(owner.as_str(), None)
        .await
        .expect("read g's owner");
    let kv = got.kvs().first().expect("g still has an owner");
    assert_eq!(kv.value(), b"a");
    assert_eq!(kv.lease(), session.lease, "g's owner key is on a's lease");
    a.leave().await;
    b.leave().await;
}
