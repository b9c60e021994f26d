//! The HTTP side: the routes, the access guard in front of them, and the handlers.
//!
//! Every page and operation has a JSON API behind it (the README's "WebManager" section
//! lists them). Handlers ask clppm over the control socket; when it does not answer they
//! still answer: the status from the configuration with the reason, and a clear error for
//! an operation (503 for "clppm is not running").

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::budget::FailureBudget;
use super::follower::Follower;
use super::i18n::Language;
use super::link;
use super::logjobs::LogJobs;
use super::passwords::Passwords;
use super::verifier::{self, Verifier};
use clp_core::config::Config;
use clp_core::ipc::client::ClientError;
use clp_core::paths::Paths;

mod api;
mod guard;
mod html;
mod pages;
mod routes;
#[cfg(test)]
mod tests;

pub use guard::Access;
pub use guard::PAGE_MARK;
pub use html::html_escape;
pub use routes::{ROUTES, Route};

/// What every handler shares.
#[derive(Debug)]
pub struct App {
    /// The install root.
    pub paths: Paths,
    /// The configuration read at start (`[webmanager]`, the language).
    pub config: Config,
    /// The pages' language.
    pub language: Language,
    /// The two passwords.
    pub passwords: Arc<Passwords>,
    /// Where passwords not verified before are hashed (a small fixed pool).
    pub verifier: Verifier,
    /// Each client's wrong passwords.
    pub budget: FailureBudget,
    /// The live views' source.
    pub follower: Arc<Follower>,
    /// Log collections.
    pub jobs: LogJobs,
}

impl App {
    /// The state of a WebManager on `paths` with `config`.
    pub fn new(paths: Paths, config: Config) -> Arc<App> {
        let language = Language::from_code(&config.cluster.language);
        let max_records = usize::try_from(config.alert.max_records).unwrap_or(usize::MAX);
        let passwords = Arc::new(Passwords::new(paths.webmgr_passwords()));
        Arc::new(App {
            verifier: Verifier::new(Arc::clone(&passwords), verifier::WORKERS, verifier::QUEUE),
            budget: FailureBudget::new(),
            passwords,
            follower: Follower::new(paths.clone(), max_records, language.code().to_string()),
            jobs: LogJobs::new(paths.clone()),
            language,
            config,
            paths,
        })
    }
}

type Shared = Arc<App>;

/// Every route of [`ROUTES`], each behind the guard of its own access, and the security
/// headers on every answer.
pub fn router(app: Shared) -> Router {
    routes::build(&app)
        .fallback(not_found)
        .layer(middleware::from_fn(guard::security_headers))
        .with_state(app)
}

/// An API error: a status and `{"error": message}`.
#[derive(Debug)]
struct ApiError(StatusCode, String);

impl ApiError {
    fn not_found(what: &str, name: &str) -> ApiError {
        ApiError(
            StatusCode::NOT_FOUND,
            format!("{what} \"{name}\" is not in the configuration"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, axum::Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<ClientError> for ApiError {
    fn from(error: ClientError) -> Self {
        let status = StatusCode::from_u16(link::http_status(&error))
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ApiError(status, error.to_string())
    }
}

type ApiResult<T> = Result<T, ApiError>;

async fn not_found() -> ApiError {
    ApiError(StatusCode::NOT_FOUND, "no such page".into())
}
