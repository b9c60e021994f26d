//! An operator's move of a group (`clpgrp -m`): `/clp/<cluster>/groups/<group>/move`.
//!
//! The move is a cluster-level intent, not a command sent to a server: any server writes it
//! ([`request`]), the owner hears it through the owners' watch and acts, the destination
//! hears the owner's release and acts, each writing the next state into the same key:
//!
//! 1. [`MoveState::Requested`]: written by any server, only while the owner key still has
//!    the fencing token the requester saw (a stale move fails) and the move key is as the
//!    requester saw it (two moves never interleave).
//! 2. [`MoveState::Released`]: the owner stopped the group and, in one transaction, deleted
//!    its owner key and wrote this ([`release`]). While a move is released, placement lets
//!    only its destination take the group.
//! 3. [`MoveState::Done`] or [`MoveState::Failed`]: the outcome ([`finish`]), which the
//!    requester waits for.
//!
//! The key has no lease: a move outlives the servers that wrote it; one that names an older
//! fencing token than the owner's binds nobody.

use etcd_client::{Compare, CompareOp, PutOptions, Txn, TxnOp};
use serde::{Deserialize, Serialize};

use crate::keys;
use crate::membership::Session;

/// Where a move stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MoveState {
    /// Asked for: the owner is to stop the group and release it to the destination.
    Requested,
    /// The owner stopped the group and gave its key up: only the destination may take it.
    Released,
    /// The group runs on the destination.
    Done,
    /// The move did not happen, or the destination could not start the group ([`MoveIntent::reason`]).
    Failed,
}

impl MoveState {
    /// Whether the move is over (done or failed).
    pub fn is_final(self) -> bool {
        matches!(self, MoveState::Done | MoveState::Failed)
    }
}

/// The value of a move key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveIntent {
    /// Unique per request: the requester waits for the outcome of its own move.
    pub id: String,
    /// The owner when the move was asked for (lower case).
    pub from: String,
    /// The destination (lower case).
    pub to: String,
    /// The owner key's fencing token when the move was asked for: a move binds only while
    /// the owner holds this token (or, once released, until the destination takes it).
    pub fence: i64,
    /// Where it stands.
    pub state: MoveState,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl MoveIntent {
    /// A new request to move a group from its owner `from` (holding `fence`) to `to`.
    pub fn new(id: String, from: &str, to: &str, fence: i64) -> MoveIntent {
        MoveIntent {
            id,
            from: from.to_ascii_lowercase(),
            to: to.to_ascii_lowercase(),
            fence,
            state: MoveState::Requested,
            reason: None,
        }
    }

    /// This move in `state`, failed for `reason` when one is given.
    pub fn with_state(&self, state: MoveState, reason: Option<String>) -> MoveIntent {
        MoveIntent {
            state,
            reason,
            ..self.clone()
        }
    }

    fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// A move key as the watch saw it: the intent and the key's `mod_revision` (what the next
/// writer compares against).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    /// The intent.
    pub intent: MoveIntent,
    /// The key's `mod_revision`.
    pub revision: i64,
}

impl Move {
    /// Reads a move key's value; `None` when it is not a move (logged).
    pub fn parse(value: &[u8], revision: i64) -> Option<Move> {
        match serde_json::from_slice::<MoveIntent>(value) {
            Ok(intent) => Some(Move { intent, revision }),
            Err(error) => {
                tracing::warn!("a group's move key in etcd cannot be read ({error}); ignored");
                None
            }
        }
    }
}

/// An etcd request about a move failed.
#[derive(Debug, thiserror::Error)]
#[error("etcd did not answer about the move of group {group}: {source}")]
pub struct MoveError {
    /// The group.
    pub group: String,
    /// The cause.
    #[source]
    pub source: etcd_client::Error,
}

async fn commit(session: &Session, group: &str, txn: Txn) -> Result<bool, MoveError> {
    let mut client = session.client.clone();
    let answer = client.txn(txn).await.map_err(|source| MoveError {
        group: group.to_string(),
        source,
    })?;
    Ok(answer.succeeded())
}

/// Writes a move request for `group`, only while its owner key still carries `intent.fence`
/// and its move key's `mod_revision` is `seen` (0: no move key). Returns whether it was
/// written (false: the owner or the move changed since they were read).
pub async fn request(
    session: &Session,
    cluster: &str,
    group: &str,
    intent: &MoveIntent,
    seen: i64,
) -> Result<bool, MoveError> {
    let owner = keys::group_owner(cluster, group);
    let key = keys::group_move(cluster, group);
    let txn = Txn::new()
        .when([
            Compare::create_revision(owner.as_str(), CompareOp::Equal, intent.fence),
            Compare::mod_revision(key.as_str(), CompareOp::Equal, seen),
        ])
        .and_then([TxnOp::put(key.as_str(), intent.to_json(), None)]);
    commit(session, group, txn).await
}

/// The owner `server` gives `group` up to the move's destination: in one transaction, while
/// the owner key's value is `server` and the move key is still `moving`, deletes the owner
/// key and marks the move [`MoveState::Released`]. Returns whether it did.
pub async fn release(
    session: &Session,
    cluster: &str,
    group: &str,
    server: &str,
    moving: &Move,
) -> Result<bool, MoveError> {
    let owner = keys::group_owner(cluster, group);
    let key = keys::group_move(cluster, group);
    let released = moving.intent.with_state(MoveState::Released, None);
    let txn = Txn::new()
        .when([
            Compare::value(
                owner.as_str(),
                CompareOp::Equal,
                server.to_ascii_lowercase(),
            ),
            Compare::mod_revision(key.as_str(), CompareOp::Equal, moving.revision),
        ])
        .and_then([
            TxnOp::delete(owner.as_str(), None),
            TxnOp::put(key.as_str(), released.to_json(), Some(PutOptions::new())),
        ]);
    commit(session, group, txn).await
}

/// Writes `outcome` (a later state of the move) while the move key is still `moving`.
/// Returns whether it did.
pub async fn finish(
    session: &Session,
    cluster: &str,
    group: &str,
    moving: &Move,
    outcome: &MoveIntent,
) -> Result<bool, MoveError> {
    let key = keys::group_move(cluster, group);
    let txn = Txn::new()
        .when([Compare::mod_revision(
            key.as_str(),
            CompareOp::Equal,
            moving.revision,
        )])
        .and_then([TxnOp::put(key.as_str(), outcome.to_json(), None)]);
    commit(session, group, txn).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_move_is_stored_as_json_and_read_back() {
        let intent = MoveIntent::new("m1".into(), "Node1", "node2", 42);
        let text = String::from_utf8(intent.to_json()).unwrap();
        assert_eq!(
            text,
            r#"{"id":"m1","from":"node1","to":"node2","fence":42,"state":"requested"}"#
        );
        let read = Move::parse(text.as_bytes(), 7).unwrap();
        assert_eq!(read.intent, intent);
        assert_eq!(read.revision, 7);
        let failed = intent.with_state(MoveState::Failed, Some("why".into()));
        assert!(failed.state.is_final());
        assert!(!intent.state.is_final());
        assert!(Move::parse(b"not json", 1).is_none());
    }
}
