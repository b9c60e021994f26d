//! The cluster's configuration, all or nothing: `clpcfctrl --push` proposes a generation,
//! every Online server checks that it could run it, and only when every one accepted does
//! one compare-and-set make it the cluster's active generation. Each clppm follows the
//! active generation and takes a newer one (also when it starts, or regains etcd).
//!
//! Keys ([`crate::keys`]): `config/active` (the [`SharedGeneration`], JSON),
//! `config/proposals/<id>/generation` (on the proposing command's lease, so a command that
//! dies leaves nothing), `config/proposals/<id>/answers/<server>` (an [`Answer`], on the
//! answering server's lease).
//!
//! - [`verdict`]: the decision from the answers, pure.
//! - [`propose`]: the command's side. [`active`]: a read of the active generation.
//! - [`ConfigFollower`]: clppm's side: answers proposals and hands on active generations.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clp_core::shared_generation::SharedGeneration;
use etcd_client::{
    Client, Compare, CompareOp, DeleteOptions, EventType, GetOptions, PutOptions, Txn, TxnOp,
};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::keys::{self, ServerRecord};
use crate::membership::Session;

/// A server's answer to a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// It could run the generation.
    pub accepted: bool,
    /// Why not (empty when accepted).
    #[serde(default)]
    pub reason: String,
}

/// A server that refused a proposal, or did not answer in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The server.
    pub server: String,
    /// Its reason.
    pub reason: String,
}

/// Where a proposal stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Some server asked has not answered yet.
    Waiting,
    /// Every server asked accepted.
    Accepted,
    /// Some refused (or did not answer before the deadline): each, with its reason.
    Refused(Vec<Refusal>),
}

/// The decision on a proposal put to the servers `asked`, from the `answers` so far (keyed
/// by server name, any case); `waited` once the deadline passed: a server still silent then
/// is a refusal. A refusal is final only when every server answered (or the deadline
/// passed), so that every refusing server's reason is told at once.
pub fn verdict(
    asked: &[String],
    answers: &BTreeMap<String, Answer>,
    waited: Option<Duration>,
) -> Verdict {
    let answer_of = |server: &str| {
        answers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(server))
            .map(|(_, answer)| answer)
    };
    let mut refusals = Vec::new();
    let mut silent = false;
    for server in asked {
        match answer_of(server) {
            Some(answer) if answer.accepted => {}
            Some(answer) => refusals.push(Refusal {
                server: server.clone(),
                reason: answer.reason.clone(),
            }),
            None => match waited {
                Some(waited) => refusals.push(Refusal {
                    server: server.clone(),
                    reason: format!(
                        "did not answer within {} s (is its clppm busy, or cut off from etcd?)",
                        waited.as_secs()
                    ),
                }),
                None => silent = true,
            },
        }
    }
    if silent {
        Verdict::Waiting
    } else if refusals.is_empty() {
        Verdict::Accepted
    } else {
        Verdict::Refused(refusals)
    }
}

/// Why the cluster's configuration could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// etcd did not answer.
    #[error("etcd did not answer ({what}): {source}")]
    Etcd {
        /// What was asked.
        what: &'static str,
        /// The cause.
        #[source]
        source: etcd_client::Error,
    },
    /// No etcd endpoint answered (or the command could not wait for one).
    #[error("{0}")]
    Unreachable(String),
    /// A key holds something that is not what clp writes there.
    #[error("{key} in etcd holds something clp cannot read: {why}")]
    Unreadable {
        /// The key.
        key: String,
        /// What is wrong.
        why: String,
    },
}

fn etcd(what: &'static str) -> impl FnOnce(etcd_client::Error) -> SyncError {
    move |source| SyncError::Etcd { what, source }
}

/// How a short-lived client (a command, clppm before it starts) connects to etcd: each
/// request may take `wait`, only a member with a leader answers, over TLS when `tls` says
/// so; or why the TLS files cannot be used.
pub fn connect_options(
    wait: Duration,
    tls: Option<&clp_core::config::EtcdTls>,
) -> Result<etcd_client::ConnectOptions, String> {
    let options = etcd_client::ConnectOptions::new()
        .with_connect_timeout(wait)
        .with_timeout(wait)
        .with_require_leader(true);
    crate::tls::with_tls(options, tls)
}

