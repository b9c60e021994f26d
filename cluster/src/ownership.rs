//! Who runs each group: `/clp/<cluster>/groups/<group>/owner = <server>`.
//!
//! - [`claim`]: the key is taken ONLY by a transaction that compares its `create_revision`
//!   with 0 (the key is absent) and puts it under this server's lease; at most one server
//!   can win. The winner's fencing token is the key's `create_revision`: every new owner
//!   gets a larger one.
//! - [`release`]: a transaction that deletes the key only while its value is this server.
//! - The key lives on the owner's presence lease: when that lease is revoked or runs out,
//!   the key goes with the server's presence key, in the same revision.
//! - [`Owners`]: a watch of every owner and server key, which tells who owns what (for
//!   placement and the status) and, when an owner key goes, whether its server went with
//!   it ([`OwnerEvent::Orphaned`]: the group is to fail over) or stayed
//!   ([`OwnerEvent::Released`]: the group was stopped); [`hand_over`] releases it as
//!   [`OwnerEvent::Moved`]: the group failed there and is to run on another server.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use etcd_client::{
    Compare, CompareOp, EventType, GetOptions, PutOptions, Txn, TxnOp, TxnOpResponse,
};
use tokio::sync::watch;

use crate::keys;
use crate::membership::Session;
use crate::moving::{Move, MoveState};

/// A group's owner as etcd says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// The server that holds the key (the key's value).
    pub server: String,
    /// The key's `create_revision`: the fencing token.
    pub fence: i64,
    /// The lease the key lives on (its owner's presence).
    pub lease: i64,
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This server owns the group now (or already did, under this lease): the fencing token.
    Won(i64),
    /// Another owner holds the key (possibly this server under an older lease).
    Held(Owner),
}

/// An etcd request about ownership failed.
#[derive(Debug, thiserror::Error)]
#[error("etcd did not answer about the owner of group {group}: {source}")]
pub struct OwnershipError {
    /// The group.
    pub group: String,
    /// The cause.
    #[source]
    pub source: etcd_client::Error,
}

fn owner_of(kv: &etcd_client::KeyValue) -> Owner {
    Owner {
        server: String::from_utf8_lossy(kv.value()).into_owned(),
        fence: kv.create_revision(),
        lease: kv.lease(),
    }
}

/// Takes `group` for `server` under the session's lease, only when nobody holds it.
pub async fn claim(
    session: &Session,
    cluster: &str,
    group: &str,
    server: &str,
) -> Result<Claim, OwnershipError> {
    let key = keys::group_owner(cluster, group);
    let failed = |source| OwnershipError {
        group: group.to_string(),
        source,
    };
    let txn = Txn::new()
        .when([Compare::create_revision(key.as_str(), CompareOp::Equal, 0)])
        .and_then([TxnOp::put(
            key.as_str(),
            server.to_ascii_lowercase(),
            Some(PutOptions::new().with_lease(session.lease)),
        )])
        .or_else([TxnOp::get(key.as_str(), None)]);
    let mut client = session.client.clone();
    let answer = client.txn(txn).await.map_err(failed)?;
    if answer.succeeded() {
        // The put's revision is the new key's create_revision.
        let revision = answer.header().map_or(0, |header| header.revision());
        return Ok(Claim::Won(revision));
    }
    let held = answer
        .op_responses()
        .into_iter()
        .find_map(|response| match response {
            TxnOpResponse::Get(get) => get.kvs().first().map(owner_of),
            _ => None,
        });
    match held {
        Some(owner)
            if owner.lease == session.lease && owner.server.eq_ignore_ascii_case(server) =>
        {
            Ok(Claim::Won(owner.fence))
        }
        Some(owner) => Ok(Claim::Held(owner)),
        // Deleted between the compare and the get: nobody holds it, but this server did
        // not take it; the caller tries again at the next placement.
        None => Ok(Claim::Held(Owner {
            server: String::new(),
            fence: 0,
            lease: 0,
        })),
    }
}

