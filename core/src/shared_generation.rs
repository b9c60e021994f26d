//! A configuration generation as the servers of an HA cluster share it through etcd: the
//! converted `clp.conf` and the `scripts/` tree in one archive, its hash, who pushed it and
//! when. `clpcfctrl --push` packs it ([`SharedGeneration::pack`]); each clppm checks that it
//! could run it on its own host ([`SharedGeneration::check_here`]) and, once the cluster
//! made it active, installs it as a local generation ([`install`]).
//!
//! The archive is deterministic (sorted entries, no times or owners), so the same folder
//! pushed twice has the same hash and changes nothing.

use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{self, Config};
use crate::generations::{self, Content, GenerationError, GenerationInfo};
use crate::paths::{ConfigFolder, Paths};

/// The archive's name for the configuration file.
const CONF_ENTRY: &str = "clp.conf";

/// The archive's folder of the scripts.
const SCRIPTS_ENTRY: &str = "scripts";

/// Why a shared generation could not be made, read or installed.
#[derive(Debug, thiserror::Error)]
pub enum SharedError {
    /// The scripts or the archive could not be read or written.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The archive is not what its hash says, or not an archive at all.
    #[error("the shared configuration {hash} is damaged: {why}; push it again")]
    Damaged {
        /// Its hash as announced.
        hash: String,
        /// What is wrong.
        why: String,
    },
    /// The local generations could not be written or switched.
    #[error("{0}")]
    Generation(#[from] GenerationError),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> SharedError {
    let what = what.into();
    move |source| SharedError::Io { what, source }
}

/// One generation of the cluster's configuration, as stored in etcd (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedGeneration {
    /// SHA-256 (hex) of the archive: the generation's identity.
    pub hash: String,
    /// Who pushed it, from where, and when.
    pub info: GenerationInfo,
    /// The archive (tar, base64): `clp.conf` and `scripts/`.
    pub archive: String,
}

impl SharedGeneration {
    /// Packs `text` (the TOML `clp.conf`) and the tree under `scripts` (when it is a folder).
    pub fn pack(
        text: &str,
        scripts: Option<&Path>,
        info: GenerationInfo,
    ) -> Result<Self, SharedError> {
        let mut builder = tar::Builder::new(Vec::new());
        builder.follow_symlinks(false);
        append_file(&mut builder, CONF_ENTRY, text.as_bytes(), 0o644)?;
        if let Some(scripts) = scripts.filter(|dir| dir.is_dir()) {
            append_tree(&mut builder, scripts, Path::new(SCRIPTS_ENTRY))?;
        }
        let bytes = builder
            .into_inner()
            .map_err(io("cannot pack the configuration"))?;
        Ok(Self {
            hash: sha256_hex(&bytes),
            info,
            archive: base64::engine::general_purpose::STANDARD.encode(&bytes),
        })
    }

    /// The archive's bytes, checked against the hash.
    fn bytes(&self) -> Result<Vec<u8>, SharedError> {
        let damaged = |why: String| SharedError::Damaged {
            hash: self.hash.clone(),
            why,
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&self.archive)
            .map_err(|error| damaged(format!("not base64: {error}")))?;
        let actual = sha256_hex(&bytes);
        if actual != self.hash {
            return Err(damaged(format!("its content hashes to {actual}")));
        }
        Ok(bytes)
    }

    /// The `clp.conf` text.
    pub fn text(&self) -> Result<String, SharedError> {
        let bytes = self.bytes()?;
        let mut archive = tar::Archive::new(bytes.as_slice());
        let entries = archive
            .entries()
            .map_err(io("cannot read the shared configuration"))?;
        for entry in entries {
            let mut entry = entry.map_err(io("cannot read the shared configuration"))?;
            let is_conf = entry
                .path()
                .is_ok_and(|path| path.as_ref() == Path::new(CONF_ENTRY));
            if is_conf {
                let mut text = String::new();
                entry
                    .read_to_string(&mut text)
                    .map_err(io("cannot read clp.conf of the shared configuration"))?;
                return Ok(text);
            }
        }
        Err(SharedError::Damaged {
            hash: self.hash.clone(),
            why: "it holds no clp.conf".into(),
        })
    }

