//! The frames a floating IP sends and reads on an Ethernet link: ARP probes and gratuitous
//! ARP (IPv4, RFC 826 / RFC 5227), neighbour solicitations for duplicate address detection
//! and unsolicited neighbour advertisements (IPv6, RFC 4861 / RFC 4862). Pure byte work,
//! tested without a network.

use std::net::{Ipv4Addr, Ipv6Addr};

/// An Ethernet (MAC) address.
pub type Mac = [u8; 6];

/// The Ethernet broadcast address.
pub const BROADCAST: Mac = [0xff; 6];
/// EtherType of ARP.
pub const ETH_P_ARP: u16 = 0x0806;
/// EtherType of IPv6.
pub const ETH_P_IPV6: u16 = 0x86dd;

const ETHERNET_HEADER: usize = 14;
const ARP_LENGTH: usize = 28;
const IPV6_HEADER: usize = 40;
const ICMPV6: u8 = 58;
const NEIGHBOUR_SOLICITATION: u8 = 135;
const NEIGHBOUR_ADVERTISEMENT: u8 = 136;
/// NA flag: the advertisement overrides an existing cache entry.
const OVERRIDE: u32 = 0x2000_0000;
/// NDP option: the target's link-layer address.
const TARGET_LINK_LAYER: u8 = 2;
/// The hop limit every NDP packet carries (a receiver drops any other).
const NDP_HOP_LIMIT: u8 = 255;