/// The cluster's active generation and the revision that made it active, if any.
pub async fn active(
    client: &mut Client,
    cluster: &str,
) -> Result<Option<(SharedGeneration, i64)>, SyncError> {
    let key = keys::config_active(cluster);
    let answer = client
        .get(key.as_str(), None)
        .await
        .map_err(etcd("read the active configuration"))?;
    let Some(kv) = answer.kvs().first() else {
        return Ok(None);
    };
    let shared = decode(&key, kv.value())?;
    Ok(Some((shared, kv.mod_revision())))
}

fn decode<T: serde::de::DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, SyncError> {
    serde_json::from_slice(bytes).map_err(|error| SyncError::Unreadable {
        key: key.to_string(),
        why: error.to_string(),
    })
}

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// The cluster already runs this generation: nothing was proposed.
    Unchanged,
    /// Every Online server accepted: it is the cluster's active generation.
    Committed {
        /// The revision that made it active.
        revision: i64,
    },
    /// Some server refused or did not answer: nothing changed.
    Refused(Vec<Refusal>),
    /// Another push made another generation active meanwhile: nothing changed.
    Overtaken,
}

/// A push's result and every server's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// The servers Online when it was proposed (their configured names, in key order).
    pub asked: Vec<String>,
    /// Each answer received (by server, lower case).
    pub answers: BTreeMap<String, Answer>,
    /// What became of it.
    pub outcome: PushOutcome,
}

/// Proposes `shared` to the Online servers of `cluster`, waits up to `wait` for their
/// answers, and makes it active only when every one accepted; otherwise removes the
/// proposal and changes nothing.
pub async fn propose(
    client: &mut Client,
    cluster: &str,
    shared: &SharedGeneration,
    wait: Duration,
) -> Result<Pushed, SyncError> {
    let active_key = keys::config_active(cluster);
    let current = client
        .get(active_key.as_str(), None)
        .await
        .map_err(etcd("read the active configuration"))?;
    let current_kv = current.kvs().first();
    let seen_revision = current_kv.map_or(0, |kv| kv.mod_revision());
    if let Some(kv) = current_kv
        && decode::<SharedGeneration>(&active_key, kv.value())
            .is_ok_and(|active| active.hash == shared.hash)
    {
        return Ok(Pushed {
            asked: Vec::new(),
            answers: BTreeMap::new(),
            outcome: PushOutcome::Unchanged,
        });
    }
    let servers_prefix = keys::servers_prefix(cluster);
    let present = client
        .get(
            servers_prefix.as_str(),
            Some(GetOptions::new().with_prefix()),
        )
        .await
        .map_err(etcd("read the Online servers"))?;
    let asked: Vec<String> = present
        .kvs()
        .iter()
        .filter_map(|kv| {
            let fallback = keys::server_of(&servers_prefix, kv.key())?.to_string();
            Some(
                serde_json::from_slice::<ServerRecord>(kv.value())
                    .map_or(fallback, |record| record.name),
            )
        })
        .collect();

    let id = format!(
        "{}-{}-{}",
        clp_core::shared_generation::short(&shared.hash),
        std::process::id(),
        chrono_free_nanos()
    );
    // The proposal lives on a lease of its own: a command that dies leaves nothing behind.
    let ttl = i64::try_from(wait.as_secs() + 30).unwrap_or(i64::MAX);
    let lease = client
        .lease_grant(ttl, None)
        .await
        .map_err(etcd("grant the proposal's lease"))?
        .id();
    let value = serde_json::to_vec(shared).map_err(|error| SyncError::Unreadable {
        key: keys::proposal_generation(cluster, &id),
        why: error.to_string(),
    })?;
    let answers_prefix = keys::proposal_answers(cluster, &id);
    let put = client
        .put(
            keys::proposal_generation(cluster, &id),
            value,
            Some(PutOptions::new().with_lease(lease)),
        )
        .await
        .map_err(etcd("put the proposal"))?;
    let revision = put.header().map_or(0, |header| header.revision());
    let result = collect(client, &answers_prefix, &asked, revision, wait).await;
    let (answers, verdict) = match result {
        Ok(collected) => collected,
        Err(error) => {
            forget(client, cluster, &id, lease).await;
            return Err(error);
        }
    };
    let outcome = match verdict {
        Verdict::Accepted => {
            let compare = if seen_revision == 0 {
                Compare::create_revision(active_key.as_str(), CompareOp::Equal, 0)
            } else {
                Compare::mod_revision(active_key.as_str(), CompareOp::Equal, seen_revision)
            };
            let value = serde_json::to_vec(shared).unwrap_or_default();
            let txn = Txn::new()
                .when([
                    compare,
                    Compare::version(
                        keys::proposal_generation(cluster, &id),
                        CompareOp::Greater,
                        0,
                    ),
                ])
                .and_then([TxnOp::put(active_key.as_str(), value, None)]);
            let answer = client
                .txn(txn)
                .await
                .map_err(etcd("make the configuration active"));
            match answer {
                Ok(answer) if answer.succeeded() => PushOutcome::Committed {
                    revision: answer.header().map_or(0, |header| header.revision()),
                },
                Ok(_) => PushOutcome::Overtaken,
                Err(error) => {
                    forget(client, cluster, &id, lease).await;
                    return Err(error);
                }
            }
        }
        Verdict::Refused(refusals) => PushOutcome::Refused(refusals),
        // `collect` returns only once the verdict is final.
        Verdict::Waiting => PushOutcome::Refused(Vec::new()),
    };
    forget(client, cluster, &id, lease).await;
    Ok(Pushed {
        asked,
        answers,
        outcome,
    })
}

