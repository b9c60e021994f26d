//! Which etcd member a connection talks to: this server's own first, then the others in the
//! configuration's order (clppm's membership and the commands' request channel alike).

/// This server's own addresses (from its `[[server]]`), its name, and loopback: the hosts
/// of an etcd endpoint that is this server's own member.
pub fn local_hosts(config: &clp_core::config::Config, local: &str) -> Vec<String> {
    let mut hosts: Vec<String> = vec![
        "127.0.0.1".into(),
        "localhost".into(),
        "::1".into(),
        local.to_ascii_lowercase(),
    ];
    for server in &config.servers {
        if clp_core::config::same_host(&server.name, local) {
            hosts.extend(server.addresses.iter().map(|a| a.to_string()));
        }
    }
    hosts
}

/// Every server's name and addresses (lower-case): the hosts of etcd members that are a
/// server's, as opposed to the witness's.
pub fn server_hosts(config: &clp_core::config::Config) -> Vec<String> {
    config
        .servers
        .iter()
        .flat_map(|server| {
            std::iter::once(server.name.to_ascii_lowercase())
                .chain(server.addresses.iter().map(|a| a.to_string()))
        })
        .collect()
}

/// The endpoints, those on one of `hosts` first (the order otherwise kept): each
/// connection talks to one member, this server's own when it answers.
pub fn local_first(endpoints: &[String], hosts: &[String]) -> Vec<String> {
    let (mut local, others): (Vec<String>, Vec<String>) = endpoints
        .iter()
        .cloned()
        .partition(|url| hosts.contains(&host_of(url)));
    local.extend(others);
    local
}

/// The host of an etcd client URL (`scheme://host:port/...`, `[v6]` unbracketed), lower-case.
pub fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6).to_ascii_lowercase(),
        None => authority
            .split(':')
            .next()
            .unwrap_or(authority)
            .to_ascii_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::local_first;

    #[test]
    fn this_servers_own_etcd_member_comes_first() {
        let endpoints: Vec<String> = [
            "http://192.0.2.11:2379",
            "http://192.0.2.12:2379",
            "https://[2001:db8::12]:2379",
            "http://192.0.2.13:2379",
        ]
        .map(String::from)
        .to_vec();
        let hosts = vec!["192.0.2.12".to_string(), "2001:db8::12".to_string()];
        assert_eq!(
            local_first(&endpoints, &hosts),
            [
                "http://192.0.2.12:2379",
                "https://[2001:db8::12]:2379",
                "http://192.0.2.11:2379",
                "http://192.0.2.13:2379",
            ]
        );
        assert_eq!(local_first(&endpoints, &[]), endpoints);
    }
}
