//! The configuration: `$CLP_ROOT/etc/clp.conf` (TOML), its validated model, and loading.
//!
//! Loading is two stages: [`raw`] holds what the file says, `validate` turns it into a
//! [`Config`] with every default applied and every cross-reference checked, collecting
//! *all* problems. Only a validated [`Config`] reaches the engine.

pub mod cfget;
pub mod cfset;
mod cluster;
pub mod diff;
pub mod language;
pub mod original;
pub mod raw;
pub mod secrets;
mod validate;
pub mod xml_tree;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The "did you mean" of an unknown key, shared with the FTP settings and the monitor types.
pub use crate::suggest::unknown_key_message;
pub use validate::{ConfigError, ConfigProblem, parse_str};

pub use crate::monitor::spec::Timing;
pub use crate::os_action::OsActionsConfig;

use crate::paths::Paths;

/// The configuration of a fresh install, as the original ships it: no groups and one
/// user-mode monitor (method `none`: it opens no watchdog device).
pub const DEFAULT_CONFIG: &str = r#"[[monitor]]
name = "userw"
type = "userw"
comment = "user mode monitor"
"#;

/// The validated configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// `[cluster]`.
    pub cluster: ClusterConfig,
    /// `[[server]]`: the servers of the cluster (one today). When the file lists none, the
    /// one server is this host.
    #[serde(default)]
    pub servers: Vec<ServerConfig>,
    /// `[etcd]`: where the servers meet; set whenever more than one server is listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etcd: Option<EtcdConfig>,
    /// `[heartbeat]`: the heartbeat interval and timeout of a cluster.
    #[serde(default, skip_serializing_if = "HeartbeatConfig::is_default")]
    pub heartbeat: HeartbeatConfig,
    /// `[alert]`.
    pub alert: AlertConfig,
    /// `[mail]`, when mail reports are configured.
    pub mail: Option<MailConfig>,
    /// `[os_actions]`.
    pub os_actions: OsActionsConfig,
    /// `[webmanager]`.
    #[serde(default)]
    pub webmanager: WebManagerConfig,
    /// The groups, in start order.
    pub groups: Vec<GroupConfig>,
    /// The monitors, in configuration order.
    pub monitors: Vec<MonitorConfig>,
    /// Where the scripts of this configuration live (`etc/scripts`).
    pub scripts_dir: PathBuf,
}

/// `[cluster]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterConfig {
    /// The cluster name (the server is named after its host, see [`ServerConfig`]).
    /// Default: the host name.
    pub name: String,
    /// Free text.
    pub comment: String,
    /// `en` or `ja`.
    pub language: String,
    /// Recovery on monitor errors is disabled cluster-wide.
    pub disable_monitor_recovery: bool,
    /// The monitor delay warning rate, percent of a monitor's timeout (the original's
    /// default 80): a check that takes longer is `rm 71`, a warning only.
    pub monitor_delay_warning: u8,
}

/// `[[server]]`: one server of the cluster, the original's `<server name="...">`.
///
/// A server is its host: the name is the host's short name, compared case-insensitively
/// and without the domain ([`same_host`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerConfig {
    /// The host's short name.
    pub name: String,
    /// Free text shown by `clpstat` beside the server.
    #[serde(default)]
    pub comment: String,
    /// Its addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<std::net::IpAddr>,
}

/// `[etcd]`: the etcd cluster the servers of an HA cluster meet in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EtcdConfig {
    /// The client URLs, `http://host:port` (or all `https://` with TLS).
    pub endpoints: Vec<String>,
    /// TLS to etcd, when the endpoints are `https://`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<EtcdTls>,
    /// Whether a server whose etcd member leads hands the leadership to the witness's member
    /// (`clp_cluster::leader_placement`): a server's failure then costs no etcd election.
    #[serde(default = "witness_leads_by_default")]
    pub witness_leads: bool,
}

/// `[etcd] witness_leads` when the key is absent.
pub(super) fn witness_leads_by_default() -> bool {
    true
}

/// TLS to etcd: the CA to trust, and a client certificate when etcd asks for one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EtcdTls {
    /// A CA certificate (PEM); without it, the system's roots.
    pub ca_file: Option<PathBuf>,
    /// A client certificate and its key (PEM).
    pub client: Option<TlsFiles>,
}

/// The heartbeat of a cluster: each server renews its etcd lease every `interval`; a
/// server whose lease was not renewed for `timeout` is Offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatConfig {
    /// Time between two renewals.
    pub interval: Duration,
    /// The lease's time to live: whole seconds.
    pub timeout: Duration,
}