/// Gives `group` up: deletes the owner key only while its value is `server`. Returns
/// whether a key was deleted.
pub async fn release(
    session: &Session,
    cluster: &str,
    group: &str,
    server: &str,
) -> Result<bool, OwnershipError> {
    let key = keys::group_owner(cluster, group);
    let txn = Txn::new()
        .when([Compare::value(
            key.as_str(),
            CompareOp::Equal,
            server.to_ascii_lowercase(),
        )])
        .and_then([TxnOp::delete(key.as_str(), None)]);
    let mut client = session.client.clone();
    let answer = client.txn(txn).await.map_err(|source| OwnershipError {
        group: group.to_string(),
        source,
    })?;
    Ok(answer.succeeded())
}

/// Hands `group` over after it failed here (a monitor's failover rung): in one transaction,
/// while the owner key's value is `server`, deletes it and notes `groups/<group>/moved =
/// <server>` under the session's lease, so that the watchers hear
/// [`OwnerEvent::Moved`] and place the group on another server. Returns whether it did.
pub async fn hand_over(
    session: &Session,
    cluster: &str,
    group: &str,
    server: &str,
) -> Result<bool, OwnershipError> {
    let key = keys::group_owner(cluster, group);
    let moved = keys::group_moved(cluster, group);
    let txn = Txn::new()
        .when([Compare::value(
            key.as_str(),
            CompareOp::Equal,
            server.to_ascii_lowercase(),
        )])
        .and_then([
            TxnOp::delete(key.as_str(), None),
            TxnOp::put(
                moved.as_str(),
                server.to_ascii_lowercase(),
                Some(PutOptions::new().with_lease(session.lease)),
            ),
        ]);
    let mut client = session.client.clone();
    let answer = client.txn(txn).await.map_err(|source| OwnershipError {
        group: group.to_string(),
        source,
    })?;
    Ok(answer.succeeded())
}

/// Every group's owner, as the watch last saw them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnersView {
    /// etcd answers: the owners below are current. Without it they are the last known.
    pub known: bool,
    /// Group → owner.
    pub owners: BTreeMap<String, Owner>,
    /// The servers whose presence key exists (lower case), seen by the same watch as the
    /// owners: a server whose lease ended is gone here no later than its owner keys.
    pub servers: BTreeSet<String>,
    /// Group → the operator's latest move of it ([`crate::moving`]), in whatever state.
    pub moves: BTreeMap<String, Move>,
}

impl OwnersView {
    /// The owner of `group`, when known.
    pub fn owner(&self, group: &str) -> Option<&Owner> {
        self.owners.get(group)
    }
}

/// A change of a group's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerEvent {
    /// `server` took `group`.
    Taken {
        /// The group.
        group: String,
        /// Its owner now.
        owner: Owner,
    },
    /// `server` gave `group` up and stays in the cluster: the group was stopped.
    Released {
        /// The group.
        group: String,
        /// Its former owner.
        server: String,
    },
    /// `server` handed `group` over after it failed there ([`hand_over`]): the group is
    /// to run on another server.
    Moved {
        /// The group.
        group: String,
        /// Its former owner.
        server: String,
    },
    /// `group`'s owner key went with its server's presence (the lease was revoked or ran
    /// out): the group is to run on the next server.
    Orphaned {
        /// The group.
        group: String,
        /// Its former owner.
        server: String,
    },
    /// An operator asked to move `group` ([`MoveState::Requested`]): its owner is to stop it
    /// and release it to the destination.
    MoveRequested {
        /// The group.
        group: String,
        /// The move.
        moving: Move,
    },
    /// `group`'s owner released it to a move's destination ([`MoveState::Released`]): the
    /// destination is to start it.
    MoveReleased {
        /// The group.
        group: String,
        /// The move.
        moving: Move,
    },
    /// A move of `group` failed ([`MoveState::Failed`]): when nobody owns the group now (the
    /// destination could not start it), it is placed again as after a failure there.
    MoveFailed {
        /// The group.
        group: String,
        /// The move.
        moving: Move,
    },
}

/// The watch of every owner: runs while it lives, on the sessions the membership hands out.
pub struct Owners {
    view: watch::Receiver<OwnersView>,
    task: tokio::task::JoinHandle<()>,
}

