//! Alert log events, the original's message catalogue, and the sinks they go to.
//!
//! Every state change the daemon makes is an [`AlertEvent`] whose module, event id, level and
//! text come from the original product's catalogue (`alert-messages-x42.csv`, embedded): the
//! one table that owns them. Events go to the store (bounded), to `log/alert.log` (rotated),
//! to syslog and to mail through the one alert sink, [`crate::alert_sink`].

use std::collections::HashMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

/// The original's alert catalogue, embedded at build time.
const CATALOGUE_CSV: &str = include_str!("../alert-messages-x42.csv");

/// The severity of an alert, with the original's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Level {
    /// Informational.
    Info,
    /// Something needs attention.
    Warning,
    /// A fault.
    Error,
}

impl Level {
    /// The word the alert log prints.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "Info",
            Level::Warning => "Warning",
            Level::Error => "Error",
        }
    }

    /// The syslog priority of this level.
    fn syslog_priority(self) -> libc::c_int {
        match self {
            Level::Info => libc::LOG_INFO,
            Level::Warning => libc::LOG_WARNING,
            Level::Error => libc::LOG_ERR,
        }
    }

    /// Parses `INFO`, `WARN`, `ERR` (clplogcmd's words) and the catalogue's words.
    pub fn parse(text: &str) -> Option<Level> {
        match text.to_ascii_uppercase().as_str() {
            "INFO" => Some(Level::Info),
            "WARN" | "WARNING" => Some(Level::Warning),
            "ERR" | "ERROR" => Some(Level::Error),
            _ => None,
        }
    }
}

/// One entry of the catalogue: the level and the message template (`%1`, `%2`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueEntry {
    /// The level the original gives this message.
    pub level: Level,
    /// The message text with its `%n` placeholders.
    pub template: String,
}

static CATALOGUE: LazyLock<HashMap<(String, u32), CatalogueEntry>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(CATALOGUE_CSV.as_bytes());
    for record in reader.records().flatten() {
        let (Some(module), Some(level), Some(id), Some(text)) =
            (record.get(0), record.get(1), record.get(2), record.get(3))
        else {
            continue;
        };
        let (Some(level), Ok(id)) = (Level::parse(level), id.trim().parse::<u32>()) else {
            continue;
        };
        map.entry((module.to_string(), id))
            .or_insert_with(|| CatalogueEntry {
                level,
                template: text.to_string(),
            });
    }
    map
});

/// Looks up one message of the original's catalogue.
pub fn catalogue_entry(module: &str, event_id: u32) -> Option<&'static CatalogueEntry> {
    CATALOGUE.get(&(module.to_string(), event_id))
}

/// Fills a template's `%1`..`%9` (and the catalogue's stray `%s`) with `args`, in order.
pub fn fill_template(template: &str, args: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut chars = template.chars().peekable();
    let mut next_s = 0;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some(d @ '1'..='9') => {
                chars.next();
                let index = d as usize - '1' as usize;
                out.push_str(args.get(index).copied().unwrap_or(""));
            }
            Some('s') => {
                chars.next();
                out.push_str(args.get(next_s).copied().unwrap_or(""));
                next_s += 1;
            }
            _ => out.push('%'),
        }
    }
    out
}

/// One alert log record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// Sequence number in the store (0 until stored).
    #[serde(default)]
    pub seq: u64,
    /// When it happened, local time, `YYYY/MM/DD HH:MM:SS.mmm` as the original shows.
    pub time: String,
    /// The server it happened on.
    pub server: String,
    /// The original's module name (`pm`, `rc`, `rm`, `cl`, `logcmd`, ...).
    pub module: String,
    /// The event id within the module.
    pub event_id: u32,
    /// The level.
    pub level: Level,
    /// The message, placeholders filled.
    pub message: String,
}

/// Which alert log records a reader wants: a level floor, one module, a start time. The
/// daemon applies it, so that an answer carries only what will be shown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertFilter {
    /// Only this level and worse.
    #[serde(default)]
    pub level: Option<Level>,
    /// Only this module (`pm`, `rc`, ...).
    #[serde(default)]
    pub module: Option<String>,
    /// Only from this time on: a prefix of `YYYY/MM/DD HH:MM:SS.mmm` compares as text.
    #[serde(default)]
    pub since: Option<String>,
}

impl AlertFilter {
    /// Whether a record passes.
    pub fn matches(&self, event: &AlertEvent) -> bool {
        self.level.is_none_or(|floor| event.level >= floor)
            && self.module.as_ref().is_none_or(|m| &event.module == m)
            && self
                .since
                .as_ref()
                .is_none_or(|since| event.time.as_str() >= since.as_str())
    }
}

