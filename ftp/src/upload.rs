//! One file uploaded to the FTP server of `ftp.toml`, in binary mode, with retries.
//!
//! The file is sent under a temporary name (`<name>.part`) and renamed to its own name only
//! once the server reports the full size, so a half file never carries the final name. A
//! failed attempt is retried after 1 s, 2 s, 4 s, ... (at most 60 s); each retry reconnects
//! and, once this run's `STOR` was accepted, asks the server how much of the temporary file
//! it has (`SIZE`) and appends the rest (`APPE`). When the server cannot say (`SIZE`
//! refused) or has more than the local file, the file is sent again from the start. A
//! refusal that another attempt cannot change (a 5xx reply such as a refused login, or a
//! certificate the client does not trust) ends the upload at once.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
use suppaftp::types::FileType;
use suppaftp::{FtpError, Mode, RustlsConnector, RustlsFtpStream};

use super::config::FtpConfig;
use clp_core::tls;

/// The suffix of the temporary remote name.
pub const PART_SUFFIX: &str = ".part";
/// The wait before the first retry; each further retry waits twice as long.
pub const FIRST_RETRY_WAIT: Duration = Duration::from_secs(1);
/// The longest wait between two attempts.
pub const LONGEST_RETRY_WAIT: Duration = Duration::from_secs(60);
/// Bytes read from the local file and written to the data connection at a time.
const CHUNK: usize = 64 * 1024;

/// What happens during an upload, for the command's progress bar and attempt lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadEvent {
    /// An attempt starts sending the file from `offset` (0, or where a broken one stopped).
    Sending {
        /// The attempt, from 1.
        attempt: u32,
        /// The first byte sent.
        offset: u64,
        /// The file's size.
        total: u64,
    },
    /// `sent` bytes of `total` are written to the data connection.
    Progress {
        /// Bytes sent so far (the offset included).
        sent: u64,
        /// The file's size.
        total: u64,
    },
    /// An attempt failed; the next one starts after `retry_in`.
    AttemptFailed {
        /// The attempt that failed, from 1.
        attempt: u32,
        /// Attempts in all.
        attempts: u32,
        /// Why, on one line.
        error: String,
        /// The wait before the next attempt.
        retry_in: Duration,
    },
}

/// A finished upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    /// The file's name on the server (in `remote_dir`).
    pub remote_name: String,
    /// Its size, as the server reported it.
    pub bytes: u64,
    /// Attempts it took.
    pub attempts: u32,
}

/// Why an upload failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The local file cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Local {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A refusal no retry can change (login, permissions, certificate, cafile).
    #[error("{0}")]
    Refused(String),
    /// Every attempt failed.
    #[error("gave up after {attempts} attempts; the last: {last}")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// Why the last one failed.
        last: String,
    },
}

/// Why one attempt failed.
#[derive(Debug)]
struct Failure {
    message: String,
    /// Another attempt cannot help.
    permanent: bool,
}

impl Failure {
    fn transient(message: String) -> Failure {
        Failure {
            message,
            permanent: false,
        }
    }

    /// `what` failed because of `error`; permanent when the server refused with a 5xx
    /// reply or the TLS peer's certificate is not trusted.
    fn of(what: &str, error: &FtpError) -> Failure {
        let permanent = match error {
            FtpError::UnexpectedResponse(response) => (500..600).contains(&response.status.code()),
            FtpError::SecureError(message) => message.contains("certificate"),
            // The TLS handshake runs at the first command on the secured connection.
            FtpError::ConnectionError(io) => io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                .is_some_and(|error| {
                    matches!(
                        error,
                        rustls::Error::InvalidCertificate(_)
                            | rustls::Error::NoCertificatesPresented
                            | rustls::Error::UnsupportedNameType
                    )
                }),
            _ => false,
        };
        Failure {
            message: format!("{what}: {}", describe(error)),
            permanent,
        }
    }
}