impl HeartbeatConfig {
    /// clp's default: a renewal every second, Offline after 3 s without one (the original's
    /// 3 s / 90 s would make a failover take minutes).
    pub const DEFAULT: HeartbeatConfig = HeartbeatConfig {
        interval: Duration::from_secs(1),
        timeout: Duration::from_secs(3),
    };

    /// Whether this is the default (then `clpstat -i --json` leaves it out).
    pub fn is_default(&self) -> bool {
        *self == Self::DEFAULT
    }
}

impl Default for HeartbeatConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Whether two host names name the same host: short names (before the first '.'),
/// compared case-insensitively, as host names are.
pub fn same_host(a: &str, b: &str) -> bool {
    let short = |name: &str| name.split('.').next().unwrap_or(name).to_ascii_lowercase();
    short(a) == short(b)
}

/// The original's default monitor delay warning rate, percent.
pub const DEFAULT_MONITOR_DELAY_WARNING: u8 = 80;

/// `[alert]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertConfig {
    /// Records kept in the store (the original's default: 10000).
    pub max_records: u64,
    /// Size of `alert.log` before rotation.
    pub file_max_bytes: u64,
    /// Also write to syslog.
    pub syslog: bool,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailSecurity {
    /// Plain SMTP.
    None,
    /// STARTTLS after the greeting.
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
}

/// `[mail]`: the alert service's mail reports (needs the ALRT10 license).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MailConfig {
    /// The addresses mailed.
    pub to: Vec<String>,
    /// The sender.
    pub from: String,
    /// The SMTP server.
    pub server: String,
    /// Its port.
    pub port: u16,
    /// Plain, STARTTLS or TLS.
    pub security: MailSecurity,
    /// The SMTP login, if any.
    pub username: Option<String>,
    /// The file holding the SMTP password.
    pub password_file: Option<PathBuf>,
    /// The subject's first word.
    pub subject: String,
    /// The lowest level mailed.
    pub level: crate::alert::Level,
    /// A burst within this window goes out as one mail.
    pub batch: Duration,
    /// How long an SMTP exchange may take.
    pub timeout: Duration,
    /// A CA certificate to trust instead of the public roots.
    pub cafile: Option<PathBuf>,
}

/// The WebManager's default address: every interface, the original's port 29003.
pub const WEBMANAGER_LISTEN: &str = "0.0.0.0:29003";

/// `[webmanager]`: how `clpwebmgr` serves the browser view and the JSON API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebManagerConfig {
    /// The address and port it listens on.
    pub listen: std::net::SocketAddr,
    /// Client addresses allowed; empty: every client (the original's "no restriction").
    pub allow: Vec<ipnet::IpNet>,
    /// Serve HTTPS with this certificate chain and key (PEM; relative paths are under `etc/`).
    pub tls: Option<TlsFiles>,
    /// Other WebManagers' base URLs, for the integrated viewer.
    pub servers: Vec<String>,
    /// How long the integrated viewer waits for each server.
    pub viewer_timeout: Duration,
    /// The host names (lower case) an operation's `Host` header may name; an IP address
    /// is always accepted (DNS rebinding needs a name the attacker controls).
    pub hosts: Vec<String>,
    /// How long a client may take to send a request's headers, or to start the next
    /// request on a kept-alive connection.
    pub header_timeout: Duration,
    /// How long a connection may pass without a byte read or written while no request is
    /// being handled.
    pub idle_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

/// The host names operations are accepted for when `[webmanager] hosts` is not set:
/// `localhost` and this machine's name.
pub fn default_webmanager_hosts() -> Vec<String> {
    let mut hosts = vec!["localhost".to_string()];
    if let Some(name) = nix::unistd::gethostname()
        .ok()
        .and_then(|name| name.into_string().ok())
    {
        let name = name.to_ascii_lowercase();
        let short = name.split('.').next().unwrap_or_default().to_string();
        for name in [name, short] {
            if !name.is_empty() && !hosts.contains(&name) {
                hosts.push(name);
            }
        }
    }
    hosts
}

impl Default for WebManagerConfig {
    fn default() -> Self {
        Self {
            listen: std::net::SocketAddr::from(([0, 0, 0, 0], 29003)),
            allow: Vec::new(),
            tls: None,
            servers: Vec::new(),
            viewer_timeout: Duration::from_secs(3),
            hosts: default_webmanager_hosts(),
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            max_connections: 256,
        }
    }
}