/// `time` as the alert log writes it: local time to the millisecond.
pub fn time_string(time: std::time::SystemTime) -> String {
    chrono::DateTime::<chrono::Local>::from(time)
        .format("%Y/%m/%d %H:%M:%S%.3f")
        .to_string()
}

impl AlertEvent {
    /// The catalogue's message `module`/`event_id` with `args`, happening now on `server`.
    ///
    /// An id missing from the catalogue is a programming error; it still yields an event
    /// (level Info, the arguments joined) rather than losing the information.
    pub fn from_catalogue(server: &str, module: &str, event_id: u32, args: &[&str]) -> Self {
        Self::from_catalogue_at(std::time::SystemTime::now(), server, module, event_id, args)
    }

    /// As [`Self::from_catalogue`], for an event that happened at `time`.
    pub fn from_catalogue_at<S: AsRef<str>>(
        time: std::time::SystemTime,
        server: &str,
        module: &str,
        event_id: u32,
        args: &[S],
    ) -> Self {
        let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
        let (level, message) = match catalogue_entry(module, event_id) {
            Some(entry) => (entry.level, fill_template(&entry.template, &args)),
            None => (Level::Info, args.join(" ")),
        };
        Self::at(time, server, module, event_id, level, message)
    }

    /// A free-text event (clplogcmd).
    pub fn custom(server: &str, module: &str, event_id: u32, level: Level, message: &str) -> Self {
        let now = std::time::SystemTime::now();
        Self::at(now, server, module, event_id, level, message.to_string())
    }

    /// An event at `time`, not yet numbered.
    fn at(
        time: std::time::SystemTime,
        server: &str,
        module: &str,
        event_id: u32,
        level: Level,
        message: String,
    ) -> Self {
        Self {
            seq: 0,
            time: time_string(time),
            server: server.to_string(),
            module: module.to_string(),
            event_id,
            level,
            message,
        }
    }

    /// The one-line text form written to `alert.log` (and shown by `clp_mltool messages`):
    /// whatever the fields hold, it is one line, control characters escaped.
    pub fn to_line(&self) -> String {
        use crate::escape::escape;
        format!(
            "{} {:<7} {} {} {} {}",
            escape(&self.time),
            self.level.as_str(),
            escape(&self.server),
            escape(&self.module),
            self.event_id,
            escape(&self.message)
        )
    }
}

impl AlertEvent {
    /// Reads back a line of [`AlertEvent::to_line`] (its sequence number is lost: 0).
    pub fn from_line(line: &str) -> Option<AlertEvent> {
        let mut rest = line.trim_end();
        let mut field = || {
            rest = rest.trim_start();
            let end = rest.find(char::is_whitespace)?;
            let (word, tail) = rest.split_at(end);
            rest = tail;
            Some(word)
        };
        let (date, clock) = (field()?, field()?);
        let level = Level::parse(field()?)?;
        let server = field()?.to_string();
        let module = field()?.to_string();
        let event_id = field()?.parse().ok()?;
        // The message follows after exactly one space.
        let message = rest.strip_prefix(' ').unwrap_or(rest).to_string();
        Some(AlertEvent {
            seq: 0,
            time: format!("{date} {clock}"),
            server,
            module,
            event_id,
            level,
            message,
        })
    }
}

/// The newest `limit` records of the text alert log at `path` (and its rotated generation
/// `<path>.1` when the current file has fewer), oldest first; what cannot be read is skipped.
pub fn read_text_log(path: &Path, limit: usize) -> Vec<AlertEvent> {
    let mut rotated = path.as_os_str().to_owned();
    rotated.push(".1");
    let mut events: Vec<AlertEvent> = Vec::new();
    for file in [path.to_path_buf(), PathBuf::from(rotated)] {
        if events.len() >= limit {
            break;
        }
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        let older: Vec<AlertEvent> = text.lines().filter_map(AlertEvent::from_line).collect();
        let wanted = limit - events.len();
        let start = older.len().saturating_sub(wanted);
        let mut older = older[start..].to_vec();
        older.append(&mut events);
        events = older;
    }
    events
}

/// Appends alert lines to a text file and rotates it to `<file>.1` past a size. Only the
/// alert sink ([`crate::alert_sink`]) writes alerts; everyone else goes through it.
///
/// The file stays open between records: a record costs one `statx` of the path (to notice a
/// file rotated, removed or replaced by someone else, which is then opened again) and one
/// `write`, instead of creating the folder, opening, sizing, reading the last byte and
/// closing the file each time (seven more system calls on the restart path).
#[derive(Debug, Clone)]
pub(crate) struct AlertFile {
    path: PathBuf,
    max_bytes: u64,
    /// The file as last written, shared by the clones of this writer.
    held: std::sync::Arc<std::sync::Mutex<Option<HeldFile>>>,
}

