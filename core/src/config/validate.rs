//! From the file's text to a validated [`Config`], collecting every problem at once.

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

/// `[[server]]`: the servers listed, or this host when none is.
fn build_servers(problems: &mut Problems, value: Option<&toml::Value>) -> Vec<ServerConfig> {
    let items: &[toml::Value] = match value {
        None => &[],
        Some(toml::Value::Array(items)) => items,
        Some(_) => {
            problems.add("server", "must be an array of tables ([[server]])");
            return Vec::new();
        }
    };
    let servers: Vec<ServerConfig> = items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let location = format!("server[{index}]");
            let raw: RawServer = problems.deserialize(&location, item, RawServer::KEYS);
            ServerConfig {
                name: check_host_name(problems, &location, raw.name),
                comment: raw.comment.unwrap_or_default(),
                addresses: problems
                    .cluster(|found| super::cluster::addresses(found, &location, raw.addresses)),
            }
        })
        .collect();
    problems.cluster(|found| super::cluster::check_unique_servers(found, &servers));
    if servers.is_empty() {
        return vec![ServerConfig {
            name: host_name(),
            comment: String::new(),
            addresses: Vec::new(),
        }];
    }
    servers
}

/// A server's name is a host name: 1 to 63 letters, digits, '-', '_' or '.'.
fn check_host_name(problems: &mut Problems, location: &str, name: Option<String>) -> String {
    let Some(name) = name else {
        problems.add(location, "key \"name\" is missing (the host's short name)");
        return String::new();
    };
    let valid = !name.is_empty()
        && name.len() <= 63
        && !name.starts_with(['-', '.'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid {
        problems.add(
            location,
            format!(
                "name \"{}\" is not a host name: use 1 to 63 letters, digits, '-', '_' or '.'",
                name.escape_default()
            ),
        );
    }
    name
}

fn build_cluster(problems: &mut Problems, raw: RawCluster) -> ClusterConfig {
    let name = match raw.name {
        Some(name) => check_name(problems, "cluster", &Some(name)),
        None => host_name(),
    };
    let language = raw.language.unwrap_or_else(|| "en".to_string());
    if !super::language::LANGUAGES.contains(&language.as_str()) {
        problems.add(
            "cluster",
            format!("key \"language\": \"{language}\" is not supported; use \"en\" or \"ja\""),
        );
    }
    let monitor_delay_warning = match raw.monitor_delay_warning {
        None => super::DEFAULT_MONITOR_DELAY_WARNING,
        Some(rate) => u8::try_from(rate)
            .ok()
            .filter(|rate| (1..=99).contains(rate))
            .unwrap_or_else(|| {
                problems.add(
                    "cluster",
                    format!("key \"monitor_delay_warning\": {rate} is not a percentage of 1 to 99"),
                );
                super::DEFAULT_MONITOR_DELAY_WARNING
            }),
    };
    ClusterConfig {
        name,
        comment: raw.comment.unwrap_or_default(),
        language,
        disable_monitor_recovery: raw.disable_monitor_recovery.unwrap_or(false),
        monitor_delay_warning,
    }
}

fn build_mail(
    problems: &mut Problems,
    raw: RawMail,
    server_name: &str,
) -> Option<super::MailConfig> {
    use super::MailSecurity;
    let location = "mail";
    let to = raw.to.unwrap_or_default();
    if to.is_empty() {
        problems.add(
            location,
            "key \"to\" is missing: list the addresses to mail",
        );
    }
    for address in &to {
        if !is_mail_address(address) {
            problems.add(
                location,
                format!(
                    "key \"to\": \"{}\" is not a mail address",
                    address.escape_debug()
                ),
            );
        }
    }
    let from = raw.from.unwrap_or_else(|| format!("clp@{server_name}"));
    if !is_mail_address(&from) {
        problems.add(
            location,
            format!(
                "key \"from\": \"{}\" is not a mail address (without \"from\", it is clp@ and the cluster name)",
                from.escape_debug()
            ),
        );
    }
    let Some(server) = raw.server else {
        problems.add(location, "key \"server\" is missing: name the SMTP server");
        return None;
    };
    let security = match raw.security.as_deref() {
        None | Some("none") => MailSecurity::None,
        Some("starttls") => MailSecurity::Starttls,
        Some("tls") => MailSecurity::Tls,
        Some(other) => {
            problems.add(
                location,
                format!("key \"security\": \"{other}\" is not none, starttls or tls"),
            );
            MailSecurity::None
        }
    };
    let level = match raw.level.as_deref() {
        None => crate::alert::Level::Error,
        Some(word) => match crate::alert::Level::parse(word) {
            Some(crate::alert::Level::Info) | None => {
                problems.add(
                    location,
                    format!("key \"level\": \"{word}\" is not Error or Warning"),
                );
                crate::alert::Level::Error
            }
            Some(level) => level,
        },
    };
    if raw.username.is_some() != raw.password_file.is_some() {
        problems.add(
            location,
            "keys \"username\" and \"password_file\" go together",
        );
    }
    let default_port = match security {
        MailSecurity::Tls => 465,
        MailSecurity::Starttls => 587,
        MailSecurity::None => 25,
    };
    Some(super::MailConfig {
        to,
        from,
        server,
        port: raw.port.unwrap_or(default_port),
        security,
        username: raw.username,
        password_file: raw.password_file.map(PathBuf::from),
        subject: raw.subject.unwrap_or_else(|| "clp".to_string()),
        level,
        batch: seconds(
            problems,
            location,
            "batch_seconds",
            raw.batch_seconds,
            10.0,
            true,
        ),
        timeout: seconds(problems, location, "timeout", raw.timeout, 30.0, false),
        cafile: raw.cafile.map(PathBuf::from),
    })
}

/// Whether `address` is one the mail service can send to or from (what lettre reads as a
/// mailbox: `user@host` or `Name <user@host>`), with no whitespace in the address itself.
fn is_mail_address(address: &str) -> bool {
    address
        .parse::<lettre::message::Mailbox>()
        .is_ok_and(|mailbox| !mailbox.email.to_string().contains(char::is_whitespace))
        && !address.contains(char::is_control)
}

fn build_os_actions(problems: &mut Problems, raw: RawOsActions) -> OsActionsConfig {
    let defaults = OsActionsConfig::real_defaults();
    for (key, command) in [("shutdown", &raw.shutdown), ("reboot", &raw.reboot)] {
        if let Some(command) = command
            && command.first().is_none_or(|program| program.is_empty())
        {
            problems.add(
                "os_actions",
                format!("key \"{key}\": give the command as a list, e.g. [\"/sbin/shutdown\", \"-h\", \"now\"]"),
            );
        }
    }
    OsActionsConfig {
        shutdown: raw.shutdown.unwrap_or(defaults.shutdown),
        reboot: raw.reboot.unwrap_or(defaults.reboot),
        sysrq_trigger: raw
            .sysrq_trigger
            .map_or(defaults.sysrq_trigger, PathBuf::from),
        watchdog_device: raw
            .watchdog_device
            .map_or(defaults.watchdog_device, PathBuf::from),
    }
}

fn build_webmanager(problems: &mut Problems, raw: RawWebManager) -> WebManagerConfig {
    let defaults = WebManagerConfig::default();
    let listen_text = raw.listen.unwrap_or_else(|| WEBMANAGER_LISTEN.to_string());
    let listen = match listen_text.parse::<std::net::SocketAddr>() {
        Ok(listen) => listen,
        Err(_) => {
            problems.add(
                "webmanager",
                format!(
                    "key \"listen\": \"{listen_text}\" is not an address and port, e.g. \"{WEBMANAGER_LISTEN}\" or \"[::]:29003\""
                ),
            );
            defaults.listen
        }
    };
    let mut allow = Vec::new();
    for entry in raw.allow.unwrap_or_default() {
        match parse_client(&entry) {
            Some(net) => allow.push(net),
            None => problems.add(
                "webmanager",
                format!(
                    "key \"allow\": \"{entry}\" is not an IP address or a CIDR block, e.g. \"192.168.100.1\" or \"192.168.100.0/24\""
                ),
            ),
        }
    }
    let tls = match (raw.tls_cert, raw.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: PathBuf::from(cert),
            key: PathBuf::from(key),
        }),
        (None, None) => None,
        (Some(_), None) => {
            problems.add(
                "webmanager",
                "key \"tls_cert\" needs \"tls_key\" too (the certificate's private key)",
            );
            None
        }
        (None, Some(_)) => {
            problems.add(
                "webmanager",
                "key \"tls_key\" needs \"tls_cert\" too (the certificate chain)",
            );
            None
        }
    };
    let servers = raw.servers.unwrap_or_default();
    for server in &servers {
        if !(server.starts_with("http://") || server.starts_with("https://"))
            || server.len() <= "https://".len()
        {
            problems.add(
                "webmanager",
                format!(
                    "key \"servers\": \"{server}\" is not a WebManager URL, e.g. \"http://192.168.100.2:29003\""
                ),
            );
        }
    }
    let viewer_timeout = seconds(
        problems,
        "webmanager",
        "viewer_timeout",
        raw.viewer_timeout,
        defaults.viewer_timeout.as_secs_f64(),
        false,
    );
    let mut hosts = Vec::new();
    for host in raw.hosts.unwrap_or_else(|| defaults.hosts.clone()) {
        let name = host.trim().to_ascii_lowercase();
        let valid = !name.is_empty()
            && name.len() <= 253
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if valid || name.parse::<std::net::IpAddr>().is_ok() {
            hosts.push(name);
        } else {
            problems.add(
                "webmanager",
                format!(
                    "key \"hosts\": \"{host}\" is not a host name, e.g. \"clp1.example.com\" (no scheme, no port)"
                ),
            );
        }
    }
    let header_timeout = seconds(
        problems,
        "webmanager",
        "header_timeout",
        raw.header_timeout,
        defaults.header_timeout.as_secs_f64(),
        false,
    );
    let idle_timeout = seconds(
        problems,
        "webmanager",
        "idle_timeout",
        raw.idle_timeout,
        defaults.idle_timeout.as_secs_f64(),
        false,
    );
    let max_connections = match raw.max_connections {
        None => defaults.max_connections,
        Some(count @ 1..=65_536) => count as usize,
        Some(count) => {
            problems.add(
                "webmanager",
                format!("key \"max_connections\": {count} is out of range (from 1 to 65536)"),
            );
            defaults.max_connections
        }
    };
    WebManagerConfig {
        listen,
        allow,
        tls,
        servers,
        viewer_timeout,
        hosts,
        header_timeout,
        idle_timeout,
        max_connections,
    }
}

