//! `clpcfctrl`: push, pull, roll back and convert the configuration.
//!
//! `--push -x DIR` takes a folder holding `clp.conf` (ours, or the original's XML, converted)
//! and `scripts/`, validates it whole, shows what changes, activates it atomically and says
//! what the running clppm needs to use it; `--apply` does that (suspend/resume: the
//! resources keep running; restart: the groups stop and start again).

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Parser};
use clp_core::client::config_push::{self, DaemonOutcome, Options, Report};
use clp_core::config::diff::{ApplyClass, Change, ConfigDiff};
use clp_core::config::original::{Conversion, EncodingHint};
use clp_core::generations::{self, DEFAULT_KEEP};

use crate::cli::{self, CliError, Refusal};

/// Push, pull, roll back or convert the configuration.
#[derive(Debug, Parser)]
#[command(
    name = "clpcfctrl",
    version,
    disable_help_flag = true,
    about = "Push, pull, roll back or convert the cluster configuration"
)]
#[command(group(ArgGroup::new("op").args(["push", "pull", "rollback", "convert", "list"])))]
pub struct Args {
    /// Push the folder -x DIR (clp.conf and scripts/; ours or the original's XML): validate
    /// it, show the changes, make it the active configuration.
    #[arg(long, requires = "dir")]
    push: bool,
    /// Write the active clp.conf and scripts/ into the folder -x DIR.
    #[arg(long, requires = "dir")]
    pull: bool,
    /// Make the configuration before the active one active again (in a cluster: pushed to
    /// every server, all or nothing, as --push).
    #[arg(long)]
    rollback: bool,
    /// Convert the original's configuration in -x SRC into the folder -o DST (not applied).
    #[arg(long, requires_all = ["dir", "output"])]
    convert: bool,
    /// List the kept generations of the configuration.
    #[arg(long)]
    list: bool,
    /// Files made on Linux (the original's XML: EUC-JP when the file does not say).
    #[arg(short = 'l', conflicts_with = "windows")]
    linux: bool,
    /// Files made on Windows (the original's XML: Shift_JIS when the file does not say).
    #[arg(short = 'w')]
    windows: bool,
    /// The folder holding clp.conf and scripts/.
    #[arg(short = 'x', value_name = "DIR")]
    dir: Option<PathBuf>,
    /// The folder --convert writes (new or empty).
    #[arg(short = 'o', value_name = "DST")]
    output: Option<PathBuf>,
    /// Switch the running clppm to the new configuration: suspend/resume or restart, as
    /// the change needs. Alone: switch it to the active configuration.
    #[arg(long, conflicts_with_all = ["pull", "convert", "list"])]
    apply: bool,
    /// Push a configuration made for another server (one server only; refused in a
    /// cluster).
    #[arg(long)]
    force: bool,
    /// How many pushed generations are kept for --rollback.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_KEEP as u64, value_parser = clap::value_parser!(u64).range(1..))]
    keep: u64,
    /// Seconds clppm may take to stop and to start again (--apply).
    #[arg(long, value_name = "SEC")]
    wait: Option<u64>,
    /// `-h HOST`, `--help`.
    #[command(flatten)]
    target: cli::HostArgs,
}

fn hint(args: &Args) -> Option<EncodingHint> {
    if args.windows {
        Some(EncodingHint::Windows)
    } else if args.linux {
        Some(EncodingHint::Linux)
    } else {
        None
    }
}

/// A failure of the work, with the command's name before every line of it (the first one
/// gets it anyway): one problem per line.
fn error(error: impl Into<CliError>) -> CliError {
    error.into().every_line_named()
}

