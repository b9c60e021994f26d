//! The HTTP side: the routes, the access guard in front of them, and the handlers.
//!
//! Every page and operation has a JSON API behind it (the README's "WebManager" section
//! lists them). Handlers ask clppm over the control socket; when it does not answer they
//! still answer: the status from the configuration with the reason, and a clear error for
//! an operation (503 for "clppm is not running").

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::stream::{self, Stream, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::access::{self, Need, RequestOrigin, Role};
use super::follower::{Feed, Follower, SNAPSHOT};
use super::i18n::Language;
use super::link;
use super::logjobs::{LogJobs, StartError};
use super::model::{self, ClusterView, GroupDetail, MonitorDetail, ResourceDetail, ServerDetail};
use super::passwords::Passwords;
use super::viewer::{self, ViewerRow};
use crate::config::Config;
use crate::ipc::client::ClientError;
use crate::ipc::{AfterStop, Request as DaemonRequest, Response as DaemonResponse};
use crate::logcollect::CollectType;
use crate::paths::Paths;
use crate::service::{self, ServiceError};

/// The realm of the Basic challenge.
pub const REALM: &str = "clp WebManager";
/// How long `POST /api/v1/cluster/start` waits for clppm to answer.
const START_WAIT: Duration = Duration::from_secs(60);
/// How long `POST /api/v1/cluster/stop` waits for clppm to be gone.
const STOP_WAIT: Duration = Duration::from_secs(300);

const INDEX_HTML: &str = include_str!("assets/index.html");
const CLUSTERLIST_HTML: &str = include_str!("assets/clusterlist.html");
const APP_JS: &str = include_str!("assets/app.js");
const STYLE_CSS: &str = include_str!("assets/style.css");

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
    pub passwords: Passwords,
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
        Arc::new(App {
            passwords: Passwords::new(paths.webmgr_passwords()),
            follower: Follower::new(paths.clone(), max_records, language.code().to_string()),
            jobs: LogJobs::new(paths.clone()),
            language,
            config,
            paths,
        })
    }
}

type Shared = Arc<App>;

/// Every route behind the access guard.
pub fn router(app: Shared) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/clusterlist", get(clusterlist_page))
        .route("/clusterlist.htm", get(clusterlist_page))
        .route("/assets/app.js", get(app_js))
        .route("/assets/style.css", get(style_css))
        .route("/metrics", get(metrics))
        .route("/api/v1/cluster", get(cluster))
        .route("/api/v1/cluster/{operation}", post(cluster_operation))
        .route("/api/v1/servers", get(servers))
        .route("/api/v1/servers/{name}", get(server_detail))
        .route("/api/v1/groups", get(groups))
        .route("/api/v1/groups/{name}", get(group_detail))
        .route("/api/v1/groups/{name}/{operation}", post(group_operation))
        .route("/api/v1/resources", get(resources))
        .route("/api/v1/resources/{name}", get(resource_detail))
        .route(
            "/api/v1/resources/{name}/{operation}",
            post(resource_operation),
        )
        .route("/api/v1/monitors", get(monitors))
        .route("/api/v1/monitors/{name}", get(monitor_detail))
        .route(
            "/api/v1/monitors/{name}/{operation}",
            post(monitor_operation),
        )
        .route("/api/v1/alerts", get(alerts))
        .route("/api/v1/alerts/stream", get(alert_stream))
        .route("/api/v1/events", get(event_stream))
        .route("/api/v1/logs/collect", post(collect_logs))
        .route("/api/v1/logs/jobs/{id}", get(log_job))
        .route("/api/v1/logs/{file}", get(download_log))
        .route("/api/v1/clusterlist", get(clusterlist_json))
        .route("/api/v1/whoami", get(whoami))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(Arc::clone(&app), guard))
        .layer(middleware::from_fn(security_headers))
        .with_state(app)
}

/// What a request needs: operations change something; downloading the log tarball is an
/// operation too (it holds the configuration).
pub fn need_of(method: &Method, path: &str) -> Need {
    let download = path.starts_with("/api/v1/logs/") && path.ends_with(".tar.gz");
    if *method == Method::GET || *method == Method::HEAD {
        if download { Need::Operate } else { Need::Read }
    } else {
        Need::Operate
    }
}