    /// Writes `clp.conf` and `scripts/` into the folder `dir` (which must exist).
    pub fn unpack_into(&self, dir: &Path) -> Result<(), SharedError> {
        let bytes = self.bytes()?;
        tar::Archive::new(bytes.as_slice())
            .unpack(dir)
            .map_err(io(format!("cannot unpack into {}", dir.display())))?;
        let scripts = ConfigFolder(dir).scripts_dir();
        if !scripts.exists() {
            std::fs::create_dir(&scripts)
                .map_err(io(format!("cannot create {}", scripts.display())))?;
        }
        Ok(())
    }

    /// Whether this server could run the generation: it unpacks it into a private folder
    /// under `work` (removed after), validates it whole against its own scripts and this
    /// host, and checks that this host is one of its servers and the cluster keeps
    /// `cluster` as its name. The refusal is one line per problem.
    pub fn check_here(&self, work: &Path, cluster: &str) -> Result<Config, String> {
        let dir =
            crate::paths::private_to_this_process(work, &format!("proposal-{}", short(&self.hash)));
        let _ = std::fs::remove_dir_all(&dir);
        let checked = std::fs::create_dir_all(&dir)
            .map_err(|error| format!("cannot create {}: {error}", dir.display()))
            .and_then(|()| self.unpack_into(&dir).map_err(|error| error.to_string()))
            .and_then(|()| self.text().map_err(|error| error.to_string()))
            .and_then(|text| {
                config::parse_str(&text, &ConfigFolder(&dir).scripts_dir())
                    .map_err(|error| error.in_file(Path::new(CONF_ENTRY)).to_string())
            })
            .and_then(|config| check_fits(config, cluster));
        let _ = std::fs::remove_dir_all(&dir);
        checked
    }
}

/// The checks beyond validation: this host is one of the servers, the configuration is
/// still a cluster's, and of the same cluster.
fn check_fits(config: Config, cluster: &str) -> Result<Config, String> {
    let host = config::host_name();
    if config.local_server().is_none() {
        let listed: Vec<&str> = config.servers.iter().map(|s| s.name.as_str()).collect();
        return Err(format!(
            "this server ({host}) is not one of the configuration's servers ({}); add it under [[server]] or push to the servers listed",
            listed.join(", ")
        ));
    }
    if !config.is_cluster() {
        return Err(
            "the configuration names one server: push a one-server configuration on that server alone"
                .into(),
        );
    }
    if !config.cluster.name.eq_ignore_ascii_case(cluster) {
        return Err(format!(
            "the configuration renames the cluster \"{cluster}\" to \"{}\": stop every server before renaming the cluster",
            config.cluster.name
        ));
    }
    Ok(config)
}

/// The first 12 characters of a hash, as shown to operators.
pub fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// The hash of the shared generation this server's active configuration was taken from.
pub fn local_hash(paths: &Paths) -> Option<String> {
    let current = generations::current(paths)?;
    generations::list(paths)
        .into_iter()
        .find(|generation| generation.number == current)?
        .info?
        .cluster_hash
}

/// Makes `shared` this server's active configuration: a new local generation (as a local
/// push makes one) switched to atomically. `None` when it already is the active one.
pub fn install(
    paths: &Paths,
    shared: &SharedGeneration,
    keep: usize,
) -> Result<Option<u64>, SharedError> {
    let _lock = generations::lock(paths)?;
    generations::clean_staging(paths);
    if local_hash(paths).as_deref() == Some(shared.hash.as_str()) {
        return Ok(None);
    }
    let text = shared.text()?;
    let staging = crate::paths::private_to_this_process(&paths.etc_dir(), "shared-generation");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)
        .map_err(io(format!("cannot create {}", staging.display())))?;
    let result = (|| {
        shared.unpack_into(&staging)?;
        generations::ensure_managed(paths)?;
        let info = GenerationInfo {
            cluster_hash: Some(shared.hash.clone()),
            ..shared.info.clone()
        };
        let number = generations::create(
            paths,
            Content {
                clp_conf: Some(text.as_bytes()),
                scripts: Some(&ConfigFolder(&staging).scripts_dir()),
                original: None,
            },
            &info,
        )?;
        generations::switch_to(paths, number)?;
        generations::prune(paths, keep, &[number]);
        Ok(Some(number))
    })();
    let _ = std::fs::remove_dir_all(&staging);
    result
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn header(size: usize, mode: u32, kind: tar::EntryType) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_size(u64::try_from(size).unwrap_or(u64::MAX));
    header.set_mode(mode);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    header
}

fn append_file(
    builder: &mut tar::Builder<Vec<u8>>,
    name: &str,
    bytes: &[u8],
    mode: u32,
) -> Result<(), SharedError> {
    let mut header = header(bytes.len(), mode, tar::EntryType::Regular);
    builder
        .append_data(&mut header, name, bytes)
        .map_err(io(format!("cannot pack {name}")))
}

