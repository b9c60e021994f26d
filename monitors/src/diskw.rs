//! `diskw`: the disk (or a file on it) answers I/O.
//!
//! Parameters (the original's names, reference §4):
//! - `object` (required, an absolute path): the device, file or folder.
//! - `method` (default `READ`, ours: it works on every block device, where `TUR` needs a
//!   SCSI one; the seed's example sets `TUR` explicitly), case-insensitive:
//!   - `TUR` (also `TUR(generic)`, `TUR(legacy)`): SCSI TEST UNIT READY through the SG_IO
//!     ioctl, on a SCSI disk or sg device. A device that is not SCSI (a loop or virtio disk,
//!     a file) fails with "not a SCSI device".
//!   - `READ` (also `Dummy Read`, `READ(O_DIRECT)`, `READ(RAW)`): read the first `size`
//!     bytes of a block device with O_DIRECT (past the page cache, into an aligned buffer,
//!     `size` rounded up to 4096), or of a regular file with a plain read. A device of no
//!     capacity (no medium, a detached loop device) or a read that ends early is a fault.
//!   - `READ(FILE)`: the same plain read, and `object` must be a regular file.
//!   - `WRITE(FILE)`: `object` is a folder; write `size` bytes to a file
//!     `.clp-diskw-<monitor>.tmp` in it, fsync it, remove it.
//! - `size` (default 2000000 bytes as in the seed's example, 1 to 1 GiB — the upper bound is
//!   ours): the I/O size.
//!
//! Defaults: interval 60 s, timeout 120 s, retry 0 are the reference's recollection \[M\].
//!
//! A `READ` or `READ(FILE)` of a regular file whose bytes are all in the page cache is done
//! on the monitor's own thread, by calls the kernel refuses rather than wait in (the
//! `cached` module); anything else is read as follows.
//!
//! The I/O runs on a blocking thread. A read from a hung disk cannot be interrupted, so when
//! the engine abandons a check at its timeout the thread stays in the kernel; while it does,
//! later checks start no new I/O on that target and fail at once with "the previous I/O has
//! not returned" — at most one thread per monitor is ever stuck. Objects that are neither a
//! block device, a regular file nor (for `TUR`) a character device — a FIFO, a socket — are
//! refused from their metadata, never opened, so they cannot hang a check.
//!
//! Detail codes (ours; the original's table of detail codes was not available): 11 the
//! object does not exist, 12 it is the wrong kind of file, 13 it cannot be opened, 14 the
//! read failed or ended early, 15 TEST UNIT READY failed (or not a SCSI device), 16 the
//! write failed, 17 the previous I/O has not returned.

mod cached;

use clp_core::monitor::diskw::*;
use clp_core::monitor::params::valid;
use clp_core::monitor::spec::ProbeSettings;
use clp_core::monitor::{CheckFuture, CheckOutcome, Probe, ProbeContext};
use clp_core::os_action::OsActions;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// O_DIRECT reads use buffers, offsets and lengths aligned to this (a multiple of every
/// logical block size up to 4 KiB).
const ALIGN: usize = 4096;

/// One read call reads at most this much.
const CHUNK: usize = 1 << 20;

/// Builds the probe of a validated monitor ([`clp_core::monitor::spec::BuildProbe`]).
pub fn build(config: &ProbeSettings<'_>, _: &OsActions) -> Result<Box<dyn Probe>, String> {
    let params = valid(parse(config.parameters))?;
    Ok(Box::new(Diskw::new(config.name, params)))
}

/// A fault: the detail code and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// The detail code.
    pub code: u32,
    /// The detail text.
    pub detail: String,
}

fn fault(code: u32, detail: impl Into<String>) -> Fault {
    Fault {
        code,
        detail: detail.into(),
    }
}

/// The diskw probe.
#[derive(Debug)]
pub struct Diskw {
    /// Shared with the blocking job of each check (not copied per check).
    params: Arc<DiskwParams>,
    /// The file WRITE(FILE) writes.
    scratch_name: Arc<str>,
    /// When the I/O in flight started, while one is.
    busy_since: Arc<Mutex<Option<Instant>>>,
}

/// Clears the in-flight mark when the blocking I/O returns (or panics).
struct BusyGuard(Arc<Mutex<Option<Instant>>>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }
}

