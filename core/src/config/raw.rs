//! The configuration file as written: serde structs, every field optional so that defaults
//! are applied (and reported) in one place, `validate.rs`.
//!
//! Each struct lists its keys in a `KEYS` constant, used to suggest the right spelling of an
//! unknown key; a unit test keeps those lists equal to the structs.

use serde::{Deserialize, Serialize};

/// A number of seconds, written as an integer or a decimal (`interval = 5`, `= 0.5`).
///
/// Any TOML integer or float is read as written (the range is checked by the validator,
/// which echoes the value exactly); anything else is refused with what is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Seconds {
    /// Whole seconds, as written (negative and huge values included, for the range check).
    Whole(i64),
    /// Fractional seconds.
    Fraction(f64),
}

/// What a [`Seconds`] key accepts, for error messages.
pub const SECONDS_EXPECTED: &str = "a number of seconds such as 5 or 0.5";

impl Seconds {
    /// The value as a float, for durations.
    pub fn as_f64(self) -> f64 {
        match self {
            Seconds::Whole(n) => n as f64,
            Seconds::Fraction(f) => f,
        }
    }

    /// Whether the value lies within `min..=max` seconds, compared exactly (an integer is
    /// never rounded through a float).
    pub fn within(self, min: f64, max: f64) -> bool {
        match self {
            Seconds::Whole(n) => {
                // Bounds are whole numbers of seconds well inside i64.
                let (low, high) = (min.ceil() as i64, max.floor() as i64);
                (low..=high).contains(&n)
            }
            Seconds::Fraction(f) => (min..=max).contains(&f),
        }
    }
}

impl std::fmt::Display for Seconds {
    /// The value as written: `9223372036854775807` stays that, never `9223372036854776000`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Seconds::Whole(n) => write!(f, "{n}"),
            Seconds::Fraction(x) => write!(f, "{x}"),
        }
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Seconds;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(SECONDS_EXPECTED)
            }

            fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Seconds, E> {
                Ok(Seconds::Whole(value))
            }

            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Seconds, E> {
                i64::try_from(value)
                    .map(Seconds::Whole)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(value), &self))
            }

            fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<Seconds, E> {
                Ok(Seconds::Fraction(value))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// `[cluster]`.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct RawCluster {
    /// The cluster name (the server is named in `[[server]]`).
    pub name: Option<String>,
    /// Free text shown by `clpstat`.
    pub comment: Option<String>,
    /// The WebManager's language (`en`, `ja`).
    pub language: Option<String>,
    /// Disables recovery actions on monitor errors cluster-wide (rm 192 when it applies).
    pub disable_monitor_recovery: Option<bool>,
    /// The monitor delay warning rate: a check taking longer than this percentage of its
    /// timeout is rm 71.
    pub monitor_delay_warning: Option<i64>,
}
impl RawCluster {
    /// The keys of `[cluster]`.
    pub const KEYS: &[&str] = &[
        "name",
        "comment",
        "language",
        "disable_monitor_recovery",
        "monitor_delay_warning",
    ];
}

/// `[[server]]`: one server of the cluster.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct RawServer {
    /// The host's short name.
    pub name: Option<String>,
    /// Free text shown by `clpstat` beside the server.
    pub comment: Option<String>,
    /// The server's addresses (IPv4 or IPv6), for the operator and the next slices.
    pub addresses: Option<Vec<String>>,
}
impl RawServer {
    /// The keys of `[[server]]`.
    pub const KEYS: &[&str] = &["name", "comment", "addresses"];
}

