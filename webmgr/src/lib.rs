//! clp-webmgr: the WebManager (`clpwebmgr`): operators watch and operate the server from a browser on
//! port 29003, as with the original's WebManager.
//!
//! It is its own process, a client of clppm's control socket like every command, so a
//! restart of it never touches the supervisor, and it still answers when clppm is down
//! (the status from the configuration, and why). Pages are HTML with a little vanilla
//! JavaScript and CSS embedded in the binary; behind every page and operation is a JSON
//! API on the original's REST paths. Access is by client address ([`access`]) and two
//! passwords ([`passwords`]); `/clusterlist` is the integrated viewer ([`viewer`]) and
//! `/metrics` the Prometheus exposition ([`metrics`]).
//!
//! Starting it detached and stopping it from a command is client work and stays in
//! `clp_core::webmgr_launch`, so `clp_ml` does not link this server.
#![warn(missing_docs)]

pub mod access;
pub mod budget;
pub mod follower;
pub mod i18n;
pub mod link;
pub mod logjobs;
pub mod metrics;
pub mod model;
pub mod passwords;
mod random;
pub mod serve;
pub mod server;
pub mod verifier;
pub mod viewer;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};

use clp_core::config::{self, ConfigError, TlsFiles};
use clp_core::paths::Paths;
use clp_core::pid_lock::{PidLock, PidLockError};

/// How long open connections (live views) get to finish when the WebManager stops.
const GRACE: Duration = Duration::from_secs(1);

/// Why the WebManager could not start.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Another clpwebmgr runs on this root.
    #[error("clpwebmgr is already running on {root} (pid {pid})")]
    AlreadyRunning {
        /// The root.
        root: String,
        /// Its pid.
        pid: String,
    },
    /// The pid file could not be written.
    #[error("{0}")]
    PidFile(PidLockError),
    /// The configuration is invalid.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The address could not be bound.
    #[error(
        "cannot listen on {address}: {source}; change [webmanager] listen in clp.conf or pass --listen"
    )]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The certificate or key could not be used.
    #[error("{}: {message}", path.display())]
    Tls {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Serving failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// A WebManager with its lock taken and its address bound, not yet serving.
pub struct Prepared {
    _lock: PidLock,
    listener: TcpListener,
    local: SocketAddr,
    tls: Option<Arc<rustls::ServerConfig>>,
    app: Arc<server::App>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("local", &self.local)
            .finish()
    }
}

