//! clp-net: the floating IP's network work. A floating address is added to the interface of
//! its subnet over netlink ([`netlink`], placed by [`placement`]), after a duplicate address
//! probe on the link (an ARP probe for IPv4, a neighbour solicitation for IPv6), and then
//! announced (gratuitous ARP, unsolicited neighbour advertisement) from a packet socket
//! ([`wire`], frames built by [`packet`]). The engine's `fip` resource and the `fipw`
//! monitor's probe both work through [`FloatingIp`].
#![warn(missing_docs)]

pub mod netlink;
pub mod packet;
pub mod placement;
pub mod wire;

use std::io;
use std::net::IpAddr;
use std::time::Duration;

use netlink::{Netlink, NetlinkError};
use packet::Mac;
use placement::{Placement, PlacementError};
use wire::PacketSocket;

/// How many probes one duplicate check sends, spread over its wait (one lost frame does not
/// hide another holder).
const PROBES: u32 = 3;

/// A floating address and how it is brought up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FloatingIp {
    /// The address.
    pub address: IpAddr,
    /// Its prefix length; `None`: that of the interface's address in the same subnet.
    pub prefix: Option<u8>,
    /// The interface it goes on; `None`: the one with an address in the same subnet.
    pub interface: Option<String>,
    /// How long the duplicate check waits for an answer.
    pub probe_wait: Duration,
    /// How many announcements activation sends (the first at once).
    pub announcements: u32,
    /// The time between two announcements.
    pub announce_interval: Duration,
}

/// What an activation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activated {
    /// The interface the address is on.
    pub interface: String,
    /// False when the address was there already.
    pub added: bool,
    /// The hardware address of another host that answered for the address, when activation
    /// was forced over it.
    pub forced_over: Option<Mac>,
}