fn wants_json(path: &str, headers: &HeaderMap) -> bool {
    path.starts_with("/api/")
        || path == "/metrics"
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("application/json"))
}

async fn guard(State(app): State<Shared>, mut request: Request, next: Next) -> Response {
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
    let need = need_of(request.method(), &path);
    let password = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(access::basic_password);
    let (set, matched) = match password {
        // The stylesheet and the script hold nothing secret: the password pages use them.
        _ if path.starts_with("/assets/") => {
            (access::PasswordsSet::default(), access::Matched::Nothing)
        }
        None => app.passwords.check(None),
        Some(password) => {
            let checker = Arc::clone(&app);
            tokio::task::spawn_blocking(move || checker.passwords.check(Some(&password)))
                .await
                .unwrap_or((
                    access::PasswordsSet {
                        operation: true,
                        reference: true,
                    },
                    access::Matched::Nothing,
                ))
        }
    };
    let decision = access::authorize(peer.ip(), &app.config.webmanager.allow, set, matched, need)
        .and_then(|role| {
            if request.method() == Method::POST {
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

/// The client's address, put in the request by the guard.
#[derive(Debug, Clone, Copy)]
struct Client(SocketAddr);

/// The `X-Requested-With` value of the pages' own requests. Their 401 comes without the
/// Basic challenge, so the browser leaves the asking to the page's password box instead of
/// showing its own dialog as well.
pub const PAGE_MARK: &str = "clpwebmgr";

fn denied(app: &App, json: bool, own_page: bool, denial: access::Denial) -> Response {
    let status = StatusCode::from_u16(denial.status()).unwrap_or(StatusCode::FORBIDDEN);
    let mut response = if json {
        (status, axum::Json(json!({ "error": denial.message() }))).into_response()
    } else {
        let title = match denial {
            access::Denial::Unauthorized(_) => app.language.text("unauthorized"),
            access::Denial::Forbidden(_) => app.language.text("forbidden"),
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
    if status == StatusCode::UNAUTHORIZED && !own_page {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"clp WebManager\", charset=\"UTF-8\""),
        );
    }
    response
}

async fn security_headers(request: Request, next: Next) -> Response {
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

/// Escapes text for HTML.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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

/// The status as `GET /api/v1/cluster` answers it.
pub async fn cluster_view(paths: &Paths, language: &str) -> ClusterView {
    let (status, daemon_message) = link::status(paths).await;
    ClusterView {
        health: model::health(&status),
        status,
        daemon_message,
        language: language.to_string(),
    }
}

fn page(app: &App, template: &str, extra: &[(&str, String)]) -> Response {
    let texts = serde_json::to_string(&app.language.table())
        .unwrap_or_else(|_| "{}".into())
        .replace("</", "<\\/");
    let mut html = template
        .replace("{{lang}}", app.language.code())
        .replace("{{title}}", &html_escape(app.language.text("title")))
        .replace("{{texts}}", &texts);
    for (key, value) in extra {
        html = html.replace(&format!("{{{{{key}}}}}"), value);
    }
    axum::response::Html(html).into_response()
}

async fn index(State(app): State<Shared>) -> Response {
    page(&app, INDEX_HTML, &[])
}

async fn app_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        APP_JS,
    )
        .into_response()
}

async fn style_css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        STYLE_CSS,
    )
        .into_response()
}

async fn whoami(axum::Extension(role): axum::Extension<Role>) -> axum::Json<serde_json::Value> {
    axum::Json(json!({ "role": role }))
}

async fn cluster(State(app): State<Shared>) -> axum::Json<ClusterView> {
    axum::Json(cluster_view(&app.paths, app.language.code()).await)
}

async fn servers(State(app): State<Shared>) -> axum::Json<Vec<ServerDetail>> {
    let (status, _) = link::status(&app.paths).await;
    let config = link::load_config(&app.paths);
    axum::Json(vec![ServerDetail {
        status: status.server,
        daemon: status.daemon,
        pid: status.pid,
        parameters: model::server_parameters(&config),
    }])
}

async fn server_detail(
    State(app): State<Shared>,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<ServerDetail>> {
    let axum::Json(mut list) = servers(State(app)).await;
    match list.pop() {
        Some(server) if server.status.name == name => Ok(axum::Json(server)),
        _ => Err(ApiError::not_found("server", &name)),
    }
}

async fn groups(State(app): State<Shared>) -> axum::Json<Vec<GroupDetail>> {
    let (status, _) = link::status(&app.paths).await;
    let config = link::load_config(&app.paths);
    axum::Json(
        status
            .groups
            .into_iter()
            .map(|group| GroupDetail {
                parameters: config
                    .group(&group.name)
                    .map(model::group_parameters)
                    .unwrap_or_default(),
                status: group,
            })
            .collect(),
    )
}

async fn group_detail(
    State(app): State<Shared>,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<GroupDetail>> {
    let axum::Json(list) = groups(State(app)).await;
    list.into_iter()
        .find(|group| group.status.name == name)
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found("group", &name))
}

async fn resources(State(app): State<Shared>) -> axum::Json<Vec<ResourceDetail>> {
    let (status, _) = link::status(&app.paths).await;
    let config = link::load_config(&app.paths);
    axum::Json(
        model::resources(&status)
            .into_iter()
            .map(|(group, resource)| ResourceDetail {
                parameters: config
                    .resource(&resource.name)
                    .map(model::resource_parameters)
                    .unwrap_or_default(),
                group,
                status: resource,
            })
            .collect(),
    )
}

async fn resource_detail(
    State(app): State<Shared>,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<ResourceDetail>> {
    let axum::Json(list) = resources(State(app)).await;
    list.into_iter()
        .find(|resource| resource.status.name == name)
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found("resource", &name))
}

async fn monitors(State(app): State<Shared>) -> axum::Json<Vec<MonitorDetail>> {
    let (status, _) = link::status(&app.paths).await;
    let config = link::load_config(&app.paths);
    axum::Json(
        status
            .monitors
            .into_iter()
            .map(|monitor| MonitorDetail {
                parameters: config
                    .monitor(&monitor.name)
                    .map(model::monitor_parameters)
                    .unwrap_or_default(),
                status: monitor,
            })
            .collect(),
    )
}

async fn monitor_detail(
    State(app): State<Shared>,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<MonitorDetail>> {
    let axum::Json(list) = monitors(State(app)).await;
    list.into_iter()
        .find(|monitor| monitor.status.name == name)
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found("monitor", &name))
}

fn succeeded() -> axum::Json<serde_json::Value> {
    axum::Json(json!({ "result": "Command succeeded." }))
}

async fn operate(
    app: &App,
    client: SocketAddr,
    request: DaemonRequest,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let name = link::client_name(client.ip());
    tracing::info!("{name}: {request:?}");
    match link::call(&app.paths, name, request, None).await? {
        DaemonResponse::Done => Ok(succeeded()),
        other => Err(ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("clppm answered {other:?} where it should have confirmed"),
        )),
    }
}

fn unknown_operation(operation: &str, known: &str) -> ApiError {
    ApiError(
        StatusCode::NOT_FOUND,
        format!("no operation \"{operation}\" here; use one of {known}"),
    )
}

async fn cluster_operation(
    State(app): State<Shared>,
    axum::Extension(Client(client)): axum::Extension<Client>,
    Path(operation): Path<String>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let paths = app.paths.clone();
    match operation.as_str() {
        "start" => {
            let name = link::client_name(client.ip());
            let pid = tokio::task::spawn_blocking(move || {
                service::start_detached(&paths, &service::clppm_beside_me(), &name, START_WAIT)
            })
            .await
            .map_err(|error| ApiError(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()))?
            .map_err(service_error)?;
            tracing::info!(
                "{}: started clppm (pid {pid})",
                link::client_name(client.ip())
            );
            reap(pid);
            Ok(succeeded())
        }
        "stop" => {
            let name = link::client_name(client.ip());
            tracing::info!("{name}: stop the cluster");
            tokio::task::spawn_blocking(move || {
                service::stop_and_wait(&paths, &name, AfterStop::Nothing, STOP_WAIT)
            })
            .await
            .map_err(|error| ApiError(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()))?
            .map_err(service_error)?;
            Ok(succeeded())
        }
        "suspend" => operate(&app, client, DaemonRequest::Suspend).await,
        "resume" => operate(&app, client, DaemonRequest::Resume).await,
        other => Err(unknown_operation(other, "start, stop, suspend, resume")),
    }
}

fn service_error(error: ServiceError) -> ApiError {
    let status = match &error {
        ServiceError::AlreadyRunning { .. } => StatusCode::CONFLICT,
        ServiceError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
        ServiceError::Client(client) => StatusCode::from_u16(link::http_status(client))
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        ServiceError::Spawn { .. } | ServiceError::StartupFailed { .. } => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    ApiError(status, error.to_string())
}

/// clppm started from here is our child until it exits: collect its exit status then, so
/// no zombie is left behind.
fn reap(pid: u32) {
    let Ok(pid) = i32::try_from(pid) else {
        return;
    };
    std::thread::spawn(move || {
        let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
    });
}

async fn group_operation(
    State(app): State<Shared>,
    axum::Extension(Client(client)): axum::Extension<Client>,
    Path((name, operation)): Path<(String, String)>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let request = match operation.as_str() {
        "start" => DaemonRequest::StartGroup { group: Some(name) },
        "stop" => DaemonRequest::StopGroup { group: Some(name) },
        other => return Err(unknown_operation(other, "start, stop")),
    };
    operate(&app, client, request).await
}

async fn resource_operation(
    State(app): State<Shared>,
    axum::Extension(Client(client)): axum::Extension<Client>,
    Path((name, operation)): Path<(String, String)>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let request = match operation.as_str() {
        "start" => DaemonRequest::StartResource { resource: name },
        "stop" => DaemonRequest::StopResource { resource: name },
        other => return Err(unknown_operation(other, "start, stop")),
    };
    operate(&app, client, request).await
}

async fn monitor_operation(
    State(app): State<Shared>,
    axum::Extension(Client(client)): axum::Extension<Client>,
    Path((name, operation)): Path<(String, String)>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let request = match operation.as_str() {
        "suspend" => DaemonRequest::SuspendMonitors {
            monitors: vec![name],
        },
        "resume" => DaemonRequest::ResumeMonitors {
            monitors: vec![name],
        },
        other => return Err(unknown_operation(other, "suspend, resume")),
    };
    operate(&app, client, request).await
}

#[derive(Debug, Deserialize)]
struct AlertQuery {
    limit: Option<usize>,
}

async fn alerts(
    State(app): State<Shared>,
    Query(query): Query<AlertQuery>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let limit = query.limit.unwrap_or(100).clamp(1, 10_000);
    match link::call(
        &app.paths,
        "WebManager".into(),
        DaemonRequest::Alerts { limit },
        Some(link::READ_TIMEOUT),
    )
    .await
    {
        Ok(DaemonResponse::Alerts { events }) => {
            Ok(axum::Json(json!({ "alerts": events, "source": "clppm" })))
        }
        Ok(other) => Err(ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("clppm answered {other:?} to an alert request"),
        )),
        Err(ClientError::NotRunning { .. }) => {
            let events = crate::alert::read_text_log(&app.paths.alert_log(), limit);
            Ok(axum::Json(
                json!({ "alerts": events, "source": "alert.log" }),
            ))
        }
        Err(error) => Err(error.into()),
    }
}

fn snapshot_event(events: &[crate::alert::AlertEvent]) -> Event {
    Event::default()
        .event("snapshot")
        .json_data(events)
        .unwrap_or_else(|_| Event::default().event("snapshot").data("[]"))
}

fn feed_stream(app: Shared, with_status: bool) -> impl Stream<Item = Result<Event, Infallible>> {
    let subscription = app.follower.subscribe();
    let mut first = vec![snapshot_event(&subscription.recent)];
    if with_status && let Some(status) = &subscription.status {
        first.push(Event::default().event("status").data(status.as_str()));
    }
    let follow = stream::unfold(
        (subscription.feed, app),
        move |(mut feed, app)| async move {
            loop {
                let event = match feed.recv().await {
                    Ok(Feed::Alert(alert)) => Event::default()
                        .event("alert")
                        .json_data(alert.as_ref())
                        .unwrap_or_else(|_| Event::default().comment("unreadable alert")),
                    Ok(Feed::Status(json)) if with_status => {
                        Event::default().event("status").data(json.as_str())
                    }
                    Ok(Feed::Status(_)) => continue,
                    Ok(Feed::Reset) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        snapshot_event(&app.follower.recent(SNAPSHOT))
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                };
                return Some((Ok(event), (feed, app)));
            }
        },
    );
    stream::iter(first.into_iter().map(Ok)).chain(follow)
}

async fn alert_stream(
    State(app): State<Shared>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    Sse::new(feed_stream(app, false)).keep_alive(KeepAlive::default())
}

async fn event_stream(
    State(app): State<Shared>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    Sse::new(feed_stream(app, true)).keep_alive(KeepAlive::default())
}

async fn metrics(State(app): State<Shared>) -> Response {
    app.follower.catch_up().await;
    let (status, daemon_message) = link::status(&app.paths).await;
    let text = super::metrics::render(&status, daemon_message.is_none(), &app.follower.counts());
    ([(header::CONTENT_TYPE, super::metrics::CONTENT_TYPE)], text).into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CollectRequest {
    #[serde(rename = "type")]
    kind: Option<String>,
}

async fn collect_logs(State(app): State<Shared>, body: Bytes) -> ApiResult<Response> {
    let request: CollectRequest = if body.iter().all(u8::is_ascii_whitespace) {
        CollectRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|error| {
            ApiError(
                StatusCode::BAD_REQUEST,
                format!("the body must be {{\"type\": \"type1\"}} or empty: {error}"),
            )
        })?
    };
    let kind_word = request.kind.unwrap_or_else(|| "type1".into());
    let kind = CollectType::parse(&kind_word).ok_or_else(|| {
        ApiError(
            StatusCode::BAD_REQUEST,
            format!("type \"{kind_word}\" is not type1, type2, type3 or proactdiag"),
        )
    })?;
    let (status, _) = link::status(&app.paths).await;
    let extra = vec![(
        "clp/status.json".to_string(),
        serde_json::to_vec_pretty(&status).unwrap_or_default(),
    )];
    match app.jobs.start(kind, &status.cluster, extra) {
        Ok(job) => Ok((StatusCode::ACCEPTED, axum::Json(job)).into_response()),
        Err(StartError::Busy(job)) => Ok((
            StatusCode::CONFLICT,
            axum::Json(json!({ "error": format!("a log collection is already running ({})", job.id), "job": job })),
        )
            .into_response()),
        Err(error) => Err(ApiError(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())),
    }
}

async fn log_job(State(app): State<Shared>, Path(id): Path<String>) -> ApiResult<Response> {
    app.jobs
        .job(&id)
        .map(|job| axum::Json(job).into_response())
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no log collection \"{id}\"")))
}

