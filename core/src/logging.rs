//! The daemon's own log: `tracing` into `$CLP_ROOT/log/clppm.log` (and stderr when asked).
//!
//! A thread of its own writes the log: the thread that logs an event only queues its line.
//! A write to a file can wait for the disk (its last page read back after the page cache
//! dropped it during a quiet spell, a disk saturated by the very fault being recovered),
//! and the events of a restart are logged on the restart's path. The writer is a
//! bookkeeping thread ([`crate::bookkeeping`]): lowest priority, woken a moment after the
//! work. A full queue drops the line and the writer says how many went. The queue is
//! written out before the daemon exits, before an OS action, and before it starts again in
//! place ([`flush`]).

use std::fs::OpenOptions;
use std::io::Write;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::MakeWriter;

use crate::bookkeeping::{Deferred, Taken};
use crate::paths::Paths;

/// A log writer that keeps every event on one line: what a message or a field holds (a
/// name from the configuration, a client's name) is escaped ([`crate::escape`]), only the
/// event's final line break is written as one.
struct Escaping<M>(M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Escaping<M> {
    type Writer = EscapingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        EscapingWriter(self.0.make_writer())
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        EscapingWriter(self.0.make_writer_for(meta))
    }
}

/// The writer of [`Escaping`]: the formatter writes one event per `write`.
struct EscapingWriter<W>(W);

