//! `httpw`: an HTTP or HTTPS server answers a request with a status below the error floor.
//!
//! Each check opens a new connection to `servername:port`, (with `https`) makes a TLS
//! handshake, sends one `HEAD` (or `GET`) request for `requesturi` with `Connection: close`,
//! and reads the response header. The check is healthy when the status is below
//! `errorstatus` (default 400). It is a small HTTP/1.1 client over tokio and rustls (ring):
//! the whole check is one future, so when the engine abandons it at the monitor's timeout
//! the socket is closed and nothing is left running. The body of a `GET` answer is not
//! read: the status is the verdict.
//!
//! # Parameters (`[monitor.parameters]`)
//! | key | meaning | default |
//! |---|---|---|
//! | `servername` | host name or IP address to connect to; also the `Host` header and the name the certificate must carry | `"localhost"` |
//! | `port` | TCP port | `80`, or `443` with `https` |
//! | `requesturi` | the request target, starting with `/` | `"/"` |
//! | `https` | `1`/`true`: HTTPS | `0` |
//! | `requesttype` | `0` or `"HEAD"`, `1` or `"GET"` | `0` (`HEAD`) |
//! | `username`, `password` | Basic authentication (sent only when `username` is given) | none |
//! | `errorstatus` | the lowest status that is a fault (`201`–`1000`; `1000`: no status is) | `400` |
//! | `verifycert` | HTTPS: verify the server's certificate and name | `1` |
//! | `cafile` | HTTPS: a PEM file of the CA certificates to trust, instead of the system's | the system's store |
//!
//! `servername` to `password` are the original's names and defaults (reference §4; `port`
//! 80 is \[M\], `requesturi` "/" is ours); `errorstatus`, `verifycert` and `cafile` are ours. The original's `encrypwd`
//! (a `clpencrypt`ed password) is not supported. With `verifycert` on and no `cafile`, the
//! certificate must chain to the system's trust store (read once per daemon, like curl does);
//! `verifycert = 0` accepts any certificate (the handshake signature is still checked).
//! Every check makes a full handshake (no session resumption), so an expired or replaced
//! certificate is a fault at the next check (`invalid peer certificate: Expired`).
//!
//! # Defaults
//! Interval 60 s, timeout 120 s, retry 2: the reference's values for the Internet/DB agent
//! monitors (§4, \[M\]). The recovery target defaults to the monitor's `target` resource (the
//! local server without one): the web server's resource is what a restart repairs.
//!
//! # Detail codes (`rm 9 ... (CODE : DETAIL)`)
//! | code | fault | detail, for example |
//! |---|---|---|
//! | 1 | the name does not resolve | `Cannot resolve the host name "web1": ...` |
//! | 2 | no TCP connection | `Cannot connect to 127.0.0.1:80: connection refused.` |
//! | 3 | the TLS handshake failed | `TLS handshake with 127.0.0.1:443 failed: invalid peer certificate: UnknownIssuer.` |
//! | 4 | an error status | `HTTP status 500 Internal Server Error (HEAD http://127.0.0.1:80/).` |
//! | 5 | no valid HTTP answer | `No valid HTTP response (HEAD http://127.0.0.1:80/): the server closed the connection before the status line.` |
//! | 99 | no answer within the timeout (from the engine) | `Monitor timed out after 120 seconds.` |
//!
//! The original's own detail codes for httpw are not known (reference §12); these are ours.

use crate::tcp::{self, ConnectError};
use base64::Engine as _;
use clp_core::monitor::httpw::*;
use clp_core::monitor::spec::ProbeSettings;
use clp_core::monitor::{CheckFuture, CheckOutcome, Probe, ProbeContext};
use clp_core::os_action::OsActions;
use clp_core::tls;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use std::net::IpAddr;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::TlsConnector;

/// The longest response header read before giving up on it.
const MAX_HEADER: usize = 64 * 1024;

/// Room made in the response buffer before each read.
const READ_AT_ONCE: usize = 4096;

/// Builds the probe of a validated monitor ([`clp_core::monitor::spec::BuildProbe`]).
pub fn build(config: &ProbeSettings<'_>, _: &OsActions) -> Result<Box<dyn Probe>, String> {
    let (params, problems) = parse(config.parameters);
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    Httpw::new(params).map(|probe| Box::new(probe) as Box<dyn Probe>)
}

