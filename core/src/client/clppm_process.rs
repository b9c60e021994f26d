//! Starting and stopping the daemon from a command: `clpcl -s` starts `clppm` detached and
//! returns once it answers (or with its own error message); `clpcl -t` asks for the orderly
//! stop and waits until the process is gone.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::ipc::client::{Client, ClientError};
use crate::ipc::{AfterStop, Request};
use crate::paths::{Paths, ROOT_ENV};
use crate::startup_output::{self, StartupOutput};

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
    #[error("the daemon did not answer within {}; see {}", crate::duration_text::seconds(*waited), log.display())]
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
    crate::paths::beside_me("clppm")
}

/// Whether a clppm holds the pid-file lock of `paths` (it may still be starting and not yet
/// answer on its socket).
pub fn daemon_holds_lock(paths: &Paths) -> bool {
    crate::pid_lock::is_held(&paths.pid_file())
}

/// Connects to a daemon that is running or starting: when the socket does not answer but
/// the pid-file lock is held, waits up to `wait` for the daemon to answer.
pub fn connect_when_up(
    paths: &Paths,
    client_name: &str,
    wait: Duration,
) -> Result<Client, ClientError> {
    retry_while_starting(paths, wait, || {
        Client::connect(&paths.socket(), client_name)
    })
}

/// [`connect_when_up`] for one request: the greeting goes with it
/// ([`Client::connect_asking`]).
pub fn connect_when_up_asking(
    paths: &Paths,
    client_name: &str,
    wait: Duration,
) -> Result<Client, ClientError> {
    retry_while_starting(paths, wait, || {
        Client::connect_asking(&paths.socket(), client_name, Duration::from_secs(10))
    })
}

fn retry_while_starting(
    paths: &Paths,
    wait: Duration,
    mut connect: impl FnMut() -> Result<Client, ClientError>,
) -> Result<Client, ClientError> {
    let deadline = Instant::now() + wait;
    loop {
        match connect() {
            Err(ClientError::NotRunning { socket }) => {
                if !daemon_holds_lock(paths) || Instant::now() >= deadline {
                    return Err(ClientError::NotRunning { socket });
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
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
    spawn_until_ready(
        paths,
        program,
        &["--foreground", "--detached", "--requested-by", requested_by],
        wait,
        &paths.daemon_log(),
        || {
            Client::connect(&paths.socket(), "clpcl")
                .ok()
                .map(|c| c.daemon_pid)
        },
    )
}

/// Starts `program args` in its own session (stdin/stdout on /dev/null, stderr read for a
/// startup error) and waits until `ready` gives its pid, or it exits with its own message.
pub fn spawn_until_ready(
    paths: &Paths,
    program: &Path,
    args: &[&str],
    wait: Duration,
    log: &Path,
    mut ready: impl FnMut() -> Option<u32>,
) -> Result<u32, ServiceError> {
    let mut command = Command::new(program);
    command
        .args(args)
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
    // Read at once, so that a startup error larger than a pipe never blocks the daemon.
    let output = child.stderr.take().map(StartupOutput::drain);
    let deadline = Instant::now() + wait;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let message = output
                .map(|output| output.finish(Duration::from_secs(2)))
                .unwrap_or_default();
            let name = program
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("the daemon");
            return Err(ServiceError::StartupFailed {
                message: if message.is_empty() {
                    format!(
                        "{name} exited during startup ({status}); see {}",
                        log.display()
                    )
                } else {
                    startup_output::shown(
                        &message,
                        &startup_output::saved_path(&paths.log_dir(), name),
                    )
                },
                code: status.code(),
            });
        }
        if let Some(pid) = ready() {
            return Ok(pid);
        }
        if Instant::now() >= deadline {
            return Err(ServiceError::Timeout {
                waited: wait,
                log: log.to_path_buf(),
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
