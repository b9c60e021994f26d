//! `clplogcc`: collect the logs, configuration, status and system information into
//! `<server>-log.tar.gz`.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::Parser;
use clp_core::client::Session;
use clp_core::logcollect::{self, CollectOptions, CollectType};

use crate::cli::{self, CliError, Refusal};
use crate::render;

/// Collect logs.
#[derive(Debug, Parser)]
#[command(
    name = "clplogcc",
    version,
    disable_help_flag = true,
    about = "Collect clp's logs, configuration, status and system information into <server>-log.tar.gz"
)]
pub struct Args {
    /// What to collect: type1 (default), type2 (wider: rotated system logs, journal, sar), type3 (minimal), proactdiag.
    #[arg(short = 't', value_name = "TYPE", default_value = "type1")]
    kind: String,
    /// The output folder (default: $CLP_ROOT/tmp).
    #[arg(short = 'o', value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// Rotated generations of the system log to take.
    #[arg(short = 'r', value_name = "GENERATIONS", default_value_t = 2)]
    generations: u32,
    /// This server only (the only server here; accepted for scripts).
    #[arg(short = 'l', long = "local")]
    local: bool,
    /// `-h HOST`, `--help`.
    #[command(flatten)]
    target: cli::HostArgs,
}

/// Runs `clplogcc`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
    args.target
        .local_only("clplogcc collects the logs of the server it runs on")?;
    let Some(kind) = CollectType::parse(&args.kind) else {
        return Err(Refusal::BadOption(format!(
            "type \"{}\" is not type1, type2, type3 or proactdiag",
            args.kind
        ))
        .into());
    };
    let paths = cli::paths();
    // A folder named with -o must exist (a typo must not make a folder); clp's own default
    // folder is made, for its owner only.
    let out_dir = match args.out_dir {
        Some(dir) => {
            if !dir.is_dir() {
                return Err(Refusal::BadOption(format!(
                        "the output folder {} does not exist or is not a folder: create it first, or leave out -o to collect into {}",
                        dir.display(),
                        paths.tmp_dir().display()
                    )).into());
            }
            dir
        }
        None => {
            let dir = paths.tmp_dir();
            logcollect::private_dir(&dir).map_err(|error| {
                Refusal::Failed(format!("cannot create {}: {error}", dir.display()))
            })?;
            dir
        }
    };
    let session = Session::new(&paths, "clplogcc");
    let (server, status_text) = match session.status() {
        Ok(status) => (
            status.server.name.clone(),
            render::cluster_status(&(&status).into(), true),
        ),
        Err(error) => (
            clp_core::config::host_name(),
            format!("clpstat failed: {error}\n"),
        ),
    };
    let options = CollectOptions {
        kind,
        out_dir,
        syslog_generations: args.generations,
    };
    let extra = vec![
        ("clp/clpstat.txt".to_string(), status_text.into_bytes()),
        ("clp/clplcncs.txt".to_string(), license_list(&session)),
    ];
    // A bar on a terminal; nothing from cron.
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} {wide_msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let result = logcollect::collect(&paths, &server, &options, extra, &mut |progress| {
        if let Some(bar) = &bar {
            bar.set_length(progress.total);
            bar.set_position(progress.done);
            bar.set_message(progress.item.clone());
        }
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    match result {
        Ok(_) => {
            writeln!(out, "Collect Log {server} : Success")?;
            Ok(())
        }
        Err(error) => {
            let word = if error.no_space() {
                "No Freespace"
            } else {
                "Failed"
            };
            writeln!(out, "Collect Log {server} : {word}")?;
            Err(Refusal::Failed(error.to_string()).into())
        }
    }
}

/// What `clplcncs -l` prints (the registered licenses and their status; no key), or why it
/// could not say.
fn license_list(session: &Session) -> Vec<u8> {
    let mut listing = b"$ clplcncs -l\n".to_vec();
    match session.licenses() {
        Err(error) => {
            listing.extend_from_slice(format!("clplcncs -l failed: {error}\n").as_bytes());
        }
        Ok(licenses) if licenses.is_empty() => {
            listing.extend_from_slice(b"(no license is registered)\n");
        }
        Ok(licenses) => {
            let issuers = clp_core::license::trusted_issuers(session.paths());
            let today = clp_core::license::today();
            let text = render::license_list(&licenses, |license| license.state(today, &issuers));
            listing.extend_from_slice(text.as_bytes());
        }
    }
    listing
}
