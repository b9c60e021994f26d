//! httpw against a real HTTP(S) server on 127.0.0.1 that the test starts, makes answer 500,
//! stops, makes hang, and repairs; over HTTPS with a CA made by the test.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::harness::*;

/// What the test web server does with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Answers with this status.
    Answer(u16),
    /// Reads the request and never answers; holds the connection until the client closes it.
    Hang,
}

#[derive(Default)]
struct Seen {
    /// Every request head received.
    requests: Vec<String>,
    /// How long each hung connection stayed open before the client closed it.
    hung_closed: Vec<Duration>,
}

struct Shared {
    behaviour: Mutex<Behaviour>,
    seen: Mutex<Seen>,
    tls: Option<Arc<rustls::ServerConfig>>,
}

/// A real HTTP/1.1 server (HTTPS with a TLS configuration) on 127.0.0.1, one thread per
/// connection. Dropping it closes the listening socket; hung connections end when their
/// client closes them (or after 30 s, a guard so that no thread outlives a test by much).
pub struct WebServer {
    /// The port it listens on.
    pub port: u16,
    shared: Arc<Shared>,
    running: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

impl WebServer {
    /// Listens on a free port and answers 200.
    pub fn start(tls: Option<Arc<rustls::ServerConfig>>) -> WebServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        let mut server = WebServer {
            port,
            shared: Arc::new(Shared {
                behaviour: Mutex::new(Behaviour::Answer(200)),
                seen: Mutex::new(Seen::default()),
                tls,
            }),
            running: None,
        };
        server.serve(listener);
        server
    }

    fn serve(&mut self, listener: TcpListener) {
        let stopping = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stopping);
        let shared = Arc::clone(&self.shared);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || handle(stream, &shared));
            }
        });
        self.running = Some((stopping, thread));
    }

    /// Closes the listening socket: connections are refused from now on.
    pub fn stop(&mut self) {
        if let Some((stopping, thread)) = self.running.take() {
            stopping.store(true, Ordering::SeqCst);
            // Wake the blocking accept so the thread sees the flag and drops the listener.
            let _ = TcpStream::connect(("127.0.0.1", self.port));
            let _ = thread.join();
        }
    }

    /// Listens again on the same port.
    pub fn restart(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).expect("bind the same port");
        self.serve(listener);
    }

    /// Changes what the server does with the next requests.
    pub fn behave(&self, behaviour: Behaviour) {
        *self.shared.behaviour.lock().unwrap() = behaviour;
    }

    /// The request heads received so far.
    pub fn requests(&self) -> Vec<String> {
        self.shared.seen.lock().unwrap().requests.clone()
    }

    /// How long each hung connection stayed open before its client closed it.
    pub fn hung_closed(&self) -> Vec<Duration> {
        self.shared.seen.lock().unwrap().hung_closed.clone()
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn handle(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    match &shared.tls {
        None => exchange(stream, shared),
        Some(config) => {
            if let Ok(connection) = rustls::ServerConnection::new(Arc::clone(config)) {
                exchange(rustls::StreamOwned::new(connection, stream), shared);
            }
        }
    }
}

fn exchange(mut stream: impl Read + Write, shared: &Shared) {
    let mut head = Vec::new();
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(read) => head.extend_from_slice(&chunk[..read]),
        }
    }
    let request = String::from_utf8_lossy(&head).into_owned();
    let is_head = request.starts_with("HEAD ");
    shared.seen.lock().unwrap().requests.push(request);
    let behaviour = *shared.behaviour.lock().unwrap();
    match behaviour {
        Behaviour::Answer(status) => {
            let reason = match status {
                200 => "OK",
                500 => "Internal Server Error",
                _ => "Whatever",
            };
            let mut answer = format!(
                "HTTP/1.1 {status} {reason}\r\nContent-Length: 3\r\nConnection: close\r\n\r\n"
            );
            if !is_head {
                answer.push_str("ok\n");
            }
            let _ = stream.write_all(answer.as_bytes());
            let _ = stream.flush();
        }
        Behaviour::Hang => {
            let since = Instant::now();
            // Until the client hangs up (or the 30 s guard).
            while let Ok(1..) = stream.read(&mut chunk) {}
            shared
                .seen
                .lock()
                .unwrap()
                .hung_closed
                .push(since.elapsed());
        }
    }
}

/// A group `web` with an async exec resource `httpd` (it stands for the web server: its
/// start script records `$CLP_EVENT` and sleeps), plus `monitors`.
pub fn web_cluster(monitors: &str) -> Cluster {
    let cluster = Cluster::with_config(&format!(
        r#"[cluster]
name = "zabi"

[[group]]
name = "web"

[[group.resource]]
name = "httpd"
mode = "async"

{monitors}"#
    ));
    cluster.script(
        "web",
        "httpd",
        "start.sh",
        "echo \"$CLP_EVENT\" >> events\nexec sleep 600",
    );
    cluster.script("web", "httpd", "stop.sh", "echo stop >> events");
    cluster
}