/// An allow-list entry: an address (a block of one) or a CIDR block.
fn parse_client(entry: &str) -> Option<ipnet::IpNet> {
    let entry = entry.trim();
    entry
        .parse::<ipnet::IpNet>()
        .ok()
        .or_else(|| {
            entry
                .parse::<std::net::IpAddr>()
                .ok()
                .map(ipnet::IpNet::from)
        })
        .map(|net| net.trunc())
}

fn build_failure_policy(
    problems: &mut Problems,
    location: &str,
    key: &str,
    raw: Option<&toml::Value>,
    default_action: FinalAction,
) -> FailurePolicy {
    let location = format!("{location}.{key}");
    let raw: RawFailurePolicy = match raw {
        Some(value) => problems.deserialize(&location, value, RawFailurePolicy::KEYS),
        None => RawFailurePolicy::default(),
    };
    let retry = raw.retry.unwrap_or(0);
    if retry > 99 {
        problems.add(
            &location,
            format!("key \"retry\": {retry} is out of range (0 to 99)"),
        );
    }
    FailurePolicy {
        retry: retry.min(99),
        failover_threshold: raw.failover_threshold.unwrap_or(1),
        final_action: final_action(
            problems,
            &location,
            "final_action",
            raw.final_action.as_deref(),
            default_action,
            true,
        ),
    }
}

