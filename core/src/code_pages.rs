//! Gives back the pages that only the start needed.
//!
//! A daemon's resident set counts every page of its own program and of the shared libraries
//! it ever touched: the start (argument parsing, reading the configuration, opening the
//! store, starting the groups) runs code and reads constants that steady monitoring never
//! uses again, and the kernel maps 64 KB around each page it faults in. At 1,000 monitors
//! that was 3.5–5 MiB of clppm's 21 MiB. [`release_startup_pages`] drops this process's
//! mappings of every read-only file page it holds that it never wrote (code, constants,
//! unwind tables, locale data) once the start is over; what monitoring runs comes back at
//! its next use (a minor fault: the file's pages stay in the page cache), one page at a time
//! (the mappings are marked random-access: no 64 KB fault-around). The daemon calls
//! it again once monitoring settled (the first checks run code once too), together with
//! [`release_free_heap`].
//!
//! Then [`keep_code_resident`]: from that moment, every page of code and constants the
//! daemon runs stays in memory. A host that reclaims cold pages (memory pressure, or DAMON's
//! proactive pageout on cloud VMs, which drops what went unread for a minute) would otherwise
//! drop the code of the restart path during a quiet spell, and the next failure would wait
//! for it to be read from disk, one major fault after another, before the resource is
//! started again.

/// Drops this process's mappings of read-only, file-backed pages that hold no private copy
/// (`Anonymous: 0` in `/proc/self/smaps`: never written, so the file has them); returns the
/// bytes dropped. Nothing is lost: the next access maps them again from the page cache. A
/// mapping with a written page (relocations, the part made read-only after loading) is left
/// alone, as are writable ones and the kernel's (`[vdso]`).
#[cfg(target_os = "linux")]
pub fn release_startup_pages() -> usize {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return 0;
    };
    let mut dropped = 0;
    for (start, end) in clean_read_only_file_maps(&smaps) {
        // SAFETY: [start, end) is a whole mapping of this process, read-only, backed by a
        // file and holding no anonymous (written) page: MADV_DONTNEED only unmaps its pages
        // until the next access reads them back from the file.
        let done =
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
        if done == 0 {
            dropped += end - start;
        }
        // SAFETY: as above; MADV_RANDOM only turns off the kernel's fault-around for the
        // mapping (a fault maps 64 KB of neighbours with the page), so that what comes back
        // is the pages monitoring runs, not their neighbourhoods.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_RANDOM);
        }
    }
    dropped
}

/// Elsewhere nothing is dropped.
#[cfg(not(target_os = "linux"))]
pub fn release_startup_pages() -> usize {
    0
}

/// Locks every read-only file mapping of this process (its program and libraries: code,
/// constants, unwind tables) on fault (`mlock2` with `MLOCK_ONFAULT`): the pages resident
/// now stay, and each page faulted in later stays once it came. Nothing is read in ahead and
/// the resident set grows only by what actually runs (a restart path, once it ran). Call it
/// after the last [`release_startup_pages`]: locked pages are not dropped.
///
/// Returns the bytes of the mappings locked. Mappings the kernel refuses (no
/// `CAP_IPC_LOCK` and over `RLIMIT_MEMLOCK`, which counts a whole mapping, as in a
/// container without that capability) are skipped, the others still locked; then the error
/// says how much was refused and what to do.
#[cfg(target_os = "linux")]
pub fn keep_code_resident() -> Result<usize, String> {
    let maps = std::fs::read_to_string("/proc/self/maps")
        .map_err(|error| format!("cannot read /proc/self/maps: {error}"))?;
    let mut locked = 0;
    let mut refused = None;
    for (start, end) in read_only_file_maps(&maps) {
        // SAFETY: [start, end) is a whole mapping of this process; locking it changes no
        // byte of it, only whether the kernel may reclaim its pages.
        let done = unsafe {
            libc::mlock2(
                start as *const libc::c_void,
                end - start,
                libc::MLOCK_ONFAULT,
            )
        };
        if done == 0 {
            locked += end - start;
        } else {
            let (bytes, _) = refused.get_or_insert((0, std::io::Error::last_os_error()));
            *bytes += end - start;
        }
    }
    match refused {
        None => Ok(locked),
        Some((bytes, error)) => Err(format!(
            "cannot keep {} KiB of the program's code in memory ({error}; {} KiB kept): give \
             clppm CAP_IPC_LOCK (run it as root) or raise its RLIMIT_MEMLOCK, or a restart \
             after a quiet spell may wait for its code to be read from disk",
            bytes >> 10,
            locked >> 10
        )),
    }
}

/// Elsewhere nothing is locked.
#[cfg(not(target_os = "linux"))]
pub fn keep_code_resident() -> Result<usize, String> {
    Ok(0)
}

/// The address ranges of `/proc/self/maps`' mappings that [`keep_code_resident`] locks:
/// readable, not writable, backed by a file (an inode, not `[vdso]`).
fn read_only_file_maps(maps: &str) -> Vec<(usize, usize)> {
    maps.lines()
        .filter_map(mapping)
        .filter_map(|(range, read_only_file)| read_only_file.then_some(range))
        .collect()
}

