//! Why an operator's action failed, and the original's return value for it: each error knows
//! its exit code (as uutils' `UError::code()` does), so commands never map codes themselves.

use std::path::PathBuf;

use crate::client::clppm_process::ServiceError;
use crate::config::ConfigError;
use crate::exit_code;
use crate::ipc::ErrorCode;
use crate::ipc::client::ClientError;
use crate::license::RegistryError;
use crate::os_action::OsActionError;
use crate::store::StoreError;

/// An operator's action failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Talking to the daemon failed, or it refused the request.
    #[error(transparent)]
    Daemon(#[from] ClientError),
    /// Another server of the cluster (`-h HOST`) could not be asked, or refused.
    #[error(transparent)]
    Remote(#[from] super::remote::RemoteError),
    /// The daemon answered something other than what the request asks for.
    #[error("{0}")]
    Unexpected(String),
    /// The configuration file does not load.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The store could not be opened (the daemon is down, the command reads it itself).
    #[error(transparent)]
    StoreOpen(StoreError),
    /// Reading the opened store failed.
    #[error(transparent)]
    Store(StoreError),
    /// Registering, starting or removing a license in the store failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A monitor named by the operator is not in the configuration.
    #[error("monitor \"{0}\" is not in the configuration; 'clpstat -m' lists the monitors")]
    UnknownMonitor(String),
    /// A group named by the operator is not in the configuration.
    #[error("group \"{0}\" is not in the configuration; 'clpstat' lists the groups")]
    UnknownGroup(String),
    /// Starting the daemon failed.
    #[error(transparent)]
    Start(ServiceError),
    /// Stopping the daemon failed.
    #[error(transparent)]
    Stop(ServiceError),
    /// Stopping the daemon before a shutdown or reboot failed.
    #[error(transparent)]
    Down(ServiceError),
    /// With no daemon running, the command could not enter the install root to act from it.
    #[error("cannot enter {}: {source}", root.display())]
    EnterRoot {
        /// The install root.
        root: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The shutdown or reboot failed.
    #[error(transparent)]
    OsAction(#[from] OsActionError),
}

impl Error {
    /// The original's return value for this failure.
    pub fn code(&self) -> u8 {
        match self {
            Error::Daemon(error) => daemon_code(error),
            Error::Remote(error) => error.code(),
            Error::Unexpected(_) | Error::Store(_) => exit_code::OTHER,
            Error::Config(_) => exit_code::BAD_CONFIG,
            Error::StoreOpen(_) => exit_code::INIT_ERROR,
            Error::Registry(RegistryError::NoSuchSerial(_)) => exit_code::NOT_REGISTERED,
            Error::Registry(_) => exit_code::OTHER,
            Error::UnknownMonitor(_) | Error::UnknownGroup(_) => exit_code::NOT_REGISTERED,
            Error::Start(error) => match error {
                ServiceError::AlreadyRunning { .. } => exit_code::ALREADY_RUNNING,
                ServiceError::StartupFailed {
                    code: Some(code), ..
                } => u8::try_from(*code).unwrap_or(exit_code::OTHER),
                ServiceError::Timeout { .. } => exit_code::TIMEOUT,
                ServiceError::Client(_)
                | ServiceError::Spawn { .. }
                | ServiceError::StartupFailed { .. } => exit_code::OTHER,
            },
            Error::Stop(error) => match error {
                ServiceError::Client(client) => daemon_code(client),
                ServiceError::Timeout { .. } => exit_code::TIMEOUT,
                _ => exit_code::OTHER,
            },
            Error::Down(error) => match error {
                ServiceError::Client(client) => daemon_code(client),
                _ => exit_code::OTHER,
            },
            Error::EnterRoot { .. } => exit_code::INIT_ERROR,
            Error::OsAction(_) => exit_code::OTHER,
        }
    }

    /// Whether the daemon is not running (the cases where a command may read the store).
    pub fn is_not_running(&self) -> bool {
        matches!(self, Error::Daemon(ClientError::NotRunning { .. }))
    }
}

impl exit_code::Coded for Error {
    fn code(&self) -> u8 {
        Error::code(self)
    }
}

impl exit_code::Coded for ClientError {
    fn code(&self) -> u8 {
        daemon_code(self)
    }
}

/// The return value for a failure talking to the daemon.
fn daemon_code(error: &ClientError) -> u8 {
    match error {
        ClientError::NotRunning { .. } => exit_code::NOT_RUNNING,
        ClientError::PermissionDenied { .. } => exit_code::NOT_ROOT,
        ClientError::Refused { code, .. } => refusal_code(*code),
        ClientError::Timeout { .. } => exit_code::TIMEOUT,
        ClientError::Io { .. } | ClientError::Protocol { .. } => exit_code::OTHER,
    }
}

/// The return value for a daemon's refusal (its own or another server's).
pub(super) fn refusal_code(code: ErrorCode) -> u8 {
    match code {
        ErrorCode::NotFound => exit_code::NOT_REGISTERED,
        ErrorCode::Suspended => exit_code::SUSPENDED,
        ErrorCode::Protocol => exit_code::INIT_ERROR,
        ErrorCode::PermissionDenied => exit_code::NOT_ROOT,
        ErrorCode::Stopping | ErrorCode::Failed => exit_code::OTHER,
        ErrorCode::AlreadyStarted => exit_code::ALREADY_RUNNING,
        ErrorCode::AlreadyStopped => exit_code::ALREADY_STOPPED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_carries_the_originals_return_value() {
        let refused = |code| {
            Error::Daemon(ClientError::Refused {
                code,
                message: String::new(),
            })
            .code()
        };
        assert_eq!(refused(ErrorCode::NotFound), exit_code::NOT_REGISTERED);
        assert_eq!(refused(ErrorCode::Suspended), exit_code::SUSPENDED);
        assert_eq!(
            refused(ErrorCode::AlreadyStopped),
            exit_code::ALREADY_STOPPED
        );
        assert_eq!(
            Error::Registry(RegistryError::NoSuchSerial("x".into())).code(),
            exit_code::NOT_REGISTERED
        );
        assert_eq!(
            Error::Start(ServiceError::StartupFailed {
                message: String::new(),
                code: Some(4)
            })
            .code(),
            4
        );
    }
}
