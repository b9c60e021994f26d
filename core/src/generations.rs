//! The configurations pushed by `clpcfctrl`, kept as numbered generations, and the atomic
//! switch between them.
//!
//! ```text
//! etc/clp.conf  -> current/clp.conf       (symbolic links: every reader keeps its path)
//! etc/scripts   -> current/scripts
//! etc/current   -> generations/7          (switched by one atomic rename)
//! etc/generations/6/{clp.conf, scripts/, generation.json}
//! etc/generations/7/...
//! ```
//! A new generation is written whole in a staging folder, synced to disk, and renamed into
//! place; then `etc/current` is replaced by a new link with one `rename(2)`. A crash at any
//! point leaves either the old configuration and scripts or the new ones, never a mix.
//!
//! The first push on an installation whose `etc/clp.conf` and `etc/scripts` are a plain file
//! and folder first takes them as a generation of their own, and exchanges each for its link
//! (`renameat2(RENAME_EXCHANGE)`): every state on the way reads the same content. The folder
//! of the scripts that were running moves into that generation (its inode stays), so a
//! resource process running in it keeps a valid working folder.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::paths::{ConfigFolder, Paths};
use crate::process::ProcessIdentity;

/// How many pushed generations are kept when the command does not say.
pub const DEFAULT_KEEP: usize = 10;

/// The file describing a generation.
const INFO_FILE: &str = "generation.json";

/// Why a generation operation failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerationError {
    /// A file operation failed.
    #[error("cannot {what} {}: {source}", path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// Another clpcfctrl (or clppm taking the cluster's configuration) held the lock for
    /// all of [`LOCK_WAIT`].
    #[error(
        "another clpcfctrl{} is changing the configuration on this server (waited {waited} s); try again when it has finished",
        holder.map(|pid| format!(" (pid {pid})")).unwrap_or_default()
    )]
    Busy {
        /// The process that holds the lock, as it wrote itself in the lock file.
        holder: Option<u32>,
        /// Seconds waited.
        waited: u64,
    },
    /// Nothing was ever pushed.
    #[error(
        "no configuration has been pushed with clpcfctrl on this server; there is nothing to roll back to"
    )]
    NotManaged,
    /// The active generation is the oldest kept.
    #[error(
        "generation {current} is the oldest kept; there is no earlier configuration to roll back to"
    )]
    NoEarlier {
        /// The active generation.
        current: u64,
    },
    /// A scripts folder holds something that is not a file, a folder or a link.
    #[error("{} is not a regular file, a folder or a symbolic link; remove it from the scripts folder", path.display())]
    SpecialFile {
        /// The path.
        path: PathBuf,
    },
}

fn io_error(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> GenerationError {
    let path = path.to_path_buf();
    move |source| GenerationError::Io { what, path, source }
}

/// Who pushed a generation, when, and from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerationInfo {
    /// When, local time (`YYYY/MM/DD HH:MM:SS`).
    pub pushed_at: String,
    /// The user who ran the command.
    pub pushed_by: String,
    /// The folder pushed, or what made the generation (`the configuration before the first
    /// push`).
    pub source: String,
    /// The encoding of the original's XML `clp.conf` it was converted from, if it was.
    #[serde(default)]
    pub converted_from: Option<String>,
    /// In an HA cluster, the hash of the cluster's shared generation this one was taken
    /// from ([`crate::shared_generation`]): a server compares it with the cluster's active
    /// one to know whether it runs that.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_hash: Option<String>,
}

impl GenerationInfo {
    /// A description made now by the current user.
    pub fn now(source: impl Into<String>, converted_from: Option<String>) -> Self {
        Self {
            pushed_at: chrono::Local::now().format("%Y/%m/%d %H:%M:%S").to_string(),
            pushed_by: current_user(),
            source: source.into(),
            converted_from,
            cluster_hash: None,
        }
    }
}

