//! `clpstat`: the status and the configuration, in the original's layouts or as JSON.

use std::ffi::OsString;
use std::io::Write;

use clap::Parser;
use clp_core::client::{self, CompactStatus, Session, StatusJson};
use clp_core::config;
use clp_core::ipc::client::ClientError;
use clp_core::ipc::pretty::Pretty;

use crate::cli::{self, CliError, Refusal};
use crate::render::{self, InfoScope};

/// Show the status or the configuration.
#[derive(Debug, Parser)]
#[command(
    name = "clpstat",
    version,
    disable_help_flag = true,
    about = "Show the cluster status (default) or its configuration"
)]
pub struct Args {
    /// The status summary (the default).
    #[arg(short = 's')]
    summary: bool,
    /// Wide name columns, never cut.
    #[arg(long)]
    long: bool,
    /// The group map.
    #[arg(short = 'g', conflicts_with_all = ["monitors", "info"])]
    groups: bool,
    /// The monitor status map.
    #[arg(short = 'm', conflicts_with = "info")]
    monitors: bool,
    /// The heartbeat matrix: what each server sees of every server's heartbeat.
    #[arg(short = 'n', conflicts_with_all = ["groups", "monitors", "info"])]
    heartbeats: bool,
    /// The configuration of everything.
    #[arg(short = 'i')]
    info: bool,
    /// The cluster's configuration.
    #[arg(long = "cl")]
    cluster: bool,
    /// A server's configuration.
    #[arg(long = "sv", value_name = "SERVER", num_args = 0..=1, default_missing_value = "")]
    server: Option<String>,
    /// A heartbeat's configuration.
    #[arg(long = "hb", value_name = "HB", num_args = 0..=1, default_missing_value = "")]
    heartbeat: Option<String>,
    /// A group's configuration.
    #[arg(long = "grp", value_name = "GROUP", num_args = 0..=1, default_missing_value = "")]
    group: Option<String>,
    /// A resource's configuration.
    #[arg(long = "rsc", value_name = "RESOURCE", num_args = 0..=1, default_missing_value = "")]
    resource: Option<String>,
    /// A monitor's configuration.
    #[arg(long = "mon", value_name = "MONITOR", num_args = 0..=1, default_missing_value = "")]
    monitor: Option<String>,
    /// Every parameter (with -i and the object options).
    #[arg(long)]
    detail: bool,
    /// JSON instead of the text layout.
    #[arg(long)]
    json: bool,
    /// `-h HOST`, `--help`.
    #[command(flatten)]
    target: cli::HostArgs,
}

/// Writes `value` as pretty JSON and a newline, straight to `out` through a buffer: at
/// 1,000 monitors the text is ~0.7 MB, which need not be built in memory first.
fn write_json(out: &mut dyn Write, value: &impl serde::Serialize) -> Result<(), CliError> {
    let mut buffered = std::io::BufWriter::with_capacity(64 << 10, out);
    serde_json::to_writer_pretty(&mut buffered, value)?;
    buffered.write_all(b"\n")?;
    buffered.flush()?;
    Ok(())
}

/// Writes the daemon's compact status JSON as [`write_json`] would write the decoded status
/// (byte for byte), without decoding it.
fn write_compact_json(out: &mut dyn Write, status: &CompactStatus) -> Result<(), CliError> {
    // A damaged answer is the daemon's fault, not stdout's: said so.
    let damaged = |error: std::io::Error| -> CliError {
        if error.kind() == std::io::ErrorKind::InvalidData {
            ClientError::Protocol {
                message: format!("its status is not whole JSON: {error}"),
            }
            .into()
        } else {
            error.into()
        }
    };
    let mut pretty = Pretty::new(out);
    for part in status.parts() {
        pretty.feed(part).map_err(damaged)?;
    }
    pretty.finish().map_err(damaged)?.write_all(b"\n")?;
    Ok(())
}

/// Runs `clpstat`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
    let remote = args.target.remote()?;
    let paths = cli::paths();
    let object = [
        (args.server.as_ref(), InfoScope::Server),
        (args.heartbeat.as_ref(), InfoScope::Heartbeat),
        (args.group.as_ref(), InfoScope::Group),
        (args.resource.as_ref(), InfoScope::Resource),
        (args.monitor.as_ref(), InfoScope::Monitor),
    ]
    .into_iter()
    .find_map(|(name, scope)| name.map(|n| (scope, (!n.is_empty()).then_some(n.as_str()))));
    let scope = match (args.info, args.cluster, object) {
        (_, _, Some((scope, name))) => Some((scope, name)),
        (_, true, None) => Some((InfoScope::Cluster, None)),
        (true, false, None) => Some((InfoScope::All, None)),
        (false, false, None) => None,
    };
    if let Some((scope, name)) = scope {
        let config = client::load_config(&paths)?;
        check_named(&config, scope, name)?;
        if args.json {
            return write_json(out, &config);
        }
        // Names from the configuration reach the terminal: escaped.
        let text = render::configuration(&config, scope, name, args.detail);
        out.write_all(clp_core::escape::escape_lines(&text).as_bytes())?;
        return Ok(());
    }
    let session = Session::new(&paths, "clpstat").through(remote.as_deref());
    if args.heartbeats {
        let matrix = render::heartbeat_matrix(&session.status_summary()?.summary()?);
        if args.json {
            return write_json(out, &matrix);
        }
        let text = render::heartbeat_map(&matrix);
        out.write_all(clp_core::escape::escape_lines(&text).as_bytes())?;
        return Ok(());
    }
    if args.json {
        return match session.status_json()? {
            StatusJson::Pretty(text) => Ok(out.write_all(&text)?),
            StatusJson::Compact(status) => write_compact_json(out, &status),
            StatusJson::Decoded(status) => write_json(out, &status),
        };
    }
    // The text layouts show names and states, not counters: the summary is enough.
    // (Read borrowing from the daemon's answer: no string copied per name.)
    let answer = session.status_summary()?;
    let status = answer.summary()?;
    let text = if args.groups {
        render::group_map(&status)
    } else if args.monitors {
        render::monitor_map(&status)
    } else {
        render::cluster_status(&status, args.long)
    };
    out.write_all(clp_core::escape::escape_lines(&text).as_bytes())?;
    Ok(())
}

fn check_named(
    config: &config::Config,
    scope: InfoScope,
    name: Option<&str>,
) -> Result<(), CliError> {
    let Some(name) = name else {
        return Ok(());
    };
    let found = match scope {
        InfoScope::Server => config::same_host(name, &config.server_name()),
        InfoScope::Heartbeat => name == "lanhb1",
        InfoScope::Group => config.group(name).is_some(),
        InfoScope::Resource => config.resource(name).is_some(),
        InfoScope::Monitor => config.monitor(name).is_some(),
        InfoScope::All | InfoScope::Cluster => true,
    };
    if found {
        Ok(())
    } else {
        Err(Refusal::NotRegistered(format!(
            "\"{name}\" is not in the configuration; 'clpstat -i' lists everything"
        ))
        .into())
    }
}