fn resolve_script(
    problems: &mut Problems,
    location: &str,
    key: &str,
    script_dir: &Path,
    given: Option<&str>,
    default: &str,
    required: bool,
) -> Option<PathBuf> {
    let path = script_dir.join(given.unwrap_or(default));
    if path.is_file() {
        if let Err(error) = crate::process::launch_of(&path)
            && error.kind() == std::io::ErrorKind::InvalidData
        {
            problems.add(
                location,
                format!("key \"{key}\": script {}: {error}", path.display()),
            );
        }
        return Some(path);
    }
    if required || given.is_some() {
        problems.add(
            location,
            format!(
                "key \"{key}\": script {} is not found; create it or name an existing file",
                path.display()
            ),
        );
    }
    None
}

fn build_group(
    problems: &mut Problems,
    index: usize,
    value: &toml::Value,
    scripts_dir: &Path,
) -> GroupConfig {
    let raw: RawGroup =
        problems.deserialize(&location_of("group", index, value), value, RawGroup::KEYS);
    let location = match &raw.name {
        Some(name) => format!("group \"{name}\""),
        None => format!("group #{}", index + 1),
    };
    let name = check_name(problems, &location, &raw.name);
    let mut resources = Vec::new();
    for (position, item) in raw.resource.iter().flatten().enumerate() {
        let resource_location = format!("{location}.{}", location_of("resource", position, item));
        let raw_resource: RawResource =
            problems.deserialize(&resource_location, item, RawResource::KEYS);
        let table = item.as_table();
        resources.push(build_resource(
            problems,
            &location,
            &name,
            raw_resource,
            table,
            position,
            scripts_dir,
        ));
    }
    let resources = sort_by_dependencies(problems, &location, resources);
    GroupConfig {
        name,
        comment: raw.comment.unwrap_or_default(),
        auto_start: raw.auto_start.unwrap_or(true),
        servers: raw.servers.unwrap_or_default(),
        failback: raw.failback.unwrap_or(false),
        resources,
    }
}

