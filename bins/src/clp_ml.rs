//! `clp_ml`: start, stop, restart and show the clp services in order (clppm, then the web
//! manager), and enable or disable them at boot through systemd.

use std::ffi::OsString;
use std::io::{BufRead, Write};
use std::time::Duration;

use clap::{Parser, ValueEnum};
use clp_core::clp_ml_services::{self, Service};

use crate::cli::{self, CliError, Refusal};

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Action {
    /// Start the services, clppm first.
    Start,
    /// Stop the services, the web manager first.
    Stop,
    /// Stop, then start.
    Restart,
    /// Show each service and its pid.
    Status,
    /// Start the services at boot (systemd).
    On,
    /// Do not start the services at boot (systemd).
    Off,
}

/// Control the clp services.
#[derive(Debug, Parser)]
#[command(
    name = "clp_ml",
    version,
    about = "Start, stop, restart or show the clp services; enable them at boot"
)]
pub struct Args {
    /// What to do.
    action: Action,
    /// Answer yes to the question (for scripts).
    #[arg(short = 'y', long = "yes")]
    yes: bool,
    /// Seconds to wait for each service.
    #[arg(short = 'w', value_name = "SEC", default_value_t = 300)]
    wait: u64,
    /// JSON (with status).
    #[arg(long)]
    json: bool,
}

/// Asks `question [Y/N]:(N) > ` on `out` and reads the answer from stdin; N unless `y`/`yes`.
pub fn confirm(question: &str, out: &mut dyn Write) -> Result<bool, CliError> {
    write!(out, "{question} [Y/N]:(N) > ")?;
    out.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    let yes = matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes");
    if !yes {
        writeln!(out)?;
    }
    Ok(yes)
}

fn installed() -> Vec<Service> {
    Service::ALL.into_iter().filter(|s| s.installed()).collect()
}

fn start(
    paths: &clp_core::paths::Paths,
    wait: Duration,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    for service in installed() {
        writeln!(out, "Starting {} ....", service.binary())?;
        if let Some(pid) = service.pid(paths) {
            writeln!(
                out,
                "[INFO]: {} is already running (pid {pid})",
                service.binary()
            )?;
            continue;
        }
        let pid = service.start(paths, wait)?;
        writeln!(out, "[INFO]: {} started (pid {pid})", service.binary())?;
    }
    Ok(())
}

fn stop(
    paths: &clp_core::paths::Paths,
    wait: Duration,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    for service in installed().into_iter().rev() {
        if service.pid(paths).is_none() {
            writeln!(out, "[INFO]: {} is not running", service.binary())?;
            continue;
        }
        writeln!(out, "Stopping {} ....", service.binary())?;
        service.stop(paths, wait)?;
        writeln!(out, "[INFO]: {} stopped", service.binary())?;
    }
    Ok(())
}

fn boot(enable: bool, out: &mut dyn Write) -> Result<(), CliError> {
    if !clp_ml_services::systemd_is_init() {
        return Err(Refusal::Failed("systemd is not the init system here, so the services cannot be enabled at boot by clp_ml; start them from your init with 'clp_ml start -y'".to_string()).into());
    }
    for service in installed() {
        let verb = if enable { "enable" } else { "disable" };
        let status = std::process::Command::new("systemctl")
            .args([verb, service.unit()])
            .status()
            .map_err(|error| Refusal::Failed(format!("cannot run systemctl: {error}")))?;
        if !status.success() {
            return Err(Refusal::Failed(format!(
                "systemctl {verb} {} failed ({status}); was clp installed with install_cluster.sh?",
                service.unit()
            ))
            .into());
        }
        writeln!(out, "[INFO]: {} {verb}d", service.unit())?;
    }
    Ok(())
}

/// Runs `clp_ml`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
    let paths = cli::paths();
    let wait = Duration::from_secs(args.wait);
    if args.action == Action::Status {
        let rows: Vec<(Service, Option<u32>)> =
            Service::ALL.iter().map(|s| (*s, s.pid(&paths))).collect();
        if args.json {
            let value: Vec<serde_json::Value> = rows
                .iter()
                .map(|(s, pid)| {
                    serde_json::json!({"service": s.binary(), "installed": s.installed(), "running": pid.is_some(), "pid": pid})
                })
                .collect();
            let text = serde_json::to_string_pretty(&value)?;
            writeln!(out, "{text}")?;
        } else {
            for (service, pid) in rows {
                let state = match (service.installed(), pid) {
                    (_, Some(pid)) => format!("running (pid {pid})"),
                    (true, None) => "stopped".to_string(),
                    (false, None) => "not installed".to_string(),
                };
                writeln!(out, "{:<10} {state}", service.binary())?;
            }
        }
        return Ok(());
    }
    let question = match args.action {
        Action::Start => "Start the clp services.",
        Action::Stop => "Stop the clp services.",
        Action::Restart => "Restart the clp services.",
        Action::On => "Start the clp services at boot.",
        Action::Off => "Do not start the clp services at boot.",
        Action::Status => "",
    };
    if !args.yes && !confirm(question, out)? {
        writeln!(out, "Nothing was done.")?;
        return Ok(());
    }
    match args.action {
        Action::Start => start(&paths, wait, out)?,
        Action::Stop => stop(&paths, wait, out)?,
        Action::Restart => {
            stop(&paths, wait, out)?;
            start(&paths, wait, out)?;
        }
        Action::On => boot(true, out)?,
        Action::Off => boot(false, out)?,
        Action::Status => {}
    }
    writeln!(out, "[INFO]: The operation was successful")?;
    Ok(())
}
