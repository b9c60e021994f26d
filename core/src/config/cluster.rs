//! The HA cluster's part of the configuration: `[etcd]`, `[heartbeat]`, each server's
//! addresses and each group's `servers` and `failback`, validated with the key named in
//! every problem. A configuration of one server needs none of it.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::raw::{RawEtcd, RawHeartbeat, Seconds};
use super::{EtcdConfig, EtcdTls, GroupConfig, HeartbeatConfig, ServerConfig, TlsFiles, same_host};

/// The problems found here, each with its location; `validate.rs` adds them to the rest in
/// the order found.
#[derive(Default)]
pub(super) struct Problems(pub(super) Vec<(String, String)>);

impl Problems {
    fn add(&mut self, location: &str, message: impl Into<String>) {
        self.0.push((location.to_string(), message.into()));
    }
}

/// The longest heartbeat timeout accepted, in seconds.
const MAX_TIMEOUT: i64 = 3600;

/// etcd's shortest lease (1.5 × its default election timeout, rounded up): a shorter
/// timeout would be raised silently by etcd.
const MIN_TIMEOUT: i64 = 2;

/// A server's `addresses`: IPv4 or IPv6 addresses.
pub(super) fn addresses(
    problems: &mut Problems,
    location: &str,
    raw: Option<Vec<String>>,
) -> Vec<IpAddr> {
    let mut parsed = Vec::new();
    for text in raw.unwrap_or_default() {
        match text.parse::<IpAddr>() {
            Ok(address) => parsed.push(address),
            Err(_) => problems.add(
                location,
                format!(
                    "key \"addresses\": \"{}\" is not an IP address, e.g. \"192.0.2.11\" or \"2001:db8::11\"",
                    text.escape_default()
                ),
            ),
        }
    }
    parsed
}

/// Server names are unique (as host names compare).
pub(super) fn check_unique_servers(problems: &mut Problems, servers: &[ServerConfig]) {
    for (index, server) in servers.iter().enumerate() {
        if servers[..index]
            .iter()
            .any(|earlier| same_host(&earlier.name, &server.name))
        {
            problems.add(
                &format!("server[{index}]"),
                format!(
                    "name \"{}\" is listed twice: each server once, in order of preference",
                    server.name
                ),
            );
        }
    }
}

/// `[heartbeat]`, with clp's defaults ([`HeartbeatConfig::DEFAULT`]).
pub(super) fn heartbeat(problems: &mut Problems, raw: RawHeartbeat) -> HeartbeatConfig {
    let default = HeartbeatConfig::DEFAULT;
    let timeout = match raw.timeout {
        None => default.timeout,
        Some(Seconds::Whole(n)) if (MIN_TIMEOUT..=MAX_TIMEOUT).contains(&n) => {
            Duration::from_secs(n.unsigned_abs())
        }
        Some(value) => {
            problems.add(
                "heartbeat",
                format!(
                    "key \"timeout\": {value} is not accepted; expected whole seconds from {MIN_TIMEOUT} to {MAX_TIMEOUT} (it is the etcd lease's time to live)"
                ),
            );
            default.timeout
        }
    };
    let interval = match raw.interval {
        None => default.interval.min(timeout / 2),
        Some(value) if value.as_f64() > 0.0 && value.as_f64() <= timeout.as_secs_f64() / 2.0 => {
            Duration::from_secs_f64(value.as_f64())
        }
        Some(value) => {
            problems.add(
                "heartbeat",
                format!(
                    "key \"interval\": {value} is not accepted; expected more than 0 and at most half the timeout ({} s), so that a late heartbeat is not a lost server",
                    timeout.as_secs_f64() / 2.0
                ),
            );
            default.interval.min(timeout / 2)
        }
    };
    HeartbeatConfig { interval, timeout }
}

