//! `clprsc`: start and stop a single group resource.

use std::ffi::OsString;
use std::io::Write;

use clap::{ArgGroup, Parser};
use clp_core::client::Session;
use clp_core::ipc::Request;

use crate::cli::{self, CliError, Refusal};

/// Start or stop one resource.
#[derive(Debug, Parser)]
#[command(
    name = "clprsc",
    version,
    disable_help_flag = true,
    about = "Start or stop a single group resource"
)]
#[command(group(ArgGroup::new("op").required(true).args(["start", "stop", "name"])))]
pub struct Args {
    /// Start RESOURCE.
    #[arg(short = 's', value_name = "RESOURCE")]
    start: Option<String>,
    /// Stop RESOURCE.
    #[arg(short = 't', value_name = "RESOURCE")]
    stop: Option<String>,
    /// Print the server where RESOURCE is active.
    #[arg(short = 'n', value_name = "RESOURCE")]
    name: Option<String>,
    /// Force (accepted for scripts written for the original).
    #[arg(short = 'f')]
    force: bool,
    /// `-h HOST`, `--help`.
    #[command(flatten)]
    target: cli::HostArgs,
}

/// Runs `clprsc`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
    let remote = args.target.remote()?;
    let paths = cli::paths();
    let session = Session::new(&paths, "clprsc").through(remote.as_deref());
    if let Some(name) = args.name {
        let status = session.status()?;
        let found = status
            .groups
            .iter()
            .flat_map(|g| g.resources.iter().map(move |r| (g, r)))
            .find(|(_, r)| r.name == name);
        let Some((_, resource)) = found else {
            return Err(Refusal::NotRegistered(format!(
                "resource \"{name}\" is not in the configuration; 'clpstat' lists the resources"
            ))
            .into());
        };
        let server = if resource.status == clp_core::status::ObjectStatus::Online {
            status.server.name.clone()
        } else {
            "None".to_string()
        };
        writeln!(out, "{server}")?;
        return Ok(());
    }
    let request = match (args.start, args.stop) {
        (Some(resource), _) => Request::StartResource { resource },
        (_, Some(resource)) => Request::StopResource { resource },
        (None, None) => return Ok(()),
    };
    session.operate(&request)?;
    cli::succeeded(out)
}
