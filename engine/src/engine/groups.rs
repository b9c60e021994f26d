//! Group operations: `clpgrp -s/-t` (which groups, refused when already there), a group's
//! start in resource order and its stop in reverse, and its reactivation for a monitor.

use std::sync::Arc;

use clp_core::config::same_host;
use clp_core::ipc::ErrorCode;
use clp_core::status::ObjectStatus;
use clp_core::store::Durable;

use super::ownership::ClusterFacts;
use super::placement::{self, Placement, Servers};
use super::{Engine, OperationError, already};

impl Engine {
    pub(super) fn group_names(&self, group: Option<&str>) -> Result<Vec<String>, OperationError> {
        match group {
            None => Ok(self.config.groups.iter().map(|g| g.name.clone()).collect()),
            Some(name) if self.group_config(name).is_some() => Ok(vec![name.to_string()]),
            Some(name) => Err(OperationError::new(
                ErrorCode::NotFound,
                format!("group \"{name}\" is not in the configuration; 'clpstat' lists the groups"),
            )),
        }
    }

    /// `clpgrp -s [GROUP]`.
    pub async fn start_groups(self: &Arc<Self>, group: Option<&str>) -> Result<(), OperationError> {
        let names = self.group_names(group)?;
        self.check_operable()?;
        let _operation = self.operations.lock().await;
        self.check_operable()?;
        let names = self.groups_to_change(names, group.is_some(), already::Goal::Start)?;
        // A group the operator names starts on the server asked (`clpgrp -s GROUP -h
        // SERVER`), whatever placement would prefer: its owner key decides.
        let chosen_here = group.is_some() && self.cluster.get().is_some();
        let mut failed = Vec::new();
        for name in &names {
            let started = if chosen_here {
                self.start_chosen_group_locked(name).await?
            } else {
                self.start_group_locked(name, "START").await
            };
            if !started {
                failed.push(name.clone());
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(OperationError::new(
                ErrorCode::Failed,
                format!(
                    "failed to start group {}; see the alert log ('clplogcc') and {}",
                    failed.join(", "),
                    self.paths.script_log_dir().display()
                ),
            ))
        }
    }

    /// `clpgrp -t [GROUP]`: every group in reverse order when none is named.
    pub async fn stop_groups(self: &Arc<Self>, group: Option<&str>) -> Result<(), OperationError> {
        let mut names = self.group_names(group)?;
        names.reverse();
        self.check_operable()?;
        let _operation = self.operations.lock().await;
        self.check_operable()?;
        let names = self.groups_to_change(names, group.is_some(), already::Goal::Stop)?;
        let mut failed = Vec::new();
        for name in &names {
            if !self.stop_group_locked(name, "GROUPSTOP").await {
                failed.push(name.clone());
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(OperationError::new(
                ErrorCode::Failed,
                format!(
                    "failed to stop group {}; see the alert log",
                    failed.join(", ")
                ),
            ))
        }
    }

    /// The groups of `names` not already where `goal` takes them (the operation lock is
    /// held). A named group already there, or every group when none was named, is refused
    /// with [`ErrorCode::AlreadyStarted`] / [`ErrorCode::AlreadyStopped`].
    pub(super) fn groups_to_change(
        &self,
        names: Vec<String>,
        named: bool,
        goal: already::Goal,
    ) -> Result<Vec<String>, OperationError> {
        let state = self.lock();
        let mut refusal = None;
        let remaining: Vec<String> = names
            .into_iter()
            .filter(|name| {
                let Some(config) = self.group_config(name) else {
                    return true;
                };
                match already::group(&state, config, goal) {
                    Some(already) => {
                        refusal = Some(already);
                        false
                    }
                    None => true,
                }
            })
            .collect();
        match refusal {
            Some(refusal) if remaining.is_empty() && named => Err(refusal),
            Some(_) if remaining.is_empty() => Err(already::every_group(goal)),
            _ => Ok(remaining),
        }
    }

    pub(super) fn set_group(&self, name: &str, update: impl FnOnce(&mut super::GroupRuntime)) {
        if let Some(group) = self.lock().groups.get_mut(name) {
            update(group);
        }
    }

    /// `clpgrp -s GROUP` in a cluster, the operation lock held: the group starts here when
    /// it may run on this server and no other server owns it (its owner key, taken first);
    /// a refusal says why. Returns whether its resources started.
    async fn start_chosen_group_locked(
        self: &Arc<Self>,
        name: &str,
    ) -> Result<bool, OperationError> {
        let Some(group) = self.group_config(name) else {
            return Ok(false);
        };
        let servers = self.config.group_servers(group);
        if !servers
            .iter()
            .any(|server| same_host(server, self.server()))
        {
            return Err(OperationError::new(
                ErrorCode::Failed,
                format!(
                    "group \"{name}\" may not run on server {}: its servers are {}",
                    self.server(),
                    servers.join(", ")
                ),
            ));
        }
        self.take_ownership(name)
            .await
            .map_err(|refusal| OperationError::new(ErrorCode::Failed, refusal))?;
        Ok(self.start_owned_group_locked(name, "START").await)
    }

    /// Starts a group's resources in order (the operation lock is held), when placement puts
    /// it on this server. Returns success.
    pub(super) async fn start_group_locked(self: &Arc<Self>, name: &str, event: &str) -> bool {
        if let Err(refusal) = self.placed_here(name) {
            tracing::warn!(group = name, "{}", refusal.message);
            return false;
        }
        self.start_owned_group_locked(name, event).await
    }

    /// Takes the group's owner key (in a cluster), then starts its resources in order.
    async fn start_owned_group_locked(self: &Arc<Self>, name: &str, event: &str) -> bool {
        let Some(group) = self.group_config(name) else {
            return false;
        };
        if let Err(refusal) = self.take_ownership(name).await {
            tracing::warn!(group = name, "{refusal}");
            return false;
        }
        self.alert("rc", 10, &[name]);
        let started = std::time::Instant::now();
        self.set_group(name, |g| {
            g.pending = Some(ObjectStatus::OnlinePending);
            g.active = true;
            g.failed = false;
        });
        let mut ok = true;
        for resource in &group.resources {
            let online = self
                .lock()
                .resources
                .get(&resource.name)
                .is_some_and(|r| r.status == ObjectStatus::Online);
            if online {
                continue;
            }
            if let Err(action) = self.activate(resource, event).await {
                ok = false;
                if !self.activation_final_action(resource, action) {
                    break;
                }
            }
        }
        self.set_group(name, |g| {
            g.pending = None;
            g.failed = !ok;
            if ok {
                g.start_times.record(started.elapsed());
            }
        });
        if !ok {
            self.note_failed_here(name);
        }
        self.alert("rc", if ok { 11 } else { 12 }, &[name]);
        ok
    }

    /// Stops a group's resources in reverse order (the operation lock is held).
    pub(super) async fn stop_group_locked(self: &Arc<Self>, name: &str, factor: &str) -> bool {
        let Some(group) = self.group_config(name) else {
            return false;
        };
        self.alert("rc", 20, &[name]);
        let started = std::time::Instant::now();
        self.set_group(name, |g| g.pending = Some(ObjectStatus::OfflinePending));
        let mut ok = true;
        for resource in group.resources.iter().rev() {
            let offline = self
                .lock()
                .resources
                .get(&resource.name)
                .is_some_and(|r| r.status == ObjectStatus::Offline);
            if offline {
                continue;
            }
            // One sync for the whole group, below.
            if let Err(action) = self.deactivate(resource, factor, Durable::Soon).await {
                ok = false;
                if !self.deactivation_final_action(resource, action) {
                    break;
                }
            }
        }
        // On disk before the stop is told (and before the group's owner key goes, below).
        self.flush_store();
        self.set_group(name, |g| {
            g.pending = None;
            g.active = !ok;
            g.failed = !ok;
            if ok {
                g.stop_times.record(started.elapsed());
            }
        });
        self.alert("rc", if ok { 21 } else { 22 }, &[name]);
        // A group stopped on purpose gives its owner key up (in a cluster): it does not
        // fail over. A restart keeps it; clppm's stop leaves it to the lease's revocation,
        // so that the group moves to the next server.
        if ok && factor == "GROUPSTOP" {
            self.release_ownership(name).await;
        }
        ok
    }

    /// Reactivates a group for a monitor.
    pub(super) async fn reactivate_group(self: &Arc<Self>, name: &str) -> bool {
        let _operation = self.operations.lock().await;
        if self.is_stopping() {
            return false;
        }
        self.alert("rc", 70, &[name]);
        let stopped = self.stop_group_locked(name, "GROUPRESTART").await;
        let started = stopped && self.start_group_locked(name, "RECOVER").await;
        self.alert("rc", if started { 71 } else { 72 }, &[name]);
        started
    }

    /// Whether `group` is to run on this server ([`placement::place`]): asked by every path
    /// that starts a group, or a resource of one, here.
    pub(super) fn placed_here(&self, group: &str) -> Result<(), OperationError> {
        let Some(config) = self.group_config(group) else {
            return Err(OperationError::new(
                ErrorCode::NotFound,
                format!(
                    "group \"{group}\" is not in the configuration; 'clpstat' lists the groups"
                ),
            ));
        };
        let local = [self.server()];
        let facts = match self.cluster_facts(group) {
            Some(Ok(facts)) => facts,
            Some(Err(unknown)) => return Err(OperationError::new(ErrorCode::Failed, unknown)),
            None => ClusterFacts {
                up: vec![self.server().to_string()],
                owner: None,
                failed: Vec::new(),
                moving_to: None,
            },
        };
        let order = if self.cluster.get().is_some() {
            self.config.group_servers(config)
        } else {
            local.to_vec()
        };
        let servers = Servers {
            local: self.server(),
            order: &order,
            up: &facts.up,
            owner: facts.owner.as_deref(),
            failed: &facts.failed,
            moving_to: facts.moving_to.as_deref(),
        };
        match placement::place(config, servers) {
            Placement::Here => Ok(()),
            Placement::Elsewhere { server } => Err(OperationError::new(
                ErrorCode::Failed,
                format!(
                    "group \"{group}\" runs on server {server}, not on this one; start it there"
                ),
            )),
            Placement::Nowhere => Err(OperationError::new(
                ErrorCode::Failed,
                format!("group \"{group}\" has no server to run on"),
            )),
        }
    }
}
