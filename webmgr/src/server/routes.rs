//! Every route of the WebManager with the access it needs, in one table. The router is
//! built from this table, and each route carries its own guard with its own [`Access`]:
//! what a request may do is decided by the route it matched, never by how its path is
//! spelled (`/api/v1/logs/ID`, `/api/v1/logs/ID%2Etar%2Egz` and `/api/v1/logs/ID.tar.gz`
//! all match the download route, so all need the operation password).

use std::sync::Arc;

use axum::Router;
use axum::http::Method;
use axum::middleware;
use axum::routing::{MethodRouter, get, post};

use super::guard::Access;
use super::{Shared, api, guard, pages};

/// One route: its method, its path pattern (axum's syntax) and what it needs.
#[derive(Debug)]
pub struct Route {
    /// The method.
    pub method: Method,
    /// The path pattern.
    pub path: &'static str,
    /// What it needs.
    pub access: Access,
    handler: fn() -> MethodRouter<Shared>,
}

const fn route(
    method: Method,
    path: &'static str,
    access: Access,
    handler: fn() -> MethodRouter<Shared>,
) -> Route {
    Route {
        method,
        path,
        access,
        handler,
    }
}

use Access::{Open, Operate, Read};

/// Every route. A route added here is served, guarded with its access, and walked by the
/// router's access test (which fails until the route has its expected answers there).
pub static ROUTES: &[Route] = &[
    route(Method::GET, "/", Read, || get(pages::index)),
    route(Method::GET, "/clusterlist", Read, || {
        get(pages::clusterlist_page)
    }),
    route(Method::GET, "/clusterlist.htm", Read, || {
        get(pages::clusterlist_page)
    }),
    route(Method::GET, "/assets/app.js", Open, || get(pages::app_js)),
    route(Method::GET, "/assets/style.css", Open, || {
        get(pages::style_css)
    }),
    route(Method::GET, "/metrics", Read, || get(api::metrics)),
    route(Method::GET, "/api/v1/cluster", Read, || get(api::cluster)),
    route(Method::POST, "/api/v1/cluster/{operation}", Operate, || {
        post(api::cluster_operation)
    }),
    route(Method::GET, "/api/v1/servers", Read, || get(api::servers)),
    route(Method::GET, "/api/v1/servers/{name}", Read, || {
        get(api::server_detail)
    }),
    route(Method::GET, "/api/v1/groups", Read, || get(api::groups)),
    route(Method::GET, "/api/v1/groups/{name}", Read, || {
        get(api::group_detail)
    }),
    route(
        Method::POST,
        "/api/v1/groups/{name}/{operation}",
        Operate,
        || post(api::group_operation),
    ),
    route(Method::GET, "/api/v1/resources", Read, || {
        get(api::resources)
    }),
    route(Method::GET, "/api/v1/resources/{name}", Read, || {
        get(api::resource_detail)
    }),
    route(
        Method::POST,
        "/api/v1/resources/{name}/{operation}",
        Operate,
        || post(api::resource_operation),
    ),
    route(Method::GET, "/api/v1/monitors", Read, || get(api::monitors)),
    route(Method::GET, "/api/v1/monitors/{name}", Read, || {
        get(api::monitor_detail)
    }),
    route(
        Method::POST,
        "/api/v1/monitors/{name}/{operation}",
        Operate,
        || post(api::monitor_operation),
    ),
    route(Method::GET, "/api/v1/alerts", Read, || get(api::alerts)),
    route(Method::GET, "/api/v1/alerts/stream", Read, || {
        get(api::alert_stream)
    }),
    route(Method::GET, "/api/v1/events", Read, || {
        get(api::event_stream)
    }),
    route(Method::POST, "/api/v1/logs/collect", Operate, || {
        post(api::collect_logs)
    }),
    route(Method::GET, "/api/v1/logs/jobs/{id}", Operate, || {
        get(api::log_job)
    }),
    route(Method::GET, "/api/v1/logs/{file}", Operate, || {
        get(api::download_log)
    }),
    route(Method::GET, "/api/v1/clusterlist", Read, || {
        get(api::clusterlist_json)
    }),
    route(Method::GET, "/api/v1/whoami", Read, || get(api::whoami)),
];

/// The router of [`ROUTES`]: each route behind a guard that knows the route's access.
/// Paths no route matches are 404 (a wrong method on a known path is 405): neither runs a
/// handler, so neither needs a password.
pub fn build(app: &Shared) -> Router<Shared> {
    let mut router = Router::new();
    for entry in ROUTES {
        let guarded = (entry.handler)().route_layer(middleware::from_fn_with_state(
            (Arc::clone(app), entry.access),
            guard::guard,
        ));
        router = router.route(entry.path, guarded);
    }
    router
}
