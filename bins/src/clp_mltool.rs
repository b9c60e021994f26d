//! `clp_mltool`: the operator's checks — alert log messages (filtered), licenses and their
//! state, the kernel drivers userw needs (read-only), and the installed binaries against the
//! installer's checksum manifest.

use std::ffi::OsString;
use std::io::Write;

use clap::{Parser, Subcommand};
use clp_core::alert::{AlertFilter, Level};
use clp_core::client::{self, Session};

use crate::cli::{self, CliError, Refusal};
use crate::render;

/// Check clp: messages, licenses, drivers, binaries.
#[derive(Debug, Parser)]
#[command(
    name = "clp_mltool",
    version,
    about = "Show alert messages and licenses; check the drivers userw needs and the installed binaries"
)]
pub struct Args {
    #[command(subcommand)]
    check: Check,
}

/// One check.
#[derive(Debug, Subcommand)]
pub enum Check {
    /// The alert log, newest last.
    Messages {
        /// Only this level and worse: INFO, WARN or ERR.
        #[arg(short = 'l', long)]
        level: Option<String>,
        /// Only this module (pm, rc, rm, lcns, logcmd, ...).
        #[arg(short = 'm', long)]
        module: Option<String>,
        /// Only from this time on ("YYYY/MM/DD HH:MM:SS", or a prefix such as "YYYY/MM/DD").
        #[arg(short = 's', long)]
        since: Option<String>,
        /// At most this many (the newest).
        #[arg(short = 'n', long, default_value_t = 100)]
        count: usize,
        /// JSON.
        #[arg(long)]
        json: bool,
    },
    /// The registered licenses and their state (as clplcncs -l).
    Licenses,
    /// The kernel drivers the configured userw methods need (never loads or opens anything).
    Drivers {
        /// JSON.
        #[arg(long)]
        json: bool,
    },
    /// The installed binaries against the installer's manifest ($CLP_ROOT/bin/SHA256SUMS).
    Verify,
}

/// The alert log's time layout; `-s` takes it or a prefix of it, from the year on.
const TIME_LAYOUT: &str = "YYYY/MM/DD HH:MM:SS.mmm";

/// Refuses a `-s` that is not a prefix of [`TIME_LAYOUT`] (digits where it has letters),
/// so that a typo does not silently filter everything out.
fn check_since(since: &str) -> Result<(), CliError> {
    let fits = since.len() >= 4
        && since.len() <= TIME_LAYOUT.len()
        && since
            .chars()
            .zip(TIME_LAYOUT.chars())
            .all(|(given, layout)| {
                if layout.is_ascii_alphabetic() {
                    given.is_ascii_digit()
                } else {
                    given == layout
                }
            });
    // A full date must be a real one.
    let real_date =
        since.len() < 10 || chrono::NaiveDate::parse_from_str(&since[..10], "%Y/%m/%d").is_ok();
    if fits && real_date {
        return Ok(());
    }
    Err(Refusal::BadOption(format!(
            "-s \"{}\" is not a time: give \"YYYY/MM/DD HH:MM:SS\" or a prefix of it from the year on, such as \"2026/12/02\"",
            clp_core::escape::escape(since)
        )).into())
}

fn print_findings(
    findings: &[clp_core::diagnose::Finding],
    out: &mut dyn Write,
) -> Result<bool, CliError> {
    let mut all_ok = true;
    for finding in findings {
        all_ok &= finding.ok;
        writeln!(
            out,
            "{:<6} {}: {}",
            if finding.ok { "[OK]" } else { "[NG]" },
            finding.subject,
            finding.detail
        )?;
    }
    Ok(all_ok)
}

/// Runs `clp_mltool`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
    let paths = cli::paths();
    let session = Session::new(&paths, "clp_mltool");
    match args.check {
        Check::Messages {
            level,
            module,
            since,
            count,
            json,
        } => {
            let floor = match level.as_deref() {
                None => Level::Info,
                Some(word) => Level::parse(word).ok_or_else(|| {
                    Refusal::BadOption(format!("level \"{word}\" is not INFO, WARN or ERR"))
                })?,
            };
            if let Some(since) = &since {
                check_since(since)?;
            }
            let filter = AlertFilter {
                level: Some(floor),
                module,
                since,
            };
            let (events, truncated) = session.alerts(filter, count)?;
            if truncated {
                eprintln!(
                    "clp_mltool: only the newest {} messages fit in one answer from clppm; narrow with -l, -m, -s or -n",
                    events.len()
                );
            }
            if json {
                let text = serde_json::to_string_pretty(&events)?;
                writeln!(out, "{text}")?;
            } else {
                for event in &events {
                    writeln!(out, "{}", event.to_line())?;
                }
            }
            Ok(())
        }
        Check::Licenses => {
            let issuers = clp_core::license::trusted_issuers(&paths);
            let today = clp_core::license::today();
            let licenses = session.licenses()?;
            let text = render::license_list(&licenses, |license| license.state(today, &issuers));
            out.write_all(text.as_bytes())?;
            Ok(())
        }
        Check::Drivers { json } => {
            let config = client::load_config(&paths)?;
            let findings = clp_core::diagnose::drivers(&config);
            if json {
                let text = serde_json::to_string_pretty(&findings)?;
                writeln!(out, "{text}")?;
                return Ok(());
            }
            if print_findings(&findings, out)? {
                Ok(())
            } else {
                Err(Refusal::Failed(
                    "a driver the configuration needs is missing (see [NG] above)".to_string(),
                )
                .into())
            }
        }
        Check::Verify => {
            let manifest = paths.binary_checksums();
            let findings = clp_core::diagnose::verify_manifest(&manifest).map_err(|error| {
                Refusal::Failed(format!(
                    "cannot read {}: {error}; was clp installed with install_cluster.sh?",
                    manifest.display()
                ))
            })?;
            if print_findings(&findings, out)? {
                Ok(())
            } else {
                Err(Refusal::Failed(
                    "some installed files differ from the installer's manifest (see [NG] above)"
                        .to_string(),
                )
                .into())
            }
        }
    }
}