/// A certificate chain and its private key, both PEM files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsFiles {
    /// The certificate chain, the server's own first.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

/// A `[[group]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupConfig {
    /// The name.
    pub name: String,
    /// Free text.
    pub comment: String,
    /// Started when the daemon starts.
    pub auto_start: bool,
    /// The servers it may run on, in order of preference; empty: every server, in
    /// `[[server]]` order ([`Config::group_servers`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<String>,
    /// Move back to a more preferred server when one returns (the original's default: off).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub failback: bool,
    /// The resources, sorted into start order (dependencies first, then config order).
    pub resources: Vec<ResourceConfig>,
}

/// Whether an exec resource's start script is the resource (`async`) or must finish (`sync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecMode {
    /// The start script must exit 0 within its timeout.
    Sync,
    /// The start script keeps running; its process is the resource.
    Async,
}

/// A `[[group.resource]]`: an `exec` (scripts) or a `fip` (a floating IP, its
/// [`ResourceConfig::parameters`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceConfig {
    /// The name, unique in the configuration.
    pub name: String,
    /// The group it belongs to.
    pub group: String,
    /// Free text.
    pub comment: String,
    /// The resource type (`exec` or `fip`).
    pub kind: String,
    /// Type-specific parameters, already checked by the type (a fip's
    /// [`crate::resource::fip::parse`]); empty for an exec.
    #[serde(default, skip_serializing_if = "toml::Table::is_empty")]
    pub parameters: toml::Table,
    /// The start script (absolute; a fip has none and never runs it).
    pub start: PathBuf,
    /// The stop script (absolute), if any.
    pub stop: Option<PathBuf>,
    /// The folder the scripts run in.
    pub script_dir: PathBuf,
    /// Sync or async.
    pub mode: ExecMode,
    /// How long the start script may take (sync).
    pub timeout: Duration,
    /// How long the stop script may take.
    pub stop_timeout: Duration,
    /// Resources of the same group started before this one.
    pub depends_on: Vec<String>,
    /// On activation failure.
    pub activation: FailurePolicy,
    /// On deactivation failure.
    pub deactivation: FailurePolicy,
}

impl ResourceConfig {
    /// Whether this is a floating IP (`type = "fip"`).
    pub fn is_floating_ip(&self) -> bool {
        self.kind == crate::resource::fip::KIND
    }
}

/// What happens when a resource fails to start or stop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailurePolicy {
    /// Retries before the final action.
    pub retry: u32,
    /// Accepted for compatibility; a single server has no standby.
    pub failover_threshold: u32,
    /// The final action.
    pub final_action: FinalAction,
}

/// The last resort of a recovery ladder, with the original's choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FinalAction {
    /// Nothing (for a resource: the next resources are not started/stopped).
    None,
    /// Nothing, and carry on with the next resource (resources only: the original's code 0).
    Continue,
    /// Stop the group of the target.
    StopGroup,
    /// Stop the daemon, orderly.
    StopDaemon,
    /// Stop the daemon, then shut the OS down.
    StopDaemonShutdown,
    /// Stop the daemon, then reboot the OS.
    StopDaemonReboot,
    /// Panic the kernel through sysrq.
    SysrqPanic,
    /// Reset the machine at once (the original's keepalive driver; sysrq `b` here).
    KeepaliveReset,
    /// Panic the machine (the original's keepalive driver; sysrq `c` here).
    KeepalivePanic,
}

impl FinalAction {
    /// Every action, with the word the configuration uses.
    pub const ALL: &[(FinalAction, &str)] = &[
        (FinalAction::None, "none"),
        (FinalAction::Continue, "continue"),
        (FinalAction::StopGroup, "stop-group"),
        (FinalAction::StopDaemon, "stop-daemon"),
        (FinalAction::StopDaemonShutdown, "stop-daemon-shutdown"),
        (FinalAction::StopDaemonReboot, "stop-daemon-reboot"),
        (FinalAction::SysrqPanic, "sysrq-panic"),
        (FinalAction::KeepaliveReset, "keepalive-reset"),
        (FinalAction::KeepalivePanic, "keepalive-panic"),
    ];

