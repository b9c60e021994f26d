//! Launching and stopping `clpwebmgr` from a command (`clpwebmgr` alone starts it detached;
//! `clpwebmgr --stop` ends it), as `clp_ml` will. Whether it runs is told by the lock on its
//! pid file, not by the file's presence: a `kill -9` leaves the file but not the lock.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::paths::Paths;

/// Why clpwebmgr did not start or stop.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// It already runs.
    #[error("clpwebmgr is already running (pid {pid})")]
    AlreadyRunning {
        /// Its pid.
        pid: u32,
    },
    /// It does not run.
    #[error("clpwebmgr is not running on {}", root.display())]
    NotRunning {
        /// The root.
        root: PathBuf,
    },
    /// The binary could not be started.
    #[error("cannot start {}: {source}", program.display())]
    Spawn {
        /// The binary.
        program: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// It exited during startup; its own message.
    #[error("{message}")]
    StartupFailed {
        /// What it printed.
        message: String,
        /// Its exit code.
        code: Option<i32>,
    },
    /// It did not get ready, or did not end, in time.
    #[error("clpwebmgr did not {what} within {}; see {}", crate::duration_text::seconds(*waited), log.display())]
    Timeout {
        /// "start" or "stop".
        what: &'static str,
        /// How long we waited.
        waited: Duration,
        /// Its log.
        log: PathBuf,
    },
}

/// The pid of the clpwebmgr holding the lock of `paths`, if one does.
pub fn running_pid(paths: &Paths) -> Option<u32> {
    let path = paths.webmgr_pid_file();
    if !crate::pid_lock::is_held(&path) {
        return None;
    }
    std::fs::read_to_string(&path).ok()?.trim().parse().ok()
}

/// The `clpwebmgr` binary beside the running command.
pub fn clpwebmgr_beside_me() -> PathBuf {
    crate::paths::beside_me("clpwebmgr")
}

/// Starts `program --foreground --detached` in its own session and waits until it has
/// announced its address; returns its pid and address.
pub fn start_detached(
    paths: &Paths,
    program: &Path,
    listen: Option<SocketAddr>,
    wait: Duration,
) -> Result<(u32, SocketAddr), LaunchError> {
    if let Some(pid) = running_pid(paths) {
        return Err(LaunchError::AlreadyRunning { pid });
    }
    // Not running: whatever address file is left is stale.
    let _ = std::fs::remove_file(paths.webmgr_addr_file());
    let listen = listen.map(|address| address.to_string());
    let mut args = vec!["--foreground", "--detached"];
    if let Some(listen) = &listen {
        args.extend(["--listen", listen.as_str()]);
    }
    let mut announced = None;
    let started = crate::client::clppm_process::spawn_until_ready(
        paths,
        program,
        &args,
        wait,
        &paths.webmgr_log(),
        || {
            announced = announced_address(paths);
            announced.map(|_| running_pid(paths).unwrap_or(0))
        },
    );
    match started {
        Ok(pid) => announced
            .map(|address| (pid, address))
            .ok_or_else(|| LaunchError::Timeout {
                what: "start",
                waited: wait,
                log: paths.webmgr_log(),
            }),
        Err(crate::client::clppm_process::ServiceError::Spawn { program, source }) => {
            Err(LaunchError::Spawn { program, source })
        }
        Err(crate::client::clppm_process::ServiceError::StartupFailed { message, code }) => {
            Err(LaunchError::StartupFailed {
                message: message.trim_start_matches("clpwebmgr: ").to_string(),
                code,
            })
        }
        Err(_) => Err(LaunchError::Timeout {
            what: "start",
            waited: wait,
            log: paths.webmgr_log(),
        }),
    }
}

/// Sends SIGTERM to the running clpwebmgr and waits until its process is gone.
pub fn stop(paths: &Paths, wait: Duration) -> Result<u32, LaunchError> {
    let pid = running_pid(paths).ok_or_else(|| LaunchError::NotRunning {
        root: paths.root().to_path_buf(),
    })?;
    let identity = crate::process::ProcessIdentity::of(pid);
    if let Ok(raw) = i32::try_from(pid) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(raw),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    let deadline = Instant::now() + wait;
    while running_pid(paths).is_some() || identity.is_some_and(|process| process.is_alive()) {
        if Instant::now() >= deadline {
            return Err(LaunchError::Timeout {
                what: "stop",
                waited: wait,
                log: paths.webmgr_log(),
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(pid)
}

impl crate::exit_code::Coded for LaunchError {
    fn code(&self) -> u8 {
        use crate::exit_code;
        match self {
            LaunchError::AlreadyRunning { .. } => exit_code::ALREADY_RUNNING,
            LaunchError::NotRunning { .. } => exit_code::NOT_RUNNING,
            LaunchError::StartupFailed {
                code: Some(code), ..
            } => u8::try_from(*code).unwrap_or(exit_code::OTHER),
            LaunchError::Timeout { .. } => exit_code::TIMEOUT,
            LaunchError::Spawn { .. } | LaunchError::StartupFailed { .. } => exit_code::OTHER,
        }
    }
}

/// The address a running WebManager announced, if any.
pub fn announced_address(paths: &Paths) -> Option<SocketAddr> {
    std::fs::read_to_string(paths.webmgr_addr_file())
        .ok()?
        .trim()
        .parse()
        .ok()
}
