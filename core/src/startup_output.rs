//! A starting daemon's stderr, read while it starts: a thread drains the pipe at once (so a
//! daemon with a long startup error never blocks writing it), and a long message is shown
//! cut, its whole saved under `log/` with a note saying where.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

/// How much of a startup error the command shows; the whole is saved to a file.
pub const SHOWN_CHARS: usize = 4000;
/// The most kept in memory; beyond, the rest is read and dropped.
const KEPT_BYTES: usize = 16 << 20;

/// The stderr of a starting daemon, drained by a thread of its own.
pub struct StartupOutput {
    captured: Arc<Mutex<Vec<u8>>>,
    ended: mpsc::Receiver<()>,
}

impl StartupOutput {
    /// Starts draining `stderr` (up to its end of file).
    pub fn drain(mut stderr: impl Read + Send + 'static) -> StartupOutput {
        let captured = Arc::new(Mutex::new(Vec::new()));
        let (end, ended) = mpsc::channel();
        let sink = Arc::clone(&captured);
        let spawned = thread::Builder::new()
            .name("startup-stderr".into())
            .spawn(move || {
                let mut chunk = [0_u8; 8192];
                loop {
                    match stderr.read(&mut chunk) {
                        Ok(0) => break,
                        Ok(read) => {
                            let mut kept = sink.lock().unwrap_or_else(PoisonError::into_inner);
                            let room = KEPT_BYTES.saturating_sub(kept.len());
                            kept.extend_from_slice(&chunk[..read.min(room)]);
                        }
                        Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
                let _ = end.send(());
            });
        if let Err(error) = spawned {
            tracing::warn!("cannot read the daemon's startup messages: {error}");
        }
        StartupOutput { captured, ended }
    }

    /// Everything read, after waiting up to `wait` for the end of the stream (a process the
    /// daemon started may hold the pipe open).
    pub fn finish(self, wait: Duration) -> String {
        let _ = self.ended.recv_timeout(wait);
        let captured = self.captured.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&captured).trim().to_string()
    }
}

/// `message` as a command shows it: whole when short; else its first [`SHOWN_CHARS`]
/// characters, with the whole saved to `saved_to` (written through a temporary file) and
/// a last line saying so.
pub fn shown(message: &str, saved_to: &Path) -> String {
    let total = message.chars().count();
    if total <= SHOWN_CHARS {
        return message.to_string();
    }
    let head: String = message.chars().take(SHOWN_CHARS).collect();
    let note = match save(message, saved_to) {
        Ok(()) => format!(
            "... ({} more characters; the whole message is in {})",
            total - SHOWN_CHARS,
            saved_to.display()
        ),
        Err(error) => format!(
            "... ({} more characters not shown; saving the whole message to {} failed: {error})",
            total - SHOWN_CHARS,
            saved_to.display()
        ),
    };
    format!("{head}\n{note}")
}

/// Where a long startup error of `program` is saved: `log/<program>.startup-error`.
pub fn saved_path(log_dir: &Path, program: &str) -> PathBuf {
    crate::paths::startup_error_file(log_dir, program)
}

fn save(message: &str, path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    crate::paths::write_replacing(path, "startup-error.tmp", format!("{message}\n").as_bytes())
}

/// The started daemon's side: points its stdout and stderr at /dev/null once ready (the
/// starter has read the startup result and closes its end of the pipe).
pub fn silence_stdio() {
    use std::os::fd::AsRawFd;
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        // SAFETY: dup2 onto the standard descriptors with a valid open fd.
        unsafe {
            libc::dup2(null.as_raw_fd(), 1);
            libc::dup2(null.as_raw_fd(), 2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_message_is_cut_and_saved_whole() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = saved_path(dir.path(), "clppm");
        let message = "e".repeat(10_000);
        let text = shown(&message, &path);
        assert!(text.starts_with(&"e".repeat(SHOWN_CHARS)));
        assert!(text.contains("6000 more characters"), "{text}");
        assert!(text.contains("clppm.startup-error"), "{text}");
        let saved = std::fs::read_to_string(&path).expect("the saved message");
        assert_eq!(saved.trim(), message);
        assert_eq!(shown("short", &path), "short");
    }

    #[test]
    fn a_stream_larger_than_a_pipe_is_drained() {
        let data = vec![b'x'; 1 << 20];
        let output = StartupOutput::drain(std::io::Cursor::new(data));
        assert_eq!(output.finish(Duration::from_secs(5)).len(), 1 << 20);
    }
}
