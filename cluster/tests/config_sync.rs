//! The cluster's configuration, all or nothing, against a real etcd on loopback: a proposal
//! every Online server accepts becomes active and each follower is handed it; one a server
//! refuses changes nothing and leaves no proposal; a server that does not answer refuses at
//! the deadline; the same generation again is no change. Skips without `etcd`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clp_cluster::config_sync::{self, ConfigFollower, ConfigHandler, PushOutcome};
use clp_cluster::{Membership, Settings};
use clp_core::generations::GenerationInfo;
use clp_core::shared_generation::SharedGeneration;

mod common;
use common::{etcd_or_skip, session_of};

fn settings(cluster: &str, local: &str, client: u16) -> Settings {
    common::settings(cluster, local, &["a", "b", "c"], client)
}

/// A server's handler: refuses any generation whose text holds `refuse-<name>`, records
/// what it is handed as active.
struct Recorder {
    name: String,
    activated: Mutex<Vec<String>>,
}

impl ConfigHandler for Recorder {
    fn check(&self, shared: &SharedGeneration) -> Result<(), String> {
        let text = shared.text().map_err(|e| e.to_string())?;
        if text.contains(&format!("refuse-{}", self.name)) {
            return Err(format!("{} cannot run it", self.name));
        }
        Ok(())
    }

    fn activate(&self, shared: SharedGeneration) {
        self.activated.lock().unwrap().push(shared.hash);
    }
}

fn generation(text: &str) -> SharedGeneration {
    SharedGeneration::pack(text, None, GenerationInfo::now("test", None)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generation_every_online_server_accepts_is_active_and_a_refused_one_changes_nothing() {
    let Some((port, _etcd)) = etcd_or_skip() else {
        return;
    };
    let cluster = format!("cfg{}", std::process::id());
    let a = Membership::start(settings(&cluster, "a", port), |_| {});
    let b = Membership::start(settings(&cluster, "b", port), |_| {});
    let session = session_of(&a).await;
    session_of(&b).await;
    let recorders: Vec<Arc<Recorder>> = ["a", "b"]
        .iter()
        .map(|name| {
            Arc::new(Recorder {
                name: name.to_string(),
                activated: Mutex::new(Vec::new()),
            })
        })
        .collect();
    let _followers: Vec<ConfigFollower> = [(&a, "a"), (&b, "b")]
        .iter()
        .zip(&recorders)
        .map(|((membership, name), recorder)| {
            let handler: Arc<dyn ConfigHandler> = recorder.clone();
            ConfigFollower::start(&cluster, name, membership.sessions(), handler)
        })
        .collect();
    let mut client = session.client.clone();
    let wait = Duration::from_secs(10);

    // Accepted by both: active, and each follower is handed it.
    let first = generation("one = 1\n");
    let pushed = config_sync::propose(&mut client, &cluster, &first, wait)
        .await
        .unwrap();
    assert!(
        matches!(pushed.outcome, PushOutcome::Committed { .. }),
        "{pushed:?}"
    );
    assert_eq!(pushed.asked, ["a", "b"]);
    let (active, _) = config_sync::active(&mut client, &cluster)
        .await
        .unwrap()
        .expect("an active generation");
    assert_eq!(active.hash, first.hash);
    let deadline = Instant::now() + Duration::from_secs(10);
    while recorders
        .iter()
        .any(|r| !r.activated.lock().unwrap().contains(&first.hash))
    {
        assert!(
            Instant::now() < deadline,
            "the followers were not handed it"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The same again: nothing proposed.
    let again = config_sync::propose(&mut client, &cluster, &first, wait)
        .await
        .unwrap();
    assert_eq!(again.outcome, PushOutcome::Unchanged);

    // Refused by b: the active one stays, b's reason is told, no proposal is left.
    let refused = generation("two = 2 # refuse-b\n");
    let pushed = config_sync::propose(&mut client, &cluster, &refused, wait)
        .await
        .unwrap();
    let PushOutcome::Refused(refusals) = &pushed.outcome else {
        panic!("b refused: {pushed:?}");
    };
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0].server, "b");
    assert_eq!(refusals[0].reason, "b cannot run it");
    assert!(pushed.answers["a"].accepted);
    let (active, _) = config_sync::active(&mut client, &cluster)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(active.hash, first.hash);
    let left = client
        .get(
            clp_cluster::keys::config_proposals(&cluster),
            Some(
                etcd_client::GetOptions::new()
                    .with_prefix()
                    .with_count_only(),
            ),
        )
        .await
        .unwrap();
    assert_eq!(left.count(), 0, "a refused proposal left keys behind");

    // A third server Online that never answers: refused at the deadline.
    let c = Membership::start(settings(&cluster, "c", port), |_| {});
    session_of(&c).await;
    let silent = generation("three = 3\n");
    let started = Instant::now();
    let pushed = config_sync::propose(&mut client, &cluster, &silent, Duration::from_secs(2))
        .await
        .unwrap();
    let PushOutcome::Refused(refusals) = &pushed.outcome else {
        panic!("c was silent: {pushed:?}");
    };
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0].server, "c");
    assert!(refusals[0].reason.contains("did not answer within 2 s"));
    assert!(started.elapsed() < Duration::from_secs(5));
    let (active, _) = config_sync::active(&mut client, &cluster)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(active.hash, first.hash);
    // Nobody was handed anything but the first.
    for recorder in &recorders {
        assert!(
            recorder
                .activated
                .lock()
                .unwrap()
                .iter()
                .all(|hash| *hash == first.hash)
        );
    }
}