async fn download_log(State(app): State<Shared>, Path(file): Path<String>) -> ApiResult<Response> {
    let id = file.strip_suffix(".tar.gz").unwrap_or(&file);
    let Some((path, name)) = app.jobs.tarball(id) else {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no collected log \"{file}\"; collect one with POST /api/v1/logs/collect"),
        ));
    };
    let file = tokio::fs::File::open(&path).await.map_err(|error| {
        ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot open {}: {error}", path.display()),
        )
    })?;
    let length = file.metadata().await.map(|m| m.len()).ok();
    let chunks = stream::unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buffer = vec![0u8; 64 * 1024];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(read) => {
                buffer.truncate(read);
                Some((Ok::<_, std::io::Error>(Bytes::from(buffer)), file))
            }
            Err(error) => Some((Err(error), file)),
        }
    });
    let mut response = Response::new(Body::from_stream(chunks));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/gzip"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    if let Some(length) = length {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    Ok(response)
}

/// This server's row and every configured server's.
async fn survey(app: &App) -> Vec<ViewerRow> {
    let own = cluster_view(&app.paths, app.language.code()).await;
    let mut rows = vec![ViewerRow::answered(app.language.text("this_server"), &own)];
    rows.extend(
        viewer::survey(
            &app.config.webmanager.servers,
            app.config.webmanager.viewer_timeout,
        )
        .await,
    );
    rows
}

