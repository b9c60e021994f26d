//! What every command shares: the error type with its exit code, argument parsing, the
//! connection to the daemon, and `main`.

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use clp_core::exit_code;
use clp_core::ipc::client::{Client, ClientError};
use clp_core::ipc::{ErrorCode, Request, Response};
use clp_core::paths::Paths;

/// The one line operators see on success.
pub const SUCCEEDED: &str = "Command succeeded.";

/// A command's failure: the message (one line: what failed, what to do) and the exit code.
#[derive(Debug)]
pub struct CliError {
    /// The message, printed after the command's name.
    pub message: String,
    /// The original's return value.
    pub code: u8,
}

impl CliError {
    /// An error with an explicit code.
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl From<ClientError> for CliError {
    fn from(error: ClientError) -> Self {
        let code = match &error {
            ClientError::NotRunning { .. } => exit_code::NOT_RUNNING,
            ClientError::PermissionDenied { .. } => exit_code::NOT_ROOT,
            ClientError::Refused { code, .. } => match code {
                ErrorCode::NotFound => exit_code::NOT_REGISTERED,
                ErrorCode::Suspended => exit_code::SUSPENDED,
                ErrorCode::Protocol => exit_code::INIT_ERROR,
                ErrorCode::PermissionDenied => exit_code::NOT_ROOT,
                ErrorCode::Stopping | ErrorCode::Failed => exit_code::OTHER,
                ErrorCode::AlreadyStarted => exit_code::ALREADY_RUNNING,
                ErrorCode::AlreadyStopped => exit_code::ALREADY_STOPPED,
            },
            ClientError::Timeout { .. } => exit_code::TIMEOUT,
            ClientError::Io { .. } | ClientError::Protocol { .. } => exit_code::OTHER,
        };
        CliError::new(code, error.to_string())
    }
}

impl From<std::io::Error> for CliError {
    fn from(error: std::io::Error) -> Self {
        CliError::new(exit_code::OTHER, error.to_string())
    }
}

/// Parses arguments; help and version are printed to `out` and end the command.
pub fn parse<T: Parser>(args: Vec<OsString>, out: &mut dyn Write) -> Result<Option<T>, CliError> {
    match T::try_parse_from(args) {
        Ok(parsed) => Ok(Some(parsed)),
        Err(error) => match error.kind() {
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                write!(out, "{}", error.render())?;
                Ok(None)
            }
            _ => {
                let text = error.render().to_string();
                let first = text
                    .lines()
                    .next()
                    .unwrap_or("bad arguments")
                    .trim_start_matches("error: ");
                Err(CliError::new(
                    exit_code::BAD_OPTION,
                    format!("{first} (see --help)"),
                ))
            }
        },
    }
}

/// The install root of this invocation.
pub fn paths() -> Paths {
    Paths::from_env()
}

/// Connects to the daemon of `paths`, greeting as `name`; a daemon that is starting (it
/// holds its lock but does not answer yet) is waited for, briefly.
pub fn connect(paths: &Paths, name: &str) -> Result<Client, CliError> {
    Ok(clp_core::service::connect_when_up(
        paths,
        name,
        Duration::from_secs(10),
    )?)
}

/// Sends one request that changes state and expects `Done`.
pub fn operate(paths: &Paths, name: &str, request: &Request) -> Result<(), CliError> {
    match connect(paths, name)?.request(request, None)? {
        Response::Done => Ok(()),
        other => Err(CliError::new(
            exit_code::OTHER,
            format!("clppm answered {other:?} where it should have confirmed"),
        )),
    }
}

/// Writes `Command succeeded.`.
pub fn succeeded(out: &mut dyn Write) -> Result<(), CliError> {
    writeln!(out, "{SUCCEEDED}")?;
    Ok(())
}

/// Seconds from a `-w` option.
pub fn seconds(value: Option<u64>, default: u64) -> Duration {
    Duration::from_secs(value.unwrap_or(default))
}

/// A command's `run` function.
pub type Run = fn(Vec<OsString>, &mut dyn Write) -> Result<(), CliError>;

/// The `main` of every command: answers a shell's completion request (`CLP_COMPLETE`), or
/// runs the command on stdout, prints an error to stderr as
/// `NAME: message`, exits with the error's code; a closed stdout (a pipe into `head`)
/// exits 0 quietly.
pub fn main(name: &str, run: Run) -> ExitCode {
    crate::complete::answer_if_asked(name);
    let args: Vec<OsString> = std::env::args_os().collect();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = run(args, &mut out).and_then(|()| out.flush().map_err(CliError::from));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.message.contains("Broken pipe") => ExitCode::SUCCESS,
        Err(error) => {
            let _ = out.flush();
            eprintln!("{name}: {}", clp_core::escape::escape_lines(&error.message));
            ExitCode::from(error.code)
        }
    }
}
