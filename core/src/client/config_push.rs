//! The work of `clpcfctrl`: read a folder to push (our TOML `clp.conf`, or the original's XML
//! converted), validate it whole, compare it with the active configuration, switch
//! generations atomically, log `cfmgr 1`, and apply the change to a running clppm.
//!
//! clppm reads its configuration only when it starts. Applying a change is therefore a new
//! daemon process, either after a hand-off (the old one exits leaving the resources running
//! and the new one adopts them: "suspend/resume") or after an orderly stop ("restart"); see
//! [`crate::config::diff`] for which changes need which.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::alert_sink::AlertSink;
use crate::client::clppm_process::{self, ServiceError};
use crate::config::diff::{ApplyClass, ConfigDiff};
use crate::config::original::{self, Conversion, EncodingHint, OriginalError};
use crate::config::{self, Config, ConfigError, DEFAULT_CONFIG};
use crate::generations::{self, Content, GenerationError, GenerationInfo};
use crate::ipc::client::{Client, ClientError};
use crate::ipc::{AfterStop, Request};
use crate::paths::{ConfigFolder, Paths};

/// The name clpcfctrl gives itself to the daemon and in the alert log.
const CLIENT: &str = "clpcfctrl";

/// Why clpcfctrl could not do its work.
#[derive(Debug, thiserror::Error)]
pub enum CfctrlError {
    /// The folder given is not usable.
    #[error("{message}")]
    Folder {
        /// One line: what is wrong with it.
        message: String,
    },
    /// The original's `clp.conf` could not be read.
    #[error("{}: {source}", file.display())]
    Original {
        /// The file.
        file: PathBuf,
        /// Why.
        source: OriginalError,
    },
    /// The configuration is refused (every problem is listed).
    #[error("{0}")]
    Invalid(#[from] ConfigError),
    /// The configuration was made for another server; `--force` pushes it anyway.
    #[error("{0}; push it anyway with --force")]
    OtherServer(String),
    /// The generations could not be written or switched.
    #[error("{0}")]
    Generation(#[from] GenerationError),
    /// The daemon does not run (for `--apply` alone).
    #[error("clppm is not running; the active configuration is used when it starts ('clpcl -s')")]
    NotRunning,
    /// The configuration is active but the running clppm could not be switched to it.
    #[error("the configuration is active, but applying it to clppm failed: {source}")]
    Apply {
        /// Why.
        source: ServiceError,
    },
}

impl crate::exit_code::Coded for CfctrlError {
    fn code(&self) -> u8 {
        use crate::exit_code;
        match self {
            CfctrlError::Folder { .. } => exit_code::BAD_OPTION,
            CfctrlError::Original { .. }
            | CfctrlError::Invalid(_)
            | CfctrlError::OtherServer(_) => exit_code::BAD_CONFIG,
            CfctrlError::NotRunning => exit_code::NOT_RUNNING,
            CfctrlError::Apply {
                source: ServiceError::Timeout { .. },
            } => exit_code::TIMEOUT,
            CfctrlError::Generation(GenerationError::Busy { .. }) => exit_code::ALREADY_RUNNING,
            CfctrlError::Generation(_) | CfctrlError::Apply { .. } => exit_code::OTHER,
        }
    }
}

/// A folder read for a push: the TOML text, what it was converted from, the validated
/// configuration.
#[derive(Debug)]
pub struct Source {
    /// The folder (absolute).
    pub dir: PathBuf,
    /// The `clp.conf` to activate (TOML).
    pub text: String,
    /// The original's XML and its conversion, when the folder held one.
    pub original: Option<Original>,
    /// The configuration, validated against the folder's own `scripts/`.
    pub config: Config,
}

/// The original's XML `clp.conf` and what it became.
#[derive(Debug)]
pub struct Original {
    /// The file as it was.
    pub bytes: Vec<u8>,
    /// The conversion.
    pub conversion: Conversion,
}

/// Reads and converts a folder without validating it (what `--convert` needs).
fn read_text(
    dir: &Path,
    hint: Option<EncodingHint>,
) -> Result<(PathBuf, String, Option<Original>), CfctrlError> {
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    if !dir.is_dir() {
        return Err(CfctrlError::Folder {
            message: format!(
                "{} is not a folder; give the folder holding clp.conf and scripts/ with -x",
                dir.display()
            ),
        });
    }
    let file = ConfigFolder(&dir).config_file();
    let bytes = std::fs::read(&file).map_err(|error| CfctrlError::Folder {
        message: format!("cannot read {}: {error}", file.display()),
    })?;
    if original::looks_like_original(&bytes) {
        let conversion =
            original::convert(&bytes, hint, &file.display().to_string()).map_err(|source| {
                CfctrlError::Original {
                    file: file.clone(),
                    source,
                }
            })?;
        return Ok((
            dir,
            conversion.text.clone(),
            Some(Original { bytes, conversion }),
        ));
    }
    let text = String::from_utf8(bytes).map_err(|_| CfctrlError::Folder {
        message: format!(
            "{} is neither the original's XML nor UTF-8 TOML; a TOML clp.conf is always UTF-8",
            file.display()
        ),
    })?;
    Ok((dir, text, None))
}

/// Reads the folder to push: converts the original's XML, validates the whole
/// configuration against the folder's own `scripts/`.
pub fn read_folder(dir: &Path, hint: Option<EncodingHint>) -> Result<Source, CfctrlError> {
    let (dir, text, original) = read_text(dir, hint)?;
    let name = match &original {
        Some(_) => ConfigFolder(&dir).converted_config_name(),
        None => ConfigFolder(&dir).config_file(),
    };
    let config = config::parse_str(&text, &ConfigFolder(&dir).scripts_dir())
        .map_err(|e| e.in_file(&name))?;
    Ok(Source {
        dir,
        text,
        original,
        config,
    })
}

/// What to do beyond activating the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Switch the running clppm to it.
    pub apply: bool,
    /// Push a configuration made for another server.
    pub force: bool,
    /// Generations kept.
    pub keep: usize,
    /// How long the daemon may take to stop and start.
    pub wait: Duration,
}

/// What became of the running clppm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaemonOutcome {
    /// It does not run: it uses the active configuration when it starts.
    NotRunning,
    /// It already runs what is active.
    UpToDate {
        /// Its pid.
        pid: u32,
    },
    /// It runs an earlier configuration; applying takes `class`.
    Needs {
        /// Its pid.
        pid: u32,
        /// What applying takes.
        class: ApplyClass,
        /// The generation it runs, when an earlier push was not applied either.
        running: Option<u64>,
    },
    /// The change was applied.
    Applied {
        /// How.
        class: ApplyClass,
        /// The new daemon's pid.
        pid: u32,
    },
}

