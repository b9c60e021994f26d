//! A pid file locked for a process's lifetime: the single-instance guarantee of clppm and
//! clpwebmgr.

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
        // SAFETY: flock on a valid fd owned by `file`.
        let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
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

impl Drop for PidLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = &self.file;
    }
}