/// The open alert log and what this writer knows of it.
#[derive(Debug)]
struct HeldFile {
    file: fs::File,
    /// Device and inode: the same file is still at the path when they match.
    dev: u64,
    ino: u64,
    /// The length after this writer's last record, which ended with a newline.
    len: u64,
}

impl AlertFile {
    /// The text alert log at `path`, rotated once it passes `max_bytes`.
    pub fn new(path: impl Into<PathBuf>, max_bytes: u64) -> Self {
        Self {
            path: path.into(),
            max_bytes,
            held: std::sync::Arc::default(),
        }
    }

    /// Appends one event; rotates first when the file is full. The record is written whole
    /// or not at all: one write of the whole line, and on a short or failed write the file is
    /// cut back to its previous length. A file that does not end with a newline (cut by a
    /// crash) gets one first, so the record starts on a fresh line.
    pub fn append(&self, event: &AlertEvent) -> std::io::Result<()> {
        self.append_line(&event.to_line())
    }

    /// Appends one already formatted record line (without its newline), as [`Self::append`].
    pub fn append_line(&self, line: &str) -> std::io::Result<()> {
        use std::os::unix::fs::MetadataExt;
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut on_disk = fs::metadata(&self.path).ok();
        // The file held is used only while it is still the one at the path.
        let mut current = held.take().filter(|open| {
            on_disk
                .as_ref()
                .is_some_and(|meta| meta.dev() == open.dev && meta.ino() == open.ino)
        });
        if let Some(meta) = &on_disk
            && meta.len() >= self.max_bytes
        {
            current = None;
            let mut rotated = self.path.clone().into_os_string();
            rotated.push(".1");
            fs::rename(&self.path, rotated)?;
            on_disk = None;
        }
        let (mut file, dev, ino, before, ends_cleanly) = match (current, on_disk) {
            // Nobody else wrote since this writer's last record: it ends with a newline.
            (Some(open), Some(meta)) => (
                open.file,
                open.dev,
                open.ino,
                meta.len(),
                meta.len() == open.len,
            ),
            _ => {
                if let Some(dir) = self.path.parent() {
                    fs::create_dir_all(dir)?;
                }
                let file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .read(true)
                    .open(&self.path)?;
                let meta = file.metadata()?;
                (file, meta.dev(), meta.ino(), meta.len(), false)
            }
        };
        let mut record = Vec::with_capacity(line.len() + 2);
        if before > 0 && !ends_cleanly && !ends_with_newline(&file, before) {
            record.push(b'\n');
        }
        record.extend_from_slice(line.as_bytes());
        record.push(b'\n');
        let written = file.write(&record);
        match written {
            Ok(count) if count == record.len() => {
                *held = Some(HeldFile {
                    file,
                    dev,
                    ino,
                    len: before + record.len() as u64,
                });
                Ok(())
            }
            outcome => {
                // Never leave a cut record behind: the next one would be glued onto it.
                let _ = file.set_len(before);
                Err(match outcome {
                    Err(error) => error,
                    Ok(count) => std::io::Error::new(
                        std::io::ErrorKind::StorageFull,
                        format!(
                            "only {count} of {} bytes could be written (is the disk full?)",
                            record.len()
                        ),
                    ),
                })
            }
        }
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Whether the last byte of `file` (of length `len`) is a newline.
fn ends_with_newline(file: &fs::File, len: u64) -> bool {
    use std::os::unix::fs::FileExt;
    let mut last = [0_u8; 1];
    file.read_exact_at(&mut last, len - 1).is_err() || last[0] == b'\n'
}

/// Sends an event to the local syslog (`clp: <type: rm><event: 9> message`, the original's
/// shape). Without a syslog daemon the line is silently dropped by libc. Only the alert sink
/// ([`crate::alert_sink`]) calls it, under its one syslog rule.
pub(crate) fn send_to_syslog(event: &AlertEvent) {
    let line = format!(
        "<type: {}><event: {}> {}",
        crate::escape::escape(&event.module),
        event.event_id,
        crate::escape::escape(&event.message)
    );
    let Ok(line) = std::ffi::CString::new(line.replace('\0', " ")) else {
        return;
    };
    static IDENT: &std::ffi::CStr = c"clp";
    // SAFETY: both pointers are valid NUL-terminated C strings that outlive the calls;
    // the format string is a constant "%s", so the message cannot inject conversions.
    unsafe {
        libc::openlog(IDENT.as_ptr(), libc::LOG_PID, libc::LOG_DAEMON);
        libc::syslog(event.level.syslog_priority(), c"%s".as_ptr(), line.as_ptr());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_has_the_ids_the_engine_uses() {
        for (module, id) in [
            ("pm", 1),
            ("pm", 2),
            ("rc", 10),
            ("rc", 11),
            ("rc", 12),
            ("rc", 30),
            ("rc", 31),
            ("rc", 32),
            ("rm", 1),
            ("rm", 9),
            ("rm", 13),
            ("rm", 16),
            ("rm", 17),
            ("rm", 26),
            ("cl", 1),
            ("cl", 4),
        ] {
            assert!(catalogue_entry(module, id).is_some(), "{module} {id}");
        }
    }

    #[test]
    fn messages_are_the_originals() {
        let event =
            AlertEvent::from_catalogue("zabi", "rm", 9, &["pidw", "11", "Process did not exist."]);
        assert_eq!(event.level, Level::Error);
        assert_eq!(
            event.message,
            "Detected an error in monitoring pidw. (11 : Process did not exist.)"
        );
        let event = AlertEvent::from_catalogue("zabi", "cl", 4, &["zabi", "clpcl"]);
        assert_eq!(
            event.message,
            "There was a request to resume zabi from the clpcl."
        );
        let event = AlertEvent::from_catalogue("zabi", "pm", 1, &[]);
        assert_eq!(event.message, "Starting the cluster daemon...");
        assert_eq!(event.level, Level::Info);
    }

    #[test]
    fn a_text_line_reads_back() {
        let event = AlertEvent::from_catalogue("zabi", "rc", 10, &["failover"]);
        let mut back = AlertEvent::from_line(&event.to_line()).unwrap();
        back.seq = event.seq;
        assert_eq!(back, event);
        let spaced = AlertEvent::custom("zabi", "logcmd", 3, Level::Warning, "two  spaces ");
        assert_eq!(
            AlertEvent::from_line(&spaced.to_line()).unwrap().message,
            "two  spaces"
        );
        assert_eq!(AlertEvent::from_line("garbage"), None);
    }

    #[test]
    fn the_text_log_is_read_newest_last_across_the_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let file = AlertFile::new(dir.path().join("alert.log"), 300);
        for n in 0..6 {
            let event = AlertEvent::custom("s", "logcmd", n, Level::Info, &"x".repeat(60));
            file.append(&event).unwrap();
        }
        let events = read_text_log(file.path(), 4);
        let ids: Vec<u32> = events.iter().map(|e| e.event_id).collect();
        assert_eq!(ids, [2, 3, 4, 5]);
        assert!(read_text_log(&dir.path().join("none.log"), 4).is_empty());
    }

    #[test]
    fn the_file_rotates_when_full() {
        let dir = tempfile::tempdir().unwrap();
        let file = AlertFile::new(dir.path().join("alert.log"), 100);
        let event = AlertEvent::custom("s", "logcmd", 1, Level::Info, &"x".repeat(80));
        file.append(&event).unwrap();
        file.append(&event).unwrap();
        assert!(dir.path().join("alert.log.1").exists());
        let current = fs::read_to_string(dir.path().join("alert.log")).unwrap();
        assert_eq!(current.lines().count(), 1);
    }

    #[test]
    fn a_record_after_a_cut_line_starts_on_a_fresh_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("alert.log");
        fs::write(&path, "2026/12/02 17:00:00.000 Info    s logcmd 1 cut sh").unwrap();
        let file = AlertFile::new(&path, 1 << 20);
        file.append(&AlertEvent::custom("s", "logcmd", 2, Level::Info, "whole"))
            .unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[1].ends_with("logcmd 2 whole"), "{text}");
    }