#[derive(Debug, Serialize)]
struct ClusterList {
    servers: Vec<ViewerRow>,
}

async fn clusterlist_json(State(app): State<Shared>) -> axum::Json<ClusterList> {
    axum::Json(ClusterList {
        servers: survey(&app).await,
    })
}

async fn clusterlist_page(State(app): State<Shared>) -> Response {
    let rows = survey(&app).await;
    let language = app.language;
    let mut table = String::new();
    for row in &rows {
        let link = if row.url.starts_with("http") {
            format!("<a href=\"{0}\">{0}</a>", html_escape(&row.url))
        } else {
            html_escape(&row.url)
        };
        let word = match row.health {
            Some(health) => language.text(match health {
                model::Health::Normal => "normal",
                model::Health::Caution => "caution",
                model::Health::Error => "error",
            }),
            None => language.text("unreachable"),
        };
        table.push_str(&format!(
            "<tr class=\"server {colour}\" data-colour=\"{colour}\"><td><span class=\"lamp {colour}\"></span>{word}</td><td>{cluster}</td><td>{link}</td><td>{detail}</td></tr>\n",
            colour = html_escape(&row.colour),
            word = html_escape(word),
            cluster = html_escape(row.cluster.as_deref().unwrap_or("-")),
            detail = html_escape(&row.detail),
        ));
    }
    if app.config.webmanager.servers.is_empty() {
        table.push_str(&format!(
            "<tr><td colspan=\"4\" class=\"empty\">{}</td></tr>",
            html_escape(language.text("no_servers"))
        ));
    }
    page(&app, CLUSTERLIST_HTML, &[("rows", table)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request as HttpRequest;
    use tower::ServiceExt;

    struct Fixture {
        _root: tempfile::TempDir,
        paths: Paths,
        app: Shared,
    }

    fn fixture(extra: &str) -> Fixture {
        let root = tempfile::tempdir().unwrap();
        let paths = Paths::new(root.path());
        std::fs::create_dir_all(paths.etc_dir()).unwrap();
        let text = format!(
            "[cluster]\nname = \"zabi\"\n{extra}\n[[monitor]]\nname = \"userw\"\ntype = \"userw\"\n"
        );
        std::fs::write(paths.config_file(), &text).unwrap();
        let config = crate::config::load(&paths).unwrap();
        let app = App::new(paths.clone(), config);
        Fixture {
            _root: root,
            paths,
            app,
        }
    }

    struct Sent {
        status: StatusCode,
        headers: HeaderMap,
        body: String,
    }

    async fn send(
        fixture: &Fixture,
        from: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Sent {
        let mut request = HttpRequest::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "127.0.0.1:29003");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut request = request.body(Body::empty()).unwrap();
        let peer: SocketAddr = format!("{from}:50000").parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        let response = router(Arc::clone(&fixture.app))
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        Sent {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    const JSON: (&str, &str) = ("content-type", "application/json");
    const LOOPBACK: &str = "127.0.0.1";
    const REMOTE: &str = "192.168.100.9";

    #[tokio::test]
    async fn with_clppm_down_reads_answer_and_say_so() {
        let fixture = fixture("");
        let page = send(&fixture, REMOTE, "GET", "/", &[]).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("<html lang=\"en\">"), "{}", page.body);
        assert!(page.body.contains("\"alert_log\":\"Alert Log\""));
        assert_eq!(page.headers[header::X_FRAME_OPTIONS], "DENY");

        let cluster = send(&fixture, REMOTE, "GET", "/api/v1/cluster", &[]).await;
        assert_eq!(cluster.status, StatusCode::OK);
        let view: serde_json::Value = serde_json::from_str(&cluster.body).unwrap();
        assert_eq!(view["daemon"], "stopped");
        assert_eq!(view["health"], "error");
        assert!(
            view["daemon_message"]
                .as_str()
                .unwrap()
                .contains("clppm is not running"),
            "{view}"
        );
        assert_eq!(view["monitors"][0]["status"], "Offline");

        let monitor = send(&fixture, REMOTE, "GET", "/api/v1/monitors/userw", &[]).await;
        assert_eq!(monitor.status, StatusCode::OK);
        assert!(
            monitor.body.contains("\"key\":\"interval\""),
            "{}",
            monitor.body
        );
        let missing = send(&fixture, REMOTE, "GET", "/api/v1/groups/nosuch", &[]).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert!(
            missing
                .body
                .contains("group \\\"nosuch\\\" is not in the configuration")
        );

        let operation = send(&fixture, LOOPBACK, "POST", "/api/v1/groups/g/stop", &[JSON]).await;
        assert_eq!(operation.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            operation.body.contains("clppm is not running"),
            "{}",
            operation.body
        );

        let metrics = send(&fixture, REMOTE, "GET", "/metrics", &[]).await;
        assert_eq!(metrics.status, StatusCode::OK);
        assert!(metrics.body.contains("clp_daemon_up{cluster=\"zabi\"} 0"));
    }

    #[tokio::test]
    async fn the_alert_log_is_read_from_its_file_while_clppm_is_down() {
        let fixture = fixture("");
        let file = crate::alert::AlertFile::new(fixture.paths.alert_log(), 1 << 20);
        file.append(&crate::alert::AlertEvent::from_catalogue(
            "zabi",
            "pm",
            2,
            &[],
        ))
        .unwrap();
        let alerts = send(&fixture, REMOTE, "GET", "/api/v1/alerts?limit=5", &[]).await;
        assert_eq!(alerts.status, StatusCode::OK);
        let body: serde_json::Value = serde_json::from_str(&alerts.body).unwrap();
        assert_eq!(body["source"], "alert.log");
        assert_eq!(
            body["alerts"][0]["message"],
            "Shutting down the cluster daemon..."
        );
    }

    #[tokio::test]
    async fn operations_stay_on_the_machine_without_an_operation_password() {
        let fixture = fixture("");
        let remote = send(&fixture, REMOTE, "POST", "/api/v1/cluster/suspend", &[JSON]).await;
        assert_eq!(remote.status, StatusCode::FORBIDDEN);
        assert!(
            remote.body.contains("--set-password operation"),
            "{}",
            remote.body
        );
        let download = send(&fixture, REMOTE, "GET", "/api/v1/logs/0123.tar.gz", &[]).await;
        assert_eq!(download.status, StatusCode::FORBIDDEN);
        let local = send(&fixture, LOOPBACK, "GET", "/api/v1/logs/0123.tar.gz", &[]).await;
        assert_eq!(local.status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn cross_site_operations_are_refused() {
        let fixture = fixture("");
        let form = send(
            &fixture,
            LOOPBACK,
            "POST",
            "/api/v1/groups/g/stop",
            &[("content-type", "application/x-www-form-urlencoded")],
        )
        .await;
        assert_eq!(form.status, StatusCode::FORBIDDEN);
        assert!(
            form.body.contains("Content-Type: application/json"),
            "{}",
            form.body
        );
        let other_origin = send(
            &fixture,
            LOOPBACK,
            "POST",
            "/api/v1/groups/g/stop",
            &[JSON, ("origin", "http://evil.example")],
        )
        .await;
        assert_eq!(other_origin.status, StatusCode::FORBIDDEN);
        let other_site = send(
            &fixture,
            LOOPBACK,
            "POST",
            "/api/v1/groups/g/stop",
            &[
                ("x-requested-with", "clpwebmgr"),
                ("sec-fetch-site", "cross-site"),
            ],
        )
        .await;
        assert_eq!(other_site.status, StatusCode::FORBIDDEN);
        let ours = send(
            &fixture,
            LOOPBACK,
            "POST",
            "/api/v1/groups/g/stop",
            &[
                ("x-requested-with", "clpwebmgr"),
                ("origin", "http://127.0.0.1:29003"),
                ("sec-fetch-site", "same-origin"),
            ],
        )
        .await;
        assert_eq!(ours.status, StatusCode::SERVICE_UNAVAILABLE);
    }

    #[tokio::test]
    async fn the_allow_list_refuses_other_clients() {
        let fixture = fixture("[webmanager]\nallow = [\"10.0.0.0/8\"]\n");
        let refused = send(&fixture, LOOPBACK, "GET", "/", &[]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(
            refused
                .body
                .contains("127.0.0.1 is not on the WebManager&#39;s allow-list"),
            "{}",
            refused.body
        );
        let api = send(&fixture, LOOPBACK, "GET", "/api/v1/cluster", &[]).await;
        assert_eq!(api.status, StatusCode::FORBIDDEN);
        assert!(api.body.starts_with("{\"error\":"), "{}", api.body);
        let allowed = send(&fixture, "10.20.30.40", "GET", "/api/v1/cluster", &[]).await;
        assert_eq!(allowed.status, StatusCode::OK);
    }

    #[tokio::test]
    async fn passwords_decide_who_reads_and_who_operates() {
        use base64::Engine as _;
        let fixture = fixture("");
        let file = fixture.paths.webmgr_passwords();
        super::super::passwords::store(
            &file,
            super::super::passwords::PasswordKind::Operation,
            Some("op"),
        )
        .unwrap();
        super::super::passwords::store(
            &file,
            super::super::passwords::PasswordKind::Reference,
            Some("ref"),
        )
        .unwrap();
        let basic = |password: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("anyone:{password}"))
            )
        };
        let (op, reference, wrong) = (basic("op"), basic("ref"), basic("nope"));

        let anonymous = send(&fixture, REMOTE, "GET", "/", &[]).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        let stylesheet = send(&fixture, REMOTE, "GET", "/assets/style.css", &[]).await;
        assert_eq!(stylesheet.status, StatusCode::OK);
        assert_eq!(
            anonymous.headers[header::WWW_AUTHENTICATE],
            "Basic realm=\"clp WebManager\", charset=\"UTF-8\""
        );
        let page_request = send(
            &fixture,
            REMOTE,
            "GET",
            "/api/v1/cluster",
            &[("x-requested-with", "clpwebmgr")],
        )
        .await;
        assert_eq!(page_request.status, StatusCode::UNAUTHORIZED);
        assert!(page_request.headers.get(header::WWW_AUTHENTICATE).is_none());
        let wrong = send(&fixture, REMOTE, "GET", "/", &[("authorization", &wrong)]).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        let reader = send(
            &fixture,
            REMOTE,
            "GET",
            "/",
            &[("authorization", &reference)],
        )
        .await;
        assert_eq!(reader.status, StatusCode::OK);
        let whoami = send(
            &fixture,
            REMOTE,
            "GET",
            "/api/v1/whoami",
            &[("authorization", &reference)],
        )
        .await;
        assert_eq!(whoami.body, "{\"role\":\"reference\"}");

        let reader_operates = send(
            &fixture,
            LOOPBACK,
            "POST",
            "/api/v1/cluster/suspend",
            &[JSON, ("authorization", &reference)],
        )
        .await;
        assert_eq!(reader_operates.status, StatusCode::FORBIDDEN);
        assert!(
            reader_operates
                .body
                .contains("reference password allows no operation")
        );
        let anonymous_operates = send(
            &fixture,
            LOOPBACK,
            "POST",
            "/api/v1/cluster/suspend",
            &[JSON],
        )
        .await;
        assert_eq!(anonymous_operates.status, StatusCode::UNAUTHORIZED);
        let operator = send(
            &fixture,
            REMOTE,
            "POST",
            "/api/v1/cluster/suspend",
            &[JSON, ("authorization", &op)],
        )
        .await;
        assert_eq!(
            operator.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            operator.body
        );
    }

    #[tokio::test]
    async fn unknown_paths_and_operations_are_404() {
        let fixture = fixture("");
        assert_eq!(
            send(&fixture, LOOPBACK, "GET", "/nothing", &[])
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        let bad = send(
            &fixture,
            LOOPBACK,
            "POST",
            "/api/v1/groups/g/explode",
            &[JSON],
        )
        .await;
        assert_eq!(bad.status, StatusCode::NOT_FOUND);
        assert!(bad.body.contains("use one of start, stop"), "{}", bad.body);
    }

    #[tokio::test]
    async fn japanese_pages_carry_the_japanese_words() {
        let fixture = fixture("language = \"ja\"");
        let page = send(&fixture, LOOPBACK, "GET", "/", &[]).await;
        assert!(page.body.contains("<html lang=\"ja\">"));
        assert!(page.body.contains("\"alert_log\":\"アラートログ\""));
        let list = send(&fixture, LOOPBACK, "GET", "/clusterlist", &[]).await;
        assert!(list.body.contains("このサーバ"), "{}", list.body);
        assert!(list.body.contains("data-colour=\"red\""), "{}", list.body);
    }
}