/// [`propose`] for a command (no runtime of its own): connects to the first of
/// `endpoints` whose member has a leader, each request bounded by `request`.
pub fn propose_blocking(
    endpoints: &[String],
    tls: Option<&clp_core::config::EtcdTls>,
    cluster: &str,
    shared: &SharedGeneration,
    request: Duration,
    wait: Duration,
) -> Result<Pushed, SyncError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| SyncError::Unreachable(format!("cannot start a runtime: {error}")))?;
    let options = connect_options(request, tls).map_err(SyncError::Unreachable)?;
    runtime.block_on(async {
        let mut reasons = Vec::new();
        for endpoint in endpoints {
            let connected = Client::connect([endpoint.as_str()], Some(options.clone())).await;
            let mut client = match connected {
                Ok(client) => client,
                Err(error) => {
                    reasons.push(format!("{endpoint}: {error}"));
                    continue;
                }
            };
            match propose(&mut client, cluster, shared, wait).await {
                // The member did not answer: the next one may.
                Err(SyncError::Etcd { source, what }) if reasons.len() + 1 < endpoints.len() => {
                    reasons.push(format!("{endpoint}: {what}: {source}"));
                }
                other => return other,
            }
        }
        Err(SyncError::Unreachable(format!(
            "no etcd endpoint of the configuration answered ({}); check that etcd runs and has a quorum",
            reasons.join("; ")
        )))
    })
}

/// A number that differs between two pushes of one process.
fn chrono_free_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos())
}

/// Removes a proposal and its answers (best effort: its lease ends it anyway).
async fn forget(client: &mut Client, cluster: &str, id: &str, lease: i64) {
    let _ = client
        .delete(
            keys::proposal(cluster, id),
            Some(DeleteOptions::new().with_prefix()),
        )
        .await;
    let _ = client.lease_revoke(lease).await;
}

/// Reads the answers under `prefix` (from `revision` on) until the verdict is final.
async fn collect(
    client: &mut Client,
    prefix: &str,
    asked: &[String],
    revision: i64,
    wait: Duration,
) -> Result<(BTreeMap<String, Answer>, Verdict), SyncError> {
    let mut answers = BTreeMap::new();
    let started = Instant::now();
    let verdict_now = verdict(asked, &answers, None);
    if verdict_now != Verdict::Waiting {
        return Ok((answers, verdict_now));
    }
    let mut stream = crate::rounds::watch_prefix(client, prefix, revision)
        .await
        .map_err(etcd("watch the answers"))?;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let message = tokio::select! {
            message = stream.message() => message,
            () = tokio::time::sleep_until(deadline) => {
                let final_verdict = verdict(asked, &answers, Some(started.elapsed()));
                return Ok((answers, final_verdict));
            }
        };
        let Some(message) = message.map_err(etcd("watch the answers"))? else {
            let final_verdict = verdict(asked, &answers, Some(started.elapsed()));
            return Ok((answers, final_verdict));
        };
        for event in message.events() {
            let Some(kv) = event.kv() else { continue };
            if event.event_type() != EventType::Put {
                continue;
            }
            let Some(server) = keys::server_of(prefix, kv.key()) else {
                continue;
            };
            let answer =
                serde_json::from_slice::<Answer>(kv.value()).unwrap_or_else(|error| Answer {
                    accepted: false,
                    reason: format!("its answer cannot be read: {error}"),
                });
            answers.insert(server.to_string(), answer);
        }
        let now = verdict(asked, &answers, None);
        if now != Verdict::Waiting {
            return Ok((answers, now));
        }
    }
}

