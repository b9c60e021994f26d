//! psw's reads of `/proc`: a whole table (every process's command line and name), and the
//! command lines of the watched processes read again each second.
//!
//! A watched process's `cmdline` is read through a descriptor held open from one read to
//! the next: one `pread` a second, where opening it again cost four calls (open, a read, the
//! read that finds the end, close) and most of their time in the path lookup. The
//! descriptor stays bound to the process it was opened for: once that process is gone
//! the read fails, and the file is opened again by its pid, so a pid taken by a new process
//! is read as a fresh open would read it.
//!
//! A read shorter than asked is the end of a `/proc/PID/cmdline` or `comm`: the kernel
//! fills the buffer until the file ends (`get_mm_cmdline` loops over the argument pages;
//! `comm` is one record), so no read is spent learning that the next one returns nothing.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt as _;

use super::ProcessRow;

/// At most this many command-line files are held open (one descriptor each); a watched
/// process beyond them is read by opening its file each time.
const MAX_HELD: usize = 4096;

/// The bytes asked of each read.
const CHUNK: usize = 4096;

/// The watched processes' command-line files, held open between reads (only the one table
/// read under way uses them).
static HELD: std::sync::LazyLock<std::sync::Mutex<HeldCommandLines>> =
    std::sync::LazyLock::new(Default::default);

/// Reads the command lines of `pids` again, through the files held open for them
/// (blocking file reads; None: gone).
pub(super) fn read_again(pids: &[u32]) -> HashMap<u32, Option<String>> {
    HELD.lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .read(pids)
}

/// The descriptors of the watched processes' `cmdline` files, by pid.
#[derive(Debug, Default)]
struct HeldCommandLines {
    files: HashMap<u32, File>,
}

impl HeldCommandLines {
    /// Reads the command lines of `pids` again (blocking file reads; None: gone). Files of
    /// pids not asked for any more are closed.
    fn read(&mut self, pids: &[u32]) -> HashMap<u32, Option<String>> {
        let asked: std::collections::HashSet<u32> = pids.iter().copied().collect();
        self.files.retain(|pid, _| asked.contains(pid));
        let mut path = String::with_capacity(32);
        let mut raw = Vec::with_capacity(CHUNK);
        pids.iter()
            .map(|pid| {
                let command = self
                    .read_one(&mut path, *pid, &mut raw)
                    .then(|| joined_arguments(&raw));
                (*pid, command)
            })
            .collect()
    }

    /// `pid`'s command line into `raw`: through its held file, or (when it has none, or
    /// the process it was opened for is gone) a file opened now, which is then held.
    fn read_one(&mut self, path: &mut String, pid: u32, raw: &mut Vec<u8>) -> bool {
        if let Some(file) = self.files.get(&pid) {
            if read_whole(file, raw) {
                return true;
            }
            self.files.remove(&pid);
        }
        let Some(file) = open(path, pid, "cmdline") else {
            return false;
        };
        if !read_whole(&file, raw) {
            return false;
        }
        if self.files.len() < MAX_HELD {
            self.files.insert(pid, file);
        }
        true
    }

    /// How many files are held.
    #[cfg(test)]
    fn held(&self) -> usize {
        self.files.len()
    }
}

/// The `comm` name of `pid` (empty when it cannot be read). Reading it takes no lock that a
/// hung process can hold, so it is read on the monitor's own thread.
pub(super) fn name_of(pid: u32) -> String {
    read_name(
        &mut String::with_capacity(32),
        pid,
        &mut Vec::with_capacity(64),
    )
}

/// The `comm` name of `pid` through the reused `path` and `raw` (empty when it cannot be
/// read; as `read_to_string` would have it, a name that is not UTF-8 is no name).
fn read_name(path: &mut String, pid: u32, raw: &mut Vec<u8>) -> String {
    if read_proc_file(path, pid, "comm", raw) {
        std::str::from_utf8(raw)
            .map(|name| name.trim_end_matches('\n').to_string())
            .unwrap_or_default()
    } else {
        String::new()
    }
}

/// Reads every process's command line and name (blocking file reads). One path and one
/// read buffer serve every process: a row costs its two strings and no other allocation.
pub(super) fn read_table() -> Vec<ProcessRow> {
    let mut rows = Vec::new();
    let Ok(pids) = clp_core::process::pids() else {
        return rows;
    };
    let mut path = String::with_capacity(32);
    let mut raw = Vec::with_capacity(CHUNK);
    for pid in pids {
        let command = if read_proc_file(&mut path, pid, "cmdline", &mut raw) {
            joined_arguments(&raw)
        } else {
            String::new()
        };
        let name = read_name(&mut path, pid, &mut raw);
        rows.push(ProcessRow { pid, command, name });
    }
    rows
}

/// Opens `/proc/PID/FILE` (through the reused `path`).
fn open(path: &mut String, pid: u32, file: &str) -> Option<File> {
    use std::fmt::Write as _;
    path.clear();
    let _ = write!(path, "/proc/{pid}/{file}");
    File::open(&*path).ok()
}

