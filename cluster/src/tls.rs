//! TLS to etcd: the CA that signed the members' certificates (or the system's roots) and this
//! server's client certificate, read from the PEM files `[etcd]` names each time a
//! connection is made (a renewed certificate is taken at the next reconnection).

use std::path::Path;

use clp_core::config::EtcdTls;
use etcd_client::{Certificate, ConnectOptions, Identity, TlsOptions};

/// The connection options for `tls`, or why they cannot be made (a file that cannot be read
/// or holds no PEM), naming the key and the file.
pub fn with_tls(options: ConnectOptions, tls: Option<&EtcdTls>) -> Result<ConnectOptions, String> {
    let Some(tls) = tls else {
        return Ok(options);
    };
    let mut config = TlsOptions::new();
    config = match &tls.ca_file {
        Some(file) => config.ca_certificate(Certificate::from_pem(read_pem("ca_file", file)?)),
        None => config.with_native_roots(),
    };
    if let Some(client) = &tls.client {
        let cert = read_pem("cert_file", &client.cert)?;
        let key = read_pem("key_file", &client.key)?;
        config = config.identity(Identity::from_pem(cert, key));
    }
    Ok(options.with_tls(config))
}

/// The PEM text of `file` (`[etcd] key`), or what is wrong with it.
fn read_pem(key: &str, file: &Path) -> Result<Vec<u8>, String> {
    let text =
        std::fs::read(file).map_err(|error| format!("[etcd] {key} {}: {error}", file.display()))?;
    if !text.windows(11).any(|window| window == b"-----BEGIN ") {
        return Err(format!(
            "[etcd] {key} {}: no PEM block (-----BEGIN ...) in the file",
            file.display()
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clp_core::config::TlsFiles;

    #[test]
    fn a_file_that_cannot_be_read_or_holds_no_pem_is_named_with_its_key() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let missing = dir.path().join("missing.pem");
        let tls = EtcdTls {
            ca_file: Some(missing.clone()),
            client: None,
        };
        let error = with_tls(ConnectOptions::new(), Some(&tls)).expect_err("refused");
        assert!(
            error.starts_with(&format!("[etcd] ca_file {}: ", missing.display())),
            "{error}"
        );

        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "not a certificate").expect("written");
        let tls = EtcdTls {
            ca_file: None,
            client: Some(TlsFiles {
                cert: garbage.clone(),
                key: garbage.clone(),
            }),
        };
        let error = with_tls(ConnectOptions::new(), Some(&tls)).expect_err("refused");
        assert_eq!(
            error,
            format!(
                "[etcd] cert_file {}: no PEM block (-----BEGIN ...) in the file",
                garbage.display()
            )
        );
        assert!(with_tls(ConnectOptions::new(), None).is_ok());
    }
}
