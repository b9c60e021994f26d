//! Final actions (of a resource or a monitor) and what follows the stop: through the
//! OS-action layer.

use std::sync::Arc;

use clp_core::config::{FinalAction, ResourceConfig};
use clp_core::ipc::AfterStop;

use super::{Engine, already};

impl Engine {
    /// Runs what follows the stop (shutdown or reboot through the OS-action layer).
    pub fn after_stop(&self, then: AfterStop) {
        let (id, failure_id, result) = match then {
            AfterStop::Nothing => return,
            AfterStop::Shutdown => {
                self.alert("pm", 23, &[]);
                (23, 11, self.os.shutdown())
            }
            AfterStop::Reboot => {
                self.alert("pm", 25, &[]);
                (25, 12, self.os.reboot())
            }
        };
        if let Err(error) = result {
            tracing::error!("after pm {id}: {error}");
            self.alert("down", failure_id, &[self.server(), &error.to_string()]);
        }
    }

    /// Runs a final action for a failed resource or monitor; `group` is the group that
    /// `stop-group` stops.
    pub(super) fn execute_final_action(
        self: &Arc<Self>,
        action: FinalAction,
        group: Option<String>,
    ) {
        match action {
            FinalAction::None | FinalAction::Continue => {}
            FinalAction::StopGroup => {
                if let Some(group) = group {
                    let engine = Arc::clone(self);
                    self.spawn(async move {
                        let _operation = engine.operations.lock().await;
                        // A group already stopped (by an operator, or by the final action
                        // of another resource) is left alone: no rc 20/21 for nothing.
                        let stopped = engine.group_config(&group).is_some_and(|config| {
                            already::group(&engine.lock(), config, already::Goal::Stop).is_some()
                        });
                        if !stopped {
                            engine.stop_group_locked(&group, "GROUPSTOP").await;
                        }
                    });
                }
            }
            FinalAction::StopDaemon => self.request_stop(AfterStop::Nothing),
            FinalAction::StopDaemonShutdown => self.request_stop(AfterStop::Shutdown),
            FinalAction::StopDaemonReboot => self.request_stop(AfterStop::Reboot),
            FinalAction::SysrqPanic => {
                self.alert("pm", 100, &[]);
                // The OS goes at once: what led here (the alerts, the counters saying the
                // final action ran) must be on disk first, or the next boot acts again.
                self.flush_store();
                if let Err(error) = self.os.sysrq_panic() {
                    tracing::error!("{error}");
                    self.alert("pm", 66, &["clppm"]);
                }
            }
            FinalAction::KeepaliveReset => {
                self.alert("pm", 101, &[]);
                self.flush_store();
                if let Err(error) = self.os.keepalive_reset() {
                    tracing::error!("{error}");
                    self.alert("pm", 67, &["clppm"]);
                }
            }
            FinalAction::KeepalivePanic => {
                self.alert("pm", 102, &[]);
                self.flush_store();
                if let Err(error) = self.os.keepalive_panic() {
                    tracing::error!("{error}");
                    self.alert("pm", 68, &["clppm"]);
                }
            }
        }
    }

    /// Logs and runs a resource's activation final action. Returns whether the group may
    /// go on with its next resources.
    pub(super) fn activation_final_action(
        self: &Arc<Self>,
        resource: &ResourceConfig,
        action: FinalAction,
    ) -> bool {
        let id = match action {
            FinalAction::None => return false,
            FinalAction::Continue => return true,
            FinalAction::StopGroup => 202,
            FinalAction::StopDaemon => 203,
            FinalAction::StopDaemonShutdown => 204,
            FinalAction::StopDaemonReboot => 205,
            FinalAction::SysrqPanic => 240,
            FinalAction::KeepaliveReset => 241,
            FinalAction::KeepalivePanic => 242,
        };
        if id == 202 {
            self.alert("rc", id, &[&resource.group, &resource.name]);
        } else {
            self.alert("rc", id, &[&resource.name]);
        }
        self.execute_final_action(action, Some(resource.group.clone()));
        false
    }

    pub(super) fn deactivation_final_action(
        self: &Arc<Self>,
        resource: &ResourceConfig,
        action: FinalAction,
    ) -> bool {
        let id = match action {
            FinalAction::None => return false,
            FinalAction::Continue | FinalAction::StopGroup => return true,
            FinalAction::StopDaemon => 223,
            FinalAction::StopDaemonShutdown => 224,
            FinalAction::StopDaemonReboot => 225,
            FinalAction::SysrqPanic => 240,
            FinalAction::KeepaliveReset => 241,
            FinalAction::KeepalivePanic => 242,
        };
        self.alert("rc", id, &[&resource.name]);
        self.execute_final_action(action, None);
        false
    }
}
