//! The WebManager's request handling: the router with its access guard, driven in-process
//! (no socket) on a root with an operation password and no clppm. No request panics or
//! answers 500, and no request without the operation password changes anything (a POST
//! never succeeds) or downloads a log tarball.
#![no_main]

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use clp_core::paths::Paths;
use clp_webmgr::passwords::{PasswordKind, store};
use clp_webmgr::server::{App, router};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

const PASSWORD: &str = "fuzz-operation";
/// `Basic base64("user:fuzz-operation")`.
const RIGHT: &str = "Basic dXNlcjpmdXp6LW9wZXJhdGlvbg==";

struct Fixture {
    _root: tempfile::TempDir,
    app: Arc<App>,
    runtime: tokio::runtime::Runtime,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let root = tempfile::tempdir().expect("a temporary root");
        let paths = Paths::new(root.path());
        std::fs::create_dir_all(paths.etc_dir()).expect("etc/");
        std::fs::write(
            paths.config_file(),
            "[cluster]\nname = \"fuzz\"\n[[group]]\nname = \"g\"\n[[monitor]]\nname = \"userw\"\ntype = \"userw\"\n",
        )
        .expect("clp.conf");
        store(&paths.webmgr_passwords(), PasswordKind::Operation, Some(PASSWORD))
            .expect("the operation password");
        let config = clp_core::config::load(&paths).expect("the fixture's configuration");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        Fixture {
            app: App::new(paths, config),
            _root: root,
            runtime,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let method = match (flags >> 2) & 3 {
        0 => Method::GET,
        1 => Method::POST,
        2 => Method::HEAD,
        _ => Method::DELETE,
    };
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.split('\n');
    let path = lines.next().unwrap_or("/");
    // Collecting logs starts a job that writes a tarball: not for a fuzzer's pace.
    if path.contains("collect") {
        return;
    }
    let mut builder = Request::builder().method(method.clone()).uri(path);
    let authorized = flags & 3 == 1;
    match flags & 3 {
        1 => builder = builder.header("authorization", RIGHT),
        2 => builder = builder.header("authorization", "Basic dXNlcjp3cm9uZw=="),
        _ => {}
    }
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("authorization") {
                continue;
            }
            builder = builder.header(name.trim(), value.trim());
        }
    }
    let Ok(mut request) = builder.body(Body::from(body.to_string())) else {
        return;
    };
    let peer: SocketAddr = if flags & 0x10 == 0 {
        "127.0.0.1:50000"
    } else {
        "192.168.100.9:50000"
    }
    .parse()
    .expect("an address");
    request.extensions_mut().insert(ConnectInfo(peer));
    // The path as the router sees it (the query is not part of it).
    let routed = request.uri().path().to_string();
    let fixture = fixture();
    let response = fixture
        .runtime
        .block_on(router(Arc::clone(&fixture.app)).oneshot(request))
        .expect("the router answers");
    let status = response.status();
    assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "{method} {path}");
    if !authorized {
        assert!(
            !(method == Method::POST && status.is_success()),
            "POST {path} succeeded without the operation password: {status}"
        );
        assert!(
            !(routed.starts_with("/api/v1/logs/") && status.is_success()),
            "{method} {path} downloaded logs without the operation password: {status}"
        );
    }
});
