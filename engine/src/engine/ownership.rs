//! An HA cluster's groups on this server: a group starts here only after this server won
//! its owner key in etcd ([`clp_cluster::ownership`]), its scripts get the key's revision
//! as `CLP_FENCE`; a group whose owner went down fails over to the server placement picks
//! (rc 60/61/62); when etcd stops answering this server (`Change::Lost`), every group it
//! owns is stopped before its lease can run out, and if that stop does not finish in time
//! the server fences itself through the OS-action layer (nm 43). When etcd answers again,
//! the groups it stopped are placed again. One server never gets here.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use clp_cluster::moving::MoveState;
use clp_cluster::ownership::{self, Claim};
use clp_cluster::{OwnerEvent, OwnersView, Session};
use clp_core::config::same_host;
use tokio::sync::watch;

use super::Engine;
use super::placement;

/// What is left of the lease's time to live at the fencing deadline: the groups must be
/// stopped this long before the lease could end, at most a third of the time left.
const FENCE_MARGIN: Duration = Duration::from_millis(500);

/// How long fencing waits for the hard stop (processes killed, floating IPs off) before
/// the OS action.
const HARD_STOP_WAIT: Duration = Duration::from_millis(500);

/// How many times a claim that etcd did not answer is tried again, and after how long.
const CLAIM_ATTEMPTS: u32 = 5;
const CLAIM_RETRY: Duration = Duration::from_millis(200);

/// The engine's link to the cluster's ownership, set once when clppm joins the cluster.
pub struct ClusterLink {
    cluster: String,
    sessions: watch::Receiver<Option<Session>>,
    owners: watch::Receiver<OwnersView>,
    /// At `Change::Lost`, how much of the lease is left at least.
    time_left_when_lost: Duration,
    state: std::sync::Mutex<LinkState>,
}

#[derive(Default)]
struct LinkState {
    /// The groups this server owns, with their fencing tokens.
    owned: HashMap<String, i64>,
    /// Per group, the servers where it failed since it last found an owner: placement and
    /// the failover rung skip them, so that a group whose start fails moves on instead of
    /// coming straight back. Forgotten when the group is taken again (a new owner ends the
    /// episode: a later failure there may move it back to a server that failed before,
    /// bounded by the monitors' failover thresholds).
    failed_on: HashMap<String, Vec<String>>,
    /// The groups stopped because etcd stopped answering: placed again when it answers.
    lost: BTreeSet<String>,
    /// The cluster was joined once (the auto-start groups were placed).
    joined: bool,
}