fn build_resource(
    problems: &mut Problems,
    group_location: &str,
    group: &str,
    raw: RawResource,
    table: Option<&toml::Table>,
    position: usize,
    scripts_dir: &Path,
) -> ResourceConfig {
    let location = match &raw.name {
        Some(name) => format!("{group_location}.resource \"{name}\""),
        None => format!("{group_location}.resource #{}", position + 1),
    };
    let name = check_name(problems, &location, &raw.name);
    let kind = raw.kind.unwrap_or_else(|| "exec".to_string());
    if kind != "exec" {
        problems.add(
            &location,
            format!(
                "key \"type\": resource type \"{kind}\" is not supported; this version has \"exec\""
            ),
        );
    }
    if let Some(parameters) = &raw.parameters
        && !parameters.is_empty()
    {
        problems.unknown_keys(&format!("{location}.parameters"), parameters, &[]);
    }
    let mode = match raw.mode.as_deref() {
        None | Some("sync") => ExecMode::Sync,
        Some("async") => ExecMode::Async,
        Some(other) => {
            problems.add(
                &location,
                format!("key \"mode\": \"{other}\" is not a mode; use \"sync\" or \"async\""),
            );
            ExecMode::Sync
        }
    };
    let script_dir = scripts_dir.join(group).join(&name);
    let start = resolve_script(
        problems,
        &location,
        "start",
        &script_dir,
        raw.start.as_deref(),
        "start.sh",
        true,
    )
    .unwrap_or_else(|| crate::paths::default_start_script(&script_dir));
    let stop = resolve_script(
        problems,
        &location,
        "stop",
        &script_dir,
        raw.stop.as_deref(),
        "stop.sh",
        false,
    );
    let activation = build_failure_policy(
        problems,
        &location,
        "activation",
        table.and_then(|t| t.get("activation")),
        FinalAction::None,
    );
    let deactivation = build_failure_policy(
        problems,
        &location,
        "deactivation",
        table.and_then(|t| t.get("deactivation")),
        FinalAction::StopDaemonShutdown,
    );
    ResourceConfig {
        name,
        group: group.to_string(),
        comment: raw.comment.unwrap_or_default(),
        kind,
        start,
        stop,
        script_dir,
        mode,
        timeout: seconds(problems, &location, "timeout", raw.timeout, 1800.0, false),
        stop_timeout: seconds(
            problems,
            &location,
            "stop_timeout",
            raw.stop_timeout,
            1800.0,
            false,
        ),
        depends_on: raw.depends_on.unwrap_or_default(),
        activation,
        deactivation,
    }
}

/// Orders resources so that each comes after what it depends on, keeping config order
/// otherwise; reports unknown dependencies and cycles.
fn sort_by_dependencies(
    problems: &mut Problems,
    location: &str,
    resources: Vec<ResourceConfig>,
) -> Vec<ResourceConfig> {
    let names: HashSet<&str> = resources.iter().map(|r| r.name.as_str()).collect();
    let mut broken = false;
    for resource in &resources {
        for dependency in &resource.depends_on {
            if !names.contains(dependency.as_str()) {
                problems.add(
                    &format!("{location}.resource \"{}\"", resource.name),
                    format!("key \"depends_on\": \"{dependency}\" is not a resource of this group"),
                );
                broken = true;
            }
        }
    }
    if broken {
        return resources;
    }
    let mut placed: Vec<ResourceConfig> = Vec::with_capacity(resources.len());
    let mut pending = resources;
    while !pending.is_empty() {
        let ready = pending.iter().position(|candidate| {
            candidate
                .depends_on
                .iter()
                .all(|dependency| placed.iter().any(|p| &p.name == dependency))
        });
        match ready {
            Some(index) => placed.push(pending.remove(index)),
            None => {
                let cycle: Vec<&str> = pending.iter().map(|r| r.name.as_str()).collect();
                problems.add(
                    location,
                    format!(
                        "resources {} depend on each other in a cycle",
                        cycle.join(", ")
                    ),
                );
                placed.append(&mut pending);
            }
        }
    }
    placed
}

fn check_unique_names(problems: &mut Problems, groups: &[GroupConfig]) {
    let mut groups_seen = HashSet::new();
    let mut resources_seen: HashMap<&str, &str> = HashMap::new();
    for group in groups {
        if !groups_seen.insert(group.name.as_str()) {
            problems.add(
                &format!("group \"{}\"", group.name),
                "the name is used by another group",
            );
        }
        for resource in &group.resources {
            if let Some(other) = resources_seen.insert(resource.name.as_str(), group.name.as_str())
            {
                problems.add(
                    &format!("group \"{}\".resource \"{}\"", group.name, resource.name),
                    format!("the name is used by a resource of group \"{other}\""),
                );
            }
        }
    }
}

