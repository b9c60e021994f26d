//! The commands' return values, as the original product documents them.
//!
//! Only a binary's `main` turns an error into one of these; everything else passes errors
//! up as values.

/// Success.
pub const SUCCESS: u8 = 0;
/// The command must run as root (kept for the original's numbering; clp runs unprivileged
/// under a `CLP_ROOT` it owns).
pub const NOT_ROOT: u8 = 1;
/// A bad option or argument.
pub const BAD_OPTION: u8 = 2;
/// Initialisation failed (store, socket, files).
pub const INIT_ERROR: u8 = 3;
/// The configuration is invalid.
pub const BAD_CONFIG: u8 = 4;
/// The named monitor, group or resource is not in the configuration.
pub const NOT_REGISTERED: u8 = 5;
/// The daemon (the cluster) is not running.
pub const NOT_RUNNING: u8 = 10;
/// The daemon is suspended and refuses the operation.
pub const SUSPENDED: u8 = 11;
/// The operation did not finish in time.
pub const TIMEOUT: u8 = 90;
/// The daemon is already running; a group or resource is already started (nothing was
/// done).
pub const ALREADY_RUNNING: u8 = 128;
/// A group or resource is already stopped (nothing was done).
pub const ALREADY_STOPPED: u8 = 129;
/// Any other failure.
pub const OTHER: u8 = 255;

/// An error that knows the original's return value for itself (as uutils' `UError::code()`),
/// so that no command maps codes at its call sites.
pub trait Coded: std::error::Error {
    /// The return value of a command failing with this error.
    fn code(&self) -> u8;
}

/// A failure to read or write (stdout, a file the command writes itself).
impl Coded for std::io::Error {
    fn code(&self) -> u8 {
        OTHER
    }
}

/// A value that would not encode as JSON (`--json` output).
impl Coded for serde_json::Error {
    fn code(&self) -> u8 {
        OTHER
    }
}
