//! Which interface a floating address goes on: the one named in the configuration, or the
//! one whose own address is in the same subnet. Pure: the interfaces are read elsewhere
//! ([`crate::netlink`]), so this is tested table by table.

use std::net::IpAddr;

use crate::packet::Mac;

/// An interface as the placement and the monitor see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// The kernel's index.
    pub index: u32,
    /// The name (`eth0`).
    pub name: String,
    /// The hardware address, for an Ethernet interface.
    pub mac: Option<Mac>,
    /// Administratively up (`IFF_UP`).
    pub up: bool,
    /// The driver reports a carrier (`IFF_LOWER_UP`).
    pub lower_up: bool,
    /// Its addresses with their prefix lengths.
    pub addresses: Vec<(IpAddr, u8)>,
}

impl Interface {
    /// Whether the link is up: administratively and with a carrier.
    pub fn link_up(&self) -> bool {
        self.up && self.lower_up
    }
}

/// Where a floating address goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The interface's index.
    pub index: u32,
    /// The interface's name.
    pub name: String,
    /// Its hardware address (no announcements or probes without one).
    pub mac: Option<Mac>,
    /// The prefix length the address gets.
    pub prefix: u8,
    /// The address is already on that interface.
    pub present: bool,
}

/// Why no interface fits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlacementError {
    /// The named interface does not exist.
    #[error("interface \"{0}\" does not exist on this server")]
    NoSuchInterface(String),
    /// No interface has an address in a subnet holding the floating address.
    #[error(
        "no interface has an address in the same subnet as {0}; add one, or name the interface (parameters.interface) and the prefix (ip = \"ADDRESS/PREFIX\")"
    )]
    NoSubnet(IpAddr),
    /// The named interface has no address in a subnet holding it, and no prefix was given.
    #[error(
        "interface \"{interface}\" has no address in the same subnet as {address}; give the prefix (ip = \"ADDRESS/PREFIX\")"
    )]
    NoPrefix {
        /// The interface.
        interface: String,
        /// The floating address.
        address: IpAddr,
    },
    /// Two interfaces are in a subnet holding it.
    #[error(
        "interfaces \"{first}\" and \"{second}\" both have an address in the same subnet as {address}; name one (parameters.interface)"
    )]
    Ambiguous {
        /// The floating address.
        address: IpAddr,
        /// One interface.
        first: String,
        /// Another.
        second: String,
    },
    /// The address is on another interface than the one named.
    #[error("{address} is already on interface \"{actual}\", not on \"{named}\"")]
    OnOtherInterface {
        /// The floating address.
        address: IpAddr,
        /// Where it is.
        actual: String,
        /// Where the configuration wants it.
        named: String,
    },
}