/// Why an activation failed.
#[derive(Debug, thiserror::Error)]
pub enum ActivationError {
    /// No interface fits the address.
    #[error(transparent)]
    Placement(#[from] PlacementError),
    /// The kernel refused.
    #[error(transparent)]
    Netlink(#[from] NetlinkError),
    /// Another host answers for the address.
    #[error("{address} already answers on the network (from {})", mac_text(mac))]
    InUse {
        /// The floating address.
        address: IpAddr,
        /// The other host's hardware address.
        mac: Mac,
    },
    /// The packet socket of the probe failed.
    #[error("cannot probe {address} on interface \"{interface}\": {error}")]
    Probe {
        /// The floating address.
        address: IpAddr,
        /// The interface.
        interface: String,
        /// What failed.
        error: io::Error,
    },
}

/// Why a check of an active floating address failed.
#[derive(Debug, thiserror::Error)]
pub enum CheckFailure {
    /// No interface holds the address.
    #[error("{0} is on no interface")]
    Missing(IpAddr),
    /// The address is on another interface than the one named.
    #[error("{address} is on interface \"{actual}\", not on \"{named}\"")]
    OnOtherInterface {
        /// The floating address.
        address: IpAddr,
        /// Where it is.
        actual: String,
        /// Where the configuration wants it.
        named: String,
    },
    /// The interface's link is down.
    #[error("the link of interface \"{0}\" is down")]
    LinkDown(String),
    /// The interfaces could not be read.
    #[error(transparent)]
    Netlink(#[from] NetlinkError),
}

/// A hardware address as `aa:bb:cc:dd:ee:ff`.
pub fn mac_text(mac: &Mac) -> String {
    mac.iter()
        .map(|byte| format!("{byte:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

impl From<&clp_core::resource::fip::FipParams> for FloatingIp {
    fn from(params: &clp_core::resource::fip::FipParams) -> FloatingIp {
        FloatingIp {
            address: params.address,
            prefix: params.prefix,
            interface: params.interface.clone(),
            probe_wait: params.probe_wait,
            announcements: params.announcements,
            announce_interval: params.announce_interval,
        }
    }
}

impl FloatingIp {
    /// Brings the address up: places it, probes the link for another holder (refused
    /// unless `force`), adds it, and announces it. An address already on its interface is
    /// announced again and left as it is.
    pub async fn activate(&self, force: bool) -> Result<Activated, ActivationError> {
        let netlink = Netlink::connect()?;
        let interfaces = netlink.interfaces().await?;
        let placement = placement::place(
            &interfaces,
            self.address,
            self.prefix,
            self.interface.as_deref(),
        )?;
        let mut forced_over = None;
        if !placement.present
            && let Some(mac) = placement.mac
            && let Some(other) = self.probe(&placement, mac).await?
        {
            if !force {
                return Err(ActivationError::InUse {
                    address: self.address,
                    mac: other,
                });
            }
            forced_over = Some(other);
        }
        let added = if placement.present {
            false
        } else {
            netlink
                .add(placement.index, self.address, placement.prefix)
                .await?
        };
        if let Some(mac) = placement.mac {
            self.announce(&placement, mac).await;
        }
        Ok(Activated {
            interface: placement.name,
            added,
            forced_over,
        })
    }

    /// Takes the address down; returns false when no interface held it (a success too).
    pub async fn deactivate(&self) -> Result<bool, NetlinkError> {
        Netlink::connect()?.remove(self.address).await
    }

    /// Checks that the address is on its interface and, with `link`, that the interface's
    /// link is up; returns the interface's name.
    pub async fn check(&self, link: bool) -> Result<String, CheckFailure> {
        let interfaces = Netlink::connect()?.interfaces().await?;
        let (interface, _) = placement::holder(&interfaces, self.address)
            .ok_or(CheckFailure::Missing(self.address))?;
        if let Some(named) = &self.interface
            && *named != interface.name
        {
            return Err(CheckFailure::OnOtherInterface {
                address: self.address,
                actual: interface.name.clone(),
                named: named.clone(),
            });
        }
        if link && !interface.link_up() {
            return Err(CheckFailure::LinkDown(interface.name.clone()));
        }
        Ok(interface.name.clone())
    }

    /// Sends probes for the address and waits [`FloatingIp::probe_wait`] for another host
    /// to answer; returns its hardware address.
    async fn probe(&self, placement: &Placement, own: Mac) -> Result<Option<Mac>, ActivationError> {
        let failed = |error: io::Error| ActivationError::Probe {
            address: self.address,
            interface: placement.name.clone(),
            error,
        };
        let (ethertype, frame) = match self.address {
            IpAddr::V4(address) => (packet::ETH_P_ARP, packet::arp_probe(own, address)),
            IpAddr::V6(address) => (
                packet::ETH_P_IPV6,
                packet::neighbour_solicitation_probe(own, address),
            ),
        };
        let socket = PacketSocket::open(placement.index, ethertype).map_err(failed)?;
        let deadline = tokio::time::Instant::now() + self.probe_wait;
        let spacing = self.probe_wait / PROBES;
        let mut next_probe = tokio::time::Instant::now();
        let mut sent = 0;
        let mut buffer = [0u8; 2048];
        loop {
            let now = tokio::time::Instant::now();
            if sent < PROBES && now >= next_probe {
                socket.send(&frame).await.map_err(failed)?;
                sent += 1;
                next_probe = now + spacing;
            }
            if now >= deadline {
                return Ok(None);
            }
            let until = if sent < PROBES {
                next_probe.min(deadline)
            } else {
                deadline
            };
            let Some(length) = socket
                .receive(&mut buffer, until.saturating_duration_since(now))
                .await
                .map_err(failed)?
            else {
                continue;
            };
            if let Some(mac) = self.conflict(&buffer[..length], own) {
                return Ok(Some(mac));
            }
        }
    }

    /// The hardware address of another host claiming the address in `frame`, if it does.
    fn conflict(&self, frame: &[u8], own: Mac) -> Option<Mac> {
        match self.address {
            IpAddr::V4(address) => packet::parse_arp(frame)
                .filter(|p| packet::arp_conflicts(p, address, own))
                .map(|p| p.sender_mac),
            IpAddr::V6(address) => packet::parse_neighbour_message(frame)
                .filter(|m| packet::neighbour_conflicts(m, address, own))
                .map(|m| m.sender_mac),
        }
    }

    /// Sends the first announcement now and the others, spaced, from a task of their own
    /// (activation does not wait for them). A failure is logged: the address is up, and
    /// neighbours learn it at their next resolution anyway.
    async fn announce(&self, placement: &Placement, own: Mac) {
        let (ethertype, frame) = match self.address {
            IpAddr::V4(address) => (packet::ETH_P_ARP, packet::gratuitous_arp(own, address)),
            IpAddr::V6(address) => (
                packet::ETH_P_IPV6,
                packet::unsolicited_neighbour_advertisement(own, address),
            ),
        };
        let address = self.address;
        let interface = placement.name.clone();
        let socket = match PacketSocket::open(placement.index, ethertype) {
            Ok(socket) => socket,
            Err(error) => {
                tracing::warn!(%address, %interface, "cannot announce: {error}");
                return;
            }
        };
        if let Err(error) = socket.send(&frame).await {
            tracing::warn!(%address, %interface, "cannot announce: {error}");
            return;
        }
        let remaining = self.announcements.saturating_sub(1);
        let interval = self.announce_interval;
        if remaining > 0 {
            tokio::spawn(async move {
                for _ in 0..remaining {
                    tokio::time::sleep(interval).await;
                    if let Err(error) = socket.send(&frame).await {
                        tracing::warn!(%address, %interface, "cannot announce: {error}");
                        return;
                    }
                }
            });
        }
    }
}
