//! The keeper process (`clppm --keeper MARGIN_MS`): reads clppm's lines on its stdin and
//! kills the registered process groups as [`super::fence`] decides. One `poll` on two file
//! descriptors — the pipe and a `timerfd` on the boot clock armed at the next kill — so it
//! sleeps until clppm writes or a deadline comes, and a host resuming from a suspend fires
//! the timer at once. Nothing is allocated after the start.

use std::io::Write;
use std::time::Duration;

use std::net::IpAddr;

use super::fence::{Fence, Reason, Step};
use super::protocol::Guarded;
use super::protocol::MAX_LINE;
use super::release::{self, Release};

/// What the keeper needs at its end.
struct Ending {
    /// The root whose resource scripts it sweeps.
    root: String,
    /// How it reaches etcd to release clppm's lease, when clppm handed it over.
    release: Option<Release>,
    /// clppm's pid (the keeper's parent at its start).
    parent: i32,
}

/// Runs the keeper until clppm says `bye` or goes; returns the process's exit code.
pub fn run(margin: Duration) -> u8 {
    ignore_terminal_signals();
    name_this_process();
    let Some(timer) = Timer::new() else {
        log(format_args!(
            "cannot create its timer ({}); exiting: clppm starts another",
            std::io::Error::last_os_error()
        ));
        return 1;
    };
    let margin = u64::try_from(margin.as_nanos()).unwrap_or(u64::MAX);
    let root = clp_core::paths::Paths::from_env()
        .root()
        .display()
        .to_string();
    let ending = Ending {
        root: root.clone(),
        release: Release::from_env(),
        // SAFETY: getppid has no preconditions.
        parent: unsafe { libc::getppid() },
    };
    let mut fence = Fence::new(margin);
    let mut input = Input::new();
    loop {
        timer.arm(fence.next_kill());
        let mut fds = [
            libc::pollfd {
                fd: libc::STDIN_FILENO,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: timer.fd,
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: poll reads and writes the two pollfd we own, for their count.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if ready < 0 {
            if interrupted() {
                continue;
            }
            return finish(&mut fence, Reason::Gone, &ending);
        }
        if fds[1].revents != 0 {
            timer.clear();
        }
        // What clppm wrote first: a renewal that came in time saves its groups. Then the
        // groups whose lease ran out go (a group added under such a lease at once).
        if fds[0].revents != 0
            && let Some(code) = input.feed(&mut fence, &ending)
        {
            return code;
        }
        if let Some(expiry) = expire(&mut fence, &root) {
            let released = match &ending.release {
                Some(release) => {
                    match release_hung(&mut fence, &mut input, &ending, release, &expiry) {
                        Ok(phrase) => phrase,
                        Err(code) => return code,
                    }
                }
                None => String::new(),
            };
            log(format_args!("{}{released}", expiry.text));
        }
    }
}

/// clppm's pipe: a fixed buffer and the line being assembled.
struct Input {
    reader: LineReader,
    buffer: [u8; 512],
}

impl Input {
    fn new() -> Self {
        Self {
            reader: LineReader::new(),
            buffer: [0; 512],
        }
    }

    /// Reads once and applies the lines to `fence`; the keeper's exit code when it ends
    /// (clppm said `bye` or went, or a line broke the protocol).
    fn feed(&mut self, fence: &mut Fence, ending: &Ending) -> Option<u8> {
        // SAFETY: read writes at most the length of the buffer we own.
        let read = unsafe {
            libc::read(
                libc::STDIN_FILENO,
                self.buffer.as_mut_ptr().cast(),
                self.buffer.len(),
            )
        };
        let read = match usize::try_from(read) {
            Ok(0) => return Some(finish(fence, Reason::Gone, ending)),
            Ok(read) => read,
            Err(_) if interrupted() => return None,
            Err(_) => return Some(finish(fence, Reason::Gone, ending)),
        };
        for &byte in &self.buffer[..read] {
            match self.reader.push(byte) {
                None => {}
                Some(Err(())) => return Some(finish(fence, Reason::BadInput, ending)),
                Some(Ok(line)) => match fence.line(&self.reader.line[..line]) {
                    Step::Continue => {}
                    Step::End => return Some(0),
                    Step::KillAllAndEnd(reason) => return Some(finish(fence, reason, ending)),
                },
            }
        }
        None
    }

    /// Reads whatever clppm wrote and is waiting in the pipe (at most [`DRAIN_LIMIT`]
    /// bytes: a writer that never stops does not hold the keeper here); the exit code when
    /// the keeper ends.
    fn drain(&mut self, fence: &mut Fence, ending: &Ending) -> Option<u8> {
        let mut drained = 0;
        while drained < DRAIN_LIMIT && readable_now(libc::STDIN_FILENO) {
            if let Some(code) = self.feed(fence, ending) {
                return Some(code);
            }
            drained += self.buffer.len();
        }
        None
    }
}

/// How much of clppm's input [`Input::drain`] reads at most.
const DRAIN_LIMIT: usize = 64 * 1024;

/// Whether `fd` has something to read (or is closed) right now.
fn readable_now(fd: libc::c_int) -> bool {
    let mut pollfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: poll reads and writes the one pollfd we own; a zero timeout does not block.
    unsafe { libc::poll(&mut pollfd, 1, 0) > 0 }
}

/// Lines of at most [`MAX_LINE`] bytes, assembled byte by byte in a fixed buffer.
struct LineReader {
    line: [u8; MAX_LINE],
    len: usize,
}

impl LineReader {
    fn new() -> Self {
        Self {
            line: [0; MAX_LINE],
            len: 0,
        }
    }

    /// `Some(Ok(len))` when `byte` ends a line of `len` bytes (in `self.line`), `Some(Err)`
    /// when the line is too long.
    fn push(&mut self, byte: u8) -> Option<Result<usize, ()>> {
        if byte == b'\n' {
            let len = self.len;
            self.len = 0;
            return Some(Ok(len));
        }
        if self.len == MAX_LINE {
            return Some(Err(()));
        }
        self.line[self.len] = byte;
        self.len += 1;
        None
    }
}

/// What [`expire`] did when clppm's current lease ran out: everything of it is killed.
struct Expiry {
    /// The lease.
    lease: i64,
    /// The process groups killed now.
    killed: Vec<i32>,
    /// Whether every floating IP came off.
    all_removed: bool,
    /// The log line so far.
    text: String,
}

/// Kills the groups whose lease ran out; when the current lease ran out too, sweeps and
/// returns what it did (the caller logs it), else logs it.
fn expire(fence: &mut Fence, root: &str) -> Option<Expiry> {
    let now = boot_clock_ns();
    if fence.next_kill().is_none_or(|at| now < at) {
        return None;
    }
    // Killing: allocating is fine now.
    let mut killed = Vec::new();
    let mut addresses = Vec::new();
    fence.take_due(now, |guarded| take(guarded, &mut killed, &mut addresses));
    let (removed, all_removed) = remove_addresses(&addresses);
    let ran_out = fence.lease_ran_out(now);
    let swept = if ran_out {
        super::sweep::sweep(root, &killed)
    } else {
        Vec::new()
    };
    let text = format!(
        "{}: killed {} process group(s) before the lease could run out{}{}",
        Reason::Expired.text(),
        killed.len(),
        swept_text(swept.len()),
        removed
    );
    // The release waits for the swept scripts too.
    killed.extend(swept);
    match fence.current_lease() {
        Some(lease) if ran_out => Some(Expiry {
            lease,
            killed,
            all_removed,
            text,
        }),
        _ => {
            log(format_args!("{text}"));
            None
        }
    }
}

/// Releases the lease of a clppm that hangs (see [`release`]) once nothing of its groups
/// runs here any more and it did not renew meanwhile; the phrase the log line ends with,
/// or the keeper's exit code when clppm's input ended it.
fn release_hung(
    fence: &mut Fence,
    input: &mut Input,
    ending: &Ending,
    release: &Release,
    expiry: &Expiry,
) -> Result<String, u8> {
    if !expiry.all_removed {
        return Ok("; its lease is left to run out (a floating IP may still be up)".into());
    }
    if !release::wait_gone(&expiry.killed, release::WAIT_GONE) {
        return Ok(format!(
            "; its lease is left to run out (a process of its groups still runs after {:?})",
            release::WAIT_GONE
        ));
    }
    // A renewal that waited in the pipe: clppm lives, nothing is released.
    if let Some(code) = input.drain(fence, ending) {
        log(format_args!("{}", expiry.text));
        return Err(code);
    }
    if fence.current_lease() != Some(expiry.lease) || !fence.lease_ran_out(boot_clock_ns()) {
        return Ok("; clppm renewed its lease meanwhile".into());
    }
    match release.revoke_stale(expiry.lease) {
        Ok(clp_cluster::Revoked::Revoked) => {
            fence.retire();
            Ok(format!(
                "; released its etcd lease {} (clppm hangs): the next server takes over now",
                expiry.lease
            ))
        }
        Ok(clp_cluster::Revoked::Gone) => {
            fence.retire();
            Ok(String::new())
        }
        Ok(clp_cluster::Revoked::Renewed(left)) => Ok(format!(
            "; its lease is left to run out (etcd says {left} s of it are left: renewed lately)"
        )),
        Err(error) => Ok(format!("; its lease is left to run out ({error})")),
    }
}

/// Kills a process group at once; keeps an address for [`remove_addresses`].
fn take(guarded: Guarded, killed: &mut Vec<i32>, addresses: &mut Vec<IpAddr>) {
    match guarded {
        Guarded::Group(pgid) => {
            kill_group(pgid);
            killed.push(pgid);
        }
        Guarded::Address(address) => addresses.push(address),
    }
}

/// Takes the floating IPs off this server's interfaces (over netlink, from a runtime made
/// for it: the keeper has none); returns the phrase its log line ends with.
fn remove_addresses(addresses: &[IpAddr]) -> (String, bool) {
    if addresses.is_empty() {
        return (String::new(), true);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            return (
                format!(", and could not remove {addresses:?}: {error}"),
                false,
            );
        }
    };
    let failures = runtime.block_on(take_off(addresses));
    if failures.is_empty() {
        (
            format!(", and removed {} floating IP(s)", addresses.len()),
            true,
        )
    } else {
        (
            format!(
                ", and failed to remove floating IPs: {}",
                failures.join("; ")
            ),
            false,
        )
    }
}

/// Kills every group for `reason`, sweeps, releases the lease of a clppm that died (see
/// [`release`]), and returns the exit code.
fn finish(fence: &mut Fence, reason: Reason, ending: &Ending) -> u8 {
    let lease = fence.lease_in_force(boot_clock_ns());
    let mut killed = Vec::with_capacity(fence.len());
    let mut addresses = Vec::new();
    fence.take_all(|guarded| take(guarded, &mut killed, &mut addresses));
    let (removed, all_removed) = remove_addresses(&addresses);
    let count = killed.len();
    let swept = super::sweep::sweep(&ending.root, &killed);
    let swept_count = swept.len();
    // The release waits for the swept scripts too.
    killed.extend(swept);
    let released = match (&ending.release, lease) {
        (Some(release), Some(lease)) if reason == Reason::Gone => {
            release_lease(release, lease, &killed, all_removed, ending.parent)
        }
        _ => String::new(),
    };
    if count > 0 || swept_count > 0 || !addresses.is_empty() || reason != Reason::Gone {
        log(format_args!(
            "{}: killed {count} process group(s){}{removed}{released}",
            reason.text(),
            swept_text(swept_count)
        ));
    }
    if reason == Reason::Gone { 0 } else { 2 }
}

/// Releases `lease` when nothing of clppm's groups can run here any more; the phrase the
/// log line ends with.
fn release_lease(
    release: &Release,
    lease: i64,
    killed: &[i32],
    all_removed: bool,
    parent: i32,
) -> String {
    // clppm's pipe closes while it exits, a moment before the kernel hands its children to
    // another parent: wait for that; a clppm that closed the pipe and lives on keeps it.
    if !release::wait_reparented(parent, release::WAIT_GONE) {
        return String::new();
    }
    if !all_removed {
        return "; its lease is left to run out (a floating IP may still be up)".into();
    }
    if !release::wait_gone(killed, release::WAIT_GONE) {
        return format!(
            "; its lease is left to run out (a process of its groups still runs after {:?})",
            release::WAIT_GONE
        );
    }
    match release.revoke(lease) {
        Ok(()) => "; released its etcd lease: the next server takes over now".into(),
        Err(error) => format!("; its lease is left to run out ({error})"),
    }
}

fn swept_text(swept: usize) -> String {
    if swept == 0 {
        String::new()
    } else {
        format!(", and {swept} more of this root's resource scripts")
    }
}

/// Takes `addresses` off this server's interfaces over netlink; what failed.
pub(super) async fn take_off(addresses: &[IpAddr]) -> Vec<String> {
    if addresses.is_empty() {
        return Vec::new();
    }
    let netlink = match clp_net::netlink::Netlink::connect() {
        Ok(netlink) => netlink,
        Err(error) => return vec![error.to_string()],
    };
    let mut failures = Vec::new();
    for address in addresses {
        if let Err(error) = netlink.remove(*address).await {
            failures.push(error.to_string());
        }
    }
    failures
}

/// SIGKILL to process group `pgid`.
pub(super) fn kill_group(pgid: i32) {
    // SAFETY: kill takes two integers; a negative pid names the group (pgid > 1, checked by
    // the protocol). A group already gone is ESRCH, ignored.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// The boot clock in ns; on the (impossible) failure of the clock, the far future's
/// opposite: every deadline counts as passed.
fn boot_clock_ns() -> u64 {
    let mut spec = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the one we own.
    if unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut spec) } != 0 {
        return u64::MAX;
    }
    u64::try_from(spec.tv_sec)
        .unwrap_or(0)
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::try_from(spec.tv_nsec).unwrap_or(0))
}

