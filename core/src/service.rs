//! Starting and stopping the daemon from a command: `clpcl -s` starts `clppm` detached and
//! returns once it answers (or with its own error message); `clpcl -t` asks for the orderly
//! stop and waits until the process is gone.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::ipc::client::{Client, ClientError};
use crate::ipc::{AfterStop, Request};
use crate::paths::{Paths, ROOT_ENV};

/// Why the daemon did not start or stop.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// It already runs.
    #[error("clppm is already running (pid {pid})")]
    AlreadyRunning {
        /// Its pid.
        pid: u32,
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
        /// What clppm printed.
        message: String,
        /// Its exit code.
        code: Option<i32>,
    },
    /// It neither answered nor exited in time.
    #[error("clppm did not answer within {} seconds; see {}", waited.as_secs(), log.display())]
    Timeout {
        /// How long we waited.
        waited: Duration,
        /// Its log.
        log: PathBuf,
    },
    /// Talking to it failed.
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// The `clppm` binary beside the running command.
pub fn clppm_beside_me() -> PathBuf {
    crate::process::own_bin_dir()
        .map(|dir| dir.join("clppm"))
        .unwrap_or_else(|| PathBuf::from("clppm"))
}

/// Whether a daemon answers on `paths`' socket; its pid if so.
pub fn running_pid(paths: &Paths) -> Option<u32> {
    Client::connect(&paths.socket(), "probe")
        .ok()
        .map(|client| client.daemon_pid)
}

/// Starts `program --foreground --detached` in its own session and waits until it answers.
pub fn start_detached(
    paths: &Paths,
    program: &Path,
    requested_by: &str,
    wait: Duration,
) -> Result<u32, ServiceError> {
    if let Some(pid) = running_pid(paths) {
        return Err(ServiceError::AlreadyRunning { pid });
    }
    let mut command = Command::new(program);
    command
        .args(["--foreground", "--detached", "--requested-by", requested_by])
        .env(ROOT_ENV, paths.root())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let mut child = command.spawn().map_err(|source| ServiceError::Spawn {
        program: program.to_path_buf(),
        source,
    })?;
    let deadline = Instant::now() + wait;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let mut message = String::new();
            if let Some(mut stderr) = child.stderr.take() {
                let _ = stderr.read_to_string(&mut message);
            }
            let message = message.trim().to_string();
            return Err(ServiceError::StartupFailed {
                message: if message.is_empty() {
                    format!(
                        "clppm exited during startup ({status}); see {}",
                        paths.daemon_log().display()
                    )
                } else {
                    message
                },
                code: status.code(),
            });
        }
        if let Ok(client) = Client::connect(&paths.socket(), "clpcl") {
            return Ok(client.daemon_pid);
        }
        if Instant::now() >= deadline {
            return Err(ServiceError::Timeout {
                waited: wait,
                log: paths.daemon_log(),
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Asks the daemon for the orderly stop and waits until its process is gone.
pub fn stop_and_wait(
    paths: &Paths,
    client_name: &str,
    then: AfterStop,
    wait: Duration,
) -> Result<(), ServiceError> {
    let mut client = Client::connect(&paths.socket(), client_name)?;
    let pid = client.daemon_pid;
    match client.request(&Request::StopDaemon { then }, Some(wait)) {
        Ok(_) => {}
        // The daemon may close the connection as it exits.
        Err(ClientError::Io { .. }) => {}
        Err(error) => return Err(error.into()),
    }
    wait_until_gone(paths, pid, wait)
}

/// Asks the daemon to hand its running resources over ([`Request::Handoff`]) and waits
/// until its process is gone; the groups keep running for the next clppm to adopt.
pub fn hand_off_and_wait(
    paths: &Paths,
    client_name: &str,
    wait: Duration,
) -> Result<(), ServiceError> {
    let mut client = Client::connect(&paths.socket(), client_name)?;
    let pid = client.daemon_pid;
    match client.request(&Request::Handoff, Some(wait)) {
        Ok(_) => {}
        // The daemon may close the connection as it exits.
        Err(ClientError::Io { .. }) => {}
        Err(error) => return Err(error.into()),
    }
    wait_until_gone(paths, pid, wait)
}

fn wait_until_gone(paths: &Paths, pid: u32, wait: Duration) -> Result<(), ServiceError> {
    let deadline = Instant::now() + wait;
    while process_exists(pid) {
        if Instant::now() >= deadline {
            return Err(ServiceError::Timeout {
                waited: wait,
                log: paths.daemon_log(),
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

fn process_exists(pid: u32) -> bool {
    crate::process::ProcessIdentity::of(pid).is_some_and(|p| p.is_alive())
}
