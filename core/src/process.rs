//! Child processes: running exec scripts with a clean environment, their own process group
//! and a timeout, identifying a process across daemon restarts, and waiting for the exit of
//! a process that is not our child (pidfd).

use std::fs::OpenOptions;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use tokio::io::unix::AsyncFd;
use tokio::process::{Child, Command};

/// A process, identified so that a recycled pid is never mistaken for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessIdentity {
    /// The pid (also its process group: scripts run as group leaders).
    pub pid: u32,
    /// The kernel's start time of the process (`/proc/PID/stat` field 22, clock ticks).
    pub start_time: u64,
}

/// What `/proc/PID/stat` says: (state letter, start time).
///
/// Read into a buffer on the stack with plain reads: psw reads this file for every process
/// it finds, each check, and `read_to_string` would allocate the path and the text and ask
/// the file's size first (a `statx` that /proc cannot answer).
fn read_stat(pid: u32) -> Option<(char, u64)> {
    use std::io::Write as _;
    let mut path = [0_u8; 32];
    let mut cursor = std::io::Cursor::new(&mut path[..]);
    write!(cursor, "/proc/{pid}/stat").ok()?;
    let length = usize::try_from(cursor.position()).ok()?;
    let mut file = std::fs::File::open(std::str::from_utf8(&path[..length]).ok()?).ok()?;
    let mut buffer = [0_u8; 1024];
    let filled = fill(&mut file, &mut buffer).ok()?;
    if filled == buffer.len() {
        // As long as any stat line seen, or longer: read it the plain way.
        return parse_stat(&std::fs::read(format!("/proc/{pid}/stat")).ok()?);
    }
    parse_stat(&buffer[..filled])
}

/// Reads `source` into `buffer` until the buffer is full or the source ends; returns how
/// many bytes it holds. One buffer on the stack, no size asked first (`read_to_end` grows
/// its buffer in pieces, and asks a /proc file a size it cannot give).
fn fill(source: &mut impl std::io::Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match source.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

/// (state letter, start time) of the bytes of a `/proc/PID/stat`.
fn parse_stat(bytes: &[u8]) -> Option<(char, u64)> {
    // The command name may hold spaces, parentheses and any byte but NUL (a name that is
    // not UTF-8 is still a process): the fields, plain ASCII, start after the last ')'.
    let after = bytes.iter().rposition(|&byte| byte == b')')? + 2;
    let rest = std::str::from_utf8(bytes.get(after..)?).ok()?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    // `rest` starts at field 3 (state); start time is field 22.
    let start_time = fields.nth(18)?.parse().ok()?;
    Some((state, start_time))
}

impl ProcessIdentity {
    /// The identity of the live process `pid`.
    pub fn of(pid: u32) -> Option<ProcessIdentity> {
        read_stat(pid).map(|(_, start_time)| ProcessIdentity { pid, start_time })
    }

    /// The identity of `pid` if it runs (not exited, not a zombie): [`Self::of`] and
    /// [`Self::is_alive`] in one read of its stat.
    pub fn of_live(pid: u32) -> Option<ProcessIdentity> {
        match read_stat(pid) {
            Some((state, start_time)) if state != 'Z' && state != 'X' => {
                Some(ProcessIdentity { pid, start_time })
            }
            _ => None,
        }
    }

    /// Whether this very process still runs (not exited, not a zombie, pid not recycled).
    pub fn is_alive(&self) -> bool {
        matches!(read_stat(self.pid), Some((state, start)) if state != 'Z' && state != 'X' && start == self.start_time)
    }
}

/// The pids /proc lists now (its numeric entries), or why /proc cannot be read.
pub fn pids() -> std::io::Result<impl Iterator<Item = u32>> {
    Ok(std::fs::read_dir("/proc")?
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok()))
}

/// The environments of the process-group leaders (pid = pgid) that carry one variable,
/// read from /proc once.
///
/// This is how clppm finds a resource's process that a crashed predecessor started but had
/// not yet recorded. Its start looks for every async resource's in the same reading: one
/// pass over /proc for 1,000 resources instead of one pass (an `environ` read of every
/// process) per resource, which took minutes.
#[derive(Debug, Default)]
pub struct GroupLeaders {
    /// (pid, its environment as /proc gives it: `NAME=value` entries ended by NUL).
    leaders: Vec<(u32, Vec<u8>)>,
}

