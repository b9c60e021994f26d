//! The `fip` (floating IP) resource's parameters: the original's `parameters/ip`, and ours
//! for the interface, forced activation, the duplicate probe and the announcements. Checked
//! whole at configuration load; the interface that fits is found at activation (it is this
//! server's, and in an HA cluster each server has its own).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use crate::monitor::params::ParamReader;

/// The resource type name.
pub const KIND: &str = "fip";

/// The keys of a fip's `[group.resource.parameters]`.
pub const KEYS: &[&str] = &[
    "ip",
    "interface",
    "forced_activation",
    "probe_wait",
    "announcements",
    "announce_interval",
];

/// A fip resource's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FipParams {
    /// The floating address.
    pub address: IpAddr,
    /// Its prefix length when given (`ip = "192.0.2.100/24"`).
    pub prefix: Option<u8>,
    /// The interface it goes on; `None`: the one with an address in its subnet.
    pub interface: Option<String>,
    /// Activate even when another host answers for the address (the original's `fip 11`).
    pub forced_activation: bool,
    /// How long the duplicate check waits for an answer.
    pub probe_wait: Duration,
    /// Announcements sent on activation.
    pub announcements: u32,
    /// The time between two announcements.
    pub announce_interval: Duration,
}

/// Reads a fip's parameters; returns them with one message per problem (`key "ip": ...`).
pub fn parse(parameters: &toml::Table) -> (FipParams, Vec<String>) {
    let mut reader = ParamReader::new(parameters);
    let text = reader.required_string("ip");
    let (address, prefix) = if parameters.contains_key("ip") {
        match parse_address(&text) {
            Ok(parsed) => parsed,
            Err(why) => {
                reader.problem("ip", why);
                (IpAddr::V4(Ipv4Addr::UNSPECIFIED), None)
            }
        }
    } else {
        (IpAddr::V4(Ipv4Addr::UNSPECIFIED), None)
    };
    let interface = parameters
        .contains_key("interface")
        .then(|| reader.string("interface", ""));
    if let Some(name) = &interface
        && let Err(why) = crate::monitor::miiw::check_interface_name(name)
    {
        reader.problem("interface", why);
    }
    let forced_activation = reader.flag("forced_activation", false);
    // Another holder's kernel answers a probe within a millisecond on a LAN: 200 ms leaves
    // it a wide margin, and every millisecond of it is part of every failover's outage.
    let probe_wait = reader.integer("probe_wait", 200, 50, 10_000);
    let announcements = reader.integer("announcements", 3, 1, 20);
    let announce_interval = reader.integer("announce_interval", 500, 10, 10_000);
    let millis = |value: i64| Duration::from_millis(u64::try_from(value).unwrap_or(0));
    let params = FipParams {
        address,
        prefix,
        interface,
        forced_activation,
        probe_wait: millis(probe_wait),
        announcements: u32::try_from(announcements).unwrap_or(3),
        announce_interval: millis(announce_interval),
    };
    (params, reader.finish(KEYS))
}

/// Reads `ADDRESS` or `ADDRESS/PREFIX` and refuses what cannot be one host's floating
/// address.
pub fn parse_address(text: &str) -> Result<(IpAddr, Option<u8>), String> {
    let (address_text, prefix_text) = match text.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (text, None),
    };
    let address: IpAddr = address_text.parse().map_err(|_| {
        format!("\"{text}\" is not an IP address (write it as 192.0.2.100 or 192.0.2.100/24)")
    })?;
    let width = if address.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix_text {
        None => None,
        Some(digits) => match digits.parse::<u8>() {
            Ok(prefix) if (1..=width).contains(&prefix) && !digits.starts_with('+') => Some(prefix),
            _ => {
                return Err(format!(
                    "\"{digits}\" is not a prefix length of {address} (1 to {width})"
                ));
            }
        },
    };
    let refused = match address {
        IpAddr::V4(v4) => refused_v4(v4, prefix),
        IpAddr::V6(v6) => refused_v6(v6, prefix),
    };
    match refused {
        Some(why) => Err(format!(
            "{address} is {why}; a floating IP is one host's unicast address"
        )),
        None => Ok((address, prefix)),
    }
}

