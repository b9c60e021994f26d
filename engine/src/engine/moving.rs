//! `clpgrp -m`: an operator's move of a group to another server of an HA cluster, as an
//! intent in etcd ([`clp_cluster::moving`]) that any server writes and the owner and the
//! destination carry out:
//! - the requester ([`Engine::move_groups`]) checks the destination before anything stops,
//!   writes the move under a compare on the owner key's fencing token, and waits for its
//!   outcome;
//! - the owner ([`Engine::move_requested`]) stops the group (`rc 50`, `CLP_FACTOR=GROUPMOVE`)
//!   and releases its key to the destination in one transaction;
//! - the destination ([`Engine::move_released`]) starts it (`CLP_EVENT=START`, a new fencing
//!   token; `rc 51`), or, when the start fails (`rc 52`), stops it and gives it up: every
//!   server then places it as after a failure there ([`Engine::move_failed`]).

use std::sync::Arc;
use std::time::Duration;

use clp_cluster::OwnersView;
use clp_cluster::moving::{self, Move, MoveIntent, MoveState};
use clp_core::config::same_host;
use clp_core::ipc::ErrorCode;

use super::placement;
use super::{Engine, OperationError};

/// One group to move: from its owner (holding `fence`) to `to`.
struct Plan {
    group: String,
    from: String,
    to: String,
    fence: i64,
    /// The move key's `mod_revision` as read (0: none).
    seen: i64,
}

fn failed(message: impl Into<String>) -> OperationError {
    OperationError::new(ErrorCode::Failed, message)
}

impl Engine {
    /// `clpgrp -m [GROUP] [-a TO]`: moves `group` (every group that can move when `None`) to
    /// `to` (the next server of its order that is Online when `None`), waiting at most
    /// `wait` for each to be Online there. Refused before anything stops when a named
    /// group is not running or the destination cannot take it.
    pub async fn move_groups(
        self: &Arc<Self>,
        group: Option<&str>,
        to: Option<&str>,
        wait: Duration,
    ) -> Result<(), OperationError> {
        let Some(link) = self.cluster.get().cloned() else {
            return Err(OperationError::new(
                ErrorCode::Protocol,
                "moving a group needs more than one server in the configuration",
            ));
        };
        let names = self.group_names(group)?;
        self.check_operable()?;
        if let Some(to) = to
            && !self.config.servers.iter().any(|s| same_host(&s.name, to))
        {
            return Err(OperationError::new(
                ErrorCode::NotFound,
                format!("server {to} is not in the configuration; 'clpstat' lists the servers"),
            ));
        }
        let owners = link.owners();
        if !owners.known {
            return Err(failed(
                "etcd does not answer this server, so no group can be moved now; see 'clpstat'",
            ));
        }
        let plans = self.plan_moves(&names, group.is_some(), to, &owners)?;
        let session = link.session().ok_or_else(|| {
            failed("etcd does not answer this server, so no group can be moved now")
        })?;
        for plan in plans {
            let id = format!(
                "{}-{}-{}",
                self.server(),
                std::process::id(),
                clp_core::boottime::now().as_nanos()
            );
            let intent = MoveIntent::new(id, &plan.from, &plan.to, plan.fence);
            let written =
                moving::request(&session, link.cluster(), &plan.group, &intent, plan.seen)
                    .await
                    .map_err(|error| failed(error.to_string()))?;
            if !written {
                return Err(failed(format!(
                    "group \"{}\" changed owner or is being moved while this move was asked; see 'clpstat' and try again",
                    plan.group
                )));
            }
            tracing::info!(group = %plan.group, from = %plan.from, to = %plan.to, "move requested");
            let mut watched = link.watch_owners();
            let outcome = tokio::time::timeout(wait, async {
                // The watch may not have heard this move yet: until it has, an older move
                // (or none) is what it still shows.
                let mut heard = false;
                loop {
                    let outcome = {
                        let view = watched.borrow_and_update();
                        heard |= view
                            .moves
                            .get(&plan.group)
                            .is_some_and(|m| m.intent.id == intent.id);
                        heard
                            .then(|| outcome_of(&view, &plan.group, &intent))
                            .flatten()
                    };
                    if let Some(outcome) = outcome {
                        return outcome;
                    }
                    if watched.changed().await.is_err() {
                        return Err("clppm is leaving the cluster".to_string());
                    }
                }
            })
            .await;
            match outcome {
                Ok(Ok(())) => {}
                Ok(Err(reason)) => {
                    return Err(failed(format!(
                        "moving group \"{}\" to server {} failed: {reason}",
                        plan.group, plan.to
                    )));
                }
                Err(_) => {
                    return Err(failed(format!(
                        "group \"{}\" was not Online on server {} within {}; see 'clpstat' and the alert logs",
                        plan.group,
                        plan.to,
                        clp_core::duration_text::seconds(wait)
                    )));
                }
            }
        }
        Ok(())
    }

