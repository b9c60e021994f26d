//! What every command shares: the error type with its exit code, argument parsing, `-h HOST`,
//! and `main`. Talking to the daemon (or to the store while it is down) is
//! [`clp_core::client`]'s job.

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use clp_cluster::Channel;
use clp_core::client::{Remote, Session};
use clp_core::exit_code::{self, Coded};
use clp_core::ipc::Request;
use clp_core::paths::Paths;

/// The one line operators see on success.
pub const SUCCEEDED: &str = "Command succeeded.";

/// A command's failure: an error that knows its own exit code ([`Coded`], as uutils'
/// `UError`). Only [`main`] turns it into text and a return value.
#[derive(Debug)]
pub struct CliError {
    error: Box<dyn Coded>,
    every_line_named: bool,
}

impl CliError {
    /// The original's return value for this failure.
    pub fn code(&self) -> u8 {
        self.error.code()
    }

    /// The error's text, without the command's name.
    pub fn message(&self) -> String {
        self.error.to_string()
    }

    /// This error with the command's name before every line of its text (a list of
    /// problems, one a line), not only the first.
    pub fn every_line_named(mut self) -> Self {
        self.every_line_named = true;
        self
    }

    /// This error under another return value, for a command whose own table of return
    /// values differs from the common one (clphealthchk: an invalid option is 4, not 2).
    pub fn with_code(self, code: u8) -> Self {
        Self {
            error: Box::new(Recoded {
                error: self.error,
                code,
            }),
            every_line_named: self.every_line_named,
        }
    }

    /// The text `main` prints on stderr for the command `name`.
    fn text(&self, name: &str) -> String {
        let message = self.error.to_string();
        if self.every_line_named {
            message
                .lines()
                .collect::<Vec<_>>()
                .join(&format!("\n{name}: "))
        } else {
            message
        }
    }
}

/// An error whose command gives it another return value ([`CliError::with_code`]).
#[derive(Debug)]
struct Recoded {
    error: Box<dyn Coded>,
    code: u8,
}

impl std::fmt::Display for Recoded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for Recoded {}

impl Coded for Recoded {
    fn code(&self) -> u8 {
        self.code
    }
}

/// Every error that knows its exit code is a command's failure (`?` does the rest).
impl<E: Coded + 'static> From<E> for CliError {
    fn from(error: E) -> Self {
        Self {
            error: Box::new(error),
            every_line_named: false,
        }
    }
}

/// What a command finds wrong by itself (its arguments, its surroundings), named by the
/// original's return value; failures of the work itself come from `clp-core` and carry their
/// own code.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// A bad option or argument.
    #[error("{0}")]
    BadOption(String),
    /// The configuration lacks what the command needs.
    #[error("{0}")]
    BadConfig(String),
    /// A file, folder or runtime the command needs could not be set up.
    #[error("{0}")]
    InitFailed(String),
    /// The named group or resource is not in the configuration.
    #[error("{0}")]
    NotRegistered(String),
    /// The daemon is not running and the action needs it.
    #[error("{0}")]
    NotRunning(String),
    /// Anything else.
    #[error("{0}")]
    Failed(String),
}

impl Coded for Refusal {
    fn code(&self) -> u8 {
        match self {
            Refusal::BadOption(_) => exit_code::BAD_OPTION,
            Refusal::BadConfig(_) => exit_code::BAD_CONFIG,
            Refusal::InitFailed(_) => exit_code::INIT_ERROR,
            Refusal::NotRegistered(_) => exit_code::NOT_REGISTERED,
            Refusal::NotRunning(_) => exit_code::NOT_RUNNING,
            Refusal::Failed(_) => exit_code::OTHER,
        }
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
            _ => Err(Refusal::BadOption(format!(
                "{} (see --help)",
                one_line(&error.render().to_string())
            ))
            .into()),
        },
    }
}

/// clap's error text as one line: its first paragraph (the message and the lines that
/// continue it, such as the missing arguments), without the usage and tips that follow.
fn one_line(text: &str) -> String {
    let mut lines = text
        .lines()
        .map(str::trim)
        .take_while(|line| !line.is_empty() && !line.starts_with("Usage:"));
    let first = lines
        .next()
        .unwrap_or("bad arguments")
        .trim_start_matches("error: ")
        .to_string();
    let rest: Vec<&str> = lines.collect();
    if rest.is_empty() {
        first
    } else {
        format!("{first} {}", rest.join(", "))
    }
}

/// `-h HOST` and `--help` of the commands that talk to a server. The original's commands
/// take `-h <hostname>` (the server to send the request to), so help is `--help` only: a
/// command flattening this sets `disable_help_flag = true`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct HostArgs {
    /// The server to ask: this one, or another server of an HA cluster (through etcd).
    #[arg(short = 'h', value_name = "HOST")]
    pub host: Option<String>,
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
}

impl HostArgs {
    /// Where the requests go: `None` for this server (no `-h`, or one naming this server);
    /// in an HA cluster, the channel through etcd to the other server `-h` names. A name
    /// that is no server of the cluster (or, on one server, not this one) is refused.
    pub fn remote(&self) -> Result<Option<Box<dyn Remote>>, CliError> {
        Ok(self
            .channel()?
            .map(|channel| Box::new(channel) as Box<dyn Remote>))
    }