/// `[etcd]`: where the servers of a cluster meet (needed with more than one server).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct RawEtcd {
    /// The etcd client URLs (`http://192.0.2.11:2379`, or `https://` with TLS).
    pub endpoints: Option<Vec<String>>,
    /// A CA certificate (PEM) to trust for the etcd servers (`https://` endpoints).
    pub ca_file: Option<String>,
    /// A client certificate (PEM) for etcd's client authentication.
    pub cert_file: Option<String>,
    /// The private key (PEM) of `cert_file`.
    pub key_file: Option<String>,
    /// Whether the servers hand etcd's leadership to the witness's member (default true).
    pub witness_leads: Option<bool>,
}
impl RawEtcd {
    /// The keys of `[etcd]`.
    pub const KEYS: &[&str] = &[
        "endpoints",
        "ca_file",
        "cert_file",
        "key_file",
        "witness_leads",
    ];
}

/// `[heartbeat]`: the original's heartbeat interval and timeout.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct RawHeartbeat {
    /// Seconds between two heartbeats (etcd lease keep-alives).
    pub interval: Option<Seconds>,
    /// Seconds without a heartbeat before a server is Offline (the etcd lease's TTL).
    pub timeout: Option<Seconds>,
}
impl RawHeartbeat {
    /// The keys of `[heartbeat]`.
    pub const KEYS: &[&str] = &["interval", "timeout"];
}

/// `[alert]`.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct RawAlert {
    /// How many alert records the store keeps.
    pub max_records: Option<u64>,
    /// The text alert log's size before it is rotated, in bytes.
    pub file_max_bytes: Option<u64>,
    /// Also send every alert to syslog.
    pub syslog: Option<bool>,
}
impl RawAlert {
    /// The keys of `[alert]`.
    pub const KEYS: &[&str] = &["max_records", "file_max_bytes", "syslog"];
}

/// `[os_actions]`: how final actions reach the OS.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct RawOsActions {
    /// The shutdown command and its arguments.
    pub shutdown: Option<Vec<String>>,
    /// The reboot command and its arguments.
    pub reboot: Option<Vec<String>>,
    /// The sysrq trigger file.
    pub sysrq_trigger: Option<String>,
    /// The watchdog device file.
    pub watchdog_device: Option<String>,
}
impl RawOsActions {
    /// The keys of `[os_actions]`.
    pub const KEYS: &[&str] = &["shutdown", "reboot", "sysrq_trigger", "watchdog_device"];
}

/// `[webmanager]`: the browser view (`clpwebmgr`).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct RawWebManager {
    /// The address and port it listens on (`0.0.0.0:29003`).
    pub listen: Option<String>,
    /// Client addresses allowed (IP addresses or CIDR blocks); empty: every client.
    pub allow: Option<Vec<String>>,
    /// A PEM certificate chain: serve HTTPS.
    pub tls_cert: Option<String>,
    /// The PEM private key of `tls_cert`.
    pub tls_key: Option<String>,
    /// Other WebManagers' URLs, listed by the integrated viewer (`/clusterlist`).
    pub servers: Option<Vec<String>>,
    /// Seconds the integrated viewer waits for each server.
    pub viewer_timeout: Option<Seconds>,
    /// Host names operations may be addressed to (the `Host` header), besides IP addresses.
    pub hosts: Option<Vec<String>>,
    /// Seconds a client may take to send a request's headers (and to start the next one).
    pub header_timeout: Option<Seconds>,
    /// Seconds a connection may pass without a byte read or written, between requests.
    pub idle_timeout: Option<Seconds>,
    /// Connections served at once; more are answered 503 and closed.
    pub max_connections: Option<u32>,
}
impl RawWebManager {
    /// The keys of `[webmanager]`.
    pub const KEYS: &[&str] = &[
        "listen",
        "allow",
        "tls_cert",
        "tls_key",
        "servers",
        "viewer_timeout",
        "hosts",
        "header_timeout",
        "idle_timeout",
        "max_connections",
    ];
}

