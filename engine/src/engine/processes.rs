//! The state of resources across daemon restarts and the processes of async resources:
//! saved in the store, adopted after a restart, watched until they exit.

use std::sync::Arc;

use nix::sys::signal::Signal;

use super::recovery::Recovery;
use super::{Engine, PersistedResource};
use clp_core::config::{ExecMode, ResourceConfig};
use clp_core::process::{self, ProcessIdentity};
use clp_core::status::{DaemonState, ObjectStatus};
use clp_core::store::Durable;

impl Engine {
    /// A resource's process group runs: an HA cluster's keeper guards it.
    pub(super) fn guard_group(&self, pgid: u32) {
        if let Some(keeper) = self.keeper.get() {
            keeper.guard(pgid);
        }
    }

    /// A resource's process group stopped or its leader exited.
    pub(super) fn release_group(&self, pgid: u32) {
        if let Some(keeper) = self.keeper.get() {
            keeper.release(pgid);
        }
    }

    /// A floating IP is about to go up: an HA cluster's keeper takes it down with the
    /// groups when clppm dies.
    pub(super) fn guard_address(&self, address: std::net::IpAddr) {
        if let Some(keeper) = self.keeper.get() {
            keeper.guard_address(address);
        }
    }

    /// A floating IP went down or never came up.
    pub(super) fn release_address(&self, address: std::net::IpAddr) {
        if let Some(keeper) = self.keeper.get() {
            keeper.release_address(address);
        }
    }

    /// Saves what the daemon knows of a resource (its state, its process), durable `now`
    /// or with the next flush.
    pub(super) fn persist_resource(&self, name: &str, durable: Durable) {
        let persisted = {
            let state = self.lock();
            state.resources.get(name).map(|r| PersistedResource {
                online: r.status == ObjectStatus::Online,
                process: r.process,
            })
        };
        let result = match persisted {
            Some(p) if p.online || p.process.is_some() => {
                self.store.put_resource(name, &p, durable)
            }
            _ => self.store.remove_resource(name, durable),
        };
        if let Err(error) = result {
            tracing::error!(resource = name, "cannot save the resource state: {error}");
        }
    }

    /// Brings back what a previous run left: async processes still alive are adopted, sync
    /// resources that were online stay online; nothing is started twice.
    pub(super) fn restore_resources(self: &Arc<Self>) {
        // The /proc reading that finds unrecorded processes: made once, when a resource
        // first needs it.
        let mut leaders = None;
        for resource in self.config.groups.iter().flat_map(|g| g.resources.iter()) {
            let persisted = match self.store.resource::<PersistedResource>(&resource.name) {
                Ok(Some(persisted)) => persisted,
                _ => PersistedResource {
                    online: false,
                    process: None,
                },
            };
            let persisted = self.with_unrecorded_process(resource, persisted, &mut leaders);
            if !persisted.online && persisted.process.is_none() {
                continue;
            }
            let adopted = match (resource.mode, persisted.process) {
                (ExecMode::Async, Some(process)) if process.is_alive() => {
                    tracing::info!(resource = %resource.name, pid = process.pid, "adopting the running process");
                    self.guard_group(process.pid);
                    self.watch_adopted(&resource.name, process);
                    true
                }
                (ExecMode::Sync, _) => persisted.online,
                _ => false,
            };
            {
                let mut state = self.lock();
                if let Some(runtime) = state.resources.get_mut(&resource.name) {
                    runtime.status = if adopted {
                        ObjectStatus::Online
                    } else {
                        ObjectStatus::Offline
                    };
                    runtime.process = if adopted { persisted.process } else { None };
                }
                if adopted && let Some(group) = state.groups.get_mut(&resource.group) {
                    group.active = true;
                }
            }
            self.persist_resource(&resource.name, Durable::Now);
        }
    }

    /// An async resource whose recorded process is gone (or that has none recorded) may
    /// still run: started by a clppm killed before it could record the pid. Its start script
    /// is found by its environment (this root, this resource, no stop factor); more than one
    /// (never expected) keeps the oldest and ends the others. `leaders` is the start's one
    /// reading of /proc, made here when first needed.
    fn with_unrecorded_process(
        &self,
        resource: &ResourceConfig,
        persisted: PersistedResource,
        leaders: &mut Option<process::GroupLeaders>,
    ) -> PersistedResource {
        if resource.mode != ExecMode::Async
            || persisted.process.is_some_and(|process| process.is_alive())
        {
            return persisted;
        }
        let leaders = leaders.get_or_insert_with(|| {
            let root = self.paths.root().display().to_string();
            process::GroupLeaders::read((clp_core::paths::ROOT_ENV, &root))
        });
        let found = leaders.find(
            &[
                ("CLP_RESOURCENAME", &resource.name),
                ("CLP_GROUPNAME", &resource.group),
            ],
            &["CLP_FACTOR"],
        );
        let Some((first, rest)) = found.split_first() else {
            return persisted;
        };
        for extra in rest {
            tracing::warn!(resource = %resource.name, pid = extra.pid, "ending a second copy of the resource's process");
            process::signal_group(extra.pid, Signal::SIGKILL);
        }
        tracing::info!(resource = %resource.name, pid = first.pid, "found the resource's process that was not recorded");
        PersistedResource {
            online: true,
            process: Some(*first),
        }
    }

    fn watch_adopted(self: &Arc<Self>, name: &str, process: ProcessIdentity) {
        let engine = Arc::clone(self);
        let name = name.to_string();
        self.spawn(async move {
            if let Err(error) = process::wait_for_exit(process.pid).await {
                tracing::error!(resource = %name, "cannot watch pid {}: {error}", process.pid);
                return;
            }
            let recoveries = engine.on_process_exit(&name, process);
            engine.recover_all(recoveries).await;
        });
    }

    /// The process of an async resource has exited: event-driven monitors fail at once.
    /// Returns their recovery steps, for the task that saw the exit to run
    /// ([`Engine::recover_all`]).
    #[must_use = "the recovery steps of the monitors that failed must run"]
    pub(super) fn on_process_exit(
        self: &Arc<Self>,
        name: &str,
        process: ProcessIdentity,
    ) -> Vec<Recovery> {
        let failing: Vec<usize> = {
            let mut state = self.lock();
            let Some(runtime) = state.resources.get_mut(name) else {
                return Vec::new();
            };
            if runtime.process != Some(process) {
                return Vec::new();
            }
            self.release_group(process.pid);
            runtime.process = None;
            runtime.exited.notify_waiters();
            if runtime.stopping {
                return Vec::new();
            }
            tracing::warn!(
                resource = name,
                pid = process.pid,
                "the resource's process exited"
            );
            let daemon_running = state.daemon == DaemonState::Running;
            self.followers(name)
                .iter()
                .copied()
                .filter(|&index| {
                    daemon_running
                        && self.slots[index].event_driven
                        && state.monitors[index].enabled
                })
                .collect()
        };
        // A dead process in the store is one the next clppm finds dead (it checks the start
        // time): the record can wait. With monitors to fail, their recovery rewrites it (a
        // restart records the new process durably, a stop the resource offline), so the
        // write is left to it and the restart does not wait behind it.
        if failing.is_empty() {
            self.persist_resource(name, Durable::Soon);
        }
        failing
            .into_iter()
            .flat_map(|index| {
                self.observe_then_recover(
                    index,
                    super::policy::Observation::Failed {
                        code: clp_core::monitor::pidw::PROCESS_GONE,
                        detail: "Process did not exist.".into(),
                    },
                )
            })
            .collect()
    }
}