/// What a push, a rollback or an apply did.
#[derive(Debug, Clone)]
pub struct Report {
    /// The generation made active (none: nothing changed).
    pub generation: Option<u64>,
    /// The generation the plain configuration before the first push was kept as.
    pub snapshot: Option<u64>,
    /// The differences from the configuration active before.
    pub diff: ConfigDiff,
    /// The running clppm.
    pub daemon: DaemonOutcome,
    /// Things worth saying that did not stop the work (an alert not logged, ...).
    pub notes: Vec<String>,
    /// Generations removed beyond the number kept.
    pub pruned: Vec<u64>,
    /// The configuration was made for another server and `--force` made it this host's.
    pub retargeted: Option<Retargeted>,
}

/// A configuration's server renamed to this host by `--push --force`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retargeted {
    /// The server the configuration named.
    pub from: String,
    /// This host's short name, its server now.
    pub to: String,
}

/// The active configuration, when it validates.
fn active(paths: &Paths) -> Option<Config> {
    config::load(paths).ok()
}

/// The configuration of a kept generation.
fn generation_config(paths: &Paths, number: u64) -> Result<Config, ConfigError> {
    let folder = generations::folder(paths, number);
    let folder = ConfigFolder(&folder);
    config::load_file(&folder.config_file(), &folder.scripts_dir())
}

/// The differences between two configurations (everything new when there was none).
fn difference(before: Option<&Config>, after: &Config, paths: &Paths) -> ConfigDiff {
    match before {
        Some(before) => ConfigDiff::between(before, after),
        None => ConfigDiff::between(&Config::default_for(paths), after),
    }
}