fn current_user() -> String {
    nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .map_or_else(|| nix::unistd::geteuid().to_string(), |user| user.name)
}

/// One kept generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    /// Its number.
    pub number: u64,
    /// Its description, when readable.
    pub info: Option<GenerationInfo>,
}

/// What a new generation holds.
#[derive(Debug, Clone, Copy)]
pub struct Content<'a> {
    /// The text of `clp.conf` (none: the default configuration).
    pub clp_conf: Option<&'a [u8]>,
    /// The folder whose tree becomes `scripts/` (none: an empty folder).
    pub scripts: Option<&'a Path>,
    /// The original's XML, kept beside a converted `clp.conf` for reference.
    pub original: Option<&'a [u8]>,
}

/// The exclusive lock of `clpcfctrl` (released when dropped).
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// How long [`lock`] waits for another holder before it gives up: a push, a rollback or
/// clppm taking the cluster's configuration holds it for moments (`--apply` longer).
pub const LOCK_WAIT: Duration = Duration::from_secs(5);

/// How often a busy lock is tried again.
const LOCK_RETRY: Duration = Duration::from_millis(50);

/// Takes the lock, waiting up to [`LOCK_WAIT`] while another clpcfctrl holds it, or says
/// that one does (with its pid).
pub fn lock(paths: &Paths) -> Result<Lock, GenerationError> {
    lock_within(paths, LOCK_WAIT)
}

/// [`lock`], waiting at most `wait`.
pub fn lock_within(paths: &Paths, wait: Duration) -> Result<Lock, GenerationError> {
    let path = paths.cfctrl_lock();
    fs::create_dir_all(paths.etc_dir()).map_err(io_error("create", &paths.etc_dir()))?;
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(io_error("open", &path))?;
    let deadline = Instant::now() + wait;
    // SAFETY: flock on a valid fd owned by `file`.
    while unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let error = io::Error::last_os_error();
        if error.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(io_error("lock", &path)(error));
        }
        if Instant::now() >= deadline {
            let holder = fs::read_to_string(&path)
                .ok()
                .and_then(|text| text.trim().parse().ok());
            return Err(GenerationError::Busy {
                holder,
                waited: wait.as_secs(),
            });
        }
        std::thread::sleep(LOCK_RETRY);
    }
    // Who holds it, for the next one's message (best effort: the lock is what counts).
    let _ = file
        .set_len(0)
        .and_then(|()| file.write_all(format!("{}\n", std::process::id()).as_bytes()));
    Ok(Lock { _file: file })
}

/// The folder of generation `number`.
pub fn folder(paths: &Paths, number: u64) -> PathBuf {
    paths.generations_dir().join(number.to_string())
}

/// Every kept generation, oldest first.
pub fn list(paths: &Paths) -> Vec<Generation> {
    let mut numbers: Vec<u64> = fs::read_dir(paths.generations_dir())
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    numbers.sort_unstable();
    numbers
        .into_iter()
        .map(|number| Generation {
            number,
            info: fs::read(folder(paths, number).join(INFO_FILE))
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok()),
        })
        .collect()
}

/// The active generation, once clpcfctrl manages the configuration.
pub fn current(paths: &Paths) -> Option<u64> {
    let target = fs::read_link(paths.current_generation_link()).ok()?;
    target.file_name()?.to_str()?.parse().ok()
}

/// Whether `etc/clp.conf` and `etc/scripts` are the links through `etc/current`.
pub fn is_managed(paths: &Paths) -> bool {
    current(paths).is_some()
        && fs::read_link(paths.config_file()).ok() == Some(ConfigFolder::current().config_file())
        && fs::read_link(paths.scripts_dir()).ok() == Some(ConfigFolder::current().scripts_dir())
}

