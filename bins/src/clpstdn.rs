//! `clpstdn`: stop the cluster and shut down (or reboot) every server (the others asked
//! through etcd); on a single server, the same as `clpdown`.

use std::ffi::OsString;
use std::io::Write;

use clap::Parser;
use clp_cluster::Channel;
use clp_core::client::{self, Session};
use clp_core::ipc::{AfterStop, Request};
use clp_core::paths::Paths;

use crate::cli::{self, CliError, Refusal};

/// Stop the cluster and shut down or reboot its servers.
#[derive(Debug, Parser)]
#[command(
    name = "clpstdn",
    version,
    disable_help_flag = true,
    about = "Stop the cluster, then shut down (or reboot) its servers"
)]
pub struct Args {
    /// Reboot instead of shutting down.
    #[arg(short = 'r')]
    reboot: bool,
    /// `-h HOST`, `--help`.
    #[command(flatten)]
    target: cli::HostArgs,
}

/// Runs `clpstdn`: in an HA cluster, every other server's clppm (through etcd) stops its
/// groups and shuts its OS down, then this one; `-h` may name any server of the cluster,
/// which changes nothing (the whole cluster goes down either way).
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
    let paths = cli::paths();
    args.target.channel()?;
    let then = if args.reboot {
        AfterStop::Reboot
    } else {
        AfterStop::Shutdown
    };
    let mut failed = Vec::new();
    for channel in other_servers(&paths)? {
        let asked = Session::new(&paths, "clpstdn")
            .through(Some(&channel))
            .operate(&Request::StopDaemon { then });
        // One server that cannot be asked does not hold the others' shutdown back.
        if let Err(error) = asked {
            eprintln!("clpstdn: {error}");
            failed.push(channel.server.clone());
        }
    }
    client::down(&paths, args.reboot, "clpstdn", &mut |warning| {
        eprintln!("{warning}")
    })?;
    if !failed.is_empty() {
        return Err(Refusal::Failed(format!(
            "server {} did not shut down (see above); this one did",
            failed.join(", ")
        ))
        .into());
    }
    cli::succeeded(out)
}

/// The channels to the cluster's other servers (none on one server).
fn other_servers(paths: &Paths) -> Result<Vec<Channel>, CliError> {
    let Ok(config) = client::load_config(paths) else {
        // A broken configuration: this server still goes down, as on one server.
        return Ok(Vec::new());
    };
    if !config.is_cluster() {
        return Ok(Vec::new());
    }
    let mut channels = Vec::new();
    for server in &config.servers {
        if let Some(channel) = cli::channel_to(&server.name)? {
            channels.push(channel);
        }
    }
    Ok(channels)
}