/// `clpcfctrl --push`.
pub fn push(paths: &Paths, source: &Source, options: Options) -> Result<Report, CfctrlError> {
    let _lock = generations::lock(paths)?;
    generations::clean_staging(paths);
    let active_config = active(paths);
    let retargeted_text;
    let retargeted_config;
    let mut retargeted = None;
    let (text, new_config) = match other_server(&source.config) {
        None => (&source.text, &source.config),
        Some(server) if options.force => {
            let host = config::host_name();
            (retargeted_text, retargeted_config) = retarget(source, &host)?;
            retargeted = Some(Retargeted {
                from: server,
                to: host,
            });
            (&retargeted_text, &retargeted_config)
        }
        Some(server) => {
            return Err(CfctrlError::OtherServer(format!(
                "the configuration was made for server \"{server}\"; this server is \"{}\"",
                config::host_name()
            )));
        }
    };
    let diff = difference(active_config.as_ref(), new_config, paths);
    let daemon = clppm_process::running_pid(paths);
    let mut report = Report {
        generation: None,
        snapshot: None,
        diff,
        daemon: DaemonOutcome::NotRunning,
        notes: Vec::new(),
        pruned: Vec::new(),
        retargeted,
    };
    if !report.diff.is_empty() {
        report.snapshot = generations::ensure_managed(paths)?;
        note_running_generation(paths, daemon)?;
        let info = GenerationInfo::now(
            source.dir.display().to_string(),
            source
                .original
                .as_ref()
                .map(|original| original.conversion.encoding.to_string()),
        );
        let number = generations::create(
            paths,
            Content {
                clp_conf: Some(text.as_bytes()),
                scripts: Some(&ConfigFolder(&source.dir).scripts_dir()),
                original: source.original.as_ref().map(|o| o.bytes.as_slice()),
            },
            &info,
        )?;
        generations::switch_to(paths, number)?;
        report.generation = Some(number);
        log_uploaded(paths, new_config, &mut report.notes);
        report.notes.extend(config::language::push_note(
            active_config.as_ref(),
            new_config,
        ));
        let protect: Vec<u64> = [Some(number), daemon.and_then(|pid| running(paths, pid))]
            .into_iter()
            .flatten()
            .collect();
        report.pruned = generations::prune(paths, options.keep, &protect);
    }
    report.daemon = bring_daemon_up_to_date(paths, daemon, new_config, options)?;
    Ok(report)
}

/// The server a configuration names when it is not this host (the configuration lists its
/// servers in `[[server]]`; without one it is this host's).
fn other_server(config: &Config) -> Option<String> {
    if config.local_server().is_some() {
        return None;
    }
    config.servers.first().map(|server| server.name.clone())
}

/// A configuration made for another server, made this host's: the `[[server]]` table's
/// name becomes the host's short name. Its comment and everything else stay.
fn retarget(source: &Source, host: &str) -> Result<(String, Config), CfctrlError> {
    let text = rename_server(&source.text, host).ok_or_else(|| CfctrlError::Folder {
        message: format!(
            "cannot rename the server in {}: write name = \"{host}\" under [[server]] and push again",
            ConfigFolder(&source.dir).config_file().display()
        ),
    })?;
    let config = config::parse_str(&text, &ConfigFolder(&source.dir).scripts_dir())
        .map_err(|e| e.in_file(&ConfigFolder(&source.dir).config_file()))?;
    Ok((text, config))
}

/// `text` with the `name` of its one `[[server]]` table set to `host`; `None` when the file
/// does not write the server as a `[[server]]` table with a `name = "..."` line.
fn rename_server(text: &str, host: &str) -> Option<String> {
    let mut in_server = false;
    let mut renamed = false;
    let mut out = String::with_capacity(text.len() + host.len());
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            in_server = trimmed.trim_end().starts_with("[[server]]");
        } else if in_server
            && !renamed
            && let Some(rest) = trimmed.strip_prefix("name")
            && rest.trim_start().starts_with('=')
        {
            let ending = if line.ends_with('\n') { "\n" } else { "" };
            out.push_str(&format!("name = \"{host}\"{ending}"));
            renamed = true;
            continue;
        }
        out.push_str(line);
    }
    renamed.then_some(out)
}

/// The generation the running clppm uses, when it is not the active one.
fn running(paths: &Paths, pid: u32) -> Option<u64> {
    generations::running_generation(paths, pid).map(|record| record.generation)
}

