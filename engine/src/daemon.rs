//! The `clppm` process: single instance per root, the control socket, signals, and the
//! orderly stop.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use tokio::net::UnixListener;
use tokio::signal::unix::{SignalKind, signal};

use crate::control::ControlThread;
use crate::engine::Engine;
use clp_core::config::{self, ConfigError};
use clp_core::ipc::AfterStop;
use clp_core::monitor::spec::FindBuilder;
use clp_core::os_action::OsActions;
use clp_core::paths::Paths;
use clp_core::pid_lock::{PidLock, PidLockError};
use clp_core::store::{Store, StoreError};

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The HA cluster's active configuration cannot run on this server.
    #[error("{0}")]
    ClusterConfig(String),
    /// Another clppm runs on this root.
    #[error("clppm is already running on {root} (pid {pid}); stop it with 'clpcl -t'")]
    AlreadyRunning {
        /// The root.
        root: String,
        /// Its pid.
        pid: String,
    },
    /// The configuration is invalid.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The configuration lists a server that is not this host (the original's pm 15).
    #[error(
        "the configuration's server is \"{server}\", not this host \"{host}\" (pm 15): write name = \"{host}\" under [[server]] in clp.conf, or push the configuration with 'clpcfctrl --push --force'"
    )]
    NotThisServer {
        /// The server the configuration lists.
        server: String,
        /// This host's short name.
        host: String,
    },
    /// The store could not be opened.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// No valid license of the core product.
    #[error("{0}")]
    License(String),
    /// A folder clppm must write to cannot be written (a read-only or full file system, or
    /// its permissions).
    #[error(
        "cannot write to {path}, where clppm keeps {purpose}: {source}; make it writable (remount the file system read-write, free space or fix its permissions) and start again"
    )]
    NotWritable {
        /// The folder.
        path: String,
        /// What clppm keeps there.
        purpose: &'static str,
        /// The cause.
        source: std::io::Error,
    },
    /// A file or the socket could not be set up.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

impl clp_core::exit_code::Coded for DaemonError {
    fn code(&self) -> u8 {
        use clp_core::exit_code;
        match self {
            DaemonError::AlreadyRunning { .. } => exit_code::ALREADY_RUNNING,
            DaemonError::Config(_)
            | DaemonError::NotThisServer { .. }
            | DaemonError::ClusterConfig(_) => exit_code::BAD_CONFIG,
            DaemonError::Store(_)
            | DaemonError::Io { .. }
            | DaemonError::NotWritable { .. }
            | DaemonError::License(_) => exit_code::INIT_ERROR,
        }
    }
}

fn io_error(
    what: &'static str,
    path: &std::path::Path,
) -> impl FnOnce(std::io::Error) -> DaemonError {
    let path = path.display().to_string();
    move |source| DaemonError::Io { what, path, source }
}

/// Refuses to start when the log folder or the store folder cannot be written: a daemon
/// that cannot keep its alerts must say so at the start, not lose them silently.
pub fn check_writable_folders(paths: &Paths) -> Result<(), DaemonError> {
    for (dir, purpose) in [
        (paths.log_dir(), "its log and the alert log"),
        (paths.store_dir(), "its store (alerts, licenses, state)"),
    ] {
        probe_write(&dir).map_err(|source| DaemonError::NotWritable {
            path: dir.display().to_string(),
            purpose,
            source,
        })?;
    }
    Ok(())
}

/// Creates, writes and removes a small file in `dir` (created when missing).
fn probe_write(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = clp_core::paths::private_to_this_process(dir, "clppm-write-check");
    let written = std::fs::File::create(&probe).and_then(|mut file| {
        file.write_all(b"x")?;
        file.sync_all()
    });
    let removed = std::fs::remove_file(&probe);
    written?;
    removed
}

/// Takes clppm's pid lock, or says who holds it.
fn acquire_pid_lock(paths: &Paths) -> Result<PidLock, DaemonError> {
    PidLock::take(&paths.pid_file()).map_err(|error| match error {
        PidLockError::Held { pid } => DaemonError::AlreadyRunning {
            root: paths.root().display().to_string(),
            pid,
        },
        PidLockError::Io { what, path, source } => DaemonError::Io {
            what,
            path: path.display().to_string(),
            source,
        },
    })
}