fn refused_v4(address: Ipv4Addr, prefix: Option<u8>) -> Option<&'static str> {
    let first = address.octets()[0];
    let bits = u32::from(address);
    if address.is_unspecified() || first == 0 {
        Some("in 0.0.0.0/8 (\"this network\")")
    } else if address.is_loopback() {
        Some("a loopback address")
    } else if address.is_multicast() {
        Some("a multicast address")
    } else if address.is_broadcast() {
        Some("the broadcast address")
    } else if first >= 240 {
        Some("in the reserved 240.0.0.0/4")
    } else if address.is_link_local() {
        Some("a link-local address (169.254.0.0/16)")
    } else if let Some(prefix) = prefix.filter(|p| *p <= 30) {
        let host_mask = u32::MAX >> prefix;
        if bits & host_mask == 0 {
            Some("the network address of its prefix")
        } else if bits & host_mask == host_mask {
            Some("the broadcast address of its prefix")
        } else {
            None
        }
    } else {
        None
    }
}

fn refused_v6(address: Ipv6Addr, prefix: Option<u8>) -> Option<&'static str> {
    let first = address.segments()[0];
    if address.is_unspecified() {
        Some("the unspecified address")
    } else if address.is_loopback() {
        Some("the loopback address")
    } else if address.is_multicast() {
        Some("a multicast address")
    } else if first & 0xffc0 == 0xfe80 {
        Some("a link-local address (fe80::/10, bound to one link's scope)")
    } else if address.to_ipv4_mapped().is_some() {
        Some("an IPv4-mapped address (write the IPv4 address)")
    } else if let Some(prefix) = prefix.filter(|p| *p <= 126)
        && u128::from(address) & (u128::MAX >> prefix) == 0
    {
        Some("the subnet-router anycast address of its prefix")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        text.parse().expect("toml")
    }

    #[test]
    fn the_address_alone_takes_every_default() {
        let (params, problems) = parse(&table("ip = \"192.0.2.100\""));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(params.address, "192.0.2.100".parse::<IpAddr>().expect("ip"));
        assert_eq!(params.prefix, None);
        assert_eq!(params.interface, None);
        assert!(!params.forced_activation);
        assert_eq!(params.announcements, 3);
    }

    #[test]
    fn a_prefix_an_interface_and_force_are_read() {
        let (params, problems) = parse(&table(
            "ip = \"2001:db8::100/64\"\ninterface = \"eth0\"\nforced_activation = 1",
        ));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(params.prefix, Some(64));
        assert_eq!(params.interface.as_deref(), Some("eth0"));
        assert!(params.forced_activation);
    }

    #[test]
    fn hostile_addresses_are_refused_with_the_key() {
        for bad in [
            "",
            "192.0.2",
            "192.0.2.100/33",
            "192.0.2.100/0",
            "192.0.2.100/+8",
            "192.0.2.100/x",
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "169.254.1.1",
            "192.0.2.0/24",
            "192.0.2.255/24",
            "::",
            "::1",
            "ff02::1",
            "fe80::1",
            "::ffff:192.0.2.1",
            "2001:db8::/64",
            "2001:db8::1/129",
            "192.0.2.100; rm -rf /",
        ] {
            let (_, problems) = parse(&table(&format!("ip = {bad:?}")));
            assert_eq!(problems.len(), 1, "{bad}: {problems:?}");
            assert!(problems[0].starts_with("key \"ip\""), "{bad}: {problems:?}");
        }
        for good in [
            "192.0.2.1/31",
            "192.0.2.100/32",
            "2001:db8::1/127",
            "10.0.0.1",
        ] {
            let (_, problems) = parse(&table(&format!("ip = {good:?}")));
            assert!(problems.is_empty(), "{good}: {problems:?}");
        }
    }

    #[test]
    fn a_missing_address_an_odd_interface_and_unknown_keys_are_problems() {
        let (_, problems) = parse(&table("interface = \"eth0/../x\"\nipaddr = \"1.2.3.4\""));
        assert!(
            problems.iter().any(|p| p == "key \"ip\" is missing"),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.starts_with("key \"interface\"")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("ipaddr")),
            "{problems:?}"
        );
        let (_, problems) = parse(&table(
            "ip = \"192.0.2.1\"\ninterface = \"a very long interface name\"",
        ));
        assert_eq!(problems.len(), 1, "{problems:?}");
    }
}