    /// What to move where, or why not (before anything stops).
    fn plan_moves(
        &self,
        names: &[String],
        named: bool,
        to: Option<&str>,
        owners: &OwnersView,
    ) -> Result<Vec<Plan>, OperationError> {
        let up: Vec<String> = owners.servers.iter().cloned().collect();
        let mut plans = Vec::new();
        let mut refusals = Vec::new();
        for name in names {
            let Some(config) = self.group_config(name) else {
                continue;
            };
            let Some(owner) = owners.owner(name) else {
                refusals.push(format!(
                    "group \"{name}\" is not Online on any server; start it with 'clpgrp -s'"
                ));
                continue;
            };
            if let Some(moving) = owners.moves.get(name)
                && (moving.intent.state == MoveState::Released
                    || (moving.intent.state == MoveState::Requested
                        && moving.intent.fence == owner.fence))
            {
                refusals.push(format!(
                    "group \"{name}\" is being moved to server {} already",
                    moving.intent.to
                ));
                continue;
            }
            let order = self.config.group_servers(config);
            let destination = match to {
                Some(to) => match placement::refuse_move(&order, &owner.server, to, &up) {
                    None => Some(to.to_string()),
                    Some(why) => {
                        // rc 63: "Server %1 is not in a condition to move group %2."
                        self.alert("rc", 63, &[to, name]);
                        refusals.push(format!("group \"{name}\" cannot move: {why}"));
                        None
                    }
                },
                None => match placement::next_server(&order, &owner.server, &up) {
                    Some(next) => Some(next.to_string()),
                    None => {
                        // No destination: the original leaves %1 empty.
                        self.alert("rc", 63, &["", name]);
                        refusals.push(format!(
                            "group \"{name}\" cannot move: no other of its servers ({}) is Online",
                            order.join(", ")
                        ));
                        None
                    }
                },
            };
            if let Some(to) = destination {
                plans.push(Plan {
                    group: name.clone(),
                    from: owner.server.clone(),
                    to,
                    fence: owner.fence,
                    seen: owners.moves.get(name).map_or(0, |m| m.revision),
                });
            }
        }
        // A named group is moved or refused; every group: those that can move, refused
        // only when none can.
        if (named && !refusals.is_empty()) || plans.is_empty() {
            let message = if refusals.is_empty() {
                "no group can move".to_string()
            } else {
                refusals.join("; ")
            };
            return Err(failed(message));
        }
        Ok(plans)
    }

    /// A move was asked for: the owner stops the group and releases it to the destination.
    pub(super) fn move_requested(self: &Arc<Self>, group: String, moving: Move) {
        if !same_host(&moving.intent.from, self.server()) {
            return;
        }
        let engine = Arc::clone(self);
        self.spawn(async move { engine.move_away(&group, moving).await });
    }