/// Everything set up before the daemon answers: the lock, the store, the socket, the engine.
pub struct Prepared {
    _lock: PidLock,
    listener: UnixListener,
    engine: Arc<Engine>,
    paths: Paths,
}

/// Loads the configuration, takes the lock, opens the store and binds the socket. Any
/// failure here is the daemon's startup error, which `clpcl -s` shows. `probes` finds the
/// monitor types' probe constructors (`clp_monitors::builder`).
pub async fn prepare(paths: &Paths, probes: FindBuilder) -> Result<Prepared, DaemonError> {
    let config = config::load(paths)?;
    if config.local_server().is_none()
        && let Some(server) = config.servers.first()
    {
        return Err(DaemonError::NotThisServer {
            server: server.name.clone(),
            host: config.server_name(),
        });
    }
    for dir in [paths.log_dir(), paths.run_dir(), paths.etc_dir()] {
        std::fs::create_dir_all(&dir).map_err(io_error("cannot create", &dir))?;
    }
    // The daemon works from its root: relative paths in OS-action commands resolve there,
    // and it never holds the caller's folder busy.
    std::env::set_current_dir(paths.root()).map_err(io_error("cannot enter", paths.root()))?;
    let lock = acquire_pid_lock(paths)?;
    // An HA cluster's server takes the generation the cluster made active while it was
    // down, before it starts anything.
    let config = match crate::cluster_config::catch_up(paths, &config).await {
        Ok(true) => config::load(paths)?,
        Ok(false) => config,
        Err(reason) => return Err(DaemonError::ClusterConfig(reason)),
    };
    let store = open_store(paths)?;
    check_core_license(paths, &config, &store)?;
    let socket = paths.socket();
    if socket.exists() {
        // The lock is ours, so whatever socket is left is stale.
        std::fs::remove_file(&socket)
            .map_err(io_error("cannot remove the stale socket", &socket))?;
    }
    let listener = UnixListener::bind(&socket).map_err(io_error("cannot listen on", &socket))?;
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))
        .map_err(io_error("cannot restrict", &socket))?;
    let os = OsActions::from_env(config.os_actions.clone());
    let engine = Engine::new(config, paths.clone(), store, os, probes);
    Ok(Prepared {
        _lock: lock,
        listener,
        engine,
        paths: paths.clone(),
    })
}

/// Opens the store, waiting a little for a command that has it open briefly (clplcncs,
/// clplogcmd, clpstat while no daemon runs).
fn open_store(paths: &Paths) -> Result<Store, DaemonError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match Store::open(&paths.store_dir()) {
            Err(StoreError::Locked { .. }) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return Ok(other?),
        }
    }
}

/// Refuses to start without a valid core license, with an alert saying why.
fn check_core_license(
    paths: &Paths,
    config: &config::Config,
    store: &Store,
) -> Result<(), DaemonError> {
    use clp_core::license::{self, LicenseState};
    let core = license::core_product(config.is_cluster());
    let licenses: Vec<license::License> = store.licenses()?;
    let issuers = license::trusted_issuers(paths);
    let (state, found) = license::product_state(&licenses, core, license::today(), &issuers);
    if state == LicenseState::Valid {
        return Ok(());
    }
    let (id, args) = license::state_alert(core, state, found);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let event =
        clp_core::alert::AlertEvent::from_catalogue(&config.server_name(), "lcns", id, &args);
    // A failure to log is reported by the sink; the refusal below says the same.
    let _ = clp_core::alert_sink::AlertSink::offline_on(config, paths, store.clone())
        .record(event.clone());
    Err(DaemonError::License(format!(
        "{} clppm does not start without a valid {core} license: register a key with 'clplcncs -I KEYFILE -P {core}' or a trial with 'clplcncs --trial -P {core}'",
        event.message
    )))
}

