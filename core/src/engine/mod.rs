//! The supervisor: groups, resources, the monitor scheduler and the recovery ladder's
//! executor.
//!
//! One [`Engine`] owns the runtime state behind a short-held lock; group and resource
//! operations are serialized by a separate async lock so that status requests are always
//! answered at once, even while a script runs. The engine is woken by child exits, pidfds,
//! timers and requests — it never polls in a sleep loop. The ladder's decisions come from
//! the pure [`policy::decide`].

mod already;
#[cfg(test)]
mod crash_tests;
mod handoff;
mod monitors;
pub mod policy;
mod resources;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, watch};

use crate::alert::{AlertEvent, AlertFilter};
use crate::alert_sink::{AlertSink, LogTargets};
use crate::config::{Config, FinalAction, RecoveryTarget, Timing};
use crate::ipc::{AfterStop, ErrorCode, Response};
use crate::os_action::OsActions;
use crate::paths::Paths;
use crate::process::ProcessIdentity;
use crate::status::{
    ClusterStatus, DaemonState, GroupStatus, HeartbeatStatus, MonitorState, MonitorStatus,
    ObjectStatus, ResourceStatus, ServerStatus,
};
use crate::store::Store;
use policy::Ladder;

/// How long the stop waits for monitors to finish their check in flight.
const MONITOR_STOP_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// What the store keeps of a resource across daemon restarts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersistedResource {
    /// The resource was started and not stopped.
    pub online: bool,
    /// The process of an async exec resource.
    pub process: Option<ProcessIdentity>,
}

/// A failed operation, as the IPC layer reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationError {
    /// What kind of failure.
    pub code: ErrorCode,
    /// One line: what failed and what to do.
    pub message: String,
}

impl OperationError {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// As an IPC response.
    pub fn into_response(self) -> Response {
        Response::error(self.code, self.message)
    }
}

#[derive(Debug)]
struct ResourceRuntime {
    status: ObjectStatus,
    process: Option<ProcessIdentity>,
    /// Set while the daemon itself stops the resource: its exit is not a fault.
    stopping: bool,
    /// Woken when the resource's process exits.
    exited: Arc<Notify>,
}

#[derive(Debug, Default)]
struct GroupRuntime {
    /// Online Pending / Offline Pending while an operation runs.
    pending: Option<ObjectStatus>,
    /// Started and not stopped.
    active: bool,
    /// A resource failed to start or stop.
    failed: bool,
}

#[derive(Debug)]
struct MonitorRuntime {
    ladder: Ladder,
    suspended: bool,
    enabled: bool,
    /// `clpmonctrl -e`: checks report a fault without running (not kept across restarts).
    dummy_failure: bool,
    /// Its option license is missing (rm 160): it never runs.
    unlicensed: bool,
    /// Its probe could not be built (rm 7): it never runs.
    unbuilt: bool,
    /// Checks run, and the duration and lateness of the last one.
    checks: u64,
    last_check: Option<std::time::Duration>,
    last_lateness: Option<std::time::Duration>,
    /// The last check took longer than the delay warning rate allows (rm 71 was logged).
    delayed: bool,
}

#[derive(Debug)]
struct State {
    daemon: DaemonState,
    groups: HashMap<String, GroupRuntime>,
    resources: HashMap<String, ResourceRuntime>,
    monitors: Vec<MonitorRuntime>,
}

/// Why monitors were switched on or off (rm 1/rm 2 are logged only for real starts/stops).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    Lifecycle,
    Suspension,
}

/// The control of one monitor's task.
struct MonitorSlot {
    enabled: watch::Sender<bool>,
    event_driven: bool,
    /// The probe, built once with the engine, taken by its task when monitoring starts.
    probe: Mutex<Option<Result<Box<dyn crate::monitor::Probe>, String>>>,
}

/// The supervisor.
pub struct Engine {
    config: Config,
    /// This server's name (the host's short name), read once at the start.
    server_name: String,
    paths: Paths,
    store: Store,
    /// Where every alert goes (store, `alert.log`, syslog, mail).
    alert_sink: AlertSink,
    os: OsActions,
    state: Mutex<State>,
    operations: tokio::sync::Mutex<()>,
    slots: Vec<MonitorSlot>,
    stop_request: watch::Sender<Option<AfterStop>>,
    stopped: watch::Sender<bool>,
    /// The monitor tasks, awaited at the stop so probes release what they hold (the
    /// watchdog's magic close) before the process exits.
    monitor_tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// The daemon handed its running resources over to the next clppm ([`Engine::hand_off`]):
    /// it exits without stopping its groups.
    handed_off: std::sync::atomic::AtomicBool,
    /// An HA cluster's servers as etcd shows them ([`crate::membership`]).
    servers: std::sync::OnceLock<crate::status::ServersSource>,
}

