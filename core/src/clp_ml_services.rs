//! The clp services as `clp_ml` drives them: started top-down (clppm, then the web manager),
//! stopped bottom-up, each with its pid; boot-time enabling through systemd units.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::client::clppm_process::{self, ServiceError};
use crate::paths::Paths;

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
            Service::Clppm => clppm_process::running_pid(paths),
            Service::WebManager => crate::webmgr_launch::running_pid(paths),
        }
    }

    /// Starts the service and waits until it runs; its pid.
    pub fn start(self, paths: &Paths, wait: Duration) -> Result<u32, ServiceFailure> {
        let failed = |cause: Cause| ServiceFailure::Start {
            service: self.binary(),
            cause,
        };
        match self {
            Service::Clppm => clppm_process::start_detached(paths, &self.program(), "clp_ml", wait)
                .map_err(|error| match error {
                    ServiceError::AlreadyRunning { pid } => ServiceFailure::AlreadyRunning {
                        service: self.binary(),
                        pid,
                    },
                    other => failed(Cause::Clppm(other)),
                }),
            Service::WebManager => {
                crate::webmgr_launch::start_detached(paths, &self.program(), None, wait)
                    .map(|(pid, _)| pid)
                    .map_err(|error| failed(Cause::WebManager(error)))
            }
        }
    }

    /// Stops the service (clppm: the orderly stop) and waits until its process is gone.
    pub fn stop(self, paths: &Paths, wait: Duration) -> Result<(), ServiceFailure> {
        let failed = |cause: Cause| ServiceFailure::Stop {
            service: self.binary(),
            cause,
        };
        match self {
            Service::Clppm => {
                clppm_process::stop_and_wait(paths, "clp_ml", crate::ipc::AfterStop::Nothing, wait)
                    .map_err(|error| failed(Cause::Clppm(error)))
            }
            Service::WebManager => crate::webmgr_launch::stop(paths, wait)
                .map(|_| ())
                .map_err(|error| failed(Cause::WebManager(error))),
        }
    }
}

/// Why `clp_ml` could not start or stop a service.
#[derive(Debug, thiserror::Error)]
pub enum ServiceFailure {
    /// Another instance runs already (it appeared after `clp_ml` looked).
    #[error("{service} did not start: already running (pid {pid})")]
    AlreadyRunning {
        /// The service's binary.
        service: &'static str,
        /// The running instance.
        pid: u32,
    },
    /// Starting it failed.
    #[error("{service} did not start: {cause}")]
    Start {
        /// The service's binary.
        service: &'static str,
        /// Why.
        cause: Cause,
    },
    /// Stopping it failed.
    #[error("{service} did not stop: {cause}")]
    Stop {
        /// The service's binary.
        service: &'static str,
        /// Why.
        cause: Cause,
    },
}

/// The failure of one service's own starter or stopper.
#[derive(Debug, thiserror::Error)]
pub enum Cause {
    /// clppm's.
    #[error(transparent)]
    Clppm(ServiceError),
    /// The web manager's.
    #[error(transparent)]
    WebManager(crate::webmgr_launch::LaunchError),
}

impl crate::exit_code::Coded for ServiceFailure {
    /// `clp_ml` fails with the original's "other" code whatever the service said.
    fn code(&self) -> u8 {
        crate::exit_code::OTHER
    }
}

/// Whether systemd runs as PID 1 (so units can be enabled).
pub fn systemd_is_init() -> bool {
    Path::new("/run/systemd/system").is_dir()
}
