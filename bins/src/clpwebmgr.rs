//! `clpwebmgr`: the WebManager, the browser view and operations on port 29003.
//! `clpwebmgr --foreground` serves in the foreground (for a systemd unit); plain
//! `clpwebmgr` starts it detached and returns once it listens; `--stop` ends it;
//! `--set-password` sets the operation or reference password.

use std::ffi::OsString;
use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::time::Duration;

use clap::{ArgGroup, Parser};
use clp_core::webmgr_launch;
use clp_webmgr::passwords::{self, PasswordKind};

use crate::cli::{self, CliError, Refusal};

/// The WebManager.
#[derive(Debug, Parser)]
#[command(
    name = "clpwebmgr",
    version,
    about = "The WebManager: status, alert log and operations in a browser (port 29003)"
)]
#[command(group(ArgGroup::new("mode").args(["foreground", "stop", "set_password", "clear_password"])))]
pub struct Args {
    /// Serve in the foreground (logs also to stderr); without it clpwebmgr detaches.
    #[arg(long)]
    foreground: bool,
    /// Stop the running clpwebmgr.
    #[arg(long)]
    stop: bool,
    /// Listen on ADDR (host:port) instead of [webmanager] listen.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Set the operation or the reference password ("-": read it from standard input).
    #[arg(long, num_args = 2, value_names = ["KIND", "PASSWORD"])]
    set_password: Option<Vec<String>>,
    /// Remove the operation or the reference password.
    #[arg(long, value_name = "KIND")]
    clear_password: Option<String>,
    /// Started by a command that waits for it: stop writing to stderr once ready.
    #[arg(long, hide = true)]
    detached: bool,
}

fn kind(word: &str) -> Result<PasswordKind, CliError> {
    PasswordKind::parse(word)
        .ok_or_else(|| {
            Refusal::BadOption(format!(
                "password kind \"{word}\" is not operation or reference"
            ))
        })
        .map_err(CliError::from)
}

/// Runs `clpwebmgr`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
    let paths = cli::paths();
    if let Some(values) = &args.set_password {
        let (Some(word), Some(given)) = (values.first(), values.get(1)) else {
            return Err(
                Refusal::BadOption("--set-password needs KIND and PASSWORD".to_string()).into(),
            );
        };
        let kind = kind(word)?;
        let password = if given == "-" {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_string()
        } else {
            given.clone()
        };
        if password.is_empty() {
            return Err(Refusal::BadOption(format!(
                "the {} password may not be empty; remove it with --clear-password {}",
                kind.as_str(),
                kind.as_str()
            ))
            .into());
        }
        passwords::store(&paths.webmgr_passwords(), kind, Some(&password))
            .map_err(|error| Refusal::Failed(error.to_string()))?;
        return cli::succeeded(out);
    }
    if let Some(word) = &args.clear_password {
        passwords::store(&paths.webmgr_passwords(), kind(word)?, None)
            .map_err(|error| Refusal::Failed(error.to_string()))?;
        return cli::succeeded(out);
    }
    if args.stop {
        webmgr_launch::stop(&paths, Duration::from_secs(30))?;
        return cli::succeeded(out);
    }
    if !args.foreground {
        let (pid, address) = webmgr_launch::start_detached(
            &paths,
            &webmgr_launch::clpwebmgr_beside_me(),
            args.listen,
            Duration::from_secs(30),
        )?;
        writeln!(
            out,
            "clpwebmgr started (pid {pid}), listening on {address}."
        )?;
        return Ok(());
    }
    let _log =
        clp_core::logging::init_logging(&paths.webmgr_log(), !args.detached).map_err(|error| {
            Refusal::InitFailed(format!(
                "cannot open {}: {error}",
                paths.webmgr_log().display()
            ))
        })?;
    let prepared = clp_webmgr::prepare(&paths, args.listen).map_err(|error| {
        tracing::error!("{error}");
        CliError::from(error)
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| Refusal::InitFailed(format!("cannot start the runtime: {error}")))?;
    if args.detached {
        clp_core::startup_output::silence_stdio();
    }
    runtime
        .block_on(prepared.run())
        .map_err(|error| Refusal::Failed(error.to_string()).into())
}