impl<W: Write> Write for EscapingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let (body, end) = match text.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (text.as_ref(), ""),
        };
        let mut line = crate::escape::escape(body).into_owned();
        line.push_str(end);
        self.0.write_all(line.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Rotates `clppm.log` to `clppm.log.1` at start when it passed this size.
const ROTATE_AT: u64 = 8 << 20;

/// Lines the queue holds while the writer waits for the disk.
const QUEUE_LINES: usize = 1024;

/// How long [`flush`] waits for the writer (a dead disk does not hold up an exit or an OS
/// action for longer).
const FLUSH_WAIT: Duration = Duration::from_secs(2);

/// The queue of this process's log, once logging is set up.
static QUEUE: OnceLock<Arc<Deferred<Vec<u8>>>> = OnceLock::new();

/// The log's writer as `tracing` asks for one: each event's line goes to the queue.
struct Queued;

impl<'a> MakeWriter<'a> for Queued {
    type Writer = QueuedWriter;

    fn make_writer(&'a self) -> Self::Writer {
        QueuedWriter
    }
}

/// Queues each `write` (one event's line, [`EscapingWriter`]) without waiting.
struct QueuedWriter;

impl Write for QueuedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(queue) = QUEUE.get() {
            queue.push(buf.to_vec());
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The writer thread (started at the lowest priority): the lines in order, to the file (and
/// stderr), once their wake-up came; a drop is reported in the log when the writer caught
/// up. Idle, it sleeps until a line comes.
fn write_out(queue: &Deferred<Vec<u8>>, mut file: std::fs::File, also_stderr: bool) {
    while queue.wait_for_work() {
        let Taken { items, dropped } = queue.take();
        let count = items.len() as u64;
        for line in items {
            // A log that cannot be written has nowhere to say so; the next line tries again.
            let _ = file.write_all(&line);
            if also_stderr {
                let _ = std::io::stderr().write_all(&line);
            }
        }
        queue.mark_written(count);
        if dropped > 0 {
            tracing::warn!("{dropped} lines of this log were dropped: its disk did not keep up");
        }
    }
}

/// Waits (up to 2 s) until every line logged so far is written; nothing to wait for when
/// logging is not set up.
pub fn flush() {
    let Some(queue) = QUEUE.get() else {
        return;
    };
    let target = queue.queued();
    queue.release();
    queue.wait_written(target, Some(Instant::now() + FLUSH_WAIT));
}

/// Writes the log out ([`flush`]) when dropped: held by a command's `run` for as long as it
/// logs, so that its last lines are written before it exits.
#[must_use = "the log is written out when this is dropped"]
pub struct LogGuard(());

impl Drop for LogGuard {
    fn drop(&mut self) {
        flush();
    }
}

/// Sends `tracing` to the daemon log; `CLP_LOG` (an env-filter) sets the level, default info.
pub fn init_daemon_logging(paths: &Paths, also_stderr: bool) -> std::io::Result<LogGuard> {
    init_logging(&paths.daemon_log(), also_stderr)
}

/// Sends `tracing` to the log file `path` (rotated once at start past 8 MiB), and to stderr
/// when asked, through the writer thread; `CLP_LOG` sets the level, default info.
pub fn init_logging(path: &std::path::Path, also_stderr: bool) -> std::io::Result<LogGuard> {
    let path = path.to_path_buf();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > ROTATE_AT) {
        let mut rotated = path.clone().into_os_string();
        rotated.push(".1");
        std::fs::rename(&path, rotated)?;
    }
    let file = OpenOptions::new().create(true).append(true).open(&path)?;
    let queue = Deferred::new(QUEUE_LINES);
    if QUEUE.set(Arc::clone(&queue)).is_err() {
        return Err(std::io::Error::other("logging is already set up"));
    }
    crate::bookkeeping::spawn("clp-log", crate::bookkeeping::LOWEST, move || {
        write_out(&queue, file, also_stderr);
    })?;
    let filter = EnvFilter::try_from_env("CLP_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Escaping(Queued))
        .try_init()
        .map_err(|error| std::io::Error::other(error.to_string()))?;
    Ok(LogGuard(()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;

    /// Reads what the pipe holds now, waiting up to `wait` for `until` to show in all read.
    fn read_until(pipe: &mut std::fs::File, all: &mut String, until: &str, wait: Duration) {
        let deadline = Instant::now() + wait;
        let mut buf = vec![0_u8; 1 << 16];
        while !all.contains(until) {
            assert!(
                Instant::now() < deadline,
                "no {until:?} in the log: {all:.2000}"
            );
            match pipe.read(&mut buf) {
                Ok(read) if read > 0 => all.push_str(&String::from_utf8_lossy(&buf[..read])),
                _ => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    }

    /// One test (logging is set up once a process): the log is a pipe that the test reads
    /// or leaves full, a disk that answers or does not.
    #[test]
    fn logging_never_waits_for_the_log_and_says_what_it_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clppm.log");
        let fifo = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: a NUL-terminated path in a folder of this test.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        // The reader first, so that opening the log does not wait for one.
        let mut pipe = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&path)
            .unwrap();
        let _guard = init_logging(&path, false).unwrap();
        let mut all = String::new();
        // The writer is a bookkeeping thread: the lowest priority.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let (named, own) = crate::bookkeeping::nice_values("clp-log");
            if named
                .iter()
                .any(|nice| *nice == (own + crate::bookkeeping::LOWEST as i64).min(19))
            {
                break;
            }
            assert!(Instant::now() < deadline, "{named:?} vs {own}");
            std::thread::sleep(Duration::from_millis(5));
        }

        // Each event one line, in order, a line break inside it escaped.
        tracing::info!("first");
        tracing::warn!("second\nforged line");
        flush();
        read_until(&mut pipe, &mut all, "forged line", Duration::from_secs(10));
        let lines: Vec<&str> = all.lines().collect();
        assert_eq!(lines.len(), 2, "{all}");
        assert!(lines[0].ends_with("first"), "{all}");
        assert!(lines[1].contains(" WARN ") && lines[1].ends_with("second\\nforged line"));

        // Nobody reads the log any more: the writer waits, the queue fills, and logging goes
        // on without waiting (a pipe holds 64 KiB: these lines are ~100 times that).
        let started = Instant::now();
        for line in 0..60_000 {
            tracing::info!("line {line} of a flood that no disk keeps up with");
        }
        let took = started.elapsed();
        assert!(took < Duration::from_secs(10), "logging waited: {took:?}");
        // Read again: the writer catches up and says how many lines went.
        read_until(
            &mut pipe,
            &mut all,
            "lines of this log were dropped: its disk did not keep up",
            Duration::from_secs(30),
        );
        assert!(
            all.contains("line 0 of a flood"),
            "the first lines were queued"
        );
        // With the reader back, a flush returns once the queue is written.
        let reader = std::thread::spawn(move || {
            let mut rest = String::new();
            read_until(&mut pipe, &mut rest, "last", Duration::from_secs(30));
        });
        tracing::info!("last");
        flush();
        reader.join().unwrap();
    }
}