impl Owners {
    /// Watches the owners of `cluster` through each session `sessions` hands out (a new
    /// one after each reconnection); `on_event` hears every change.
    pub fn start(
        cluster: &str,
        sessions: watch::Receiver<Option<Session>>,
        on_event: impl Fn(OwnerEvent) + Send + Sync + 'static,
    ) -> Owners {
        let (view_tx, view) = watch::channel(OwnersView::default());
        let watcher = Watcher {
            root: keys::cluster_root(cluster),
            groups: format!("{}groups/", keys::cluster_root(cluster)),
            servers_prefix: keys::servers_prefix(cluster),
            view: view_tx,
            servers: BTreeSet::new(),
            moves: BTreeMap::new(),
            on_event: Box::new(on_event),
        };
        Owners {
            view,
            task: tokio::spawn(watcher.run(sessions)),
        }
    }

    /// Every owner now.
    pub fn view(&self) -> OwnersView {
        self.view.borrow().clone()
    }

    /// The owners as they change.
    pub fn subscribe(&self) -> watch::Receiver<OwnersView> {
        self.view.clone()
    }
}

impl Drop for Owners {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Watcher {
    root: String,
    groups: String,
    servers_prefix: String,
    view: watch::Sender<OwnersView>,
    /// The servers whose presence key exists (lower case).
    servers: BTreeSet<String>,
    /// Group → its latest move.
    moves: BTreeMap<String, Move>,
    on_event: Box<dyn Fn(OwnerEvent) + Send + Sync>,
}

/// One key's change, as a watch tells it.
struct Change<'a> {
    key: &'a [u8],
    value: &'a [u8],
    /// A put (else a delete).
    put: bool,
    /// The revision of the change.
    revision: i64,
    /// The key read as an owner key (its value, creation revision and lease).
    owner: Owner,
}

