//! clp-ftp: the FTP/FTPS client of `clp_mlftp`, uploading a log tarball to the support FTP
//! server of `etc/ftp.toml`. A crate of its own because only `clp_mlftp` uses it: no monitor
//! does (`ftpw` speaks its few FTP commands through the monitors' own dialogue), so no other
//! command links suppaftp.
//!
//! [`config`] reads and checks `ftp.toml` and its password file; [`upload`] sends one file
//! (binary mode, retries with backoff, resume, size check, temporary name then rename);
//! [`naming`] gives it a name on the server that keeps the history of nightly uploads.

#![warn(missing_docs)]

pub mod config;
pub mod naming;
pub mod upload;

pub use config::{FtpConfig, FtpConfigError};
pub use upload::{Upload, UploadError, UploadEvent, Uploaded};
