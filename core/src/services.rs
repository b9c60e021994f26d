//! The clp services as `clp_ml` drives them: started top-down (clppm, then the web manager),
//! stopped bottom-up, each with its pid; boot-time enabling through systemd units.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::paths::Paths;
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
        crate::paths::beside_me(self.binary())
    }

    /// Whether the binary is installed beside the running command.
    pub fn installed(self) -> bool {
        self.program().is_file()
    }

    /// The pid of the running service.
    pub fn pid(self, paths: &Paths) -> Option<u32> {
        match self {
            Service::Clppm => service::running_pid(paths),
            Service::WebManager => crate::webmgr_launch::running_pid(paths),
        }
    }

    /// Starts the service and waits until it runs; its pid.
    pub fn start(self, paths: &Paths, wait: Duration) -> Result<u32, String> {
        match self {
            Service::Clppm => service::start_detached(paths, &self.program(), "clp_ml", wait)
                .map_err(|error| match error {
                    ServiceError::AlreadyRunning { pid } => format!("already running (pid {pid})"),
                    other => other.to_string(),
                }),
            Service::WebManager => {
                crate::webmgr_launch::start_detached(paths, &self.program(), None, wait)
                    .map(|(pid, _)| pid)
                    .map_err(|error| error.to_string())
            }
        }
    }

    /// Stops the service (clppm: the orderly stop) and waits until its process is gone.
    pub fn stop(self, paths: &Paths, wait: Duration) -> Result<(), String> {
        match self {
            Service::Clppm => {
                service::stop_and_wait(paths, "clp_ml", crate::ipc::AfterStop::Nothing, wait)
                    .map_err(|error| error.to_string())
            }
            Service::WebManager => crate::webmgr_launch::stop(paths, wait)
                .map(|_| ())
                .map_err(|error| error.to_string()),
        }
    }
}

/// Whether systemd runs as PID 1 (so units can be enabled).
pub fn systemd_is_init() -> bool {
    Path::new("/run/systemd/system").is_dir()
}