/// The httpw probe: the request is built once, the TLS configuration too.
pub struct Httpw {
    params: HttpwParams,
    request: Vec<u8>,
    /// Where it connects (a literal address parsed once).
    peer: tcp::Peer,
    /// What the details name: `HEAD http://host:port/uri`.
    target: String,
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

impl std::fmt::Debug for Httpw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Httpw")
            .field("target", &self.target)
            .finish()
    }
}

impl Httpw {
    /// A probe of validated parameters; fails when the TLS set-up cannot be made (an
    /// unreadable `cafile`).
    pub fn new(params: HttpwParams) -> Result<Httpw, String> {
        let host = match params.servername.parse::<IpAddr>() {
            Ok(IpAddr::V6(address)) => format!("[{address}]"),
            _ => params.servername.clone(),
        };
        let scheme = if params.https { "https" } else { "http" };
        let default_port = if params.https { 443 } else { 80 };
        let authority = if params.port == default_port {
            host.clone()
        } else {
            format!("{host}:{}", params.port)
        };
        let method = params.requesttype.method();
        let mut request = format!(
            "{method} {uri} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: clp-httpw/{version}\r\nAccept: */*\r\nConnection: close\r\n",
            uri = params.requesturi,
            version = env!("CARGO_PKG_VERSION"),
        );
        if let Some(username) = &params.username {
            let token = base64::engine::general_purpose::STANDARD
                .encode(format!("{username}:{}", &*params.password));
            request.push_str(&format!("Authorization: Basic {token}\r\n"));
        }
        request.push_str("\r\n");
        let target = format!(
            "{method} {scheme}://{host}:{}{}",
            params.port, params.requesturi
        );
        let tls = if params.https {
            let name = ServerName::try_from(params.servername.clone()).map_err(|error| {
                format!("\"{}\" cannot be a TLS name: {error}", params.servername)
            })?;
            let config = tls_config(&params)?;
            Some((TlsConnector::from(Arc::new(config)), name))
        } else {
            None
        };
        Ok(Httpw {
            peer: tcp::Peer::new(&params.servername, params.port),
            params,
            request: request.into_bytes(),
            target,
            tls,
        })
    }

    async fn run(&self) -> CheckOutcome {
        // Plain HTTP sends the request as soon as the connection is made (TLS first needs
        // its handshake).
        let first: &[u8] = if self.tls.is_none() {
            &self.request
        } else {
            &[]
        };
        let (stream, sent) = match tcp::connect_sending(&self.peer, first).await {
            Ok(connected) => connected,
            Err(error @ ConnectError::Resolve { .. }) => {
                return failure(NAME_RESOLUTION, error.to_string());
            }
            Err(error @ ConnectError::Connect { .. }) => {
                return failure(CONNECTION_FAILED, error.to_string());
            }
        };
        let errorstatus = self.params.errorstatus;
        let answer = match &self.tls {
            // The request is one write: Nagle's algorithm cannot delay it, so plain HTTP
            // needs no TCP_NODELAY (a syscall a check).
            None => match sent {
                Ok(sent) => exchange(stream, &self.request[sent..], errorstatus).await,
                Err(error) => Err(send_failed(&error)),
            },
            // Boxed: a TLS connection's state is ~7 KB, which a plain check's future would
            // otherwise carry (allocated and copied each check) without using it.
            Some((connector, name)) => {
                match Box::pin(tls_exchange(
                    connector,
                    name,
                    stream,
                    &self.request,
                    &self.params,
                ))
                .await
                {
                    Ok(answer) => answer,
                    Err(outcome) => return outcome,
                }
            }
        };
        match answer {
            Ok(None) => CheckOutcome::Normal,
            Ok(Some((status, reason))) => {
                let reason = if reason.is_empty() {
                    String::new()
                } else {
                    format!(" {reason}")
                };
                failure(
                    ERROR_STATUS,
                    format!("HTTP status {status}{reason} ({}).", self.target),
                )
            }
            Err(why) => failure(
                PROTOCOL_ERROR,
                format!("No valid HTTP response ({}): {why}.", self.target),
            ),
        }
    }
}

impl Probe for Httpw {
    fn check(&mut self, _: ProbeContext) -> CheckFuture<'_> {
        Box::pin(self.run())
    }
}