/// Runs `clpcfctrl`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
    args.target
        .local_only("clpcfctrl works on the configuration files of the server it runs on")?;
    let paths = cli::paths();
    let options = Options {
        apply: args.apply,
        force: args.force,
        keep: usize::try_from(args.keep).unwrap_or(DEFAULT_KEEP),
        wait: Duration::from_secs(args.wait.unwrap_or(300)),
    };
    let dir = args.dir.clone().unwrap_or_default();
    if args.push {
        let source = config_push::read_folder(&dir, hint(&args)).map_err(error)?;
        if let Some(original) = &source.original {
            write_conversion(out, &original.conversion)?;
        }
        if source.config.is_cluster() {
            refuse_force_in_cluster(&args)?;
            let wait = Duration::from_secs(args.wait.unwrap_or(CLUSTER_WAIT_SECS));
            push_to_cluster(out, &source, wait)?;
        } else {
            let report = config_push::push(&paths, &source, options).map_err(error)?;
            write_report(out, &report, true)?;
        }
    } else if args.pull {
        config_push::pull(&paths, &dir).map_err(error)?;
    } else if args.rollback {
        if let Some((previous, source)) = cluster_rollback(&paths)? {
            refuse_force_in_cluster(&args)?;
            writeln!(
                out,
                "Rolling the cluster {} back to the configuration of generation {previous}: it is pushed to every server.",
                source.config.cluster.name
            )?;
            let wait = Duration::from_secs(args.wait.unwrap_or(CLUSTER_WAIT_SECS));
            push_to_cluster(out, &source, wait)?;
        } else {
            let report = config_push::rollback(&paths, options).map_err(error)?;
            write_report(out, &report, true)?;
        }
    } else if args.convert {
        let output = args.output.clone().unwrap_or_default();
        let converted = config_push::convert(&dir, &output, hint(&args)).map_err(error)?;
        write_conversion(out, &converted.conversion)?;
        writeln!(
            out,
            "Converted into {} (clp.conf and scripts/); push it with 'clpcfctrl --push -x {}'.",
            converted.destination.display(),
            converted.destination.display()
        )?;
        if let Some(problems) = converted.problems {
            return Err(error(Refusal::BadConfig(format!(
                "the converted configuration does not validate yet; fix it before --push:\n{problems}"
            ))));
        }
    } else if args.list {
        write_list(out, &paths)?;
        return Ok(());
    } else if args.apply {
        let report = config_push::apply_active(&paths, options).map_err(error)?;
        write_report(out, &report, false)?;
    } else {
        return Err(Refusal::BadOption(
            "give one of --push, --pull, --rollback, --convert, --list or --apply (see --help)"
                .to_string(),
        )
        .into());
    }
    cli::succeeded(out)
}

/// How long an HA push waits for every Online server's answer when `--wait` does not say.
const CLUSTER_WAIT_SECS: u64 = 30;

/// `--force` makes a one-server configuration this host's; a cluster's names every server,
/// so it has no meaning there: refused rather than ignored.
fn refuse_force_in_cluster(args: &Args) -> Result<(), CliError> {
    if args.force {
        return Err(Refusal::BadOption(
            "--force makes a one-server configuration this host's; a cluster's configuration names each of its servers, so it is refused there: correct the [[server]] names and push without --force"
                .to_string(),
        )
        .into());
    }
    Ok(())
}

/// `--rollback` when the active configuration is a cluster's: the generation before the
/// active one on this server, read as a folder to push to every server through the same
/// all-or-nothing proposal as `--push` (a rollback of this server alone would leave it
/// unlike the others, and it would take the cluster's configuration back when clppm
/// starts). `None` when the active configuration is not a cluster's.
fn cluster_rollback(
    paths: &clp_core::paths::Paths,
) -> Result<Option<(u64, config_push::Source)>, CliError> {
    let Ok(active) = clp_core::config::load(paths) else {
        return Ok(None);
    };
    if !active.is_cluster() {
        return Ok(None);
    }
    let previous = config_push::previous_generation(paths).map_err(error)?;
    let source =
        config_push::read_folder(&generations::folder(paths, previous), None).map_err(error)?;
    if !source.config.is_cluster() {
        return Err(error(Refusal::BadConfig(format!(
            "generation {previous}, the one before the active configuration, has one server: rolling the cluster back to it would end the cluster; push the configuration you want with 'clpcfctrl --push -x DIR' ('clpcfctrl --list' shows the generations)"
        ))));
    }
    Ok(Some((previous, source)))
}

