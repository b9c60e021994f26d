//! Another server of the HA cluster as a command's target (`-h HOST`): the request goes
//! through etcd instead of the local socket. The channel itself lives in `clp-cluster`
//! (which talks to etcd); this is what the client library needs of it.

use crate::exit_code;
use crate::ipc::{ErrorCode, Request, Response};

/// A way to carry one request to another server and bring its answer back.
pub trait Remote {
    /// The server the requests go to, as configured.
    fn server(&self) -> &str;

    /// Carries `request` of the command `caller` to the server and returns its answer (an
    /// error answer of the server comes back as [`RemoteError::Refused`]), waiting at most
    /// `wait` (None: while the server is in the cluster).
    fn ask(
        &self,
        caller: &str,
        request: &Request,
        wait: Option<std::time::Duration>,
    ) -> Result<Response, RemoteError>;
}

/// Why a request to another server got no answer, or was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteError {
    /// `-h` names no server of the cluster.
    #[error("server {name} is not a server of this cluster; the servers are {}", known.join(", "))]
    UnknownServer {
        /// The name given.
        name: String,
        /// The configured servers.
        known: Vec<String>,
    },
    /// The server's clppm is not in the cluster.
    #[error("server {server} is not running (Offline in the cluster)")]
    Offline {
        /// The server.
        server: String,
    },
    /// The server left the cluster before it answered.
    #[error(
        "server {server} left the cluster (Offline) before it answered; see its log, log/clppm.log, and 'clpstat'"
    )]
    LeftBeforeAnswer {
        /// The server.
        server: String,
    },
    /// What was asked cannot be done on another server from here.
    #[error("{0}")]
    NotForwarded(String),
    /// etcd could not be reached, or refused the request.
    #[error("{0}")]
    Etcd(String),
    /// The server did not answer in time.
    #[error(
        "server {server} did not answer within {}; see its log, log/clppm.log",
        crate::duration_text::seconds(std::time::Duration::from_secs(*seconds))
    )]
    Timeout {
        /// The server.
        server: String,
        /// How long we waited.
        seconds: u64,
    },
    /// The answer could not be read.
    #[error("server {server} answered in a form this command does not understand ({message})")]
    Protocol {
        /// The server.
        server: String,
        /// What is wrong with it.
        message: String,
    },
    /// The server refused or failed the request.
    #[error("server {server}: {message}")]
    Refused {
        /// The server.
        server: String,
        /// What kind of failure.
        code: ErrorCode,
        /// The server's message.
        message: String,
    },
}

impl RemoteError {
    /// The original's return value for this failure.
    pub fn code(&self) -> u8 {
        match self {
            RemoteError::UnknownServer { .. } | RemoteError::NotForwarded(_) => {
                exit_code::BAD_OPTION
            }
            RemoteError::Offline { .. } | RemoteError::LeftBeforeAnswer { .. } => {
                exit_code::NOT_RUNNING
            }
            RemoteError::Etcd(_) | RemoteError::Protocol { .. } => exit_code::OTHER,
            RemoteError::Timeout { .. } => exit_code::TIMEOUT,
            RemoteError::Refused { code, .. } => super::error::refusal_code(*code),
        }
    }
}

impl exit_code::Coded for RemoteError {
    fn code(&self) -> u8 {
        RemoteError::code(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_messages_name_the_server_and_what_to_do() {
        let unknown = RemoteError::UnknownServer {
            name: "node9".into(),
            known: vec!["node1".into(), "node2".into()],
        };
        assert_eq!(
            unknown.to_string(),
            "server node9 is not a server of this cluster; the servers are node1, node2"
        );
        assert_eq!(unknown.code(), exit_code::BAD_OPTION);
        let offline = RemoteError::Offline {
            server: "node2".into(),
        };
        assert_eq!(
            offline.to_string(),
            "server node2 is not running (Offline in the cluster)"
        );
        assert_eq!(offline.code(), exit_code::NOT_RUNNING);
        let refused = RemoteError::Refused {
            server: "node2".into(),
            code: ErrorCode::AlreadyStarted,
            message: "group web is already started".into(),
        };
        assert_eq!(refused.code(), exit_code::ALREADY_RUNNING);
    }
}
