//! `$CLP_ROOT/etc/ftp.toml`: where `clp_mlftp` uploads, and the password file it reads.
//!
//! ```toml
//! host = "ftp.example.com"
//! port = 21                      # default
//! user = "support"
//! password_file = "ftp.password" # relative to etc/; refused unless owner-only (0600)
//! remote_dir = "/incoming"       # default: the login folder
//! passive = true                 # default; false = active mode (PORT)
//! tls = false                    # true = explicit FTPS (AUTH TLS), control and data
//! cafile = "ca.pem"              # with tls: the CA to trust (default: the system's roots)
//! retries = 4                    # failed attempts retried (1 s, 2 s, 4 s, ... apart)
//! timeout = 60                   # seconds without progress before an attempt fails
//! ```
//!
//! Every problem of the file is listed at once, each with its key; an unknown key is refused
//! with the closest known one suggested.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clp_core::config::unknown_key_message;

/// Every key `ftp.toml` may hold.
pub const KEYS: &[&str] = &[
    "host",
    "port",
    "user",
    "password_file",
    "remote_dir",
    "passive",
    "tls",
    "cafile",
    "retries",
    "timeout",
];

/// The FTP port when `port` is not given.
pub const DEFAULT_PORT: u16 = 21;
/// Failed attempts retried when `retries` is not given (5 attempts in all).
pub const DEFAULT_RETRIES: u32 = 4;
/// Seconds without progress before an attempt fails, when `timeout` is not given.
pub const DEFAULT_TIMEOUT_SECS: u64 = 60;

/// A validated `ftp.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FtpConfig {
    /// The server's host name or address.
    pub host: String,
    /// The control port.
    pub port: u16,
    /// The user to log in as.
    pub user: String,
    /// The file holding the password (absolute; a relative one is resolved against `etc/`).
    pub password_file: PathBuf,
    /// The folder to upload into; empty: the login folder.
    pub remote_dir: String,
    /// Passive mode (PASV); active mode (PORT) otherwise.
    pub passive: bool,
    /// Explicit FTPS: `AUTH TLS`, then protected control and data connections.
    pub tls: bool,
    /// With `tls`: the CA certificates to trust instead of the system's roots.
    pub cafile: Option<PathBuf>,
    /// How many times a failed attempt is retried.
    pub retries: u32,
    /// How long a connection, a reply or a write may take before the attempt fails.
    pub timeout: Duration,
}

/// Why `ftp.toml` or its password file was refused.
#[derive(Debug, thiserror::Error)]
pub enum FtpConfigError {
    /// There is no `ftp.toml`.
    #[error(
        "{} does not exist: write it with at least host, user and password_file (the README's clp_mlftp section shows one)",
        .0.display()
    )]
    Missing(PathBuf),
    /// The file could not be read.
    #[error("{}: cannot read: {source}", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The text is not TOML.
    #[error("{}: not valid TOML: {message}", file.display())]
    Syntax {
        /// The file.
        file: PathBuf,
        /// The parser's message, on one line.
        message: String,
    },
    /// Keys are unknown or values wrong; every problem is listed.
    #[error("{}", problems.iter().map(|p| format!("{}: {p}", file.display())).collect::<Vec<_>>().join("; "))]
    Invalid {
        /// The file.
        file: PathBuf,
        /// Every problem found.
        problems: Vec<String>,
    },
    /// The password file is missing, unreadable or readable by others.
    #[error("password file {}: {why}", path.display())]
    PasswordFile {
        /// The password file.
        path: PathBuf,
        /// What is wrong and what to do.
        why: String,
    },
}