impl Diskw {
    /// The probe of monitor `name`.
    pub fn new(name: &str, params: DiskwParams) -> Diskw {
        Diskw {
            params: Arc::new(params),
            scratch_name: format!(".clp-diskw-{name}.tmp").into(),
            busy_since: Arc::new(Mutex::new(None)),
        }
    }

    /// Runs the method once, on the calling thread (it blocks).
    pub fn run(&self, timeout: Duration) -> Result<(), Fault> {
        let object = &self.params.object;
        match self.params.method {
            Method::Tur => test_unit_ready(object, timeout),
            Method::Read => read(object, self.params.size, false),
            Method::ReadFile => read(object, self.params.size, true),
            Method::WriteFile => write(object, &self.scratch_name, self.params.size),
        }
    }
}

impl Probe for Diskw {
    fn check(&mut self, context: ProbeContext) -> CheckFuture<'_> {
        Box::pin(async move {
            {
                let mut busy = self
                    .busy_since
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                if let Some(since) = *busy {
                    return CheckOutcome::Failure {
                        code: STILL_BUSY,
                        detail: format!(
                            "the previous I/O on {} has not returned for {:.0} seconds",
                            self.params.object.display(),
                            since.elapsed().as_secs_f64()
                        ),
                    };
                }
                if matches!(self.params.method, Method::Read | Method::ReadFile)
                    && cached::read(&self.params.object, self.params.size)
                {
                    return CheckOutcome::Normal;
                }
                *busy = Some(Instant::now());
            }
            let guard = BusyGuard(Arc::clone(&self.busy_since));
            let job = Diskw {
                params: Arc::clone(&self.params),
                scratch_name: Arc::clone(&self.scratch_name),
                busy_since: Arc::clone(&self.busy_since),
            };
            let result = tokio::task::spawn_blocking(move || {
                let _guard = guard;
                job.run(context.timeout)
            })
            .await;
            match result {
                Ok(Ok(())) => CheckOutcome::Normal,
                Ok(Err(Fault { code, detail })) => CheckOutcome::Failure { code, detail },
                Err(error) => CheckOutcome::Failure {
                    code: READ_FAILED,
                    detail: format!("the I/O thread failed: {error}"),
                },
            }
        })
    }
}

/// What kind of file `object` is, for messages.
fn kind_of(file_type: std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        "a folder"
    } else if file_type.is_fifo() {
        "a FIFO"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else {
        "a regular file"
    }
}

fn metadata(object: &Path) -> Result<std::fs::Metadata, Fault> {
    std::fs::metadata(object).map_err(|error| {
        if error.kind() == ErrorKind::NotFound {
            fault(NOT_FOUND, format!("{} does not exist", object.display()))
        } else {
            fault(
                OPEN_FAILED,
                format!("cannot examine {}: {error}", object.display()),
            )
        }
    })
}

fn open(object: &Path, flags: i32) -> Result<File, Fault> {
    OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(object)
        .map_err(|error| {
            fault(
                OPEN_FAILED,
                format!("cannot open {}: {error}", object.display()),
            )
        })
}

/// Reads up to `size` bytes from the start of `object`.
fn read(object: &Path, size: u64, only_regular: bool) -> Result<(), Fault> {
    let meta = metadata(object)?;
    let file_type = meta.file_type();
    let block = file_type.is_block_device();
    if !(file_type.is_file() || (block && !only_regular)) {
        let wanted = if only_regular {
            "a regular file"
        } else {
            "a block device or a regular file"
        };
        return Err(fault(
            WRONG_KIND,
            format!(
                "{} is {}, not {wanted}",
                object.display(),
                kind_of(file_type)
            ),
        ));
    }
    if !block {
        let mut file = open(object, 0)?;
        let wanted = size.min(meta.len());
        return read_all(&mut file, object, wanted, false);
    }
    let (mut file, direct) = match open(object, libc::O_DIRECT) {
        Ok(file) => (file, true),
        // A device whose driver refuses O_DIRECT is read through the page cache.
        Err(_) => (open(object, 0)?, false),
    };
    let capacity = file.seek(SeekFrom::End(0)).map_err(|error| {
        fault(
            READ_FAILED,
            format!("cannot find the size of {}: {error}", object.display()),
        )
    })?;
    if capacity == 0 {
        return Err(fault(
            READ_FAILED,
            format!(
                "{} has no capacity (no medium, or a detached loop device)",
                object.display()
            ),
        ));
    }
    file.seek(SeekFrom::Start(0)).map_err(|error| {
        fault(
            READ_FAILED,
            format!("cannot seek {}: {error}", object.display()),
        )
    })?;
    let wanted = if direct {
        size.div_ceil(ALIGN as u64) * ALIGN as u64
    } else {
        size
    };
    read_all(&mut file, object, wanted.min(capacity), direct)
}