/// `--push` of a configuration naming more than one server: proposed to every Online
/// server through etcd, made the cluster's active generation only when every one accepted
/// ([`clp_cluster::config_sync`]); one line per server.
fn push_to_cluster(
    out: &mut dyn Write,
    source: &config_push::Source,
    wait: Duration,
) -> Result<(), CliError> {
    use clp_cluster::config_sync::{self, PushOutcome};
    use clp_core::shared_generation::{self, SharedGeneration};
    let config = &source.config;
    let info = generations::GenerationInfo::now(
        source.dir.display().to_string(),
        source
            .original
            .as_ref()
            .map(|original| original.conversion.encoding.to_string()),
    );
    let scripts = clp_core::paths::ConfigFolder(&source.dir).scripts_dir();
    let shared = SharedGeneration::pack(&source.text, Some(&scripts), info)
        .map_err(|e| error(Refusal::Failed(e.to_string())))?;
    let endpoints = config
        .etcd
        .as_ref()
        .map(|etcd| etcd.endpoints.clone())
        .unwrap_or_default();
    let tls = config.etcd.as_ref().and_then(|etcd| etcd.tls.as_ref());
    let request = (config.heartbeat.interval * 4).max(Duration::from_secs(2));
    let pushed = config_sync::propose_blocking(
        &endpoints,
        tls,
        &config.cluster.name,
        &shared,
        request,
        wait,
    )
    .map_err(|e| {
        error(Refusal::Failed(format!(
            "the configuration was not pushed: {e}"
        )))
    })?;
    let short = shared_generation::short(&shared.hash);
    if pushed.outcome == PushOutcome::Unchanged {
        writeln!(
            out,
            "The cluster {} already runs this configuration ({short}); nothing pushed.",
            config.cluster.name
        )?;
        return Ok(());
    }
    // The configuration's servers, then any Online server it no longer names.
    let mut servers: Vec<&str> = config.servers.iter().map(|s| s.name.as_str()).collect();
    for name in &pushed.asked {
        if !servers.iter().any(|s| s.eq_ignore_ascii_case(name)) {
            servers.push(name);
        }
    }
    for server in servers {
        let asked = pushed
            .asked
            .iter()
            .any(|name| name.eq_ignore_ascii_case(server));
        let answer = pushed
            .answers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(server))
            .map(|(_, answer)| answer);
        let line = match (asked, answer) {
            (false, _) => "Offline (takes the configuration when it starts)".to_string(),
            (true, Some(answer)) if answer.accepted => "Success".to_string(),
            (true, Some(answer)) => format!("Refused: {}", answer.reason),
            (true, None) => "No answer".to_string(),
        };
        writeln!(out, "Upload {server} : {line}")?;
    }
    match pushed.outcome {
        PushOutcome::Committed { .. } => {
            writeln!(
                out,
                "The configuration {short} is the active configuration of the cluster {}; each server applies it (suspend/resume or restart, as the change needs).",
                config.cluster.name
            )?;
            writeln!(out, "The upload is completed successfully.(cfmgr:0)")?;
            Ok(())
        }
        PushOutcome::Refused(refusals) => {
            let reasons: Vec<String> = refusals
                .iter()
                .map(|refusal| format!("{}: {}", refusal.server, refusal.reason))
                .collect();
            Err(error(Refusal::BadConfig(format!(
                "the configuration was not pushed: not every Online server accepted it; no server changed\n{}",
                reasons.join("\n")
            ))))
        }
        PushOutcome::Overtaken => Err(error(Refusal::Failed(
            "the configuration was not pushed: another push changed the cluster's configuration meanwhile; pull it, merge, and push again".into(),
        ))),
        PushOutcome::Unchanged => Ok(()),
    }
}

fn write_conversion(out: &mut dyn Write, conversion: &Conversion) -> Result<(), CliError> {
    writeln!(
        out,
        "The original's clp.conf ({}) was converted.",
        conversion.encoding
    )?;
    for note in &conversion.notes {
        writeln!(out, "  note: {note}")?;
    }
    if !conversion.unsupported.is_empty() {
        writeln!(out, "Not supported (left out of the configuration):")?;
        for item in &conversion.unsupported {
            writeln!(out, "  {item}")?;
        }
    }
    Ok(())
}

/// The changes, key by key.
pub fn render_diff(diff: &ConfigDiff) -> String {
    let mut text = String::new();
    for change in &diff.changes {
        match &change.change {
            Change::Added => text.push_str(&format!("  added    {}\n", change.object)),
            Change::Removed => text.push_str(&format!("  removed  {}\n", change.object)),
            Change::Changed(keys) => {
                text.push_str(&format!("  changed  {}\n", change.object));
                for key in keys {
                    let line = match (&key.old, &key.new, key.opaque) {
                        (Some(_), Some(_), true) => format!("{}: changed", key.key),
                        (None, Some(_), true) => format!("{}: added", key.key),
                        (Some(_), None, true) => format!("{}: removed", key.key),
                        (Some(old), Some(new), false) => format!("{}: {old} -> {new}", key.key),
                        (None, Some(new), false) => format!("{}: (none) -> {new}", key.key),
                        (Some(old), None, false) => format!("{}: {old} -> (none)", key.key),
                        (None, None, _) => key.key.clone(),
                    };
                    text.push_str(&format!("             {line}\n"));
                }
            }
        }
    }
    text
}

