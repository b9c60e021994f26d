//! `clpcl`: start, stop, restart, suspend and resume the daemon, here, on another server of
//! the cluster (`-h HOST`, through etcd), or on every server (`-a`).

use std::ffi::OsString;
use std::io::Write;
use std::time::Duration;

use clap::{ArgGroup, Parser};
use clp_core::client::clppm_process::{self, ServiceError};
use clp_core::client::{self, Remote, RemoteError, Session};
use clp_core::ipc::{AfterStop, ErrorCode, Request};
use clp_core::paths::Paths;

use crate::cli::{self, CliError, Refusal};

/// Operate the cluster daemon.
#[derive(Debug, Parser)]
#[command(
    name = "clpcl",
    version,
    disable_help_flag = true,
    about = "Start, stop, restart, suspend or resume the clp daemon"
)]
#[command(group(ArgGroup::new("op").required(true).args(["start", "stop", "restart", "suspend", "resume"])))]
pub struct Args {
    /// Start the daemon.
    #[arg(short = 's')]
    start: bool,
    /// Stop the daemon: groups are stopped in reverse order.
    #[arg(short = 't')]
    stop: bool,
    /// Restart the daemon.
    #[arg(short = 'r')]
    restart: bool,
    /// Suspend: monitoring stops, resources keep running.
    #[arg(long)]
    suspend: bool,
    /// Resume after --suspend.
    #[arg(long)]
    resume: bool,
    /// Every server of the cluster, one line each (-s, -t, -r).
    #[arg(short = 'a')]
    all: bool,
    /// Seconds to wait for the start or stop to complete.
    #[arg(short = 'w', value_name = "SEC")]
    wait: Option<u64>,
    /// Suspend even if not every server is online (accepted; one server).
    #[arg(long, requires = "suspend")]
    force: bool,
    /// `-h HOST`, `--help`.
    #[command(flatten)]
    target: cli::HostArgs,
}

/// How long `clpcl -s -h OTHER` waits to learn whether that server's clppm runs.
const PROBE_WAIT: Duration = Duration::from_secs(10);

/// Runs `clpcl`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
    let paths = cli::paths();
    if args.all && (args.start || args.stop || args.restart) {
        return every_server(&args, &paths, out);
    }
    match args.target.remote()? {
        Some(remote) => there(&args, &paths, remote.as_ref())?,
        None => here(&args, &paths)?,
    }
    cli::succeeded(out)
}

/// `-a`: the operation on every server of the cluster in the configuration's order (this
/// one alone on a single server), one line each; a server that fails says why on its line,
/// and the command fails with the first failure's return value.
fn every_server(args: &Args, paths: &Paths, out: &mut dyn Write) -> Result<(), CliError> {
    let verb = if args.start {
        "Start"
    } else if args.stop {
        "Stop"
    } else {
        "Restart"
    };
    if args.target.host.is_none() && !is_cluster(paths) {
        // One server: as before the cluster layer, its line on success, the error alone.
        here(args, paths)?;
        let this = clp_core::config::host_name();
        writeln!(out, "{verb} {this} : {}", cli::SUCCEEDED)?;
        return Ok(());
    }
    let servers: Vec<String> = client::load_config(paths)?
        .servers
        .iter()
        .map(|server| server.name.clone())
        .collect();
    let mut failed: Vec<(String, u8)> = Vec::new();
    for server in &servers {
        let result = match cli::channel_to(server) {
            Ok(None) => here(args, paths).map_err(CliError::from),
            Ok(Some(channel)) => there(args, paths, &channel),
            Err(error) => Err(error),
        };
        match result {
            Ok(()) => writeln!(out, "{verb} {server} : {}", cli::SUCCEEDED)?,
            Err(error) => {
                let message = error.message().replace('\n', " ");
                writeln!(
                    out,
                    "{verb} {server} : {}",
                    clp_core::escape::escape(&message)
                )?;
                failed.push((server.clone(), error.code()));
            }
        }
    }
    match failed.first() {
        None => Ok(()),
        Some((_, code)) => {
            let names: Vec<&str> = failed.iter().map(|(name, _)| name.as_str()).collect();
            Err(CliError::from(Refusal::Failed(format!(
                "{} of {} servers failed: {}",
                failed.len(),
                servers.len(),
                names.join(", ")
            )))
            .with_code(*code))
        }
    }
}

/// Whether the configuration (when it loads) is an HA cluster.
fn is_cluster(paths: &Paths) -> bool {
    client::load_config(paths).is_ok_and(|config| config.is_cluster())
}

/// The operation on this server.
fn here(args: &Args, paths: &Paths) -> Result<(), client::Error> {
    let wait = cli::seconds(args.wait, 300);
    if args.start {
        clppm_process::start_detached(paths, &clppm_process::clppm_beside_me(), "clpcl", wait)
            .map_err(client::Error::Start)?;
    } else if args.stop {
        clppm_process::stop_and_wait(paths, "clpcl", AfterStop::Nothing, wait)
            .map_err(client::Error::Stop)?;
    } else if args.restart {
        match clppm_process::stop_and_wait(paths, "clpcl", AfterStop::Nothing, wait) {
            Ok(())
            | Err(ServiceError::Client(clp_core::ipc::client::ClientError::NotRunning {
                ..
            })) => {}
            Err(error) => return Err(client::Error::Stop(error)),
        }
        clppm_process::start_detached(paths, &clppm_process::clppm_beside_me(), "clpcl", wait)
            .map_err(client::Error::Start)?;
    } else if args.suspend {
        Session::new(paths, "clpcl").operate(&Request::Suspend)?;
    } else if args.resume {
        Session::new(paths, "clpcl").operate(&Request::Resume)?;
    }
    Ok(())
}

/// The operation on another server of the cluster, through etcd. Only a running clppm takes
/// requests there (clp opens no port of its own, and runs no agent beside a stopped clppm),
/// so starting one on another server is refused with what to do; a running one is said so.
fn there(args: &Args, paths: &Paths, remote: &dyn Remote) -> Result<(), CliError> {
    let server = remote.server();
    let session = Session::new(paths, "clpcl").through(Some(remote));
    if args.start {
        return match remote.ask("clpcl", &Request::STATUS, Some(PROBE_WAIT)) {
            Ok(_) => Err(RemoteError::Refused {
                server: server.to_string(),
                code: ErrorCode::AlreadyStarted,
                message: "clppm is already running".into(),
            }
            .into()),
            Err(RemoteError::Offline { .. }) => Err(Refusal::NotRunning(format!(
                "server {server} is not running (Offline in the cluster), and clp cannot start it from another server: only a running clppm takes requests through etcd; run 'clpcl -s' on {server}"
            ))
            .into()),
            Err(error) => Err(error.into()),
        };
    }
    if args.restart {
        return Err(Refusal::BadOption(format!(
            "clpcl -r cannot restart server {server} from here: it could stop clppm there but not start it again (only a running clppm takes requests through etcd); run 'clpcl -r' on {server}"
        ))
        .into());
    }
    let request = if args.stop {
        Request::StopDaemon {
            then: AfterStop::Nothing,
        }
    } else if args.suspend {
        Request::Suspend
    } else {
        Request::Resume
    };
    Ok(session.operate(&request)?)
}