impl GroupLeaders {
    /// Reads every process-group leader but this process whose environment holds
    /// `required` (`(name, value)`); the others are not kept.
    pub fn read(required: (&str, &str)) -> GroupLeaders {
        let Ok(pids) = pids() else {
            return GroupLeaders::default();
        };
        let me = std::process::id();
        let required = format!("{}={}", required.0, required.1);
        let mut leaders = Vec::new();
        for pid in pids {
            if pid == me || read_pgrp(pid) != Some(pid) {
                continue;
            }
            let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
                continue;
            };
            if variables(&environ).any(|var| var == required.as_bytes()) {
                leaders.push((pid, environ));
            }
        }
        GroupLeaders { leaders }
    }

    /// The leaders read that still run and whose environment holds every `(name, value)`
    /// of `wanted` and no variable named in `absent`, oldest first.
    pub fn find(&self, wanted: &[(&str, &str)], absent: &[&str]) -> Vec<ProcessIdentity> {
        let wanted: Vec<String> = wanted
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        let absent: Vec<String> = absent.iter().map(|name| format!("{name}=")).collect();
        let mut found: Vec<ProcessIdentity> = self
            .leaders
            .iter()
            .filter(|(_, environ)| {
                wanted
                    .iter()
                    .all(|pair| variables(environ).any(|var| var == pair.as_bytes()))
                    && !absent.iter().any(|prefix| {
                        variables(environ).any(|var| var.starts_with(prefix.as_bytes()))
                    })
            })
            .filter_map(|(pid, _)| ProcessIdentity::of(*pid).filter(ProcessIdentity::is_alive))
            .collect();
        found.sort_by_key(|identity| (identity.start_time, identity.pid));
        found
    }
}

/// The `NAME=value` entries of an environment as /proc gives it.
fn variables(environ: &[u8]) -> impl Iterator<Item = &[u8]> {
    environ.split(|b| *b == 0).filter(|var| !var.is_empty())
}

/// The process group of `pid` (`/proc/PID/stat` field 5).
fn read_pgrp(pid: u32) -> Option<u32> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 2..];
    // `rest` starts at field 3 (state): state, ppid, pgrp.
    rest.split_whitespace().nth(2)?.parse().ok()
}

/// Sends `signal` to the process group `pgid` (ignoring a group that is already gone).
pub fn signal_group(pgid: u32, signal: Signal) {
    let Ok(pgid) = i32::try_from(pgid) else {
        return;
    };
    if pgid > 1 {
        let _ = killpg(Pid::from_raw(pgid), signal);
    }
}

/// Whether any process of the group `pgid` is left.
pub fn group_exists(pgid: u32) -> bool {
    let Ok(pgid) = i32::try_from(pgid) else {
        return false;
    };
    pgid > 1 && killpg(Pid::from_raw(pgid), None).is_ok()
}

/// Waits for the exit of any process (our child or not) through a pidfd.
pub async fn wait_for_exit(pid: u32) -> std::io::Result<()> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1; no memory is shared.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        let error = std::io::Error::last_os_error();
        // ESRCH: it is already gone.
        return if error.raw_os_error() == Some(libc::ESRCH) {
            Ok(())
        } else {
            Err(error)
        };
    }
    // SAFETY: the syscall returned a fresh fd that nothing else owns.
    let owned = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    // SAFETY: the fd is owned by `owned`, which the AsyncFd owns and closes after
    // deregistering it.
    let async_fd = unsafe { AsyncFd::register_with_interest(owned, tokio::io::Interest::READABLE) }
        .map_err(|error| std::io::Error::other(error.to_string()))?;
    let _ready = async_fd.readable().await?;
    Ok(())
}

/// One script to run.
#[derive(Debug, Clone)]
pub struct Script {
    /// The script (run directly when executable, else with `/bin/sh`).
    pub path: PathBuf,
    /// The folder it runs in.
    pub dir: PathBuf,
    /// The whole environment it gets.
    pub env: Vec<(String, String)>,
    /// Where its stdout and stderr go (appended).
    pub log: PathBuf,
}

/// How a sync script ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptOutcome {
    /// It exited with this code.
    Exited(i32),
    /// A signal killed it.
    Signalled(i32),
    /// It outlived its timeout; its process group was killed.
    TimedOut,
    /// It could not be started.
    SpawnFailed(String),
}

impl ScriptOutcome {
    /// Exit code 0.
    pub fn success(&self) -> bool {
        *self == ScriptOutcome::Exited(0)
    }