/// Reads `wanted` bytes; an error or an early end is a fault.
fn read_all(file: &mut File, object: &Path, wanted: u64, direct: bool) -> Result<(), Fault> {
    // CHUNK is a multiple of ALIGN, so every chunk is whole blocks, as O_DIRECT needs.
    let chunk = CHUNK
        .min((wanted as usize).div_ceil(ALIGN) * ALIGN)
        .max(ALIGN);
    let mut storage = vec![0u8; chunk + ALIGN];
    let start = storage.as_ptr().align_offset(ALIGN).min(ALIGN);
    let buffer = &mut storage[start..start + chunk];
    let mut done: u64 = 0;
    while done < wanted {
        let want = if direct {
            chunk
        } else {
            chunk.min((wanted - done) as usize)
        };
        match file.read(&mut buffer[..want]) {
            Ok(0) => {
                return Err(fault(
                    READ_FAILED,
                    format!("{} ended after {done} of {wanted} bytes", object.display()),
                ));
            }
            Ok(n) => done += n as u64,
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(error) => {
                return Err(fault(
                    READ_FAILED,
                    format!(
                        "read of {} failed at byte {done}: {error}",
                        object.display()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Writes, fsyncs and removes `size` bytes in the folder `object`.
fn write(object: &Path, scratch_name: &str, size: u64) -> Result<(), Fault> {
    let meta = metadata(object)?;
    if !meta.is_dir() {
        return Err(fault(
            WRONG_KIND,
            format!(
                "{} is {}, not a folder",
                object.display(),
                kind_of(meta.file_type())
            ),
        ));
    }
    let path = object.join(scratch_name);
    let failed = |what: &str, error: std::io::Error| {
        fault(
            WRITE_FAILED,
            format!("cannot {what} {}: {error}", path.display()),
        )
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .map_err(|error| failed("create", error))?;
    let block = vec![0x5au8; CHUNK.min(size as usize)];
    let mut left = size;
    let written = loop {
        if left == 0 {
            break file.sync_all().map_err(|error| failed("fsync", error));
        }
        let part = block.len().min(left as usize);
        if let Err(error) = file.write_all(&block[..part]) {
            break Err(failed("write", error));
        }
        left -= part as u64;
    };
    drop(file);
    let removed = std::fs::remove_file(&path).map_err(|error| failed("remove", error));
    written.and(removed)
}

/// `SG_IO`: send a SCSI command through the sg driver.
const SG_IO: libc::Ioctl = 0x2285;
/// No data moves with the command.
const SG_DXFER_NONE: libc::c_int = -1;
/// The mask of `info` that says whether anything went wrong.
const SG_INFO_OK_MASK: libc::c_uint = 0x1;
/// The 6-byte TEST UNIT READY command: opcode 0x00, no fields.
pub const TEST_UNIT_READY: [u8; 6] = [0; 6];
const SENSE_LEN: usize = 32;

/// `struct sg_io_hdr` of `<scsi/sg.h>` (not in the libc crate).
#[repr(C)]
#[derive(Debug)]
pub struct SgIoHeader {
    /// Always `'S'`.
    pub interface_id: libc::c_int,
    /// Data direction (`SG_DXFER_NONE` for TUR).
    pub dxfer_direction: libc::c_int,
    /// The command's length.
    pub cmd_len: libc::c_uchar,
    /// The room for sense data.
    pub mx_sb_len: libc::c_uchar,
    /// Scatter-gather entries (0: none).
    pub iovec_count: libc::c_ushort,
    /// Bytes to move.
    pub dxfer_len: libc::c_uint,
    /// The data buffer.
    pub dxferp: *mut libc::c_void,
    /// The command.
    pub cmdp: *mut libc::c_uchar,
    /// The sense buffer.
    pub sbp: *mut libc::c_uchar,
    /// The command's timeout in milliseconds.
    pub timeout: libc::c_uint,
    /// Flags (0: default).
    pub flags: libc::c_uint,
    /// Unused here.
    pub pack_id: libc::c_int,
    /// Unused here.
    pub usr_ptr: *mut libc::c_void,
    /// The SCSI status.
    pub status: libc::c_uchar,
    /// The shifted, masked SCSI status.
    pub masked_status: libc::c_uchar,
    /// Messaging-level status.
    pub msg_status: libc::c_uchar,
    /// Sense bytes written.
    pub sb_len_wr: libc::c_uchar,
    /// Host adapter errors.
    pub host_status: libc::c_ushort,
    /// Driver errors.
    pub driver_status: libc::c_ushort,
    /// Bytes not transferred.
    pub resid: libc::c_int,
    /// How long the command took, ms.
    pub duration: libc::c_uint,
    /// `SG_INFO_*` bits.
    pub info: libc::c_uint,
}

impl SgIoHeader {
    /// The header of a TEST UNIT READY: `command` is the 6-byte CDB, `sense` receives the
    /// sense data, the command times out after `timeout`.
    pub fn test_unit_ready(
        command: &mut [u8; 6],
        sense: &mut [u8; SENSE_LEN],
        timeout: Duration,
    ) -> SgIoHeader {
        SgIoHeader {
            interface_id: libc::c_int::from(b'S'),
            dxfer_direction: SG_DXFER_NONE,
            cmd_len: command.len() as u8,
            mx_sb_len: sense.len() as u8,
            iovec_count: 0,
            dxfer_len: 0,
            dxferp: std::ptr::null_mut(),
            cmdp: command.as_mut_ptr(),
            sbp: sense.as_mut_ptr(),
            timeout: u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX),
            flags: 0,
            pack_id: 0,
            usr_ptr: std::ptr::null_mut(),
            status: 0,
            masked_status: 0,
            msg_status: 0,
            sb_len_wr: 0,
            host_status: 0,
            driver_status: 0,
            resid: 0,
            duration: 0,
            info: 0,
        }
    }

    /// What went wrong, from the returned header and its sense data; `None` when the unit
    /// is ready.
    pub fn problem(&self, sense: &[u8]) -> Option<String> {
        if self.info & SG_INFO_OK_MASK == 0
            && self.status == 0
            && self.host_status == 0
            && self.driver_status == 0
        {
            return None;
        }
        let mut text = format!(
            "TEST UNIT READY failed: SCSI status 0x{:02x}, host status 0x{:x}, driver status 0x{:x}",
            self.status, self.host_status, self.driver_status
        );
        let written = usize::from(self.sb_len_wr).min(sense.len());
        if let Some((key, asc, ascq)) = sense_key(&sense[..written]) {
            text.push_str(&format!(
                ", sense key 0x{key:x} ({}), ASC/ASCQ 0x{asc:02x}/0x{ascq:02x}",
                sense_key_name(key)
            ));
        }
        Some(text)
    }
}

/// Sense key, ASC and ASCQ from fixed (0x70/0x71) or descriptor (0x72/0x73) sense data.
pub fn sense_key(sense: &[u8]) -> Option<(u8, u8, u8)> {
    match sense.first()? & 0x7f {
        0x70 | 0x71 if sense.len() >= 14 => Some((sense[2] & 0x0f, sense[12], sense[13])),
        0x72 | 0x73 if sense.len() >= 4 => Some((sense[1] & 0x0f, sense[2], sense[3])),
        _ => None,
    }
}

fn sense_key_name(key: u8) -> &'static str {
    match key {
        0x0 => "NO SENSE",
        0x1 => "RECOVERED ERROR",
        0x2 => "NOT READY",
        0x3 => "MEDIUM ERROR",
        0x4 => "HARDWARE ERROR",
        0x5 => "ILLEGAL REQUEST",
        0x6 => "UNIT ATTENTION",
        0x7 => "DATA PROTECT",
        0xb => "ABORTED COMMAND",
        _ => "other",
    }
}

/// Sends TEST UNIT READY to `object`.
fn test_unit_ready(object: &Path, timeout: Duration) -> Result<(), Fault> {
    let meta = metadata(object)?;
    let file_type = meta.file_type();
    if !(file_type.is_block_device() || file_type.is_char_device()) {
        return Err(fault(
            TUR_FAILED,
            format!(
                "{} is not a SCSI device ({}, not a device)",
                object.display(),
                kind_of(file_type)
            ),
        ));
    }
    let file = open(object, libc::O_NONBLOCK)?;
    let mut command = TEST_UNIT_READY;
    let mut sense = [0u8; SENSE_LEN];
    let mut header = SgIoHeader::test_unit_ready(&mut command, &mut sense, timeout);
    // SAFETY: SG_IO reads the header and the command and writes the header and at most
    // `mx_sb_len` sense bytes; every pointer in the header points at a live local buffer of
    // the length the header states, and no data buffer is given (dxfer_len 0).
    let result = unsafe { libc::ioctl(file.as_raw_fd(), SG_IO, &mut header) };
    if result < 0 {
        let error = std::io::Error::last_os_error();
        let not_scsi = matches!(
            error.raw_os_error(),
            Some(libc::ENOTTY | libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)
        );
        let detail = if not_scsi {
            format!(
                "{} is not a SCSI device (SG_IO refused: {error})",
                object.display()
            )
        } else {
            format!("SG_IO on {} failed: {error}", object.display())
        };
        return Err(fault(TUR_FAILED, detail));
    }
    match header.problem(&sense) {
        None => Ok(()),
        Some(problem) => Err(fault(
            TUR_FAILED,
            format!("{}: {problem}", object.display()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        text.parse().unwrap()
    }

    #[test]
    fn defaults() {
        let (params, problems) = parse(&table("object = \"/dev/sda\""));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            params,
            DiskwParams {
                object: "/dev/sda".into(),
                method: Method::Read,
                size: 2_000_000,
            }
        );
    }

    #[test]
    fn the_original_method_names_are_accepted() {
        for (name, method) in [
            ("TUR", Method::Tur),
            ("tur(generic)", Method::Tur),
            ("Dummy Read", Method::Read),
            ("READ(O_DIRECT)", Method::Read),
            ("READ(FILE)", Method::ReadFile),
            ("WRITE(FILE)", Method::WriteFile),
        ] {
            let (params, problems) = parse(&table(&format!(
                "object = \"/dev/sda\"\nmethod = \"{name}\"\nsize = 512"
            )));
            assert!(problems.is_empty(), "{name}: {problems:?}");
            assert_eq!(params.method, method, "{name}");
            assert_eq!(params.size, 512);
        }
    }

    #[test]
    fn bad_values_are_each_reported() {
        let (_, problems) = parse(&table(
            "object = \"dev/sda\"\nmethod = \"READ(VxVM)\"\nsize = 0\nobjet = 1",
        ));
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].contains("did you mean \"object\""));
        assert!(problems.iter().any(|p| p.contains("not an absolute path")));
        assert!(
            problems
                .iter()
                .any(|p| p.contains("\"READ(VxVM)\" is not supported by this version"))
        );
        assert!(problems.iter().any(|p| p.contains("0 is out of range")));
        let (_, problems) = parse(&table("method = \"PING\""));
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.contains(&"key \"object\" is missing".to_string()));
        assert!(
            problems
                .iter()
                .any(|p| p.contains("\"PING\" is not a method; use one of TUR"))
        );
    }

    #[test]
    fn the_test_unit_ready_header() {
        assert_eq!(TEST_UNIT_READY, [0, 0, 0, 0, 0, 0]);
        #[cfg(target_pointer_width = "64")]
        assert_eq!(std::mem::size_of::<SgIoHeader>(), 88);
        let mut command = TEST_UNIT_READY;
        let mut sense = [0u8; SENSE_LEN];
        let header =
            SgIoHeader::test_unit_ready(&mut command, &mut sense, Duration::from_secs(120));
        assert_eq!(header.interface_id, i32::from(b'S'));
        assert_eq!(header.dxfer_direction, -1);
        assert_eq!(header.cmd_len, 6);
        assert_eq!(header.mx_sb_len, 32);
        assert_eq!(header.dxfer_len, 0);
        assert!(header.dxferp.is_null());
        assert_eq!(header.cmdp, command.as_mut_ptr());
        assert_eq!(header.timeout, 120_000);
        assert_eq!(header.problem(&sense), None);
    }

    #[test]
    fn sense_data_is_decoded() {
        let mut command = TEST_UNIT_READY;
        let mut sense = [0u8; SENSE_LEN];
        let mut header = SgIoHeader::test_unit_ready(&mut command, &mut sense, Duration::ZERO);
        // Fixed format: NOT READY, medium not present (3A/00).
        let mut fixed = [0u8; SENSE_LEN];
        fixed[0] = 0x70;
        fixed[2] = 0x02;
        fixed[7] = 10;
        fixed[12] = 0x3a;
        header.status = 0x02;
        header.info = 1;
        header.sb_len_wr = 18;
        assert_eq!(
            header.problem(&fixed).unwrap(),
            "TEST UNIT READY failed: SCSI status 0x02, host status 0x0, driver status 0x0, sense key 0x2 (NOT READY), ASC/ASCQ 0x3a/0x00"
        );
        assert_eq!(sense_key(&[0x72, 0x06, 0x29, 0x00]), Some((6, 0x29, 0)));
        assert_eq!(sense_key(&[0x70, 0, 2]), None);
    }

    #[test]
    fn a_file_is_not_a_scsi_device() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("disk.img");
        std::fs::write(&file, [0u8; 4096]).unwrap();
        let fault = test_unit_ready(&file, Duration::from_secs(1)).unwrap_err();
        assert_eq!(fault.code, TUR_FAILED);
        assert!(fault.detail.contains("is not a SCSI device"), "{fault:?}");
        // /dev/null is a device, but not a SCSI one: the ioctl itself refuses.
        let fault = test_unit_ready(Path::new("/dev/null"), Duration::from_secs(1)).unwrap_err();
        assert!(
            fault
                .detail
                .starts_with("/dev/null is not a SCSI device (SG_IO refused"),
            "{fault:?}"
        );
    }

    fn probe(object: &Path, method: &str, size: u64) -> Diskw {
        let (params, problems) = parse(&table(&format!(
            "object = \"{}\"\nmethod = \"{method}\"\nsize = {size}",
            object.display()
        )));
        assert!(problems.is_empty(), "{problems:?}");
        Diskw::new("diskw", params)
    }

    #[test]
    fn reads_of_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data");
        std::fs::write(&file, vec![7u8; 3_000_000]).unwrap();
        let timeout = Duration::from_secs(5);
        assert_eq!(probe(&file, "READ", DEFAULT_SIZE).run(timeout), Ok(()));
        assert_eq!(probe(&file, "READ(FILE)", 5_000_000).run(timeout), Ok(()));
        let fault = probe(dir.path(), "READ(FILE)", 10)
            .run(timeout)
            .unwrap_err();
        assert_eq!(fault.code, WRONG_KIND);
        assert!(
            fault.detail.ends_with("is a folder, not a regular file"),
            "{fault:?}"
        );
        let missing = dir.path().join("missing");
        let fault = probe(&missing, "READ", 10).run(timeout).unwrap_err();
        assert_eq!(
            fault,
            Fault {
                code: NOT_FOUND,
                detail: format!("{} does not exist", missing.display())
            }
        );
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let fault = probe(&fifo, "READ", 10).run(timeout).unwrap_err();
        assert!(
            fault
                .detail
                .ends_with("is a FIFO, not a block device or a regular file"),
            "{fault:?}"
        );
    }

    #[test]
    fn writes_in_a_folder() {
        let dir = tempfile::tempdir().unwrap();
        let timeout = Duration::from_secs(5);
        assert_eq!(
            probe(dir.path(), "WRITE(FILE)", 3_000_000).run(timeout),
            Ok(())
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "the scratch file is removed"
        );
        let file = dir.path().join("plain");
        std::fs::write(&file, "x").unwrap();
        let fault = probe(&file, "WRITE(FILE)", 10).run(timeout).unwrap_err();
        assert_eq!(fault.code, WRONG_KIND);
    }

    #[tokio::test]
    async fn a_hung_io_blocks_no_second_thread() {
        let dir = tempfile::tempdir().unwrap();
        let mut diskw = probe(dir.path(), "WRITE(FILE)", 10);
        *diskw.busy_since.lock().unwrap() = Some(Instant::now());
        let context = ProbeContext {
            lateness: Duration::ZERO,
            timeout: Duration::from_secs(1),
            target_process: None,
        };
        assert!(matches!(
            diskw.check(context.clone()).await,
            CheckOutcome::Failure {
                code: STILL_BUSY,
                ..
            }
        ));
        *diskw.busy_since.lock().unwrap() = None;
        assert_eq!(diskw.check(context).await, CheckOutcome::Normal);
    }
}
