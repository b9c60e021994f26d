//! A test PKI for etcd over TLS: a CA, a certificate for each etcd member (its address and
//! 127.0.0.1), a client certificate the servers present, and one from another CA that etcd
//! must refuse. PEM files in the bed's folder.

use std::path::{Path, PathBuf};

/// The files of a bed's PKI.
pub struct Pki {
    /// The CA that signed the members' and the client's certificates.
    pub ca: PathBuf,
    /// The client certificate and key every server presents.
    pub client: (PathBuf, PathBuf),
    /// A client certificate and key signed by another CA.
    pub rogue: (PathBuf, PathBuf),
    /// Each member's certificate and key, by host index.
    pub members: Vec<(PathBuf, PathBuf)>,
}

impl Pki {
    /// Writes a PKI for members at `addresses` into `dir`.
    pub fn create(dir: &Path, addresses: &[String]) -> Pki {
        let ca = authority("clp test etcd CA");
        let other = authority("another CA");
        std::fs::write(dir.join("ca.pem"), ca.pem()).expect("ca.pem");
        let members = addresses
            .iter()
            .enumerate()
            .map(|(index, address)| {
                let names = vec![address.clone(), "127.0.0.1".to_string()];
                let purposes = vec![
                    rcgen::ExtendedKeyUsagePurpose::ServerAuth,
                    rcgen::ExtendedKeyUsagePurpose::ClientAuth,
                ];
                leaf(dir, &format!("member{index}"), names, purposes, &ca)
            })
            .collect();
        let client_use = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        Pki {
            ca: dir.join("ca.pem"),
            client: leaf(dir, "client", Vec::new(), client_use.clone(), &ca),
            rogue: leaf(dir, "rogue", Vec::new(), client_use, &other),
            members,
        }
    }
}

/// A self-signed CA named `name`.
fn authority(name: &str) -> rcgen::CertifiedIssuer<'static, rcgen::KeyPair> {
    let key = rcgen::KeyPair::generate().expect("a CA key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    rcgen::CertifiedIssuer::self_signed(params, key).expect("a self-signed CA")
}

/// A certificate for `names` signed by `ca`, written as `NAME.pem` and `NAME-key.pem`.
fn leaf(
    dir: &Path,
    name: &str,
    names: Vec<String>,
    purposes: Vec<rcgen::ExtendedKeyUsagePurpose>,
    ca: &rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
) -> (PathBuf, PathBuf) {
    let key = rcgen::KeyPair::generate().expect("a key");
    let mut params = rcgen::CertificateParams::new(names).expect("leaf params");
    params.is_ca = rcgen::IsCa::ExplicitNoCa;
    params.extended_key_usages = purposes;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let certificate = params.signed_by(&key, ca).expect("a signed certificate");
    let cert = dir.join(format!("{name}.pem"));
    let key_file = dir.join(format!("{name}-key.pem"));
    std::fs::write(&cert, certificate.pem()).expect("a certificate file");
    std::fs::write(&key_file, key.serialize_pem()).expect("a key file");
    (cert, key_file)
}