impl Prepared {
    /// Runs until stopped: serves the socket, starts the groups, waits for SIGTERM or a stop
    /// request, stops in order. Returns what was to follow the stop (already carried out).
    pub async fn run(self, requested_by: Option<String>) -> AfterStop {
        let Prepared {
            _lock,
            listener,
            engine,
            paths,
        } = self;
        // The handlers are installed before anything starts, so a SIGTERM at any moment is
        // an orderly stop, never the default (immediate) termination.
        let handlers = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        );
        // An HA cluster's keeper first: the start adopts processes it must guard.
        let weak = Arc::downgrade(&engine);
        let keeper = crate::keeper::start(engine.config(), &paths, move |why| {
            tracing::error!(
                "{why}; clppm cannot guarantee that its resources stop with its ownership, and stops"
            );
            if let Some(engine) = weak.upgrade() {
                engine.stop_from("clppm", AfterStop::Nothing);
            }
        });
        if let Some(keeper) = &keeper {
            engine.set_keeper(keeper.link());
        }
        // Start first (alerts, licenses, adoption, monitor tasks; groups start in the
        // background), so whoever connects first sees a started daemon.
        engine.start(requested_by.as_deref());
        // More than one server: join the cluster in etcd (crate::membership).
        // (The keeper follows its lease from inside the join, before any group can be owned.)
        let membership = crate::membership::join(&engine);
        let control = match ControlThread::start(listener, Arc::clone(&engine)) {
            Ok(control) => Some(control),
            Err(error) => {
                // Without its socket the daemon cannot be driven: it stops at once.
                tracing::error!("cannot serve the control socket: {error}");
                engine.stop_from("clppm", AfterStop::Nothing);
                None
            }
        };
        let signals = Arc::clone(&engine);
        tokio::spawn(async move {
            let (Ok(mut term), Ok(mut int)) = handlers else {
                tracing::error!("cannot install the signal handlers");
                return;
            };
            tokio::select! {
                _ = term.recv() => signals.stop_from("SIGTERM", AfterStop::Nothing),
                _ = int.recv() => signals.stop_from("SIGINT", AfterStop::Nothing),
            }
        });
        let then = engine.stop_requested().await;
        // After a hand-off the groups keep running for the next clppm to adopt.
        if !engine.is_handed_off() {
            engine.shutdown().await;
        }
        // Before the lease is given up: what still runs (after a hand-off, or a stop that
        // failed) is killed by the keeper, never left running without ownership.
        if let Some(keeper) = keeper {
            keeper.end().await;
        }
        if let Some(membership) = membership {
            membership.leave().await;
        }
        // Let the requester's connection read its answer before the socket goes.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        if let Some(control) = control {
            control.stop().await;
        }
        let _ = std::fs::remove_file(paths.socket());
        // Every alert written and synced before the final action or the exit.
        engine.flush_store();
        engine.after_stop(then);
        if engine.restart_requested() {
            restart_in_place();
        }
        then
    }
}

/// Starts this clppm again in the same process (same pid, same arguments) to read a new
/// configuration: `exec` of its own program. The pid lock, the log and every other file are
/// closed on exec (Rust opens them close-on-exec). Returns only when the exec failed.
fn restart_in_place() {
    use std::os::unix::process::CommandExt;
    let mut arguments: Vec<std::ffi::OsString> = Vec::new();
    let mut given = std::env::args_os();
    let program = given.next().unwrap_or_else(|| "clppm".into());
    while let Some(argument) = given.next() {
        if argument == "--requested-by" {
            given.next();
            continue;
        }
        if argument.to_string_lossy().starts_with("--requested-by=") {
            continue;
        }
        arguments.push(argument);
    }
    tracing::info!("starting again in place with the new configuration");
    clp_core::logging::flush();
    let error = std::process::Command::new("/proc/self/exe")
        .arg0(program)
        .args(&arguments)
        .args(["--requested-by", "clpcfctrl"])
        .exec();
    tracing::error!("cannot start again in place: {error}; start clppm with 'clpcl -s'");
}