    /// The file is kept open between records, yet what others do to the path is followed:
    /// a cut line written by another process, the file moved away (logrotate), the folder
    /// removed.
    #[test]
    fn the_open_file_follows_what_others_do_to_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("log");
        let path = logs.join("alert.log");
        let file = AlertFile::new(&path, 1 << 20);
        let record = |id: u32| AlertEvent::custom("s", "logcmd", id, Level::Info, "whole");
        file.append(&record(1)).unwrap();
        // Another writer leaves a cut line: the next record starts on a fresh line.
        let mut other = OpenOptions::new().append(true).open(&path).unwrap();
        other.write_all(b"cut by a crash").unwrap();
        file.append(&record(2)).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[2].ends_with("logcmd 2 whole"), "{text}");
        // Moved away: the next record goes to a new file at the path, not the moved one.
        fs::rename(&path, logs.join("alert.log.old")).unwrap();
        file.append(&record(3)).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.ends_with("logcmd 3 whole\n"), "{text}");
        // The folder removed: made again.
        fs::remove_dir_all(&logs).unwrap();
        file.append(&record(4)).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("logcmd 4 whole\n"), "{text}");
        // A clone writes through the same open file, after the records of the first.
        file.clone().append(&record(5)).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
    }

    #[test]
    fn a_failed_write_is_an_error() {
        let file = AlertFile::new("/dev/full", 1 << 20);
        let event = AlertEvent::custom("s", "logcmd", 1, Level::Info, "lost");
        assert!(file.append(&event).is_err());
    }
}
