//! The WebManager's two passwords, stored as argon2id hashes in
//! `$CLP_ROOT/etc/webmgr-passwords.toml` (mode 0600, replaced whole through a temporary file).
//!
//! `clpwebmgr --set-password operation|reference PASSWORD` writes the file; a running
//! WebManager notices the change at the next request. A password that was verified once is
//! remembered in memory, so that a browser sending it with every request pays the argon2
//! cost once; a wrong password pays it every time.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use serde::{Deserialize, Serialize};

use super::access::{Matched, PasswordsSet};

/// Which of the two passwords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordKind {
    /// Operations and reading.
    Operation,
    /// Reading only.
    Reference,
}

impl PasswordKind {
    /// Parses `operation` or `reference`.
    pub fn parse(word: &str) -> Option<PasswordKind> {
        match word {
            "operation" => Some(PasswordKind::Operation),
            "reference" => Some(PasswordKind::Reference),
            _ => None,
        }
    }

    /// The word.
    pub fn as_str(self) -> &'static str {
        match self {
            PasswordKind::Operation => "operation",
            PasswordKind::Reference => "reference",
        }
    }
}

/// Why the password file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Reading or writing failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not what `clpwebmgr --set-password` writes.
    #[error("{}: {message}; set the passwords again with 'clpwebmgr --set-password'", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Hashing failed.
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

/// The file's content: one PHC hash string per password that is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordFile {
    /// The operation password's hash.
    pub operation: Option<String>,
    /// The reference password's hash.
    pub reference: Option<String>,
}

impl PasswordFile {
    /// Reads the file; a missing file sets no password.
    pub fn load(path: &Path) -> Result<PasswordFile, PasswordError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(PasswordFile::default());
            }
            Err(source) => {
                return Err(PasswordError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let file: PasswordFile = toml::from_str(&text).map_err(|error| PasswordError::Corrupt {
            path: path.to_path_buf(),
            message: error.message().to_string(),
        })?;
        for hash in [&file.operation, &file.reference].into_iter().flatten() {
            PasswordHash::new(hash).map_err(|error| PasswordError::Corrupt {
                path: path.to_path_buf(),
                message: format!("not an argon2 hash ({error})"),
            })?;
        }
        Ok(file)
    }

    /// Which passwords are set.
    pub fn set(&self) -> PasswordsSet {
        PasswordsSet {
            operation: self.operation.is_some(),
            reference: self.reference.is_some(),
        }
    }

    /// What `password` matches (the operation password first).
    pub fn matches(&self, password: &str) -> Matched {
        self.matches_with(password, &mut Vec::new())
    }

    /// [`PasswordFile::matches`] with argon2's working memory in `memory`, kept by the
    /// caller from one verification to the next: a verifier thread holds one buffer for
    /// its life instead of asking the allocator for 19 MiB each time (glibc keeps such
    /// freed blocks in per-thread arenas, and a flood of wrong passwords took hundreds of
    /// MiB that way).
    pub fn matches_with(&self, password: &str, memory: &mut Vec<Block>) -> Matched {
        let mut verifies = |hash: &Option<String>| {
            hash.as_deref()
                .and_then(|hash| PasswordHash::new(hash).ok())
                .is_some_and(|hash| verify(password.as_bytes(), &hash, memory))
        };
        if verifies(&self.operation) {
            Matched::Operation
        } else if verifies(&self.reference) {
            Matched::Reference
        } else {
            Matched::Nothing
        }
    }
}

/// The largest argon2 working memory a stored hash may ask for (64 MiB; the default is
/// 19 MiB): a hash asking for more is not checked and matches nothing.
const MAX_BLOCKS: usize = 64 * 1024;

