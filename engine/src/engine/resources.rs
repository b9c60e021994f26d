//! Exec-resource operations: a resource's start and stop with the activation/deactivation
//! retries, `clprsc -s/-t`, and a resource's reactivation for a monitor.

use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::Signal;

use super::already::Goal;
use super::{Engine, OperationError};
use clp_core::config::{ExecMode, FinalAction, ResourceConfig};
use clp_core::ipc::ErrorCode;
use clp_core::process::{self, ProcessIdentity};
use clp_core::status::ObjectStatus;
use clp_core::store::Durable;

/// How long an async resource's processes get between SIGTERM and SIGKILL when stopped.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Why a resource operation failed: the original's `(code : text)` detail.
pub(super) struct Failure {
    code: String,
    detail: String,
}

impl Failure {
    /// A failure with its detail code and text.
    pub(super) fn new(code: &str, detail: impl Into<String>) -> Failure {
        Failure {
            code: code.to_string(),
            detail: detail.into(),
        }
    }
}

impl Engine {
    pub(super) fn set_resource(&self, name: &str, status: ObjectStatus) {
        if let Some(runtime) = self.lock().resources.get_mut(name) {
            runtime.status = status;
        }
    }

    pub(super) async fn run_start(
        self: &Arc<Self>,
        resource: &ResourceConfig,
        event: &str,
    ) -> Result<(), Failure> {
        if resource.is_floating_ip() {
            return self.start_floating_ip(resource).await;
        }
        let env = self.script_env(resource, event, None);
        let script = self.script(resource, &resource.start, env);
        match resource.mode {
            ExecMode::Sync => {
                let outcome = script.run(resource.timeout).await;
                if outcome.success() {
                    Ok(())
                } else {
                    let (code, detail) = outcome.detail();
                    Err(Failure { code, detail })
                }
            }
            ExecMode::Async => {
                // Its process still runs: a second copy would orphan the first.
                let running = self
                    .lock()
                    .resources
                    .get(&resource.name)
                    .and_then(|r| r.process)
                    .filter(ProcessIdentity::is_alive);
                if let Some(process) = running {
                    tracing::warn!(resource = %resource.name, pid = process.pid, "its process still runs; not starting a second copy");
                    return Ok(());
                }
                let mut child = script.spawn().map_err(|error| Failure {
                    code: "1".into(),
                    detail: format!("cannot run {}: {error}", resource.start.display()),
                })?;
                let pid = child.id().unwrap_or(0);
                let identity =
                    ProcessIdentity::of(pid).unwrap_or(ProcessIdentity { pid, start_time: 0 });
                self.guard_group(pid);
                if let Some(runtime) = self.lock().resources.get_mut(&resource.name) {
                    runtime.process = Some(identity);
                }
                // In the store before anything else: a clppm killed from here on leaves the
                // process recorded, and the next one adopts it instead of starting another
                // (one killed before the sync finds it by its environment). Synced by the
                // flusher at once, at a lower priority: the sync's work does not compete
                // with the process just started.
                self.persist_resource(&resource.name, Durable::Shortly);
                let engine = Arc::clone(self);
                let name = resource.name.clone();
                self.spawn(async move {
                    let _ = child.wait().await;
                    let recoveries = engine.on_process_exit(&name, identity);
                    engine.recover_all(recoveries).await;
                });
                Ok(())
            }
        }
    }