    async fn move_away(self: &Arc<Self>, group: &str, moving: Move) {
        let Some(link) = self.cluster.get().cloned() else {
            return;
        };
        let _operation = self.operations.lock().await;
        let intent = &moving.intent;
        let refusal = if self.fence_of(group) != Some(intent.fence) {
            Some(format!(
                "server {} no longer owns the group with the token {} the move names",
                self.server(),
                intent.fence
            ))
        } else if let Err(refusal) = self.check_operable() {
            Some(format!("server {}: {}", self.server(), refusal.message))
        } else {
            let owners = link.owners();
            let up: Vec<String> = owners.servers.iter().cloned().collect();
            self.group_config(group).and_then(|config| {
                placement::refuse_move(
                    &self.config.group_servers(config),
                    self.server(),
                    &intent.to,
                    &up,
                )
            })
        };
        if let Some(reason) = refusal {
            self.alert("rc", 52, &[group]);
            self.finish_move(group, &moving, MoveState::Failed, Some(reason))
                .await;
            return;
        }
        self.alert("rc", 50, &[group]);
        if !self.stop_group_locked(group, "GROUPMOVE").await {
            self.alert("rc", 52, &[group]);
            let reason = format!("stopping the group failed on server {}", self.server());
            self.finish_move(group, &moving, MoveState::Failed, Some(reason))
                .await;
            return;
        }
        link.disown(group);
        let released = match link.session() {
            Some(session) => {
                moving::release(&session, link.cluster(), group, self.server(), &moving).await
            }
            None => {
                tracing::error!(
                    group,
                    "etcd does not answer: the moved group is left to this server's lease"
                );
                return;
            }
        };
        match released {
            Ok(true) => {
                tracing::info!(group, to = %intent.to, "stopped and released to the move's destination");
            }
            Ok(false) | Err(_) => {
                if let Err(error) = released {
                    tracing::error!("{error}");
                }
                // The move changed under it: the group is stopped here, given up as after
                // `clpgrp -t`.
                self.release_ownership(group).await;
                self.alert("rc", 52, &[group]);
            }
        }
    }

    /// The owner released a group to a move's destination: the destination starts it.
    pub(super) fn move_released(self: &Arc<Self>, group: String, moving: Move) {
        if !same_host(&moving.intent.to, self.server()) {
            return;
        }
        let engine = Arc::clone(self);
        self.spawn(async move { engine.move_in(&group, moving).await });
    }

    async fn move_in(self: &Arc<Self>, group: &str, moving: Move) {
        let _operation = self.operations.lock().await;
        if self.is_stopping() {
            self.alert("rc", 52, &[group]);
            let reason = format!("clppm is stopping on server {}", self.server());
            self.finish_move(group, &moving, MoveState::Failed, Some(reason))
                .await;
            return;
        }
        if self.start_group_locked(group, "START").await {
            self.alert("rc", 51, &[group]);
            self.finish_move(group, &moving, MoveState::Done, None)
                .await;
            return;
        }
        // The start failed here: stopped again and given up, so that the group is placed
        // as after a failure here (the other servers hear the failed move).
        self.alert("rc", 52, &[group]);
        if self.stop_group_locked(group, "GROUPFAILOVER").await {
            self.release_ownership(group).await;
        }
        let reason = format!("starting the group failed on server {}", self.server());
        self.finish_move(group, &moving, MoveState::Failed, Some(reason))
            .await;
    }

    /// A move failed: when nobody owns the group (its destination gave it up), every server
    /// places it again as after a failure on the destination.
    pub(super) fn move_failed(self: &Arc<Self>, group: String, moving: Move) {
        let Some(link) = self.cluster.get() else {
            return;
        };
        if link.owners().owner(&group).is_some() {
            return;
        }
        link.note_failed(&group, &moving.intent.to);
        if same_host(&moving.intent.to, self.server()) {
            return;
        }
        let engine = Arc::clone(self);
        self.spawn(async move { engine.fail_over(&group, &moving.intent.to).await });
    }

    /// A server went down: a group released to it by a move, which it had not taken, is
    /// placed again as after a failure there.
    pub fn peer_down(self: &Arc<Self>, server: &str) {
        let Some(link) = self.cluster.get() else {
            return;
        };
        let owners = link.owners();
        for (group, moving) in &owners.moves {
            if moving.intent.state == MoveState::Released
                && same_host(&moving.intent.to, server)
                && owners.owner(group).is_none()
            {
                link.note_failed(group, server);
                let (engine, group, server) = (Arc::clone(self), group.clone(), server.to_string());
                self.spawn(async move { engine.fail_over(&group, &server).await });
            }
        }
    }

    /// Writes the move's outcome (logged when etcd does not take it).
    async fn finish_move(
        &self,
        group: &str,
        moving: &Move,
        state: MoveState,
        reason: Option<String>,
    ) {
        if let Some(reason) = &reason {
            tracing::warn!(
                group,
                "the move to server {} failed: {reason}",
                moving.intent.to
            );
        }
        let Some(link) = self.cluster.get() else {
            return;
        };
        let Some(session) = link.session() else {
            tracing::error!(
                group,
                "etcd does not answer: the move's outcome is not written"
            );
            return;
        };
        let outcome = moving.intent.with_state(state, reason);
        match moving::finish(&session, link.cluster(), group, moving, &outcome).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(group, "the move changed before its outcome was written"),
            Err(error) => tracing::error!("{error}"),
        }
    }
}