/// What a clppm does with the cluster's configuration ([`ConfigFollower`]). Both run on a
/// blocking thread.
pub trait ConfigHandler: Send + Sync + 'static {
    /// Whether this server could run `shared`; the refusal says why.
    fn check(&self, shared: &SharedGeneration) -> Result<(), String>;
    /// `shared` is the cluster's active generation: take it when it is not this server's.
    fn activate(&self, shared: SharedGeneration);
}

/// clppm's follower of the cluster's configuration: while etcd answers, it hands the
/// active generation on at each connection and at each change, and answers every
/// proposal. Stops when dropped.
pub struct ConfigFollower {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ConfigFollower {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ConfigFollower {
    /// Starts following on the current tokio runtime, with each session as it comes.
    pub fn start(
        cluster: &str,
        local: &str,
        sessions: watch::Receiver<Option<Session>>,
        handler: Arc<dyn ConfigHandler>,
    ) -> ConfigFollower {
        let follower = Follower {
            cluster: cluster.to_string(),
            local: local.to_string(),
            handler,
        };
        ConfigFollower {
            task: tokio::spawn(follower.run(sessions)),
        }
    }
}

struct Follower {
    cluster: String,
    local: String,
    handler: Arc<dyn ConfigHandler>,
}

impl Follower {
    async fn run(self, sessions: watch::Receiver<Option<Session>>) {
        let this = Arc::new(self);
        crate::rounds::per_session(
            sessions,
            "following the cluster's configuration",
            |session| {
                let this = Arc::clone(&this);
                async move { this.round(&session).await }
            },
        )
        .await;
    }

    async fn round(&self, session: &Session) -> Result<(), SyncError> {
        let mut client = session.client.clone();
        let prefix = keys::config_prefix(&self.cluster);
        let listed = client
            .get(prefix.as_str(), Some(GetOptions::new().with_prefix()))
            .await
            .map_err(etcd("read the cluster's configuration"))?;
        let revision = listed.header().map_or(0, |header| header.revision());
        let mut stream = crate::rounds::watch_prefix(&mut client, prefix.as_str(), revision + 1)
            .await
            .map_err(etcd("watch the cluster's configuration"))?;
        let present: std::collections::HashSet<&[u8]> =
            listed.kvs().iter().map(|kv| kv.key()).collect();
        let proposals = keys::config_proposals(&self.cluster);
        for kv in listed.kvs() {
            // A proposal this server already answered (before it lost etcd) is not asked again.
            if let Some(id) = keys::proposal_of_generation_key(&proposals, kv.key())
                && present
                    .contains(keys::proposal_answer(&self.cluster, id, &self.local).as_bytes())
            {
                continue;
            }
            self.on_put(session, kv.key(), kv.value()).await?;
        }
        loop {
            let Some(message) = stream
                .message()
                .await
                .map_err(etcd("watch the cluster's configuration"))?
            else {
                return Ok(());
            };
            if message.canceled() {
                return Ok(());
            }
            for event in message.events() {
                if event.event_type() != EventType::Put {
                    continue;
                }
                if let Some(kv) = event.kv() {
                    self.on_put(session, kv.key(), kv.value()).await?;
                }
            }
        }
    }