/// `[etcd]`: its endpoints (`http://host:port`, or all `https://` with TLS files).
pub(super) fn etcd(problems: &mut Problems, raw: RawEtcd) -> Option<EtcdConfig> {
    let endpoints = raw.endpoints.unwrap_or_default();
    if endpoints.is_empty() {
        problems.add(
            "etcd",
            "key \"endpoints\" is missing or empty: list the etcd client URLs, e.g. [\"http://192.0.2.11:2379\", \"http://192.0.2.12:2379\", \"http://192.0.2.13:2379\"]",
        );
    }
    let mut schemes = Vec::new();
    for endpoint in &endpoints {
        match endpoint_scheme(endpoint) {
            Some(scheme) => schemes.push(scheme),
            None => problems.add(
                "etcd",
                format!(
                    "key \"endpoints\": \"{}\" is not an etcd client URL: write http://HOST:PORT or https://HOST:PORT",
                    endpoint.escape_default()
                ),
            ),
        }
    }
    let https = schemes.contains(&"https");
    if https && schemes.contains(&"http") {
        problems.add(
            "etcd",
            "key \"endpoints\": mixes http:// and https://; use one scheme for every endpoint",
        );
    }
    let path = |text: String| PathBuf::from(text);
    let client = match (raw.cert_file, raw.key_file) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: path(cert),
            key: path(key),
        }),
        (None, None) => None,
        (Some(_), None) => {
            problems.add(
                "etcd",
                "key \"key_file\" is missing: a client certificate needs its private key",
            );
            None
        }
        (None, Some(_)) => {
            problems.add(
                "etcd",
                "key \"cert_file\" is missing: a private key needs its client certificate",
            );
            None
        }
    };
    let ca_file = raw.ca_file.map(path);
    let tls = (ca_file.is_some() || client.is_some()).then_some(EtcdTls { ca_file, client });
    if tls.is_some() && !https && !endpoints.is_empty() {
        problems.add(
            "etcd",
            "keys \"ca_file\", \"cert_file\", \"key_file\" are for TLS: write the endpoints as https://",
        );
    }
    for (key, file) in tls
        .iter()
        .flat_map(|tls| {
            [
                ("ca_file", tls.ca_file.as_ref()),
                ("cert_file", tls.client.as_ref().map(|c| &c.cert)),
                ("key_file", tls.client.as_ref().map(|c| &c.key)),
            ]
        })
        .filter_map(|(key, file)| file.map(|file| (key, file)))
    {
        if !file.is_absolute() {
            problems.add(
                "etcd",
                format!(
                    "key \"{key}\": \"{}\" is not an absolute path",
                    file.display()
                ),
            );
        }
    }
    Some(EtcdConfig {
        endpoints,
        tls,
        witness_leads: raw
            .witness_leads
            .unwrap_or_else(super::witness_leads_by_default),
    })
}

/// `http` or `https` for `scheme://host:port` with a port, else `None`.
fn endpoint_scheme(endpoint: &str) -> Option<&'static str> {
    let (scheme, rest) = if let Some(rest) = endpoint.strip_prefix("http://") {
        ("http", rest)
    } else {
        ("https", endpoint.strip_prefix("https://")?)
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (host, port) = rest.rsplit_once(':')?;
    let host_ok = !host.is_empty()
        && !host.contains(['/', '@', ' '])
        && (!host.contains(':') || (host.starts_with('[') && host.ends_with(']')));
    (host_ok && port.parse::<u16>().is_ok_and(|port| port > 0)).then_some(scheme)
}

