//! The routes answered in-process (no socket): status codes, the guard, the pages.

use super::*;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request as HttpRequest;
use axum::http::{HeaderMap, header};
use std::net::SocketAddr;
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
    let config = clp_core::config::load(&paths).unwrap();
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
    // The alert sink's file is core's own; a fixture writes its one line directly.
    let event = clp_core::alert::AlertEvent::from_catalogue("zabi", "pm", 2, &[]);
    let log = fixture.paths.alert_log();
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    std::fs::write(&log, format!("{}\n", event.to_line())).unwrap();
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

/// Both passwords set: "op" operates, "ref" reads.
fn with_both_passwords(fixture: &Fixture) -> [(&'static str, Option<String>); 3] {
    use super::super::passwords::{PasswordKind, store};
    use base64::Engine as _;
    let file = fixture.paths.webmgr_passwords();
    store(&file, PasswordKind::Operation, Some("op")).unwrap();
    store(&file, PasswordKind::Reference, Some("ref")).unwrap();
    let basic = |password: &str| {
        Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("anyone:{password}"))
        ))
    };
    [
        ("no password", None),
        ("reference", basic("ref")),
        ("operation", basic("op")),
    ]
}

/// The status of one request; the body is not read (the streams never end).
async fn status_of(
    fixture: &Fixture,
    method: &str,
    path: &str,
    authorization: Option<&str>,
    body: &str,
) -> StatusCode {
    let mut request = HttpRequest::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, "127.0.0.1:29003")
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(authorization) = authorization {
        request = request.header(header::AUTHORIZATION, authorization);
    }
    let mut request = request.body(Body::from(body.to_string())).unwrap();
    let peer: SocketAddr = format!("{REMOTE}:50000").parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    router(Arc::clone(&fixture.app))
        .oneshot(request)
        .await
        .unwrap()
        .status()
}

/// Every route, its sample request, and the answers with no password, the reference
/// password and the operation password (both set, a remote client, clppm down).
const EXPECTED: &[(&str, &str, &str, [u16; 3])] = &[
    ("/", "GET", "/", [401, 200, 200]),
    ("/clusterlist", "GET", "/clusterlist", [401, 200, 200]),
    (
        "/clusterlist.htm",
        "GET",
        "/clusterlist.htm",
        [401, 200, 200],
    ),
    ("/assets/app.js", "GET", "/assets/app.js", [200, 200, 200]),
    (
        "/assets/style.css",
        "GET",
        "/assets/style.css",
        [200, 200, 200],
    ),
    ("/metrics", "GET", "/metrics", [401, 200, 200]),
    ("/api/v1/cluster", "GET", "/api/v1/cluster", [401, 200, 200]),
    (
        "/api/v1/cluster/{operation}",
        "POST",
        "/api/v1/cluster/nosuch",
        [401, 403, 404],
    ),
    ("/api/v1/servers", "GET", "/api/v1/servers", [401, 200, 200]),
    (
        "/api/v1/servers/{name}",
        "GET",
        "/api/v1/servers/nosuch",
        [401, 404, 404],
    ),
    ("/api/v1/groups", "GET", "/api/v1/groups", [401, 200, 200]),
    (
        "/api/v1/groups/{name}",
        "GET",
        "/api/v1/groups/nosuch",
        [401, 404, 404],
    ),
    (
        "/api/v1/groups/{name}/{operation}",
        "POST",
        "/api/v1/groups/g/nosuch",
        [401, 403, 404],
    ),
    (
        "/api/v1/resources",
        "GET",
        "/api/v1/resources",
        [401, 200, 200],
    ),
    (
        "/api/v1/resources/{name}",
        "GET",
        "/api/v1/resources/nosuch",
        [401, 404, 404],
    ),
    (
        "/api/v1/resources/{name}/{operation}",
        "POST",
        "/api/v1/resources/r/nosuch",
        [401, 403, 404],
    ),
    (
        "/api/v1/monitors",
        "GET",
        "/api/v1/monitors",
        [401, 200, 200],
    ),
    (
        "/api/v1/monitors/{name}",
        "GET",
        "/api/v1/monitors/userw",
        [401, 200, 200],
    ),
    (
        "/api/v1/monitors/{name}/{operation}",
        "POST",
        "/api/v1/monitors/userw/nosuch",
        [401, 403, 404],
    ),
    ("/api/v1/alerts", "GET", "/api/v1/alerts", [401, 200, 200]),
    (
        "/api/v1/alerts/stream",
        "GET",
        "/api/v1/alerts/stream",
        [401, 200, 200],
    ),
    ("/api/v1/events", "GET", "/api/v1/events", [401, 200, 200]),
    (
        "/api/v1/logs/collect",
        "POST",
        "/api/v1/logs/collect",
        [401, 403, 400],
    ),
    (
        "/api/v1/logs/jobs/{id}",
        "GET",
        "/api/v1/logs/jobs/0123",
        [401, 403, 404],
    ),
    (
        "/api/v1/logs/{file}",
        "GET",
        "/api/v1/logs/0123.tar.gz",
        [401, 403, 404],
    ),
    (
        "/api/v1/clusterlist",
        "GET",
        "/api/v1/clusterlist",
        [401, 200, 200],
    ),
    ("/api/v1/whoami", "GET", "/api/v1/whoami", [401, 200, 200]),
];

