//! A pid file locked for a process's lifetime: the single-instance guarantee of clppm and
//! clpwebmgr.
//!
//! The lock is an open file description lock (`F_OFD_SETLK`, a write lock on the whole
//! file): it lasts while the description is open, goes with the process however it ends,
//! and is not inherited by what the daemon executes (the file is opened close-on-exec).
//! Whether a daemon holds it is asked with `F_OFD_GETLK` ([`is_held`]), which takes no
//! lock: a client asking at the moment a daemon starts cannot make that start fail, as a
//! probe that took a shared `flock` for an instant could ("clppm is already running" with
//! nothing running, when `clpstat` asked while `clpcl -s` started it). The daemon also takes
//! the exclusive `flock` earlier versions took, so that one of theirs still running during
//! an upgrade and this one never run together.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;

/// The pid file, locked for the daemon's lifetime: the single-instance guarantee.
#[derive(Debug)]
pub struct PidLock {
    file: File,
    path: std::path::PathBuf,
}

/// Why a pid file could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum PidLockError {
    /// Another process holds it.
    #[error("held by pid {pid}")]
    Held {
        /// The pid written in the file ("unknown" when empty).
        pid: String,
    },
    /// The file could not be created or written.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl PidLock {
    /// Locks the pid file `path` (creating its folder) and writes our pid into it; the
    /// lock lasts as long as the value.
    pub fn take(path: &std::path::Path) -> Result<PidLock, PidLockError> {
        let io = |what: &'static str, at: &std::path::Path| {
            let path = at.to_path_buf();
            move |source| PidLockError::Io { what, path, source }
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io("cannot create", dir))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io("cannot open", path))?;
        let locked =
            try_ofd_lock(&file).map_err(io("cannot lock", path))? && flock_as_before(&file);
        if !locked {
            let pid = std::fs::read_to_string(path)
                .unwrap_or_default()
                .trim()
                .to_string();
            return Err(PidLockError::Held {
                pid: if pid.is_empty() {
                    "unknown".into()
                } else {
                    pid
                },
            });
        }
        file.set_len(0).map_err(io("cannot write", path))?;
        writeln!(file, "{}", std::process::id()).map_err(io("cannot write", path))?;
        Ok(PidLock {
            file,
            path: path.to_path_buf(),
        })
    }
}

/// How long [`PidLock::take`] tries for the `flock` that earlier versions took: one of their
/// clients holds it shared for an instant; one of their daemons holds it for good.
const FLOCK_PATIENCE: std::time::Duration = std::time::Duration::from_millis(500);

/// Also takes the exclusive `flock` that earlier versions took and asked for, so that a
/// daemon of an earlier version still running (during an upgrade) and this one never run
/// together; tries for [`FLOCK_PATIENCE`], as an earlier client's probe holds it shared for
/// an instant. False when it stays held.
fn flock_as_before(file: &File) -> bool {
    let deadline = std::time::Instant::now() + FLOCK_PATIENCE;
    loop {
        // SAFETY: flock on a valid fd owned by `file`; released when it closes.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Whether a process holds the pid-file lock at `path` (false when there is no such file).
/// It takes no lock: asking never gets in the way of a daemon taking it.
pub fn is_held(path: &std::path::Path) -> bool {
    let Ok(file) = File::open(path) else {
        return false;
    };
    ofd_lock_held_elsewhere(&file).unwrap_or(false)
}

/// Takes a write lock on the whole of `file` as an open file description lock; false when
/// another description holds one.
fn try_ofd_lock(file: &File) -> std::io::Result<bool> {
    let mut lock = whole_file_write_lock();
    // SAFETY: fcntl on a valid fd owned by `file`, with a pointer to a live `flock`.
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_SETLK, &mut lock) } == 0 {
        return Ok(true);
    }
    let error = std::io::Error::last_os_error();
    match error.raw_os_error() {
        Some(libc::EAGAIN | libc::EACCES) => Ok(false),
        _ => Err(error),
    }
}