impl ClusterLink {
    /// A link over the membership's sessions and the owners' watch.
    pub fn new(
        cluster: &str,
        sessions: watch::Receiver<Option<Session>>,
        owners: watch::Receiver<OwnersView>,
        time_left_when_lost: Duration,
    ) -> ClusterLink {
        ClusterLink {
            cluster: cluster.to_string(),
            sessions,
            owners,
            time_left_when_lost,
            state: std::sync::Mutex::new(LinkState::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, LinkState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The owners as last seen.
    pub(super) fn owners(&self) -> OwnersView {
        self.owners.borrow().clone()
    }

    /// The owners as they change.
    pub(super) fn watch_owners(&self) -> watch::Receiver<OwnersView> {
        self.owners.clone()
    }

    /// The cluster's name (its keys live under `/clp/<cluster>/`).
    pub(super) fn cluster(&self) -> &str {
        &self.cluster
    }

    /// The client and lease, while etcd answers this server.
    pub(super) fn session(&self) -> Option<Session> {
        self.sessions.borrow().clone()
    }

    /// Forgets the fencing token of `group`: this server no longer owns it.
    pub(super) fn disown(&self, group: &str) {
        self.state().owned.remove(group);
    }

    /// Forgets where `group` failed: it has a new owner.
    pub(super) fn forget_failures(&self, group: &str) {
        self.state().failed_on.remove(group);
    }

    /// Records that `group` failed on `server`: placement prefers the others.
    pub(super) fn note_failed(&self, group: &str, server: &str) {
        let mut state = self.state();
        let servers = state.failed_on.entry(group.to_string()).or_default();
        if !servers.iter().any(|s| same_host(s, server)) {
            servers.push(server.to_string());
        }
    }
}

/// What placement needs in a cluster, read from the link.
pub(super) struct ClusterFacts {
    pub up: Vec<String>,
    pub owner: Option<String>,
    pub failed: Vec<String>,
    /// The destination of a move released to it (`clpgrp -m`).
    pub moving_to: Option<String>,
}

impl Engine {
    /// Joins the engine to the cluster's ownership (once; a second call is ignored).
    pub fn attach_cluster(&self, link: ClusterLink) {
        let _ = self.cluster.set(Arc::new(link));
    }

    /// What placement knows of `group` in the cluster, or why nothing is known; `None` on
    /// one server.
    pub(super) fn cluster_facts(&self, group: &str) -> Option<Result<ClusterFacts, String>> {
        let link = self.cluster.get()?;
        let owners = link.owners();
        if !owners.known {
            return Some(Err(format!(
                "etcd does not answer this server, so the owner of group \"{group}\" is unknown; it is placed when etcd answers"
            )));
        }
        Some(Ok(ClusterFacts {
            up: owners.servers.iter().cloned().collect(),
            owner: owners.owner(group).map(|o| o.server.clone()),
            moving_to: owners
                .moves
                .get(group)
                .filter(|m| m.intent.state == MoveState::Released)
                .map(|m| m.intent.to.clone()),
            failed: link
                .state()
                .failed_on
                .get(group)
                .cloned()
                .unwrap_or_default(),
        }))
    }

    /// Takes `group`'s owner key for this server (cluster only; on one server, nothing to
    /// take). A key left by this server's previous clppm (an older lease) is released
    /// first: its process is gone, since this one holds the pid lock.
    pub(super) async fn take_ownership(&self, group: &str) -> Result<(), String> {
        let Some(link) = self.cluster.get() else {
            return Ok(());
        };
        let session = link.sessions.borrow().clone().ok_or_else(|| {
            format!("etcd does not answer this server: group \"{group}\" cannot be taken")
        })?;
        let local = self.server();
        let mut released_stale = false;
        let mut attempts = 0;
        loop {
            let claim = match ownership::claim(&session, &link.cluster, group, local).await {
                Ok(claim) => claim,
                // The client spreads requests over every endpoint: one that is cut off
                // fails this request, the next goes to another member.
                Err(error) if attempts < CLAIM_ATTEMPTS => {
                    attempts += 1;
                    tracing::debug!(group, "{error}; trying again");
                    tokio::time::sleep(CLAIM_RETRY).await;
                    continue;
                }
                Err(error) => return Err(error.to_string()),
            };
            match claim {
                Claim::Won(fence) => {
                    link.state().owned.insert(group.to_string(), fence);
                    tracing::info!(group, fence, "this server owns the group");
                    return Ok(());
                }
                Claim::Held(owner) if same_host(&owner.server, local) && !released_stale => {
                    tracing::warn!(
                        group,
                        "the owner key of an earlier clppm of this server is still there; releasing it"
                    );
                    released_stale = true;
                    ownership::release(&session, &link.cluster, group, local)
                        .await
                        .map_err(|error| error.to_string())?;
                }
                Claim::Held(owner) if owner.server.is_empty() => {
                    return Err(format!(
                        "group \"{group}\" was released while this server claimed it; it is placed again"
                    ));
                }
                Claim::Held(owner) => {
                    return Err(format!(
                        "group \"{group}\" is owned by server {} (token {}); this server does not start it",
                        owner.server, owner.fence
                    ));
                }
            }
        }
    }

    /// Gives `group`'s owner key up (cluster only), after a normal group stop.
    pub(super) async fn release_ownership(&self, group: &str) {
        let Some(link) = self.cluster.get() else {
            return;
        };
        link.state().owned.remove(group);
        let Some(session) = link.sessions.borrow().clone() else {
            return;
        };
        if let Err(error) = ownership::release(&session, &link.cluster, group, self.server()).await
        {
            tracing::warn!("{error}; the key goes with this server's lease");
        }
    }

    /// The fencing token of `group`, while this server owns it.
    pub(super) fn fence_of(&self, group: &str) -> Option<i64> {
        self.cluster.get()?.state().owned.get(group).copied()
    }

    /// `CLP_SERVER` for `group`: `HOME` on its first server (and always on one server),
    /// `OTHER` elsewhere.
    pub(super) fn server_role(&self, group: &str) -> &'static str {
        let Some(config) = self.group_config(group) else {
            return "HOME";
        };
        if self.cluster.get().is_none()
            || placement::is_home(&self.config.group_servers(config), self.server())
        {
            "HOME"
        } else {
            "OTHER"
        }
    }

    /// Records that `group` failed on this server: placement prefers the others.
    pub(super) fn note_failed_here(&self, group: &str) {
        if let Some(link) = self.cluster.get() {
            link.note_failed(group, self.server());
        }
    }

    /// A change of a group's owner, heard from the owners' watch.
    pub fn owner_event(self: &Arc<Self>, event: OwnerEvent) {
        match event {
            OwnerEvent::Orphaned { group, server } => {
                if same_host(&server, self.server()) {
                    // This server's own earlier lease: the groups it stopped when etcd
                    // stopped answering are placed again on `regained`.
                    return;
                }
                let engine = Arc::clone(self);
                self.spawn(async move { engine.fail_over(&group, &server).await });
            }
            OwnerEvent::Taken { group, owner } => {
                if let Some(link) = self.cluster.get() {
                    link.forget_failures(&group);
                }
                if !same_host(&owner.server, self.server()) && self.fence_of(&group).is_some() {
                    tracing::error!(
                        group,
                        "server {} took a group this server believed it owned",
                        owner.server
                    );
                }
            }
            OwnerEvent::Moved { group, server } => {
                if same_host(&server, self.server()) {
                    return;
                }
                // It failed there: placement prefers the other servers.
                if let Some(link) = self.cluster.get() {
                    link.note_failed(&group, &server);
                }
                let engine = Arc::clone(self);
                self.spawn(async move { engine.fail_over(&group, &server).await });
            }
            OwnerEvent::Released { .. } => {}
            OwnerEvent::MoveRequested { group, moving } => self.move_requested(group, moving),
            OwnerEvent::MoveReleased { group, moving } => self.move_released(group, moving),
            OwnerEvent::MoveFailed { group, moving } => self.move_failed(group, moving),
        }
    }

    /// `group`'s owner `from` went down: start it here when placement says so.
    pub(super) async fn fail_over(self: &Arc<Self>, group: &str, from: &str) {
        let _operation = self.operations.lock().await;
        if self.check_operable().is_err() || self.group_active(group) {
            return;
        }
        if let Err(elsewhere) = self.placed_here(group) {
            tracing::info!(group, from, "failover: {}", elsewhere.message);
            return;
        }
        self.alert("rc", 60, &[group]);
        let started = self.start_group_locked(group, "FAILOVER").await;
        self.alert("rc", if started { 61 } else { 62 }, &[group]);
    }

    /// Whether another server may take `group` now: an HA cluster where a server of the
    /// group's order other than this one is up and did not fail it.
    pub(super) fn can_fail_over(&self, group: &str) -> bool {
        let (Some(link), Some(config)) = (self.cluster.get(), self.group_config(group)) else {
            return false;
        };
        let owners = link.owners();
        let failed = link
            .state()
            .failed_on
            .get(group)
            .cloned()
            .unwrap_or_default();
        owners.known
            && self.config.group_servers(config).iter().any(|server| {
                !same_host(server, self.server())
                    && owners.servers.iter().any(|up| same_host(up, server))
                    && !failed.iter().any(|f| same_host(f, server))
            })
    }

    /// A monitor's failover rung: stops the target's group here, then hands its owner key
    /// over so that the next server by placement starts it (rm 14; rm 20 when it fails).
    pub(super) async fn fail_over_away(
        self: Arc<Self>,
        index: usize,
        target: clp_core::config::RecoveryTarget,
    ) {
        let monitor = self.config.monitors[index].name.clone();
        let shown = target.display_name().to_string();
        let Some(group) = self.group_of(&target) else {
            return;
        };
        let moved = async {
            let _operation = self.operations.lock().await;
            if self.is_stopping() || !self.stop_group_locked(&group, "GROUPFAILOVER").await {
                return false;
            }
            self.note_failed_here(&group);
            let (Some(link), Some(session)) = (
                self.cluster.get(),
                self.cluster.get().and_then(|l| l.sessions.borrow().clone()),
            ) else {
                return false;
            };
            link.state().owned.remove(&group);
            match ownership::hand_over(&session, &link.cluster, &group, self.server()).await {
                Ok(handed) => handed,
                Err(error) => {
                    tracing::error!("{error}");
                    false
                }
            }
        };
        if moved.await {
            self.alert("rm", 14, &[&shown, &monitor]);
        } else {
            self.alert("rm", 20, &[&shown, &monitor]);
        }
    }

    fn group_active(&self, group: &str) -> bool {
        self.lock().groups.get(group).is_some_and(|g| g.active)
    }

    /// etcd stopped answering this server: stop every group it owns before its lease can
    /// run out; past the deadline, fence through the OS-action layer.
    pub fn lost_cluster(self: &Arc<Self>, reason: &str) {
        let Some(link) = self.cluster.get() else {
            return;
        };
        let budget = link.time_left_when_lost;
        let margin = FENCE_MARGIN.min(budget / 3);
        let deadline = tokio::time::Instant::now() + budget - margin;
        // The tokens stay known to the stop scripts (CLP_FENCE), then are forgotten.
        let owned: Vec<String> = {
            let mut state = link.state();
            let owned: Vec<String> = state.owned.keys().cloned().collect();
            state.lost.extend(owned.iter().cloned());
            owned
        };
        if owned.is_empty() {
            return;
        }
        tracing::warn!(
            "{reason}: stopping groups {} within {:.1} s, before this server's lease can run out",
            owned.join(", "),
            (budget - margin).as_secs_f64()
        );
        let engine = Arc::clone(self);
        let link = Arc::clone(link);
        self.spawn(async move {
            let stop = async {
                let _operation = engine.operations.lock().await;
                let mut stopped = true;
                for group in engine.config.groups.iter().rev() {
                    if owned.contains(&group.name) {
                        stopped &= engine.stop_group_locked(&group.name, "GROUPFAILOVER").await;
                    }
                }
                // Under the operation lock, so that a start after etcd answers again
                // records its new token after this.
                forget(&link, &owned);
                stopped
            };
            let stopped = tokio::time::timeout_at(deadline, stop).await;
            if stopped.is_err() {
                forget(&link, &owned);
            }
            match stopped {
                Ok(true) => tracing::info!("groups stopped before this server's lease could end"),
                Ok(false) => {
                    engine
                        .fence("a group failed to stop after etcd stopped answering")
                        .await
                }
                Err(_) => {
                    engine
                        .fence("the groups did not stop before this server's lease could end")
                        .await
                }
            }
        });
    }

    /// Fences this server (nm 43): first what its keeper would do — every process group of
    /// its resources killed, every floating IP taken off — then the configured shutdown of
    /// `[os_actions]`. A shutdown takes its time, and nothing of the groups may run or
    /// answer here meanwhile: the lease runs out and another server takes them.
    async fn fence(&self, why: &str) {
        tracing::error!("{why}: fencing this server (shutdown)");
        self.alert("nm", 43, &["shutdown", self.server()]);
        if let Some(keeper) = self.keeper.get() {
            match tokio::time::timeout(HARD_STOP_WAIT, keeper.kill_all()).await {
                Ok(Some(said)) => tracing::warn!("before the shutdown: {said}"),
                Ok(None) => tracing::error!("before the shutdown: the keeper's task is gone"),
                Err(_) => tracing::error!(
                    "before the shutdown: the hard stop did not end within {HARD_STOP_WAIT:?}"
                ),
            }
        }
        if let Err(error) = self.os.shutdown() {
            tracing::error!("fencing failed: {error}");
            self.alert("down", 11, &[self.server(), &error.to_string()]);
        }
    }

    /// etcd answers (again): on the first join the auto-start groups are placed; later the
    /// groups stopped when etcd stopped answering. Groups already running here (adopted
    /// from the previous clppm) take their owner key.
    pub fn regained_cluster(self: &Arc<Self>) {
        let Some(link) = self.cluster.get().cloned() else {
            return;
        };
        let engine = Arc::clone(self);
        self.spawn(async move {
            // The owners' watch lists everything again on the new session first.
            let mut owners = link.owners.clone();
            let wait = engine.config.heartbeat.timeout * 2;
            let _ = tokio::time::timeout(wait, owners.wait_for(|view| view.known)).await;
            let groups: Vec<String> = {
                let mut state = link.state();
                let first = !state.joined;
                state.joined = true;
                let lost = std::mem::take(&mut state.lost);
                engine
                    .config
                    .groups
                    .iter()
                    .filter(|g| lost.contains(&g.name) || (first && g.auto_start))
                    .map(|g| g.name.clone())
                    .collect()
            };
            let _operation = engine.operations.lock().await;
            for group in &engine.config.groups {
                if engine.is_stopping() {
                    return;
                }
                if engine.group_active(&group.name) && engine.fence_of(&group.name).is_none() {
                    if let Err(refusal) = engine.take_ownership(&group.name).await {
                        // It runs here without its key: whoever holds the key may run it
                        // too, so it stops here (never two servers at once).
                        tracing::error!(group = %group.name, "a group running here without its owner key is stopped: {refusal}");
                        engine.stop_group_locked(&group.name, "GROUPSTOP").await;
                    }
                    continue;
                }
                if !groups.contains(&group.name) || engine.group_active(&group.name) {
                    continue;
                }
                if engine.placed_here(&group.name).is_ok() {
                    engine.start_group_locked(&group.name, "START").await;
                }
            }
        });
    }
}

/// Forgets the tokens of `groups`: their keys are on a lease this server no longer renews.
fn forget(link: &ClusterLink, groups: &[String]) {
    let mut state = link.state();
    for group in groups {
        state.owned.remove(group);
    }
}
