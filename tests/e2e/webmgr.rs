//! clpwebmgr end to end: the real WebManager in front of the real clppm, driven over HTTP.
//! Start, stop and the single instance; operations through the JSON API reaching clppm and
//! the alert log (and the live stream); log collection and download; the integrated
//! viewer over three servers; `/metrics`; HTTPS; the passwords command.

use std::time::Duration;

use crate::harness::*;
use crate::webmgr_http::*;

/// A group `failover` with one async exec resource `exec`, and a `userw` checking every
/// half second. `extra` is appended to `[cluster]`'s neighbours (e.g. a `[webmanager]`).
pub fn webmgr_cluster(extra: &str) -> Cluster {
    let cluster = Cluster::with_config(&format!(
        r#"[cluster]
name = "zabi"

{extra}

[[group]]
name = "failover"

[[group.resource]]
name = "exec"
mode = "async"

[[monitor]]
name = "userw"
type = "userw"
interval = 0.5
"#
    ));
    cluster.script("failover", "exec", "start.sh", "exec sleep 600");
    cluster
}

#[test]
fn clpwebmgr_runs_once_per_root_and_stops_on_request_or_sigterm() {
    let cluster = webmgr_cluster("");
    let addr = start_webmgr(&cluster);
    let pid: u32 = std::fs::read_to_string(cluster.path("run/clpwebmgr.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let view = get(addr, "/api/v1/cluster").json();
    assert_eq!(view["daemon"], "stopped");
    assert_eq!(view["cluster"], "zabi");

    let again = cluster.run("clpwebmgr", &["--listen", "127.0.0.1:0"]);
    assert!(again.failure(128).contains("clpwebmgr is already running"));
    let foreground = cluster.run("clpwebmgr", &["--foreground", "--listen", "127.0.0.1:0"]);
    assert!(foreground.failure(128).contains(&format!(
        "clpwebmgr is already running on {}",
        cluster.root().display()
    )));

    assert_eq!(
        cluster.run("clpwebmgr", &["--stop"]).success(),
        "Command succeeded.\n"
    );
    assert!(!alive(pid));
    assert!(!cluster.path("run/clpwebmgr.addr").exists());
    assert!(!cluster.path("run/clpwebmgr.pid").exists());
    assert!(
        cluster
            .run("clpwebmgr", &["--stop"])
            .failure(10)
            .contains("clpwebmgr is not running")
    );

    start_webmgr(&cluster);
    let pid: u32 = std::fs::read_to_string(cluster.path("run/clpwebmgr.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    signal(pid, libc::SIGTERM);
    wait_until("clpwebmgr gone after SIGTERM", WAIT, || {
        !alive(pid) && !cluster.path("run/clpwebmgr.pid").exists()
    });
    let log = std::fs::read_to_string(cluster.path("log/clpwebmgr.log")).unwrap();
    assert!(log.contains("clpwebmgr listening on 127.0.0.1:"), "{log}");
    assert!(log.contains("SIGTERM: stopping"), "{log}");
}

#[test]
fn a_bad_webmanager_table_is_refused_with_every_problem() {
    let cluster = webmgr_cluster("[webmanager]\nlisten = \"nowhere\"\nalow = []\n");
    let stderr = cluster.run("clpwebmgr", &[]).failure(4);
    assert!(
        stderr.contains("webmanager: unknown key \"alow\" (did you mean \"allow\"?)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("\"nowhere\" is not an address and port"),
        "{stderr}"
    );
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().to_string();
    let cluster = webmgr_cluster("");
    let stderr = cluster.run("clpwebmgr", &["--listen", &port]).failure(3);
    assert!(
        stderr.contains(&format!("cannot listen on {port}")),
        "{stderr}"
    );
}

#[test]
fn operations_through_the_api_reach_clppm_and_the_live_alert_log() {
    let cluster = webmgr_cluster("");
    let addr = start_webmgr(&cluster);

    let started = post(addr, "/api/v1/cluster/start");
    assert_eq!(started.status, 200, "{}", started.text());
    assert_eq!(started.json()["result"], "Command succeeded.");
    wait_until("failover online", WAIT, || {
        cluster.resource_status("exec") == "Online"
    });
    assert_eq!(post(addr, "/api/v1/cluster/start").status, 409);

    let mut events = EventStream::open(addr, "/api/v1/alerts/stream");
    // Once the stream has caught up with clppm, what follows comes one alert at a time.
    events.wait_for("Activating group failover has completed.", WAIT);
    let stopped = post(addr, "/api/v1/groups/failover/stop");
    assert_eq!(stopped.status, 200, "{}", stopped.text());
    assert_eq!(cluster.resource_status("exec"), "Offline");
    let group = get(addr, "/api/v1/groups/failover").json();
    assert_eq!(group["status"], "Offline");
    assert!(
        group["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["key"] == "startup" && p["value"] == "Auto Startup")
    );
    let seen = events.wait_for("Stopping group failover has completed.", WAIT);
    let last_event = seen.rsplit("event: ").next().unwrap_or_default();
    assert!(last_event.starts_with("alert"), "{seen}");

    assert_eq!(post(addr, "/api/v1/resources/exec/start").status, 200);
    assert_eq!(cluster.resource_status("exec"), "Online");
    assert_eq!(
        get(addr, "/api/v1/resources/exec").json()["group"],
        "failover"
    );
    assert_eq!(post(addr, "/api/v1/monitors/userw/suspend").status, 200);
    assert_eq!(cluster.monitor_status("userw"), "Suspend");
    assert_eq!(post(addr, "/api/v1/monitors/userw/resume").status, 200);
    let missing = post(addr, "/api/v1/monitors/nosuch/suspend");
    assert_eq!(missing.status, 404, "{}", missing.text());

    assert_eq!(post(addr, "/api/v1/cluster/suspend").status, 200);
    let refused = post(addr, "/api/v1/groups/failover/stop");
    assert_eq!(refused.status, 409, "{}", refused.text());
    assert_eq!(post(addr, "/api/v1/cluster/resume").status, 200);
    assert_eq!(
        cluster.count_alerts(&format!(
            "There was a request to suspend {} from the WebManager(IP=127.0.0.1).",
            host()
        )),
        1,
        "{}",
        cluster.alerts()
    );

    let alerts = get(addr, "/api/v1/alerts?limit=3").json();
    assert_eq!(alerts["source"], "clppm");
    assert_eq!(alerts["alerts"].as_array().unwrap().len(), 3);

    let daemon = cluster.daemon_pid().expect("clppm's pid");
    let stop = post(addr, "/api/v1/cluster/stop");
    assert_eq!(stop.status, 200, "{}", stop.text());
    assert_eq!(cluster.daemon_pid(), None);
    let view = get(addr, "/api/v1/cluster").json();
    assert_eq!(view["daemon"], "stopped");
    assert_eq!(post(addr, "/api/v1/groups/failover/start").status, 503);
    // The WebManager collected its child: no clppm zombie is left behind.
    wait_until("clppm reaped", WAIT, || {
        !std::path::Path::new(&format!("/proc/{daemon}")).exists()
    });
}

#[test]
fn logs_are_collected_with_progress_and_downloaded() {
    let cluster = webmgr_cluster("");
    let addr = start_webmgr(&cluster);
    // The server is the host, in the REST API as everywhere; the cluster keeps its name.
    let servers = get(addr, "/api/v1/servers").json();
    assert_eq!(servers[0]["name"], host(), "{servers}");
    assert_eq!(
        get(addr, &format!("/api/v1/servers/{}", host())).status,
        200
    );
    assert_eq!(get(addr, "/api/v1/servers/zabi").status, 404);
    let bad = request(
        addr,
        "POST",
        "/api/v1/logs/collect",
        &[("Content-Type", "application/json")],
        "{\"type\": \"type9\"}",
    );
    assert_eq!(bad.status, 400, "{}", bad.text());
    let started = request(
        addr,
        "POST",
        "/api/v1/logs/collect",
        &[("Content-Type", "application/json")],
        "{\"type\": \"type3\"}",
    );
    assert_eq!(started.status, 202, "{}", started.text());
    let id = started.json()["id"].as_str().unwrap().to_string();
    let mut job = serde_json::Value::Null;
    wait_until("the collection ends", WAIT, || {
        job = get(addr, &format!("/api/v1/logs/jobs/{id}")).json();
        job["state"] != "running"
    });
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["done"], job["total"]);
    let download = get(addr, job["download"].as_str().unwrap());
    assert_eq!(download.status, 200);
    assert_eq!(download.header("content-type"), Some("application/gzip"));
    assert_eq!(
        download.header("content-disposition"),
        Some(format!("attachment; filename=\"{}-log.tar.gz\"", host()).as_str())
    );
    assert_eq!(&download.body[..2], &[0x1f, 0x8b]);
    assert_eq!(
        download.header("content-length"),
        Some(download.body.len().to_string().as_str())
    );
    assert_eq!(
        get(addr, "/api/v1/logs/0000000000000000.tar.gz").status,
        404
    );
}

#[test]
fn the_integrated_viewer_colours_every_server() {
    let other = webmgr_cluster("");
    other.start();
    let other_addr = start_webmgr(&other);
    wait_until("the other server is all normal", WAIT, || {
        get(other_addr, "/api/v1/cluster").json()["health"] == "normal"
    });
    other
        .run("clpwebmgr", &["--set-password", "reference", "peek"])
        .success();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let viewer = webmgr_cluster(&format!(
        "[webmanager]\nservers = [\"http://:peek@{other_addr}\", \"http://{other_addr}/\", \"http://127.0.0.1:{closed_port}\"]\nviewer_timeout = 2\n"
    ));
    let addr = start_webmgr(&viewer);

    let list = get(addr, "/api/v1/clusterlist").json();
    let rows = list["servers"].as_array().unwrap();
    assert_eq!(rows.len(), 4, "{list}");
    assert_eq!(rows[0]["url"], "this server");
    assert_eq!(rows[0]["colour"], "red", "its clppm is down: {list}");
    assert_eq!(rows[1]["url"], format!("http://{other_addr}"));
    assert_eq!(rows[1]["colour"], "green", "{list}");
    assert_eq!(rows[1]["cluster"], "zabi");
    assert_eq!(rows[2]["colour"], "unreachable", "{list}");
    assert!(
        rows[2]["detail"].as_str().unwrap().contains("401"),
        "{list}"
    );
    assert_eq!(rows[3]["colour"], "unreachable");
    assert!(
        rows[3]["detail"]
            .as_str()
            .unwrap()
            .contains("cannot connect"),
        "{list}"
    );

    other.run("clpgrp", &["-t", "failover"]).success();
    let page = get(addr, "/clusterlist").text();
    assert!(page.contains("data-colour=\"yellow\""), "{page}");
    assert!(page.contains("data-colour=\"unreachable\""), "{page}");
    assert!(!page.contains("peek"), "the password is not shown: {page}");
    assert_eq!(get(addr, "/clusterlist.htm").status, 200);
    other.stop();
}

#[test]
fn metrics_are_prometheus_text() {
    let cluster = webmgr_cluster("");
    cluster.start();
    let addr = start_webmgr(&cluster);
    wait_until("userw checked", WAIT, || {
        get(addr, "/api/v1/monitors/userw").json()["checks"].as_u64() > Some(0)
    });
    let answer = get(addr, "/metrics");
    assert_eq!(
        answer.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = answer.text();
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|line| Ok(line.to_string())))
        .expect("the exposition parses");
    let value = |name: &str, labels: &[(&str, &str)]| {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(|s| match s.value {
                prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => f64::NAN,
            })
            .unwrap_or_else(|| panic!("no {name} {labels:?} in\n{text}"))
    };
    assert_eq!(value("clp_daemon_up", &[]), 1.0);
    assert_eq!(value("clp_daemon_state", &[("state", "running")]), 1.0);
    assert_eq!(
        value(
            "clp_group_state",
            &[("group", "failover"), ("state", "Online")]
        ),
        1.0
    );
    assert_eq!(
        value(
            "clp_resource_state",
            &[("resource", "exec"), ("state", "Offline")]
        ),
        0.0
    );
    assert_eq!(
        value(
            "clp_monitor_state",
            &[("monitor", "userw"), ("state", "Normal")]
        ),
        1.0
    );
    assert!(value("clp_monitor_last_check_seconds", &[("monitor", "userw")]) >= 0.0);
    assert!(value("clp_monitor_checks_total", &[("monitor", "userw")]) >= 1.0);
    assert_eq!(
        value("clp_monitor_reactivations", &[("monitor", "userw")]),
        0.0
    );
    assert!(value("clp_alerts_total", &[("level", "Info")]) >= 5.0);
    assert_eq!(value("clp_alerts_total", &[("level", "Error")]), 0.0);
    cluster.stop();
}

#[test]
fn https_when_a_certificate_is_configured() {
    use std::io::{Read, Write};
    use std::sync::Arc;

    let cluster =
        webmgr_cluster("[webmanager]\ntls_cert = \"webmgr.crt\"\ntls_key = \"webmgr.key\"\n");
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    std::fs::write(cluster.path("etc/webmgr.crt"), certified.cert.pem()).unwrap();
    std::fs::write(
        cluster.path("etc/webmgr.key"),
        certified.signing_key.serialize_pem(),
    )
    .unwrap();
    let addr = start_webmgr(&cluster);

    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let tcp = std::net::TcpStream::connect(addr).unwrap();
    let mut tls = rustls::StreamOwned::new(connection, tcp);
    tls.write_all(&request_bytes(addr, "GET", "/api/v1/cluster", &[], ""))
        .unwrap();
    let mut raw = Vec::new();
    let _ = tls.read_to_end(&mut raw);
    let answer = parse_answer(&raw);
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json()["cluster"], "zabi");

    let missing_key =
        webmgr_cluster("[webmanager]\ntls_cert = \"webmgr.crt\"\ntls_key = \"nothere.key\"\n");
    std::fs::write(missing_key.path("etc/webmgr.crt"), certified.cert.pem()).unwrap();
    let stderr = missing_key
        .run("clpwebmgr", &["--listen", "127.0.0.1:0"])
        .failure(3);
    assert!(
        stderr.contains("nothere.key: cannot read the private key"),
        "{stderr}"
    );
}

#[test]
fn passwords_are_stored_hashed_and_asked_for() {
    use std::os::unix::fs::PermissionsExt;
    let cluster = webmgr_cluster("");
    assert!(
        cluster
            .run("clpwebmgr", &["--set-password", "admin", "x"])
            .failure(2)
            .contains("password kind \"admin\" is not operation or reference")
    );
    let mut command = cluster.command("clpwebmgr");
    command
        .args(["--set-password", "operation", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(b"s3cret\n").unwrap();
    }
    assert!(child.wait().unwrap().success());
    let file = cluster.path("etc/webmgr-passwords.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("operation = \"$argon2id$"), "{text}");
    assert!(!text.contains("s3cret"));
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let addr = start_webmgr(&cluster);
    let anonymous = post(addr, "/api/v1/cluster/suspend");
    assert_eq!(anonymous.status, 401);
    assert_eq!(
        anonymous.header("www-authenticate"),
        Some("Basic realm=\"clp WebManager\", charset=\"UTF-8\"")
    );
    // "operator:s3cret": the user name is ignored.
    let operator = request(
        addr,
        "POST",
        "/api/v1/cluster/suspend",
        &[
            ("Content-Type", "application/json"),
            ("Authorization", "Basic b3BlcmF0b3I6czNjcmV0"),
        ],
        "{}",
    );
    assert_eq!(operator.status, 503, "{}", operator.text());
    assert!(operator.text().contains("clppm is not running"));

    cluster
        .run("clpwebmgr", &["--clear-password", "operation"])
        .success();
    wait_until("the cleared password takes effect", WAIT, || {
        post(addr, "/api/v1/cluster/suspend").status == 503
    });
}

#[test]
fn the_event_stream_starts_with_a_snapshot_even_with_clppm_down() {
    // The event stream answers at once with its snapshot even with clppm down.
    let cluster = webmgr_cluster("");
    let addr = start_webmgr(&cluster);
    let mut events = EventStream::open(addr, "/api/v1/events");
    let seen = events.wait_for("event: snapshot", Duration::from_secs(5));
    assert!(seen.contains("text/event-stream"), "{seen}");
}
