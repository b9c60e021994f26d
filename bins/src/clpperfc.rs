//! `clpperfc`: how long monitors' checks take, as clppm measures them. `clpperfc -m MONITOR`
//! prints the last check's duration in milliseconds, one integer (what the original's
//! scripts, such as clp_exporter, parse); without `-m`, a table of every monitor.
//! `--starttime -g GROUP` / `--stoptime -g GROUP` print the median of a group's latest start
//! or stop times in ms; `-g [GROUP]` a table of both.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write;

use clap::Parser;
use clp_core::client::{GroupPerformance, MonitorPerformance, Session};

use crate::cli::{self, CliError, Refusal};

/// Show monitors' check durations.
#[derive(Debug, Parser)]
#[command(
    name = "clpperfc",
    version,
    disable_help_flag = true,
    about = "Show how long monitors' checks and groups' starts and stops take (ms)"
)]
pub struct Args {
    /// The monitor: print its last check's duration in ms (0 before its first check).
    #[arg(short = 'm', value_name = "MONITOR", conflicts_with = "group")]
    monitor: Option<String>,
    /// Groups' median start and stop times (ms) of their latest successful ones; every
    /// group when GROUP is omitted.
    #[arg(short = 'g', value_name = "GROUP", num_args = 0..=1, default_missing_value = "")]
    group: Option<String>,
    /// With -g GROUP: print only its median start time in ms (0 before its first start).
    #[arg(long, requires = "group", conflicts_with = "stoptime")]
    starttime: bool,
    /// With -g GROUP: print only its median stop time in ms (0 before its first stop).
    #[arg(long, requires = "group")]
    stoptime: bool,
    /// JSON: checks, last, average and longest durations (ms and µs).
    #[arg(long)]
    json: bool,
    /// `-h HOST`, `--help`.
    #[command(flatten)]
    target: cli::HostArgs,
}

/// Runs `clpperfc`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
    let remote = args.target.remote()?;
    let paths = cli::paths();
    let session = Session::new(&paths, "clpperfc").through(remote.as_deref());
    if let Some(group) = &args.group {
        return groups(&args, group, session, out);
    }
    let names: Vec<String> = args.monitor.iter().cloned().collect();
    let figures = session.monitor_performance(&names)?;
    let text = if args.json {
        let json = match (&args.monitor, figures.as_slice()) {
            (Some(_), [one]) => serde_json::to_string_pretty(one),
            _ => serde_json::to_string_pretty(&figures),
        };
        json? + "\n"
    } else if args.monitor.is_some() {
        figures
            .iter()
            .map(|f| format!("{}\n", f.shown_ms()))
            .collect()
    } else {
        table(&figures)
    };
    out.write_all(text.as_bytes())?;
    Ok(())
}

/// `-g [GROUP]`, `--starttime -g GROUP`, `--stoptime -g GROUP`.
fn groups(args: &Args, group: &str, session: Session, out: &mut dyn Write) -> Result<(), CliError> {
    let names: Vec<String> = (!group.is_empty())
        .then(|| group.to_string())
        .into_iter()
        .collect();
    if (args.starttime || args.stoptime) && names.is_empty() {
        return Err(Refusal::BadOption(
            "--starttime and --stoptime need a group: -g GROUP (see --help)".into(),
        )
        .into());
    }
    let figures = session.group_performance(&names)?;
    let text = if args.json {
        let json = match (names.is_empty(), figures.as_slice()) {
            (false, [one]) => serde_json::to_string_pretty(one),
            _ => serde_json::to_string_pretty(&figures),
        };
        json? + "\n"
    } else if args.starttime || args.stoptime {
        figures
            .iter()
            .map(|f| {
                let ms = if args.starttime {
                    f.start_ms
                } else {
                    f.stop_ms
                };
                format!("{}\n", ms.unwrap_or(0))
            })
            .collect()
    } else {
        group_table(&figures)
    };
    out.write_all(text.as_bytes())?;
    Ok(())
}

/// Every group's median start and stop times, one line each (`-` before the first).
pub fn group_table(figures: &[GroupPerformance]) -> String {
    let width = figures
        .iter()
        .map(|f| f.group.len())
        .max()
        .unwrap_or(0)
        .max("Group".len());
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{:<width$}  {:>8}  {:>10}  {:>8}  {:>10}",
        "Group", "Starts", "Start(ms)", "Stops", "Stop(ms)"
    );
    let shown = |value: Option<u64>| value.map_or_else(|| "-".to_string(), |v| v.to_string());
    for f in figures {
        let _ = writeln!(
            text,
            "{:<width$}  {:>8}  {:>10}  {:>8}  {:>10}",
            f.group,
            f.starts,
            shown(f.start_ms),
            f.stops,
            shown(f.stop_ms)
        );
    }
    text
}

/// Every monitor's figures, one line each (`-` before a monitor's first check).
pub fn table(figures: &[MonitorPerformance]) -> String {
    let width = figures
        .iter()
        .map(|f| f.monitor.len())
        .max()
        .unwrap_or(0)
        .max("Monitor".len());
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{:<width$}  {:>8}  {:>10}  {:>10}  {:>10}",
        "Monitor", "Checks", "Last(ms)", "Avg(ms)", "Max(ms)"
    );
    let shown = |value: Option<u64>| value.map_or_else(|| "-".to_string(), |v| v.to_string());
    for f in figures {
        let _ = writeln!(
            text,
            "{:<width$}  {:>8}  {:>10}  {:>10}  {:>10}",
            f.monitor,
            f.checks,
            shown(f.last_ms),
            shown(f.average_ms),
            shown(f.max_ms)
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(monitor: &str, checks: u64, last: Option<u64>) -> MonitorPerformance {
        MonitorPerformance {
            monitor: monitor.into(),
            kind: "genw".into(),
            checks,
            last_ms: last,
            average_ms: last.map(|v| v + 2),
            max_ms: last.map(|v| v * 3),
            last_us: last.map(|v| v * 1000),
            average_us: last.map(|v| (v + 2) * 1000),
            max_us: last.map(|v| v * 3000),
        }
    }

    #[test]
    fn the_table_lists_every_monitor() {
        insta::assert_snapshot!(table(&[
            figures("userw", 12, Some(0)),
            figures("genw-sleeps-a-while", 3, Some(503)),
            figures("psw1", 0, None),
        ]));
    }

    #[test]
    fn the_group_table() {
        insta::assert_snapshot!(group_table(&[
            GroupPerformance {
                group: "failover".into(),
                starts: 3,
                start_ms: Some(212),
                stops: 2,
                stop_ms: Some(105),
            },
            GroupPerformance {
                group: "never-started".into(),
                starts: 0,
                start_ms: None,
                stops: 0,
                stop_ms: None,
            },
        ]));
    }

    #[test]
    fn the_json_of_one_monitor() {
        insta::assert_snapshot!(
            serde_json::to_string_pretty(&figures("genw1", 3, Some(503))).expect("json")
        );
    }
}