    /// The original's `(code : text)` detail of a failure.
    pub fn detail(&self) -> (String, String) {
        match self {
            ScriptOutcome::Exited(code) => (code.to_string(), "Command was failed.".into()),
            ScriptOutcome::Signalled(signal) => (
                format!("{}", 128 + signal),
                format!("Command was killed by signal {signal}."),
            ),
            ScriptOutcome::TimedOut => ("99".into(), "command is timeout".into()),
            ScriptOutcome::SpawnFailed(message) => ("1".into(), message.clone()),
        }
    }

    fn from_status(status: ExitStatus) -> Self {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(code), _) => ScriptOutcome::Exited(code),
            (None, Some(signal)) => ScriptOutcome::Signalled(signal),
            (None, None) => ScriptOutcome::Exited(-1),
        }
    }
}

impl Script {
    /// The command that runs the script: its folder, its environment only, its output
    /// appended to its log, the leader of its own process group.
    pub fn command(&self) -> std::io::Result<Command> {
        if let Some(parent) = self.log.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let mut command = match launch_of(&self.path)? {
            Launch::Direct => Command::new(&self.path),
            Launch::Shell => {
                let mut command = Command::new("/bin/sh");
                command.arg(&self.path);
                command
            }
        };
        command
            .current_dir(&self.dir)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .process_group(0)
            .kill_on_drop(false);
        Ok(command)
    }

    /// Starts the script as the leader of its own process group, and lets it run first.
    ///
    /// The new process is still in its `execve` when the spawn returns (a `vfork` parent is
    /// let go once the child's exec has begun). On a CPU the two share, the caller woken there
    /// would run its bookkeeping first, and the first look at the process (`/proc/PID/stat`,
    /// for its start time) waits on that exec: a `perf sched` trace of a restart showed the
    /// daemon running twice, 180 µs in all, while `start.sh` waited. A yield hands the CPU
    /// to the process instead; where another CPU is free it returns at once.
    pub fn spawn(&self) -> std::io::Result<Child> {
        let child = self.command()?.spawn()?;
        std::thread::yield_now();
        Ok(child)
    }

    /// Runs the script to its end; past `timeout` its whole process group is killed.
    pub async fn run(&self, timeout: Duration) -> ScriptOutcome {
        let mut child = match self.spawn() {
            Ok(child) => child,
            Err(error) => {
                return ScriptOutcome::SpawnFailed(format!(
                    "cannot run {}: {error}",
                    self.path.display()
                ));
            }
        };
        let pgid = child.id().unwrap_or(0);
        match tokio::time::timeout(timeout, child.wait()).await {
            Ok(Ok(status)) => ScriptOutcome::from_status(status),
            Ok(Err(error)) => {
                ScriptOutcome::SpawnFailed(format!("waiting for {}: {error}", self.path.display()))
            }
            Err(_) => {
                signal_group(pgid, Signal::SIGKILL);
                let _ = child.wait().await;
                ScriptOutcome::TimedOut
            }
        }
    }
}

/// How a script file is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launch {
    /// exec'd itself: an executable with a `#!` line, or a binary.
    Direct,
    /// Given to `/bin/sh`: not executable, or a shell script without a `#!` line, which the
    /// kernel refuses (ENOEXEC) and `execvp` and the original hand to the shell.
    Shell,
}

/// How much of a script is read to decide how to start it and to find CRLF line endings.
const SCRIPT_HEAD: u64 = 8192;

/// How to start the script `path`, or why it cannot run: a script written with Windows
/// (CRLF) line endings is refused with a message that names the file and the fix, instead of
/// the kernel's "No such file or directory" for an interpreter called `/bin/sh\r` or the
/// shell's errors about `\r` in every command.
pub fn launch_of(path: &Path) -> std::io::Result<Launch> {
    let mut file = std::fs::File::open(path)?;
    let executable = file.metadata()?.permissions().mode() & 0o111 != 0;
    // One read for a short script, on the restart path.
    let mut buffer = [0_u8; SCRIPT_HEAD as usize];
    let filled = fill(&mut file, &mut buffer)?;
    let head = &buffer[..filled];
    if head.starts_with(b"\x7fELF") {
        return Ok(if executable {
            Launch::Direct
        } else {
            Launch::Shell
        });
    }
    if head.windows(2).any(|pair| pair == b"\r\n") {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            crlf_fix(path),
        ));
    }
    Ok(if executable && head.starts_with(b"#!") {
        Launch::Direct
    } else {
        Launch::Shell
    })
}

