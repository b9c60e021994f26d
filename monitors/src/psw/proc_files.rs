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
//! A process that has not run since its command line was last read cannot have changed
//! it: only the process itself rewrites its arguments (`setproctitle`) or execs. So the
//! read again asks first for the process's CPU time (all its threads, in ns: one
//! `clock_gettime` of its CPU clock, a fraction of a `cmdline` read, which walks the
//! process's page tables), and keeps the command line it read last while that time has not
//! moved. Another process writing into its memory (a debugger, `process_vm_writev`) is seen
//! at the next whole read of the table, at most `FULL_MAX_AGE` later: a whole read
//! ([`read_table`]) forgets what is kept.
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
    held().read(pids)
}

fn held() -> std::sync::MutexGuard<'static, HeldCommandLines> {
    HELD.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The descriptors of the watched processes' `cmdline` files, by pid.
#[derive(Debug, Default)]
struct HeldCommandLines {
    files: HashMap<u32, HeldFile>,
    /// How many `cmdline` reads were made (for the tests).
    #[cfg(test)]
    reads: usize,
}

/// A watched process's `cmdline` file, held open.
#[derive(Debug)]
struct HeldFile {
    file: File,
    /// The process's CPU time (ns) before the last read, and the command line it read.
    last: Option<(u64, String)>,
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
            .map(|pid| (*pid, self.command_line(&mut path, *pid, &mut raw)))
            .collect()
    }

    /// Forgets the command lines kept for processes that did not run (see the module's
    /// docs): the next read again reads every one.
    fn forget(&mut self) {
        for file in self.files.values_mut() {
            file.last = None;
        }
    }

    /// `pid`'s command line: the one read last while the process has not run since, or
    /// read now (None: gone). The CPU clock is asked by pid: a process that died and left
    /// its pid to a new one within a second is taken for the old one only if the new one's
    /// CPU time equals the old one's last to the nanosecond; any other value reads again,
    /// through the held file, which fails for the dead process and opens the new one's.
    fn command_line(&mut self, path: &mut String, pid: u32, raw: &mut Vec<u8>) -> Option<String> {
        let ran_until = cpu_time(pid);
        if let Some(HeldFile {
            last: Some((then, command)),
            ..
        }) = self.files.get(&pid)
            && ran_until == Some(*then)
        {
            return Some(command.clone());
        }
        if !self.read_one(path, pid, raw) {
            return None;
        }
        let command = joined_arguments(raw);
        if let Some(held) = self.files.get_mut(&pid) {
            held.last = ran_until.map(|ran_until| (ran_until, command.clone()));
        }
        Some(command)
    }

    /// `pid`'s command line into `raw`: through its held file, or (when it has none, or
    /// the process it was opened for is gone) a file opened now, which is then held.
    fn read_one(&mut self, path: &mut String, pid: u32, raw: &mut Vec<u8>) -> bool {
        #[cfg(test)]
        {
            self.reads += 1;
        }
        if let Some(held) = self.files.get(&pid) {
            if read_whole(&held.file, raw) {
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
            self.files.insert(pid, HeldFile { file, last: None });
        }
        true
    }

    /// How many files are held.
    #[cfg(test)]
    fn held(&self) -> usize {
        self.files.len()
    }
}

/// How much CPU time (ns) the process `pid` has used, all its threads together: its CPU
/// clock (`clock_gettime` of `MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)`, the kernel's ABI
/// that glibc's `clock_getcpuclockid` encodes too, without that call's extra check). None
/// when there is no such process.
fn cpu_time(pid: u32) -> Option<u64> {
    /// The kernel's `CPUCLOCK_SCHED`: the precise run time, not the tick-sampled one.
    const CPUCLOCK_SCHED: libc::clockid_t = 2;
    /// The kernel's `PID_MAX_LIMIT` (64-bit): no pid is larger, and the encoding below
    /// holds every pid up to it.
    const PID_MAX_LIMIT: libc::pid_t = 1 << 22;
    let pid = libc::pid_t::try_from(pid)
        .ok()
        .filter(|pid| (1..=PID_MAX_LIMIT).contains(pid))?;
    let clock = (!pid << 3) | CPUCLOCK_SCHED;
    let mut time = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `time` is a valid timespec for the call to fill; an unknown clock (no such
    // process) is an error return, not undefined behaviour.
    if unsafe { libc::clock_gettime(clock, &mut time) } != 0 {
        return None;
    }
    let seconds = u64::try_from(time.tv_sec).ok()?;
    let nanos = u64::try_from(time.tv_nsec).ok()?;
    Some(seconds.saturating_mul(1_000_000_000).saturating_add(nanos))
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
/// The command lines kept for processes that did not run are forgotten first: this read
/// is the truth the next reads again start from.
pub(super) fn read_table() -> Vec<ProcessRow> {
    held().forget();
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

    /// A process that does not run keeps its command line, read once; one that runs is
    /// read each time; a whole read of the table makes every one read again.
    #[test]
    fn a_command_line_is_read_again_only_when_its_process_ran() {
        let idle = Reaped(Command::new("sleep").arg("30").spawn().unwrap());
        let busy = Reaped(
            Command::new("sh")
                .args(["-c", "while :; do :; done"])
                .spawn()
                .unwrap(),
        );
        let (idle_pid, busy_pid) = (idle.0.id(), busy.0.id());
        let mut held = HeldCommandLines::default();
        until("sleep", || {
            held.read(&[idle_pid])[&idle_pid].as_deref() == Some("sleep 30")
        });
        // Its command line is `sleep 30` from the exec on, but the process still runs a
        // moment after it (the loader, libc's start): idle only once its CPU time stands
        // still. Then one more read keeps the command line with that time.
        until("sleep to be idle", || {
            let before = cpu_time(idle_pid);
            std::thread::sleep(Duration::from_millis(20));
            before.is_some() && cpu_time(idle_pid) == before
        });
        held.read(&[idle_pid]);
        let reads = held.reads;
        for _ in 0..3 {
            assert_eq!(
                held.read(&[idle_pid])[&idle_pid].as_deref(),
                Some("sleep 30")
            );
        }
        assert_eq!(held.reads, reads, "an idle process's command line is kept");
        let busy_command = "sh -c while :; do :; done";
        until("the busy shell", || {
            held.read(&[busy_pid])[&busy_pid].as_deref() == Some(busy_command)
        });
        let reads = held.reads;
        for _ in 0..3 {
            // It ran since the last read (on a crowded host that may take a while).
            let before = cpu_time(busy_pid);
            until("the busy shell to run", || cpu_time(busy_pid) != before);
            assert_eq!(
                held.read(&[busy_pid])[&busy_pid].as_deref(),
                Some(busy_command)
            );
        }
        assert_eq!(held.reads, reads + 3, "a running process is read each time");
        held.forget();
        let reads = held.reads;
        held.read(&[idle_pid]);
        assert_eq!(held.reads, reads + 1, "forgotten: read again");
    }

    #[test]
    fn cpu_time_is_this_process_s_and_none_for_no_process() {
        let mine = cpu_time(std::process::id()).expect("this process has a CPU clock");
        let spin = Instant::now();
        while spin.elapsed() < Duration::from_millis(20) {}
        assert!(cpu_time(std::process::id()).unwrap() > mine);
        assert_eq!(cpu_time(0), None);
        assert_eq!(cpu_time(u32::MAX), None);
        assert_eq!(cpu_time(1 << 22), None, "beyond any pid_max: no process");
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