impl Engine {
    /// A new engine for `config`; nothing runs until [`Engine::start`].
    pub fn new(config: Config, paths: Paths, store: Store, os: OsActions) -> Arc<Engine> {
        let monitors = config
            .monitors
            .iter()
            .map(|monitor| MonitorRuntime {
                ladder: store
                    .monitor(&monitor.name)
                    .ok()
                    .flatten()
                    .unwrap_or_default(),
                suspended: false,
                enabled: false,
                dummy_failure: false,
                unlicensed: false,
                unbuilt: false,
                checks: 0,
                last_check: None,
                last_lateness: None,
                delayed: false,
            })
            .collect();
        let groups = config
            .groups
            .iter()
            .map(|group| (group.name.clone(), GroupRuntime::default()))
            .collect();
        let resources = config
            .groups
            .iter()
            .flat_map(|group| group.resources.iter())
            .map(|resource| {
                (
                    resource.name.clone(),
                    ResourceRuntime {
                        status: ObjectStatus::Offline,
                        process: None,
                        stopping: false,
                        exited: Arc::new(Notify::new()),
                    },
                )
            })
            .collect();
        let slots = config
            .monitors
            .iter()
            .map(|monitor| {
                let probe = crate::monitor::registry::spec(&monitor.kind)
                    .ok_or_else(|| format!("unknown monitor type {}", monitor.kind))
                    .and_then(|spec| (spec.build)(&monitor.probe_settings(), &os));
                MonitorSlot {
                    enabled: watch::channel(false).0,
                    event_driven: probe.as_ref().is_ok_and(|p| p.watches_target_process()),
                    probe: Mutex::new(Some(probe)),
                }
            })
            .collect();
        Arc::new(Engine {
            server_name: config.server_name(),
            alert_sink: AlertSink::new(&config, &paths, store.clone()),
            config,
            paths,
            store,
            os,
            state: Mutex::new(State {
                daemon: DaemonState::Starting,
                groups,
                resources,
                monitors,
            }),
            operations: tokio::sync::Mutex::new(()),
            slots,
            stop_request: watch::channel(None).0,
            stopped: watch::channel(false).0,
            monitor_tasks: Mutex::new(Vec::new()),
            handed_off: std::sync::atomic::AtomicBool::new(false),
            servers: std::sync::OnceLock::new(),
        })
    }

    /// Shows an HA cluster's servers in the status, read from `source` (set once).
    pub fn set_servers_source(&self, source: crate::status::ServersSource) {
        let _ = self.servers.set(source);
    }

