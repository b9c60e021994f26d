//! `clp_mlftp`: uploading a log tarball to the support FTP server of `etc/ftp.toml`.
//!
//! [`config`] reads and checks `ftp.toml` and its password file; [`upload`] sends one file
//! (binary mode, retries with backoff, resume, size check, temporary name then rename);
//! [`naming`] gives it a name on the server that keeps the history of nightly uploads.

pub mod config;
pub mod naming;
pub mod upload;

pub use config::{FtpConfig, FtpConfigError};
pub use upload::{Upload, UploadError, UploadEvent, Uploaded};