fn build_monitor(
    problems: &mut Problems,
    index: usize,
    value: &toml::Value,
    groups: &[GroupConfig],
) -> Option<MonitorConfig> {
    let first_location = location_of("monitor", index, value);
    let raw: RawMonitor = problems.deserialize(&first_location, value, RawMonitor::KEYS);
    let location = match &raw.name {
        Some(name) => format!("monitor \"{name}\""),
        None => first_location,
    };
    let name = check_name(problems, &location, &raw.name);
    let Some(kind) = raw.kind.clone() else {
        problems.add(&location, "key \"type\" is missing");
        return None;
    };
    let Some(spec) = registry::spec(&kind) else {
        let kinds = registry::kinds();
        let hint = closest(&kind, &kinds)
            .map(|s| format!(" (did you mean \"{s}\"?)"))
            .unwrap_or_default();
        problems.add(
            &location,
            format!(
                "key \"type\": unknown monitor type \"{kind}\"{hint}; known types: {}",
                kinds.join(", ")
            ),
        );
        return None;
    };
    let find_resource = |name: &str| {
        groups
            .iter()
            .flat_map(|g| g.resources.iter())
            .find(|r| r.name == name)
    };

    let timing = match (raw.timing.as_deref(), spec.forced_timing) {
        (_, Some(forced)) => forced,
        (None | Some("always"), None) => Timing::Always,
        (Some("active"), None) => Timing::Active,
        (Some(other), None) => {
            problems.add(
                &location,
                format!(
                    "key \"timing\": \"{other}\" is not a timing; use \"always\" or \"active\""
                ),
            );
            Timing::Always
        }
    };
    match (&raw.target, spec.target_rule) {
        (None, TargetRule::AsyncExecResource) => {
            problems.add(
                &location,
                format!("key \"target\" is missing: a {kind} monitor watches an exec resource with mode = \"async\""),
            );
        }
        (Some(target), TargetRule::AsyncExecResource) => match find_resource(target) {
            None => problems.add(
                &location,
                format!("key \"target\": \"{target}\" is not a resource of this configuration"),
            ),
            Some(resource) if resource.mode != ExecMode::Async => problems.add(
                &location,
                format!(
                    "key \"target\": resource \"{target}\" has mode \"sync\"; {kind} watches the process of an async exec resource"
                ),
            ),
            Some(_) => {}
        },
        (Some(target), TargetRule::Optional) => {
            if find_resource(target).is_none() {
                problems.add(
                    &location,
                    format!("key \"target\": \"{target}\" is not a resource of this configuration"),
                );
            }
        }
        (None, TargetRule::Optional) if timing == Timing::Active => problems.add(
            &location,
            "key \"target\" is missing: timing = \"active\" needs the resource it follows",
        ),
        (None, TargetRule::Optional) => {}
    }

    let parameters = raw.parameters.clone().unwrap_or_default();
    for problem in (spec.check_parameters)(&parameters) {
        problems.add(&format!("{location}.parameters"), problem);
    }

    let recovery_location = format!("{location}.recovery");
    let raw_recovery: RawRecovery = match value.as_table().and_then(|t| t.get("recovery")) {
        Some(recovery) => problems.deserialize(&recovery_location, recovery, RawRecovery::KEYS),
        None => RawRecovery::default(),
    };
    let recovery_target = match raw_recovery.target.as_deref() {
        Some("local-server" | "LocalServer") => RecoveryTarget::LocalServer,
        Some(target) => {
            let is_group = groups.iter().any(|g| g.name == target);
            let is_resource = find_resource(target).is_some();
            match (is_group, is_resource) {
                (true, true) => {
                    problems.add(
                        &recovery_location,
                        format!("key \"target\": \"{target}\" names both a group and a resource; rename one"),
                    );
                    RecoveryTarget::LocalServer
                }
                (true, false) => RecoveryTarget::Group(target.to_string()),
                (false, true) => RecoveryTarget::Resource(target.to_string()),
                (false, false) => {
                    problems.add(
                        &recovery_location,
                        format!(
                            "key \"target\": \"{target}\" is not a group, a resource or \"local-server\""
                        ),
                    );
                    RecoveryTarget::LocalServer
                }
            }
        }
        None => match (spec.default_recovery, &raw.target) {
            (DefaultRecovery::Target, Some(target)) => RecoveryTarget::Resource(target.clone()),
            _ => RecoveryTarget::LocalServer,
        },
    };
    let reactivation_threshold = raw_recovery.reactivation_threshold.unwrap_or(3);
    if reactivation_threshold > 99 {
        problems.add(
            &recovery_location,
            format!(
                "key \"reactivation_threshold\": {reactivation_threshold} is out of range (0 to 99)"
            ),
        );
    }
    let recovery = RecoveryPolicy {
        target: recovery_target,
        reactivation_threshold: reactivation_threshold.min(99),
        failover_threshold: raw_recovery.failover_threshold.unwrap_or(0),
        final_action: final_action(
            problems,
            &recovery_location,
            "final_action",
            raw_recovery.final_action.as_deref(),
            FinalAction::None,
            false,
        ),
    };
    let retry = raw.retry.unwrap_or(spec.retry);
    if retry > 999 {
        problems.add(
            &location,
            format!("key \"retry\": {retry} is out of range (0 to 999)"),
        );
    }
    let nice = raw.nice.unwrap_or(0);
    if !(-20..=19).contains(&nice) {
        problems.add(
            &location,
            format!("key \"nice\": {nice} is out of range (-20 to 19)"),
        );
    }
    Some(MonitorConfig {
        comment: raw
            .comment
            .unwrap_or_else(|| spec.default_comment.to_string()),
        target: raw.target,
        interval: seconds(
            problems,
            &location,
            "interval",
            raw.interval,
            spec.interval,
            false,
        ),
        timeout: seconds(
            problems,
            &location,
            "timeout",
            raw.timeout,
            spec.timeout,
            false,
        ),
        retry,
        wait_before_start: seconds(
            problems,
            &location,
            "wait_before_start",
            raw.wait_before_start,
            0.0,
            true,
        ),
        timing,
        nice,
        recovery,
        parameters,
        name,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        parse_str(text, Path::new("/nonexistent"))
    }

    #[test]
    fn the_default_document_is_one_userw() {
        let config = parse(super::super::DEFAULT_CONFIG).unwrap();
        assert_eq!(config.monitors.len(), 1);
        assert_eq!(config.monitors[0].kind, "userw");
        assert_eq!(config.monitors[0].comment, "user mode monitor");
        assert_eq!(
            config.monitors[0].recovery.target,
            RecoveryTarget::LocalServer
        );
        assert!(config.groups.is_empty());
    }

    #[test]
    fn without_a_server_section_the_one_server_is_this_host() {
        let config = parse("[cluster]\nname = \"demo\"\n").unwrap();
        assert_eq!(config.cluster.name, "demo");
        assert_eq!(config.servers.len(), 1);
        assert_eq!(config.servers[0].name, host_name());
        assert_eq!(config.server_name(), host_name());
        assert!(config.local_server().is_some());
    }

    #[test]
    fn a_server_section_names_the_host_with_its_comment() {
        let config = parse(&format!(
            "[cluster]\nname = \"demo\"\ncomment = \"the cluster\"\n\n[[server]]\nname = \"{}\"\ncomment = \"primary\"\n",
            host_name().to_uppercase()
        ))
        .unwrap();
        // Host names compare case-insensitively.
        assert_eq!(config.server_comment(), "primary");
        let other = parse("[[server]]\nname = \"old-host.example.com\"\n").unwrap();
        assert!(other.local_server().is_none());
        assert_eq!(other.server_comment(), "");
        assert_eq!(other.server_name(), host_name());
    }

    #[test]
    fn a_bad_server_section_is_refused_with_every_problem() {
        let error = parse(
            "[[server]]\nname = \"a b\"\ncoment = \"x\"\n\n[[server]]\ncomment = \"no name\"\n",
        )
        .unwrap_err()
        .to_string();
        // Two servers are a cluster: without [etcd] that is said too.
        assert!(
            error.contains("etcd: 2 servers are listed, so the cluster needs etcd"),
            "{error}"
        );
        assert!(
            error.contains("server[0]: name \"a b\" is not a host name"),
            "{error}"
        );
        assert!(
            error.contains("server[0]: unknown key \"coment\""),
            "{error}"
        );
        assert!(
            error.contains("server[1]: key \"name\" is missing"),
            "{error}"
        );
    }

    #[test]
    fn a_name_with_a_control_character_is_refused_and_shown_escaped() {
        let error = parse(
            "[cluster]\nname = \"c\\u001b[2J\"\n[[monitor]]\nname = \"u\\nfake\"\ntype = \"userw\"\n",
        )
        .unwrap_err();
        let text = error.to_string();
        assert!(!text.contains('\u{1b}'), "{text:?}");
        assert_eq!(
            error.problems(),
            [
                "clp.conf: cluster: name \"c\\u{1b}[2J\" holds a control character (shown escaped): use 1 to 31 letters, digits, '-' or '_'",
                "clp.conf: monitor \"u\\nfake\": name \"u\\nfake\" holds a control character (shown escaped): use 1 to 31 letters, digits, '-' or '_'",
            ]
        );
    }

    #[test]
    fn a_typo_is_refused_with_a_suggestion() {
        let error = parse("[[monitor]]\nname = \"u\"\ntype = \"userw\"\nintervall = 3\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "clp.conf: monitor \"u\": unknown key \"intervall\" (did you mean \"interval\"?)"
        );
    }

    #[test]
    fn every_problem_is_listed() {
        let text = r#"
[cluster]
nmae = "x"
[[monitor]]
name = "a"
type = "usrw"
[[monitor]]
name = "b"
type = "userw"
retry = "three"
[monitor.recovery]
final_action = "explode"
"#;
        let problems = parse(text).unwrap_err().problems();
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(problems[0].contains("unknown key \"nmae\" (did you mean \"name\"?)"));
        assert!(problems[1].contains("unknown monitor type \"usrw\" (did you mean \"userw\"?)"));
        assert!(
            problems[2].contains("monitor #3") || problems[2].contains("key \"retry\""),
            "{}",
            problems[2]
        );
        assert!(problems[3].contains("unknown final action \"explode\""));
    }

    #[test]
    fn a_number_of_seconds_written_as_a_word_says_what_is_accepted() {
        let error = parse("[[monitor]]\nname = \"u\"\ntype = \"userw\"\ninterval = \"five\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "clp.conf: monitor \"u\": key \"interval\": invalid type: string \"five\", expected a number of seconds such as 5 or 0.5"
        );
    }

    #[test]
    fn seconds_out_of_range_are_echoed_as_written() {
        let problem = |value: &str| {
            parse(&format!(
                "[[monitor]]\nname = \"u\"\ntype = \"userw\"\ninterval = {value}\n"
            ))
            .unwrap_err()
            .problems()
        };
        assert_eq!(
            problem("9223372036854775807"),
            [
                "clp.conf: monitor \"u\": key \"interval\": 9223372036854775807 is out of range (more than 0, up to 999999 seconds)"
            ]
        );
        assert_eq!(
            problem("-9223372036854775808"),
            [
                "clp.conf: monitor \"u\": key \"interval\": -9223372036854775808 is out of range (more than 0, up to 999999 seconds)"
            ]
        );
        assert_eq!(
            problem("1000000"),
            [
                "clp.conf: monitor \"u\": key \"interval\": 1000000 is out of range (more than 0, up to 999999 seconds)"
            ]
        );
        assert_eq!(
            problem("0"),
            [
                "clp.conf: monitor \"u\": key \"interval\": 0 is out of range (more than 0, up to 999999 seconds)"
            ]
        );
        assert!(problem("999999.5")[0].contains("999999.5 is out of range"));
        let config = parse("[[monitor]]\nname = \"u\"\ntype = \"userw\"\ninterval = 999999\nwait_before_start = 0\ntimeout = 0.25\n").unwrap();
        assert_eq!(config.monitors[0].interval, Duration::from_secs(999_999));
        assert_eq!(config.monitors[0].wait_before_start, Duration::ZERO);
        assert_eq!(config.monitors[0].timeout, Duration::from_millis(250));
    }

    #[test]
    fn a_bad_integer_in_a_nested_table_is_reported_once_under_its_own_path() {
        let dir = tempfile::tempdir().unwrap();
        let script_dir = dir.path().join("g").join("r");
        std::fs::create_dir_all(&script_dir).unwrap();
        std::fs::write(script_dir.join("start.sh"), "#!/bin/sh\n").unwrap();
        let text = r#"
[[group]]
name = "g"
[[group.resource]]
name = "r"
[group.resource.activation]
retry = -1
[group.resource.deactivation]
retry = 4294967296
[[monitor]]
name = "u"
type = "userw"
retry = -1
[monitor.recovery]
reactivation_threshold = -1
"#;
        let problems = parse_str(text, dir.path()).unwrap_err().problems();
        assert_eq!(
            problems,
            [
                "clp.conf: group \"g\".resource \"r\".activation: key \"retry\": -1 is not accepted; expected a whole number from 0 to 4294967295",
                "clp.conf: group \"g\".resource \"r\".deactivation: key \"retry\": 4294967296 is not accepted; expected a whole number from 0 to 4294967295",
                "clp.conf: monitor \"u\": key \"retry\": -1 is not accepted; expected a whole number from 0 to 4294967295",
                "clp.conf: monitor \"u\".recovery: key \"reactivation_threshold\": -1 is not accepted; expected a whole number from 0 to 4294967295",
            ]
        );
    }

    #[test]
    fn a_nested_table_of_the_wrong_type_is_reported_once() {
        let problems = parse("[[monitor]]\nname = \"u\"\ntype = \"userw\"\nrecovery = 3\n")
            .unwrap_err()
            .problems();
        assert_eq!(
            problems,
            ["clp.conf: monitor \"u\".recovery: must be a table"]
        );
    }

    #[test]
    fn the_webmanager_table_has_the_originals_defaults() {
        let config = parse("").unwrap();
        assert_eq!(config.webmanager.listen.to_string(), "0.0.0.0:29003");
        assert!(config.webmanager.allow.is_empty());
        assert_eq!(config.webmanager.tls, None);
        let config = parse(
            "[webmanager]\nlisten = \"127.0.0.1:0\"\nallow = [\"10.1.2.3\", \"192.168.100.7/24\"]\nservers = [\"http://127.0.0.1:29003\"]\n",
        )
        .unwrap();
        let allow: Vec<String> = config
            .webmanager
            .allow
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(allow, ["10.1.2.3/32", "192.168.100.0/24"]);
        assert_eq!(config.webmanager.servers, ["http://127.0.0.1:29003"]);
    }

    #[test]
    fn the_webmanager_limits_have_defaults_and_are_checked() {
        let defaults = parse("").unwrap().webmanager;
        assert_eq!(defaults.header_timeout, Duration::from_secs(10));
        assert_eq!(defaults.idle_timeout, Duration::from_secs(120));
        assert_eq!(defaults.max_connections, 256);
        assert!(defaults.hosts.contains(&"localhost".to_string()));
        let config = parse(
            "[webmanager]\nhosts = [\"CLP1.example.com\", \"::1\"]\nheader_timeout = 2\nidle_timeout = 0.5\nmax_connections = 8\n",
        )
        .unwrap()
        .webmanager;
        assert_eq!(config.hosts, ["clp1.example.com", "::1"]);
        assert_eq!(config.header_timeout, Duration::from_secs(2));
        assert_eq!(config.idle_timeout, Duration::from_millis(500));
        assert_eq!(config.max_connections, 8);
        let problems = parse(
            "[webmanager]\nhosts = [\"http://x:80\"]\nheader_timeout = 0\nidle_timeout = -1\nmax_connections = 0\n",
        )
        .unwrap_err()
        .problems();
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(
            problems[0].contains("\"http://x:80\" is not a host name"),
            "{problems:#?}"
        );
        assert!(
            problems[1].contains("\"header_timeout\": 0 is out of range"),
            "{problems:#?}"
        );
        assert!(
            problems[2].contains("\"idle_timeout\": -1 is out of range"),
            "{problems:#?}"
        );
        assert!(
            problems[3].contains("\"max_connections\": 0 is out of range"),
            "{problems:#?}"
        );
    }

    #[test]
    fn every_webmanager_problem_is_listed() {
        let text = r#"
[webmanager]
listen = "everywhere"
allow = ["10.0.0.0/33", "localhost"]
tls_cert = "cert.pem"
servers = ["ftp://x"]
alow = []
"#;
        let problems = parse(text).unwrap_err().problems();
        assert_eq!(problems.len(), 6, "{problems:#?}");
        assert!(problems[0].contains("unknown key \"alow\" (did you mean \"allow\"?)"));
        assert!(problems[1].contains("\"everywhere\" is not an address and port"));
        assert!(problems[2].contains("\"10.0.0.0/33\" is not an IP address or a CIDR block"));
        assert!(problems[3].contains("\"localhost\" is not an IP address"));
        assert!(problems[4].contains("\"tls_cert\" needs \"tls_key\""));
        assert!(problems[5].contains("\"ftp://x\" is not a WebManager URL"));
    }

    #[test]
    fn a_syntax_error_names_the_line() {
        let error = parse("[cluster\nname=1").unwrap_err().to_string();
        assert!(error.contains("line 1"), "{error}");
    }

    #[test]
    fn a_script_with_crlf_line_endings_is_a_problem_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let script_dir = dir.path().join("g").join("r");
        std::fs::create_dir_all(&script_dir).unwrap();
        std::fs::write(script_dir.join("start.sh"), "#!/bin/sh\r\nexit 0\r\n").unwrap();
        let text = "[[group]]\nname = \"g\"\n[[group.resource]]\nname = \"r\"\n";
        let error = parse_str(text, dir.path()).unwrap_err().to_string();
        assert!(error.contains("start.sh"), "{error}");
        assert!(error.contains("CRLF"), "{error}");
        assert!(error.contains("dos2unix"), "{error}");
        std::fs::write(script_dir.join("start.sh"), "exit 0\n").unwrap();
        parse_str(text, dir.path()).unwrap();
    }

    #[test]
    fn pidw_needs_an_async_exec_resource() {
        let dir = tempfile::tempdir().unwrap();
        let script_dir = dir.path().join("g").join("r");
        std::fs::create_dir_all(&script_dir).unwrap();
        std::fs::write(script_dir.join("start.sh"), "#!/bin/sh\n").unwrap();
        let text = r#"
[[group]]
name = "g"
[[group.resource]]
name = "r"
[[monitor]]
name = "p"
type = "pidw"
target = "r"
"#;
        let error = parse_str(text, dir.path()).unwrap_err().to_string();
        assert!(error.contains("has mode \"sync\""), "{error}");
        let ok = parse_str(
            &text.replace("name = \"r\"\n", "name = \"r\"\nmode = \"async\"\n"),
            dir.path(),
        )
        .unwrap();
        let pidw = ok.monitor("p").unwrap();
        assert_eq!(pidw.timing, Timing::Active);
        assert_eq!(pidw.recovery.target, RecoveryTarget::Resource("r".into()));
        assert_eq!(pidw.interval, Duration::from_secs(5));
    }

    #[test]
    fn resources_start_after_their_dependencies() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a", "b", "c"] {
            let script_dir = dir.path().join("g").join(name);
            std::fs::create_dir_all(&script_dir).unwrap();
            std::fs::write(script_dir.join("start.sh"), "#!/bin/sh\n").unwrap();
        }
        let text = r#"