    /// The configuration word.
    pub fn as_str(self) -> &'static str {
        FinalAction::ALL
            .iter()
            .find(|(action, _)| *action == self)
            .map_or("none", |(_, word)| word)
    }

    /// Parses a configuration word.
    pub fn parse(word: &str) -> Option<FinalAction> {
        FinalAction::ALL
            .iter()
            .find(|(_, w)| *w == word)
            .map(|(action, _)| *action)
    }

    /// The original's label, as `clpstat -i --detail` shows it.
    pub fn label(self) -> &'static str {
        match self {
            FinalAction::None => "No Operation",
            FinalAction::Continue => "No Operation (Next Resources Are Activated/Deactivated)",
            FinalAction::StopGroup => "Stop Group",
            FinalAction::StopDaemon => "Stop Cluster Service",
            FinalAction::StopDaemonShutdown => "Stop Cluster Service And Shutdown OS",
            FinalAction::StopDaemonReboot => "Stop Cluster Service And Reboot OS",
            FinalAction::SysrqPanic => "Sysrq Panic",
            FinalAction::KeepaliveReset => "Keepalive Reset",
            FinalAction::KeepalivePanic => "Keepalive Panic",
        }
    }
}

/// What a monitor's recovery acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "kebab-case")]
pub enum RecoveryTarget {
    /// One resource: stopped and started again.
    Resource(String),
    /// One group: every resource stopped and started again.
    Group(String),
    /// The server: no reactivation, straight to the final action.
    LocalServer,
}

impl RecoveryTarget {
    /// The name shown in messages (`LocalServer` for the server, as the original).
    pub fn display_name(&self) -> &str {
        match self {
            RecoveryTarget::Resource(name) | RecoveryTarget::Group(name) => name,
            RecoveryTarget::LocalServer => "LocalServer",
        }
    }
}

/// A monitor's recovery ladder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecoveryPolicy {
    /// What is reactivated.
    pub target: RecoveryTarget,
    /// How many reactivations before the final action.
    pub reactivation_threshold: u32,
    /// How many moves of the target's group to another server before the final action (an
    /// HA cluster only: a single server has no standby, so this stage is skipped).
    pub failover_threshold: u32,
    /// Run once, when the reactivations are spent.
    pub final_action: FinalAction,
}

/// A `[[monitor]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorConfig {
    /// The name, unique in the configuration.
    pub name: String,
    /// The type (`userw`, `pidw`, ...).
    pub kind: String,
    /// Free text shown by `clpstat`.
    pub comment: String,
    /// The resource watched or needed active.
    pub target: Option<String>,
    /// Time between checks.
    pub interval: Duration,
    /// Time a check may take.
    pub timeout: Duration,
    /// Further consecutive failures before Error.
    pub retry: u32,
    /// Delay before the first check.
    pub wait_before_start: Duration,
    /// Always, or only while the target is active.
    pub timing: Timing,
    /// Nice value of check processes.
    pub nice: i32,
    /// The recovery ladder.
    pub recovery: RecoveryPolicy,
    /// Type-specific parameters (validated by the type). Serialized (`clpstat -i --json`)
    /// with secrets masked.
    #[serde(serialize_with = "serialize_masked")]
    pub parameters: toml::Table,
    /// The parameters of the target resource (a fipw reads its fip's address there); not
    /// shown: they are the resource's.
    #[serde(default, skip_serializing)]
    pub target_parameters: toml::Table,
}

pub use secrets::SECRET_MASK;

impl MonitorConfig {
    /// What the type's probe is built from.
    pub fn probe_settings(&self) -> crate::monitor::spec::ProbeSettings<'_> {
        crate::monitor::spec::ProbeSettings {
            name: &self.name,
            timeout: self.timeout,
            retry: self.retry,
            nice: self.nice,
            parameters: &self.parameters,
            target_parameters: &self.target_parameters,
        }
    }

    /// Whether the parameter `key` holds a secret: it is never shown (the one rule,
    /// [`secrets::is_secret_key`]).
    pub fn is_secret_parameter(key: &str) -> bool {
        secrets::is_secret_key(key)
    }

    /// The parameters as operators see them: each value as text, secrets masked.
    pub fn shown_parameters(&self) -> impl Iterator<Item = (&str, String)> {
        self.parameters.iter().map(|(key, value)| {
            let shown = match value {
                _ if Self::is_secret_parameter(key) => SECRET_MASK.to_string(),
                toml::Value::String(text) => text.clone(),
                toml::Value::Table(table) => {
                    // A secret nested in a table is masked too.
                    let mut masked = table.clone();
                    secrets::mask_table(&mut masked);
                    toml::Value::Table(masked).to_string()
                }
                other => other.to_string(),
            };
            (key.as_str(), shown)
        })
    }
}

