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
    let Some(peer) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0)
    else {
        return denied(
            &app,
            json,
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
            denied(&app, json, denial)
        }
    }
}

/// The client's address, put in the request by the guard.
#[derive(Debug, Clone, Copy)]
struct Client(SocketAddr);

fn denied(app: &App, json: bool, denial: access::Denial) -> Response {
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
    if status == StatusCode::UNAUTHORIZED {
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