    async fn run_stop(
        self: &Arc<Self>,
        resource: &ResourceConfig,
        factor: &str,
    ) -> Result<(), Failure> {
        if resource.is_floating_ip() {
            let result = self.stop_floating_ip(resource).await;
            if let Some(runtime) = self.lock().resources.get_mut(&resource.name) {
                runtime.stopping = false;
            }
            return result;
        }
        let (process, exited) = {
            let mut state = self.lock();
            let Some(runtime) = state.resources.get_mut(&resource.name) else {
                return Ok(());
            };
            runtime.stopping = true;
            (runtime.process, Arc::clone(&runtime.exited))
        };
        let mut result = Ok(());
        if let Some(stop) = &resource.stop {
            let mut env = self.script_env(resource, "START", Some(factor));
            if let Some(process) = process {
                env.push(("CLP_PID".to_string(), process.pid.to_string()));
            }
            let outcome = self
                .script(resource, stop, env)
                .run(resource.stop_timeout)
                .await;
            if !outcome.success() {
                let (code, detail) = outcome.detail();
                result = Err(Failure { code, detail });
            }
        }
        if let Some(process) = process {
            let notified = exited.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if process.is_alive() {
                process::signal_group(process.pid, Signal::SIGTERM);
                if process.is_alive() {
                    let _ = tokio::time::timeout(STOP_GRACE, notified).await;
                }
            }
            // Whatever is left of the resource's process group goes too.
            process::signal_group(process.pid, Signal::SIGKILL);
            self.release_group(process.pid);
        }
        if let Some(runtime) = self.lock().resources.get_mut(&resource.name) {
            runtime.stopping = false;
            runtime.process = None;
        }
        result
    }

    /// Starts one resource with its activation retries; on final failure returns the final
    /// action to run.
    pub(super) async fn activate(
        self: &Arc<Self>,
        resource: &ResourceConfig,
        event: &str,
    ) -> Result<(), FinalAction> {
        let mut attempt = 0;
        loop {
            self.set_resource(&resource.name, ObjectStatus::OnlinePending);
            self.alert("rc", 30, &[&resource.name]);
            match self.run_start(resource, event).await {
                Ok(()) => {
                    self.set_resource(&resource.name, ObjectStatus::Online);
                    self.persist_resource(&resource.name, online_durable(resource));
                    self.alert("rc", 31, &[&resource.name]);
                    let mut state = self.lock();
                    self.refresh_followers(&mut state, &resource.name);
                    return Ok(());
                }
                Err(failure) => {
                    self.set_resource(&resource.name, ObjectStatus::OnlineFailure);
                    self.alert("rc", 32, &[&resource.name, &failure.code, &failure.detail]);
                    if attempt < resource.activation.retry && !self.is_stopping() {
                        attempt += 1;
                        self.alert("rc", 200, &[&resource.name, &resource.name]);
                        let _ = self.run_stop(resource, "RESOURCERESTART").await;
                        continue;
                    }
                    self.persist_resource(&resource.name, Durable::Now);
                    return Err(resource.activation.final_action);
                }
            }
        }
    }

    /// Stops one resource with its deactivation retries; its stopped state is on disk
    /// `durable` (the failed state always at once).
    pub(super) async fn deactivate(
        self: &Arc<Self>,
        resource: &ResourceConfig,
        factor: &str,
        durable: Durable,
    ) -> Result<(), FinalAction> {
        {
            let mut state = self.lock();
            if let Some(runtime) = state.resources.get_mut(&resource.name) {
                runtime.status = ObjectStatus::OfflinePending;
                runtime.stopping = true;
            }
            self.refresh_followers(&mut state, &resource.name);
        }
        let mut attempt = 0;
        loop {
            self.alert("rc", 40, &[&resource.name]);
            match self.run_stop(resource, factor).await {
                Ok(()) => {
                    self.set_resource(&resource.name, ObjectStatus::Offline);
                    self.persist_resource(&resource.name, durable);
                    self.alert("rc", 41, &[&resource.name]);
                    return Ok(());
                }
                Err(failure) => {
                    self.alert("rc", 42, &[&resource.name, &failure.code, &failure.detail]);
                    if attempt < resource.deactivation.retry {
                        attempt += 1;
                        self.alert("rc", 220, &[&resource.name, &resource.name]);
                        continue;
                    }
                    self.set_resource(&resource.name, ObjectStatus::OfflineFailure);
                    self.persist_resource(&resource.name, Durable::Now);
                    return Err(resource.deactivation.final_action);
                }
            }
        }
    }

