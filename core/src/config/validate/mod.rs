//! From the file's text to a validated [`Config`], collecting every problem at once.
//!
//! Here: the problem list and [`parse_str`], which walks the document; the sections are
//! checked in `settings.rs` (servers, cluster, mail, OS actions, WebManager), `groups.rs`
//! (groups, resources, scripts, dependencies) and `monitors.rs` (each type through its spec).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;

use super::raw::{
    RawAlert, RawCluster, RawEtcd, RawFailurePolicy, RawGroup, RawHeartbeat, RawMail, RawMonitor,
    RawOsActions, RawRecovery, RawResource, RawServer, RawWebManager, Seconds, TOP_KEYS,
};
use super::{
    AlertConfig, ClusterConfig, Config, ExecMode, FailurePolicy, FinalAction, GroupConfig,
    MonitorConfig, OsActionsConfig, RecoveryPolicy, RecoveryTarget, ResourceConfig, ServerConfig,
    Timing, TlsFiles, WEBMANAGER_LISTEN, WebManagerConfig, host_name,
};
use crate::monitor::registry;
use crate::monitor::spec::{DefaultRecovery, TargetRule};
use crate::suggest::{closest, unknown_key_message};

mod groups;
mod monitors;
mod settings;

use groups::{build_group, check_unique_names};
use monitors::build_monitor;
use settings::{build_cluster, build_mail, build_os_actions, build_servers, build_webmanager};

/// One thing wrong in a configuration: where (`monitor "httpw"`) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The object and key, e.g. `monitor "httpw"` or `group "web".resource "exec"`.
    pub location: String,
    /// What is wrong and, where it helps, what to write instead.
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    /// One line, whatever the names in it hold (control characters escaped).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::escape::escape;
        if self.location.is_empty() {
            write!(f, "{}", escape(&self.message))
        } else {
            write!(f, "{}: {}", escape(&self.location), escape(&self.message))
        }
    }
}

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but could not be read.
    #[error("{}: cannot read: {source}", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The text is not TOML.
    #[error(
        "{}: not valid TOML: {}",
        file_name(file),
        crate::escape::escape_lines(message)
    )]
    Syntax {
        /// The file, once known.
        file: Option<PathBuf>,
        /// The parser's message (with line and column).
        message: String,
    },
    /// The TOML is well-formed but its content is wrong; every problem is listed.
    #[error("{}", render_problems(file, problems))]
    Invalid {
        /// The file, once known.
        file: Option<PathBuf>,
        /// Every problem found.
        problems: Vec<ConfigProblem>,
    },
}

fn file_name(file: &Option<PathBuf>) -> String {
    file.as_ref()
        .map_or_else(|| "clp.conf".to_string(), |f| f.display().to_string())
}