    /// A configuration key was written (or found): the active generation, or a proposal.
    async fn on_put(&self, session: &Session, key: &[u8], value: &[u8]) -> Result<(), SyncError> {
        let active_key = keys::config_active(&self.cluster);
        if key == active_key.as_bytes() {
            match decode::<SharedGeneration>(&active_key, value) {
                Ok(shared) => {
                    let handler = Arc::clone(&self.handler);
                    let _ = tokio::task::spawn_blocking(move || handler.activate(shared)).await;
                }
                Err(error) => tracing::error!("{error}"),
            }
            return Ok(());
        }
        let proposals = keys::config_proposals(&self.cluster);
        let Some(id) = keys::proposal_of_generation_key(&proposals, key) else {
            return Ok(());
        };
        let generation_key = keys::proposal_generation(&self.cluster, id);
        let answer = match decode::<SharedGeneration>(&generation_key, value) {
            Ok(shared) => {
                let handler = Arc::clone(&self.handler);
                let checked = tokio::task::spawn_blocking(move || handler.check(&shared))
                    .await
                    .unwrap_or_else(|error| Err(format!("the check failed: {error}")));
                match checked {
                    Ok(()) => Answer {
                        accepted: true,
                        reason: String::new(),
                    },
                    Err(reason) => Answer {
                        accepted: false,
                        reason,
                    },
                }
            }
            Err(error) => Answer {
                accepted: false,
                reason: error.to_string(),
            },
        };
        if answer.accepted {
            tracing::info!("the proposed configuration {id} can run here: accepted");
        } else {
            tracing::warn!(
                "the proposed configuration {id} is refused: {}",
                answer.reason
            );
        }
        let mut client = session.client.clone();
        client
            .put(
                keys::proposal_answer(&self.cluster, id, &self.local),
                serde_json::to_vec(&answer).unwrap_or_default(),
                Some(PutOptions::new().with_lease(session.lease)),
            )
            .await
            .map_err(etcd("answer a proposed configuration"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn servers(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    fn yes() -> Answer {
        Answer {
            accepted: true,
            reason: String::new(),
        }
    }

    fn no(reason: &str) -> Answer {
        Answer {
            accepted: false,
            reason: reason.into(),
        }
    }

    #[test]
    fn every_online_server_must_accept() {
        let asked = servers(&["node1", "node2"]);
        let mut answers = BTreeMap::new();
        assert_eq!(verdict(&asked, &answers, None), Verdict::Waiting);
        answers.insert("node1".into(), yes());
        assert_eq!(verdict(&asked, &answers, None), Verdict::Waiting);
        // Answers are keyed in lower case; the configured name may not be.
        answers.insert("node2".into(), yes());
        assert_eq!(
            verdict(&servers(&["Node1", "NODE2"]), &answers, None),
            Verdict::Accepted
        );
    }

    #[test]
    fn one_refusal_refuses_once_everyone_answered_and_every_reason_is_told() {
        let asked = servers(&["node1", "node2", "node3"]);
        let mut answers = BTreeMap::new();
        answers.insert("node2".into(), no("script missing"));
        assert_eq!(verdict(&asked, &answers, None), Verdict::Waiting);
        answers.insert("node1".into(), yes());
        answers.insert("node3".into(), no("not listed"));
        assert_eq!(
            verdict(&asked, &answers, None),
            Verdict::Refused(vec![
                Refusal {
                    server: "node2".into(),
                    reason: "script missing".into()
                },
                Refusal {
                    server: "node3".into(),
                    reason: "not listed".into()
                },
            ])
        );
    }

    #[test]
    fn silence_past_the_deadline_is_a_refusal() {
        let asked = servers(&["node1", "node2"]);
        let mut answers = BTreeMap::new();
        answers.insert("node1".into(), yes());
        let Verdict::Refused(refusals) = verdict(&asked, &answers, Some(Duration::from_secs(10)))
        else {
            panic!("a silent server must refuse at the deadline");
        };
        assert_eq!(refusals.len(), 1);
        assert_eq!(refusals[0].server, "node2");
        assert!(refusals[0].reason.contains("did not answer within 10 s"));
    }

    #[test]
    fn answers_of_servers_not_asked_count_for_nothing_and_nobody_online_accepts() {
        let mut answers = BTreeMap::new();
        answers.insert("node9".into(), no("who asked me"));
        assert_eq!(
            verdict(&servers(&["node1"]), &answers, Some(Duration::from_secs(1))).clone(),
            Verdict::Refused(vec![Refusal {
                server: "node1".into(),
                reason: "did not answer within 1 s (is its clppm busy, or cut off from etcd?)"
                    .into()
            }])
        );
        assert_eq!(verdict(&[], &answers, None), Verdict::Accepted);
    }
}
