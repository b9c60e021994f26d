//! The daemon's own log: `tracing` into `$CLP_ROOT/log/clppm.log` (and stderr when asked).

use std::fs::OpenOptions;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::MakeWriterExt;

use crate::paths::Paths;

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
            .with_writer(Mutex::new(file).and(std::io::stderr))
            .try_init()
    } else {
        builder.with_writer(Mutex::new(file)).try_init()
    };
    result.map_err(|error| std::io::Error::other(error.to_string()))
}