    fn find_resource(&self, name: &str) -> Result<ResourceConfig, OperationError> {
        self.resource_config(name).cloned().ok_or_else(|| {
            OperationError::new(
                ErrorCode::NotFound,
                format!(
                    "resource \"{name}\" is not in the configuration; 'clpstat' lists the resources"
                ),
            )
        })
    }

    /// `clprsc -s RESOURCE`.
    pub async fn start_resource(self: &Arc<Self>, name: &str) -> Result<(), OperationError> {
        let resource = self.find_resource(name)?;
        self.check_operable()?;
        let _operation = self.operations.lock().await;
        self.check_operable()?;
        if let Some(already) = super::already::resource(&self.lock(), name, Goal::Start) {
            return Err(already);
        }
        self.placed_here(&resource.group)?;
        self.alert("rc", 83, &[name]);
        match self.activate(&resource, "START").await {
            Ok(()) => {
                self.set_group(&resource.group, |g| g.active = true);
                self.alert("rc", 84, &[name]);
                Ok(())
            }
            Err(_) => {
                self.alert("rc", 85, &[name]);
                Err(OperationError::new(
                    ErrorCode::Failed,
                    format!(
                        "resource \"{name}\" failed to start; see {}",
                        self.paths.script_log(&resource.group, name).display()
                    ),
                ))
            }
        }
    }

    /// `clprsc -t RESOURCE`.
    pub async fn stop_resource(self: &Arc<Self>, name: &str) -> Result<(), OperationError> {
        let resource = self.find_resource(name)?;
        self.check_operable()?;
        let _operation = self.operations.lock().await;
        self.check_operable()?;
        if let Some(already) = super::already::resource(&self.lock(), name, Goal::Stop) {
            return Err(already);
        }
        self.alert("rc", 87, &[name]);
        match self.deactivate(&resource, "GROUPSTOP", Durable::Now).await {
            Ok(()) => {
                let group = self.group_config(&resource.group);
                let all_offline = group.is_some_and(|g| {
                    let state = self.lock();
                    g.resources.iter().all(|r| {
                        state
                            .resources
                            .get(&r.name)
                            .is_some_and(|r| r.status == ObjectStatus::Offline)
                    })
                });
                if all_offline {
                    self.set_group(&resource.group, |g| g.active = false);
                }
                self.alert("rc", 88, &[name]);
                Ok(())
            }
            Err(_) => {
                self.alert("rc", 89, &[name]);
                Err(OperationError::new(
                    ErrorCode::Failed,
                    format!(
                        "resource \"{name}\" failed to stop; see {}",
                        self.paths.script_log(&resource.group, name).display()
                    ),
                ))
            }
        }
    }

    /// Reactivates a resource for a monitor (the operation lock is taken here).
    pub(super) async fn reactivate_resource(self: &Arc<Self>, name: &str) -> bool {
        let Some(resource) = self.resource_config(name).cloned() else {
            return false;
        };
        if let Err(refusal) = self.placed_here(&resource.group) {
            tracing::warn!(resource = name, "{}", refusal.message);
            return false;
        }
        let _operation = self.operations.lock().await;
        if self.is_stopping() {
            return false;
        }
        self.alert("rc", 80, &[name]);
        // The stop is not waited onto the disk: the start right after records the new
        // state durably (and with it everything before it), so a restart pays no sync
        // before the resource runs again.
        let stopped = self
            .deactivate(&resource, "RESOURCERESTART", Durable::Soon)
            .await
            .is_ok();
        let started = stopped && self.activate(&resource, "RECOVER").await.is_ok();
        self.alert("rc", if started { 81 } else { 82 }, &[name]);
        started
    }
}

/// When a resource's online state must be on disk: at once only when a restarted clppm could
/// not learn it otherwise — that a sync script ran. An async resource's process is on disk
/// since it was started (the next clppm finds it alive and adopts it), and a floating IP is
/// on its interface or not (activating it again finds it there).
fn online_durable(resource: &ResourceConfig) -> Durable {
    if resource.is_floating_ip() || resource.mode == ExecMode::Async {
        Durable::Soon
    } else {
        Durable::Now
    }
}