/// A mapping's header line of `/proc/self/maps` or `smaps`: its address range, and whether
/// it is readable, not writable and backed by a file (an inode, not `[vdso]`); None for any
/// other line.
fn mapping(line: &str) -> Option<((usize, usize), bool)> {
    let mut fields = line.split_ascii_whitespace();
    let (start, end) = fields.next()?.split_once('-')?;
    let (start, end) = (
        usize::from_str_radix(start, 16).ok()?,
        usize::from_str_radix(end, 16).ok()?,
    );
    let perms = fields.next().unwrap_or("");
    let inode = fields.nth(2).unwrap_or("0");
    let path = fields.next().unwrap_or("");
    let read_only = perms.starts_with('r') && perms.as_bytes().get(1) == Some(&b'-');
    let file = inode != "0" && !path.is_empty() && !path.starts_with('[');
    Some(((start, end), read_only && file && end > start))
}

/// The address ranges of `smaps`' mappings that [`release_startup_pages`] may drop:
/// readable, not writable, backed by a file (an inode, not `[vdso]`), with resident pages
/// and none of them anonymous.
fn clean_read_only_file_maps(smaps: &str) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    // The mapping being read: its range, and whether its header qualifies it.
    let mut current: Option<(usize, usize)> = None;
    let mut resident = false;
    let mut anonymous = true;
    let mut close = |current: Option<(usize, usize)>, resident: bool, anonymous: bool| {
        if let Some(range) = current
            && resident
            && !anonymous
        {
            ranges.push(range);
        }
    };
    for line in smaps.lines() {
        if let Some((range, read_only_file)) = mapping(line) {
            close(current.take(), resident, anonymous);
            current = read_only_file.then_some(range);
            resident = false;
            anonymous = true;
            continue;
        }
        let mut fields = line.split_ascii_whitespace();
        let Some(first) = fields.next() else {
            continue;
        };
        let mut kb = || fields.next().and_then(|v| v.parse::<u64>().ok());
        match first {
            "Rss:" => resident = kb().is_some_and(|v| v > 0),
            "Anonymous:" => anonymous = kb() != Some(0),
            _ => {}
        }
    }
    close(current, resident, anonymous);
    ranges
}

/// Gives the allocator's free pages back to the kernel (glibc's `malloc_trim`): the start
/// allocates and frees a lot (the configuration's text, the groups' scripts, the first
/// checks' tasks), and freed blocks in the middle of the heap stay resident until trimmed.
/// Returns whether anything was given back.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn release_free_heap() -> bool {
    // SAFETY: malloc_trim only returns free memory of the allocator to the kernel; it is
    // safe to call at any time from any thread.
    unsafe { libc::malloc_trim(0) == 1 }
}

