//! `clplogcmd`: write a message to the alert log and/or syslog, from a script.

use std::ffi::OsString;
use std::io::Write;

use clap::Parser;
use clp_core::alert::{AlertEvent, Level};
use clp_core::alert_sink::{AlertSink, LogTargets};
use clp_core::client::Session;
use clp_core::ipc::Request;

use crate::cli::{self, CliError, Refusal};

/// The syslog socket `--syslog` needs (`CLP_SYSLOG_SOCKET` overrides it, for tests).
fn syslog_socket() -> std::path::PathBuf {
    std::env::var_os("CLP_SYSLOG_SOCKET")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from("/dev/log"))
}

/// The longest message the original accepts.
const MAX_MESSAGE: usize = 511;

/// Write a message to the alert log or syslog.
#[derive(Debug, Parser)]
#[command(
    name = "clplogcmd",
    version,
    about = "Write a message to the alert log and/or syslog"
)]
pub struct Args {
    /// The message (at most 511 bytes).
    #[arg(short = 'm', value_name = "MESSAGE")]
    message: String,
    /// The level: INFO, WARN or ERR.
    #[arg(short = 'l', value_name = "LEVEL", default_value = "INFO")]
    level: String,
    /// The event id.
    #[arg(short = 'i', value_name = "ID", default_value_t = 1)]
    event_id: u32,
    /// Write to the alert log.
    #[arg(long)]
    alert: bool,
    /// Write to syslog.
    #[arg(long)]
    syslog: bool,
    /// Mail the message through the alert service ([mail] in clp.conf).
    #[arg(long)]
    mail: bool,
    /// Send an SNMP trap (accepted; not supported).
    #[arg(long)]
    trap: bool,
}

/// Runs `clplogcmd`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
    let Some(level) = Level::parse(&args.level) else {
        return Err(Refusal::BadOption(format!(
            "level \"{}\" is not INFO, WARN or ERR",
            args.level
        ))
        .into());
    };
    if args.message.len() > MAX_MESSAGE {
        return Err(Refusal::BadOption(format!(
            "the message is {} bytes; the limit is {MAX_MESSAGE}",
            args.message.len()
        ))
        .into());
    }
    if args.message.trim().is_empty() {
        return Err(Refusal::BadOption(
            "the message is empty: give the text to log with -m MESSAGE".to_string(),
        )
        .into());
    }
    let paths = cli::paths();
    if args.mail {
        let config = clp_core::client::load_config(&paths)?;
        if config.mail.is_none() {
            return Err(Refusal::BadConfig(format!(
                    "--mail needs a [mail] section in {} (the server and the addresses to mail); add one or leave out --mail",
                    paths.config_file().display()
                )).into());
        }
    }
    if args.syslog {
        let socket = syslog_socket();
        if !socket.exists() {
            return Err(Refusal::InitFailed(format!(
                    "--syslog: there is no syslog socket {}; start a syslog daemon (rsyslog or systemd-journald) or leave out --syslog",
                    socket.display()
                )).into());
        }
    }
    let (alert, syslog) = if !args.alert && !args.syslog && !args.mail {
        (true, true)
    } else {
        (args.alert, args.syslog)
    };
    let request = Request::LogMessage {
        message: args.message.clone(),
        level,
        event_id: args.event_id,
        alert,
        syslog,
        mail: args.mail,
    };
    match Session::new(&paths, "clplogcmd").operate(&request) {
        Ok(()) => Ok(()),
        Err(error) if error.is_not_running() => {
            // The daemon is down: the store is free to open, briefly.
            let config = clp_core::client::load_config(&paths)?;
            let sink = AlertSink::offline(&config, &paths);
            let event =
                AlertEvent::custom(sink.server(), "logcmd", args.event_id, level, &args.message);
            let targets = LogTargets {
                alert,
                syslog,
                mail: false,
            };
            let delivery = sink.log_message(event, targets);
            if let Some(error) = delivery.not_stored {
                return Err(error.into());
            }
            if let Some(error) = delivery.not_written {
                return Err(error.into());
            }
            if args.mail {
                return Err(Refusal::NotRunning("--mail: clppm is not running, and its alert service sends the mail; start it with 'clpcl -s' (the message was logged, not mailed)".to_string()).into());
            }
            Ok(())
        }
        Err(error) => Err(error.into()),
    }
}