#[tokio::test]
async fn every_route_answers_each_password_as_the_table_says() {
    let fixture = fixture("");
    let credentials = with_both_passwords(&fixture);
    for route in ROUTES {
        let Some((_, method, sample, answers)) = EXPECTED
            .iter()
            .find(|(path, method, _, _)| *path == route.path && *method == route.method.as_str())
        else {
            panic!(
                "{} {} has no expected answers in EXPECTED: add them",
                route.method, route.path
            );
        };
        for ((who, authorization), expected) in credentials.iter().zip(answers) {
            let body = if *method == "POST" {
                "{\"type\":\"nosuch\"}"
            } else {
                ""
            };
            let status = status_of(&fixture, method, sample, authorization.as_deref(), body).await;
            assert_eq!(
                status.as_u16(),
                *expected,
                "{method} {sample} ({}) with {who}",
                route.path
            );
        }
    }
    assert_eq!(
        EXPECTED.len(),
        ROUTES.len(),
        "EXPECTED lists a route that is gone"
    );
}

#[tokio::test]
async fn the_log_download_needs_the_operation_password_however_it_is_spelled() {
    let fixture = fixture("");
    let credentials = with_both_passwords(&fixture);
    for path in [
        "/api/v1/logs/0123",
        "/api/v1/logs/0123%2Etar%2Egz",
        "/api/v1/logs/0123.tar.gz",
        "/api/v1/logs/0123%2etar%2egz",
    ] {
        for ((who, authorization), expected) in credentials.iter().zip([401, 403, 404]) {
            let status = status_of(&fixture, "GET", path, authorization.as_deref(), "").await;
            assert_eq!(status.as_u16(), expected, "GET {path} with {who}");
        }
    }
}

#[tokio::test]
async fn operations_for_another_host_name_are_refused() {
    // No operation password: a loopback client operates, which is what a rebound name
    // in a browser on this machine would be.
    let fixture = fixture("[webmanager]\nhosts = [\"clp1.example.com\"]\n");
    let rebound = [
        JSON,
        ("host", "evil.example:29003"),
        ("origin", "http://evil.example:29003"),
    ];
    let mut request = HttpRequest::builder()
        .method("POST")
        .uri("/api/v1/cluster/suspend");
    for (name, value) in rebound {
        request = request.header(name, value);
    }
    let mut request = request.body(Body::empty()).unwrap();
    let peer: SocketAddr = format!("{LOOPBACK}:50000").parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    let response = router(Arc::clone(&fixture.app))
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    assert!(
        String::from_utf8_lossy(&body).contains("[webmanager] hosts"),
        "{body:?}"
    );
    // Named right, or by address: admitted (503: clppm is down).
    for host in ["CLP1.example.com:29003", "127.0.0.1:29003"] {
        let mut request = HttpRequest::builder()
            .method("POST")
            .uri("/api/v1/cluster/suspend")
            .header(header::HOST, host)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::empty())
            .unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        let status = router(Arc::clone(&fixture.app))
            .oneshot(request)
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{host}");
    }
    // Reads stay open to any name.
    let mut request = HttpRequest::builder()
        .uri("/api/v1/cluster")
        .header(header::HOST, "evil.example")
        .body(Body::empty())
        .unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    let status = router(Arc::clone(&fixture.app))
        .oneshot(request)
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn wrong_passwords_are_slowed_down_per_client_without_hashing() {
    let fixture = fixture("");
    let [_, (_, reference), _] = with_both_passwords(&fixture);
    let reference = reference.unwrap();
    let wrong = format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, ":nope")
    );
    // The reference password, verified once, is remembered.
    assert_eq!(
        status_of(&fixture, "GET", "/api/v1/cluster", Some(&reference), "").await,
        StatusCode::OK
    );
    for attempt in 0..super::super::budget::FREE {
        let status = status_of(&fixture, "GET", "/api/v1/cluster", Some(&wrong), "").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let started = std::time::Instant::now();
    let limited = send(
        &fixture,
        REMOTE,
        "GET",
        "/api/v1/cluster",
        &[("authorization", &wrong)],
    )
    .await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.body
    );
    assert_eq!(limited.headers[header::RETRY_AFTER], "6");
    assert!(
        limited
            .body
            .contains("too many wrong passwords from 192.168.100.9")
    );
    // Refused without hashing: far quicker than an argon2 verification.
    assert!(started.elapsed() < std::time::Duration::from_millis(20));
    // A password already verified still reads; another client is not slowed down.
    assert_eq!(
        status_of(&fixture, "GET", "/api/v1/cluster", Some(&reference), "").await,
        StatusCode::OK
    );
    let other = send(
        &fixture,
        "192.168.100.10",
        "GET",
        "/api/v1/cluster",
        &[("authorization", &wrong)],
    )
    .await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_client_off_the_allow_list_costs_no_password_check() {
    let fixture = fixture("[webmanager]\nallow = [\"10.0.0.0/8\"]\n");
    with_both_passwords(&fixture);
    let wrong = format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, ":nope")
    );
    // Never hashed, so never counted: 403 every time, not 401 and then 429.
    for attempt in 0..(super::super::budget::FREE + 5) {
        let refused = send(
            &fixture,
            REMOTE,
            "GET",
            "/api/v1/cluster",
            &[("authorization", &wrong)],
        )
        .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "attempt {attempt}");
        assert!(refused.body.contains("allow-list"), "{}", refused.body);
    }
}
