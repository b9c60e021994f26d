//! What every TLS client of clp shares (httpw, clp_mlftp): the one crypto provider (ring),
//! the CA certificates of a `cafile`, and the system's trust store.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// The crypto provider of every TLS connection: ring (no aws-lc, no openssl).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The CA certificates of a PEM file (every `CERTIFICATE` block in it).
pub fn read_cafile(path: &Path) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|error| format!("cannot read the cafile {}: {error}", path.display()))?;
    for certificate in certificates {
        let certificate = certificate
            .map_err(|error| format!("cannot read the cafile {}: {error}", path.display()))?;
        store.add(certificate).map_err(|error| {
            format!(
                "the cafile {} holds an unusable certificate: {error}",
                path.display()
            )
        })?;
    }
    if store.is_empty() {
        return Err(format!(
            "the cafile {} holds no PEM certificate",
            path.display()
        ));
    }
    Ok(store)
}

/// The system's trust store, read once per process.
pub fn system_roots() -> Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let loaded = rustls_native_certs::load_native_certs();
            for error in &loaded.errors {
                tracing::warn!("reading the system's CA certificates: {error}");
            }
            let mut store = RootCertStore::empty();
            let (_, ignored) = store.add_parsable_certificates(loaded.certs);
            if ignored > 0 {
                tracing::warn!("{ignored} system CA certificates are unusable and ignored");
            }
            if store.is_empty() {
                tracing::warn!(
                    "no system CA certificate found: TLS connections without a cafile will fail"
                );
            }
            Arc::new(store)
        })
        .clone()
}
