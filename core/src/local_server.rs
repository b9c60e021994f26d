//! Which server a `-h <host>` names. The original's operator commands send their request to
//! the server `-h` names. On one server a name must mean this one: `localhost`, a loopback
//! address, this host's short or full name, or an address of one of its interfaces;
//! anything else is refused with [`NotThisServer`]. In an HA cluster, another server of the
//! cluster is asked through etcd instead (`clp-cluster`'s request channel).

use std::net::IpAddr;

use crate::config;

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

/// Ok when `name` means this server (see [`is_local_server`]), else [`NotThisServer`].
pub fn check_local_server(name: &str) -> Result<(), NotThisServer> {
    if is_local_server(name) {
        Ok(())
    } else {
        Err(NotThisServer {
            name: name.to_string(),
            this: config::host_name(),
        })
    }
}

/// Whether `name` means this server. A configuration names only this host (clppm and
/// `clpcfctrl --push` refuse another), so the host's own names are the configured one too.
pub fn is_local_server(name: &str) -> bool {
    let name = name.trim().trim_end_matches('.');
    if name.is_empty() {
        return false;
    }
    if is_loopback_name(name) {
        return true;
    }
    match name.parse::<IpAddr>() {
        Ok(address) => address.is_loopback() || interface_addresses().contains(&address),
        // `vm`, `VM`, `vm.example.com` on a host that calls itself `vm` (or `vm.local`).
        Err(_) => config::same_host(name, &config::host_name()),
    }
}

/// `localhost` and its usual spellings.
fn is_loopback_name(name: &str) -> bool {
    ["localhost", "localhost.localdomain", "ip6-localhost"]
        .iter()
        .any(|loopback| loopback.eq_ignore_ascii_case(name))
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
            assert!(is_local_server(name), "{name}");
        }
    }

    #[test]
    fn this_hosts_names_are_this_server() {
        let short = config::host_name();
        assert!(is_local_server(&short));
        assert!(is_local_server(&short.to_uppercase()));
        assert!(is_local_server(&format!("{short}.example.com")));
        if let Ok(full) = nix::unistd::gethostname() {
            assert!(is_local_server(&full.to_string_lossy()));
        }
    }

    #[test]
    fn other_names_are_not() {
        for name in ["", "other-server-xyz", "other.example.com", "192.0.2.1"] {
            assert!(!is_local_server(name), "{name:?}");
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