/// Whether `password` has `hash`, computed in `memory` (grown to the hash's size, kept).
fn verify(password: &[u8], hash: &PasswordHash<'_>, memory: &mut Vec<Block>) -> bool {
    let (Some(expected), Some(salt)) = (hash.hash, hash.salt) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm) else {
        return false;
    };
    let Ok(version) = hash.version.map(Version::try_from).transpose() else {
        return false;
    };
    let Ok(params) = Params::try_from(hash) else {
        return false;
    };
    let blocks = params.block_count();
    if blocks > MAX_BLOCKS {
        tracing::error!(
            "a WebManager password hash asks for {blocks} KiB of memory; set the password again"
        );
        return false;
    }
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut output = vec![0u8; expected.len()];
    Argon2::new(algorithm, version.unwrap_or_default(), params)
        .hash_password_into_with_memory(password, salt, &mut output, &mut memory[..blocks])
        .is_ok()
        && constant_time_eq(&output, expected.as_bytes())
}

/// Hashes `password` with argon2id and a fresh salt.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let random = crate::random::bytes::<16>()
        .map_err(|error| PasswordError::Hash(format!("cannot read /dev/urandom: {error}")))?;
    let salt =
        SaltString::encode_b64(&random).map_err(|error| PasswordError::Hash(error.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| PasswordError::Hash(error.to_string()))
}

/// Sets (`Some`) or clears (`None`) one password in the file at `path`.
pub fn store(path: &Path, kind: PasswordKind, password: Option<&str>) -> Result<(), PasswordError> {
    let mut file = PasswordFile::load(path)?;
    let hashed = password.map(hash).transpose()?;
    match kind {
        PasswordKind::Operation => file.operation = hashed,
        PasswordKind::Reference => file.reference = hashed,
    }
    let mut text = String::from(
        "# The WebManager's passwords (argon2id hashes), written by 'clpwebmgr --set-password'.\n",
    );
    text.push_str(&toml::to_string(&file).map_err(|error| PasswordError::Hash(error.to_string()))?);
    write_private(path, text.as_bytes())
}

/// Writes `bytes` to `path` through a temporary file of mode 0600 and a rename.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), PasswordError> {
    let io = |source| PasswordError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".partial");
    let temporary = PathBuf::from(temporary);
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temporary)?;
        // A leftover temporary file of another mode keeps its mode on open: set it again.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result.map_err(io)
}

/// The passwords as a running WebManager checks them: the file, reread when it changes,
/// and the passwords already verified.
#[derive(Debug)]
pub struct Passwords {
    path: PathBuf,
    state: Mutex<Loaded>,
}

#[derive(Debug, Default)]
struct Loaded {
    modified: Option<SystemTime>,
    file: PasswordFile,
    verified: Vec<(String, Matched)>,
}

/// How many verified passwords are remembered.
const REMEMBERED: usize = 8;

impl Passwords {
    /// The passwords of the file at `path` (read at the first check).
    pub fn new(path: PathBuf) -> Passwords {
        Passwords {
            path,
            state: Mutex::new(Loaded::default()),
        }
    }

    /// Which passwords are set and what `password` matches. Hashing makes this slow
    /// (tens of milliseconds and 19 MiB) for a password not verified before: call it off
    /// the async workers, through [`super::verifier::Verifier`]. An unreadable file counts
    /// as "both set, nothing matches": it fails closed.
    pub fn check(&self, password: Option<&str>) -> (PasswordsSet, Matched) {
        self.check_with(password, &mut Vec::new())
    }

    /// [`Passwords::check`] with argon2's working memory kept by the caller (see
    /// [`PasswordFile::matches_with`]).
    pub fn check_with(
        &self,
        password: Option<&str>,
        memory: &mut Vec<Block>,
    ) -> (PasswordsSet, Matched) {
        let file = match self.lookup(password) {
            Ok(answer) => return answer,
            Err(file) => file,
        };
        let Some(password) = password else {
            return (file.set(), Matched::Nothing);
        };
        let matched = file.matches_with(password, memory);
        if matched != Matched::Nothing {
            let mut state = self
                .state
                .lock()
                .unwrap_or_else(|poison| poison.into_inner());
            if state.file == file {
                if state.verified.len() >= REMEMBERED {
                    state.verified.remove(0);
                }
                state.verified.push((password.to_string(), matched));
            }
        }
        (file.set(), matched)
    }