    /// The configuration the daemon runs.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// This server's name: the host's, not the cluster's.
    pub fn server(&self) -> &str {
        &self.server_name
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Logs one catalogue message to every alert target.
    pub fn alert(&self, module: &str, event_id: u32, args: &[&str]) {
        self.alert_sink.alert(module, event_id, args);
    }

    /// Logs one event to every alert target ([`AlertSink::record`]).
    pub fn record(&self, event: AlertEvent) {
        self.alert_sink.record(event);
    }

    /// Makes everything stored so far durable.
    pub fn flush_store(&self) {
        if let Err(error) = self.store.flush() {
            tracing::error!("cannot flush the store: {error}");
        }
    }

    /// Writes an event from `clplogcmd`; an error when it was to be mailed and no mail
    /// service runs (after logging it).
    pub fn log_message(
        &self,
        event: AlertEvent,
        alert: bool,
        syslog: bool,
        mail: bool,
    ) -> Result<(), OperationError> {
        let targets = LogTargets {
            alert,
            syslog,
            mail,
        };
        if self.alert_sink.log_message(event, targets).not_mailed {
            return Err(OperationError::new(
                ErrorCode::Failed,
                "--mail: the alert service does not mail (it needs a [mail] section in clp.conf and the ALRT10 license); the message was logged, not mailed",
            ));
        }
        Ok(())
    }

    /// Registers a signed license (the daemon holds the store).
    pub fn register_license(
        &self,
        license: &crate::license::License,
    ) -> Result<(), OperationError> {
        crate::license::register(&self.store, &self.paths, license)
            .map_err(|error| OperationError::new(ErrorCode::Failed, error.to_string()))
    }

    /// Starts the local trial of a product today.
    pub fn start_trial(&self, product: &str) -> Result<crate::license::License, OperationError> {
        crate::license::start_trial(&self.store, &self.paths, product, crate::license::today())
            .map_err(|error| OperationError::new(ErrorCode::Failed, error.to_string()))
    }

    /// The registered licenses.
    pub fn licenses(&self) -> Result<Vec<crate::license::License>, OperationError> {
        self.store
            .licenses()
            .map_err(|error| OperationError::new(ErrorCode::Failed, error.to_string()))
    }

    /// Removes licenses.
    pub fn remove_licenses(
        &self,
        removal: &crate::license::Removal,
    ) -> Result<usize, OperationError> {
        crate::license::remove(&self.store, removal).map_err(|error| {
            let code = match error {
                crate::license::RegistryError::NoSuchSerial(_) => ErrorCode::NotFound,
                _ => ErrorCode::Failed,
            };
            OperationError::new(code, error.to_string())
        })
    }

    /// The products whose license is valid today; logs the state (lcns) of the core product
    /// and of every option product a configured monitor needs.
    fn check_licenses(&self) -> std::collections::HashSet<String> {
        use crate::license::{self, CORE_PRODUCT, LicenseState};
        let licenses: Vec<license::License> = self.store.licenses().unwrap_or_default();
        let issuers = license::trusted_issuers(&self.paths);
        let today = license::today();
        let mut valid = std::collections::HashSet::new();
        for product in license::PRODUCTS {
            let (state, found) = license::product_state(&licenses, product.id, today, &issuers);
            if state == LicenseState::Valid {
                valid.insert(product.id.to_string());
            }
            let needed = product.id == CORE_PRODUCT
                || (product.id == "ALRT10" && self.config.mail.is_some())
                || self
                    .config
                    .monitors
                    .iter()
                    .any(|m| license::required_product(&m.kind) == Some(product.id));
            if needed {
                let (id, args) = license::state_alert(product.id, state, found);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                self.alert("lcns", id, &args);
            }
        }
        valid
    }

    /// Stops the daemon when the core license is no longer valid (a trial that expires while
    /// running): checked every hour.
    fn watch_core_license(self: &Arc<Self>) {
        use crate::license::{self, CORE_PRODUCT, LicenseState};
        let engine = Arc::clone(self);
        tokio::spawn(async move {
            let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
            hourly.tick().await;
            loop {
                hourly.tick().await;
                let licenses: Vec<license::License> = engine.store.licenses().unwrap_or_default();
                let issuers = license::trusted_issuers(&engine.paths);
                let (state, _) =
                    license::product_state(&licenses, CORE_PRODUCT, license::today(), &issuers);
                if state != LicenseState::Valid {
                    engine.alert("rm", 57, &[CORE_PRODUCT]);
                    engine.request_stop(AfterStop::Nothing);
                    return;
                }
            }
        });
    }

    /// The newest alerts that pass `filter`, at most `limit`, and no more than fit one
    /// answer line of the control protocol.
    pub fn alerts(
        &self,
        filter: &AlertFilter,
        limit: usize,
    ) -> Result<crate::store::AlertPage, OperationError> {
        // Room for the answer's envelope.
        const BUDGET: usize = crate::ipc::MAX_LINE - (64 << 10);
        self.store
            .alerts_matching(filter, limit, BUDGET)
            .map_err(|error| OperationError::new(ErrorCode::Failed, error.to_string()))
    }

    /// Restores what survived a previous run, starts the monitor tasks and the groups.
    pub fn start(self: &Arc<Self>, requested_by: Option<&str>) {
        self.alert("pm", 1, &[]);
        let handed_over = self.take_handed_over_groups();
        match (&handed_over, requested_by) {
            // The previous clppm handed its resources over: for the alert log this is the
            // resume of a suspend (cl 3/pm 35 were logged by the previous process).
            (Some(_), client) => {
                let client = client.unwrap_or("clppm");
                self.alert("cl", 4, &[self.server(), client]);
                self.alert("pm", 34, &[client]);
            }
            (None, Some(client)) => self.alert("cl", 1, &[self.server(), client]),
            (None, None) => {}
        }
        let unclean = self
            .store
            .meta::<bool>("running")
            .ok()
            .flatten()
            .unwrap_or(false);
        if unclean {
            tracing::warn!("the previous clppm did not stop cleanly; adopting what still runs");
        }
        if let Err(error) = self.store.put_meta("running", &true) {
            tracing::error!("cannot mark the store running: {error}");
        }
        let licensed = self.check_licenses();
        {
            let mut state = self.lock();
            for (index, monitor) in self.config.monitors.iter().enumerate() {
                if let Some(product) = crate::license::required_product(&monitor.kind)
                    && !licensed.contains(product)
                {
                    state.monitors[index].unlicensed = true;
                    self.alert("rm", 160, &[&monitor.name]);
                }
            }
        }
        self.watch_core_license();
        if let Some(mail) = &self.config.mail
            && licensed.contains("ALRT10")
        {
            let engine = Arc::downgrade(self);
            let server = format!("{}:{}", mail.server, mail.port);
            let mailer = crate::mail::Mailer::start(mail.clone(), move |sent| {
                let Some(engine) = engine.upgrade() else {
                    return;
                };
                match sent {
                    crate::mail::Sent::Delivered => engine.alert("mail", 6, &[&server]),
                    crate::mail::Sent::Failed(error) => engine.alert("mail", 5, &[&error, &server]),
                }
            });
            self.alert_sink.set_mailer(mailer);
        }
        // What the operator had suspended before a hand-off stays suspended.
        let suspension = if handed_over.is_some() {
            self.take_handed_over_suspension()
        } else {
            handoff::Suspension::default()
        };
        {
            let mut state = self.lock();
            for (index, monitor) in self.config.monitors.iter().enumerate() {
                if suspension.monitors.contains(&monitor.name) {
                    state.monitors[index].suspended = true;
                }
            }
        }
        self.restore_resources();
        self.spawn_monitors();
        let engine = Arc::clone(self);
        tokio::spawn(async move {
            let _operation = engine.operations.lock().await;
            {
                let mut state = engine.lock();
                if state.daemon == DaemonState::Starting {
                    state.daemon = if suspension.daemon {
                        DaemonState::Suspended
                    } else {
                        DaemonState::Running
                    };
                }
                engine.refresh_monitors(&mut state, Cause::Lifecycle);
            }
            match handed_over {
                // After a hand-off: the groups that were active, and only those whose
                // resources did not all survive (the others are adopted as they run).
                Some(groups) => {
                    for name in groups {
                        if engine.is_stopping() {
                            break;
                        }
                        if !engine.group_fully_online(&name) {
                            engine.start_group_locked(&name, "START").await;
                        }
                    }
                }
                None => {
                    for group in engine.config.groups.iter().filter(|g| g.auto_start) {
                        if engine.is_stopping() {
                            break;
                        }
                        engine.start_group_locked(&group.name, "START").await;
                    }
                }
            }
        });
    }

    fn is_stopping(&self) -> bool {
        self.lock().daemon == DaemonState::Stopping
    }

    /// Asks the daemon to stop (idempotent; the first request's after-action wins).
    pub fn request_stop(&self, then: AfterStop) {
        self.stop_request.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(then);
                true
            } else {
                false
            }
        });
    }

    /// Waits for a stop request.
    pub async fn stop_requested(&self) -> AfterStop {
        let mut receiver = self.stop_request.subscribe();
        loop {
            if let Some(then) = *receiver.borrow_and_update() {
                return then;
            }
            if receiver.changed().await.is_err() {
                return AfterStop::Nothing;
            }
        }
    }

    /// Waits until the orderly stop has finished.
    pub async fn wait_stopped(&self) {
        let mut receiver = self.stopped.subscribe();
        while !*receiver.borrow_and_update() {
            if receiver.changed().await.is_err() {
                return;
            }
        }
    }

    /// The orderly stop: monitors off, groups stopped in reverse order, the store marked clean.
    pub async fn shutdown(self: &Arc<Self>) {
        self.alert("pm", 2, &[]);
        {
            let mut state = self.lock();
            state.daemon = DaemonState::Stopping;
            self.refresh_monitors(&mut state, Cause::Lifecycle);
        }
        self.end_monitor_tasks().await;
        let _operation = self.operations.lock().await;
        for group in self.config.groups.iter().rev() {
            let active = {
                let state = self.lock();
                let group_active = state.groups.get(&group.name).is_some_and(|g| g.active);
                group_active
                    || group.resources.iter().any(|r| {
                        state
                            .resources
                            .get(&r.name)
                            .is_some_and(|r| r.status != ObjectStatus::Offline)
                    })
            };
            if active {
                self.stop_group_locked(&group.name, "CLUSTERSHUTDOWN").await;
            }
        }
        if let Err(error) = self.store.put_meta("running", &false) {
            tracing::error!("cannot mark the store stopped: {error}");
        }
        self.stopped.send_replace(true);
    }

    /// Ends every monitor task (the daemon is stopping): a check in flight finishes first,
    /// one that hangs is not waited for long.
    async fn end_monitor_tasks(&self) {
        // Wake every task, also those already switched off, so that each one ends.
        for slot in &self.slots {
            slot.enabled.send_replace(false);
        }
        let tasks = std::mem::take(
            &mut *self
                .monitor_tasks
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        let deadline = tokio::time::Instant::now() + MONITOR_STOP_WAIT;
        for task in tasks {
            if tokio::time::timeout_at(deadline, task).await.is_err() {
                tracing::warn!("a monitor did not stop in time");
                break;
            }
        }
    }

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

    /// The status snapshot.
    pub fn status(&self) -> ClusterStatus {
        let state = self.lock();
        let running = !matches!(state.daemon, DaemonState::Stopped);
        let groups = self
            .config
            .groups
            .iter()
            .map(|group| {
                let status = group_status(&state, group);
                GroupStatus {
                    name: group.name.clone(),
                    status,
                    comment: group.comment.clone(),
                    current: (status != ObjectStatus::Offline).then(|| self.server().to_string()),
                    resources: group
                        .resources
                        .iter()
                        .map(|resource| {
                            let runtime = state.resources.get(&resource.name);
                            ResourceStatus {
                                name: resource.name.clone(),
                                kind: resource.kind.clone(),
                                status: runtime.map_or(ObjectStatus::Unknown, |r| r.status),
                                comment: resource.comment.clone(),
                                pid: runtime.and_then(|r| r.process).map(|p| p.pid),
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        let monitors = self
            .config
            .monitors
            .iter()
            .zip(&state.monitors)
            .map(|(config, runtime)| {
                let status = if state.daemon == DaemonState::Suspended || runtime.suspended {
                    MonitorStatus::Suspend
                } else if !runtime.enabled && runtime.ladder.status == MonitorStatus::Normal {
                    MonitorStatus::Offline
                } else {
                    runtime.ladder.shown_status()
                };
                let mut state = monitor_state(config, &runtime.ladder, status);
                state.dummy_failure = runtime.dummy_failure;
                state.checks = runtime.checks;
                state.last_check_us = runtime
                    .last_check
                    .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
                state.last_lateness_us = runtime
                    .last_lateness
                    .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
                state
            })
            .collect();
        ClusterStatus {
            ha: self.servers.get().map(|source| Box::new(source())),
            alert_log_problem: self.alert_sink.problem().map(Box::new),
            cluster: self.config.cluster.name.clone(),
            daemon: state.daemon,
            pid: Some(std::process::id()),
            server: ServerStatus {
                name: self.server().to_string(),
                status: if running {
                    ObjectStatus::Online
                } else {
                    ObjectStatus::Offline
                },
                comment: self.config.server_comment().to_string(),
                heartbeat: HeartbeatStatus {
                    name: "lanhb1".into(),
                    status: if running { "Normal" } else { "Offline" }.into(),
                    comment: "LAN Heartbeat".into(),
                },
            },
            groups,
            monitors,
        }
    }

    /// `clpcl --suspend`: monitors stop, resources keep running, operations are refused.
    pub fn suspend(&self, client: &str) -> Result<(), OperationError> {
        let mut state = self.lock();
        match state.daemon {
            DaemonState::Suspended => {
                return Err(OperationError::new(
                    ErrorCode::Suspended,
                    "clppm is already suspended",
                ));
            }
            DaemonState::Stopping => {
                return Err(OperationError::new(
                    ErrorCode::Stopping,
                    "clppm is stopping",
                ));
            }
            _ => {}
        }
        self.alert("cl", 3, &[self.server(), client]);
        self.alert("pm", 35, &[client]);
        state.daemon = DaemonState::Suspended;
        self.refresh_monitors(&mut state, Cause::Suspension);
        self.alert("rm", 31, &[]);
        Ok(())
    }

    /// `clpcl --resume`.
    pub fn resume(&self, client: &str) -> Result<(), OperationError> {
        let mut state = self.lock();
        match state.daemon {
            DaemonState::Suspended => {}
            DaemonState::Stopping => {
                return Err(OperationError::new(
                    ErrorCode::Stopping,
                    "clppm is stopping",
                ));
            }
            _ => {
                return Err(OperationError::new(
                    ErrorCode::AlreadyStarted,
                    "clppm is not suspended (it is running); nothing was done",
                ));
            }
        }
        self.alert("cl", 4, &[self.server(), client]);
        self.alert("pm", 34, &[client]);
        state.daemon = DaemonState::Running;
        self.refresh_monitors(&mut state, Cause::Suspension);
        self.alert("rm", 32, &[]);
        Ok(())
    }

    /// Logs a stop request (cl 2, pm 31 or the shutdown/reboot ones) and asks for the stop.
    pub fn stop_from(&self, client: &str, then: AfterStop) {
        match then {
            AfterStop::Nothing => {
                self.alert("cl", 2, &[self.server(), client]);
                self.alert("pm", 31, &[client]);
            }
            AfterStop::Shutdown => {
                self.alert("down", 1, &[self.server(), client]);
                self.alert("pm", 30, &[client]);
            }
            AfterStop::Reboot => {
                self.alert("down", 2, &[self.server(), client]);
                self.alert("pm", 32, &[client]);
            }
        }
        self.request_stop(then);
    }

    fn check_operable(&self) -> Result<(), OperationError> {
        match self.lock().daemon {
            DaemonState::Suspended => Err(OperationError::new(
                ErrorCode::Suspended,
                "clppm is suspended; resume it with 'clpcl --resume' first",
            )),
            DaemonState::Stopping => Err(OperationError::new(
                ErrorCode::Stopping,
                "clppm is stopping",
            )),
            _ => Ok(()),
        }
    }

    fn group_names(&self, group: Option<&str>) -> Result<Vec<String>, OperationError> {
        match group {
            None => Ok(self.config.groups.iter().map(|g| g.name.clone()).collect()),
            Some(name) if self.config.group(name).is_some() => Ok(vec![name.to_string()]),
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
        let mut failed = Vec::new();
        for name in &names {
            if !self.start_group_locked(name, "START").await {
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
    fn groups_to_change(
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
                let Some(config) = self.config.group(name) else {
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

    fn monitor_indexes(&self, names: &[String]) -> Result<Vec<usize>, OperationError> {
        if names.is_empty() {
            return Ok((0..self.config.monitors.len()).collect());
        }
        names
            .iter()
            .map(|name| {
                self.config
                    .monitors
                    .iter()
                    .position(|m| &m.name == name)
                    .ok_or_else(|| {
                        OperationError::new(
                            ErrorCode::NotFound,
                            format!("monitor \"{name}\" is not in the configuration; 'clpstat -m' lists the monitors"),
                        )
                    })
            })
            .collect()
    }

    /// `clpmonctrl -s [-m MON]`.
    pub fn suspend_monitors(&self, names: &[String]) -> Result<(), OperationError> {
        self.set_monitors_suspended(names, true)
    }

    /// `clpmonctrl -r [-m MON]`.
    pub fn resume_monitors(&self, names: &[String]) -> Result<(), OperationError> {
        self.set_monitors_suspended(names, false)
    }

    /// Suspends or resumes the named monitors (all when none): rm 29/30 for each named one,
    /// rm 31/32 for all.
    fn set_monitors_suspended(
        &self,
        names: &[String],
        suspend: bool,
    ) -> Result<(), OperationError> {
        let indexes = self.monitor_indexes(names)?;
        let mut state = self.lock();
        if suspend && state.daemon == DaemonState::Suspended {
            return Err(OperationError::new(
                ErrorCode::Suspended,
                "clppm is suspended; every monitor is already stopped",
            ));
        }
        let (one, all) = if suspend { (29, 31) } else { (30, 32) };
        for &index in &indexes {
            if state.monitors[index].suspended != suspend {
                state.monitors[index].suspended = suspend;
                if !names.is_empty() {
                    self.alert("rm", one, &[&self.config.monitors[index].name]);
                }
            }
        }
        if names.is_empty() {
            self.alert("rm", all, &[]);
        }
        self.refresh_monitors(&mut state, Cause::Suspension);
        Ok(())
    }

    /// `clpmonctrl -e -m MON` / `-n [-m MON]`: a monitor reports a fault without anything
    /// being broken, so an operator can drill the whole recovery ladder (rm 180–183; rm
    /// 184/185 and nothing changed when a named monitor never runs).
    pub fn set_dummy_failure(&self, names: &[String], enable: bool) -> Result<(), OperationError> {
        if enable && names.is_empty() {
            return Err(OperationError::new(
                ErrorCode::Failed,
                "name the monitor to fail with -m MONITOR",
            ));
        }
        let indexes = self.monitor_indexes(names)?;
        let mut state = self.lock();
        if state.daemon != DaemonState::Running {
            return Err(OperationError::new(
                ErrorCode::Suspended,
                "clppm is suspended or stopping; dummy failure needs running monitors",
            ));
        }
        if names.is_empty() {
            self.alert("rm", if enable { 182 } else { 183 }, &[]);
        }
        // A named monitor that never runs cannot report a dummy failure (rm 184/185).
        let idle: Vec<&str> = indexes
            .iter()
            .filter(|&&index| {
                !names.is_empty()
                    && (state.monitors[index].unlicensed || state.monitors[index].unbuilt)
            })
            .map(|&index| self.config.monitors[index].name.as_str())
            .collect();
        if !idle.is_empty() {
            for name in &idle {
                self.alert("rm", if enable { 184 } else { 185 }, &[name]);
            }
            return Err(OperationError::new(
                ErrorCode::Failed,
                format!(
                    "{} never runs (its option license is missing, or its parameters were refused: see the alert log), so it cannot be put in or out of dummy-failure mode",
                    idle.join(", ")
                ),
            ));
        }
        for index in indexes {
            if state.monitors[index].dummy_failure != enable {
                state.monitors[index].dummy_failure = enable;
                let name = &self.config.monitors[index].name;
                self.alert("rm", if enable { 180 } else { 181 }, &[name]);
            }
        }
        Ok(())
    }

    /// Whether a monitor is in dummy-failure mode.
    fn dummy_failure(&self, index: usize) -> bool {
        self.lock().monitors[index].dummy_failure
    }

    /// `clpmonctrl -c [-m MON]`.
    pub fn clear_counters(&self, names: &[String]) -> Result<(), OperationError> {
        let indexes = self.monitor_indexes(names)?;
        let mut state = self.lock();
        for index in indexes {
            state.monitors[index].ladder.clear_counters();
            let name = &self.config.monitors[index].name;
            if let Err(error) = self.store.put_monitor(name, &state.monitors[index].ladder) {
                return Err(OperationError::new(ErrorCode::Failed, error.to_string()));
            }
        }
        Ok(())
    }

    /// `clpmonctrl -v [-m MON]`.
    pub fn counters(&self, names: &[String]) -> Result<Vec<MonitorState>, OperationError> {
        let indexes = self.monitor_indexes(names)?;
        let status = self.status();
        Ok(indexes
            .into_iter()
            .map(|i| status.monitors[i].clone())
            .collect())
    }

    /// Switches each monitor's task on or off to match the state; logs rm 1/rm 2 for real
    /// starts and stops.
    fn refresh_monitors(&self, state: &mut State, cause: Cause) {
        for (index, config) in self.config.monitors.iter().enumerate() {
            let target_active = match (config.timing, &config.target) {
                (Timing::Active, Some(target)) => state
                    .resources
                    .get(target)
                    .is_some_and(|r| r.status == ObjectStatus::Online && !r.stopping),
                (Timing::Active, None) => false,
                (Timing::Always, _) => true,
            };
            let lifecycle_on = state.daemon == DaemonState::Running && target_active;
            let suspended = state.monitors[index].suspended;
            let enabled = lifecycle_on && !suspended && !state.monitors[index].unlicensed;
            let was = state.monitors[index].enabled;
            if was != enabled {
                state.monitors[index].enabled = enabled;
                self.slots[index].enabled.send_replace(enabled);
                if cause == Cause::Lifecycle && !suspended {
                    self.alert("rm", if enabled { 1 } else { 2 }, &[&config.name]);
                }
            }
        }
    }

    /// Runs a final action for a failed resource or monitor; `group` is the group that
    /// `stop-group` stops.
    fn execute_final_action(self: &Arc<Self>, action: FinalAction, group: Option<String>) {
        match action {
            FinalAction::None | FinalAction::Continue => {}
            FinalAction::StopGroup => {
                if let Some(group) = group {
                    let engine = Arc::clone(self);
                    tokio::spawn(async move {
                        let _operation = engine.operations.lock().await;
                        // A group already stopped (by an operator, or by the final action
                        // of another resource) is left alone: no rc 20/21 for nothing.
                        let stopped = engine.config.group(&group).is_some_and(|config| {
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
                if let Err(error) = self.os.sysrq_panic() {
                    tracing::error!("{error}");
                    self.alert("pm", 66, &["clppm"]);
                }
            }
            FinalAction::KeepaliveReset => {
                self.alert("pm", 101, &[]);
                if let Err(error) = self.os.keepalive_reset() {
                    tracing::error!("{error}");
                    self.alert("pm", 67, &["clppm"]);
                }
            }
            FinalAction::KeepalivePanic => {
                self.alert("pm", 102, &[]);
                if let Err(error) = self.os.keepalive_panic() {
                    tracing::error!("{error}");
                    self.alert("pm", 68, &["clppm"]);
                }
            }
        }
    }

    /// The group a recovery target belongs to.
    fn group_of(&self, target: &RecoveryTarget) -> Option<String> {
        match target {
            RecoveryTarget::Resource(name) => self.config.resource(name).map(|r| r.group.clone()),
            RecoveryTarget::Group(name) => Some(name.clone()),
            RecoveryTarget::LocalServer => None,
        }
    }
}

fn group_status(state: &State, group: &crate::config::GroupConfig) -> ObjectStatus {
    let Some(runtime) = state.groups.get(&group.name) else {
        return ObjectStatus::Unknown;
    };
    if let Some(pending) = runtime.pending {
        return pending;
    }
    let failed_resource = group.resources.iter().any(|r| {
        state.resources.get(&r.name).is_some_and(|r| {
            matches!(
                r.status,
                ObjectStatus::OnlineFailure | ObjectStatus::OfflineFailure
            )
        })
    });
    if runtime.failed || failed_resource {
        ObjectStatus::Error
    } else if runtime.active {
        ObjectStatus::Online
    } else {
        ObjectStatus::Offline
    }
}

/// A monitor's state for status and counters.
pub fn monitor_state(
    config: &crate::config::MonitorConfig,
    ladder: &Ladder,
    status: MonitorStatus,
) -> MonitorState {
    MonitorState {
        name: config.name.clone(),
        kind: config.kind.clone(),
        status,
        comment: config.comment.clone(),
        reactivations: ladder.reactivations,
        reactivation_threshold: config.recovery.reactivation_threshold,
        failovers: ladder.failovers,
        failover_threshold: config.recovery.failover_threshold,
        final_action_done: ladder.final_action_done,
        final_action: config.recovery.final_action.as_str().to_string(),
        recovery_target: config.recovery.target.display_name().to_string(),
        last_detail: ladder.last_detail.clone(),
        dummy_failure: false,
        checks: 0,
        last_check_us: None,
        last_lateness_us: None,
    }
}

/// The status of a configuration whose daemon is not running: everything Offline.
pub fn offline_status(config: &Config, store: Option<&Store>) -> ClusterStatus {
    ClusterStatus {
        ha: crate::membership::lines::offline_view(config).map(Box::new),
        alert_log_problem: None,
        cluster: config.cluster.name.clone(),
        daemon: DaemonState::Stopped,
        pid: None,
        server: ServerStatus {
            name: config.server_name(),
            status: ObjectStatus::Offline,
            comment: config.server_comment().to_string(),
            heartbeat: HeartbeatStatus {
                name: "lanhb1".into(),
                status: "Offline".into(),
                comment: "LAN Heartbeat".into(),
            },
        },
        groups: config
            .groups
            .iter()
            .map(|group| GroupStatus {
                name: group.name.clone(),
                status: ObjectStatus::Offline,
                comment: group.comment.clone(),
                current: None,
                resources: group
                    .resources
                    .iter()
                    .map(|r| ResourceStatus {
                        name: r.name.clone(),
                        kind: r.kind.clone(),
                        status: ObjectStatus::Offline,
                        comment: r.comment.clone(),
                        pid: None,
                    })
                    .collect(),
            })
            .collect(),
        monitors: config
            .monitors
            .iter()
            .map(|m| {
                let ladder = store
                    .and_then(|s| s.monitor::<Ladder>(&m.name).ok().flatten())
                    .unwrap_or_default();
                monitor_state(m, &ladder, MonitorStatus::Offline)
            })
            .collect(),
    }
}
