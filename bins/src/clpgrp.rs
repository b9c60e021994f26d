//! `clpgrp`: start, stop and move groups, and tell where a group is active.

use std::ffi::OsString;
use std::io::Write;

use clap::{ArgGroup, Parser};
use clp_core::client::{self, Session};
use clp_core::ipc::Request;
use clp_core::status::ObjectStatus;

use crate::cli::{self, CliError, Refusal};

/// Start, stop or move groups.
#[derive(Debug, Parser)]
#[command(
    name = "clpgrp",
    version,
    disable_help_flag = true,
    about = "Start, stop or move groups (all groups when none is named)"
)]
#[command(group(ArgGroup::new("op").required(true).args(["start", "stop", "move_group", "name"])))]
pub struct Args {
    /// Start GROUP (every group, in order, when omitted).
    #[arg(short = 's', value_name = "GROUP", num_args = 0..=1, default_missing_value = "")]
    start: Option<String>,
    /// Stop GROUP (every group, in reverse order, when omitted).
    #[arg(short = 't', value_name = "GROUP", num_args = 0..=1, default_missing_value = "")]
    stop: Option<String>,
    /// Move GROUP to another server of the cluster (every group that can move, when
    /// omitted).
    #[arg(short = 'm', value_name = "GROUP", num_args = 0..=1, default_missing_value = "")]
    move_group: Option<String>,
    /// The server -m moves to (default: the next server of the group's order that is
    /// Online).
    #[arg(short = 'a', value_name = "SERVER")]
    destination: Option<String>,
    /// Seconds -m waits for the group to be Online on its destination.
    #[arg(long = "apito", value_name = "SEC")]
    wait: Option<u64>,
    /// Print the server where GROUP is active.
    #[arg(short = 'n', value_name = "GROUP")]
    name: Option<String>,
    /// Force (accepted for scripts written for the original).
    #[arg(short = 'f')]
    force: bool,
    /// `-h HOST`, `--help`.
    #[command(flatten)]
    target: cli::HostArgs,
}

/// How long `-m` waits by default for a group to be Online on its destination (the
/// original's `--apito` default).
const MOVE_WAIT: u64 = 3600;

fn group(name: String) -> Option<String> {
    (!name.is_empty()).then_some(name)
}

/// Runs `clpgrp`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
    let remote = args.target.remote()?;
    if args.move_group.is_none() && (args.destination.is_some() || args.wait.is_some()) {
        return Err(Refusal::BadOption("-a and --apito go with -m (see --help)".into()).into());
    }
    let paths = cli::paths();
    let session = Session::new(&paths, "clpgrp").through(remote.as_deref());
    if let Some(name) = args.name {
        let status = session.status()?;
        let Some(found) = status.groups.iter().find(|g| g.name == name) else {
            return Err(Refusal::NotRegistered(format!(
                "group \"{name}\" is not in the configuration; 'clpstat' lists the groups"
            ))
            .into());
        };
        // In an HA cluster, `current` is the owner in etcd, on every server; on one
        // server, this server while the group is not Offline.
        let server = match found.status {
            ObjectStatus::Offline if status.ha.is_none() => "None".to_string(),
            _ => found.current.clone().unwrap_or_else(|| "None".into()),
        };
        writeln!(out, "{server}")?;
        return Ok(());
    }
    if let Some(name) = args.move_group {
        let config = client::load_config(&paths)?;
        if !config.is_cluster() {
            return Err(Refusal::BadOption(
                "-m moves a group to another server, and this configuration has one server (see --help)".into(),
            )
            .into());
        }
        // A move is an intent in etcd that any server may write: this server's clppm writes
        // it, whatever -h names (the command waits longer than a forwarded request lives).
        Session::new(&paths, "clpgrp").move_groups(
            group(name).as_deref(),
            args.destination.as_deref(),
            cli::seconds(args.wait, MOVE_WAIT),
        )?;
        return cli::succeeded(out);
    }
    let request = match (args.start, args.stop) {
        (Some(name), _) => Request::StartGroup { group: group(name) },
        (_, Some(name)) => Request::StopGroup { group: group(name) },
        (None, None) => return Ok(()),
    };
    session.operate(&request)?;
    cli::succeeded(out)
}