/// `[[group]]`.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct RawGroup {
    /// The group name.
    pub name: Option<String>,
    /// Free text shown by `clpstat`.
    pub comment: Option<String>,
    /// Start the group when the daemon starts (the original's "auto start", default on).
    pub auto_start: Option<bool>,
    /// The group's resources, in their default start order.
    pub resource: Option<Vec<toml::Value>>,
    /// The servers the group may run on, in order of preference (default: every server,
    /// in `[[server]]` order).
    pub servers: Option<Vec<String>>,
    /// Move the group back to a more preferred server when it returns (default off).
    pub failback: Option<bool>,
}
impl RawGroup {
    /// The keys of `[[group]]`.
    pub const KEYS: &[&str] = &[
        "name",
        "comment",
        "auto_start",
        "resource",
        "servers",
        "failback",
    ];
}

/// `[group.resource.activation]` / `[group.resource.deactivation]`.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct RawFailurePolicy {
    /// Retries of the script before the final action.
    pub retry: Option<u32>,
    /// Failover threshold (activation only; accepted, a single server has no standby).
    pub failover_threshold: Option<u32>,
    /// What to do once the retries are spent.
    pub final_action: Option<String>,
}
impl RawFailurePolicy {
    /// The keys of an activation/deactivation table.
    pub const KEYS: &[&str] = &["retry", "failover_threshold", "final_action"];
}

/// `[[group.resource]]`.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct RawResource {
    /// The resource name, unique in the configuration.
    pub name: Option<String>,
    /// The resource type (`exec`).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Free text shown by `clpstat`.
    pub comment: Option<String>,
    /// The start script, relative to the resource's script folder or absolute.
    pub start: Option<String>,
    /// The stop script, relative to the resource's script folder or absolute.
    pub stop: Option<String>,
    /// `sync` (the start script must finish) or `async` (it keeps running: the resource).
    pub mode: Option<String>,
    /// Seconds the start script may take (sync).
    pub timeout: Option<Seconds>,
    /// Seconds the stop script may take.
    pub stop_timeout: Option<Seconds>,
    /// Resources of the same group that must be active before this one.
    pub depends_on: Option<Vec<String>>,
    /// On activation failure: a [`RawFailurePolicy`], read on its own so that a problem in
    /// it is reported once, under its own path.
    pub activation: Option<toml::Value>,
    /// On deactivation failure (read as `activation` is).
    pub deactivation: Option<toml::Value>,
    /// Type-specific parameters.
    pub parameters: Option<toml::Table>,
}
impl RawResource {
    /// The keys of `[[group.resource]]`.
    pub const KEYS: &[&str] = &[
        "name",
        "type",
        "comment",
        "start",
        "stop",
        "mode",
        "timeout",
        "stop_timeout",
        "depends_on",
        "activation",
        "deactivation",
        "parameters",
    ];
}

/// `[monitor.recovery]`.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct RawRecovery {
    /// A resource, a group, or `local-server`.
    pub target: Option<String>,
    /// How many times the target is reactivated before the next stage.
    pub reactivation_threshold: Option<u32>,
    /// Failover threshold (accepted; no standby on a single server).
    pub failover_threshold: Option<u32>,
    /// The last resort, run once.
    pub final_action: Option<String>,
}
impl RawRecovery {
    /// The keys of `[monitor.recovery]`.
    pub const KEYS: &[&str] = &[
        "target",
        "reactivation_threshold",
        "failover_threshold",
        "final_action",
    ];
}

/// `[[monitor]]`.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct RawMonitor {
    /// The monitor name, unique in the configuration.
    pub name: Option<String>,
    /// The monitor type (`userw`, `pidw`, ...).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Free text shown by `clpstat`.
    pub comment: Option<String>,
    /// The resource watched (pidw) or needed active (`timing = "active"`).
    pub target: Option<String>,
    /// Seconds between checks.
    pub interval: Option<Seconds>,
    /// Seconds a check may take.
    pub timeout: Option<Seconds>,
    /// Further consecutive failures before the monitor is in Error.
    pub retry: Option<u32>,
    /// Seconds to wait before the first check.
    pub wait_before_start: Option<Seconds>,
    /// `always` or `active` (only while `target` is active).
    pub timing: Option<String>,
    /// The nice value of the check's processes.
    pub nice: Option<i32>,
    /// The recovery ladder: a [`RawRecovery`], read on its own so that a problem in it is
    /// reported once, under its own path.
    pub recovery: Option<toml::Value>,
    /// Type-specific parameters, under the original's names.
    pub parameters: Option<toml::Table>,
}
impl RawMonitor {
    /// The keys of `[[monitor]]`.
    pub const KEYS: &[&str] = &[
        "name",
        "type",
        "comment",
        "target",
        "interval",
        "timeout",
        "retry",
        "wait_before_start",
        "timing",
        "nice",
        "recovery",
        "parameters",
    ];
}

