//! Group and exec-resource operations: start in dependency order, stop in reverse, the
//! activation/deactivation retry and final action, async processes and their adoption after
//! a daemon restart.

use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::Signal;

use super::already::Goal;
use super::{Engine, OperationError, PersistedResource};
use crate::config::{ExecMode, FinalAction, ResourceConfig};
use crate::ipc::ErrorCode;
use crate::process::{self, ProcessIdentity, Script};
use crate::status::{DaemonState, ObjectStatus};

/// How long an async resource's processes get between SIGTERM and SIGKILL when stopped.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Why a resource operation failed: the original's `(code : text)` detail.
pub(super) struct Failure {
    code: String,
    detail: String,
}

impl Engine {
    /// The environment of a script, clean of the daemon's own.
    pub(super) fn script_env(
        &self,
        resource: &ResourceConfig,
        event: &str,
        factor: Option<&str>,
    ) -> Vec<(String, String)> {
        let mut env = vec![
            ("PATH".to_string(), process::script_path_var()),
            ("LANG".to_string(), "C".to_string()),
            ("HOME".to_string(), "/".to_string()),
            ("CLP_EVENT".to_string(), event.to_string()),
            ("CLP_SERVER".to_string(), "HOME".to_string()),
            ("CLP_DISK".to_string(), "SUCCESS".to_string()),
            ("CLP_PRIORITY".to_string(), "1".to_string()),
            ("CLP_GROUPNAME".to_string(), resource.group.clone()),
            ("CLP_RESOURCENAME".to_string(), resource.name.clone()),
            (
                "CLP_SCRIPT_PATH".to_string(),
                resource.script_dir.display().to_string(),
            ),
            (
                "CLP_PATH".to_string(),
                self.paths.root().display().to_string(),
            ),
            (
                crate::paths::ROOT_ENV.to_string(),
                self.paths.root().display().to_string(),
            ),
            (
                "CLP_VERSION_FULL".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            ),
            (
                "CLP_VERSION_MAJOR".to_string(),
                env!("CARGO_PKG_VERSION_MAJOR").to_string(),
            ),
            ("CLP_OSNAME".to_string(), "Linux".to_string()),
            ("CLP_OSVER".to_string(), os_release()),
        ];
        if let Some(factor) = factor {
            env.push(("CLP_FACTOR".to_string(), factor.to_string()));
        }
        // The safety lock is the one thing of the daemon's environment scripts inherit, so a
        // script calling clpdown in a test can never reach the real shutdown.
        if crate::os_action::forbidden_by_env() {
            env.push((crate::os_action::FORBID_ENV.to_string(), "1".to_string()));
        }
        env
    }

    pub(super) fn script(
        &self,
        resource: &ResourceConfig,
        path: &std::path::Path,
        env: Vec<(String, String)>,
    ) -> Script {
        Script {
            path: path.to_path_buf(),
            dir: resource.script_dir.clone(),
            env,
            log: self.paths.script_log(&resource.group, &resource.name),
        }
    }

    fn set_resource(&self, name: &str, status: ObjectStatus) {
        if let Some(runtime) = self.lock().resources.get_mut(name) {
            runtime.status = status;
        }
    }

    pub(super) fn persist_resource(&self, name: &str) {
        let persisted = {
            let state = self.lock();
            state.resources.get(name).map(|r| PersistedResource {
                online: r.status == ObjectStatus::Online,
                process: r.process,
            })
        };
        let result = match persisted {
            Some(p) if p.online || p.process.is_some() => self.store.put_resource(name, &p),
            _ => self.store.remove_resource(name),
        };
        if let Err(error) = result {
            tracing::error!(resource = name, "cannot save the resource state: {error}");
        }
    }