    /// Ok when the requests stay on this server; a command that works on this server's own
    /// files or processes refuses another server, saying `why` and where to run it.
    pub fn local_only(&self, why: &str) -> Result<(), CliError> {
        match self.channel()? {
            None => Ok(()),
            Some(channel) => Err(Refusal::BadOption(format!(
                "{why}; run it on server {} itself",
                channel.server
            ))
            .into()),
        }
    }

    /// The channel to the other server `-h` names, if it names one.
    pub fn channel(&self) -> Result<Option<Channel>, CliError> {
        match &self.host {
            None => Ok(None),
            Some(name) => channel_to(name),
        }
    }
}

/// The channel to the server `name` when it is another server of this HA cluster; `None`
/// when it is this server; refused when it is no server of the cluster (or, on one server,
/// not this one).
pub fn channel_to(name: &str) -> Result<Option<Channel>, CliError> {
    if clp_core::local_server::is_local_server(name) {
        return Ok(None);
    }
    let config = clp_core::client::load_config(&paths())?;
    if !config.is_cluster() {
        return Err(Refusal::BadOption(
            clp_core::local_server::NotThisServer {
                name: name.to_string(),
                this: clp_core::config::host_name(),
            }
            .to_string(),
        )
        .into());
    }
    Ok(clp_cluster::requests::route(&config, name)?)
}

/// The install root of this invocation.
pub fn paths() -> Paths {
    Paths::from_env()
}

/// Sends one request that changes state and expects `Done` ([`Session::operate`]).
pub fn operate(paths: &Paths, name: &str, request: &Request) -> Result<(), CliError> {
    Ok(Session::new(paths, name).operate(request)?)
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

/// The `main` of every command (`A`: its arguments' definition): answers a shell's completion
/// request (`CLP_COMPLETE`), or runs the command on stdout, prints an error to stderr as
/// `NAME: message`, exits with the error's code; a closed stdout (a pipe into `head`) exits
/// 0 quietly.
pub fn main<A: clap::CommandFactory>(name: &'static str, run: Run) -> ExitCode {
    crate::complete::answer_if_asked(|| {
        // One definition serves two names (clplcncs, clplcnsc): the binary's name wins.
        let command = A::command();
        if command.get_name() == name {
            command
        } else {
            command.name(name).bin_name(name)
        }
    });
    let args: Vec<OsString> = std::env::args_os().collect();
    let stdout = std::io::stdout();
    let mut out = Stdout {
        inner: stdout.lock(),
        closed: false,
    };
    let result = run(args, &mut out).and_then(|()| out.flush().map_err(CliError::from));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // Only a reader that went away (`| head`) ends quietly; a broken pipe anywhere else
        // (the daemon's socket) is a failure like any other.
        Err(_) if out.closed => ExitCode::SUCCESS,
        Err(error) => {
            let _ = out.flush();
            eprintln!(
                "{name}: {}",
                clp_core::escape::escape_lines(&error.text(name))
            );
            ExitCode::from(error.code())
        }
    }
}

/// The command's standard output, remembering whether its reader went away.
struct Stdout<W: Write> {
    inner: W,
    closed: bool,
}

impl<W: Write> Stdout<W> {
    fn note<T>(&mut self, result: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(error) = &result
            && error.kind() == std::io::ErrorKind::BrokenPipe
        {
            self.closed = true;
        }
        result
    }
}

impl<W: Write> Write for Stdout<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let result = self.inner.write(buf);
        self.note(result)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let result = self.inner.flush();
        self.note(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clap_error_becomes_one_line_naming_what_is_missing() {
        let text = "error: the following required arguments were not provided:\n  -x <DIR>\n  -o <DST>\n\nUsage: clpcfctrl --convert -x <DIR> -o <DST>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line(text),
            "the following required arguments were not provided: -x <DIR>, -o <DST>"
        );
        let text = "error: unexpected argument '--foo' found\n\n  tip: to pass '--foo' as a value, use '-- --foo'\n\nUsage: clpstat [OPTIONS]\n";
        assert_eq!(one_line(text), "unexpected argument '--foo' found");
        assert_eq!(one_line(""), "bad arguments");
    }

    #[test]
    fn an_error_brings_its_own_code_and_main_names_every_line_when_asked() {
        let error = CliError::from(clp_core::client::config_push::CfctrlError::NotRunning);
        assert_eq!(error.code(), exit_code::NOT_RUNNING);
        let error = CliError::from(Refusal::BadConfig("one\ntwo".to_string()));
        assert_eq!(error.code(), exit_code::BAD_CONFIG);
        assert_eq!(error.text("clpcfctrl"), "one\ntwo");
        assert_eq!(
            error.every_line_named().text("clpcfctrl"),
            "one\nclpcfctrl: two"
        );
        let error = CliError::from(std::io::Error::other("disk"));
        assert_eq!(
            (error.code(), error.text("x")),
            (exit_code::OTHER, "disk".into())
        );
    }

    #[test]
    fn only_a_broken_pipe_on_stdout_counts_as_a_closed_reader() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut out = Stdout {
            inner: Vec::new(),
            closed: false,
        };
        // Another writer's broken pipe (the daemon's socket) leaves stdout open.
        let _ = out.note(Err::<(), _>(std::io::Error::other("socket")));
        assert!(!out.closed);
        writeln!(out, "fine").unwrap();
        assert!(!out.closed);
        let mut out = Stdout {
            inner: Closed,
            closed: false,
        };
        assert!(writeln!(out, "gone").is_err());
        assert!(out.closed);
    }
}