/// Before the active generation changes under a running clppm, records which one it runs
/// (unless already recorded); with no clppm, forgets any record.
fn note_running_generation(paths: &Paths, daemon: Option<u32>) -> Result<(), CfctrlError> {
    match daemon {
        Some(pid) => {
            if generations::running_generation(paths, pid).is_none()
                && let Some(current) = generations::current(paths)
            {
                generations::record_running_generation(paths, pid, current)?;
            }
        }
        None => generations::clear_running_generation(paths),
    }
    Ok(())
}

/// Compares what the running clppm uses with `active_config` and, when asked, applies.
fn bring_daemon_up_to_date(
    paths: &Paths,
    daemon: Option<u32>,
    active_config: &Config,
    options: Options,
) -> Result<DaemonOutcome, CfctrlError> {
    let Some(pid) = daemon else {
        generations::clear_running_generation(paths);
        return Ok(DaemonOutcome::NotRunning);
    };
    let record = generations::running_generation(paths, pid);
    let class = match record {
        None => None,
        Some(record) => match generation_config(paths, record.generation) {
            Ok(running_config) => ConfigDiff::between(&running_config, active_config).class(),
            // Its generation is gone or unreadable: only a restart is sure to be enough.
            Err(_) => Some(ApplyClass::Restart),
        },
    };
    let Some(class) = class else {
        generations::clear_running_generation(paths);
        return Ok(DaemonOutcome::UpToDate { pid });
    };
    if !options.apply {
        return Ok(DaemonOutcome::Needs {
            pid,
            class,
            running: record.map(|r| r.generation),
        });
    }
    let new_pid =
        apply(paths, class, options.wait).map_err(|source| CfctrlError::Apply { source })?;
    generations::clear_running_generation(paths);
    Ok(DaemonOutcome::Applied {
        class,
        pid: new_pid,
    })
}

/// Switches the running clppm to the active configuration: hand-off or orderly stop, then
/// a start; returns the new daemon's pid.
fn apply(paths: &Paths, class: ApplyClass, wait: Duration) -> Result<u32, ServiceError> {
    match class {
        ApplyClass::SuspendResume => clppm_process::hand_off_and_wait(paths, CLIENT, wait)?,
        ApplyClass::Restart => {
            clppm_process::stop_and_wait(paths, CLIENT, AfterStop::Nothing, wait)?
        }
    }
    clppm_process::start_detached(paths, &clppm_process::clppm_beside_me(), CLIENT, wait)
}

/// Logs `cfmgr 1` through the daemon, or straight to the store and `alert.log` when it does
/// not run. A failure is a note: the configuration is already active.
fn log_uploaded(paths: &Paths, new_config: &Config, notes: &mut Vec<String>) {
    let request = Request::CatalogueAlert {
        module: "cfmgr".into(),
        event_id: 1,
        args: vec![CLIENT.into()],
    };
    let through_daemon = Client::connect(&paths.socket(), CLIENT)
        .and_then(|mut client| client.request(&request, None).map(|_| ()));
    let error = match through_daemon {
        Ok(()) => return,
        Err(ClientError::NotRunning { .. }) => match log_offline(paths, new_config) {
            Ok(()) => return,
            Err(error) => error.to_string(),
        },
        Err(error) => error.to_string(),
    };
    notes.push(format!(
        "the upload was not logged to the alert log: {error}"
    ));
}

