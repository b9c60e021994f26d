//! The recovery executor: feeds observations to the pure [`policy::decide`] and carries out
//! its decisions (alerts, reactivation, final actions).

use std::sync::Arc;

use super::Engine;
use super::policy::{self, Decision, Observation, Situation};
use clp_core::config::{FinalAction, RecoveryTarget};
use clp_core::status::ObjectStatus;
use clp_core::store::Durable;

/// A recovery step a monitor's failure decided on: the monitor's index and its target.
#[derive(Debug)]
pub(super) enum Recovery {
    /// Restart the target here ([`Decision::Reactivate`]).
    Reactivate(usize, RecoveryTarget),
    /// Move the target's group to another server ([`Decision::FailOver`]).
    FailOver(usize, RecoveryTarget),
}

impl Engine {
    pub(super) fn target_active(&self, state: &super::State, target: &RecoveryTarget) -> bool {
        let online = |name: &str| {
            state
                .resources
                .get(name)
                .is_some_and(|r| r.status == ObjectStatus::Online)
        };
        match target {
            RecoveryTarget::LocalServer => true,
            RecoveryTarget::Resource(name) => online(name),
            RecoveryTarget::Group(name) => self.group_config(name).is_some_and(|g| {
                g.resources.is_empty() || g.resources.iter().any(|r| online(&r.name))
            }),
        }
    }

    /// Feeds one observation to a monitor's ladder and carries out the decisions; a
    /// recovery step runs in a task of its own on the operations' runtime.
    pub(super) fn observe(self: &Arc<Self>, index: usize, observation: Observation) {
        for recovery in self.observe_then_recover(index, observation) {
            self.start_recovery(recovery);
        }
    }

    /// Feeds one observation to a monitor's ladder and carries out the decisions but the
    /// recovery steps, which it hands back for the caller to run ([`Self::recover_all`]): a
    /// task of the operations' runtime that saw the failure itself (a process's exit)
    /// restarts at once, without waking another task, and so another worker, for it.
    pub(super) fn observe_then_recover(
        self: &Arc<Self>,
        index: usize,
        observation: Observation,
    ) -> Vec<Recovery> {
        let config = &self.config.monitors[index];
        let (ladder, decisions) = {
            let mut state = self.lock();
            if state.daemon != clp_core::status::DaemonState::Running {
                return Vec::new();
            }
            let situation = Situation {
                target_active: self.target_active(&state, &config.recovery.target),
                recovery_disabled: self.config.cluster.disable_monitor_recovery,
                can_fail_over: self
                    .group_of(&config.recovery.target)
                    .is_some_and(|group| self.can_fail_over(&group)),
            };
            let (next, decisions) = policy::decide(
                &state.monitors[index].ladder,
                &observation,
                config.retry,
                &config.recovery,
                situation,
            );
            state.monitors[index].ladder = next.clone();
            (next, decisions)
        };
        let name = config.name.as_str();
        let target = config.recovery.target.display_name();
        let mut recoveries = Vec::new();
        for decision in decisions {
            match decision {
                Decision::ErrorDetected { code, detail } => {
                    self.alert("rm", 9, &[name, &code.to_string(), &detail]);
                }
                Decision::Warned { code, detail } => {
                    self.alert("rm", 4, &[name, &code.to_string(), &detail]);
                }
                Decision::BackToNormal => self.alert("rm", 26, &[name]),
                Decision::WarningCleared => self.alert("rm", 49, &[name]),
                Decision::TargetInactive => self.alert("rm", 25, &[target]),
                Decision::RecoveryDisabled => self.alert("rm", 192, &[name]),
                Decision::Persist => {
                    // With the next flush: a reactivation records the restarted resource
                    // durably right after (the flush covers this too), and a final action
                    // flushes before the OS acts (final_action.rs).
                    if let Err(error) = self.store.put_monitor(name, &ladder, Durable::Soon) {
                        tracing::error!(monitor = name, "cannot save the counters: {error}");
                    }
                }
                Decision::Reactivate(recovery_target) => {
                    recoveries.push(Recovery::Reactivate(index, recovery_target));
                }
                Decision::FailOver(recovery_target) => {
                    recoveries.push(Recovery::FailOver(index, recovery_target));
                }
                Decision::FinalAction(action) => self.monitor_final_action(index, action),
            }
        }
        recoveries
    }