/// Appends the tree under `dir` as `name/...`, entries sorted, modes kept, links as links.
fn append_tree(
    builder: &mut tar::Builder<Vec<u8>>,
    dir: &Path,
    name: &Path,
) -> Result<(), SharedError> {
    let mut folder = header(0, 0o755, tar::EntryType::Directory);
    builder
        .append_data(&mut folder, name, std::io::empty())
        .map_err(io(format!("cannot pack {}", dir.display())))?;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(format!("cannot read {}", dir.display())))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io(format!("cannot read {}", dir.display())))?;
    entries.sort();
    for path in entries {
        let Some(file_name) = path.file_name() else {
            continue;
        };
        let inner = name.join(file_name);
        let metadata = std::fs::symlink_metadata(&path)
            .map_err(io(format!("cannot read {}", path.display())))?;
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode() & 0o7777;
        if metadata.is_dir() {
            append_tree(builder, &path, &inner)?;
        } else if metadata.file_type().is_symlink() {
            let target =
                std::fs::read_link(&path).map_err(io(format!("cannot read {}", path.display())))?;
            let mut link = header(0, 0o777, tar::EntryType::Symlink);
            builder
                .append_link(&mut link, &inner, &target)
                .map_err(io(format!("cannot pack {}", path.display())))?;
        } else if metadata.is_file() {
            let bytes =
                std::fs::read(&path).map_err(io(format!("cannot read {}", path.display())))?;
            let mut file = header(bytes.len(), mode, tar::EntryType::Regular);
            builder
                .append_data(&mut file, &inner, bytes.as_slice())
                .map_err(io(format!("cannot pack {}", path.display())))?;
        } else {
            return Err(GenerationError::SpecialFile { path }.into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let scripts = dir.path().join("scripts/g/r");
        std::fs::create_dir_all(&scripts).unwrap();
        std::fs::write(scripts.join("start.sh"), "#!/bin/sh\nexit 0\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            scripts.join("start.sh"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        dir
    }

    #[test]
    fn the_same_folder_packs_to_the_same_hash_and_unpacks_whole() {
        let dir = folder();
        let scripts = dir.path().join("scripts");
        let one = SharedGeneration::pack("a = 1\n", Some(&scripts), GenerationInfo::now("x", None))
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(10));
        std::fs::write(scripts.join("g/r/start.sh"), "#!/bin/sh\nexit 0\n").unwrap();
        let two = SharedGeneration::pack("a = 1\n", Some(&scripts), GenerationInfo::now("y", None))
            .unwrap();
        assert_eq!(one.hash, two.hash);
        let three =
            SharedGeneration::pack("a = 2\n", Some(&scripts), GenerationInfo::now("x", None))
                .unwrap();
        assert_ne!(one.hash, three.hash);

        let out = tempfile::tempdir().unwrap();
        one.unpack_into(out.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.path().join("clp.conf")).unwrap(),
            "a = 1\n"
        );
        let start = out.path().join("scripts/g/r/start.sh");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&start).unwrap().permissions().mode() & 0o777,
            0o755
        );
        assert_eq!(one.text().unwrap(), "a = 1\n");
    }

    #[test]
    fn a_damaged_archive_is_refused() {
        let mut shared =
            SharedGeneration::pack("a = 1\n", None, GenerationInfo::now("x", None)).unwrap();
        shared.hash = "0".repeat(64);
        let error = shared.text().unwrap_err().to_string();
        assert!(error.contains("damaged"), "{error}");
    }

    #[test]
    fn a_configuration_that_does_not_name_this_host_is_refused_here() {
        let text = "[cluster]\nname = \"ha\"\n\n[[server]]\nname = \"no-such-host-a\"\n\n[[server]]\nname = \"no-such-host-b\"\n\n[etcd]\nendpoints = [\"http://127.0.0.1:2379\"]\n";
        let shared = SharedGeneration::pack(text, None, GenerationInfo::now("x", None)).unwrap();
        let work = tempfile::tempdir().unwrap();
        let refusal = shared.check_here(work.path(), "ha").unwrap_err();
        assert!(
            refusal.contains("is not one of the configuration's servers"),
            "{refusal}"
        );
        // Nothing left behind.
        assert_eq!(std::fs::read_dir(work.path()).unwrap().count(), 0);
    }
}