/// Why an upload's alert was not logged while clppm does not run.
#[derive(Debug, thiserror::Error)]
enum NotLogged {
    /// The store refused it.
    #[error("{0}")]
    Store(crate::alert_sink::NotStored),
    /// `alert.log` could not be written.
    #[error("{}: {source}", alert_log.display())]
    AlertLog {
        /// The file.
        alert_log: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Logs `cfmgr 1` through the alert sink while clppm does not run: the first failure.
fn log_offline(paths: &Paths, config: &Config) -> Result<(), NotLogged> {
    let delivery = AlertSink::offline(config, paths).alert("cfmgr", 1, &[CLIENT]);
    if let Some(error) = delivery.not_stored {
        return Err(NotLogged::Store(error));
    }
    if let Some(source) = delivery.not_written {
        return Err(NotLogged::AlertLog {
            alert_log: paths.alert_log(),
            source,
        });
    }
    Ok(())
}

/// `clpcfctrl --rollback`: the generation before the active one becomes active again.
pub fn rollback(paths: &Paths, options: Options) -> Result<Report, CfctrlError> {
    let _lock = generations::lock(paths)?;
    generations::clean_staging(paths);
    if !generations::is_managed(paths) {
        return Err(GenerationError::NotManaged.into());
    }
    let target = previous_generation(paths)?;
    let target_config = generation_config(paths, target).map_err(|error| {
        error.in_file(&ConfigFolder(&generations::folder(paths, target)).config_file())
    })?;
    let diff = difference(active(paths).as_ref(), &target_config, paths);
    let daemon = clppm_process::running_pid(paths);
    note_running_generation(paths, daemon)?;
    generations::switch_to(paths, target)?;
    let mut notes = Vec::new();
    log_uploaded(paths, &target_config, &mut notes);
    let daemon = bring_daemon_up_to_date(paths, daemon, &target_config, options)?;
    Ok(Report {
        generation: Some(target),
        snapshot: None,
        diff,
        daemon,
        notes,
        pruned: Vec::new(),
        retargeted: None,
    })
}

/// The kept generation before the active one: what `--rollback` goes back to.
pub fn previous_generation(paths: &Paths) -> Result<u64, CfctrlError> {
    let current = generations::current(paths).ok_or(GenerationError::NotManaged)?;
    let previous = generations::list(paths)
        .into_iter()
        .map(|g| g.number)
        .filter(|number| *number < current)
        .max()
        .ok_or(GenerationError::NoEarlier { current })?;
    Ok(previous)
}

/// `clpcfctrl --apply` alone: the running clppm takes the active configuration.
pub fn apply_active(paths: &Paths, options: Options) -> Result<Report, CfctrlError> {
    let _lock = generations::lock(paths)?;
    let daemon = clppm_process::running_pid(paths).ok_or(CfctrlError::NotRunning)?;
    let active_config = config::load(paths)?;
    let daemon = bring_daemon_up_to_date(paths, Some(daemon), &active_config, options)?;
    Ok(Report {
        generation: None,
        snapshot: None,
        diff: ConfigDiff::default(),
        daemon,
        notes: Vec::new(),
        pruned: Vec::new(),
        retargeted: None,
    })
}

/// `clpcfctrl --pull`: writes the active `clp.conf` and `scripts/` into `dir` (each
/// replaced atomically).
pub fn pull(paths: &Paths, dir: &Path) -> Result<(), CfctrlError> {
    let _lock = generations::lock(paths)?;
    std::fs::create_dir_all(dir).map_err(|error| CfctrlError::Folder {
        message: format!("cannot create {}: {error}", dir.display()),
    })?;
    // Read both from one generation (a concurrent switch cannot mix them).
    let (conf, scripts) =
        match generations::current(paths).filter(|_| generations::is_managed(paths)) {
            Some(number) => {
                let folder = generations::folder(paths, number);
                (
                    ConfigFolder(&folder).config_file(),
                    ConfigFolder(&folder).scripts_dir(),
                )
            }
            None => (paths.config_file(), paths.scripts_dir()),
        };
    let text = match std::fs::read(&conf) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            DEFAULT_CONFIG.as_bytes().to_vec()
        }
        Err(error) => {
            return Err(CfctrlError::Folder {
                message: format!("cannot read {}: {error}", conf.display()),
            });
        }
    };
    write_folder(dir, &text, scripts.is_dir().then_some(scripts.as_path()))
}