fn needs(class: ApplyClass) -> &'static str {
    match class {
        ApplyClass::SuspendResume => "a suspend/resume (the resources keep running)",
        ApplyClass::Restart => "a restart (every group stops and starts again)",
    }
}

/// What a push, a rollback or an apply did; `changes` shows the differences (not for
/// `--apply` alone, which changes no file).
fn write_report(out: &mut dyn Write, report: &Report, changes: bool) -> Result<(), CliError> {
    if let Some(retargeted) = &report.retargeted {
        writeln!(
            out,
            "The configuration was made for server \"{}\"; with --force its server is now this host, \"{}\".",
            retargeted.from, retargeted.to
        )?;
    }
    if changes && report.diff.is_empty() {
        match report.generation {
            Some(number) => writeln!(
                out,
                "Generation {number} is active (its content is the same as before)."
            )?,
            None => writeln!(
                out,
                "No change to the active configuration; nothing pushed."
            )?,
        }
    } else if changes {
        writeln!(out, "Changes to the active configuration:")?;
        out.write_all(render_diff(&report.diff).as_bytes())?;
        if let Some(number) = report.generation {
            writeln!(out, "Generation {number} is active.")?;
        }
    }
    if let Some(snapshot) = report.snapshot {
        writeln!(
            out,
            "The configuration before the first push is kept as generation {snapshot}."
        )?;
    }
    if !report.pruned.is_empty() {
        let pruned: Vec<String> = report.pruned.iter().map(u64::to_string).collect();
        writeln!(
            out,
            "Generations removed (beyond --keep): {}.",
            pruned.join(", ")
        )?;
    }
    for note in &report.notes {
        writeln!(out, "Note: {note}.")?;
    }
    match &report.daemon {
        DaemonOutcome::NotRunning => writeln!(
            out,
            "clppm is not running: it uses the active configuration when it starts."
        )?,
        DaemonOutcome::UpToDate { pid } => {
            writeln!(out, "clppm (pid {pid}) runs the active configuration.")?;
        }
        DaemonOutcome::Needs {
            pid,
            class,
            running,
        } => {
            let which = running.map_or_else(
                || "the previous configuration".to_string(),
                |n| format!("generation {n}"),
            );
            writeln!(
                out,
                "clppm (pid {pid}) runs {which}; using the active one needs {}: run 'clpcfctrl --apply'.",
                needs(*class)
            )?;
        }
        DaemonOutcome::Applied { class, pid } => {
            let how = match class {
                ApplyClass::SuspendResume => "suspend/resume: the resources kept running",
                ApplyClass::Restart => "restart: the groups were stopped and started again",
            };
            writeln!(
                out,
                "Applied by {how}; clppm (pid {pid}) runs the active configuration."
            )?;
        }
    }
    Ok(())
}

fn write_list(out: &mut dyn Write, paths: &clp_core::paths::Paths) -> Result<(), CliError> {
    let kept = generations::list(paths);
    if kept.is_empty() {
        writeln!(
            out,
            "No configuration has been pushed with clpcfctrl on this server."
        )?;
        return Ok(());
    }
    let current = generations::current(paths);
    writeln!(out, "  generation  pushed               by        from")?;
    for generation in kept {
        let marker = if Some(generation.number) == current {
            '*'
        } else {
            ' '
        };
        let (when, who, from) = match &generation.info {
            Some(info) => {
                let from = match &info.converted_from {
                    Some(encoding) => format!(
                        "{} (converted from the original's XML, {encoding})",
                        info.source
                    ),
                    None => info.source.clone(),
                };
                (info.pushed_at.clone(), info.pushed_by.clone(), from)
            }
            None => ("-".to_string(), "-".to_string(), "-".to_string()),
        };
        writeln!(
            out,
            "{marker} {:<10}  {when:<19}  {who:<8}  {from}",
            generation.number
        )?;
    }
    Ok(())
}