    /// Runs a recovery step in a task of its own on the operations' runtime.
    pub(super) fn start_recovery(self: &Arc<Self>, recovery: Recovery) {
        let engine = Arc::clone(self);
        self.spawn(async move { engine.recover(recovery).await });
    }

    /// Runs the recovery steps of failures seen together: the first in the calling task
    /// (which must be on the operations' runtime), the others in tasks of their own, as
    /// [`Self::observe`] would have started them.
    pub(super) async fn recover_all(self: &Arc<Self>, recoveries: Vec<Recovery>) {
        let mut recoveries = recoveries.into_iter();
        let Some(first) = recoveries.next() else {
            return;
        };
        for other in recoveries {
            self.start_recovery(other);
        }
        Arc::clone(self).recover(first).await;
    }

    /// Runs one recovery step to its end. Boxed: a restart starts a process whose exit
    /// task runs the next recovery, a cycle of futures that only a box can name.
    pub(super) fn recover(
        self: Arc<Self>,
        recovery: Recovery,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        Box::pin(async move {
            match recovery {
                Recovery::Reactivate(index, target) => self.reactivate(index, target).await,
                Recovery::FailOver(index, target) => self.fail_over_away(index, target).await,
            }
        })
    }

    async fn reactivate(self: Arc<Self>, index: usize, target: RecoveryTarget) {
        let name = self.config.monitors[index].name.clone();
        let ok = match &target {
            RecoveryTarget::Resource(resource) => self.reactivate_resource(resource).await,
            RecoveryTarget::Group(group) => self.reactivate_group(group).await,
            RecoveryTarget::LocalServer => true,
        };
        self.alert(
            "rm",
            if ok { 13 } else { 19 },
            &[target.display_name(), &name],
        );
        self.observe_finished(index, ok);
    }

    /// Ends a recovery step even when the daemon is no longer running.
    fn observe_finished(&self, index: usize, recovered: bool) {
        let config = &self.config.monitors[index];
        let mut state = self.lock();
        let situation = Situation {
            target_active: true,
            recovery_disabled: false,
            can_fail_over: false,
        };
        let (next, _) = policy::decide(
            &state.monitors[index].ladder,
            &Observation::RecoveryFinished { recovered },
            config.retry,
            &config.recovery,
            situation,
        );
        state.monitors[index].ladder = next;
    }

    pub(super) fn monitor_final_action(self: &Arc<Self>, index: usize, action: FinalAction) {
        let config = &self.config.monitors[index];
        let name = config.name.as_str();
        let target = config.recovery.target.display_name();
        match action {
            FinalAction::None | FinalAction::Continue => {}
            FinalAction::StopGroup => self.alert("rm", 12, &[target, name]),
            FinalAction::StopDaemon => self.alert("rm", 15, &[name]),
            FinalAction::StopDaemonShutdown => self.alert("rm", 16, &[name]),
            FinalAction::StopDaemonReboot => self.alert("rm", 17, &[name]),
            FinalAction::SysrqPanic => self.alert("rm", 35, &[name]),
            FinalAction::KeepaliveReset => self.alert("rm", 37, &[name]),
            FinalAction::KeepalivePanic => self.alert("rm", 39, &[name]),
        }
        self.execute_final_action(action, self.group_of(&config.recovery.target));
    }

    /// The group a recovery target belongs to.
    pub(super) fn group_of(&self, target: &RecoveryTarget) -> Option<String> {
        match target {
            RecoveryTarget::Resource(name) => self.resource_config(name).map(|r| r.group.clone()),
            RecoveryTarget::Group(name) => Some(name.clone()),
            RecoveryTarget::LocalServer => None,
        }
    }
}