/// A command for an operator's program named by a path (an `[os_actions]` command): a script
/// without a `#!` line goes to `/bin/sh` as [`Script`]s do, a CRLF script is refused; a bare
/// name (found on PATH) or a file that cannot be read is left to the kernel.
pub fn operator_command(program: &str) -> std::io::Result<std::process::Command> {
    let path = Path::new(program);
    if !program.contains('/') || !path.is_file() {
        return Ok(std::process::Command::new(program));
    }
    match launch_of(path) {
        Ok(Launch::Shell) => {
            let mut command = std::process::Command::new("/bin/sh");
            command.arg(path);
            Ok(command)
        }
        Err(error) if error.kind() == std::io::ErrorKind::InvalidData => Err(error),
        Ok(Launch::Direct) | Err(_) => Ok(std::process::Command::new(program)),
    }
}

/// The fix for a script with CRLF line endings, for a message about `path`.
pub fn crlf_fix(path: &Path) -> String {
    format!(
        "it has Windows (CRLF) line endings, which the shell does not run: convert it with 'dos2unix {}' (or 'sed -i \"s/\\r$//\" {}')",
        path.display(),
        path.display()
    )
}

/// The folder of the running binary, so scripts find the clp commands first on PATH.
pub fn own_bin_dir() -> Option<PathBuf> {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
}

