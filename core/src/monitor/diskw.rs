//! The diskw type as the configuration sees it: its spec (defaults, rules), its
//! parameters and its detail codes. The probe that runs the check is
//! `clp_monitors::diskw`, outside this crate, so validating a configuration links no
//! client.

use std::path::{Path, PathBuf};

use super::params::ParamReader;
use super::spec::{DefaultRecovery, MonitorSpec, TargetRule};

/// The diskw type.
pub static SPEC: MonitorSpec = MonitorSpec {
    kind: "diskw",
    interval: 60.0,
    timeout: 120.0,
    retry: 0,
    default_comment: "",
    forced_timing: None,
    target_rule: TargetRule::Optional,
    default_recovery: DefaultRecovery::Target,
    check_parameters: |parameters| parse(parameters).1,
};

const KEYS: &[&str] = &["object", "method", "size"];

/// The default I/O size (the seed's example).
pub const DEFAULT_SIZE: u64 = 2_000_000;
const MAX_SIZE: i64 = 1 << 30;

/// Detail code: the object does not exist.
pub const NOT_FOUND: u32 = 11;
/// Detail code: the object is the wrong kind of file for the method.
pub const WRONG_KIND: u32 = 12;
/// Detail code: the object cannot be opened.
pub const OPEN_FAILED: u32 = 13;
/// Detail code: the read failed or ended early.
pub const READ_FAILED: u32 = 14;
/// Detail code: TEST UNIT READY failed, or the object is not a SCSI device.
pub const TUR_FAILED: u32 = 15;
/// Detail code: the write failed.
pub const WRITE_FAILED: u32 = 16;
/// Detail code: the previous check's I/O has not returned.
pub const STILL_BUSY: u32 = 17;

/// How a diskw monitor checks its object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// SCSI TEST UNIT READY.
    Tur,
    /// Read `size` bytes (O_DIRECT on block devices).
    Read,
    /// Read `size` bytes of a regular file.
    ReadFile,
    /// Write and fsync `size` bytes in a folder.
    WriteFile,
}

/// The method names accepted, as written in the original (any case).
const METHODS: &[(&str, Method)] = &[
    ("TUR", Method::Tur),
    ("TUR(GENERIC)", Method::Tur),
    ("TUR(LEGACY)", Method::Tur),
    ("READ", Method::Read),
    ("DUMMY READ", Method::Read),
    ("READ(O_DIRECT)", Method::Read),
    ("READ(RAW)", Method::Read),
    ("READ(FILE)", Method::ReadFile),
    ("WRITE(FILE)", Method::WriteFile),
];

/// The parameters of a diskw monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskwParams {
    /// The device, file or folder.
    pub object: PathBuf,
    /// The method.
    pub method: Method,
    /// The I/O size in bytes.
    pub size: u64,
}

/// Reads the parameters; the problems are empty when they are valid.
pub fn parse(table: &toml::Table) -> (DiskwParams, Vec<String>) {
    let mut reader = ParamReader::new(table);
    let object = reader.required_string("object");
    if table.contains_key("object") && !Path::new(&object).is_absolute() {
        reader.problem(
            "object",
            format!("\"{object}\" is not an absolute path (e.g. /dev/sda)"),
        );
    }
    let method_name = reader.string("method", "READ");
    let method = match METHODS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(method_name.trim()))
    {
        Some((_, method)) => *method,
        None => {
            let names: Vec<&str> = METHODS.iter().map(|(name, _)| *name).collect();
            let why = if method_name.eq_ignore_ascii_case("READ(VXVM)") {
                "is not supported by this version"
            } else {
                "is not a method"
            };
            reader.problem(
                "method",
                format!("\"{method_name}\" {why}; use one of {}", names.join(", ")),
            );
            Method::Read
        }
    };
    let size = reader.integer("size", DEFAULT_SIZE as i64, 1, MAX_SIZE) as u64;
    let params = DiskwParams {
        object: PathBuf::from(object),
        method,
        size,
    };
    (params, reader.finish(KEYS))
}