    /// The answer of [`Passwords::check`] when it needs no hashing: no password sent, no
    /// password set, or one verified before. `None`: only hashing can tell.
    pub fn known(&self, password: Option<&str>) -> Option<(PasswordsSet, Matched)> {
        self.lookup(password).ok()
    }

    /// The answer without hashing, or the file to hash against.
    fn lookup(&self, password: Option<&str>) -> Result<(PasswordsSet, Matched), PasswordFile> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let modified = std::fs::metadata(&self.path)
            .and_then(|meta| meta.modified())
            .ok();
        if modified != state.modified
            || (modified.is_none() && state.file != PasswordFile::default())
        {
            match PasswordFile::load(&self.path) {
                Ok(file) => state.file = file,
                Err(error) => {
                    tracing::error!("{error}");
                    return Ok((
                        PasswordsSet {
                            operation: true,
                            reference: true,
                        },
                        Matched::Nothing,
                    ));
                }
            }
            state.modified = modified;
            state.verified.clear();
        }
        let Some(password) = password else {
            return Ok((state.file.set(), Matched::Nothing));
        };
        if state.file.set() == PasswordsSet::default() {
            return Ok((state.file.set(), Matched::Nothing));
        }
        // Compared in full every time, so the time taken tells nothing of the content.
        let mut found = None;
        for (known, matched) in &state.verified {
            if constant_time_eq(known.as_bytes(), password.as_bytes()) {
                found = Some(*matched);
            }
        }
        match found {
            Some(matched) => Ok((state.file.set(), matched)),
            None => Err(state.file.clone()),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut difference = a.len() ^ b.len();
    for (index, byte) in a.iter().enumerate() {
        difference |= usize::from(byte ^ b.get(index).copied().unwrap_or(0));
    }
    difference == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_passwords_are_hashed_private_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("etc/webmgr-passwords.toml");
        let passwords = Passwords::new(path.clone());
        assert_eq!(
            passwords.check(Some("x")),
            (PasswordsSet::default(), Matched::Nothing)
        );

        store(&path, PasswordKind::Operation, Some("op-secret")).unwrap();
        store(&path, PasswordKind::Reference, Some("ref-secret")).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("op-secret"), "{text}");
        assert!(text.contains("$argon2id$"), "{text}");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);

        let both = PasswordsSet {
            operation: true,
            reference: true,
        };
        assert_eq!(
            passwords.check(Some("op-secret")),
            (both, Matched::Operation)
        );
        assert_eq!(
            passwords.check(Some("op-secret")),
            (both, Matched::Operation)
        );
        assert_eq!(
            passwords.check(Some("ref-secret")),
            (both, Matched::Reference)
        );
        assert_eq!(passwords.check(Some("op-secre")), (both, Matched::Nothing));
        assert_eq!(passwords.check(None), (both, Matched::Nothing));

        store(&path, PasswordKind::Operation, None).unwrap();
        // The file's timestamp may not move within its resolution: force a reread.
        let later = SystemTime::now() + std::time::Duration::from_secs(5);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(later)
            .unwrap();
        let reference_only = PasswordsSet {
            operation: false,
            reference: true,
        };
        assert_eq!(
            passwords.check(Some("op-secret")),
            (reference_only, Matched::Nothing)
        );
    }

    #[test]
    fn a_damaged_file_fails_closed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("webmgr-passwords.toml");
        std::fs::write(&path, "operation = \"plain text\"\n").unwrap();
        let error = PasswordFile::load(&path).unwrap_err().to_string();
        assert!(error.contains("not an argon2 hash"), "{error}");
        let (set, matched) = Passwords::new(path).check(Some("plain text"));
        assert!(set.operation && set.reference);
        assert_eq!(matched, Matched::Nothing);
    }
}