/// The PATH a script gets: the clp commands first, then the system's.
pub fn script_path_var() -> String {
    let system = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    match own_bin_dir() {
        Some(dir) => format!("{}:{system}", dir.display()),
        None => system.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_reading_finds_the_group_leaders_of_each_resource() {
        use std::os::unix::process::CommandExt as _;
        // Two group leaders of one root (as a crashed clppm's start scripts would be), one
        // of another root, one of this root with a stop factor set.
        let root = format!("/tmp/clp-leaders-test-{}", std::process::id());
        let spawn = |resource: &str, root: &str, factor: bool| {
            let mut command = std::process::Command::new("sleep");
            command
                .arg("30")
                .env("CLP_LEADERS_TEST_ROOT", root)
                .env("CLP_RESOURCENAME", resource)
                .process_group(0);
            if factor {
                command.env("CLP_FACTOR", "STOP");
            }
            KillOnDrop(command.spawn().expect("spawn sleep"))
        };
        let first = spawn("exec1", &root, false);
        let second = spawn("exec2", &root, false);
        let _other_root = spawn("exec1", "/elsewhere", false);
        let _stopping = spawn("exec3", &root, true);
        let leaders = GroupLeaders::read(("CLP_LEADERS_TEST_ROOT", &root));
        let pids = |wanted: &[(&str, &str)]| -> Vec<u32> {
            leaders
                .find(wanted, &["CLP_FACTOR"])
                .iter()
                .map(|identity| identity.pid)
                .collect()
        };
        assert_eq!(pids(&[("CLP_RESOURCENAME", "exec1")]), [first.0.id()]);
        assert_eq!(pids(&[("CLP_RESOURCENAME", "exec2")]), [second.0.id()]);
        assert_eq!(pids(&[("CLP_RESOURCENAME", "exec3")]), Vec::<u32>::new());
        // Both of this root, oldest first; the other root's was never kept.
        assert_eq!(pids(&[]), [first.0.id(), second.0.id()]);
        // One that ended after the reading is not found.
        drop(first);
        assert_eq!(pids(&[("CLP_RESOURCENAME", "exec1")]), Vec::<u32>::new());
    }

    /// A child killed and reaped when the test ends, passed or not.
    struct KillOnDrop(std::process::Child);

    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[test]
    fn identity_of_self_is_alive() {
        let me = ProcessIdentity::of(std::process::id()).unwrap();
        assert!(me.is_alive());
        let recycled = ProcessIdentity {
            start_time: me.start_time + 1,
            ..me
        };
        assert!(!recycled.is_alive());
    }

    #[test]
    fn a_zombie_has_an_identity_but_is_not_live() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let me = std::process::id();
        assert_eq!(
            ProcessIdentity::of_live(me),
            ProcessIdentity::of(me).filter(ProcessIdentity::is_alive)
        );
        assert!(ProcessIdentity::of_live(me).is_some());
        // Not reaped yet: a zombie once it has exited.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while read_stat(pid).is_some_and(|(state, _)| state != 'Z') {
            assert!(std::time::Instant::now() < deadline, "never a zombie");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(ProcessIdentity::of(pid).is_some());
        assert_eq!(ProcessIdentity::of_live(pid), None);
        child.wait().unwrap();
        assert_eq!(ProcessIdentity::of_live(pid), None);
    }

    #[test]
    fn a_live_process_whose_name_is_not_utf8_is_alive() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let name = std::ffi::OsStr::from_bytes(b"caf\xe9");
        let link = dir.path().join(name);
        std::os::unix::fs::symlink("/bin/sleep", &link).unwrap();
        let mut child = std::process::Command::new(&link).arg("30").spawn().unwrap();
        let pid = child.id();
        let found = ProcessIdentity::of_live(pid);
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(
            found.is_some(),
            "pid {pid} named caf\\xe9 was not seen alive"
        );
    }

    #[test]
    fn stat_fields_are_read_after_the_last_parenthesis() {
        let line = "42 (a) b (c) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 10";
        assert_eq!(parse_stat(line.as_bytes()), Some(('S', 123_456)));
        assert_eq!(parse_stat(b"42 (x) Z 1"), None);
        // A name that is not UTF-8 (a process may call itself anything but NUL).
        let mut odd =
            b"43 (caf\xe9) R 1 43 43 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 7 1000 10".to_vec();
        assert_eq!(parse_stat(&odd), Some(('R', 7)));
        odd.truncate(6);
        assert_eq!(parse_stat(&odd), None);
        let me = std::process::id();
        let bytes = std::fs::read(format!("/proc/{me}/stat")).unwrap();
        assert_eq!(read_stat(me), parse_stat(&bytes));
    }

    #[tokio::test]
    async fn a_hanging_script_is_killed_with_its_children() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hang.sh");
        std::fs::write(&path, "sleep 30 &\necho $! > child.pid\nsleep 30\n").unwrap();
        let script = Script {
            path,
            dir: dir.path().to_path_buf(),
            env: vec![("PATH".into(), "/usr/bin:/bin".into())],
            log: dir.path().join("log"),
        };
        let outcome = script.run(Duration::from_millis(500)).await;
        assert_eq!(outcome, ScriptOutcome::TimedOut);
        let child: u32 = std::fs::read_to_string(dir.path().join("child.pid"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while ProcessIdentity::of(child).is_some_and(|p| p.is_alive()) {
            assert!(
                std::time::Instant::now() < deadline,
                "child {child} survived"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn write_script(dir: &Path, name: &str, body: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, body).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn script_in(dir: &Path, path: PathBuf) -> Script {
        Script {
            path,
            dir: dir.to_path_buf(),
            env: vec![("PATH".into(), "/usr/bin:/bin".into())],
            log: dir.join("log"),
        }
    }

    #[tokio::test]
    async fn an_executable_script_without_a_shebang_runs_with_the_shell() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_script(dir.path(), "start.sh", b"echo ran > ran.txt\nexit 3\n");
        assert_eq!(launch_of(&path).unwrap(), Launch::Shell);
        let outcome = script_in(dir.path(), path)
            .run(Duration::from_secs(10))
            .await;
        assert_eq!(outcome, ScriptOutcome::Exited(3));
        let ran = std::fs::read_to_string(dir.path().join("ran.txt")).unwrap();
        assert_eq!(ran, "ran\n");
    }

    #[tokio::test]
    async fn a_script_with_crlf_line_endings_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_script(dir.path(), "stop.sh", b"#!/bin/sh\r\necho ran\r\n");
        let outcome = script_in(dir.path(), path.clone())
            .run(Duration::from_secs(10))
            .await;
        let ScriptOutcome::SpawnFailed(message) = outcome else {
            panic!("{outcome:?}");
        };
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("CRLF"), "{message}");
        assert!(message.contains("dos2unix"), "{message}");
    }

    #[test]
    fn shebang_scripts_and_binaries_are_exec_d_themselves() {
        let dir = tempfile::tempdir().unwrap();
        let shebang = write_script(dir.path(), "a.sh", b"#!/bin/bash\necho a\n");
        assert_eq!(launch_of(&shebang).unwrap(), Launch::Direct);
        let binary = write_script(dir.path(), "bin", b"\x7fELF\x02\x01\r\n\0\0");
        assert_eq!(launch_of(&binary).unwrap(), Launch::Direct);
        let plain = dir.path().join("plain.sh");
        std::fs::write(&plain, b"#!/bin/sh\necho plain\n").unwrap();
        std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(launch_of(&plain).unwrap(), Launch::Shell);
    }
}
