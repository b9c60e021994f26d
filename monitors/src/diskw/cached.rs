//! diskw's read of a regular file whose bytes are in the page cache, on the monitor's own
//! thread: no blocking thread, and no wake-ups to hand the check to one and back.
//!
//! Every step is one that the kernel refuses rather than waits for: the path is resolved
//! only from the dentry cache (`openat2` with `RESOLVE_CACHED`), the file's kind and size
//! come from its cached inode (`statx` with `AT_STATX_DONT_SYNC`), the file is opened only
//! once it is known to be a regular file of a local file system (a network file system may
//! ask its server on open), without an access-time update (`O_NOATIME`, which could start a
//! journal transaction), and read with `RWF_NOWAIT`, which fails rather than wait for a page
//! that is not cached or is locked. Whatever is refused, or fails, is left to the blocking
//! thread, which reads the same bytes the same way and says what went wrong in its words:
//! this path only ever says "read, and fine".

use std::io::IoSliceMut;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use rustix::fs::{AtFlags, CWD, Mode, OFlags, ResolveFlags, StatxFlags};

/// The most this path reads; more is real I/O work, for the blocking thread.
pub(super) const MOST: u64 = 16 * 1024;

/// File systems whose open and cached read of a regular file take no lock that a hung disk
/// or server holds: local disk file systems and memory ones (`statfs` magic numbers).
/// Overlay and network file systems are left to the blocking thread.
const LOCAL: [i64; 6] = [
    0xEF53,      // ext2, ext3, ext4
    0x5846_5342, // xfs
    0x9123_683E, // btrfs
    0x0102_1994, // tmpfs
    0xF2F5_2010, // f2fs
    0x8584_58F6, // ramfs
];

/// Reads the first `size` bytes (at most [`MOST`]) of the regular file `object` if that
/// cannot block; true when it did and they were all there, false when the blocking thread
/// must do it (or say why it cannot).
pub(super) fn read(object: &Path, size: u64) -> bool {
    read_or_refuse(object, size).unwrap_or(false)
}

fn read_or_refuse(object: &Path, size: u64) -> rustix::io::Result<bool> {
    let located = rustix::fs::openat2(
        CWD,
        object,
        OFlags::PATH | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::CACHED,
    )?;
    let found = examine(&located)?;
    if found.stx_mode as u32 & libc::S_IFMT != libc::S_IFREG {
        return Ok(false);
    }
    let wanted = size.min(found.stx_size);
    if wanted > MOST {
        return Ok(false);
    }
    let file_system = rustix::fs::fstatfs(&located)?;
    #[allow(clippy::unnecessary_cast)] // f_type's width differs between architectures.
    if !LOCAL.contains(&(file_system.f_type as i64)) {
        return Ok(false);
    }
    let file = rustix::fs::openat2(
        CWD,
        object,
        OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::NOATIME,
        Mode::empty(),
        ResolveFlags::CACHED,
    )?;
    // The path may have been given another file between the two opens.
    let opened = examine(&file)?;
    if (opened.stx_dev_major, opened.stx_dev_minor, opened.stx_ino)
        != (found.stx_dev_major, found.stx_dev_minor, found.stx_ino)
    {
        return Ok(false);
    }
    read_cached_bytes(&file, wanted)
}

/// `statx` of an open file from its cached inode.
fn examine(file: &OwnedFd) -> rustix::io::Result<rustix::fs::Statx> {
    rustix::fs::statx(
        file,
        "",
        AtFlags::EMPTY_PATH | AtFlags::STATX_DONT_SYNC,
        StatxFlags::TYPE | StatxFlags::SIZE | StatxFlags::INO,
    )
}

/// Reads `wanted` bytes from the start of `file` without waiting; false when they are not
/// all cached or the file ends early.
fn read_cached_bytes(file: impl AsFd, wanted: u64) -> rustix::io::Result<bool> {
    let mut buffer = [0_u8; MOST as usize];
    let mut done: u64 = 0;
    while done < wanted {
        let want = usize::try_from(wanted - done)
            .unwrap_or(usize::MAX)
            .min(buffer.len());
        let read = rustix::io::preadv2(
            &file,
            &mut [IoSliceMut::new(&mut buffer[..want])],
            done,
            rustix::io::ReadWriteFlags::NOWAIT,
        )?;
        if read == 0 {
            return Ok(false);
        }
        done += read as u64;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;
    use std::os::fd::AsRawFd as _;

    /// The magic number of the file system holding `path`.
    fn file_system_of(path: &Path) -> i64 {
        #[allow(clippy::unnecessary_cast)]
        let magic = rustix::fs::statfs(path).expect("statfs").f_type as i64;
        magic
    }

    #[test]
    fn a_cached_file_is_read_and_an_evicted_one_is_left_to_the_thread() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let local = LOCAL.contains(&file_system_of(dir.path()));
        let path = dir.path().join("data");
        let mut file = std::fs::File::create(&path).expect("the file");
        file.write_all(&[7_u8; 4096]).expect("written");
        file.sync_all().expect("synced");
        drop(file);
        // Resolved once, so its dentry is cached; written, so its page is.
        assert!(std::fs::read(&path).is_ok());
        assert_eq!(read(&path, 4096), local, "a cached file, local: {local}");
        assert_eq!(read(&path, 100_000), local, "size is capped at the file's");
        if !local {
            return;
        }
        // Evicted from the page cache (a disk file system; tmpfs keeps its pages): the read
        // would wait for the disk, so it is refused.
        let tmpfs = file_system_of(dir.path()) == 0x0102_1994;
        let opened = std::fs::File::open(&path).expect("opened");
        // SAFETY: posix_fadvise on a descriptor this test owns.
        let advised =
            unsafe { libc::posix_fadvise(opened.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
        assert_eq!(advised, 0);
        if !tmpfs {
            assert!(!read(&path, 4096), "an evicted page must not be waited for");
        }
    }

    #[test]
    fn what_is_not_a_small_regular_file_is_left_to_the_thread() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600))
            .expect("a FIFO");
        // A FIFO without a writer would block an open for reading: it is never opened.
        assert!(!read(&fifo, 4096));
        assert!(!read(Path::new("/dev/null"), 4096));
        assert!(!read(dir.path(), 4096));
        assert!(!read(&dir.path().join("missing"), 4096));
        let big = dir.path().join("big");
        std::fs::write(&big, vec![1_u8; (MOST + 1) as usize]).expect("written");
        assert!(!read(&big, MOST + 1), "more than MOST is the thread's");
        // The first MOST bytes of it are not.
        let local = LOCAL.contains(&file_system_of(dir.path()));
        assert_eq!(read(&big, MOST), local);
    }
}