/// What a key under the cluster's root is.
enum Key<'a> {
    Server(&'a str),
    Owner(&'a str),
    Moved(&'a str),
    Move(&'a str),
    Other,
}

impl Watcher {
    async fn run(mut self, mut sessions: watch::Receiver<Option<Session>>) {
        loop {
            let session = sessions.borrow_and_update().clone();
            match session {
                None => {
                    self.view.send_modify(|view| view.known = false);
                    if sessions.changed().await.is_err() {
                        return;
                    }
                }
                Some(session) => {
                    tokio::select! {
                        ended = self.round(&session) => {
                            if let Err(error) = ended {
                                tracing::debug!("the watch of the group owners ended: {error}");
                            }
                            self.view.send_modify(|view| view.known = false);
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                        changed = sessions.changed() => {
                            if changed.is_err() {
                                return;
                            }
                        }
                    }
                }
            }
        }
    }

    fn kind<'a>(&self, key: &'a [u8]) -> Key<'a> {
        let Ok(key) = std::str::from_utf8(key) else {
            return Key::Other;
        };
        if let Some(server) = key.strip_prefix(&self.servers_prefix) {
            return Key::Server(server);
        }
        let Some(rest) = key.strip_prefix(&self.groups) else {
            return Key::Other;
        };
        if let Some(group) = rest.strip_suffix("/owner") {
            return Key::Owner(group);
        }
        if let Some(group) = rest.strip_suffix("/moved") {
            return Key::Moved(group);
        }
        match rest.strip_suffix("/move") {
            Some(group) => Key::Move(group),
            None => Key::Other,
        }
    }

    /// One listing, then the watch until it fails.
    async fn round(&mut self, session: &Session) -> Result<(), String> {
        self.view.send_modify(|view| view.known = false);
        let mut client = session.client.clone();
        let listed = client
            .get(self.root.as_str(), Some(GetOptions::new().with_prefix()))
            .await
            .map_err(|e| e.to_string())?;
        let revision = listed.header().map_or(0, |header| header.revision());
        let mut servers = BTreeSet::new();
        let mut owners = BTreeMap::new();
        let mut moves = BTreeMap::new();
        for kv in listed.kvs() {
            match self.kind(kv.key()) {
                Key::Server(server) => {
                    servers.insert(server.to_ascii_lowercase());
                }
                Key::Owner(group) => {
                    owners.insert(group.to_string(), owner_of(kv));
                }
                Key::Move(group) => {
                    if let Some(moving) = Move::parse(kv.value(), kv.mod_revision()) {
                        moves.insert(group.to_string(), moving);
                    }
                }
                Key::Moved(_) | Key::Other => {}
            }
        }
        self.servers = servers;
        let before = self.view.borrow().owners.clone();
        let moves_before = std::mem::replace(&mut self.moves, moves);
        self.publish(&before, owners, &BTreeMap::new(), &moves_before);
        let mut watch = crate::rounds::watch_prefix(&mut client, self.root.as_str(), revision + 1)
            .await
            .map_err(|e| e.to_string())?;
        loop {
            let Some(answer) = watch.message().await.map_err(|e| e.to_string())? else {
                return Err("etcd closed the watch of the owners".into());
            };
            if answer.canceled() {
                return Err(format!(
                    "etcd cancelled the watch of the owners: {}",
                    answer.cancel_reason()
                ));
            }
            self.apply(answer.events().iter().filter_map(|event| {
                let kv = event.kv()?;
                Some(Change {
                    key: kv.key(),
                    value: kv.value(),
                    put: event.event_type() == EventType::Put,
                    revision: kv.mod_revision(),
                    owner: owner_of(kv),
                })
            }));
        }
    }

    /// Applies the changes of one watch answer, and tells them one revision at a time: an
    /// answer that catches up can hold a server's lease revoked (its presence and owner keys
    /// gone in one revision) and its presence back in a later one (clppm started again in
    /// place); told together, the orphaned group would look released by a server still
    /// there, and nobody would take it.
    fn apply<'a>(&mut self, changes: impl IntoIterator<Item = Change<'a>>) {
        let mut before = self.view.borrow().owners.clone();
        let mut owners = before.clone();
        let mut moved = BTreeMap::new();
        let mut moves_before = self.moves.clone();
        let mut revision = None;
        for change in changes {
            if revision.is_some_and(|told| told != change.revision) {
                self.publish(&before, owners.clone(), &moved, &moves_before);
                before = owners.clone();
                moved.clear();
                moves_before = self.moves.clone();
            }
            revision = Some(change.revision);
            let put = change.put;
            match self.kind(change.key) {
                Key::Server(server) => {
                    let server = server.to_ascii_lowercase();
                    if put {
                        self.servers.insert(server);
                    } else {
                        self.servers.remove(&server);
                    }
                }
                Key::Owner(group) => {
                    if put {
                        owners.insert(group.to_string(), change.owner);
                    } else {
                        owners.remove(group);
                    }
                }
                Key::Moved(group) if put => {
                    moved.insert(
                        group.to_string(),
                        String::from_utf8_lossy(change.value).into_owned(),
                    );
                }
                Key::Move(group) => {
                    let parsed = put
                        .then(|| Move::parse(change.value, change.revision))
                        .flatten();
                    match parsed {
                        Some(moving) => self.moves.insert(group.to_string(), moving),
                        None => self.moves.remove(group),
                    };
                }
                Key::Moved(_) | Key::Other => {}
            }
        }
        self.publish(&before, owners, &moved, &moves_before);
    }

    /// Publishes `owners` and tells what changed since `before`: a key gone while its
    /// server's presence is gone too is an orphan.
    fn publish(
        &mut self,
        before: &BTreeMap<String, Owner>,
        owners: BTreeMap<String, Owner>,
        moved: &BTreeMap<String, String>,
        moves_before: &BTreeMap<String, Move>,
    ) {
        let mut events = Vec::new();
        for (group, old) in before {
            match owners.get(group) {
                Some(now) if now == old => {}
                Some(now) => events.push(OwnerEvent::Taken {
                    group: group.clone(),
                    owner: now.clone(),
                }),
                None if moved
                    .get(group)
                    .is_some_and(|from| from.eq_ignore_ascii_case(&old.server)) =>
                {
                    events.push(OwnerEvent::Moved {
                        group: group.clone(),
                        server: old.server.clone(),
                    });
                }
                None if self.servers.contains(&old.server.to_ascii_lowercase()) => {
                    events.push(OwnerEvent::Released {
                        group: group.clone(),
                        server: old.server.clone(),
                    });
                }
                None => events.push(OwnerEvent::Orphaned {
                    group: group.clone(),
                    server: old.server.clone(),
                }),
            }
        }
        for (group, owner) in &owners {
            if !before.contains_key(group) {
                events.push(OwnerEvent::Taken {
                    group: group.clone(),
                    owner: owner.clone(),
                });
            }
        }
        // A move heard in a new state: its owner or its destination acts on it.
        for (group, moving) in &self.moves {
            let seen = moves_before
                .get(group)
                .map(|m| (&m.intent.id, m.intent.state));
            if seen == Some((&moving.intent.id, moving.intent.state)) {
                continue;
            }
            match moving.intent.state {
                MoveState::Requested => events.push(OwnerEvent::MoveRequested {
                    group: group.clone(),
                    moving: moving.clone(),
                }),
                MoveState::Released => events.push(OwnerEvent::MoveReleased {
                    group: group.clone(),
                    moving: moving.clone(),
                }),
                // Only a failure seen happen: an old one listed after a restart is history.
                MoveState::Failed if seen.is_some_and(|(id, _)| *id == moving.intent.id) => {
                    events.push(OwnerEvent::MoveFailed {
                        group: group.clone(),
                        moving: moving.clone(),
                    });
                }
                MoveState::Failed => {}
                MoveState::Done => {}
            }
        }
        self.view.send_replace(OwnersView {
            known: true,
            owners,
            servers: self.servers.clone(),
            moves: self.moves.clone(),
        });
        for event in events {
            (self.on_event)(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A watcher of cluster "c" whose view has `web` owned by node1, node1 and node2
    /// present; and the events it tells.
    fn watcher() -> (Watcher, Arc<Mutex<Vec<OwnerEvent>>>) {
        let told = Arc::new(Mutex::new(Vec::new()));
        let theirs = Arc::clone(&told);
        let (view, _) = watch::channel(OwnersView::default());
        let mut watcher = Watcher {
            root: keys::cluster_root("c"),
            groups: format!("{}groups/", keys::cluster_root("c")),
            servers_prefix: keys::servers_prefix("c"),
            view,
            servers: ["node1", "node2"].map(String::from).into(),
            moves: BTreeMap::new(),
            on_event: Box::new(move |event| theirs.lock().expect("events").push(event)),
        };
        let owners = [(
            "web".to_string(),
            Owner {
                server: "node1".into(),
                fence: 4,
                lease: 77,
            },
        )]
        .into();
        watcher.publish(&BTreeMap::new(), owners, &BTreeMap::new(), &BTreeMap::new());
        told.lock().expect("events").clear();
        (watcher, told)
    }

    fn change<'a>(key: &'a str, put: bool, revision: i64) -> Change<'a> {
        Change {
            key: key.as_bytes(),
            value: if put { b"node1" } else { b"" },
            put,
            revision,
            owner: Owner {
                server: if put { "node1".into() } else { String::new() },
                fence: revision,
                lease: 78,
            },
        }
    }

    /// An answer that catches up: node1's lease revoked (its presence and the owner key of
    /// `web` gone in revision 10), then node1 back (revision 11, clppm started again in
    /// place). The group is orphaned, to fail over; told together it looked released.
    #[test]
    fn a_revoked_lease_then_the_server_back_in_one_answer_is_an_orphan() {
        let (mut watcher, told) = watcher();
        let server = keys::server("c", "node1");
        let owner = keys::group_owner("c", "web");
        watcher.apply([
            change(&server, false, 10),
            change(&owner, false, 10),
            change(&server, true, 11),
        ]);
        let told = told.lock().expect("events").clone();
        assert_eq!(
            told,
            [OwnerEvent::Orphaned {
                group: "web".into(),
                server: "node1".into()
            }]
        );
        assert!(watcher.servers.contains("node1"), "node1 is back");
        assert!(watcher.view.borrow().owners.is_empty());
    }

    /// An owner key deleted while its server stays: the group was stopped on purpose.
    #[test]
    fn an_owner_key_gone_while_its_server_stays_is_released() {
        let (mut watcher, told) = watcher();
        watcher.apply([change(&keys::group_owner("c", "web"), false, 12)]);
        assert_eq!(
            told.lock().expect("events").clone(),
            [OwnerEvent::Released {
                group: "web".into(),
                server: "node1".into()
            }]
        );
    }
}