/// The TLS handshake with the server, then the exchange; a failed handshake is the
/// check's outcome.
async fn tls_exchange(
    connector: &TlsConnector,
    name: &ServerName<'static>,
    stream: tokio::net::TcpStream,
    request: &[u8],
    params: &HttpwParams,
) -> Result<Result<Option<(u16, String)>, String>, CheckOutcome> {
    // The handshake's several writes would wait on delayed ACKs without it.
    let _ = stream.set_nodelay(true);
    let peer = stream
        .peer_addr()
        .map(|address| address.to_string())
        .unwrap_or_else(|_| format!("{}:{}", params.servername, params.port));
    match connector.connect(name.clone(), stream).await {
        Ok(stream) => Ok(exchange(stream, request, params.errorstatus).await),
        Err(error) => Err(failure(
            TLS_FAILED,
            format!(
                "TLS handshake with {peer} failed: {}.",
                tcp::describe(&error)
            ),
        )),
    }
}

/// Why a request could not be sent, in an operator's words.
fn send_failed(error: &std::io::Error) -> String {
    format!("sending the request failed: {}", tcp::describe(error))
}

fn failure(code: u32, detail: String) -> CheckOutcome {
    CheckOutcome::Failure { code, detail }
}

/// Sends `request` and reads the final response's status (informational `1xx` answers are
/// skipped): `None` when it is below `errorstatus`, else the status and its reason.
async fn exchange<S>(
    mut stream: S,
    request: &[u8],
    errorstatus: u16,
) -> Result<Option<(u16, String)>, String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    stream
        .write_all(request)
        .await
        .and(stream.flush().await)
        .map_err(|error| send_failed(&error))?;
    // Read straight into the buffer: a chunk array held across the read would be 4 KB of
    // every check's future.
    let mut buffer = Vec::with_capacity(READ_AT_ONCE);
    loop {
        // Nothing read yet, nothing to parse (the header array is 4 KiB to set up).
        if !buffer.is_empty() {
            let mut headers = [httparse::EMPTY_HEADER; 128];
            let mut response = httparse::Response::new(&mut headers);
            match response.parse(&buffer) {
                Ok(httparse::Status::Complete(length)) => {
                    let status = response.code.unwrap_or(0);
                    if (100..200).contains(&status) && status != 101 {
                        buffer.drain(..length);
                        continue;
                    }
                    if status < errorstatus {
                        return Ok(None);
                    }
                    let reason: String = response
                        .reason
                        .unwrap_or("")
                        .chars()
                        .filter(|c| !c.is_control())
                        .take(80)
                        .collect();
                    return Ok(Some((status, reason)));
                }
                Ok(httparse::Status::Partial) => {}
                Err(error) => return Err(format!("a malformed response header ({error})")),
            }
        }
        if buffer.len() >= MAX_HEADER {
            return Err(format!(
                "the response header is longer than {MAX_HEADER} bytes"
            ));
        }
        buffer.reserve(READ_AT_ONCE);
        let read = stream
            .read_buf(&mut buffer)
            .await
            .map_err(|error| format!("reading the response failed: {}", tcp::describe(&error)))?;
        if read == 0 {
            return Err(if buffer.is_empty() {
                "the server closed the connection before the status line".to_string()
            } else {
                "the server closed the connection in the middle of the response header".to_string()
            });
        }
    }
}

fn tls_config(params: &HttpwParams) -> Result<ClientConfig, String> {
    let builder = ClientConfig::builder_with_provider(tls::provider())
        .with_safe_default_protocol_versions()
        .map_err(|error| format!("TLS set-up failed: {error}"))?;
    let mut config = if !params.verifycert {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(
                tls::provider().signature_verification_algorithms,
            )))
            .with_no_client_auth()
    } else if let Some(path) = &params.cafile {
        builder
            .with_root_certificates(tls::read_cafile(path)?)
            .with_no_client_auth()
    } else {
        builder
            .with_root_certificates(tls::system_roots())
            .with_no_client_auth()
    };
    // A full handshake every check: a resumed session would skip the certificate, and an
    // expired or replaced one must be seen at the next check, as a new client would see it.
    config.resumption = rustls::client::Resumption::disabled();
    Ok(config)
}

