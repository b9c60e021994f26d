//! `clpperfc`: how long monitors' checks take, as clppm measures them. `clpperfc -m MONITOR`
//! prints the last check's duration in milliseconds, one integer (what the original's
//! scripts, such as clp_exporter, parse); without `-m`, a table of every monitor.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write;

use clap::Parser;
use clp_core::client::{MonitorPerformance, Session};
use clp_core::exit_code;

use crate::cli::{self, CliError};

/// Show monitors' check durations.
#[derive(Debug, Parser)]
#[command(
    name = "clpperfc",
    version,
    disable_help_flag = true,
    about = "Show how long monitors' checks take (ms): the last check of MONITOR, or a table of every monitor"
)]
pub struct Args {
    /// The monitor: print its last check's duration in ms (0 before its first check).
    #[arg(short = 'm', value_name = "MONITOR")]
    monitor: Option<String>,
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
    args.target.check()?;
    let paths = cli::paths();
    let names: Vec<String> = args.monitor.iter().cloned().collect();
    let figures = Session::new(&paths, "clpperfc").monitor_performance(&names)?;
    let text = if args.json {
        let json = match (&args.monitor, figures.as_slice()) {
            (Some(_), [one]) => serde_json::to_string_pretty(one),
            _ => serde_json::to_string_pretty(&figures),
        };
        json.map_err(|e| CliError::new(exit_code::OTHER, e.to_string()))? + "\n"
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
    fn the_json_of_one_monitor() {
        insta::assert_snapshot!(
            serde_json::to_string_pretty(&figures("genw1", 3, Some(503))).expect("json")
        );
    }
}