/// `[mail]`: the alert service's mail reports.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct RawMail {
    /// The addresses mailed.
    pub to: Option<Vec<String>>,
    /// The sender address.
    pub from: Option<String>,
    /// The SMTP server.
    pub server: Option<String>,
    /// Its port.
    pub port: Option<u16>,
    /// `none`, `starttls` or `tls`.
    pub security: Option<String>,
    /// The SMTP user, when the server wants a login.
    pub username: Option<String>,
    /// The file holding the SMTP password (mode 0600).
    pub password_file: Option<String>,
    /// The subject's first word (the original's default: CLUSTERPRO).
    pub subject: Option<String>,
    /// The lowest level mailed: `Error` (default) or `Warning`.
    pub level: Option<String>,
    /// Seconds a burst of alerts is gathered into one mail.
    pub batch_seconds: Option<Seconds>,
    /// Seconds an SMTP exchange may take.
    pub timeout: Option<Seconds>,
    /// A CA certificate (PEM) to trust for the server, instead of the public roots.
    pub cafile: Option<String>,
}
impl RawMail {
    /// The keys of `[mail]`.
    pub const KEYS: &[&str] = &[
        "to",
        "from",
        "server",
        "port",
        "security",
        "username",
        "password_file",
        "subject",
        "level",
        "batch_seconds",
        "timeout",
        "cafile",
    ];
}

/// The top-level tables.
pub const TOP_KEYS: &[&str] = &[
    "cluster",
    "server",
    "etcd",
    "heartbeat",
    "alert",
    "mail",
    "os_actions",
    "webmanager",
    "group",
    "monitor",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_of<T: Serialize + Default>() -> Vec<String> {
        let value = serde_json::to_value(T::default()).unwrap();
        let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    }

    fn sorted(keys: &[&str]) -> Vec<String> {
        let mut keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        keys.sort();
        keys
    }

    #[test]
    fn key_lists_match_the_structs() {
        assert_eq!(keys_of::<RawCluster>(), sorted(RawCluster::KEYS));
        assert_eq!(keys_of::<RawServer>(), sorted(RawServer::KEYS));
        assert_eq!(keys_of::<RawEtcd>(), sorted(RawEtcd::KEYS));
        assert_eq!(keys_of::<RawHeartbeat>(), sorted(RawHeartbeat::KEYS));
        assert_eq!(keys_of::<RawAlert>(), sorted(RawAlert::KEYS));
        assert_eq!(keys_of::<RawMail>(), sorted(RawMail::KEYS));
        assert_eq!(keys_of::<RawOsActions>(), sorted(RawOsActions::KEYS));
        assert_eq!(keys_of::<RawWebManager>(), sorted(RawWebManager::KEYS));
        assert_eq!(keys_of::<RawGroup>(), sorted(RawGroup::KEYS));
        assert_eq!(
            keys_of::<RawFailurePolicy>(),
            sorted(RawFailurePolicy::KEYS)
        );
        assert_eq!(keys_of::<RawResource>(), sorted(RawResource::KEYS));
        assert_eq!(keys_of::<RawRecovery>(), sorted(RawRecovery::KEYS));
        assert_eq!(keys_of::<RawMonitor>(), sorted(RawMonitor::KEYS));
    }
}