/// Reads the configuration, takes the single-instance lock, loads the certificate and
/// binds the address (`listen` overrides `[webmanager] listen`). Every failure here is the
/// startup error the operator sees.
pub fn prepare(paths: &Paths, listen: Option<SocketAddr>) -> Result<Prepared, WebError> {
    let config = config::load(paths)?;
    let lock = PidLock::take(&paths.webmgr_pid_file()).map_err(|error| match error {
        PidLockError::Held { pid } => WebError::AlreadyRunning {
            root: paths.root().display().to_string(),
            pid,
        },
        other => WebError::PidFile(other),
    })?;
    let tls = config
        .webmanager
        .tls
        .as_ref()
        .map(|files| tls_config(paths, files))
        .transpose()?;
    let address = listen.unwrap_or(config.webmanager.listen);
    let listener =
        TcpListener::bind(address).map_err(|source| WebError::Bind { address, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| WebError::Bind { address, source })?;
    let app = server::App::new(paths.clone(), config);
    Ok(Prepared {
        _lock: lock,
        listener,
        local,
        tls,
        app,
    })
}

fn under_etc(paths: &Paths, file: &Path) -> PathBuf {
    if file.is_absolute() {
        file.to_path_buf()
    } else {
        paths.etc_dir().join(file)
    }
}

/// The server's TLS configuration from PEM files (ring, TLS 1.2 and 1.3).
fn tls_config(paths: &Paths, files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>, WebError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let cert_path = under_etc(paths, &files.cert);
    let key_path = under_etc(paths, &files.key);
    let tls_error = |path: &Path, message: String| WebError::Tls {
        path: path.to_path_buf(),
        message,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .and_then(|certs| certs.collect())
        .map_err(|error| {
            tls_error(
                &cert_path,
                format!("cannot read the certificate chain: {error}"),
            )
        })?;
    if certs.is_empty() {
        return Err(tls_error(&cert_path, "no certificate in the file".into()));
    }
    let key = PrivateKeyDer::from_pem_file(&key_path)
        .map_err(|error| tls_error(&key_path, format!("cannot read the private key: {error}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| tls_error(&cert_path, error.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|error| {
            tls_error(
                &cert_path,
                format!("the certificate and the key do not go together: {error}"),
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

impl Prepared {
    /// The address bound (the real port when `:0` was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Whether it serves HTTPS.
    pub fn tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Serves until SIGTERM or SIGINT, then stops: open connections get a moment, the
    /// address file and the pid file are removed.
    pub async fn run(self) -> Result<(), WebError> {
        let Prepared {
            _lock,
            listener,
            local,
            tls,
            app,
        } = self;
        // The handlers are installed before the address is announced: a SIGTERM from
        // whoever read it is an orderly stop.
        let mut term = signal(SignalKind::terminate()).map_err(|source| WebError::Io {
            what: "cannot install the SIGTERM handler".into(),
            source,
        })?;
        let mut int = signal(SignalKind::interrupt()).map_err(|source| WebError::Io {
            what: "cannot install the SIGINT handler".into(),
            source,
        })?;
        tokio::spawn(Arc::clone(&app.follower).run());
        let paths = app.paths.clone();
        let limits = serve::Limits {
            header_timeout: app.config.webmanager.header_timeout,
            idle_timeout: app.config.webmanager.idle_timeout,
            max_connections: app.config.webmanager.max_connections,
        };
        let io = |what: &str| {
            let what = what.to_string();
            move |source| WebError::Io { what, source }
        };
        listener.set_nonblocking(true).map_err(io("cannot serve"))?;
        let listener = tokio::net::TcpListener::from_std(listener).map_err(io("cannot serve"))?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut served = tokio::spawn(serve::serve(
            listener,
            tls.map(tokio_rustls::TlsAcceptor::from),
            server::router(app),
            limits,
            stopped,
            GRACE,
        ));
        write_address(&paths, local).map_err(io("cannot write the address file"))?;
        tracing::info!("clpwebmgr listening on {local}");
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: stopping"),
            _ = int.recv() => tracing::info!("SIGINT: stopping"),
            result = &mut served => {
                let _ = std::fs::remove_file(paths.webmgr_addr_file());
                return match result {
                    Ok(()) => Ok(()),
                    Err(error) => Err(WebError::Io { what: "the server stopped".into(), source: std::io::Error::other(error.to_string()) }),
                };
            }
        }
        let _ = stop.send(true);
        let _ = tokio::time::timeout(GRACE * 2, served).await;
        let _ = std::fs::remove_file(paths.webmgr_addr_file());
        Ok(())
    }
}

/// Writes `run/clpwebmgr.addr` through a temporary file, so a reader never sees half.
fn write_address(paths: &Paths, local: SocketAddr) -> std::io::Result<()> {
    let file = paths.webmgr_addr_file();
    let temporary = paths.webmgr_addr_partial_file();
    std::fs::write(&temporary, format!("{local}\n"))?;
    std::fs::rename(&temporary, file)
}

impl clp_core::exit_code::Coded for WebError {
    fn code(&self) -> u8 {
        use clp_core::exit_code;
        match self {
            WebError::AlreadyRunning { .. } => exit_code::ALREADY_RUNNING,
            WebError::Config(_) => exit_code::BAD_CONFIG,
            WebError::PidFile(_)
            | WebError::Bind { .. }
            | WebError::Tls { .. }
            | WebError::Io { .. } => exit_code::INIT_ERROR,
        }
    }
}

#[cfg(test)]
mod layer_tests {
    /// The follower feeds the server, and the guard guards the routes: neither may import
    /// what stands above it (each did once, closing a circle of six files).
    #[test]
    fn the_follower_and_the_guard_import_nothing_above_them() {
        let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        for (file, above) in [
            ("follower.rs", &["server::"][..]),
            ("server/guard.rs", &["routes::", "pages::", "api::"][..]),
        ] {
            let text = std::fs::read_to_string(source.join(file)).unwrap();
            // Code only: a doc comment may point upward.
            let code: String = text
                .lines()
                .filter(|line| !line.trim_start().starts_with("//"))
                .collect();
            for name in above {
                assert!(!code.contains(name), "{file} imports {name}");
            }
        }
    }
}