fn ethernet(destination: Mac, source: Mac, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(ETHERNET_HEADER + payload.len());
    frame.extend_from_slice(&destination);
    frame.extend_from_slice(&source);
    frame.extend_from_slice(&ethertype.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

fn arp(op: u16, sender_mac: Mac, sender_ip: Ipv4Addr, target_ip: Ipv4Addr) -> Vec<u8> {
    let mut arp = Vec::with_capacity(ARP_LENGTH);
    arp.extend_from_slice(&1u16.to_be_bytes()); // hardware: Ethernet
    arp.extend_from_slice(&0x0800u16.to_be_bytes()); // protocol: IPv4
    arp.push(6);
    arp.push(4);
    arp.extend_from_slice(&op.to_be_bytes());
    arp.extend_from_slice(&sender_mac);
    arp.extend_from_slice(&sender_ip.octets());
    arp.extend_from_slice(&[0; 6]);
    arp.extend_from_slice(&target_ip.octets());
    arp
}

/// An ARP probe (RFC 5227 §2.1.1): a broadcast request for `target` from the unspecified
/// address, so that no neighbour learns anything from it and the owner of `target`, if
/// any, answers.
pub fn arp_probe(own_mac: Mac, target: Ipv4Addr) -> Vec<u8> {
    ethernet(
        BROADCAST,
        own_mac,
        ETH_P_ARP,
        &arp(1, own_mac, Ipv4Addr::UNSPECIFIED, target),
    )
}

/// A gratuitous ARP announcement (RFC 5227 §2.3): a broadcast request whose sender and
/// target are both `address`, so every neighbour updates its cache to `own_mac`.
pub fn gratuitous_arp(own_mac: Mac, address: Ipv4Addr) -> Vec<u8> {
    ethernet(
        BROADCAST,
        own_mac,
        ETH_P_ARP,
        &arp(1, own_mac, address, address),
    )
}

/// What a received ARP packet says, as far as a duplicate check needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpPacket {
    /// 1 request, 2 reply.
    pub operation: u16,
    /// The sender's hardware address.
    pub sender_mac: Mac,
    /// The sender's protocol address (unspecified in a probe).
    pub sender_ip: Ipv4Addr,
    /// The address asked about.
    pub target_ip: Ipv4Addr,
}

/// Reads an Ethernet frame carrying an Ethernet/IPv4 ARP packet; anything else is `None`.
pub fn parse_arp(frame: &[u8]) -> Option<ArpPacket> {
    if frame.len() < ETHERNET_HEADER + ARP_LENGTH
        || u16::from_be_bytes([frame[12], frame[13]]) != ETH_P_ARP
    {
        return None;
    }
    let arp = &frame[ETHERNET_HEADER..];
    if arp[0..6] != [0, 1, 8, 0, 6, 4] {
        return None;
    }
    let ip = |at: usize| Ipv4Addr::new(arp[at], arp[at + 1], arp[at + 2], arp[at + 3]);
    Some(ArpPacket {
        operation: u16::from_be_bytes([arp[6], arp[7]]),
        sender_mac: mac_at(arp, 8),
        sender_ip: ip(14),
        target_ip: ip(24),
    })
}

/// Whether `packet`, seen while probing `candidate` from `own_mac`, shows that another host
/// holds or claims the address (RFC 5227 §2.1.1): it sends from it, or it probes for it
/// too.
pub fn arp_conflicts(packet: &ArpPacket, candidate: Ipv4Addr, own_mac: Mac) -> bool {
    if packet.sender_mac == own_mac {
        return false;
    }
    packet.sender_ip == candidate
        || (packet.operation == 1
            && packet.sender_ip.is_unspecified()
            && packet.target_ip == candidate)
}

fn mac_at(bytes: &[u8], at: usize) -> Mac {
    let mut mac = [0; 6];
    mac.copy_from_slice(&bytes[at..at + 6]);
    mac
}

/// The solicited-node multicast address of `address` (RFC 4291 §2.7.1).
pub fn solicited_node(address: Ipv6Addr) -> Ipv6Addr {
    let o = address.octets();
    Ipv6Addr::new(
        0xff02,
        0,
        0,
        0,
        0,
        1,
        0xff00 | u16::from(o[13]),
        u16::from_be_bytes([o[14], o[15]]),
    )
}

/// The Ethernet address an IPv6 multicast address maps to (RFC 2464 §7).
pub fn multicast_mac(group: Ipv6Addr) -> Mac {
    let o = group.octets();
    [0x33, 0x33, o[12], o[13], o[14], o[15]]
}

/// The ICMPv6 checksum over the IPv6 pseudo-header and `message` (RFC 4443 §2.3).
pub fn icmpv6_checksum(source: Ipv6Addr, destination: Ipv6Addr, message: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut add = |bytes: &[u8]| {
        for pair in bytes.chunks(2) {
            let word = match pair {
                [high, low] => u16::from_be_bytes([*high, *low]),
                [high] => u16::from_be_bytes([*high, 0]),
                _ => 0,
            };
            sum += u32::from(word);
        }
    };
    add(&source.octets());
    add(&destination.octets());
    let length = u32::try_from(message.len()).unwrap_or(u32::MAX);
    add(&length.to_be_bytes());
    add(&[0, 0, 0, ICMPV6]);
    add(message);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn ipv6_frame(source_mac: Mac, source: Ipv6Addr, destination: Ipv6Addr, icmp: &[u8]) -> Vec<u8> {
    let mut packet = Vec::with_capacity(IPV6_HEADER + icmp.len());
    packet.extend_from_slice(&[0x60, 0, 0, 0]);
    let length = u16::try_from(icmp.len()).unwrap_or(u16::MAX);
    packet.extend_from_slice(&length.to_be_bytes());
    packet.push(ICMPV6);
    packet.push(NDP_HOP_LIMIT);
    packet.extend_from_slice(&source.octets());
    packet.extend_from_slice(&destination.octets());
    packet.extend_from_slice(icmp);
    ethernet(multicast_mac(destination), source_mac, ETH_P_IPV6, &packet)
}

fn with_checksum(mut icmp: Vec<u8>, source: Ipv6Addr, destination: Ipv6Addr) -> Vec<u8> {
    let checksum = icmpv6_checksum(source, destination, &icmp);
    icmp[2..4].copy_from_slice(&checksum.to_be_bytes());
    icmp
}

/// A duplicate address detection probe (RFC 4862 §5.4.2): a neighbour solicitation for
/// `target` from the unspecified address to its solicited-node group, with no source
/// link-layer option.
pub fn neighbour_solicitation_probe(own_mac: Mac, target: Ipv6Addr) -> Vec<u8> {
    let destination = solicited_node(target);
    let mut icmp = vec![NEIGHBOUR_SOLICITATION, 0, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&target.octets());
    let icmp = with_checksum(icmp, Ipv6Addr::UNSPECIFIED, destination);
    ipv6_frame(own_mac, Ipv6Addr::UNSPECIFIED, destination, &icmp)
}

/// An unsolicited neighbour advertisement (RFC 4861 §7.2.6): from `address` to all nodes,
/// with the override flag and the target link-layer option, so every neighbour updates its
/// cache to `own_mac`.
pub fn unsolicited_neighbour_advertisement(own_mac: Mac, address: Ipv6Addr) -> Vec<u8> {
    let destination = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
    let mut icmp = vec![NEIGHBOUR_ADVERTISEMENT, 0, 0, 0];
    icmp.extend_from_slice(&OVERRIDE.to_be_bytes());
    icmp.extend_from_slice(&address.octets());
    icmp.extend_from_slice(&[TARGET_LINK_LAYER, 1]);
    icmp.extend_from_slice(&own_mac);
    let icmp = with_checksum(icmp, address, destination);
    ipv6_frame(own_mac, address, destination, &icmp)
}

/// What a received neighbour discovery message says, as far as a duplicate check needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeighbourMessage {
    /// 135 solicitation, 136 advertisement.
    pub kind: u8,
    /// The frame's Ethernet source.
    pub sender_mac: Mac,
    /// The IPv6 source (unspecified in a DAD probe).
    pub source: Ipv6Addr,
    /// The address solicited or advertised.
    pub target: Ipv6Addr,
}

/// Reads an Ethernet frame carrying a neighbour solicitation or advertisement with a valid
/// hop limit and checksum; anything else is `None`.
pub fn parse_neighbour_message(frame: &[u8]) -> Option<NeighbourMessage> {
    if frame.len() < ETHERNET_HEADER + IPV6_HEADER + 24
        || u16::from_be_bytes([frame[12], frame[13]]) != ETH_P_IPV6
    {
        return None;
    }
    let ip = &frame[ETHERNET_HEADER..];
    let length = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
    if ip[0] >> 4 != 6 || ip[6] != ICMPV6 || ip[7] != NDP_HOP_LIMIT {
        return None;
    }
    let icmp = ip.get(IPV6_HEADER..IPV6_HEADER + length)?;
    if icmp.len() < 24 || !matches!(icmp[0], NEIGHBOUR_SOLICITATION | NEIGHBOUR_ADVERTISEMENT) {
        return None;
    }
    let address = |bytes: &[u8]| {
        let mut octets = [0; 16];
        octets.copy_from_slice(&bytes[..16]);
        Ipv6Addr::from(octets)
    };
    let source = address(&ip[8..24]);
    let destination = address(&ip[24..40]);
    if icmpv6_checksum(source, destination, icmp) != 0 {
        return None;
    }
    Some(NeighbourMessage {
        kind: icmp[0],
        sender_mac: mac_at(frame, 6),
        source,
        target: address(&icmp[8..24]),
    })
}

/// Whether `message`, seen while probing `candidate` from `own_mac`, shows that another
/// host holds or claims the address (RFC 4862 §5.4.3, §5.4.4): it advertises it, or it runs
/// duplicate address detection for it too.
pub fn neighbour_conflicts(message: &NeighbourMessage, candidate: Ipv6Addr, own_mac: Mac) -> bool {
    if message.sender_mac == own_mac || message.target != candidate {
        return false;
    }
    message.kind == NEIGHBOUR_ADVERTISEMENT
        || (message.kind == NEIGHBOUR_SOLICITATION && message.source.is_unspecified())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: Mac = [0x02, 0, 0, 0, 0, 0x11];
    const THEIRS: Mac = [0x02, 0, 0, 0, 0, 0x22];

    #[test]
    fn an_arp_probe_asks_for_the_address_from_the_unspecified_address() {
        let frame = arp_probe(OURS, Ipv4Addr::new(192, 0, 2, 100));
        assert_eq!(frame.len(), 42);
        assert_eq!(&frame[0..6], &BROADCAST);
        assert_eq!(&frame[6..12], &OURS);
        assert_eq!(&frame[12..14], &[0x08, 0x06]);
        let packet = parse_arp(&frame).expect("an ARP frame");
        assert_eq!(packet.operation, 1);
        assert_eq!(packet.sender_mac, OURS);
        assert_eq!(packet.sender_ip, Ipv4Addr::UNSPECIFIED);
        assert_eq!(packet.target_ip, Ipv4Addr::new(192, 0, 2, 100));
        assert_eq!(
            &frame[32..38],
            &[0; 6],
            "the target hardware address is zero"
        );
    }

    #[test]
    fn a_gratuitous_arp_names_the_address_as_sender_and_target() {
        let address = Ipv4Addr::new(192, 0, 2, 100);
        let packet = parse_arp(&gratuitous_arp(OURS, address)).expect("an ARP frame");
        assert_eq!((packet.sender_ip, packet.target_ip), (address, address));
        assert_eq!(packet.sender_mac, OURS);
    }

    #[test]
    fn a_reply_from_another_host_holding_the_address_is_a_conflict() {
        let candidate = Ipv4Addr::new(192, 0, 2, 100);
        let reply = ArpPacket {
            operation: 2,
            sender_mac: THEIRS,
            sender_ip: candidate,
            target_ip: Ipv4Addr::UNSPECIFIED,
        };
        assert!(arp_conflicts(&reply, candidate, OURS));
        let probe_of_theirs = parse_arp(&arp_probe(THEIRS, candidate)).expect("ARP");
        assert!(arp_conflicts(&probe_of_theirs, candidate, OURS));
        let our_own = parse_arp(&gratuitous_arp(OURS, candidate)).expect("ARP");
        assert!(!arp_conflicts(&our_own, candidate, OURS));
        let other_address =
            parse_arp(&gratuitous_arp(THEIRS, Ipv4Addr::new(192, 0, 2, 7))).expect("ARP");
        assert!(!arp_conflicts(&other_address, candidate, OURS));
    }

    #[test]
    fn short_or_foreign_frames_are_not_arp() {
        let frame = arp_probe(OURS, Ipv4Addr::new(192, 0, 2, 1));
        assert!(parse_arp(&frame[..41]).is_none());
        let mut ipv6 = frame.clone();
        ipv6[12..14].copy_from_slice(&ETH_P_IPV6.to_be_bytes());
        assert!(parse_arp(&ipv6).is_none());
        let mut token_ring = frame;
        token_ring[15] = 6;
        assert!(parse_arp(&token_ring).is_none());
    }

    #[test]
    fn the_solicited_node_group_and_its_mac_follow_rfc_4291_and_2464() {
        let address: Ipv6Addr = "2001:db8::1:2345:6789".parse().expect("address");
        assert_eq!(
            solicited_node(address),
            "ff02::1:ff45:6789".parse::<Ipv6Addr>().expect("address")
        );
        assert_eq!(
            multicast_mac(solicited_node(address)),
            [0x33, 0x33, 0xff, 0x45, 0x67, 0x89]
        );
    }

    #[test]
    fn a_dad_probe_is_a_valid_solicitation_from_the_unspecified_address() {
        let target: Ipv6Addr = "2001:db8::100".parse().expect("address");
        let frame = neighbour_solicitation_probe(OURS, target);
        assert_eq!(frame.len(), 14 + 40 + 24);
        assert_eq!(&frame[0..6], &[0x33, 0x33, 0xff, 0, 0x01, 0x00]);
        let message = parse_neighbour_message(&frame).expect("a valid NS (checksum checked)");
        assert_eq!(message.kind, 135);
        assert_eq!(message.source, Ipv6Addr::UNSPECIFIED);
        assert_eq!(message.target, target);
        assert!(
            !neighbour_conflicts(&message, target, OURS),
            "our own probe"
        );
        let theirs =
            parse_neighbour_message(&neighbour_solicitation_probe(THEIRS, target)).expect("NS");
        assert!(
            neighbour_conflicts(&theirs, target, OURS),
            "another host probing too"
        );
    }

    #[test]
    fn an_unsolicited_advertisement_overrides_and_carries_the_mac() {
        let address: Ipv6Addr = "2001:db8::100".parse().expect("address");
        let frame = unsolicited_neighbour_advertisement(OURS, address);
        assert_eq!(frame.len(), 14 + 40 + 32);
        assert_eq!(&frame[0..6], &[0x33, 0x33, 0, 0, 0, 1]);
        let icmp = &frame[54..];
        assert_eq!(icmp[4] & 0x20, 0x20, "override flag");
        assert_eq!(icmp[4] & 0x40, 0, "not solicited");
        assert_eq!(&icmp[24..26], &[2, 1], "target link-layer option");
        assert_eq!(&icmp[26..32], &OURS);
        let message = parse_neighbour_message(&frame).expect("a valid NA");
        assert_eq!(
            (message.kind, message.source, message.target),
            (136, address, address)
        );
        let theirs = parse_neighbour_message(&unsolicited_neighbour_advertisement(THEIRS, address))
            .expect("NA");
        assert!(neighbour_conflicts(&theirs, address, OURS));
    }

    #[test]
    fn a_corrupted_or_forwarded_neighbour_message_is_ignored() {
        let address: Ipv6Addr = "2001:db8::100".parse().expect("address");
        let mut corrupted = unsolicited_neighbour_advertisement(THEIRS, address);
        let last = corrupted.len() - 1;
        corrupted[last] ^= 1;
        assert!(
            parse_neighbour_message(&corrupted).is_none(),
            "bad checksum"
        );
        let mut forwarded = unsolicited_neighbour_advertisement(THEIRS, address);
        forwarded[14 + 7] = 64;
        assert!(
            parse_neighbour_message(&forwarded).is_none(),
            "hop limit not 255"
        );
    }

    #[test]
    fn the_checksum_matches_a_known_packet() {
        // An echo request ::1 → ::1 (type 128, id 0, seq 0, no data): the sum is a fixed,
        // hand-computed value.
        let icmp = [128u8, 0, 0, 0, 0, 0, 0, 0];
        let checksum = icmpv6_checksum(Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST, &icmp);
        // 1 + 1 + 8 (length) + 58 (next header) + 0x8000 = 0x8044; ones' complement.
        assert_eq!(checksum, !0x8044u16);
    }
}
