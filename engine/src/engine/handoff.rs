//! The hand-off: clppm exits *without* stopping its groups, so that the next clppm (started
//! with a new configuration by `clpcfctrl --apply`) adopts the running resources, exactly as
//! after a crash ([`Engine::restore_resources`]). This is how a change limited to monitors,
//! alert settings or OS actions is applied by "suspend/resume": the daemon reads its
//! configuration only when it starts, the resources keep running.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::{Cause, Engine, OperationError};
use clp_core::config::diff::ApplyClass;
use clp_core::ipc::{AfterStop, ErrorCode};
use clp_core::status::DaemonState;
use clp_core::store::Durable;

/// The store's meta key naming the groups that were active when the previous clppm handed
/// over (absent or null: it did not).
const HANDED_OVER: &str = "handed_over_groups";

/// The store's meta key keeping what was suspended across a hand-off.
const HANDED_OVER_SUSPENSION: &str = "handed_over_suspension";

/// What an operator had suspended when the daemon handed over: it stays suspended.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct Suspension {
    /// `clpcl --suspend` was in force.
    pub daemon: bool,
    /// Monitors suspended with `clpmonctrl -s`.
    pub monitors: Vec<String>,
}

impl Engine {
    /// Stops the monitors (rm 2), saves the state of every resource and monitor, marks the
    /// store cleanly stopped with the list of active groups, and asks the daemon to exit
    /// without stopping anything. Waits for a group operation in flight to finish first.
    pub async fn hand_off(self: &Arc<Self>, client: &str) -> Result<(), OperationError> {
        if self.is_stopping() {
            return Err(OperationError::new(
                ErrorCode::Stopping,
                "clppm is stopping",
            ));
        }
        self.alert("cl", 3, &[self.server(), client]);
        self.alert("pm", 35, &[client]);
        let _operation = self.operations.lock().await;
        let (active_groups, suspension) = {
            let mut state = self.lock();
            if state.daemon == DaemonState::Stopping {
                return Err(OperationError::new(
                    ErrorCode::Stopping,
                    "clppm is stopping",
                ));
            }
            let suspension = Suspension {
                daemon: state.daemon == DaemonState::Suspended,
                monitors: self
                    .config
                    .monitors
                    .iter()
                    .zip(&state.monitors)
                    .filter(|(_, runtime)| runtime.suspended)
                    .map(|(config, _)| config.name.clone())
                    .collect(),
            };
            state.daemon = DaemonState::Stopping;
            self.refresh_monitors(&mut state, Cause::Lifecycle);
            let groups = self
                .config
                .groups
                .iter()
                .filter(|group| state.groups.get(&group.name).is_some_and(|g| g.active))
                .map(|group| group.name.clone())
                .collect::<Vec<_>>();
            (groups, suspension)
        };
        // From here on there is no way back: the monitor tasks end. A store that fails now
        // leaves the next clppm the crash path (it adopts what the store knows).
        self.end_monitor_tasks().await;
        for resource in self.config.groups.iter().flat_map(|g| g.resources.iter()) {
            self.persist_resource(&resource.name, Durable::Now);
        }
        {
            let state = self.lock();
            for (config, runtime) in self.config.monitors.iter().zip(&state.monitors) {
                if let Err(error) =
                    self.store
                        .put_monitor(&config.name, &runtime.ladder, Durable::Now)
                {
                    tracing::error!(monitor = %config.name, "cannot save the counters: {error}");
                }
            }
        }
        let marked = self
            .store
            .put_meta(HANDED_OVER, &Some(active_groups))
            .and_then(|()| self.store.put_meta(HANDED_OVER_SUSPENSION, &suspension))
            .and_then(|()| self.store.put_meta("running", &false))
            .and_then(|()| self.store.flush());
        if let Err(error) = marked {
            tracing::error!("cannot record the hand-off: {error}");
        }
        tracing::info!("handing the running resources over to the next clppm");
        self.handed_off.store(true, Ordering::SeqCst);
        self.stopped.send_replace(true);
        self.request_stop(AfterStop::Nothing);
        Ok(())
    }

    /// Switches this daemon to the configuration now active on disk, as `clpcfctrl
    /// --apply` does: a hand-off (`SuspendResume`) or an orderly stop (`Restart`), after
    /// which the daemon starts again in place ([`Engine::restart_requested`]) and reads it.
    pub async fn restart_for_configuration(self: &Arc<Self>, class: ApplyClass, client: &str) {
        if self.is_stopping() {
            return;
        }
        self.restart_in_place.store(true, Ordering::SeqCst);
        tracing::info!(
            "the cluster's configuration changed: clppm starts again with it ({})",
            class.as_str()
        );
        match class {
            ApplyClass::SuspendResume => {
                if let Err(error) = self.hand_off(client).await {
                    tracing::warn!(
                        "cannot hand the resources over ({}); stopping them instead",
                        error.message
                    );
                    self.stop_from(client, AfterStop::Nothing);
                }
            }
            ApplyClass::Restart => self.stop_from(client, AfterStop::Nothing),
        }
    }

    /// Whether the daemon is to start again in place once stopped (a new configuration).
    pub fn restart_requested(&self) -> bool {
        self.restart_in_place.load(Ordering::SeqCst)
    }

    /// Whether this daemon handed its resources over (it exits without stopping them).
    pub fn is_handed_off(&self) -> bool {
        self.handed_off.load(Ordering::SeqCst)
    }

    /// The groups the previous clppm handed over, once: the record is cleared as it is read.
    pub(super) fn take_handed_over_groups(&self) -> Option<Vec<String>> {
        let groups = self
            .store
            .meta::<Option<Vec<String>>>(HANDED_OVER)
            .ok()
            .flatten()
            .flatten()?;
        if let Err(error) = self.store.put_meta(HANDED_OVER, &None::<Vec<String>>) {
            tracing::error!("cannot clear the hand-off record: {error}");
        }
        Some(
            groups
                .into_iter()
                .filter(|name| self.group_config(name).is_some())
                .collect(),
        )
    }

    /// What was suspended when the previous clppm handed over, once (cleared as read).
    pub(super) fn take_handed_over_suspension(&self) -> Suspension {
        let suspension = self
            .store
            .meta::<Suspension>(HANDED_OVER_SUSPENSION)
            .ok()
            .flatten()
            .unwrap_or_default();
        if suspension != Suspension::default()
            && let Err(error) = self
                .store
                .put_meta(HANDED_OVER_SUSPENSION, &Suspension::default())
        {
            tracing::error!("cannot clear the hand-off record: {error}");
        }
        suspension
    }

    /// Whether every resource of a group is online (adopted after a hand-off).
    pub(super) fn group_fully_online(&self, name: &str) -> bool {
        let Some(group) = self.group_config(name) else {
            return false;
        };
        let state = self.lock();
        group.resources.iter().all(|resource| {
            state
                .resources
                .get(&resource.name)
                .is_some_and(|r| r.status == clp_core::status::ObjectStatus::Online)
        })
    }
}
