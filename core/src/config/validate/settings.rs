//! The cluster-wide sections: servers, the cluster, mail, OS actions, the WebManager.

use super::*;

/// `[[server]]`: the servers listed, or this host when none is.
pub(super) fn build_servers(
    problems: &mut Problems,
    value: Option<&toml::Value>,
) -> Vec<ServerConfig> {
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
                addresses: problems.cluster(|found| {
                    super::super::cluster::addresses(found, &location, raw.addresses)
                }),
            }
        })
        .collect();
    problems.cluster(|found| super::super::cluster::check_unique_servers(found, &servers));
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

pub(super) fn build_cluster(problems: &mut Problems, raw: RawCluster) -> ClusterConfig {
    let name = match raw.name {
        Some(name) => check_name(problems, "cluster", &Some(name)),
        None => host_name(),
    };
    let language = raw.language.unwrap_or_else(|| "en".to_string());
    if !super::super::language::LANGUAGES.contains(&language.as_str()) {
        problems.add(
            "cluster",
            format!("key \"language\": \"{language}\" is not supported; use \"en\" or \"ja\""),
        );
    }
    let monitor_delay_warning = match raw.monitor_delay_warning {
        None => super::super::DEFAULT_MONITOR_DELAY_WARNING,
        Some(rate) => u8::try_from(rate)
            .ok()
            .filter(|rate| (1..=99).contains(rate))
            .unwrap_or_else(|| {
                problems.add(
                    "cluster",
                    format!("key \"monitor_delay_warning\": {rate} is not a percentage of 1 to 99"),
                );
                super::super::DEFAULT_MONITOR_DELAY_WARNING
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

pub(super) fn build_mail(
    problems: &mut Problems,
    raw: RawMail,
    server_name: &str,
) -> Option<super::super::MailConfig> {
    use super::super::MailSecurity;
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
    Some(super::super::MailConfig {
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

pub(super) fn build_os_actions(problems: &mut Problems, raw: RawOsActions) -> OsActionsConfig {
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

pub(super) fn build_webmanager(problems: &mut Problems, raw: RawWebManager) -> WebManagerConfig {
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
