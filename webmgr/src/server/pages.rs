//! The pages: HTML templates with the language's words filled in, the script and the
//! stylesheet (all embedded in the binary), and the integrated viewer's page.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::html::html_escape;
use super::{App, Shared};
use crate::model;

const INDEX_HTML: &str = include_str!("../assets/index.html");
const CLUSTERLIST_HTML: &str = include_str!("../assets/clusterlist.html");
const APP_JS: &str = include_str!("../assets/app.js");
const STYLE_CSS: &str = include_str!("../assets/style.css");

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

pub(super) async fn index(State(app): State<Shared>) -> Response {
    page(&app, INDEX_HTML, &[])
}

pub(super) async fn app_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        APP_JS,
    )
        .into_response()
}

pub(super) async fn style_css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        STYLE_CSS,
    )
        .into_response()
}

pub(super) async fn clusterlist_page(State(app): State<Shared>) -> Response {
    let rows = super::api::survey(&app).await;
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
            detail = html_escape(match language.text(&row.detail) {
                "" => &row.detail,
                word => word,
            }),
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