/// The outcome of the move `intent` of `group` in `view` (which has shown it once), once
/// there is one: done, failed (why), or overtaken (its owner went away before releasing it, its destination went down
/// before taking it, another move replaced it).
fn outcome_of(view: &OwnersView, group: &str, intent: &MoveIntent) -> Option<Result<(), String>> {
    if !view.known {
        return None;
    }
    let Some(moving) = view.moves.get(group) else {
        return Some(Err("its record in etcd was removed".into()));
    };
    if moving.intent.id != intent.id {
        return Some(Err("another move of the group replaced it".into()));
    }
    match moving.intent.state {
        MoveState::Done => Some(Ok(())),
        MoveState::Failed => Some(Err(moving
            .intent
            .reason
            .clone()
            .unwrap_or_else(|| "see the alert logs".into()))),
        MoveState::Requested => match view.owner(group) {
            Some(owner) if owner.fence == intent.fence => None,
            Some(owner) => Some(Err(format!(
                "server {} took the group first (a failover)",
                owner.server
            ))),
            None => Some(Err(format!(
                "server {} gave the group up before it moved",
                intent.from
            ))),
        },
        MoveState::Released if !view.servers.iter().any(|s| same_host(s, &intent.to)) => {
            Some(Err(format!("server {} went down", intent.to)))
        }
        MoveState::Released => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clp_cluster::Owner;

    fn view(owner: Option<(&str, i64)>, moving: Option<MoveIntent>, up: &[&str]) -> OwnersView {
        let mut view = OwnersView {
            known: true,
            ..OwnersView::default()
        };
        if let Some((server, fence)) = owner {
            view.owners.insert(
                "web".into(),
                Owner {
                    server: server.into(),
                    fence,
                    lease: 1,
                },
            );
        }
        if let Some(intent) = moving {
            view.moves.insert(
                "web".into(),
                Move {
                    intent,
                    revision: 9,
                },
            );
        }
        view.servers = up.iter().map(|s| s.to_string()).collect();
        view
    }

    #[test]
    fn the_requester_waits_until_the_move_is_done_failed_or_overtaken() {
        let asked = MoveIntent::new("m1".into(), "node1", "node2", 5);
        let both = ["node1", "node2"];
        let released = asked.with_state(MoveState::Released, None);
        let cases: Vec<(OwnersView, Option<Result<(), String>>)> = vec![
            (view(Some(("node1", 5)), Some(asked.clone()), &both), None),
            (view(None, Some(released.clone()), &both), None),
            (
                view(Some(("node2", 8)), Some(released.clone()), &both),
                None,
            ),
            (
                view(
                    Some(("node2", 8)),
                    Some(asked.with_state(MoveState::Done, None)),
                    &both,
                ),
                Some(Ok(())),
            ),
            (
                view(
                    Some(("node1", 9)),
                    Some(asked.with_state(MoveState::Failed, Some("why".into()))),
                    &both,
                ),
                Some(Err("why".into())),
            ),
            (
                view(Some(("node2", 7)), Some(asked.clone()), &both),
                Some(Err("server node2 took the group first (a failover)".into())),
            ),
            (
                view(None, Some(asked.clone()), &both),
                Some(Err("server node1 gave the group up before it moved".into())),
            ),
            (
                view(None, Some(released), &["node1"]),
                Some(Err("server node2 went down".into())),
            ),
            (
                view(
                    Some(("node1", 5)),
                    Some(MoveIntent::new("m2".into(), "node1", "node2", 5)),
                    &both,
                ),
                Some(Err("another move of the group replaced it".into())),
            ),
        ];
        for (index, (view, expected)) in cases.into_iter().enumerate() {
            assert_eq!(outcome_of(&view, "web", &asked), expected, "case {index}");
        }
        let unknown = OwnersView::default();
        assert_eq!(outcome_of(&unknown, "web", &asked), None);
    }
}