    /// Brings back what a previous run left: async processes still alive are adopted, sync
    /// resources that were online stay online; nothing is started twice.
    pub(super) fn restore_resources(self: &Arc<Self>) {
        for resource in self.config.groups.iter().flat_map(|g| g.resources.iter()) {
            let persisted = match self.store.resource::<PersistedResource>(&resource.name) {
                Ok(Some(persisted)) => persisted,
                _ => PersistedResource {
                    online: false,
                    process: None,
                },
            };
            let persisted = self.with_unrecorded_process(resource, persisted);
            if !persisted.online && persisted.process.is_none() {
                continue;
            }
            let adopted = match (resource.mode, persisted.process) {
                (ExecMode::Async, Some(process)) if process.is_alive() => {
                    tracing::info!(resource = %resource.name, pid = process.pid, "adopting the running process");
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
            self.persist_resource(&resource.name);
        }
    }

    /// An async resource whose recorded process is gone (or that has none recorded) may
    /// still run: started by a clppm killed before it could record the pid. Its start script
    /// is found by its environment (this root, this resource, no stop factor); more than one
    /// (never expected) keeps the oldest and ends the others.
    fn with_unrecorded_process(
        &self,
        resource: &ResourceConfig,
        persisted: PersistedResource,
    ) -> PersistedResource {
        if resource.mode != ExecMode::Async
            || persisted.process.is_some_and(|process| process.is_alive())
        {
            return persisted;
        }
        let root = self.paths.root().display().to_string();
        let found = process::find_group_leaders(
            &[
                (crate::paths::ROOT_ENV, &root),
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
        tokio::spawn(async move {
            if let Err(error) = process::wait_for_exit(process.pid).await {
                tracing::error!(resource = %name, "cannot watch pid {}: {error}", process.pid);
                return;
            }
            engine.on_process_exit(&name, process);
        });
    }

    /// The process of an async resource has exited: event-driven monitors fail at once.
    pub(super) fn on_process_exit(self: &Arc<Self>, name: &str, process: ProcessIdentity) {
        let failing: Vec<usize> = {
            let mut state = self.lock();
            let Some(runtime) = state.resources.get_mut(name) else {
                return;
            };
            if runtime.process != Some(process) {
                return;
            }
            runtime.process = None;
            runtime.exited.notify_waiters();
            if runtime.stopping {
                return;
            }
            tracing::warn!(
                resource = name,
                pid = process.pid,
                "the resource's process exited"
            );
            let daemon_running = state.daemon == DaemonState::Running;
            self.config
                .monitors
                .iter()
                .enumerate()
                .filter(|(index, monitor)| {
                    daemon_running
                        && self.slots[*index].event_driven
                        && monitor.target.as_deref() == Some(name)
                        && state.monitors[*index].enabled
                })
                .map(|(index, _)| index)
                .collect()
        };
        self.persist_resource(name);
        for index in failing {
            self.observe(
                index,
                super::policy::Observation::Failed {
                    code: crate::monitor::pidw::PROCESS_GONE,
                    detail: "Process did not exist.".into(),
                },
            );
        }
    }

    pub(super) async fn run_start(
        self: &Arc<Self>,
        resource: &ResourceConfig,
        event: &str,
    ) -> Result<(), Failure> {
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
                if let Some(runtime) = self.lock().resources.get_mut(&resource.name) {
                    runtime.process = Some(identity);
                }
                // In the store before anything else: a clppm killed from here on leaves the
                // process recorded, and the next one adopts it instead of starting another.
                self.persist_resource(&resource.name);
                let engine = Arc::clone(self);
                let name = resource.name.clone();
                tokio::spawn(async move {
                    let _ = child.wait().await;
                    engine.on_process_exit(&name, identity);
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
        }
        if let Some(runtime) = self.lock().resources.get_mut(&resource.name) {
            runtime.stopping = false;
            runtime.process = None;
        }
        result
    }

    /// Starts one resource with its activation retries; on final failure returns the final
    /// action to run.
    async fn activate(
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
                    self.persist_resource(&resource.name);
                    self.alert("rc", 31, &[&resource.name]);
                    let mut state = self.lock();
                    self.refresh_monitors(&mut state, super::Cause::Lifecycle);
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
                    self.persist_resource(&resource.name);
                    return Err(resource.activation.final_action);
                }
            }
        }
    }

    /// Stops one resource with its deactivation retries.
    async fn deactivate(
        self: &Arc<Self>,
        resource: &ResourceConfig,
        factor: &str,
    ) -> Result<(), FinalAction> {
        {
            let mut state = self.lock();
            if let Some(runtime) = state.resources.get_mut(&resource.name) {
                runtime.status = ObjectStatus::OfflinePending;
                runtime.stopping = true;
            }
            self.refresh_monitors(&mut state, super::Cause::Lifecycle);
        }
        let mut attempt = 0;
        loop {
            self.alert("rc", 40, &[&resource.name]);
            match self.run_stop(resource, factor).await {
                Ok(()) => {
                    self.set_resource(&resource.name, ObjectStatus::Offline);
                    self.persist_resource(&resource.name);
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
                    self.persist_resource(&resource.name);
                    return Err(resource.deactivation.final_action);
                }
            }
        }
    }

    /// Logs and runs a resource's activation final action. Returns whether the group may
    /// go on with its next resources.
    fn activation_final_action(
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

    fn deactivation_final_action(
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

    fn set_group(&self, name: &str, update: impl FnOnce(&mut super::GroupRuntime)) {
        if let Some(group) = self.lock().groups.get_mut(name) {
            update(group);
        }
    }

    /// Starts a group's resources in order (the operation lock is held). Returns success.
    pub(super) async fn start_group_locked(self: &Arc<Self>, name: &str, event: &str) -> bool {
        let Some(group) = self.config.group(name) else {
            return false;
        };
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
        self.alert("rc", if ok { 11 } else { 12 }, &[name]);
        ok
    }

    /// Stops a group's resources in reverse order (the operation lock is held).
    pub(super) async fn stop_group_locked(self: &Arc<Self>, name: &str, factor: &str) -> bool {
        let Some(group) = self.config.group(name) else {
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
            if let Err(action) = self.deactivate(resource, factor).await {
                ok = false;
                if !self.deactivation_final_action(resource, action) {
                    break;
                }
            }
        }
        self.set_group(name, |g| {
            g.pending = None;
            g.active = !ok;
            g.failed = !ok;
            if ok {
                g.stop_times.record(started.elapsed());
            }
        });
        self.alert("rc", if ok { 21 } else { 22 }, &[name]);
        ok
    }

    fn find_resource(&self, name: &str) -> Result<ResourceConfig, OperationError> {
        self.config.resource(name).cloned().ok_or_else(|| {
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
        match self.deactivate(&resource, "GROUPSTOP").await {
            Ok(()) => {
                let group = self.config.group(&resource.group);
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
        let Some(resource) = self.config.resource(name).cloned() else {
            return false;
        };
        let _operation = self.operations.lock().await;
        if self.is_stopping() {
            return false;
        }
        self.alert("rc", 80, &[name]);
        let stopped = self.deactivate(&resource, "RESOURCERESTART").await.is_ok();
        let started = stopped && self.activate(&resource, "RECOVER").await.is_ok();
        self.alert("rc", if started { 81 } else { 82 }, &[name]);
        started
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
}

fn os_release() -> String {
    nix::sys::utsname::uname()
        .ok()
        .and_then(|u| u.release().to_str().map(str::to_string))
        .unwrap_or_default()
}
