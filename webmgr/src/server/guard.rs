//! The guard in front of every route: the allow-list, the passwords, the cross-site check,
//! the refusal pages, and the security headers of every response.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::html::html_escape;
use super::{App, Shared};
use crate::access::{self, Need, RequestOrigin};

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Nothing secret (the stylesheet and the script, which the password pages use): the
    /// allow-list only.
    Open,
    /// Looking: the reference or the operation password when one is set.
    Read,
    /// Changing something, or taking data out (the log tarball): the operation password,
    /// a host name of `[webmanager] hosts`, and the cross-site check.
    Operate,
}

fn wants_json(path: &str, headers: &HeaderMap) -> bool {
    path.starts_with("/api/")
        || path == "/metrics"
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("application/json"))
}

/// The guard of one route: `access` is the route's, from [`super::routes::ROUTES`].
pub(super) async fn guard(
    State((app, access)): State<(Shared, Access)>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    let json = wants_json(&path, request.headers());
    let own_page = request
        .headers()
        .get("x-requested-with")
        .is_some_and(|value| value == PAGE_MARK);
    let Some(peer) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0)
    else {
        return denied(
            &app,
            json,
            own_page,
            access::Denial::Forbidden("unknown client address".into()),
        );
    };
    let need = match access {
        Access::Open | Access::Read => Need::Read,
        Access::Operate => Need::Operate,
    };
    let password = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(access::basic_password);
    let client = access::canonical(peer.ip());
    // A client off the allow-list is refused before anything costs: no hashing for it.
    if !access::allowed(client, &app.config.webmanager.allow) {
        let denial = access::authorize(
            client,
            &app.config.webmanager.allow,
            access::PasswordsSet::default(),
            access::Matched::Nothing,
            need,
        )
        .err()
        .unwrap_or_else(|| access::Denial::Forbidden("not on the allow-list".into()));
        tracing::info!(
            "{} {path} from {client}: {}",
            request.method(),
            denial.message()
        );
        return denied(&app, json, own_page, denial);
    }
    let (set, matched) = match password {
        // The stylesheet and the script hold nothing secret: the password pages use them.
        _ if access == Access::Open => (access::PasswordsSet::default(), access::Matched::Nothing),
        password => match app.passwords.known(password.as_deref()) {
            Some(answer) => answer,
            None => match verify(&app, client, password.unwrap_or_default()).await {
                Ok(answer) => answer,
                Err(denial) => {
                    // Debug only: a flood would otherwise fill the log as fast as it comes.
                    tracing::debug!(
                        "{} {path} from {client}: {}",
                        request.method(),
                        denial.message()
                    );
                    return denied(&app, json, own_page, denial);
                }
            },
        },
    };
    let decision = access::authorize(peer.ip(), &app.config.webmanager.allow, set, matched, need)
        .and_then(|role| {
            if access == Access::Operate {
                let headers = request.headers();
                let host = request
                    .uri()
                    .authority()
                    .map(|authority| authority.as_str())
                    .or_else(|| headers.get(header::HOST).and_then(|v| v.to_str().ok()));
                access::host_accepted(host, &app.config.webmanager.hosts)?;
            }
            if access == Access::Operate
                && request.method() != Method::GET
                && request.method() != Method::HEAD
            {
                let headers = request.headers();
                let text =
                    |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
                access::same_site(&RequestOrigin {
                    content_type: text(header::CONTENT_TYPE),
                    requested_with: headers
                        .get("x-requested-with")
                        .and_then(|v| v.to_str().ok()),
                    origin: text(header::ORIGIN),
                    fetch_site: headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()),
                    host: text(header::HOST),
                })?;
            }
            Ok(role)
        });
    match decision {
        Ok(role) => {
            request.extensions_mut().insert(role);
            request.extensions_mut().insert(Client(peer));
            next.run(request).await
        }
        Err(denial) => {
            tracing::info!(
                "{} {path} from {}: {}",
                request.method(),
                peer.ip(),
                denial.message()
            );
            denied(&app, json, own_page, denial)
        }
    }
}

/// Hashes a password not verified before: on the pool, within the client's failure budget.
async fn verify(
    app: &App,
    client: std::net::IpAddr,
    password: String,
) -> Result<(access::PasswordsSet, access::Matched), access::Denial> {
    if let Err(wait) = app.budget.admit(client, Instant::now()) {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        return Err(access::Denial::TooManyFailures(
            format!("too many wrong passwords from {client}; try again in {seconds} seconds"),
            seconds,
        ));
    }
    let (set, matched) = app.verifier.check(password).await.map_err(|_| {
        access::Denial::Busy(
            "too many password checks at once; try again in a moment".into(),
            1,
        )
    })?;
    if matched == access::Matched::Nothing {
        app.budget.failed(client, Instant::now());
    } else {
        app.budget.succeeded(client);
    }
    Ok((set, matched))
}

/// The client's address, put in the request by the guard.
#[derive(Debug, Clone, Copy)]
pub(super) struct Client(pub(super) SocketAddr);

/// The `X-Requested-With` value of the pages' own requests. Their 401 comes without the
/// Basic challenge, so the browser leaves the asking to the page's password box instead of
/// showing its own dialog as well.
pub const PAGE_MARK: &str = "clpwebmgr";

fn denied(app: &App, json: bool, own_page: bool, denial: access::Denial) -> Response {
    let status = StatusCode::from_u16(denial.status()).unwrap_or(StatusCode::FORBIDDEN);
    let denial_retry = denial.retry_after();
    let mut response = if json {
        (status, axum::Json(json!({ "error": denial.message() }))).into_response()
    } else {
        let title = match denial {
            access::Denial::Unauthorized(_) => app.language.text("unauthorized"),
            access::Denial::Forbidden(_) => app.language.text("forbidden"),
            access::Denial::TooManyFailures(..) | access::Denial::Busy(..) => {
                status.canonical_reason().unwrap_or_default()
            }
        };
        let page = format!(
            "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{} - {}</title><link rel=\"stylesheet\" href=\"/assets/style.css\"></head><body><main class=\"refused\"><h1>{} {}</h1><p id=\"refusal\">{}</p></main></body></html>",
            app.language.code(),
            status.as_u16(),
            html_escape(title),
            status.as_u16(),
            html_escape(title),
            html_escape(denial.message()),
        );
        (status, axum::response::Html(page)).into_response()
    };
    if let Some(seconds) = denial_retry
        && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    if status == StatusCode::UNAUTHORIZED && !own_page {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"clp WebManager\", charset=\"UTF-8\""),
        );
    }
    response
}

pub(super) async fn security_headers(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'none'",
        ),
    );
    if api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