/// Whether another description holds an open file description lock on `file` that a write
/// lock on the whole of it would meet (`F_OFD_GETLK`: asks, takes nothing).
fn ofd_lock_held_elsewhere(file: &File) -> std::io::Result<bool> {
    let mut lock = whole_file_write_lock();
    // SAFETY: fcntl on a valid fd owned by `file`, with a pointer to a live `flock`.
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_GETLK, &mut lock) } == -1 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(lock.l_type != libc::F_UNLCK as libc::c_short)
}

/// A write lock on a whole file, as `fcntl`'s OFD commands take it (`l_pid` 0).
fn whole_file_write_lock() -> libc::flock {
    // SAFETY: an all-zero `flock` is a valid value of the C struct: from the start, to the
    // end (length 0), pid 0 as OFD locks require; the type is set below.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_WRLCK as libc::c_short;
    lock.l_whence = libc::SEEK_SET as libc::c_short;
    lock
}

impl Drop for PidLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = &self.file;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_asking_sees_it() {
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("run").join("clppm.pid");
        assert!(!is_held(&path), "no file, no holder");
        let lock = PidLock::take(&path).expect("the lock");
        assert!(is_held(&path));
        match PidLock::take(&path) {
            Err(PidLockError::Held { pid }) => assert_eq!(pid, std::process::id().to_string()),
            other => panic!("a second holder: {other:?}"),
        }
        drop(lock);
        assert!(!path.exists(), "the pid file goes with its holder");
        assert!(!is_held(&path));
        // A pid file left by a holder that died: the lock is free, the file is taken over.
        std::fs::write(&path, "4194999\n").expect("a stale pid file");
        assert!(!is_held(&path));
        let lock = PidLock::take(&path).expect("the lock of a dead holder's file");
        assert_eq!(
            std::fs::read_to_string(&path).expect("the pid file"),
            format!("{}\n", std::process::id())
        );
        drop(lock);
    }

    /// A daemon of an earlier version (an exclusive `flock` on the file) keeps this one out;
    /// an earlier client's shared `flock` for an instant does not.
    #[test]
    fn an_earlier_versions_flock_is_respected() {
        use std::os::fd::AsRawFd as _;
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("clppm.pid");
        std::fs::write(&path, "4194998\n").expect("an earlier daemon's pid file");
        let earlier = File::open(&path).expect("the pid file");
        // SAFETY: flock on a valid fd owned by `earlier`.
        assert_eq!(
            unsafe { libc::flock(earlier.as_raw_fd(), libc::LOCK_EX) },
            0
        );
        match PidLock::take(&path) {
            Err(PidLockError::Held { pid }) => assert_eq!(pid, "4194998"),
            other => panic!("ran beside an earlier daemon: {other:?}"),
        }
        drop(earlier);
        // An earlier client's probe, held 100 ms: the start waits it out.
        let probe = File::open(&path).expect("the pid file");
        // SAFETY: as above.
        assert_eq!(unsafe { libc::flock(probe.as_raw_fd(), libc::LOCK_SH) }, 0);
        let release = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(100));
            drop(probe);
        });
        let lock = PidLock::take(&path).expect("the lock once the probe let go");
        release.join().expect("the probe");
        drop(lock);
    }

    /// Clients ask whether a daemon runs while one starts: asking must never make the start
    /// fail (a probe that took a shared lock for an instant did, now and then).
    #[test]
    fn asking_while_a_daemon_takes_the_lock_never_stops_it() {
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("clppm.pid");
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let askers: Vec<_> = (0..2)
            .map(|_| {
                let (path, done) = (path.clone(), std::sync::Arc::clone(&done));
                std::thread::spawn(move || {
                    let mut asked = 0_u64;
                    while !done.load(std::sync::atomic::Ordering::Relaxed) {
                        is_held(&path);
                        asked += 1;
                    }
                    asked
                })
            })
            .collect();
        for take in 0..2000 {
            let lock = PidLock::take(&path)
                .unwrap_or_else(|error| panic!("take {take} failed while clients asked: {error}"));
            drop(lock);
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        for asker in askers {
            assert!(asker.join().expect("an asker") > 0);
        }
    }
}
