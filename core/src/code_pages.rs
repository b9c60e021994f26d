//! Gives back the program's pages that only the start needed.
//!
//! A daemon's resident set counts every page of its own program it ever touched: the start
//! (argument parsing, reading the configuration, opening the store, starting the groups)
//! runs code and reads constants that steady monitoring never uses again, and the kernel
//! maps the program in 64 KB around each page it faults in. At 1,000 monitors that was 3.5–5
//! MiB of clppm's 21 MiB. [`release_startup_pages`] drops this process's mappings of its
//! program's read-only segments once the start is over; what monitoring runs comes back at
//! its next use (a minor fault: the file's pages stay in the page cache).

/// Drops this process's mappings of the pages of its program's read-only segments (code,
/// constants, unwind tables); returns the bytes dropped. Nothing is lost: those pages are
/// never written, and the next access maps them again from the page cache. The writable
/// segment (data, and the relocated part made read-only after loading) is left alone.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
pub fn release_startup_pages() -> usize {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    // SAFETY: dl_iterate_phdr calls `collect` once per loaded object, the program first,
    // with a pointer valid during the call; `data` is `ranges`, alive and not otherwise
    // borrowed until dl_iterate_phdr returns.
    unsafe {
        libc::dl_iterate_phdr(Some(collect), (&raw mut ranges).cast());
    }
    let mut dropped = 0;
    for (start, end) in ranges {
        // SAFETY: [start, end) holds whole pages of a read-only PT_LOAD segment of this
        // program (not its writable one): they are mapped from the file and never written,
        // so MADV_DONTNEED only unmaps them until the next access reads them back.
        let done =
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
        if done == 0 {
            dropped += end - start;
        }
    }
    dropped
}

/// Elsewhere nothing is dropped.
#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
pub fn release_startup_pages() -> usize {
    0
}

/// dl_iterate_phdr's callback: the whole pages of the program's read-only PT_LOAD segments
/// into `data` (a `Vec<(usize, usize)>`), then stop (the program is the first object).
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
unsafe extern "C" fn collect(
    info: *mut libc::dl_phdr_info,
    _size: libc::size_t,
    data: *mut libc::c_void,
) -> libc::c_int {
    // SAFETY: dl_iterate_phdr passes a valid info for the duration of the call, and `data`
    // is the `Vec` release_startup_pages gave it.
    let (info, ranges) = unsafe { (&*info, &mut *data.cast::<Vec<(usize, usize)>>()) };
    if info.dlpi_phdr.is_null() {
        return 1;
    }
    // SAFETY: dlpi_phdr points at dlpi_phnum program headers of the loaded object.
    let headers =
        unsafe { std::slice::from_raw_parts(info.dlpi_phdr, usize::from(info.dlpi_phnum)) };
    let page = page_size();
    let base = usize::try_from(info.dlpi_addr).unwrap_or(0);
    for header in headers {
        if header.p_type != libc::PT_LOAD || header.p_flags & libc::PF_W != 0 {
            continue;
        }
        let (Ok(vaddr), Ok(size)) = (
            usize::try_from(header.p_vaddr),
            usize::try_from(header.p_memsz),
        ) else {
            continue;
        };
        // Only pages wholly inside the segment: a page shared with a writable neighbour
        // (none with today's linkers) is kept.
        let start = (base + vaddr).next_multiple_of(page);
        let end = (base + vaddr + size) / page * page;
        if end > start {
            ranges.push((start, end));
        }
    }
    1
}

#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn page_size() -> usize {
    // SAFETY: sysconf only reads a system setting.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size)
        .ok()
        .filter(|&s| s > 0)
        .unwrap_or(4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Resident kB of this program's own read-only mappings (code and constants).
    fn resident_program_kb() -> u64 {
        let exe = std::fs::read_link("/proc/self/exe").unwrap();
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut ours = false;
        let mut total = 0;
        for line in smaps.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields
                .first()
                .is_some_and(|f| f.contains('-') && !f.ends_with(':'))
            {
                ours = fields
                    .get(5)
                    .is_some_and(|p| std::path::Path::new(p) == exe)
                    && fields.get(1).is_some_and(|perms| !perms.contains('w'));
            } else if ours && fields.first() == Some(&"Rss:") {
                total += fields[1].parse::<u64>().unwrap();
            }
        }
        total
    }

    #[test]
    fn the_programs_read_only_pages_are_dropped_and_come_back_on_use() {
        let before = resident_program_kb();
        let dropped = release_startup_pages();
        assert!(dropped > 0, "nothing dropped");
        let after = resident_program_kb();
        assert!(
            after < before,
            "resident {before} kB before, {after} kB after"
        );
        // The code runs on: what it needs is mapped back from the page cache.
        let text = format!("{:?}", std::collections::BTreeMap::from([(1, "one")]));
        assert_eq!(text, r#"{1: "one"}"#);
    }
}