/// A cluster of more than one server needs `[etcd]`; each group's `servers` names listed
/// servers, each once.
pub(super) fn check_cluster(
    problems: &mut Problems,
    servers: &[ServerConfig],
    etcd: &Option<EtcdConfig>,
    groups: &[GroupConfig],
) {
    if servers.len() > 1 && etcd.is_none() {
        problems.add(
            "etcd",
            format!(
                "{} servers are listed, so the cluster needs etcd: add [etcd] with endpoints = [\"http://HOST:2379\", ...] (a two-server cluster runs a third etcd member on a witness host)",
                servers.len()
            ),
        );
    }
    for group in groups {
        let location = format!("group \"{}\"", group.name);
        for (index, name) in group.servers.iter().enumerate() {
            if !servers.iter().any(|server| same_host(&server.name, name)) {
                let listed: Vec<&str> = servers.iter().map(|s| s.name.as_str()).collect();
                problems.add(
                    &location,
                    format!(
                        "key \"servers\": \"{}\" is not a server of this cluster (the [[server]] names: {})",
                        name.escape_default(),
                        listed.join(", ")
                    ),
                );
            } else if group.servers[..index]
                .iter()
                .any(|earlier| same_host(earlier, name))
            {
                problems.add(
                    &location,
                    format!("key \"servers\": \"{name}\" is listed twice"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{Config, ConfigError, HeartbeatConfig, parse_str};

    fn parse(text: &str) -> Result<Config, ConfigError> {
        parse_str(text, Path::new("/nonexistent"))
    }

    const TWO: &str = r#"
[cluster]
name = "ha"

[[server]]
name = "node1"
addresses = ["192.0.2.11"]

[[server]]
name = "node2"
addresses = ["192.0.2.12", "2001:db8::12"]

[etcd]
endpoints = ["http://192.0.2.11:2379", "http://192.0.2.12:2379", "http://192.0.2.13:2379"]
"#;

    #[test]
    fn two_servers_with_etcd_are_a_cluster_with_the_default_heartbeat() {
        let config = parse(&format!(
            "{TWO}\n[[group]]\nname = \"web\"\nservers = [\"node2\", \"node1\"]\nfailback = true\n\n[[group]]\nname = \"db\"\n"
        ))
        .unwrap();
        assert!(config.is_cluster());
        assert_eq!(config.servers[1].addresses.len(), 2);
        assert_eq!(config.etcd.as_ref().unwrap().endpoints.len(), 3);
        assert_eq!(config.heartbeat, HeartbeatConfig::DEFAULT);
        let web = config.group("web").unwrap();
        assert!(web.failback);
        assert_eq!(config.group_servers(web), ["node2", "node1"]);
        let db = config.group("db").unwrap();
        assert!(!db.failback, "failback is off by default");
        assert_eq!(config.group_servers(db), ["node1", "node2"]);
    }

    #[test]
    fn one_server_is_no_cluster_and_serializes_as_before() {
        let config = parse("[cluster]\nname = \"demo\"\n[[group]]\nname = \"g\"\n").unwrap();
        assert!(!config.is_cluster());
        assert!(config.etcd.is_none());
        let json = serde_json::to_string(&config).unwrap();
        for key in [
            "\"etcd\"",
            "\"heartbeat\"",
            "\"failback\"",
            "\"addresses\"",
            "\"servers\":[\"",
        ] {
            assert!(!json.contains(key), "{key} in {json}");
        }
    }

    #[test]
    fn the_heartbeat_keys_are_read_and_checked() {
        let config = parse(&format!(
            "{TWO}\n[heartbeat]\ninterval = 0.5\ntimeout = 2\n"
        ))
        .unwrap();
        assert_eq!(config.heartbeat.interval.as_millis(), 500);
        assert_eq!(config.heartbeat.timeout.as_secs(), 2);
        let problems = parse(&format!(
            "{TWO}\n[heartbeat]\ninterval = 3\ntimeout = 1.5\n"
        ))
        .unwrap_err()
        .problems();
        assert_eq!(
            problems,
            [
                "clp.conf: heartbeat: key \"timeout\": 1.5 is not accepted; expected whole seconds from 2 to 3600 (it is the etcd lease's time to live)",
                "clp.conf: heartbeat: key \"interval\": 3 is not accepted; expected more than 0 and at most half the timeout (1.5 s), so that a late heartbeat is not a lost server",
            ]
        );
    }

    #[test]
    fn etcd_endpoints_and_tls_are_checked_with_the_key_named() {
        let base = TWO.split("[etcd]").next().unwrap();
        let problems = |etcd: &str| {
            parse(&format!("{base}[etcd]\n{etcd}\n"))
                .unwrap_err()
                .problems()
        };
        assert_eq!(
            problems("endpoints = []"),
            [
                "clp.conf: etcd: key \"endpoints\" is missing or empty: list the etcd client URLs, e.g. [\"http://192.0.2.11:2379\", \"http://192.0.2.12:2379\", \"http://192.0.2.13:2379\"]"
            ]
        );
        assert_eq!(
            problems("endpoints = [\"192.0.2.11:2379\", \"http://h\"]"),
            [
                "clp.conf: etcd: key \"endpoints\": \"192.0.2.11:2379\" is not an etcd client URL: write http://HOST:PORT or https://HOST:PORT",
                "clp.conf: etcd: key \"endpoints\": \"http://h\" is not an etcd client URL: write http://HOST:PORT or https://HOST:PORT",
            ]
        );
        assert_eq!(
            problems(
                "endpoints = [\"https://a:2379\", \"http://b:2379\"]\ncert_file = \"/etc/c.pem\""
            ),
            [
                "clp.conf: etcd: key \"endpoints\": mixes http:// and https://; use one scheme for every endpoint",
                "clp.conf: etcd: key \"key_file\" is missing: a client certificate needs its private key",
            ]
        );
        assert_eq!(
            problems("endpoints = [\"http://a:2379\"]\nca_file = \"ca.pem\""),
            [
                "clp.conf: etcd: keys \"ca_file\", \"cert_file\", \"key_file\" are for TLS: write the endpoints as https://",
                "clp.conf: etcd: key \"ca_file\": \"ca.pem\" is not an absolute path",
            ]
        );
        let tls = parse(&format!(
            "{base}[etcd]\nendpoints = [\"https://[2001:db8::11]:2379\"]\nca_file = \"/etc/clp/ca.pem\"\ncert_file = \"/etc/clp/c.pem\"\nkey_file = \"/etc/clp/k.pem\"\n"
        ))
        .unwrap();
        let tls = tls.etcd.unwrap().tls.unwrap();
        assert_eq!(tls.ca_file.unwrap(), Path::new("/etc/clp/ca.pem"));
        assert_eq!(tls.client.unwrap().key, Path::new("/etc/clp/k.pem"));
    }

    #[test]
    fn servers_and_group_servers_are_checked() {
        let problems = parse(
            "[[server]]\nname = \"node1\"\naddresses = [\"192.0.2.300\"]\n[[server]]\nname = \"NODE1\"\n\n[[group]]\nname = \"g\"\nservers = [\"node3\", \"node1\", \"node1\"]\n",
        )
        .unwrap_err()
        .problems();
        assert_eq!(
            problems,
            [
                "clp.conf: server[0]: key \"addresses\": \"192.0.2.300\" is not an IP address, e.g. \"192.0.2.11\" or \"2001:db8::11\"",
                "clp.conf: server[1]: name \"NODE1\" is listed twice: each server once, in order of preference",
                "clp.conf: etcd: 2 servers are listed, so the cluster needs etcd: add [etcd] with endpoints = [\"http://HOST:2379\", ...] (a two-server cluster runs a third etcd member on a witness host)",
                "clp.conf: group \"g\": key \"servers\": \"node3\" is not a server of this cluster (the [[server]] names: node1, NODE1)",
                "clp.conf: group \"g\": key \"servers\": \"node1\" is listed twice",
            ]
        );
    }
}
