//! Issuer key files and ed25519 signatures.

use std::path::Path;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

use super::{License, LicenseError};
use crate::paths::Paths;

/// `etc/license-issuers/`: the trusted issuers' public keys.
pub fn issuers_dir(paths: &Paths) -> std::path::PathBuf {
    paths.license_issuers_dir()
}

/// Decodes `N` bytes of hex.
pub(super) fn decode_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let text = text.trim();
    if text.len() != N * 2 {
        return None;
    }
    let mut bytes = [0u8; N];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(bytes)
}

pub(super) fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The trusted issuers: every `*.pub` file (64 hex characters) in `etc/license-issuers/`.
pub fn trusted_issuers(paths: &Paths) -> Vec<VerifyingKey> {
    let dir = issuers_dir(paths);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut keys = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("pub") {
            continue;
        }
        match read_public_key(&path) {
            Ok(key) => keys.push(key),
            Err(error) => tracing::warn!("{error}"),
        }
    }
    keys
}

/// Reads a public key file (64 hex characters).
pub fn read_public_key(path: &Path) -> Result<VerifyingKey, LicenseError> {
    let bad = |why: &str| LicenseError::Key {
        path: path.to_path_buf(),
        why: why.to_string(),
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(&e.to_string()))?;
    let bytes = decode_hex::<32>(&text).ok_or_else(|| bad("not 64 hex characters"))?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| bad("not an ed25519 public key"))
}

/// Reads an issuer's private key (64 hex characters), refusing a file others may read.
pub fn read_signing_key(path: &Path) -> Result<SigningKey, LicenseError> {
    use std::os::unix::fs::PermissionsExt;
    let bad = |why: String| LicenseError::Key {
        path: path.to_path_buf(),
        why,
    };
    let meta = std::fs::metadata(path).map_err(|e| bad(e.to_string()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(bad(
            "the private key must be readable by its owner only (chmod 600)".into(),
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let bytes = decode_hex::<32>(&text).ok_or_else(|| bad("not 64 hex characters".into()))?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// A new key pair from the kernel's random source: (private hex, public hex).
pub fn generate_key_pair() -> std::io::Result<(String, String)> {
    use std::io::Read;
    let mut seed = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut seed)?;
    let key = SigningKey::from_bytes(&seed);
    Ok((
        encode_hex(&seed),
        encode_hex(&key.verifying_key().to_bytes()),
    ))
}

/// Signs a license (fills `key` and `serial`).
pub fn sign(mut license: License, issuer: &SigningKey) -> License {
    license.key = encode_hex(&issuer.sign(license.payload().as_bytes()).to_bytes());
    license.serial = license
        .key
        .chars()
        .take(16)
        .collect::<String>()
        .to_uppercase();
    license
}
