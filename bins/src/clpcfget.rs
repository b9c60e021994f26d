//! `clpcfget`: read the configuration by the original's paths: `-g PATH` prints the value,
//! `-e PATH` the names of the elements under it, one a line (as scripts written for the
//! original read them); `--json` prints either as JSON.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use clap::Parser;
use clp_core::client::configure;

use crate::cli::{self, CliError};

/// Read the configuration by the original's paths.
#[derive(Debug, Parser)]
#[command(
    name = "clpcfget",
    version,
    disable_help_flag = true,
    about = "Read the configuration by the original's clp.conf paths (/root/cluster/name, /root/monitor/types, ...)"
)]
pub struct Args {
    /// Print the value at PATH (e.g. /root/monitor/genw@genw1/polling/interval).
    #[arg(
        short = 'g',
        value_name = "PATH",
        conflicts_with = "elements",
        required_unless_present = "elements"
    )]
    get: Option<String>,
    /// Print the names of the elements at PATH, one a line (e.g. /root/monitor/types).
    #[arg(short = 'e', value_name = "PATH")]
    elements: Option<String>,
    /// Read DIR/clp.conf (as clpcfset builds it) instead of the active configuration.
    #[arg(short = 'x', value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Print the answer as JSON (a string, or an array of names).
    #[arg(long)]
    json: bool,
    /// `-h HOST`, `--help`.
    #[command(flatten)]
    target: cli::HostArgs,
}

/// Runs `clpcfget`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
    args.target
        .local_only("clpcfget reads the configuration file of the server it runs on")?;
    let paths = cli::paths();
    let model = configure::original_model(&paths, args.dir.as_deref())?;
    if let Some(path) = &args.get {
        let value = configure::config_value(&model, path)?;
        if args.json {
            writeln!(out, "{}", serde_json::Value::String(value))?;
        } else {
            writeln!(out, "{value}")?;
        }
    } else if let Some(path) = &args.elements {
        let names = configure::config_elements(&model, path)?;
        if args.json {
            writeln!(out, "{}", serde_json::json!(names))?;
        } else {
            for name in names {
                writeln!(out, "{name}")?;
            }
        }
    }
    Ok(())
}