/// Other C libraries: nothing to trim.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_heap() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Resident kB of this process's read-only file mappings (code and constants).
    fn resident_read_only_file_kb() -> u64 {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut counted = false;
        let mut total = 0;
        for line in smaps.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields
                .first()
                .is_some_and(|f| f.contains('-') && !f.ends_with(':'))
            {
                counted = fields.get(1).is_some_and(|perms| !perms.contains('w'))
                    && fields.get(4).is_some_and(|inode| *inode != "0");
            } else if counted && fields.first() == Some(&"Rss:") {
                total += fields[1].parse::<u64>().unwrap();
            }
        }
        total
    }

    /// One test, not two: pages locked by one thread of a test process could not be dropped
    /// by another.
    #[test]
    fn startup_pages_are_dropped_then_what_runs_is_kept() {
        read_only_file_pages_are_dropped_and_come_back_on_use();
        the_code_is_locked_on_fault_and_runs_on();
        without_the_capability_the_error_says_what_to_do();
    }

    fn read_only_file_pages_are_dropped_and_come_back_on_use() {
        let before = resident_read_only_file_kb();
        let dropped = release_startup_pages();
        assert!(dropped > 0, "nothing dropped");
        let after = resident_read_only_file_kb();
        assert!(
            after < before,
            "resident {before} kB before, {after} kB after"
        );
        // The code runs on: what it needs is mapped back from the page cache (also libc's).
        let text = format!("{:?}", std::collections::BTreeMap::from([(1, "one")]));
        assert_eq!(text, r#"{1: "one"}"#);
        assert!(std::env::current_dir().is_ok());
    }

    /// `/proc/self/status`' `VmLck:` in kB.
    fn locked_kb() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmLck:"))
            .and_then(|value| value.split_whitespace().next()?.parse().ok())
            .unwrap()
    }

    fn the_code_is_locked_on_fault_and_runs_on() {
        // Root (CAP_IPC_LOCK) locks whatever it asks; another user only within its
        // RLIMIT_MEMLOCK, which the test binary's mappings may exceed: then the error names
        // what to do.
        let before = locked_kb();
        match keep_code_resident() {
            Ok(locked) => {
                assert!(locked > 0, "nothing locked");
                assert!(
                    locked_kb() >= before + (locked as u64 >> 10),
                    "VmLck {} kB after locking {locked} bytes (before {before} kB)",
                    locked_kb()
                );
            }
            Err(error) => assert!(error.contains("RLIMIT_MEMLOCK"), "{error}"),
        }
        // Code never run before is faulted in (and kept) as it runs.
        let text = format!("{:?}", std::collections::BTreeSet::from(["kept"]));
        assert_eq!(text, r#"{"kept"}"#);
        // SAFETY: unlocks this test process's own mappings again.
        unsafe { libc::munlockall() };
    }

    /// `capget`/`capset`'s header and one of its two data words (version 3).
    #[repr(C)]
    struct CapHeader {
        version: u32,
        pid: i32,
    }

    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct CapData {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }

    /// Without `CAP_IPC_LOCK` and with an `RLIMIT_MEMLOCK` smaller than the program, the
    /// program's mappings are refused and the error says what to do; what fits is locked.
    fn without_the_capability_the_error_says_what_to_do() {
        const CAP_IPC_LOCK: u32 = 14;
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: reads this process's limit into `limit`.
        assert_eq!(
            unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut limit) },
            0
        );
        let small = libc::rlimit {
            rlim_cur: 64 << 10,
            rlim_max: limit.rlim_max,
        };
        // Capabilities belong to a thread: this one drops CAP_IPC_LOCK, the test's others
        // keep theirs.
        let outcome = std::thread::spawn(move || {
            let mut header = CapHeader {
                version: 0x2008_0522,
                pid: 0,
            };
            let mut data = [CapData::default(); 2];
            // SAFETY: the kernel's own structures for this thread's capabilities.
            unsafe {
                assert_eq!(libc::syscall(libc::SYS_capget, &mut header, &mut data), 0);
                data[0].effective &= !(1 << CAP_IPC_LOCK);
                assert_eq!(libc::syscall(libc::SYS_capset, &header, &data), 0);
                assert_eq!(libc::setrlimit(libc::RLIMIT_MEMLOCK, &small), 0);
            }
            keep_code_resident()
        })
        .join()
        .unwrap();
        // SAFETY: puts this process's limit back.
        unsafe {
            libc::setrlimit(libc::RLIMIT_MEMLOCK, &limit);
            libc::munlockall();
        }
        let error = outcome.unwrap_err();
        assert!(
            error.contains("give clppm CAP_IPC_LOCK (run it as root) or raise its RLIMIT_MEMLOCK"),
            "{error}"
        );
        assert!(error.contains("Cannot allocate memory") || error.contains("not permitted"));
    }

    #[test]
    fn every_read_only_file_mapping_is_locked() {
        let maps = "\
55d000000000-55d000010000 r-xp 00001000 fd:01 1234 /usr/bin/clppm
55d000010000-55d000012000 r--p 00011000 fd:01 1234 /usr/bin/clppm
55d000012000-55d000013000 rw-p 00013000 fd:01 1234 /usr/bin/clppm
55d000013000-55d000014000 rw-p 00000000 00:00 0 [heap]
7f0000000000-7f0000001000 r--p 00000000 fd:01 99 /usr/lib/libc.so.6
7f0000010000-7f0000020000 r--p 00000000 00:00 0
7ffc00000000-7ffc00002000 r-xp 00000000 00:00 0 [vdso]
7ffc00003000-7ffc00004000 ---p 00000000 fd:01 99 /usr/lib/libc.so.6
not a mapping line
";
        assert_eq!(
            read_only_file_maps(maps),
            vec![
                (0x55d0_0000_0000, 0x55d0_0001_0000),
                (0x55d0_0001_0000, 0x55d0_0001_2000),
                (0x7f00_0000_0000, 0x7f00_0000_1000),
            ]
        );
    }

    #[test]
    fn only_clean_read_only_file_mappings_are_chosen() {
        let smaps = "\
55d000000000-55d000010000 r-xp 00001000 fd:01 1234 /usr/bin/clppm
Rss:                  64 kB
Anonymous:             0 kB
55d000010000-55d000012000 r--p 00011000 fd:01 1234 /usr/bin/clppm
Rss:                   8 kB
Anonymous:             4 kB
55d000012000-55d000013000 rw-p 00013000 fd:01 1234 /usr/bin/clppm
Rss:                   4 kB
Anonymous:             4 kB
7f0000000000-7f0000001000 r--p 00000000 fd:01 99 /usr/lib/libc.so.6
Rss:                   0 kB
Anonymous:             0 kB
7f0000001000-7f0000003000 r-xp 00001000 fd:01 99 /usr/lib/libc.so.6
Rss:                   8 kB
Anonymous:             0 kB
7f0000010000-7f0000020000 r--p 00000000 00:00 0
Rss:                   4 kB
Anonymous:             4 kB
7ffc00000000-7ffc00002000 r-xp 00000000 00:00 0 [vdso]
Rss:                   4 kB
Anonymous:             0 kB
";
        assert_eq!(
            clean_read_only_file_maps(smaps),
            vec![
                (0x55d0_0000_0000, 0x55d0_0001_0000),
                (0x7f00_0000_1000, 0x7f00_0000_3000)
            ]
        );
    }
}