/// Writes `clp.conf` and a copy of `scripts` into `dir`, each replacing what was there in one
/// rename.
fn write_folder(dir: &Path, text: &[u8], scripts: Option<&Path>) -> Result<(), CfctrlError> {
    let folder_error =
        |what: &str, path: &Path, error: &dyn std::fmt::Display| CfctrlError::Folder {
            message: format!("cannot {what} {}: {error}", path.display()),
        };
    let staging = crate::paths::private_to_this_process(dir, "clpcfctrl");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir(&staging).map_err(|e| folder_error("create", &staging, &e))?;
    let result = (|| {
        let staged_conf = ConfigFolder(&staging).config_file();
        std::fs::write(&staged_conf, text).map_err(|e| folder_error("write", &staged_conf, &e))?;
        let staged_scripts = ConfigFolder(&staging).scripts_dir();
        match scripts {
            Some(scripts) => generations::copy_tree(scripts, &staged_scripts)?,
            None => std::fs::create_dir(&staged_scripts)
                .map_err(|e| folder_error("create", &staged_scripts, &e))?,
        }
        let target_scripts = ConfigFolder(dir).scripts_dir();
        if target_scripts.exists() {
            let old = ConfigFolder(&staging).scripts_aside();
            std::fs::rename(&target_scripts, &old)
                .map_err(|e| folder_error("replace", &target_scripts, &e))?;
        }
        std::fs::rename(&staged_scripts, &target_scripts)
            .map_err(|e| folder_error("write", &target_scripts, &e))?;
        let target_conf = ConfigFolder(dir).config_file();
        std::fs::rename(&staged_conf, &target_conf)
            .map_err(|e| folder_error("write", &target_conf, &e))?;
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&staging);
    result
}

/// What `--convert` wrote.
#[derive(Debug)]
pub struct Converted {
    /// The conversion (warnings, encoding).
    pub conversion: Conversion,
    /// Where it was written.
    pub destination: PathBuf,
    /// Why the converted configuration does not validate yet (empty when it does).
    pub problems: Option<ConfigError>,
}

/// `clpcfctrl --convert -x SRC -o DST`: writes the converted folder (TOML `clp.conf`, the
/// scripts) without applying it. `DST` must not exist, or be an empty folder.
pub fn convert(
    source: &Path,
    destination: &Path,
    hint: Option<EncodingHint>,
) -> Result<Converted, CfctrlError> {
    let (dir, text, original) = read_text(source, hint)?;
    let Some(Original { conversion, .. }) = original else {
        return Err(CfctrlError::Folder {
            message: format!(
                "{} is already a clp configuration (TOML); push it with 'clpcfctrl --push -x {}'",
                ConfigFolder(&dir).config_file().display(),
                dir.display()
            ),
        });
    };
    let destination =
        std::path::absolute(destination).unwrap_or_else(|_| destination.to_path_buf());
    let occupied =
        std::fs::read_dir(&destination).is_ok_and(|mut entries| entries.next().is_some());
    if occupied || destination.is_file() {
        return Err(CfctrlError::Folder {
            message: format!(
                "{} exists and is not empty; give a new folder with -o",
                destination.display()
            ),
        });
    }
    // Written whole beside the destination, then renamed into place.
    let name = destination
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parent = destination.parent().unwrap_or(Path::new("/"));
    let staging = crate::paths::private_to_this_process(parent, &format!("{name}.clpcfctrl"));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|error| CfctrlError::Folder {
        message: format!("cannot create {}: {error}", staging.display()),
    })?;
    let scripts = ConfigFolder(&dir).scripts_dir();
    let written = write_folder(
        &staging,
        text.as_bytes(),
        scripts.is_dir().then_some(scripts.as_path()),
    )
    .and_then(|()| {
        if destination.is_dir() {
            std::fs::remove_dir(&destination).map_err(|error| CfctrlError::Folder {
                message: format!("cannot replace {}: {error}", destination.display()),
            })?;
        }
        std::fs::rename(&staging, &destination).map_err(|error| CfctrlError::Folder {
            message: format!("cannot write {}: {error}", destination.display()),
        })
    });
    if let Err(error) = written {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(error);
    }
    let problems = config::parse_str(&text, &ConfigFolder(&destination).scripts_dir())
        .err()
        .map(|error| error.in_file(&ConfigFolder(&destination).config_file()));
    Ok(Converted {
        conversion,
        destination,
        problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_table_is_renamed_and_nothing_else() {
        let text = "# made elsewhere\n[cluster]\nname = \"c\"\n\n[[server]]\ncomment = \"old\"\nname   = \"old-host\"\n\n[[group]]\nname = \"g\"\n";
        assert_eq!(
            rename_server(text, "vm").as_deref(),
            Some(
                "# made elsewhere\n[cluster]\nname = \"c\"\n\n[[server]]\ncomment = \"old\"\nname = \"vm\"\n\n[[group]]\nname = \"g\"\n"
            )
        );
        assert_eq!(rename_server("server = [{ name = \"x\" }]\n", "vm"), None);
    }
}
