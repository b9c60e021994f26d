//! The WebManager's side of the control socket: one greeted connection per request, made
//! off the async workers (the client is synchronous), and the status built from the
//! configuration when clppm does not answer.
//!
//! The WebManager never opens the store itself, not even while clppm is down: a store held
//! open for a moment would make a `clpcl -s` fail at exactly that moment.

use std::net::IpAddr;
use std::time::Duration;

use crate::model::{ClusterView, health};
use clp_core::config::{self, Config};
use clp_core::ipc::client::{self, ClientError};
use clp_core::ipc::{ErrorCode, Request, Response};
use clp_core::paths::Paths;
use clp_core::status::ClusterStatus;

/// How long a read request may wait for clppm.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The name the WebManager gives clppm for an operation from `client`: the alert log
/// says who asked (`There was a request to stop zabi from the WebManager(IP=10.0.0.5).`).
pub fn client_name(client: IpAddr) -> String {
    format!("WebManager(IP={})", super::access::canonical(client))
}

/// Sends one request to clppm and waits for the answer (`timeout` None: as long as it takes).
pub async fn call(
    paths: &Paths,
    client: String,
    request: Request,
    timeout: Option<Duration>,
) -> Result<Response, ClientError> {
    let socket = paths.socket();
    tokio::task::spawn_blocking(move || client::call(&socket, &client, &request, timeout))
        .await
        .unwrap_or_else(|error| {
            Err(ClientError::Io {
                socket: paths.socket(),
                source: std::io::Error::other(error.to_string()),
            })
        })
}

/// The configuration file as it is now (the default one when it is missing; when it is
/// invalid, the default one too: the pages still answer and the error is logged).
pub fn load_config(paths: &Paths) -> Config {
    match config::load(paths) {
        Ok(config) => config,
        Err(error) => {
            tracing::warn!("{error}");
            Config::default_for(paths)
        }
    }
}

/// The status from clppm, or, when it does not answer, the configuration's objects all
/// Offline with the reason.
pub async fn status(paths: &Paths) -> (ClusterStatus, Option<String>) {
    match call(
        paths,
        "WebManager".into(),
        Request::STATUS,
        Some(READ_TIMEOUT),
    )
    .await
    {
        Ok(Response::Status(status)) => (status, None),
        Ok(other) => (
            offline(paths),
            Some(format!("clppm answered {other:?} to a status request")),
        ),
        Err(error) => (offline(paths), Some(error.to_string())),
    }
}

/// Everything Offline, from the configuration.
pub fn offline(paths: &Paths) -> ClusterStatus {
    clp_core::status::offline_status(&load_config(paths), None)
}

/// The HTTP status code for a failure to talk to clppm or a refusal by it.
pub fn http_status(error: &ClientError) -> u16 {
    match error {
        ClientError::NotRunning { .. } => 503,
        ClientError::Timeout { .. } => 504,
        ClientError::Refused { code, .. } => match code {
            ErrorCode::NotFound => 404,
            ErrorCode::Suspended
            | ErrorCode::Stopping
            | ErrorCode::AlreadyStarted
            | ErrorCode::AlreadyStopped => 409,
            ErrorCode::Protocol | ErrorCode::PermissionDenied | ErrorCode::Failed => 500,
        },
        ClientError::PermissionDenied { .. }
        | ClientError::Io { .. }
        | ClientError::Protocol { .. } => 500,
    }
}

/// The status as `GET /api/v1/cluster` answers it.
pub async fn cluster_view(paths: &Paths, language: &str) -> ClusterView {
    let (status, daemon_message) = status(paths).await;
    ClusterView {
        health: health(&status),
        status,
        daemon_message,
        language: language.to_string(),
    }
}
