//! The supervisor: groups, resources, the monitor scheduler and the recovery ladder's
//! executor.
//!
//! One [`Engine`] owns the runtime state behind a short-held lock; group and resource
//! operations are serialized by a separate async lock so that status requests are always
//! answered at once, even while a script runs. The engine is woken by child exits, pidfds,
//! timers and requests — it never polls in a sleep loop. The ladder's decisions come from
//! the pure [`policy::decide`].
//!
//! One file per job, each an `impl Engine` block over the state defined here:
//! - `lifecycle.rs`: the start, the orderly stop, suspend and resume; `handoff.rs`: the
//!   hand-over of running resources to the next clppm.
//! - `groups.rs`, `resources.rs`: group and resource operations; `scripts.rs`: the scripts'
//!   environment; `processes.rs`: async processes, their adoption after a restart.
//! - `placement.rs`: which server runs a group, asked by every group start path;
//!   `ownership.rs`: in an HA cluster, the owner keys, failover and the stop when etcd is lost;
//!   `moving.rs`: `clpgrp -m`, a move as an intent in etcd that the owner and the
//!   destination carry out.
//! - `runtimes.rs`: the operations' runtime and the monitors' own thread.
//! - `monitors.rs`: the monitor scheduler; `parking.rs`: the one batch per interval that checks
//!   idle event-driven monitors (pidw) instead of a wake-up each; `monitor_control.rs`:
//!   `clpmonctrl`'s operations.
//! - `recovery.rs`: the executor over the pure [`policy::decide`]; `final_action.rs`: the
//!   final actions and what follows the stop.
//! - `licenses.rs`: licenses at the start and while running; `alerts.rs`: alerts and
//!   `clplogcmd` messages; `snapshot.rs`: the status snapshot.

mod alerts;
mod already;
mod clock;
#[cfg(test)]
mod crash_tests;
mod final_action;
mod floating_ip;
mod grid;
mod groups;
mod handoff;
mod licenses;
mod lifecycle;
mod monitor_control;
mod monitors;
mod moving;
mod ownership;
mod parking;
pub mod placement;
pub mod policy;
mod positions;
mod processes;
mod recovery;
mod resources;
mod runtimes;
mod scripts;
mod snapshot;
#[cfg(test)]
mod store_write_tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, watch};

use clp_core::alert_sink::AlertSink;
use clp_core::config::Config;
use clp_core::ipc::{AfterStop, ErrorCode, Response};
use clp_core::os_action::OsActions;
use clp_core::paths::Paths;
use clp_core::process::ProcessIdentity;
use clp_core::status::{DaemonState, ObjectStatus};
use clp_core::store::Store;
pub use ownership::ClusterLink;
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
    /// The durations of its latest successful starts and stops (clpperfc -g).
    start_times: clp_core::timings::Timings,
    stop_times: clp_core::timings::Timings,
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
    /// The checks' summed and longest durations (clpperfc), and when the monitor last
    /// finished a check or was switched on (clphealthchk).
    check_total: std::time::Duration,
    check_max: std::time::Duration,
    checked_at: Option<std::time::Instant>,
    /// The last check took longer than the delay warning rate allows (rm 71 was logged).
    delayed: bool,
    /// It has no task until handed back: the batch of its interval checks it ([`parking`]).
    parked: bool,
}

/// The engine's maps by object name (groups, resources), hashed by foldhash instead of
/// SipHash: every status answer looks each group and resource up by name (SipHash was a
/// tenth of an answer's CPU at 1,000 monitors), and foldhash's per-process seed keeps it
/// sound even though the names come from the operator's configuration, not from clients.
pub(crate) type ByName<V> = HashMap<String, V, foldhash::fast::RandomState>;

#[derive(Debug)]
struct State {
    daemon: DaemonState,
    groups: ByName<GroupRuntime>,
    resources: ByName<ResourceRuntime>,
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
    /// Switched on: its task checks while it is (set with [`MonitorSlot::switch`]).
    enabled: std::sync::atomic::AtomicBool,
    /// Wakes its task when `enabled` changed. A monitor has at most one task, and
    /// `notify_one` keeps a permit while none waits, so no switch is missed; a woken task
    /// reads `enabled` (a permit left from an earlier switch only makes it read again).
    switched: Notify,
    event_driven: bool,
    /// The probe, built once with the engine, taken by its task when monitoring starts, and
    /// kept here while the monitor is parked (it then has no task: [`parking`]).
    probe: Mutex<Option<Result<Box<dyn clp_core::monitor::Probe>, String>>>,
}

impl MonitorSlot {
    /// Switches the monitor on or off and wakes its task.
    fn switch(&self, on: bool) {
        self.enabled.store(on, std::sync::atomic::Ordering::SeqCst);
        self.switched.notify_one();
    }