/// Whether `address` is in the network `network/prefix` (same family only).
pub fn in_subnet(address: IpAddr, network: IpAddr, prefix: u8) -> bool {
    match (address, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) if prefix <= 32 => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if prefix <= 128 => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// The interface that holds `address` now, if any.
pub fn holder(interfaces: &[Interface], address: IpAddr) -> Option<(&Interface, u8)> {
    interfaces.iter().find_map(|interface| {
        interface
            .addresses
            .iter()
            .find(|(a, _)| *a == address)
            .map(|(_, prefix)| (interface, *prefix))
    })
}

fn placement(interface: &Interface, prefix: u8, present: bool) -> Placement {
    Placement {
        index: interface.index,
        name: interface.name.clone(),
        mac: interface.mac,
        prefix,
        present,
    }
}

/// The subnet of `interface` that holds `address`: its prefix length.
fn subnet_prefix(interface: &Interface, address: IpAddr) -> Option<u8> {
    interface
        .addresses
        .iter()
        .filter(|(own, prefix)| *own != address && *prefix > 0)
        .find(|(own, prefix)| in_subnet(address, *own, *prefix))
        .map(|(_, prefix)| *prefix)
}

/// Picks the interface for `address`: where it already is; else the interface `named`
/// (with `prefix`, or the prefix of its address in the same subnet); else the one
/// interface with an address in the same subnet.
pub fn place(
    interfaces: &[Interface],
    address: IpAddr,
    prefix: Option<u8>,
    named: Option<&str>,
) -> Result<Placement, PlacementError> {
    if let Some((interface, held_prefix)) = holder(interfaces, address) {
        return match named {
            Some(named) if named != interface.name => Err(PlacementError::OnOtherInterface {
                address,
                actual: interface.name.clone(),
                named: named.to_string(),
            }),
            _ => Ok(placement(interface, held_prefix, true)),
        };
    }
    if let Some(named) = named {
        let interface = interfaces
            .iter()
            .find(|i| i.name == named)
            .ok_or_else(|| PlacementError::NoSuchInterface(named.to_string()))?;
        let prefix = prefix
            .or_else(|| subnet_prefix(interface, address))
            .ok_or_else(|| PlacementError::NoPrefix {
                interface: named.to_string(),
                address,
            })?;
        return Ok(placement(interface, prefix, false));
    }
    let mut candidates = interfaces
        .iter()
        .filter_map(|i| subnet_prefix(i, address).map(|p| (i, p)));
    let Some((interface, subnet)) = candidates.next() else {
        return Err(PlacementError::NoSubnet(address));
    };
    if let Some((other, _)) = candidates.next() {
        return Err(PlacementError::Ambiguous {
            address,
            first: interface.name.clone(),
            second: other.name.clone(),
        });
    }
    Ok(placement(interface, prefix.unwrap_or(subnet), false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interface(index: u32, name: &str, addresses: &[(&str, u8)]) -> Interface {
        Interface {
            index,
            name: name.into(),
            mac: Some([2, 0, 0, 0, 0, index as u8]),
            up: true,
            lower_up: true,
            addresses: addresses
                .iter()
                .map(|(a, p)| (a.parse().expect("address"), *p))
                .collect(),
        }
    }

    fn host() -> Vec<Interface> {
        vec![
            interface(1, "lo", &[("127.0.0.1", 8), ("::1", 128)]),
            interface(2, "eth0", &[("192.0.2.11", 24), ("fe80::1", 64)]),
            interface(
                3,
                "eth1",
                &[("198.51.100.11", 25), ("2001:db8::11", 64), ("fe80::2", 64)],
            ),
        ]
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    #[test]
    fn the_address_goes_on_the_interface_of_its_subnet_with_that_prefix() {
        let placed = place(&host(), ip("192.0.2.100"), None, None).expect("placed");
        assert_eq!(
            (placed.name.as_str(), placed.prefix, placed.present),
            ("eth0", 24, false)
        );
        let placed = place(&host(), ip("198.51.100.100"), None, None).expect("placed");
        assert_eq!((placed.name.as_str(), placed.prefix), ("eth1", 25));
        let placed = place(&host(), ip("2001:db8::100"), None, None).expect("placed");
        assert_eq!((placed.name.as_str(), placed.prefix), ("eth1", 64));
    }

    #[test]
    fn an_address_outside_every_subnet_fits_no_interface() {
        // 198.51.100.200 is outside eth1's /25.
        for address in ["198.51.100.200", "203.0.113.5", "2001:db8:1::5"] {
            assert_eq!(
                place(&host(), ip(address), None, None),
                Err(PlacementError::NoSubnet(ip(address))),
                "{address}"
            );
        }
    }

    #[test]
    fn a_named_interface_wins_and_needs_a_prefix_outside_its_subnets() {
        let placed = place(&host(), ip("203.0.113.5"), Some(24), Some("eth0")).expect("placed");
        assert_eq!((placed.index, placed.prefix), (2, 24));
        assert_eq!(
            place(&host(), ip("203.0.113.5"), None, Some("eth0")),
            Err(PlacementError::NoPrefix {
                interface: "eth0".into(),
                address: ip("203.0.113.5")
            })
        );
        assert_eq!(
            place(&host(), ip("192.0.2.100"), None, Some("eth9")),
            Err(PlacementError::NoSuchInterface("eth9".into()))
        );
    }

    #[test]
    fn an_address_already_held_is_present_where_it_is() {
        let mut interfaces = host();
        interfaces[1].addresses.push((ip("192.0.2.100"), 24));
        let placed = place(&interfaces, ip("192.0.2.100"), None, None).expect("placed");
        assert!(placed.present);
        assert_eq!(placed.name, "eth0");
        assert!(matches!(
            place(&interfaces, ip("192.0.2.100"), None, Some("eth1")),
            Err(PlacementError::OnOtherInterface { .. })
        ));
    }

    #[test]
    fn two_interfaces_in_the_subnet_must_be_told_apart() {
        let mut interfaces = host();
        interfaces.push(interface(4, "eth2", &[("192.0.2.12", 24)]));
        assert!(matches!(
            place(&interfaces, ip("192.0.2.100"), None, None),
            Err(PlacementError::Ambiguous { .. })
        ));
        let placed = place(&interfaces, ip("192.0.2.100"), None, Some("eth2")).expect("named");
        assert_eq!((placed.name.as_str(), placed.prefix), ("eth2", 24));
    }

    #[test]
    fn subnet_arithmetic_covers_the_edges() {
        assert!(in_subnet(ip("10.1.2.3"), ip("10.0.0.0"), 8));
        assert!(!in_subnet(ip("11.1.2.3"), ip("10.0.0.0"), 8));
        assert!(in_subnet(ip("10.1.2.3"), ip("10.1.2.3"), 32));
        assert!(in_subnet(ip("1.2.3.4"), ip("9.9.9.9"), 0));
        assert!(!in_subnet(ip("10.1.2.3"), ip("::"), 0), "families differ");
        assert!(!in_subnet(ip("10.1.2.3"), ip("10.1.2.3"), 33));
        assert!(in_subnet(ip("2001:db8::ffff"), ip("2001:db8::"), 112));
        assert!(!in_subnet(ip("2001:db8::1:0"), ip("2001:db8::"), 112));
    }
}