fn render_problems(file: &Option<PathBuf>, problems: &[ConfigProblem]) -> String {
    let name = file_name(file);
    problems
        .iter()
        .map(|problem| format!("{name}: {problem}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl ConfigError {
    /// Names the file the text came from.
    pub fn in_file(self, path: &Path) -> Self {
        match self {
            ConfigError::Syntax { message, .. } => ConfigError::Syntax {
                file: Some(path.to_path_buf()),
                message,
            },
            ConfigError::Invalid { problems, .. } => ConfigError::Invalid {
                file: Some(path.to_path_buf()),
                problems,
            },
            other => other,
        }
    }

    /// The problems, one per line of the message.
    pub fn problems(&self) -> Vec<String> {
        self.to_string().lines().map(str::to_string).collect()
    }
}

/// Collects problems while walking the document.
#[derive(Default)]
struct Problems(Vec<ConfigProblem>);

impl Problems {
    /// Runs a check of `super::cluster`, adding what it finds.
    fn cluster<T>(&mut self, check: impl FnOnce(&mut super::cluster::Problems) -> T) -> T {
        let mut found = super::cluster::Problems::default();
        let value = check(&mut found);
        for (location, message) in found.0 {
            self.add(&location, message);
        }
        value
    }

    fn add(&mut self, location: &str, message: impl Into<String>) {
        self.0.push(ConfigProblem {
            location: location.to_string(),
            message: message.into(),
        });
    }

    /// Reports every key of `table` not in `known`, with a suggestion when one is close.
    fn unknown_keys(&mut self, location: &str, table: &toml::Table, known: &[&str]) {
        for key in table.keys() {
            if !known.contains(&key.as_str()) {
                self.add(location, unknown_key_message(key, known));
            }
        }
    }

    /// Deserializes one table, reporting type errors with the key that holds them.
    fn deserialize<T: DeserializeOwned + Default>(
        &mut self,
        location: &str,
        value: &toml::Value,
        known: &[&str],
    ) -> T {
        let Some(table) = value.as_table() else {
            self.add(location, "must be a table");
            return T::default();
        };
        self.unknown_keys(location, table, known);
        let mut known_only = table.clone();
        known_only.retain(|key, _| known.contains(&key));
        // A wrong type drops that key and the rest is read again, so every wrong key is
        // reported, not only the first.
        loop {
            match serde_path_to_error::deserialize(toml::Value::Table(known_only.clone())) {
                Ok(parsed) => return parsed,
                Err(error) => {
                    let path = error.path().to_string();
                    let first = error
                        .path()
                        .iter()
                        .next()
                        .and_then(|segment| match segment {
                            serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                            _ => None,
                        });
                    let inner = error.into_inner().to_string();
                    // toml adds "in `key`" on a second line; the path already says it.
                    let inner = plain_words(inner.lines().next().unwrap_or_default().trim_end());
                    let inner = inner.as_str();
                    if path.is_empty() || path == "." {
                        self.add(location, inner);
                    } else {
                        self.add(location, format!("key \"{path}\": {inner}"));
                    }
                    match first {
                        Some(key) if known_only.remove(&key).is_some() => {}
                        _ => return T::default(),
                    }
                }
            }
        }
    }
}

/// serde's message in an operator's words: `invalid value: integer `-1`, expected u32`
/// becomes `-1 is not accepted; expected a whole number from 0 to 4294967295`, and a wrong
/// type names what was written (`invalid type: string "five", expected ...`).
fn plain_words(message: &str) -> String {
    const RANGES: &[(&str, &str)] = &[
        ("u8", "a whole number from 0 to 255"),
        ("u16", "a whole number from 0 to 65535"),
        ("u32", "a whole number from 0 to 4294967295"),
        ("u64", "a whole number from 0 to 18446744073709551615"),
        ("i8", "a whole number from -128 to 127"),
        ("i16", "a whole number from -32768 to 32767"),
        ("i32", "a whole number from -2147483648 to 2147483647"),
        ("i64", "a whole number"),
    ];
    let mut text = message.to_string();
    if let Some((_, expected)) = text.rsplit_once(", expected ")
        && let Some((_, words)) = RANGES.iter().find(|(name, _)| *name == expected)
    {
        let cut = text.len() - expected.len();
        text.replace_range(cut.., words);
    }
    // `invalid value: integer `-1`, expected ...` → `-1 is not accepted; expected ...`.
    if let Some(rest) = text.strip_prefix("invalid value: integer `")
        && let Some((value, expected)) = rest.split_once("`, expected ")
    {
        return format!("{value} is not accepted; expected {expected}");
    }
    text
}

/// `monitor "name"` when the table names itself, `monitor #N` otherwise.
fn location_of(kind: &str, index: usize, value: &toml::Value) -> String {
    match value.get("name").and_then(toml::Value::as_str) {
        Some(name) => format!("{kind} \"{name}\""),
        None => format!("{kind} #{}", index + 1),
    }
}

/// The longest time any key accepts, in seconds.
const MAX_SECONDS: f64 = 999_999.0;

fn seconds(
    problems: &mut Problems,
    location: &str,
    key: &str,
    value: Option<Seconds>,
    default: f64,
    allow_zero: bool,
) -> Duration {
    let Some(value) = value else {
        return Duration::from_secs_f64(default);
    };
    let valid = value.within(0.0, MAX_SECONDS) && (allow_zero || value.as_f64() > 0.0);
    if !valid {
        let range = if allow_zero {
            "from 0 to 999999 seconds"
        } else {
            "more than 0, up to 999999 seconds"
        };
        problems.add(
            location,
            format!("key \"{key}\": {value} is out of range ({range})"),
        );
        return Duration::from_secs_f64(default);
    }
    Duration::from_secs_f64(value.as_f64())
}

fn final_action(
    problems: &mut Problems,
    location: &str,
    key: &str,
    word: Option<&str>,
    default: FinalAction,
    allow_continue: bool,
) -> FinalAction {
    let Some(word) = word else {
        return default;
    };
    match FinalAction::parse(word) {
        Some(FinalAction::Continue) if !allow_continue => {
            problems.add(
                location,
                format!("key \"{key}\": \"continue\" is for group resources only"),
            );
            default
        }
        Some(action) => action,
        None => {
            let words: Vec<&str> = FinalAction::ALL
                .iter()
                .map(|(_, word)| *word)
                .filter(|word| allow_continue || *word != "continue")
                .collect();
            let hint = closest(word, &words)
                .map(|s| format!(" (did you mean \"{s}\"?)"))
                .unwrap_or_default();
            problems.add(
                location,
                format!(
                    "key \"{key}\": unknown final action \"{word}\"{hint}; one of: {}",
                    words.join(", ")
                ),
            );
            default
        }
    }
}

fn check_name(problems: &mut Problems, location: &str, name: &Option<String>) -> String {
    match name {
        None => {
            problems.add(location, "key \"name\" is missing");
            String::new()
        }
        Some(name) if name.chars().any(crate::escape::is_escaped) => {
            problems.add(
                location,
                format!(
                    "name \"{name}\" holds a control character (shown escaped): use 1 to 31 letters, digits, '-' or '_'"
                ),
            );
            name.clone()
        }
        Some(name)
            if name.is_empty()
                || name.len() > 31
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                || name.starts_with('-') =>
        {
            problems.add(
                location,
                format!(
                    "name \"{name}\" is not valid: use 1 to 31 letters, digits, '-' or '_', not starting with '-'"
                ),
            );
            name.clone()
        }
        Some(name) => name.clone(),
    }
}

/// Parses and validates a configuration; scripts are looked up under `scripts_dir`.
pub fn parse_str(text: &str, scripts_dir: &Path) -> Result<Config, ConfigError> {
    let document: toml::Table =
        text.parse()
            .map_err(|error: toml::de::Error| ConfigError::Syntax {
                file: None,
                message: error.to_string().trim_end().replace('\n', " "),
            })?;
    let mut problems = Problems::default();
    problems.unknown_keys("", &document, TOP_KEYS);

    let empty = toml::Value::Table(toml::Table::new());
    let raw_cluster: RawCluster = problems.deserialize(
        "cluster",
        document.get("cluster").unwrap_or(&empty),
        RawCluster::KEYS,
    );
    let raw_alert: RawAlert = problems.deserialize(
        "alert",
        document.get("alert").unwrap_or(&empty),
        RawAlert::KEYS,
    );
    let raw_os: RawOsActions = problems.deserialize(
        "os_actions",
        document.get("os_actions").unwrap_or(&empty),
        RawOsActions::KEYS,
    );

    let raw_webmanager: RawWebManager = problems.deserialize(
        "webmanager",
        document.get("webmanager").unwrap_or(&empty),
        RawWebManager::KEYS,
    );

    let cluster = build_cluster(&mut problems, raw_cluster);
    let servers = build_servers(&mut problems, document.get("server"));
    let etcd = document.get("etcd").and_then(|value| {
        let raw: RawEtcd = problems.deserialize("etcd", value, RawEtcd::KEYS);
        problems.cluster(|found| super::cluster::etcd(found, raw))
    });
    let raw_heartbeat: RawHeartbeat = problems.deserialize(
        "heartbeat",
        document.get("heartbeat").unwrap_or(&empty),
        RawHeartbeat::KEYS,
    );
    let heartbeat = problems.cluster(|found| super::cluster::heartbeat(found, raw_heartbeat));
    let alert = AlertConfig {
        max_records: raw_alert.max_records.unwrap_or(10_000).max(1),
        file_max_bytes: raw_alert.file_max_bytes.unwrap_or(1 << 20).max(1024),
        syslog: raw_alert.syslog.unwrap_or(false),
    };
    let os_actions = build_os_actions(&mut problems, raw_os);
    let mail = match document.get("mail") {
        None => None,
        Some(value) => {
            let raw: RawMail = problems.deserialize("mail", value, RawMail::KEYS);
            build_mail(&mut problems, raw, &cluster.name)
        }
    };
    let webmanager = build_webmanager(&mut problems, raw_webmanager);

    let groups = match document.get("group") {
        None => Vec::new(),
        Some(toml::Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(index, item)| build_group(&mut problems, index, item, scripts_dir))
            .collect(),
        Some(_) => {
            problems.add("group", "must be an array of tables ([[group]])");
            Vec::new()
        }
    };
    check_unique_names(&mut problems, &groups);
    problems.cluster(|found| super::cluster::check_cluster(found, &servers, &etcd, &groups));

    let monitors = match document.get("monitor") {
        None => Vec::new(),
        Some(toml::Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(index, item)| build_monitor(&mut problems, index, item, &groups))
            .collect(),
        Some(_) => {
            problems.add("monitor", "must be an array of tables ([[monitor]])");
            Vec::new()
        }
    };
    let mut seen = HashSet::new();
    for monitor in &monitors {
        if !seen.insert(monitor.name.as_str()) {
            problems.add(
                &format!("monitor \"{}\"", monitor.name),
                "the name is used by another monitor",
            );
        }
    }

    if !problems.0.is_empty() {
        return Err(ConfigError::Invalid {
            file: None,
            problems: problems.0,
        });
    }
    Ok(Config {
        cluster,
        servers,
        etcd,
        heartbeat,
        alert,
        mail,
        os_actions,
        webmanager,
        groups,
        monitors,
        scripts_dir: scripts_dir.to_path_buf(),
    })
}

#[cfg(test)]
mod tests;