    fn is_enabled(&self) -> bool {
        self.enabled.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// How many monitor tasks run, so that the stop can wait for them to end (a parked monitor
/// has none, and a task that parks ends: no handle per task is kept).
#[derive(Default)]
struct TaskCount {
    live: std::sync::atomic::AtomicUsize,
    /// Woken when `live` falls to zero.
    none_left: Notify,
}

/// A monitor task's hold on the engine, counted in [`Engine::monitor_tasks`] from the spawn
/// until the task's future is dropped (it ended, or the runtime dropped it unpolled).
struct MonitorTask(Arc<Engine>);

impl MonitorTask {
    fn new(engine: &Arc<Engine>) -> MonitorTask {
        engine
            .monitor_tasks
            .live
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        MonitorTask(Arc::clone(engine))
    }
}

impl Drop for MonitorTask {
    fn drop(&mut self) {
        let count = &self.0.monitor_tasks;
        if count.live.fetch_sub(1, std::sync::atomic::Ordering::SeqCst) == 1 {
            count.none_left.notify_waiters();
        }
    }
}

impl TaskCount {
    /// Waits until no monitor task runs.
    async fn none_left(&self) {
        loop {
            let woken = self.none_left.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if self.live.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                return;
            }
            woken.await;
        }
    }
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
    /// The configuration's groups and resources by name, and each resource's followers.
    positions: positions::Positions,
    /// The points the monitors' checks fall due on.
    grid: grid::Grid,
    /// The one timer of the monitors' schedules.
    clock: Arc<clock::Clock>,
    stop_request: watch::Sender<Option<AfterStop>>,
    stopped: watch::Sender<bool>,
    /// The monitor tasks, awaited at the stop so probes release what they hold (the
    /// watchdog's magic close) before the process exits.
    monitor_tasks: TaskCount,
    /// The daemon handed its running resources over to the next clppm ([`Engine::hand_off`]):
    /// it exits without stopping its groups.
    handed_off: std::sync::atomic::AtomicBool,
    /// The daemon stops to start again in place with a new configuration
    /// ([`Engine::restart_for_configuration`]).
    restart_in_place: std::sync::atomic::AtomicBool,
    /// An HA cluster's servers as etcd shows them ([`crate::membership`]).
    servers: std::sync::OnceLock<clp_core::status::ServersSource>,
    /// An HA cluster's group ownership ([`ClusterLink`]); unset on one server.
    cluster: std::sync::OnceLock<Arc<ClusterLink>>,
    /// An HA cluster's keeper, told each resource's process group ([`crate::keeper`]).
    keeper: std::sync::OnceLock<crate::keeper::Link>,
    /// An HA cluster's other servers' alerts, merged into the alerts served.
    cluster_alerts: std::sync::OnceLock<ClusterAlerts>,
    /// Where the engine's tasks run: operations apart from the monitors' thread.
    runtimes: runtimes::Runtimes,
}

/// Where the engine reads the other servers' alerts ([`Engine::set_cluster_alerts`]).
pub type ClusterAlerts = Box<dyn Fn() -> Vec<clp_core::alert::AlertEvent> + Send + Sync>;

impl Engine {
    /// A new engine for `config`; nothing runs until [`Engine::start`].
    /// `probes` finds each monitor type's probe constructor (`clp_monitors::builder`).
    pub fn new(
        config: Config,
        paths: Paths,
        store: Store,
        os: OsActions,
        probes: clp_core::monitor::spec::FindBuilder,
    ) -> Arc<Engine> {
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
                check_total: std::time::Duration::ZERO,
                check_max: std::time::Duration::ZERO,
                checked_at: None,
                delayed: false,
                parked: false,
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
                let probe = probes(&monitor.kind)
                    .ok_or_else(|| format!("unknown monitor type {}", monitor.kind))
                    .and_then(|build| build(&monitor.probe_settings(), &os));
                MonitorSlot {
                    enabled: std::sync::atomic::AtomicBool::new(false),
                    switched: Notify::new(),
                    event_driven: probe.as_ref().is_ok_and(|p| p.watches_target_process()),
                    probe: Mutex::new(Some(probe)),
                }
            })
            .collect();
        let grid = grid::Grid::for_intervals(config.monitors.iter().map(|m| m.interval));
        let positions = positions::Positions::of(&config);
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
            grid,
            clock: Arc::default(),
            slots,
            positions,
            stop_request: watch::channel(None).0,
            stopped: watch::channel(false).0,
            monitor_tasks: TaskCount::default(),
            handed_off: std::sync::atomic::AtomicBool::new(false),
            restart_in_place: std::sync::atomic::AtomicBool::new(false),
            servers: std::sync::OnceLock::new(),
            cluster: std::sync::OnceLock::new(),
            keeper: std::sync::OnceLock::new(),
            cluster_alerts: std::sync::OnceLock::new(),
            runtimes: runtimes::Runtimes::new(),
        })
    }

    /// Shows an HA cluster's servers in the status, read from `source` (set once).
    pub fn set_servers_source(&self, source: clp_core::status::ServersSource) {
        let _ = self.servers.set(source);
    }

    /// Tells `keeper` every resource's process group from now on (set once).
    pub fn set_keeper(&self, keeper: crate::keeper::Link) {
        let _ = self.keeper.set(keeper);
    }

    /// Has the keeper (if any) follow the renewals of this server's cluster lease. Called
    /// before the cluster is attached, so that no group can be owned, started and told to
    /// the keeper before the lease it runs under (the keeper kills such a group at once).
    pub(crate) fn keeper_follows(
        &self,
        deadline: tokio::sync::watch::Receiver<Option<clp_cluster::LeaseDeadline>>,
    ) {
        if let Some(keeper) = self.keeper.get() {
            keeper.follow(deadline);
        }
    }

    /// The configuration the daemon runs.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The folders the daemon works in.
    pub fn paths(&self) -> &Paths {
        &self.paths
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

    /// Makes everything stored so far durable, the alerts logged so far included.
    pub fn flush_store(&self) {
        self.alert_sink.settle();
        if let Err(error) = self.store.flush() {
            tracing::error!("cannot flush the store: {error}");
        }
    }
}
