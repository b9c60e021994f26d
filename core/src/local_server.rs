//! Which server a `-h <host>` names. The original's operator commands send their request to
//! the server `-h` names; clp manages one server, so a name must mean this one: `localhost`,
//! a loopback address, this host's short or full name, an address of one of its interfaces,
//! or a name the configuration gives this server. Anything else is refused with
//! [`NotThisServer`] until clp runs clusters of several servers.

use std::net::IpAddr;

use crate::config::{self, Config};
use crate::paths::Paths;

/// A `-h` name that is not this server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "server {name} is not this server ({this}); clp manages one server until the HA cluster is configured"
)]
pub struct NotThisServer {
    /// The name given.
    pub name: String,
    /// This server's name.
    pub this: String,
}

/// Whether `name` means this server, with the names the configuration of `paths` gives it
/// (a configuration that does not load adds none).
pub fn is_local_server(name: &str, paths: &Paths) -> bool {
    let config = config::load(paths).ok();
    is_local_server_in(name, config.as_ref())
}

/// Ok when `name` means this server (see [`is_local_server`]), else [`NotThisServer`].
pub fn check_local_server(name: &str, paths: &Paths) -> Result<(), NotThisServer> {
    if is_local_server(name, paths) {
        Ok(())
    } else {
        Err(NotThisServer {
            name: name.to_string(),
            this: config::host_name(),
        })
    }
}

/// Whether `name` means this server, given its configuration (if it loaded).
pub fn is_local_server_in(name: &str, config: Option<&Config>) -> bool {
    let name = name.trim().trim_end_matches('.');
    if name.is_empty() {
        return false;
    }
    if is_loopback_name(name) {
        return true;
    }
    let short = config::host_name();
    let full = full_host_name();
    let named = |candidate: &str| candidate.eq_ignore_ascii_case(name);
    if named(&short) || full.as_deref().is_some_and(named) {
        return true;
    }
    // `vm.example.com` on a host that calls itself `vm`: the resolver's full name.
    if let Some((first, _)) = name.split_once('.')
        && first.eq_ignore_ascii_case(&short)
        && name.parse::<IpAddr>().is_err()
    {
        return true;
    }
    if let Ok(address) = name.parse::<IpAddr>()
        && (address.is_loopback() || interface_addresses().contains(&address))
    {
        return true;
    }
    config.is_some_and(|config| configured_names(config).iter().any(|n| named(n)))
}

/// The names the configuration gives this server: its `[[server]]` entry (a configuration
/// names only this host; a list of several servers extends this).
fn configured_names(config: &Config) -> Vec<String> {
    config
        .local_server()
        .map(|server| server.name.clone())
        .into_iter()
        .collect()
}

/// `localhost` and its usual spellings.
fn is_loopback_name(name: &str) -> bool {
    ["localhost", "localhost.localdomain", "ip6-localhost"]
        .iter()
        .any(|loopback| loopback.eq_ignore_ascii_case(name))
}

/// The host name as the kernel holds it (possibly with a domain).
fn full_host_name() -> Option<String> {
    nix::unistd::gethostname()
        .ok()
        .and_then(|name| name.into_string().ok())
        .filter(|name| !name.is_empty())
}

/// The addresses of this machine's interfaces (none when they cannot be listed).
fn interface_addresses() -> Vec<IpAddr> {
    let Ok(interfaces) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    interfaces
        .filter_map(|interface| interface.address)
        .filter_map(|address| {
            if let Some(v4) = address.as_sockaddr_in() {
                Some(IpAddr::V4(v4.ip()))
            } else {
                address.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_and_addresses_are_this_server() {
        for name in ["localhost", "LOCALHOST", "127.0.0.1", "127.0.1.1", "::1"] {
            assert!(is_local_server_in(name, None), "{name}");
        }
    }

    #[test]
    fn this_hosts_names_are_this_server() {
        let short = config::host_name();
        assert!(is_local_server_in(&short, None));
        assert!(is_local_server_in(&short.to_uppercase(), None));
        assert!(is_local_server_in(&format!("{short}.example.com"), None));
        if let Some(full) = full_host_name() {
            assert!(is_local_server_in(&full, None));
        }
    }

    #[test]
    fn other_names_are_not() {
        for name in ["", "other-server-xyz", "other.example.com", "192.0.2.1"] {
            assert!(!is_local_server_in(name, None), "{name:?}");
        }
    }

    #[test]
    fn the_refusal_names_both_servers() {
        let error = NotThisServer {
            name: "db2".to_string(),
            this: "vm".to_string(),
        };
        assert_eq!(
            error.to_string(),
            "server db2 is not this server (vm); clp manages one server until the HA cluster is configured"
        );
    }
}