/// Removes what a crash left of earlier work (the lock is held): staged generations,
/// temporary links, and a scripts folder set aside by the two-rename fallback (put back
/// when `etc/scripts` is missing).
pub fn clean_staging(paths: &Paths) {
    if let Ok(entries) = fs::read_dir(paths.generations_dir()) {
        for entry in entries.flatten() {
            if entry.file_name().as_bytes().starts_with(b".staging-") {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
    let Ok(entries) = fs::read_dir(paths.etc_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.as_bytes();
        let path = entry.path();
        let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
        if name.starts_with(b".scripts.old-") {
            if fs::symlink_metadata(paths.scripts_dir()).is_err() {
                let _ = fs::rename(&path, paths.scripts_dir());
            } else {
                let _ = fs::remove_dir_all(&path);
            }
        } else if name.starts_with(b".") && name.windows(6).any(|w| w == b".link-") {
            let _ = if is_dir {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
        }
    }
}

/// Writes a new generation whole (staged, synced, renamed into place) and returns its
/// number. It is not active until [`switch_to`].
pub fn create(
    paths: &Paths,
    content: Content<'_>,
    info: &GenerationInfo,
) -> Result<u64, GenerationError> {
    let root = paths.generations_dir();
    fs::create_dir_all(&root).map_err(io_error("create", &root))?;
    let number = list(paths).last().map_or(1, |g| g.number + 1);
    let staging = crate::paths::private_to_this_process(&root, &format!("staging-{number}"));
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(io_error("remove", &staging))?;
    }
    fs::create_dir(&staging).map_err(io_error("create", &staging))?;
    let result = fill(&staging, content, info);
    if let Err(error) = result {
        let _ = fs::remove_dir_all(&staging);
        return Err(error);
    }
    let target = folder(paths, number);
    fs::rename(&staging, &target).map_err(io_error("rename into place", &target))?;
    sync_dir(&root)?;
    Ok(number)
}

fn fill(
    staging: &Path,
    content: Content<'_>,
    info: &GenerationInfo,
) -> Result<(), GenerationError> {
    if let Some(text) = content.clp_conf {
        write_synced(&ConfigFolder(staging).config_file(), text)?;
    }
    if let Some(original) = content.original {
        write_synced(&ConfigFolder(staging).original_config_file(), original)?;
    }
    let scripts = ConfigFolder(staging).scripts_dir();
    match content.scripts {
        Some(from) if from.is_dir() => copy_tree(from, &scripts)?,
        _ => {
            fs::create_dir(&scripts).map_err(io_error("create", &scripts))?;
            sync_dir(&scripts)?;
        }
    }
    let json = serde_json::to_vec_pretty(info).map_err(|error| GenerationError::Io {
        what: "describe",
        path: staging.join(INFO_FILE),
        source: io::Error::other(error),
    })?;
    write_synced(&staging.join(INFO_FILE), &json)?;
    sync_dir(staging)
}

/// Makes generation `number` the active one: one atomic rename of `etc/current`.
pub fn switch_to(paths: &Paths, number: u64) -> Result<(), GenerationError> {
    let target = PathBuf::from("generations").join(number.to_string());
    replace_with_link(&paths.current_generation_link(), &target)?;
    Ok(())
}

/// Turns a plain `etc/clp.conf` and `etc/scripts` into links through `etc/current`, first
/// keeping them as a generation of their own. Returns that generation, when one was made.
pub fn ensure_managed(paths: &Paths) -> Result<Option<u64>, GenerationError> {
    if is_managed(paths) {
        return Ok(None);
    }
    let conf = paths.config_file();
    let clp_conf = match fs::read(&conf) {
        Ok(bytes) => Some(bytes),
        Err(error) if error.kind() == io::ErrorKind::NotFound => None,
        Err(error) => {
            return Err(GenerationError::Io {
                what: "read",
                path: conf,
                source: error,
            });
        }
    };
    let scripts = paths.scripts_dir();
    let number = create(
        paths,
        Content {
            clp_conf: clp_conf.as_deref(),
            scripts: Some(&scripts),
            original: None,
        },
        &GenerationInfo::now("the configuration before the first push", None),
    )?;
    switch_to(paths, number)?;
    let current = ConfigFolder::current();
    replace_with_link(&conf, &current.config_file())?;
    let kept = ConfigFolder(&folder(paths, number)).scripts_dir();
    let was_folder = fs::symlink_metadata(&scripts).is_ok_and(|m| m.is_dir());
    let displaced = replace_with_link(&scripts, &current.scripts_dir())?;
    if let (true, Some(old)) = (was_folder, displaced) {
        // The folder the running scripts started in becomes the generation's own (same
        // content): their working folder stays valid.
        // Without RENAME_EXCHANGE the copy stays the generation's and the old folder goes.
        let _ = exchange(&old, &kept);
        let _ = fs::remove_dir_all(&old);
        sync_dir(&paths.generations_dir())?;
    }
    Ok(Some(number))
}

/// Removes the oldest generations beyond `keep`, never one in `protect`; returns those
/// removed.
pub fn prune(paths: &Paths, keep: usize, protect: &[u64]) -> Vec<u64> {
    let generations = list(paths);
    let excess = generations.len().saturating_sub(keep.max(1));
    let mut removed = Vec::new();
    for generation in generations.iter().take(excess) {
        if protect.contains(&generation.number) {
            continue;
        }
        if fs::remove_dir_all(folder(paths, generation.number)).is_ok() {
            removed.push(generation.number);
        }
    }
    removed
}

/// The generation a running clppm still uses after a push that was not applied to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningGeneration {
    /// The daemon.
    pub daemon: ProcessIdentity,
    /// The generation it started with.
    pub generation: u64,
}

/// The record of the generation a running clppm uses, when it is about that very process.
pub fn running_generation(paths: &Paths, daemon_pid: u32) -> Option<RunningGeneration> {
    let bytes = fs::read(paths.running_generation_file()).ok()?;
    let record: RunningGeneration = serde_json::from_slice(&bytes).ok()?;
    (record.daemon.pid == daemon_pid && record.daemon.is_alive()).then_some(record)
}

/// Records that the running clppm `daemon_pid` uses `generation`.
pub fn record_running_generation(
    paths: &Paths,
    daemon_pid: u32,
    generation: u64,
) -> Result<(), GenerationError> {
    let Some(daemon) = ProcessIdentity::of(daemon_pid) else {
        return Ok(());
    };
    let file = paths.running_generation_file();
    let json = serde_json::to_vec(&RunningGeneration { daemon, generation }).map_err(|error| {
        GenerationError::Io {
            what: "describe",
            path: file.clone(),
            source: io::Error::other(error),
        }
    })?;
    fs::create_dir_all(paths.run_dir()).map_err(io_error("create", &paths.run_dir()))?;
    let temporary = crate::paths::temporary_for(&file, "tmp");
    write_synced(&temporary, &json)?;
    fs::rename(&temporary, &file).map_err(io_error("rename into place", &file))
}

/// Forgets the record: the running clppm (if any) uses the active generation.
pub fn clear_running_generation(paths: &Paths) {
    let _ = fs::remove_file(paths.running_generation_file());
}

// ---------------------------------------------------------------------------------------
// File operations

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), GenerationError> {
    let mut file = File::create(path).map_err(io_error("create", path))?;
    file.write_all(bytes).map_err(io_error("write", path))?;
    file.sync_all().map_err(io_error("sync", path))
}

fn sync_dir(path: &Path) -> Result<(), GenerationError> {
    File::open(path)
        .and_then(|dir| dir.sync_all())
        .map_err(io_error("sync", path))
}

/// Copies a folder tree (files with their modes, folders, symbolic links), synced.
pub fn copy_tree(from: &Path, to: &Path) -> Result<(), GenerationError> {
    fs::create_dir(to).map_err(io_error("create", to))?;
    let entries = fs::read_dir(from).map_err(io_error("read", from))?;
    for entry in entries {
        let entry = entry.map_err(io_error("read", from))?;
        let source = entry.path();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().map_err(io_error("read", &source))?;
        if kind.is_dir() {
            copy_tree(&source, &target)?;
        } else if kind.is_symlink() {
            let link = fs::read_link(&source).map_err(io_error("read", &source))?;
            std::os::unix::fs::symlink(&link, &target).map_err(io_error("create", &target))?;
        } else if kind.is_file() {
            fs::copy(&source, &target).map_err(io_error("copy", &source))?;
            File::open(&target)
                .and_then(|file| file.sync_all())
                .map_err(io_error("sync", &target))?;
        } else {
            return Err(GenerationError::SpecialFile { path: source });
        }
    }
    sync_dir(to)
}

/// Puts a symbolic link to `target` at `path` atomically; returns where what was a folder
/// at `path` went (a temporary name beside it), for the caller to keep or remove.
fn replace_with_link(path: &Path, target: &Path) -> Result<Option<PathBuf>, GenerationError> {
    let parent = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = crate::paths::private_to_this_process(parent, &format!("{name}.link"));
    let _ = fs::remove_file(&temporary);
    std::os::unix::fs::symlink(target, &temporary).map_err(io_error("create", &temporary))?;
    let is_folder = fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
    let displaced = if is_folder {
        // rename(2) cannot put a link over a folder: exchange the two names at once.
        match exchange(&temporary, path) {
            Ok(()) => Some(temporary),
            Err(_) => {
                // A file system without RENAME_EXCHANGE: two renames (the only moment
                // without the folder is between them).
                let aside = crate::paths::private_to_this_process(parent, &format!("{name}.old"));
                fs::rename(path, &aside).map_err(io_error("rename", path))?;
                fs::rename(&temporary, path).map_err(io_error("rename into place", path))?;
                Some(aside)
            }
        }
    } else {
        fs::rename(&temporary, path).map_err(io_error("rename into place", path))?;
        None
    };
    sync_dir(parent)?;
    Ok(displaced)
}

/// Exchanges two paths atomically (`renameat2(RENAME_EXCHANGE)`).
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    let a = std::ffi::CString::new(a.as_os_str().as_bytes())?;
    let b = std::ffi::CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: two valid NUL-terminated paths, relative to the current folder.
    let result = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> (tempfile::TempDir, Paths) {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path());
        fs::create_dir_all(paths.resource_script_dir("g", "r")).unwrap();
        fs::write(paths.config_file(), "[cluster]\nname = \"a\"\n").unwrap();
        fs::write(paths.resource_script_dir("g", "r").join("start.sh"), "one").unwrap();
        (dir, paths)
    }

    fn info() -> GenerationInfo {
        GenerationInfo::now("test", None)
    }

    #[test]
    fn the_first_push_keeps_the_plain_files_as_a_generation() {
        let (_dir, paths) = root();
        assert!(!is_managed(&paths));
        let running_dir = paths.resource_script_dir("g", "r");
        let before = fs::metadata(&running_dir).unwrap();
        let snapshot = ensure_managed(&paths).unwrap();
        assert_eq!(snapshot, Some(1));
        assert!(is_managed(&paths));
        assert_eq!(current(&paths), Some(1));
        assert_eq!(
            fs::read_to_string(paths.config_file()).unwrap(),
            "[cluster]\nname = \"a\"\n"
        );
        assert_eq!(
            fs::read_to_string(paths.resource_script_dir("g", "r").join("start.sh")).unwrap(),
            "one"
        );
        // The very folder (same inode) now lives in generation 1.
        use std::os::unix::fs::MetadataExt;
        let after = fs::metadata(folder(&paths, 1).join("scripts/g/r")).unwrap();
        assert_eq!(before.ino(), after.ino());
        assert_eq!(ensure_managed(&paths).unwrap(), None);
    }

    #[test]
    fn a_switch_changes_configuration_and_scripts_together() {
        let (dir, paths) = root();
        ensure_managed(&paths).unwrap();
        let source = dir.path().join("push");
        fs::create_dir_all(source.join("g/r")).unwrap();
        fs::write(source.join("g/r/start.sh"), "two").unwrap();
        std::os::unix::fs::symlink("start.sh", source.join("g/r/link.sh")).unwrap();
        let number = create(
            &paths,
            Content {
                clp_conf: Some(b"[cluster]\nname = \"b\"\n"),
                scripts: Some(&source),
                original: None,
            },
            &info(),
        )
        .unwrap();
        assert_eq!(number, 2);
        // Not active before the switch.
        assert!(
            fs::read_to_string(paths.config_file())
                .unwrap()
                .contains("\"a\"")
        );
        switch_to(&paths, number).unwrap();
        assert!(
            fs::read_to_string(paths.config_file())
                .unwrap()
                .contains("\"b\"")
        );
        let script = paths.resource_script_dir("g", "r");
        assert_eq!(fs::read_to_string(script.join("start.sh")).unwrap(), "two");
        assert_eq!(
            fs::read_link(script.join("link.sh")).unwrap(),
            PathBuf::from("start.sh")
        );
        let listed: Vec<u64> = list(&paths).iter().map(|g| g.number).collect();
        assert_eq!(listed, [1, 2]);
        assert_eq!(list(&paths)[1].info.as_ref().unwrap().source, "test");
    }

    #[test]
    fn pruning_keeps_the_newest_and_the_protected() {
        let (_dir, paths) = root();
        ensure_managed(&paths).unwrap();
        for _ in 0..5 {
            create(
                &paths,
                Content {
                    clp_conf: None,
                    scripts: None,
                    original: None,
                },
                &info(),
            )
            .unwrap();
        }
        let removed = prune(&paths, 3, &[2]);
        assert_eq!(removed, [1, 3]);
        let listed: Vec<u64> = list(&paths).iter().map(|g| g.number).collect();
        assert_eq!(listed, [2, 4, 5, 6]);
    }

    #[test]
    fn a_second_clpcfctrl_waits_then_is_refused_naming_the_holder() {
        let (_dir, paths) = root();
        let held = lock(&paths).unwrap();
        let refused = lock_within(&paths, Duration::from_millis(200)).unwrap_err();
        assert!(
            matches!(refused, GenerationError::Busy { holder: Some(pid), .. } if pid == std::process::id()),
            "{refused:?}"
        );
        assert!(
            refused.to_string().starts_with(&format!(
                "another clpcfctrl (pid {}) is changing",
                std::process::id()
            )),
            "{refused}"
        );
        // Released while the next one waits: it gets the lock.
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            drop(held);
        });
        lock_within(&paths, Duration::from_secs(30)).expect("the lock once released");
        release.join().unwrap();
    }

    #[test]
    fn what_a_crash_left_is_cleaned() {
        let (_dir, paths) = root();
        fs::create_dir_all(paths.generations_dir().join(".staging-1-1/scripts")).unwrap();
        let link = paths.etc_dir().join(".current.link-1");
        std::os::unix::fs::symlink("generations/9", &link).unwrap();
        // The two-rename fallback stopped between its renames: the folder comes back.
        let aside = paths.etc_dir().join(".scripts.old-1");
        fs::rename(paths.scripts_dir(), &aside).unwrap();
        clean_staging(&paths);
        assert!(list(&paths).is_empty());
        assert!(!paths.generations_dir().join(".staging-1-1").exists());
        assert!(fs::symlink_metadata(&link).is_err());
        assert!(!aside.exists());
        assert!(
            paths
                .resource_script_dir("g", "r")
                .join("start.sh")
                .is_file()
        );
    }
}
