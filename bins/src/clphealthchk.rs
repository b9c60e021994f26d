//! `clphealthchk`: whether clppm's parts (pm, rc, rm, nm) still show life; a liveness probe
//! (the original's Kubernetes samples run it as one). One line per part, `pm OK` or
//! `rm NG`; the return value says why it is not healthy.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use clp_core::client::Session;
use clp_core::client::health::{self, Health, Part};

use crate::cli::{self, CliError};

/// The part `-t` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Target {
    /// The process manager (clppm answers).
    Pm,
    /// Groups and resources.
    Rc,
    /// Monitors (each finished a check within its interval + timeout + 30 s).
    Rm,
    /// The server and its heartbeat.
    Nm,
}

impl From<Target> for Part {
    fn from(target: Target) -> Part {
        match target {
            Target::Pm => Part::Pm,
            Target::Rc => Part::Rc,
            Target::Rm => Part::Rm,
            Target::Nm => Part::Nm,
        }
    }
}

/// Check the health of clppm's parts.
#[derive(Debug, Parser)]
#[command(
    name = "clphealthchk",
    version,
    disable_help_flag = true,
    about = "Check that clppm's parts (pm, rc, rm, nm) show life: 0 healthy, 11 stopped, 12 suspended, 100 a part stalled"
)]
pub struct Args {
    /// Check only this part.
    #[arg(short = 't', value_enum, value_name = "PART")]
    part: Option<Target>,
    /// Seconds to wait for clppm's answer before it counts as stalled.
    #[arg(short = 'w', value_name = "SEC", default_value_t = 3)]
    wait: u64,
    /// JSON instead of the text layout.
    #[arg(long)]
    json: bool,
    /// `-h HOST`, `--help`.
    #[command(flatten)]
    target: cli::HostArgs,
}

/// Runs `clphealthchk`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    // The original's return value for an invalid option is 4 (its own table).
    let parsed =
        cli::parse::<Args>(args, out).map_err(|error| error.with_code(health::INVALID_OPTION))?;
    let Some(args) = parsed else {
        return Ok(());
    };
    let remote = args
        .target
        .remote()
        .map_err(|error| error.with_code(health::INVALID_OPTION))?;
    let paths = cli::paths();
    let parts: Vec<Part> = args.part.into_iter().map(Part::from).collect();
    let health = Session::new(&paths, "clphealthchk")
        .through(remote.as_deref())
        .health(&parts, Duration::from_secs(args.wait.max(1)))?;
    let text = if args.json {
        serde_json::to_string_pretty(&health)? + "\n"
    } else {
        lines(&health)
    };
    out.write_all(text.as_bytes())?;
    Ok(health.verdict()?)
}

/// One line per part: `pm OK`, `rm NG`.
pub fn lines(health: &Health) -> String {
    let mut text = String::new();
    for part in &health.parts {
        let word = if part.healthy { "OK" } else { "NG" };
        let _ = writeln!(text, "{} {word}", part.part.as_str());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use clp_core::client::PartHealth;

    fn health(stalled: &[Part]) -> Health {
        Health {
            parts: Part::ALL
                .iter()
                .map(|&part| PartHealth {
                    part,
                    healthy: !stalled.contains(&part),
                    detail: stalled
                        .contains(&part)
                        .then(|| "monitor genw1 has not finished a check for 95 s".into()),
                })
                .collect(),
        }
    }

    #[test]
    fn every_part_healthy() {
        insta::assert_snapshot!(lines(&health(&[])));
    }

    #[test]
    fn the_monitors_stalled() {
        insta::assert_snapshot!(lines(&health(&[Part::Rm])));
    }

    #[test]
    fn the_json_layout() {
        insta::assert_snapshot!(serde_json::to_string_pretty(&health(&[Part::Rm])).expect("json"));
    }

    #[test]
    fn an_invalid_part_is_the_originals_invalid_option() {
        let mut out = Vec::new();
        let error = run(
            vec!["clphealthchk".into(), "-t".into(), "xx".into()],
            &mut out,
        )
        .expect_err("invalid");
        assert_eq!(error.code(), health::INVALID_OPTION);
    }
}
