//! `clpgrp`: start and stop groups.

use std::ffi::OsString;
use std::io::Write;

use clap::{ArgGroup, Parser};
use clp_core::client::Session;
use clp_core::ipc::Request;
use clp_core::status::ObjectStatus;

use crate::cli::{self, CliError, Refusal};

/// Start or stop groups.
#[derive(Debug, Parser)]
#[command(
    name = "clpgrp",
    version,
    disable_help_flag = true,
    about = "Start or stop groups (all groups when none is named)"
)]
#[command(group(ArgGroup::new("op").required(true).args(["start", "stop", "name"])))]
pub struct Args {
    /// Start GROUP (every group, in order, when omitted).
    #[arg(short = 's', value_name = "GROUP", num_args = 0..=1, default_missing_value = "")]
    start: Option<String>,
    /// Stop GROUP (every group, in reverse order, when omitted).
    #[arg(short = 't', value_name = "GROUP", num_args = 0..=1, default_missing_value = "")]
    stop: Option<String>,
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

fn group(name: String) -> Option<String> {
    (!name.is_empty()).then_some(name)
}

/// Runs `clpgrp`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
    let remote = args.target.remote()?;
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
        let server = match found.status {
            ObjectStatus::Offline => "None".to_string(),
            _ => found.current.clone().unwrap_or_else(|| "None".into()),
        };
        writeln!(out, "{server}")?;
        return Ok(());
    }
    let request = match (args.start, args.stop) {
        (Some(name), _) => Request::StartGroup { group: group(name) },
        (_, Some(name)) => Request::StopGroup { group: group(name) },
        (None, None) => return Ok(()),
    };
    session.operate(&request)?;
    cli::succeeded(out)
}