fn interrupted() -> bool {
    std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
}

/// The keeper lives in its own process group: a terminal's Ctrl-C or hang-up meant for
/// clppm must not end it before clppm's `bye`. A closed stderr must not kill it either.
/// Sets this process's comm to [`super::NAME`] (exec through `/proc/self/exe` made it
/// `exe`): `ps`, `top` and `pkill` see the keeper by its own name.
fn name_this_process() {
    let name = c"clpkeeper";
    debug_assert_eq!(name.to_bytes(), super::NAME.as_bytes());
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes, which `name` is.
    unsafe {
        libc::prctl(libc::PR_SET_NAME, name.as_ptr());
    }
}

fn ignore_terminal_signals() {
    for signal in [libc::SIGINT, libc::SIGHUP, libc::SIGQUIT, libc::SIGPIPE] {
        // SAFETY: setting a signal's disposition to "ignore" runs no code of ours.
        unsafe {
            libc::signal(signal, libc::SIG_IGN);
        }
    }
}

/// One line on stderr (clppm's), named.
fn log(message: std::fmt::Arguments<'_>) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(
        stderr,
        "clppm keeper (pid {}): {message}",
        std::process::id()
    );
}

/// A `timerfd` on the boot clock.
struct Timer {
    fd: libc::c_int,
}

