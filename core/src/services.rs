//! The clp services as `clp_ml` drives them: started top-down (clppm, then the web manager),
//! stopped bottom-up, each with its pid; boot-time enabling through systemd units.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::paths::Paths;
use crate::process::ProcessIdentity;
use crate::service::{self, ServiceError};

/// One service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// The supervisor daemon.
    Clppm,
    /// The web manager.
    WebManager,
}

impl Service {
    /// Every service, in start order.
    pub const ALL: [Service; 2] = [Service::Clppm, Service::WebManager];

    /// The binary's name.
    pub fn binary(self) -> &'static str {
        match self {
            Service::Clppm => "clppm",
            Service::WebManager => "clpwebmgr",
        }
    }

    /// The systemd unit the installer writes.
    pub fn unit(self) -> &'static str {
        match self {
            Service::Clppm => "clp-clppm.service",
            Service::WebManager => "clp-webmgr.service",
        }
    }

    /// The binary beside the running command.
    pub fn program(self) -> PathBuf {
        crate::process::own_bin_dir()
            .map(|dir| dir.join(self.binary()))
            .unwrap_or_else(|| PathBuf::from(self.binary()))
    }

    /// Whether the binary is installed beside the running command.
    pub fn installed(self) -> bool {
        self.program().is_file()
    }

    fn pid_file(self, paths: &Paths) -> PathBuf {
        paths.run_dir().join(format!("{}.pid", self.binary()))
    }

    /// The pid of the running service.
    pub fn pid(self, paths: &Paths) -> Option<u32> {
        match self {
            Service::Clppm => service::running_pid(paths),
            Service::WebManager => pid_from_file(&self.pid_file(paths)),
        }
    }

    /// Starts the service and waits until it runs; its pid.
    pub fn start(self, paths: &Paths, wait: Duration) -> Result<u32, ServiceError> {
        if let Some(pid) = self.pid(paths) {
            return Err(ServiceError::AlreadyRunning { pid });
        }
        match self {
            Service::Clppm => service::start_detached(paths, &self.program(), "clp_ml", wait),
            Service::WebManager => service::spawn_until_ready(
                paths,
                &self.program(),
                &["--foreground"],
                wait,
                &paths.log_dir().join("clpwebmgr.log"),
                || self.pid(paths),
            ),
        }
    }

    /// Stops the service (clppm: the orderly stop) and waits until its process is gone.
    pub fn stop(self, paths: &Paths, wait: Duration) -> Result<(), ServiceError> {
        match self {
            Service::Clppm => {
                service::stop_and_wait(paths, "clp_ml", crate::ipc::AfterStop::Nothing, wait)
            }
            Service::WebManager => {
                let Some(pid) = self.pid(paths) else {
                    return Ok(());
                };
                if let Ok(raw) = i32::try_from(pid) {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(raw),
                        nix::sys::signal::Signal::SIGTERM,
                    );
                }
                let deadline = Instant::now() + wait;
                while alive(pid) {
                    if Instant::now() >= deadline {
                        return Err(ServiceError::Timeout {
                            waited: wait,
                            log: paths.log_dir().join("clpwebmgr.log"),
                        });
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                Ok(())
            }
        }
    }
}

fn alive(pid: u32) -> bool {
    ProcessIdentity::of(pid).is_some_and(|p| p.is_alive())
}

fn pid_from_file(path: &Path) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(path).ok()?.trim().parse().ok()?;
    alive(pid).then_some(pid)
}

/// Whether systemd runs as PID 1 (so units can be enabled).
pub fn systemd_is_init() -> bool {
    Path::new("/run/systemd/system").is_dir()
}