/// Serializes monitor parameters with every secret replaced by [`SECRET_MASK`].
fn serialize_masked<S: serde::Serializer>(
    parameters: &toml::Table,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut masked = parameters.clone();
    secrets::mask_table(&mut masked);
    masked.serialize(serializer)
}

impl Config {
    /// Finds a group by name.
    pub fn group(&self, name: &str) -> Option<&GroupConfig> {
        self.groups.iter().find(|group| group.name == name)
    }

    /// Finds a resource by name, in any group.
    pub fn resource(&self, name: &str) -> Option<&ResourceConfig> {
        self.groups
            .iter()
            .flat_map(|group| group.resources.iter())
            .find(|resource| resource.name == name)
    }

    /// Finds a monitor by name.
    pub fn monitor(&self, name: &str) -> Option<&MonitorConfig> {
        self.monitors.iter().find(|monitor| monitor.name == name)
    }

    /// This server's name: the host's short name. It names the server everywhere (status,
    /// alerts, log tarballs, mail), whatever the cluster is called.
    pub fn server_name(&self) -> String {
        host_name()
    }

    /// This server's `[[server]]` entry, when the configuration lists this host.
    pub fn local_server(&self) -> Option<&ServerConfig> {
        let host = host_name();
        self.servers
            .iter()
            .find(|server| same_host(&server.name, &host))
    }

    /// Whether this configuration is an HA cluster: more than one server, meeting in etcd.
    /// A one-server configuration uses no etcd at all.
    pub fn is_cluster(&self) -> bool {
        self.servers.len() > 1
    }

    /// The servers `group` may run on, in order of preference.
    pub fn group_servers<'a>(&'a self, group: &'a GroupConfig) -> Vec<&'a str> {
        if group.servers.is_empty() {
            self.servers
                .iter()
                .map(|server| server.name.as_str())
                .collect()
        } else {
            group.servers.iter().map(String::as_str).collect()
        }
    }

    /// This server's comment (empty when the configuration does not list this host).
    pub fn server_comment(&self) -> &str {
        self.local_server()
            .map(|server| server.comment.as_str())
            .unwrap_or_default()
    }

    /// The default configuration of a fresh install: the cluster named after the host and
    /// one `userw` monitor.
    pub fn default_for(paths: &Paths) -> Config {
        // The default document always validates; the fallback keeps this infallible.
        match parse_str(DEFAULT_CONFIG, &paths.scripts_dir()) {
            Ok(config) => config,
            Err(_) => unreachable_default(paths),
        }
    }
}

/// Builds the default without the validator (only reachable if the validator regressed).
fn unreachable_default(paths: &Paths) -> Config {
    Config {
        cluster: ClusterConfig {
            name: host_name(),
            comment: String::new(),
            language: "en".into(),
            disable_monitor_recovery: false,
            monitor_delay_warning: DEFAULT_MONITOR_DELAY_WARNING,
        },
        servers: vec![ServerConfig {
            name: host_name(),
            comment: String::new(),
            addresses: Vec::new(),
        }],
        etcd: None,
        heartbeat: HeartbeatConfig::DEFAULT,
        alert: AlertConfig {
            max_records: 10_000,
            file_max_bytes: 1 << 20,
            syslog: false,
        },
        mail: None,
        os_actions: OsActionsConfig::real_defaults(),
        webmanager: WebManagerConfig::default(),
        groups: Vec::new(),
        monitors: Vec::new(),
        scripts_dir: paths.scripts_dir(),
    }
}

/// The host's short name: this server's name, and the default cluster name.
pub fn host_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|name| name.into_string().ok())
        .map(|name| name.split('.').next().unwrap_or_default().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// Loads `$CLP_ROOT/etc/clp.conf`, or the default configuration when there is none.
pub fn load(paths: &Paths) -> Result<Config, ConfigError> {
    load_file(&paths.config_file(), &paths.scripts_dir())
}

/// Loads a configuration file whose scripts live in `scripts_dir`. A missing file is the
/// default configuration.
pub fn load_file(file: &Path, scripts_dir: &Path) -> Result<Config, ConfigError> {
    match std::fs::read_to_string(file) {
        Ok(text) => parse_str(&text, scripts_dir).map_err(|error| error.in_file(file)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            parse_str(DEFAULT_CONFIG, scripts_dir)
        }
        Err(error) => Err(ConfigError::Read {
            file: file.to_path_buf(),
            source: error,
        }),
    }
}