/// The lines of the events file `httpd`'s scripts append to.
pub fn httpd_events(cluster: &Cluster) -> Vec<String> {
    std::fs::read_to_string(cluster.path("etc/scripts/web/httpd/events"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn httpw_sees_an_error_status_a_stopped_server_and_a_hang_and_each_repair() {
    let mut server = WebServer::start(None);
    let port = server.port;
    let cluster = web_cluster(&format!(
        r#"[[monitor]]
name = "httpw"
type = "httpw"
interval = 0.5
timeout = 1
retry = 0
[monitor.parameters]
servername = "127.0.0.1"
port = {port}
requesturi = "/health"
[monitor.recovery]
target = "httpd"
reactivation_threshold = 1
final_action = "none"
"#
    ));
    cluster.start();
    wait_until("two checks answered", WAIT, || server.requests().len() >= 2);
    assert_eq!(cluster.monitor_status("httpw"), "Normal");
    let first = &server.requests()[0];
    assert!(
        first.starts_with(&format!(
            "HEAD /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        )),
        "{first}"
    );

    // The application breaks: 500.
    server.behave(Behaviour::Answer(500));
    wait_until("rm 9 for the 500", WAIT, || {
        cluster.alerts().contains(&format!(
            "rm 9 Detected an error in monitoring httpw. (4 : HTTP status 500 Internal Server Error (HEAD http://127.0.0.1:{port}/health).)"
        ))
    });
    assert_monitor_in_error(&cluster, "httpw");
    wait_until("the web server's resource restarted", WAIT, || {
        cluster.count_alerts(
            "rm 13 Recovery target httpd has restarted because an error was detected in monitoring httpw.",
        ) == 1
    });
    server.behave(Behaviour::Answer(200));
    wait_until("rm 26 after the 500", WAIT, || {
        cluster.count_alerts("rm 26 httpw status changed from error to normal.") == 1
    });

    // The server goes away: connection refused.
    server.stop();
    wait_until("rm 9 for the refused connection", WAIT, || {
        cluster.alerts().contains(&format!(
            "rm 9 Detected an error in monitoring httpw. (2 : Cannot connect to 127.0.0.1:{port}: connection refused.)"
        ))
    });
    server.restart();
    wait_until("rm 26 after the restart", WAIT, || {
        cluster.count_alerts("rm 26 httpw status changed from error to normal.") == 2
    });

    // The server accepts and never answers: the check is abandoned at its timeout.
    server.behave(Behaviour::Hang);
    wait_until("rm 9 for the hang", WAIT, || {
        cluster.alerts().contains(
            "rm 9 Detected an error in monitoring httpw. (99 : Monitor timed out after 1 seconds.)",
        )
    });
    wait_until("the abandoned check closed its connection", WAIT, || {
        !server.hung_closed().is_empty()
    });
    for open in server.hung_closed() {
        // Closed by the client at its 1 s timeout, not by the server's 30 s guard.
        assert!(
            open >= Duration::from_millis(500) && open < Duration::from_secs(10),
            "a hung connection stayed open {open:?}"
        );
    }
    server.behave(Behaviour::Answer(200));
    wait_until("rm 26 after the hang", WAIT, || {
        cluster.count_alerts("rm 26 httpw status changed from error to normal.") == 3
    });
    // One reactivation per fault: the counters start again after each repair.
    wait_until("three reactivations", WAIT, || {
        cluster.count_alerts("rm 13 Recovery target httpd has restarted") == 3
    });
    assert_eq!(
        httpd_events(&cluster)
            .iter()
            .filter(|e| *e == "RECOVER")
            .count(),
        3
    );
    cluster.stop();
}

/// A CA (its PEM) and a leaf for `localhost` and 127.0.0.1 signed by it (rustls refuses a
/// CA certificate used as the server's own).
struct TestPki {
    ca_pem: String,
    leaf: Arc<rustls::sign::CertifiedKey>,
}

impl TestPki {
    fn new(ca_name: &str) -> TestPki {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, ca_name);
        ca.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let ca = rcgen::CertifiedIssuer::self_signed(ca, ca_key).unwrap();

        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let mut leaf =
            rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                .unwrap();
        leaf.is_ca = rcgen::IsCa::ExplicitNoCa;
        leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        leaf.distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        let leaf = leaf.signed_by(&leaf_key, &ca).unwrap();

        let key = rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap();
        let leaf = rustls::sign::CertifiedKey::from_der(
            vec![leaf.der().clone(), ca.der().clone()],
            key,
            &rustls::crypto::ring::default_provider(),
        )
        .unwrap();
        TestPki {
            ca_pem: ca.pem(),
            leaf: Arc::new(leaf),
        }
    }
}

/// The server's certificate, which the test can replace while the server runs (same
/// configuration, so the same session cache: a client that resumed would not see it).
#[derive(Debug)]
struct SwitchableCertificate(Mutex<Arc<rustls::sign::CertifiedKey>>);

impl rustls::server::ResolvesServerCert for SwitchableCertificate {
    fn resolve(
        &self,
        _: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(Arc::clone(&self.0.lock().unwrap()))
    }
}

fn tls_server_config(certificate: Arc<SwitchableCertificate>) -> Arc<rustls::ServerConfig> {
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_cert_resolver(certificate);
    Arc::new(config)
}

#[test]
fn httpw_over_https_trusts_its_cafile_and_refuses_an_unknown_issuer() {
    let pki = TestPki::new("clp test CA");
    let certificate = Arc::new(SwitchableCertificate(Mutex::new(Arc::clone(&pki.leaf))));
    let server = WebServer::start(Some(tls_server_config(Arc::clone(&certificate))));
    let port = server.port;
    let cluster = web_cluster("");
    let cafile = cluster.path("etc/test-ca.pem");
    std::fs::write(&cafile, &pki.ca_pem).unwrap();
    let monitor = |name: &str, parameters: &str| {
        format!(
            r#"
[[monitor]]
name = "{name}"
type = "httpw"
interval = 0.5
timeout = 2
[monitor.parameters]
port = {port}
https = 1
{parameters}
[monitor.recovery]
target = "local-server"
reactivation_threshold = 0
final_action = "none"
"#
        )
    };
    let config = std::fs::read_to_string(cluster.path("etc/clp.conf")).unwrap()
        + &monitor(
            "trusted",
            &format!(
                "servername = \"localhost\"\ncafile = \"{}\"\nrequesttype = \"GET\"\nrequesturi = \"/status\"\nusername = \"operator\"\npassword = \"s3cret\"",
                cafile.display()
            ),
        )
        + &monitor("system-store", "servername = \"127.0.0.1\"")
        + &monitor("unverified", "servername = \"127.0.0.1\"\nverifycert = 0");
    cluster.write_config(&config);
    cluster.start();

    // With verification on and no cafile, the test CA is unknown to the system's store.
    wait_until("rm 9 for the unknown issuer", WAIT, || {
        cluster.alerts().contains(&format!(
            "rm 9 Detected an error in monitoring system-store. (3 : TLS handshake with 127.0.0.1:{port} failed: invalid peer certificate: UnknownIssuer.)"
        ))
    });
    // The cafile's CA vouches for the server: GET with Basic authentication, over TLS.
    wait_until("two authenticated GETs", WAIT, || {
        server
            .requests()
            .iter()
            .filter(|r| {
                r.starts_with("GET /status HTTP/1.1\r\n")
                    // base64("operator:s3cret")
                    && r.contains("Authorization: Basic b3BlcmF0b3I6czNjcmV0\r\n")
            })
            .count()
            >= 2
    });
    wait_until("the unverified monitor checked twice", WAIT, || {
        server
            .requests()
            .iter()
            .filter(|r| r.starts_with("HEAD / HTTP/1.1\r\n"))
            .count()
            >= 2
    });
    assert_eq!(cluster.monitor_status("trusted"), "Normal");
    assert_eq!(cluster.monitor_status("unverified"), "Normal");
    assert_monitor_in_error(&cluster, "system-store");
    let alerts = cluster.alerts();
    assert!(!alerts.contains("monitoring trusted"), "{alerts}");
    assert!(!alerts.contains("monitoring unverified"), "{alerts}");
    // The password never reaches the logs.
    let log = std::fs::read_to_string(cluster.path("log/clppm.log")).unwrap_or_default();
    assert!(!log.contains("s3cret") && !alerts.contains("s3cret"));

    // The certificate is replaced by one from another CA: every check is a full handshake,
    // so the next one sees it (a resumed session would not).
    *certificate.0.lock().unwrap() = TestPki::new("another CA").leaf;
    wait_until("rm 9 for the replaced certificate", WAIT, || {
        cluster.alerts().contains(
            "rm 9 Detected an error in monitoring trusted. (3 : TLS handshake with 127.0.0.1:",
        )
    });
    let alerts = cluster.alerts();
    assert!(
        alerts.contains(&format!(
            ":{port} failed: invalid peer certificate: UnknownIssuer.)"
        )),
        "{alerts}"
    );
    // Not verifying, the unverified monitor does not care.
    assert!(!alerts.contains("monitoring unverified"), "{alerts}");
    cluster.stop();
}
