//! The integrated viewer (`/clusterlist`): the WebManagers listed in `[webmanager] servers`,
//! each asked for `GET /api/v1/cluster` by this server (not by the browser), all at once,
//! each within `viewer_timeout`, and shown green / yellow / red, or unreachable.
//!
//! A URL may carry a password for a WebManager that needs one
//! (`http://:secret@192.168.100.2:29003`); the user name is ignored, as everywhere.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;

use super::model::{ClusterView, Health};

/// The largest answer read from another WebManager.
const MAX_BODY: usize = 4 << 20;

/// One row of the integrated viewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewerRow {
    /// The URL as configured, without its password.
    pub url: String,
    /// The cluster's name, when it answered.
    pub cluster: Option<String>,
    /// Its health, when it answered.
    pub health: Option<Health>,
    /// `green`, `yellow`, `red` or `unreachable`.
    pub colour: String,
    /// Why it is unreachable, or the daemon's state.
    pub detail: String,
}

impl ViewerRow {
    /// A row for a server that answered.
    pub fn answered(url: &str, view: &ClusterView) -> ViewerRow {
        ViewerRow {
            url: url.to_string(),
            cluster: Some(view.status.cluster.clone()),
            health: Some(view.health),
            colour: view.health.colour().to_string(),
            detail: format!("{:?}", view.status.daemon).to_lowercase(),
        }
    }

    fn unreachable(url: &str, detail: String) -> ViewerRow {
        ViewerRow {
            url: url.to_string(),
            cluster: None,
            health: None,
            colour: "unreachable".into(),
            detail,
        }
    }
}

/// Asks every server at once.
pub async fn survey(servers: &[String], timeout: Duration) -> Vec<ViewerRow> {
    futures_util::future::join_all(servers.iter().map(|url| fetch_row(url, timeout))).await
}

/// Asks one server.
pub async fn fetch_row(url: &str, timeout: Duration) -> ViewerRow {
    let shown = without_password(url);
    match tokio::time::timeout(timeout, fetch(url)).await {
        Ok(Ok(view)) => ViewerRow::answered(&shown, &view),
        Ok(Err(error)) => ViewerRow::unreachable(&shown, error),
        Err(_) => ViewerRow::unreachable(
            &shown,
            format!(
                "no answer within {}",
                clp_core::duration_text::seconds(timeout)
            ),
        ),
    }
}

/// The URL with any user information removed.
pub fn without_password(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = authority
                .rsplit_once('@')
                .map_or(authority, |(_, host)| host);
            format!("{scheme}://{host}{path}")
        }
        None => url.to_string(),
    }
}

async fn fetch(url: &str) -> Result<ClusterView, String> {
    let uri: hyper::Uri = url.parse().map_err(|error| format!("not a URL: {error}"))?;
    let https = match uri.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        _ => return Err("the URL must start with http:// or https://".into()),
    };
    let host = uri.host().ok_or("the URL has no host")?.to_string();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_string())
        .unwrap_or_default();
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => (Some(userinfo.to_string()), host_port.to_string()),
        None => (None, authority.clone()),
    };
    let base = uri.path().trim_end_matches('/');
    let path = format!("{base}/api/v1/cluster");
    let mut request = hyper::Request::get(path)
        .header(hyper::header::HOST, host_port)
        .header(hyper::header::ACCEPT, "application/json")
        .header(hyper::header::USER_AGENT, "clpwebmgr-viewer");
    if let Some(userinfo) = userinfo {
        let encoded = base64::engine::general_purpose::STANDARD.encode(userinfo.as_bytes());
        request = request.header(hyper::header::AUTHORIZATION, format!("Basic {encoded}"));
    }
    let request = request
        .body(Empty::<Bytes>::new())
        .map_err(|error| error.to_string())?;
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let tcp = TcpStream::connect((bare.as_str(), port))
        .await
        .map_err(|error| format!("cannot connect to {host}:{port}: {error}"))?;
    let body = if https {
        let name = rustls::pki_types::ServerName::try_from(bare.clone())
            .map_err(|error| format!("{host}: {error}"))?;
        let tls = tokio_rustls::TlsConnector::from(tls_config()?)
            .connect(name, tcp)
            .await
            .map_err(|error| format!("TLS handshake with {host}:{port} failed: {error}"))?;
        exchange(TokioIo::new(tls), request).await?
    } else {
        exchange(TokioIo::new(tcp), request).await?
    };
    serde_json::from_slice(&body).map_err(|error| format!("not a WebManager answer: {error}"))
}

async fn exchange<T>(io: T, request: hyper::Request<Empty<Bytes>>) -> Result<Bytes, String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|error| format!("HTTP handshake failed: {error}"))?;
    let driver = tokio::spawn(connection);
    let result = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|error| format!("no HTTP answer: {error}"))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("HTTP status {status}"));
        }
        Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map(|collected| collected.to_bytes())
            .map_err(|error| format!("cannot read the answer: {error}"))
    }
    .await;
    driver.abort();
    result
}

/// HTTPS to other WebManagers trusts the system's certificate store.
fn tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map(|builder| {
                    Arc::new(builder.with_root_certificates(roots).with_no_client_auth())
                })
                .map_err(|error| format!("cannot set up TLS: {error}"))
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            without_password("http://:secret@10.0.0.2:29003/"),
            "http://10.0.0.2:29003/"
        );
        assert_eq!(without_password("https://host:1"), "https://host:1");
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let row = fetch_row(&format!("http://127.0.0.1:{port}"), Duration::from_secs(2)).await;
        assert_eq!(row.colour, "unreachable");
        assert!(row.detail.contains("cannot connect"), "{}", row.detail);
    }
}