/// An FTP error in an operator's words.
fn describe(error: &FtpError) -> String {
    match error {
        FtpError::ConnectionError(io) => match io.kind() {
            io::ErrorKind::UnexpectedEof => "the server closed the connection".to_string(),
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
                "no answer within the timeout".to_string()
            }
            _ => io.to_string(),
        },
        FtpError::SecureError(message) => format!("TLS: {message}"),
        FtpError::UnexpectedResponse(response) => response
            .as_string()
            .unwrap_or_else(|_| format!("reply {}", response.status.code()))
            .lines()
            .collect::<Vec<_>>()
            .join(" "),
        FtpError::BadResponse => "the server's reply could not be understood".to_string(),
        other => other.to_string(),
    }
}

/// The remote file's size as the server reports it.
enum RemoteSize {
    /// `SIZE` answered.
    Known(u64),
    /// `SIZE` refused (no such file, or not supported).
    Unknown(String),
}

/// One upload of one file.
pub struct Upload<'a> {
    config: &'a FtpConfig,
    password: &'a str,
    local: &'a Path,
    name: String,
    part: String,
    total: u64,
    tls: Option<Arc<ClientConfig>>,
    /// This run's `STOR` of the temporary name was accepted: what the server holds under
    /// it is a prefix of this file, so a retry may append to it.
    resumable: bool,
}

impl<'a> Upload<'a> {
    /// Prepares the upload of `local` (its name on the server is its own file name).
    pub fn new(
        config: &'a FtpConfig,
        password: &'a str,
        local: &'a Path,
    ) -> Result<Upload<'a>, UploadError> {
        let local_error = |source| UploadError::Local {
            path: local.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(local).map_err(local_error)?;
        if !meta.is_file() {
            return Err(local_error(io::Error::other("not a regular file")));
        }
        let name = local
            .file_name()
            .and_then(|name| name.to_str())
            .filter(|name| !name.contains(['\r', '\n']))
            .ok_or_else(|| {
                UploadError::Refused(format!(
                    "{}: the file name must be UTF-8 to be sent to an FTP server",
                    local.display()
                ))
            })?
            .to_string();
        let tls = match config.tls {
            true => Some(Arc::new(tls_config(config)?)),
            false => None,
        };
        Ok(Upload {
            config,
            password,
            local,
            part: format!("{name}{PART_SUFFIX}"),
            name,
            total: meta.len(),
            tls,
            resumable: false,
        })
    }