impl FtpConfig {
    /// Reads and validates `file`; relative paths in it are resolved against `etc_dir`.
    pub fn load(file: &Path, etc_dir: &Path) -> Result<FtpConfig, FtpConfigError> {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(FtpConfigError::Missing(file.to_path_buf()));
            }
            Err(source) => {
                return Err(FtpConfigError::Read {
                    file: file.to_path_buf(),
                    source,
                });
            }
        };
        Self::parse(&text, etc_dir).map_err(|error| match error {
            ParseError::Syntax(message) => FtpConfigError::Syntax {
                file: file.to_path_buf(),
                message,
            },
            ParseError::Invalid(problems) => FtpConfigError::Invalid {
                file: file.to_path_buf(),
                problems,
            },
        })
    }

    /// Validates the text of an `ftp.toml`, collecting every problem.
    pub fn parse(text: &str, etc_dir: &Path) -> Result<FtpConfig, ParseError> {
        let table: toml::Table = text.parse().map_err(|error: toml::de::Error| {
            ParseError::Syntax(
                error
                    .to_string()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        })?;
        let mut reader = Reader {
            table: &table,
            problems: Vec::new(),
        };
        for key in table.keys() {
            if !KEYS.contains(&key.as_str()) {
                reader.problems.push(unknown_key_message(key, KEYS));
            }
        }
        let host = reader.required_text("host");
        let port = reader
            .integer("port", 1, i64::from(u16::MAX))
            .map_or(DEFAULT_PORT, |port| port as u16);
        let user = reader.required_text("user");
        let password_file = reader.required_text("password_file");
        let remote_dir = reader.text("remote_dir").unwrap_or_default();
        let passive = reader.boolean("passive").unwrap_or(true);
        let tls = reader.boolean("tls").unwrap_or(false);
        let cafile = reader.text("cafile");
        if cafile.is_some() && !tls {
            reader
                .problems
                .push("\"cafile\" is only used with tls = true".to_string());
        }
        let retries = reader
            .integer("retries", 0, 100)
            .map_or(DEFAULT_RETRIES, |n| n as u32);
        let timeout = reader
            .integer("timeout", 1, 3600)
            .map_or(DEFAULT_TIMEOUT_SECS, |n| n as u64);
        if !reader.problems.is_empty() {
            return Err(ParseError::Invalid(reader.problems));
        }
        Ok(FtpConfig {
            host,
            port,
            user,
            password_file: etc_dir.join(password_file),
            remote_dir,
            passive,
            tls,
            cafile: cafile.map(|cafile| etc_dir.join(cafile)),
            retries,
            timeout: Duration::from_secs(timeout),
        })
    }

    /// Reads the password from `password_file`, refused unless only its owner may read it.
    pub fn read_password(&self) -> Result<String, FtpConfigError> {
        read_password(&self.password_file)
    }

    /// `host:port`, for messages.
    pub fn server(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Why the text of an `ftp.toml` was refused (before the file's name is attached).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not TOML.
    Syntax(String),
    /// Every problem found.
    Invalid(Vec<String>),
}

/// Reads the password of `path`: the file's first line (a trailing newline is not part of
/// it). Refused when the file is not a regular file or when its group or others have any
/// permission on it (it must be 0600, or 0400).
pub fn read_password(path: &Path) -> Result<String, FtpConfigError> {
    let refuse = |why: String| FtpConfigError::PasswordFile {
        path: path.to_path_buf(),
        why,
    };
    let meta =
        std::fs::metadata(path).map_err(|error| refuse(format!("cannot read it: {error}")))?;
    if !meta.is_file() {
        return Err(refuse("not a regular file".to_string()));
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(refuse(format!(
            "mode {mode:04o} lets others read it; it must be 0600 (run 'chmod 600 {}')",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|error| refuse(format!("cannot read it: {error}")))?;
    let line = text.split('\n').next().unwrap_or_default();
    Ok(line.strip_suffix('\r').unwrap_or(line).to_string())
}

/// Takes typed values out of the table, recording a problem for each wrong one.
struct Reader<'a> {
    table: &'a toml::Table,
    problems: Vec<String>,
}

impl Reader<'_> {
    fn text(&mut self, key: &str) -> Option<String> {
        match self.table.get(key)? {
            // FTP commands are lines: a CR or LF would end one and start another.
            toml::Value::String(text) if text.contains(char::is_control) => {
                self.problems.push(format!(
                    "\"{key}\" holds a control character (\"{}\"): FTP commands are lines of text",
                    text.escape_debug()
                ));
                None
            }
            toml::Value::String(text) => Some(text.clone()),
            other => {
                self.problems
                    .push(format!("\"{key}\" must be a string, not {other}"));
                None
            }
        }
    }

    fn required_text(&mut self, key: &str) -> String {
        if !self.table.contains_key(key) {
            self.problems.push(format!("\"{key}\" is missing"));
            return String::new();
        }
        match self.text(key) {
            Some(text) if text.trim().is_empty() => {
                self.problems.push(format!("\"{key}\" is empty"));
                String::new()
            }
            Some(text) => text,
            None => String::new(),
        }
    }

    fn boolean(&mut self, key: &str) -> Option<bool> {
        match self.table.get(key)? {
            toml::Value::Boolean(value) => Some(*value),
            other => {
                self.problems
                    .push(format!("\"{key}\" must be true or false, not {other}"));
                None
            }
        }
    }

    fn integer(&mut self, key: &str, min: i64, max: i64) -> Option<i64> {
        match self.table.get(key)? {
            toml::Value::Integer(value) if (min..=max).contains(value) => Some(*value),
            other => {
                self.problems.push(format!(
                    "\"{key}\" must be a whole number from {min} to {max}, not {other}"
                ));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<FtpConfig, ParseError> {
        FtpConfig::parse(text, Path::new("/opt/clp/etc"))
    }

    #[test]
    fn defaults_and_relative_paths() {
        let config = parse("host = \"h\"\nuser = \"u\"\npassword_file = \"pw\"\n").unwrap();
        assert_eq!(config.port, 21);
        assert!(config.passive);
        assert!(!config.tls);
        assert_eq!(config.retries, 4);
        assert_eq!(config.remote_dir, "");
        assert_eq!(config.password_file, Path::new("/opt/clp/etc/pw"));
        let absolute = parse("host = \"h\"\nuser = \"u\"\npassword_file = \"/x/pw\"\n").unwrap();
        assert_eq!(absolute.password_file, Path::new("/x/pw"));
    }

    #[test]
    fn every_problem_is_listed_with_a_suggestion() {
        let Err(ParseError::Invalid(problems)) =
            parse("hots = \"h\"\nuser = 3\nport = 70000\npassword_file = \"pw\"\ncafile = \"c\"\n")
        else {
            panic!("refused")
        };
        assert_eq!(
            problems,
            [
                "unknown key \"hots\" (did you mean \"host\"?)",
                "\"host\" is missing",
                "\"port\" must be a whole number from 1 to 65535, not 70000",
                "\"user\" must be a string, not 3",
                "\"cafile\" is only used with tls = true",
            ]
        );
    }

    #[test]
    fn a_password_file_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "secret\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = read_password(&path).unwrap_err().to_string();
        assert!(
            error.contains("mode 0644 lets others read it; it must be 0600"),
            "{error}"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_password(&path).unwrap(), "secret");
    }

    #[test]
    fn control_characters_are_refused_in_every_text() {
        // Found by the fuzzer (fuzz/ ftp_mail): a user "clp\r\nDELE x" was accepted and
        // would have sent a second FTP command.
        for (key, value) in [
            ("user", "clp\\r\\nDELE x"),
            ("host", "h\\u0000"),
            ("remote_dir", "logs\\n"),
        ] {
            let mut keys = vec![
                ("host", "\"h\""),
                ("user", "\"u\""),
                ("password_file", "\"p\""),
            ];
            let quoted = format!("\"{value}\"");
            keys.retain(|(k, _)| *k != key);
            keys.push((key, &quoted));
            let text: String = keys.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
            let Err(ParseError::Invalid(problems)) = FtpConfig::parse(&text, Path::new("/etc"))
            else {
                panic!("{text} was accepted");
            };
            assert!(
                problems
                    .iter()
                    .any(|p| p.contains(key) && p.contains("control character")),
                "{problems:?}"
            );
        }
    }
}