/// `verifycert = 0`: any certificate is accepted, but the handshake's signatures are still
/// checked against the certificate presented.
#[derive(Debug)]
struct AnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, certificate, signature, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, certificate, signature, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clp_core::monitor::params::Secret;
    use std::path::PathBuf;
    use std::time::Duration;
    use tokio::net::TcpListener;

    fn table(text: &str) -> toml::Table {
        text.parse().unwrap()
    }

    #[test]
    fn defaults_are_the_originals() {
        let (params, problems) = parse(&toml::Table::new());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            params,
            HttpwParams {
                servername: "localhost".into(),
                port: 80,
                requesturi: "/".into(),
                https: false,
                requesttype: RequestType::Head,
                username: None,
                password: Secret::default(),
                errorstatus: 400,
                verifycert: true,
                cafile: None,
            }
        );
        let (params, _) = parse(&table("https = 1"));
        assert_eq!(params.port, 443);
        let (params, _) = parse(&table("https = true\nport = 8443"));
        assert_eq!(params.port, 8443);
    }

    #[test]
    fn the_originals_numbers_and_words_are_both_accepted() {
        for (text, expected) in [
            ("requesttype = 0", RequestType::Head),
            ("requesttype = 1", RequestType::Get),
            ("requesttype = \"GET\"", RequestType::Get),
            ("requesttype = \"head\"", RequestType::Head),
        ] {
            let (params, problems) = parse(&table(text));
            assert!(problems.is_empty(), "{text}: {problems:?}");
            assert_eq!(params.requesttype, expected, "{text}");
        }
    }

    #[test]
    fn bad_values_are_each_reported() {
        let (_, problems) = parse(&table(
            r#"
servername = "web server"
port = 0
requesturi = "index.html"
https = 2
requesttype = "POST"
username = "a:b"
errorstatus = 200
verifycert = "yes"
cafile = "ca.pem"
"#,
        ));
        let text = problems.join("\n");
        for key in [
            "servername",
            "port",
            "requesturi",
            "https",
            "requesttype",
            "username",
            "errorstatus",
            "verifycert",
            "cafile",
        ] {
            assert!(text.contains(&format!("key \"{key}\"")), "{key}: {text}");
        }
        assert!(text.contains("is not an absolute path"), "{text}");
    }

    #[test]
    fn unknown_keys_get_a_suggestion() {
        let (_, problems) = parse(&table("requsturi = \"/\"\nservername = \"web\""));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("did you mean \"requesturi\""),
            "{problems:?}"
        );
    }

    #[test]
    fn a_password_needs_a_user_and_a_cafile_needs_verified_https() {
        let (_, problems) = parse(&table("password = \"secret\""));
        assert_eq!(
            problems,
            ["key \"password\": is given without \"username\""]
        );
        let (_, problems) = parse(&table("cafile = \"/etc/ca.pem\""));
        assert_eq!(problems.len(), 1, "{problems:?}");
        let (_, problems) = parse(&table(
            "https = 1\nverifycert = 0\ncafile = \"/etc/ca.pem\"",
        ));
        assert_eq!(problems.len(), 1, "{problems:?}");
        let (params, problems) = parse(&table("https = 1\ncafile = \"/etc/ca.pem\""));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(params.cafile, Some(PathBuf::from("/etc/ca.pem")));
    }

    #[test]
    fn an_unreadable_cafile_stops_the_build() {
        let (params, _) = parse(&table(
            "servername = \"127.0.0.1\"\nhttps = 1\ncafile = \"/nonexistent/ca.pem\"",
        ));
        let error = Httpw::new(params).unwrap_err();
        assert!(
            error.starts_with("cannot read the cafile /nonexistent/ca.pem"),
            "{error}"
        );
    }

    /// A one-shot server on 127.0.0.1: answers the first connection with `answer` and
    /// returns what the client sent.
    async fn serve_once(answer: &'static [u8]) -> (u16, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut received = Vec::new();
            let mut chunk = [0u8; 1024];
            while !received.ends_with(b"\r\n\r\n") {
                let read = stream.read(&mut chunk).await.unwrap();
                if read == 0 {
                    break;
                }
                received.extend_from_slice(&chunk[..read]);
            }
            stream.write_all(answer).await.unwrap();
            String::from_utf8(received).unwrap()
        });
        (port, task)
    }

    fn probe(port: u16, extra: &str) -> Httpw {
        let (params, problems) = parse(&table(&format!(
            "servername = \"127.0.0.1\"\nport = {port}\n{extra}"
        )));
        assert!(problems.is_empty(), "{problems:?}");
        Httpw::new(params).unwrap()
    }

    fn context() -> ProbeContext {
        ProbeContext {
            lateness: Duration::ZERO,
            timeout: Duration::from_secs(5),
            target_process: None,
        }
    }

    #[tokio::test]
    async fn a_head_request_is_what_the_server_sees() {
        let (port, server) = serve_once(b"HTTP/1.1 204 No Content\r\n\r\n").await;
        let outcome = probe(port, "").check(context()).await;
        assert_eq!(outcome, CheckOutcome::Normal);
        let request = server.await.unwrap();
        assert!(
            request.starts_with(&format!("HEAD / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n")),
            "{request}"
        );
        assert!(request.contains("Connection: close\r\n"), "{request}");
        assert!(!request.contains("Authorization"), "{request}");
    }

    #[tokio::test]
    async fn get_with_basic_authentication() {
        let (port, server) = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello").await;
        let outcome = probe(
            port,
            "requesttype = 1\nrequesturi = \"/health?full=1\"\nusername = \"user\"\npassword = \"pass\"",
        )
        .check(context())
        .await;
        assert_eq!(outcome, CheckOutcome::Normal);
        let request = server.await.unwrap();
        assert!(
            request.starts_with("GET /health?full=1 HTTP/1.1\r\n"),
            "{request}"
        );
        // base64("user:pass")
        assert!(
            request.contains("Authorization: Basic dXNlcjpwYXNz\r\n"),
            "{request}"
        );
    }

    #[tokio::test]
    async fn an_error_status_is_a_failure_with_the_status() {
        let (port, _server) =
            serve_once(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n").await;
        let outcome = probe(port, "").check(context()).await;
        assert_eq!(
            outcome,
            CheckOutcome::Failure {
                code: ERROR_STATUS,
                detail: format!(
                    "HTTP status 503 Service Unavailable (HEAD http://127.0.0.1:{port}/)."
                ),
            }
        );
    }

    #[tokio::test]
    async fn the_error_floor_is_configurable() {
        let (port, _server) = serve_once(b"HTTP/1.1 404 Not Found\r\n\r\n").await;
        let outcome = probe(port, "errorstatus = 500").check(context()).await;
        assert_eq!(outcome, CheckOutcome::Normal);
        let (port, _server) = serve_once(b"HTTP/1.1 302 Found\r\nLocation: /x\r\n\r\n").await;
        let outcome = probe(port, "errorstatus = 300").check(context()).await;
        assert!(
            matches!(outcome, CheckOutcome::Failure { code: ERROR_STATUS, ref detail } if detail.starts_with("HTTP status 302 Found")),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn informational_answers_are_skipped() {
        let (port, _server) = serve_once(
            b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 500 Internal Server Error\r\n\r\n",
        )
        .await;
        let outcome = probe(port, "").check(context()).await;
        assert!(
            matches!(outcome, CheckOutcome::Failure { code: ERROR_STATUS, ref detail } if detail.starts_with("HTTP status 500 Internal Server Error")),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn a_server_that_hangs_up_or_talks_nonsense_is_a_protocol_error() {
        let (port, _server) = serve_once(b"").await;
        let outcome = probe(port, "").check(context()).await;
        assert_eq!(
            outcome,
            CheckOutcome::Failure {
                code: PROTOCOL_ERROR,
                detail: format!(
                    "No valid HTTP response (HEAD http://127.0.0.1:{port}/): the server closed the connection before the status line."
                ),
            }
        );
        let (port, _server) = serve_once(b"SSH-2.0-OpenSSH_9.2\r\n\r\n").await;
        let outcome = probe(port, "").check(context()).await;
        assert!(
            matches!(outcome, CheckOutcome::Failure { code: PROTOCOL_ERROR, ref detail } if detail.contains("a malformed response header")),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn nothing_listening_is_a_refused_connection() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let outcome = probe(port, "").check(context()).await;
        assert_eq!(
            outcome,
            CheckOutcome::Failure {
                code: CONNECTION_FAILED,
                detail: format!("Cannot connect to 127.0.0.1:{port}: connection refused."),
            }
        );
    }

    #[tokio::test]
    async fn tls_to_a_plain_server_is_a_tls_failure() {
        // A plain HTTP server answering the ClientHello with an HTTP error.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let _server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        });
        let outcome = probe(port, "https = 1\nverifycert = 0")
            .check(context())
            .await;
        assert!(
            matches!(outcome, CheckOutcome::Failure { code: TLS_FAILED, ref detail } if detail.starts_with(&format!("TLS handshake with 127.0.0.1:{port} failed: "))),
            "{outcome:?}"
        );
    }

    #[test]
    fn a_cafile_that_is_not_a_string_is_one_problem() {
        let (_, problems) = parse(&table("https = 1\ncafile = 3"));
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn an_ipv6_server_is_bracketed() {
        let (params, problems) = parse(&table("servername = \"::1\"\nport = 8080"));
        assert!(problems.is_empty(), "{problems:?}");
        let probe = Httpw::new(params).unwrap();
        let request = String::from_utf8(probe.request.clone()).unwrap();
        assert!(request.contains("Host: [::1]:8080\r\n"), "{request}");
        assert_eq!(probe.target, "HEAD http://[::1]:8080/");
    }
}