    /// The name the file gets on the server (default: its own file name); checked by
    /// [`super::naming::check_name`].
    pub fn named(mut self, name: &str) -> Result<Upload<'a>, UploadError> {
        super::naming::check_name(name).map_err(UploadError::Refused)?;
        self.name = name.to_string();
        self.part = format!("{name}{PART_SUFFIX}");
        Ok(self)
    }

    /// Uploads, retrying as `retries` allows; `observer` sees progress and failed attempts.
    pub fn run(mut self, observer: &mut dyn FnMut(UploadEvent)) -> Result<Uploaded, UploadError> {
        let attempts = self.config.retries.saturating_add(1);
        let mut wait = FIRST_RETRY_WAIT;
        for attempt in 1..=attempts {
            let failure = match self.attempt(attempt, observer) {
                Ok(bytes) => {
                    return Ok(Uploaded {
                        remote_name: self.name,
                        bytes,
                        attempts: attempt,
                    });
                }
                Err(AttemptError::Local(source)) => {
                    return Err(UploadError::Local {
                        path: self.local.to_path_buf(),
                        source,
                    });
                }
                Err(AttemptError::Failed(failure)) => failure,
            };
            if failure.permanent {
                return Err(UploadError::Refused(failure.message));
            }
            if attempt == attempts {
                return Err(UploadError::GaveUp {
                    attempts,
                    last: failure.message,
                });
            }
            observer(UploadEvent::AttemptFailed {
                attempt,
                attempts,
                error: failure.message,
                retry_in: wait,
            });
            std::thread::sleep(wait);
            wait = (wait * 2).min(LONGEST_RETRY_WAIT);
        }
        Err(UploadError::GaveUp {
            attempts,
            last: "no attempt was made".to_string(),
        })
    }

    /// One attempt: connect, send what the server lacks, verify, rename. Returns the size.
    fn attempt(
        &mut self,
        attempt: u32,
        observer: &mut dyn FnMut(UploadEvent),
    ) -> Result<u64, AttemptError> {
        let mut ftp = self.connect()?;
        let offset = if self.resumable {
            match self.remote_size(&mut ftp, &self.part.clone())? {
                RemoteSize::Known(size) if size <= self.total => size,
                // More than the file, or nothing to go by: from the start.
                RemoteSize::Known(_) | RemoteSize::Unknown(_) => 0,
            }
        } else {
            0
        };
        if offset < self.total || self.total == 0 {
            observer(UploadEvent::Sending {
                attempt,
                offset,
                total: self.total,
            });
            self.send(&mut ftp, offset, observer)?;
        }
        let part = self.part.clone();
        match self.remote_size(&mut ftp, &part)? {
            RemoteSize::Known(size) if size == self.total => {}
            RemoteSize::Known(size) => {
                // Too much can only be fixed by starting again; too little by appending.
                self.resumable = size < self.total;
                return Err(AttemptError::Failed(Failure::transient(format!(
                    "the server has {size} bytes of {part} after the transfer, the file has {}",
                    self.total
                ))));
            }
            RemoteSize::Unknown(why) => {
                return Err(AttemptError::Failed(Failure {
                    message: format!(
                        "the upload cannot be verified: the server does not report the size of {part} ({why})"
                    ),
                    permanent: true,
                }));
            }
        }
        self.rename(&mut ftp)?;
        let _ = ftp.quit();
        Ok(self.total)
    }

    /// Connects, secures (with `tls`), logs in, selects binary mode and `remote_dir`.
    fn connect(&self) -> Result<RustlsFtpStream, Failure> {
        let config = self.config;
        let server = config.server();
        let timeout = config.timeout;
        let addresses: Vec<SocketAddr> = (config.host.as_str(), config.port)
            .to_socket_addrs()
            .map_err(|error| {
                Failure::transient(format!("cannot resolve \"{}\": {error}", config.host))
            })?
            .collect();
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
        let mut control = None;
        for address in addresses {
            match TcpStream::connect_timeout(&address, timeout) {
                Ok(stream) => {
                    control = Some(stream);
                    break;
                }
                Err(error) => last = error,
            }
        }
        let control = control
            .ok_or_else(|| Failure::transient(format!("cannot connect to {server}: {last}")))?;
        set_timeouts(&control, timeout)
            .map_err(|error| Failure::transient(format!("cannot connect to {server}: {error}")))?;
        let mut ftp = RustlsFtpStream::connect_with_stream(control)
            .map_err(|error| Failure::of(&format!("{server} did not greet"), &error))?;
        if config.passive {
            ftp.set_mode(Mode::Passive);
            // The data connection goes to the control connection's peer, whatever address
            // the PASV reply names (NAT, and no connection to a third host).
            ftp.set_passive_nat_workaround(true);
            ftp = ftp.passive_stream_builder(move |address| {
                let stream = TcpStream::connect_timeout(&address, timeout)
                    .map_err(FtpError::ConnectionError)?;
                set_timeouts(&stream, timeout).map_err(FtpError::ConnectionError)?;
                Ok(stream)
            });
        } else {
            ftp = ftp.active_mode(timeout);
        }
        if let Some(tls) = &self.tls {
            ftp = ftp
                .into_secure(RustlsConnector::from(Arc::clone(tls)), &config.host)
                .map_err(|error| Failure::of(&format!("AUTH TLS with {server} failed"), &error))?;
        }
        ftp.login(config.user.as_str(), self.password)
            .map_err(|error| {
                Failure::of(
                    &format!("login as \"{}\" on {server} refused", config.user),
                    &error,
                )
            })?;
        ftp.transfer_type(FileType::Binary)
            .map_err(|error| Failure::of("binary mode (TYPE I) refused", &error))?;
        if !config.remote_dir.is_empty() {
            ftp.cwd(&config.remote_dir).map_err(|error| {
                Failure::of(
                    &format!("remote_dir \"{}\" is not usable", config.remote_dir),
                    &error,
                )
            })?;
        }
        Ok(ftp)
    }

    /// Sends the file from `offset` under the temporary name: `STOR` from 0, `APPE` after.
    fn send(
        &mut self,
        ftp: &mut RustlsFtpStream,
        offset: u64,
        observer: &mut dyn FnMut(UploadEvent),
    ) -> Result<(), AttemptError> {
        let mut file = File::open(self.local).map_err(AttemptError::Local)?;
        file.seek(SeekFrom::Start(offset))
            .map_err(AttemptError::Local)?;
        let mut file = file.take(self.total - offset);
        let mut stream = if offset == 0 {
            let stream = ftp
                .put_with_stream(&self.part)
                .map_err(|error| Failure::of(&format!("STOR {} refused", self.part), &error))?;
            self.resumable = true;
            stream
        } else {
            ftp.append_with_stream(&self.part).map_err(|error| {
                Failure::of(
                    &format!("APPE {} (resuming at byte {offset}) refused", self.part),
                    &error,
                )
            })?
        };
        let mut buffer = vec![0u8; CHUNK];
        let mut sent = offset;
        loop {
            let read = file.read(&mut buffer).map_err(AttemptError::Local)?;
            if read == 0 {
                break;
            }
            stream.write_all(&buffer[..read]).map_err(|error| {
                Failure::of(
                    &format!(
                        "the connection broke after sending {sent} of {} bytes",
                        self.total
                    ),
                    &FtpError::ConnectionError(error),
                )
            })?;
            sent += read as u64;
            observer(UploadEvent::Progress {
                sent,
                total: self.total,
            });
        }
        if sent != self.total {
            return Err(AttemptError::Local(io::Error::other(format!(
                "the file shrank to {sent} bytes while it was sent"
            ))));
        }
        stream.finish().map_err(|error| {
            Failure::of(
                &format!("the server did not confirm the transfer of {}", self.part),
                &error,
            )
        })?;
        Ok(())
    }

    /// `SIZE` of a remote file (in binary mode).
    fn remote_size(&self, ftp: &mut RustlsFtpStream, name: &str) -> Result<RemoteSize, Failure> {
        match ftp.size(name) {
            Ok(size) => Ok(RemoteSize::Known(size as u64)),
            Err(FtpError::UnexpectedResponse(response))
                if (500..600).contains(&response.status.code()) =>
            {
                Ok(RemoteSize::Unknown(describe(
                    &FtpError::UnexpectedResponse(response),
                )))
            }
            Err(error) => Err(Failure::of(&format!("SIZE {name} failed"), &error)),
        }
    }

    /// Gives the verified temporary file its final name. A server that will not rename over
    /// an existing file (an earlier upload of the same name) gets that one deleted first.
    fn rename(&self, ftp: &mut RustlsFtpStream) -> Result<(), Failure> {
        let what = format!("renaming {} to {} refused", self.part, self.name);
        match ftp.rename(&self.part, &self.name) {
            Ok(()) => Ok(()),
            Err(FtpError::UnexpectedResponse(_)) if ftp.rm(&self.name).is_ok() => ftp
                .rename(&self.part, &self.name)
                .map_err(|error| Failure::of(&what, &error)),
            Err(error) => Err(Failure::of(&what, &error)),
        }
    }
}

/// An attempt's failure: the local file (no retry helps) or the transfer.
enum AttemptError {
    Local(io::Error),
    Failed(Failure),
}

impl From<Failure> for AttemptError {
    fn from(failure: Failure) -> Self {
        AttemptError::Failed(failure)
    }
}

fn set_timeouts(stream: &TcpStream, timeout: Duration) -> io::Result<()> {
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))
}

/// The TLS client of `tls = true`: the `cafile`'s CAs, or the system's roots.
fn tls_config(config: &FtpConfig) -> Result<ClientConfig, UploadError> {
    let builder = ClientConfig::builder_with_provider(tls::provider())
        .with_safe_default_protocol_versions()
        .map_err(|error| UploadError::Refused(format!("TLS set-up failed: {error}")))?;
    Ok(match &config.cafile {
        Some(cafile) => builder
            .with_root_certificates(tls::read_cafile(cafile).map_err(UploadError::Refused)?)
            .with_no_client_auth(),
        None => builder
            .with_root_certificates(tls::system_roots())
            .with_no_client_auth(),
    })
}