impl Timer {
    fn new() -> Option<Timer> {
        // SAFETY: timerfd_create takes a clock id and flags and returns a new fd or -1.
        let fd = unsafe {
            libc::timerfd_create(libc::CLOCK_BOOTTIME, libc::TFD_CLOEXEC | libc::TFD_NONBLOCK)
        };
        (fd >= 0).then_some(Timer { fd })
    }

    /// Fires at `at` (boot clock, ns; at once when passed), or never with `None`.
    fn arm(&self, at: Option<u64>) {
        let value = match at {
            // 0 would disarm it: the earliest absolute time is 1 ns.
            Some(at) => {
                let at = at.max(1);
                libc::timespec {
                    tv_sec: libc::time_t::try_from(at / 1_000_000_000).unwrap_or(libc::time_t::MAX),
                    tv_nsec: libc::c_long::try_from(at % 1_000_000_000).unwrap_or(0),
                }
            }
            None => libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
        };
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: value,
        };
        // SAFETY: timerfd_settime reads the itimerspec we own; the old value is not asked.
        unsafe {
            libc::timerfd_settime(
                self.fd,
                libc::TFD_TIMER_ABSTIME,
                &spec,
                std::ptr::null_mut(),
            );
        }
    }

    /// Reads the expiry count, so that poll stops reporting it.
    fn clear(&self) {
        let mut count = 0u64;
        // SAFETY: read writes at most 8 bytes into the u64 we own; the fd is non-blocking.
        unsafe {
            libc::read(self.fd, (&mut count as *mut u64).cast(), 8);
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        // SAFETY: the fd is ours and closed once.
        unsafe {
            libc::close(self.fd);
        }
    }
}
