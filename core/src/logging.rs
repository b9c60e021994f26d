//! The daemon's own log: `tracing` into `$CLP_ROOT/log/clppm.log` (and stderr when asked).

use std::fs::OpenOptions;
use std::io::Write;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::{MakeWriter, MakeWriterExt};

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

/// Sends `tracing` to the daemon log; `CLP_LOG` (an env-filter) sets the level, default info.
pub fn init_daemon_logging(paths: &Paths, also_stderr: bool) -> std::io::Result<()> {
    init_logging(&paths.daemon_log(), also_stderr)
}

/// Sends `tracing` to the log file `path` (rotated once at start past 8 MiB), and to stderr
/// when asked; `CLP_LOG` sets the level, default info.
pub fn init_logging(path: &std::path::Path, also_stderr: bool) -> std::io::Result<()> {
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
    let filter = EnvFilter::try_from_env("CLP_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false);
    let result = if also_stderr {
        builder
            .with_writer(Escaping(Mutex::new(file).and(std::io::stderr)))
            .try_init()
    } else {
        builder.with_writer(Escaping(Mutex::new(file))).try_init()
    };
    result.map_err(|error| std::io::Error::other(error.to_string()))
}
