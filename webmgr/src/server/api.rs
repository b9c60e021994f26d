//! The JSON API: objects, operations, the alert log and its streams, `/metrics`, log
//! collection, and the integrated viewer's rows.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::guard::Client;
use super::{ApiError, ApiResult, App, Shared};
use crate::access::Role;
use crate::follower::{Feed, SNAPSHOT};
use crate::link::{self, cluster_view};
use crate::logjobs::StartError;
use crate::model::{self, ClusterView, GroupDetail, MonitorDetail, ResourceDetail, ServerDetail};
use crate::viewer::{self, ViewerRow};
use clp_core::client::clppm_process::{self as service, ServiceError};
use clp_core::ipc::client::ClientError;
use clp_core::ipc::{AfterStop, Request as DaemonRequest, Response as DaemonResponse};
use clp_core::logcollect::CollectType;

/// How long `POST /api/v1/cluster/start` waits for clppm to answer.
const START_WAIT: Duration = Duration::from_secs(60);
/// How long `POST /api/v1/cluster/stop` waits for clppm to be gone.
const STOP_WAIT: Duration = Duration::from_secs(300);

pub(super) async fn whoami(
    axum::Extension(role): axum::Extension<Role>,
) -> axum::Json<serde_json::Value> {
    axum::Json(json!({ "role": role }))
}

pub(super) async fn cluster(State(app): State<Shared>) -> axum::Json<ClusterView> {
    axum::Json(cluster_view(&app.paths, app.language.code()).await)
}

pub(super) async fn servers(State(app): State<Shared>) -> axum::Json<Vec<ServerDetail>> {
    let (status, _) = link::status(&app.paths).await;
    let config = link::load_config(&app.paths);
    axum::Json(vec![ServerDetail {
        status: status.server,
        daemon: status.daemon,
        pid: status.pid,
        parameters: model::server_parameters(&config),
    }])
}

pub(super) async fn server_detail(
    State(app): State<Shared>,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<ServerDetail>> {
    let axum::Json(mut list) = servers(State(app)).await;
    match list.pop() {
        Some(server) if server.status.name == name => Ok(axum::Json(server)),
        _ => Err(ApiError::not_found("server", &name)),
    }
}

pub(super) async fn groups(State(app): State<Shared>) -> axum::Json<Vec<GroupDetail>> {
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

pub(super) async fn group_detail(
    State(app): State<Shared>,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<GroupDetail>> {
    let axum::Json(list) = groups(State(app)).await;
    list.into_iter()
        .find(|group| group.status.name == name)
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found("group", &name))
}

pub(super) async fn resources(State(app): State<Shared>) -> axum::Json<Vec<ResourceDetail>> {
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

pub(super) async fn resource_detail(
    State(app): State<Shared>,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<ResourceDetail>> {
    let axum::Json(list) = resources(State(app)).await;
    list.into_iter()
        .find(|resource| resource.status.name == name)
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found("resource", &name))
}

pub(super) async fn monitors(State(app): State<Shared>) -> axum::Json<Vec<MonitorDetail>> {
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

pub(super) async fn monitor_detail(
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

pub(super) async fn operate(
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

pub(super) async fn cluster_operation(
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
            .map_err(stop_error)?;
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

/// A stop of a cluster already stopped is a conflict (as for groups and resources), not
/// an unavailable service.
fn stop_error(error: ServiceError) -> ApiError {
    match error {
        ServiceError::Client(ClientError::NotRunning { .. }) => ApiError(
            StatusCode::CONFLICT,
            "the cluster is already stopped (clppm is not running); nothing was done".into(),
        ),
        other => service_error(other),
    }
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

pub(super) async fn group_operation(
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

pub(super) async fn resource_operation(
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

pub(super) async fn monitor_operation(
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

/// `?limit=N`.
#[derive(Debug, Deserialize)]
pub(super) struct AlertQuery {
    limit: Option<usize>,
}

pub(super) async fn alerts(
    State(app): State<Shared>,
    Query(query): Query<AlertQuery>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let limit = query.limit.unwrap_or(100).clamp(1, 10_000);
    match link::call(
        &app.paths,
        "WebManager".into(),
        DaemonRequest::Alerts {
            limit,
            filter: Default::default(),
        },
        Some(link::READ_TIMEOUT),
    )
    .await
    {
        Ok(DaemonResponse::Alerts { events, .. }) => {
            Ok(axum::Json(json!({ "alerts": events, "source": "clppm" })))
        }
        Ok(other) => Err(ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("clppm answered {other:?} to an alert request"),
        )),
        Err(ClientError::NotRunning { .. }) => {
            let events = clp_core::alert::read_text_log(&app.paths.alert_log(), limit);
            Ok(axum::Json(
                json!({ "alerts": events, "source": "alert.log" }),
            ))
        }
        Err(error) => Err(error.into()),
    }
}

fn snapshot_event(events: &[clp_core::alert::AlertEvent]) -> Event {
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

/// A comment every 15 seconds, or often enough for `[webmanager] idle_timeout`, so a live
/// view is never closed as idle.
fn keep_alive(app: &App) -> KeepAlive {
    let interval = (app.config.webmanager.idle_timeout / 3)
        .clamp(Duration::from_millis(100), Duration::from_secs(15));
    KeepAlive::new().interval(interval)
}

pub(super) async fn alert_stream(
    State(app): State<Shared>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let keep_alive = keep_alive(&app);
    Sse::new(feed_stream(app, false)).keep_alive(keep_alive)
}

pub(super) async fn event_stream(
    State(app): State<Shared>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let keep_alive = keep_alive(&app);
    Sse::new(feed_stream(app, true)).keep_alive(keep_alive)
}

pub(super) async fn metrics(State(app): State<Shared>) -> Response {
    app.follower.catch_up().await;
    let (status, daemon_message) = link::status(&app.paths).await;
    let text = crate::metrics::render(&status, daemon_message.is_none(), &app.follower.counts());
    ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CollectRequest {
    #[serde(rename = "type")]
    kind: Option<String>,
}

pub(super) async fn collect_logs(State(app): State<Shared>, body: Bytes) -> ApiResult<Response> {
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
    match app.jobs.start(kind, &status.server.name, extra) {
        Ok(job) => Ok((StatusCode::ACCEPTED, axum::Json(job)).into_response()),
        Err(StartError::Busy(job)) => Ok((
            StatusCode::CONFLICT,
            axum::Json(json!({ "error": format!("a log collection is already running ({})", job.id), "job": job })),
        )
            .into_response()),
        Err(error) => Err(ApiError(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())),
    }
}

pub(super) async fn log_job(
    State(app): State<Shared>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    app.jobs
        .job(&id)
        .map(|job| axum::Json(job).into_response())
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no log collection \"{id}\"")))
}

pub(super) async fn download_log(
    State(app): State<Shared>,
    Path(file): Path<String>,
) -> ApiResult<Response> {
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
pub(super) async fn survey(app: &App) -> Vec<ViewerRow> {
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

/// The integrated viewer's rows.
#[derive(Debug, Serialize)]
pub(super) struct ClusterList {
    servers: Vec<ViewerRow>,
}

pub(super) async fn clusterlist_json(State(app): State<Shared>) -> axum::Json<ClusterList> {
    axum::Json(ClusterList {
        servers: survey(&app).await,
    })
}