/// Reads `/proc/PID/FILE` into `raw` (through the reused `path`); false when it cannot.
/// Plain reads until the end: `std::fs::read` and `read_to_end` first ask the file's size
/// (statx, and lseek), which a /proc file does not know — two syscalls a file for nothing.
fn read_proc_file(path: &mut String, pid: u32, file: &str, raw: &mut Vec<u8>) -> bool {
    open(path, pid, file).is_some_and(|opened| read_whole(&opened, raw))
}

/// Reads `file` from its start into `raw`, until a read shorter than asked (the end of a
/// `/proc/PID` file; see the module's docs); false on an error (the process is gone).
fn read_whole(file: &File, raw: &mut Vec<u8>) -> bool {
    raw.clear();
    let mut chunk = [0_u8; CHUNK];
    loop {
        match file.read_at(&mut chunk, raw.len() as u64) {
            Ok(read) => {
                raw.extend_from_slice(&chunk[..read]);
                if read < CHUNK {
                    return true;
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// A command line as `ps -eo args` shows it: the NUL-separated arguments, empty ones left
/// out, joined by single spaces (bytes that are not UTF-8 become U+FFFD).
pub(super) fn joined_arguments(raw: &[u8]) -> String {
    let mut joined = Vec::with_capacity(raw.len());
    for argument in raw.split(|b| *b == 0).filter(|arg| !arg.is_empty()) {
        if !joined.is_empty() {
            joined.push(b' ');
        }
        joined.extend_from_slice(argument);
    }
    match String::from_utf8(joined) {
        Ok(text) => text,
        Err(error) => String::from_utf8_lossy(error.as_bytes()).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Child, Command};
    use std::time::{Duration, Instant};

    /// The joined command line is what joining the arguments one by one gave.
    #[test]
    fn command_lines_join_as_ps_shows_them() {
        let one_by_one = |raw: &[u8]| {
            raw.split(|b| *b == 0)
                .filter(|arg| !arg.is_empty())
                .map(String::from_utf8_lossy)
                .collect::<Vec<_>>()
                .join(" ")
        };
        for raw in [
            &b""[..],
            b"\0",
            b"/bin/sleep\x00100\x00",
            b"a\0\0b\0\0",
            b"\0lead\0",
            b"bad\xff\xfe utf8\0\xe2\x82\0\xe2\x82\xac\0",
        ] {
            assert_eq!(joined_arguments(raw), one_by_one(raw), "{raw:?}");
        }
    }

    /// A child killed and reaped when the test ends, however it ends.
    struct Reaped(Child);

    impl Drop for Reaped {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn until(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < deadline, "{what}: not within 10 s");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_held_file_follows_its_process_through_an_exec_and_lets_go_when_it_is_gone() {
        let long = "x".repeat(3 * CHUNK);
        let mut child = Reaped(
            Command::new("sh")
                .args(["-c", "sleep 0.3; exec sleep 30; :", &long])
                .spawn()
                .unwrap(),
        );
        let pid = child.0.id();
        let mut held = HeldCommandLines::default();
        // A command line longer than one read is read whole (once the child runs sh).
        let first = format!("sh -c sleep 0.3; exec sleep 30; : {long}");
        until("sh", || held.read(&[pid])[&pid].as_ref() == Some(&first));
        assert_eq!(held.held(), 1);
        // The same pid runs another program: the held file reads the new command line.
        until("the exec", || {
            held.read(&[pid])[&pid].as_deref() == Some("sleep 30")
        });
        assert_eq!(held.held(), 1);
        // Gone (killed and reaped): no command line, and the file is let go.
        child.0.kill().unwrap();
        child.0.wait().unwrap();
        assert_eq!(held.read(&[pid])[&pid], None);
        assert_eq!(held.held(), 0);
    }

    #[test]
    fn files_of_pids_no_longer_asked_for_are_closed() {
        let children: Vec<Reaped> = (0..3)
            .map(|_| Reaped(Command::new("sleep").arg("30").spawn().unwrap()))
            .collect();
        let pids: Vec<u32> = children.iter().map(|child| child.0.id()).collect();
        let mut held = HeldCommandLines::default();
        until("three sleeps", || {
            let read = held.read(&pids);
            pids.iter()
                .all(|pid| read[pid].as_deref() == Some("sleep 30"))
        });
        assert_eq!(held.held(), 3);
        let read = held.read(&pids[1..2]);
        assert_eq!(read.len(), 1);
        assert_eq!(held.held(), 1);
        held.read(&[]);
        assert_eq!(held.held(), 0);
    }

    #[test]
    fn a_whole_table_has_this_process_with_its_name() {
        let me = std::process::id();
        let rows = read_table();
        let row = rows.iter().find(|row| row.pid == me).unwrap();
        assert!(!row.command.is_empty());
        assert_eq!(row.name, name_of(me));
        assert!(!row.name.is_empty() && !row.name.ends_with('\n'));
    }
}