[[group]]
name = "g"
[[group.resource]]
name = "a"
depends_on = ["c"]
[[group.resource]]
name = "b"
[[group.resource]]
name = "c"
"#;
        let config = parse_str(text, dir.path()).unwrap();
        let order: Vec<&str> = config.groups[0]
            .resources
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(order, ["b", "c", "a"]);
        let cyclic = text.replace("name = \"c\"\n", "name = \"c\"\ndepends_on = [\"a\"]\n");
        let error = parse_str(&cyclic, dir.path()).unwrap_err().to_string();
        assert!(error.contains("cycle"), "{error}");
    }

    #[test]
    fn mail_addresses_are_checked_as_the_mail_service_reads_them() {
        // Found by the fuzzer (fuzz/ ftp_mail): "from" was not checked and "to" only for
        // an "@", so a configuration was accepted whose every mail then failed to build.
        for (mail, key) in [
            (
                "to = [\"ops@example.com\"]\nfrom = \"clp~examp|e.com\"\n",
                "from",
            ),
            ("to = [\"@\"]\n", "to"),
            ("to = [\"a@b@c\"]\n", "to"),
            ("to = [\"ops@exa\\u0001mple.com\"]\n", "to"),
        ] {
            let text = format!("[cluster]\nname = \"zabi\"\n[mail]\nserver = \"smtp\"\n{mail}");
            let error = parse(&text).expect_err(mail).to_string();
            assert!(
                error.contains(&format!("key \"{key}\"")),
                "{mail:?}: {error}"
            );
            assert!(error.contains("is not a mail address"), "{mail:?}: {error}");
        }
        let text = "[cluster]\nname = \"zabi\"\n[mail]\nserver = \"smtp\"\nto = [\"Ops <ops@example.com>\", \"b@example.com\"]\n";
        let mail = parse(text).unwrap().mail.unwrap();
        let event =
            crate::alert::AlertEvent::custom("zabi", "rm", 9, crate::alert::Level::Error, "m");
        assert!(crate::mail::compose(&mail, &[event]).is_ok());
    }
}
