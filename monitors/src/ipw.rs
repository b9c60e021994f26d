//! `ipw`: ICMP echo to every address of a list; the monitor fails only when none answers.
//!
//! Parameters:
//! - `list`: the addresses to ping, IPv4 or IPv6 (the original's `parameters/list@<i>/ip`).
//!   Written `list = ["192.0.2.1", "2001:db8::1"]`, or in the original's shape
//!   `list = [{ ip = "192.0.2.1" }]`. At most [`MAX_ADDRESSES`]. IPv6 link-local addresses,
//!   which need a zone (`fe80::1%eth0`), are not supported.
//! - `pingtimeout`: how long one echo request waits for its reply, in milliseconds (the
//!   original has a per-address ping timeout in ms; default 1000, our choice).
//! - `pingcount`: echo requests per address within one check (ours). The next one is sent when
//!   the previous one had no reply within `pingtimeout`; an address answers when any of them
//!   gets a reply. Default 3, as the `attempts` of Pacemaker's ping agent: one lost packet is
//!   not a fault.
//!
//! One check pings every address at once and is Normal at the first reply. It fails (detail
//! code [`NO_REPLY`]) when every address has used up its echo requests, or earlier when the
//! monitor timeout is near: the check stops a little before it, so the detail says which
//! address did what instead of the engine's bare "timed out". An address whose route is
//! missing or whose host is unreachable (an ICMP error that matches our request) fails its
//! attempt at once. [`NO_SOCKET`]: no ICMP socket could be opened for any address.
//!
//! Sockets: first the unprivileged "ping" socket (`SOCK_DGRAM`, `IPPROTO_ICMP`/`ICMPV6`), which
//! the kernel allows only to the groups in `net.ipv4.ping_group_range` (EACCES otherwise, even
//! for root); then a raw socket, which needs root or `CAP_NET_RAW`. The kind that worked is
//! tried first at the next check. A raw socket sees every ICMP packet of the host: replies
//! are matched by identifier, sequence, source and a payload marker, anything else is ignored.
//! Both are non-blocking sockets driven by tokio, closed when the check ends or is abandoned.
//!
//! Defaults: interval 60 s, timeout 60 s, retry 1 (the reference's recalled values, §4 \[M\]);
//! `pingtimeout` 1000 ms and `pingcount` 3 are ours. The detail codes are ours too (the
//! original's are not known).

use clp_core::monitor::ipw::*;
use clp_core::monitor::spec::ProbeSettings;
use clp_core::monitor::{CheckFuture, CheckOutcome, Probe, ProbeContext};
use clp_core::os_action::OsActions;
use nix::sys::socket::SockaddrStorage;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::fmt::Write as _;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;
use tokio::io::unix::AsyncFd;
use tokio::time::Instant;

/// The payload marker of our echo requests.
const MARKER: &[u8; 16] = b"clp-ipw echo\0\0\0\0";

/// Builds the probe of a validated monitor ([`clp_core::monitor::spec::BuildProbe`]).
pub fn build(config: &ProbeSettings<'_>, _: &OsActions) -> Result<Box<dyn Probe>, String> {
    let (params, problems) = parse(config.parameters);
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    Ok(Box::new(Ipw::new(params)))
}

/// Tells the identifiers of this process's probes apart.
static NEXT_IDENTIFIER: AtomicU16 = AtomicU16::new(0);

/// The ipw probe.
#[derive(Debug)]
pub struct Ipw {
    params: IpwParams,
    /// The ICMP identifier of our requests on raw sockets (the kernel picks it on ping sockets).
    identifier: u16,
    /// The first sequence number of the next check.
    next_sequence: u16,
    /// The socket kind that worked last, per family (IPv4, IPv6).
    worked: [Option<SocketKind>; 2],
    /// Forces one socket kind (tests of each path).
    only: Option<SocketKind>,
}

impl Ipw {
    /// A probe pinging `params.list`.
    pub fn new(params: IpwParams) -> Ipw {
        let spread = NEXT_IDENTIFIER.fetch_add(1, Ordering::Relaxed);
        Ipw {
            params,
            // Truncation intended: any 16 bits that differ between processes and probes.
            identifier: (std::process::id() as u16) ^ spread.wrapping_mul(0x9e37),
            next_sequence: 0,
            worked: [None, None],
            only: None,
        }
    }

    /// Pings with one socket kind only, no fallback.
    pub fn with_socket_kind(mut self, kind: SocketKind) -> Ipw {
        self.only = Some(kind);
        self
    }

    /// One check, ended by `budget` at the latest.
    async fn ping_all(&mut self, budget: Duration) -> CheckOutcome {
        let check_deadline = Instant::now() + budget;
        let count = self.params.ping_count;
        let base = self.next_sequence;
        let span = u16::try_from(self.params.list.len() * usize::from(count)).unwrap_or(u16::MAX);
        self.next_sequence = base.wrapping_add(span);

        let mut pingers: [Option<Pinger>; 2] = [None, None];
        let mut socket_errors: [Option<String>; 2] = [None, None];
        for family in [Family::V4, Family::V6] {
            if self.params.list.iter().any(|a| Family::of(*a) == family) {
                let slot = family as usize;
                let order = match (self.only, self.worked[slot]) {
                    (Some(kind), _) => vec![kind],
                    (None, Some(SocketKind::Raw)) => vec![SocketKind::Raw, SocketKind::Dgram],
                    (None, _) => vec![SocketKind::Dgram, SocketKind::Raw],
                };
                match Pinger::open(family, &order, self.identifier) {
                    Ok(pinger) => {
                        self.worked[slot] = Some(pinger.kind);
                        pingers[slot] = Some(pinger);
                    }
                    Err(error) => socket_errors[slot] = Some(error),
                }
            }
        }

        let mut targets: Vec<Target> = self.params.list.iter().map(|a| Target::new(*a)).collect();
        for target in &mut targets {
            if let Some(error) = &socket_errors[Family::of(target.address) as usize] {
                target.state = TargetState::NoSocket(error.clone());
            }
        }
        let mut buffers = [vec![0u8; 2048], vec![0u8; 2048]];
        loop {
            let now = Instant::now();
            for (index, target) in targets.iter_mut().enumerate() {
                let waiting = now < target.attempt_deadline && now < check_deadline;
                if target.state != TargetState::Pending || waiting {
                    continue;
                }
                if target.sent == count || now >= check_deadline {
                    target.state = TargetState::Failed;
                    continue;
                }
                let slot = Family::of(target.address) as usize;
                let Some(pinger) = &pingers[slot] else {
                    continue;
                };
                let sequence = base.wrapping_add(index_sequence(index, target.sent, count));
                target.sent += 1;
                target.last_sequence = sequence;
                target.attempt_deadline = now + self.params.ping_timeout;
                if let Err(error) = pinger.send(target.address, sequence) {
                    target.last_error = Some(format!("cannot send: {error}"));
                    target.attempt_deadline = now;
                }
            }
            if targets.iter().all(|t| t.state != TargetState::Pending) {
                break;
            }
            let wake = targets
                .iter()
                .filter(|t| t.state == TargetState::Pending)
                .map(|t| t.attempt_deadline)
                .min()
                .unwrap_or(check_deadline)
                .min(check_deadline);
            let [buffer4, buffer6] = &mut buffers;
            let received = tokio::select! {
                received = receive(pingers[0].as_ref(), buffer4) => Some((Family::V4, received)),
                received = receive(pingers[1].as_ref(), buffer6) => Some((Family::V6, received)),
                () = tokio::time::sleep_until(wake) => None,
            };
            let Some((family, received)) = received else {
                continue;
            };
            let slot = family as usize;
            let (length, from) = match received {
                Ok(received) => received,
                Err(error) => {
                    // A socket that cannot receive fails its family's addresses.
                    let detail = format!("cannot receive: {error}");
                    pingers[slot] = None;
                    for target in &mut targets {
                        if Family::of(target.address) == family
                            && target.state == TargetState::Pending
                        {
                            target.last_error = Some(detail.clone());
                            target.state = TargetState::Failed;
                        }
                    }
                    continue;
                }
            };
            let Some(pinger) = &pingers[slot] else {
                continue;
            };
            let Some((address, answer)) = pinger.parse(from, &buffers[slot][..length]) else {
                continue;
            };
            let Some(index) = sequence_index(answer.sequence(), base, count, targets.len()) else {
                continue;
            };
            let target = &mut targets[index];
            if target.address != address {
                continue;
            }
            match answer {
                Answer::Reply { .. } => return CheckOutcome::Normal,
                Answer::Unreachable { sequence, why } => {
                    if target.state == TargetState::Pending && sequence == target.last_sequence {
                        target.last_error = Some(why);
                        target.attempt_deadline = Instant::now();
                    }
                }
            }
        }
        failure(&targets, count, self.params.ping_timeout)
    }
}

impl Probe for Ipw {
    fn check(&mut self, context: ProbeContext) -> CheckFuture<'_> {
        // End a little before the engine would abandon the check, to report what happened.
        let margin = (context.timeout / 10).min(Duration::from_millis(500));
        let budget = context.timeout.saturating_sub(margin);
        Box::pin(self.ping_all(budget))
    }
}

/// The offset of one echo request in a check: `index`'s `attempt`-th request.
fn index_sequence(index: usize, attempt: u16, count: u16) -> u16 {
    // At most MAX_ADDRESSES × 100 requests: fits in 16 bits.
    u16::try_from(index * usize::from(count) + usize::from(attempt)).unwrap_or(u16::MAX)
}

/// The target index of a sequence number of this check, if it is one.
fn sequence_index(sequence: u16, base: u16, count: u16, targets: usize) -> Option<usize> {
    let index = usize::from(sequence.wrapping_sub(base)) / usize::from(count.max(1));
    (index < targets).then_some(index)
}

/// The failure of a check in which no address answered.
fn failure(targets: &[Target], count: u16, ping_timeout: Duration) -> CheckOutcome {
    let only_socket_errors = targets
        .iter()
        .all(|t| matches!(t.state, TargetState::NoSocket(_)));
    let mut detail = String::from("No address answered the ping: ");
    for (i, target) in targets.iter().enumerate() {
        if i > 0 {
            detail.push_str("; ");
        }
        let why = match (&target.state, &target.last_error) {
            (TargetState::NoSocket(error), _) => error.clone(),
            (_, Some(error)) => error.clone(),
            (_, None) if target.sent < count => format!(
                "no reply to {} of {count} echo requests before the monitor timeout",
                target.sent
            ),
            (_, None) => format!(
                "no reply to {count} echo requests, {} ms each",
                ping_timeout.as_millis()
            ),
        };
        let _ = write!(detail, "{} ({why})", target.address);
    }
    detail.push('.');
    CheckOutcome::Failure {
        code: if only_socket_errors {
            NO_SOCKET
        } else {
            NO_REPLY
        },
        detail,
    }
}

/// One address within one check.
#[derive(Debug)]
struct Target {
    address: IpAddr,
    state: TargetState,
    /// Echo requests sent so far.
    sent: u16,
    last_sequence: u16,
    /// When the current request has waited long enough (now: send the first one).
    attempt_deadline: Instant,
    /// The last error seen (send error, ICMP error), for the detail.
    last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TargetState {
    Pending,
    Failed,
    NoSocket(String),
}

impl Target {
    fn new(address: IpAddr) -> Target {
        Target {
            address,
            state: TargetState::Pending,
            sent: 0,
            last_sequence: 0,
            attempt_deadline: Instant::now(),
            last_error: None,
        }
    }
}

/// An address family (the index into per-family arrays).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    V4 = 0,
    V6 = 1,
}

impl Family {
    fn of(address: IpAddr) -> Family {
        match address {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    fn echo_request(self) -> u8 {
        match self {
            Family::V4 => 8,
            Family::V6 => 128,
        }
    }

    fn echo_reply(self) -> u8 {
        match self {
            Family::V4 => 0,
            Family::V6 => 129,
        }
    }
}

/// How an ICMP socket is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketKind {
    /// The unprivileged ping socket (`SOCK_DGRAM`): the kernel sets the identifier and
    /// checksum and delivers only the replies to it, without the IP header.
    Dgram,
    /// A raw socket (root or `CAP_NET_RAW`): every ICMP packet of the host, IPv4 ones with
    /// their IP header.
    Raw,
}

impl std::fmt::Display for SocketKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SocketKind::Dgram => "ping socket",
            SocketKind::Raw => "raw socket",
        })
    }
}

/// What a received packet says about one of our requests.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    Reply { sequence: u16 },
    Unreachable { sequence: u16, why: String },
}

impl Answer {
    fn sequence(&self) -> u16 {
        match self {
            Answer::Reply { sequence } | Answer::Unreachable { sequence, .. } => *sequence,
        }
    }
}

/// One open ICMP socket of one family.
#[derive(Debug)]
struct Pinger {
    socket: AsyncFd<Socket>,
    family: Family,
    kind: SocketKind,
    /// The identifier replies carry (the kernel's on a ping socket, ours on a raw one).
    identifier: u16,
}

impl Pinger {
    /// Opens the first kind of `order` that the system allows.
    fn open(family: Family, order: &[SocketKind], identifier: u16) -> Result<Pinger, String> {
        let mut errors = Vec::new();
        for kind in order {
            match Pinger::open_kind(family, *kind, identifier) {
                Ok(pinger) => return Ok(pinger),
                Err(error) => errors.push(format!("{kind}: {error}")),
            }
        }
        Err(format!(
            "cannot open an ICMP socket ({}); run as root or allow unprivileged ping with sysctl net.ipv4.ping_group_range",
            errors.join(", ")
        ))
    }

    fn open_kind(family: Family, kind: SocketKind, identifier: u16) -> io::Result<Pinger> {
        let (domain, protocol, any) = match family {
            Family::V4 => (
                Domain::IPV4,
                Protocol::ICMPV4,
                IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            ),
            Family::V6 => (
                Domain::IPV6,
                Protocol::ICMPV6,
                IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            ),
        };
        let socket_type = match kind {
            SocketKind::Dgram => Type::DGRAM,
            SocketKind::Raw => Type::RAW,
        };
        let socket = Socket::new(domain, socket_type, Some(protocol))?;
        socket.set_nonblocking(true)?;
        let identifier = match kind {
            SocketKind::Raw => identifier,
            SocketKind::Dgram => {
                // Binding makes the kernel pick the identifier (the socket's "port") now.
                socket.bind(&SockAddr::from(SocketAddr::new(any, 0)))?;
                socket
                    .local_addr()?
                    .as_socket()
                    .map(|address| address.port())
                    .ok_or_else(|| io::Error::other("the ping socket has no local address"))?
            }
        };
        // SAFETY: the Socket owns its descriptor, which stays open and the same until the
        // AsyncFd drops it (the socket is never swapped through get_mut).
        let socket = unsafe { AsyncFd::register(socket) }?;
        Ok(Pinger {
            socket,
            family,
            kind,
            identifier,
        })
    }

    /// Sends one echo request (non-blocking; a full send buffer is an error).
    fn send(&self, address: IpAddr, sequence: u16) -> io::Result<()> {
        let packet = echo_request(self.family, self.identifier, sequence);
        let destination = SockAddr::from(SocketAddr::new(address, 0));
        self.socket.get_ref().send_to(&packet, &destination)?;
        Ok(())
    }

    /// What a received packet says about our requests, with the address it concerns.
    fn parse(&self, from: Option<IpAddr>, packet: &[u8]) -> Option<(IpAddr, Answer)> {
        let icmp = match (self.family, self.kind) {
            (Family::V4, SocketKind::Raw) => strip_ipv4_header(packet, 1)?.1,
            _ => packet,
        };
        parse_icmp(self.family, self.identifier, from?, icmp)
    }
}

/// Waits for one packet on `pinger` (forever when there is none).
async fn receive(
    pinger: Option<&Pinger>,
    buffer: &mut [u8],
) -> io::Result<(usize, Option<IpAddr>)> {
    let Some(pinger) = pinger else {
        return std::future::pending().await;
    };
    loop {
        let mut guard = pinger.socket.readable().await?;
        let received = guard.try_io(|socket| {
            nix::sys::socket::recvfrom::<SockaddrStorage>(socket.get_ref().as_raw_fd(), buffer)
                .map_err(io::Error::from)
        });
        match received {
            Ok(Ok((length, from))) => return Ok((length, from.and_then(|a| ip_of(&a)))),
            Ok(Err(error)) if error.kind() == io::ErrorKind::Interrupted => continue,
            Ok(Err(error)) => return Err(error),
            Err(_would_block) => continue,
        }
    }
}

fn ip_of(address: &SockaddrStorage) -> Option<IpAddr> {
    address
        .as_sockaddr_in()
        .map(|v4| IpAddr::V4(v4.ip()))
        .or_else(|| {
            address
                .as_sockaddr_in6()
                .map(|v6| IpAddr::V6(v6.ip()).to_canonical())
        })
}

/// An echo request: header, identifier, sequence, our marker.
fn echo_request(family: Family, identifier: u16, sequence: u16) -> Vec<u8> {
    let mut packet = vec![family.echo_request(), 0, 0, 0];
    packet.extend_from_slice(&identifier.to_be_bytes());
    packet.extend_from_slice(&sequence.to_be_bytes());
    packet.extend_from_slice(MARKER);
    if family == Family::V4 {
        // ICMPv6 checksums cover a pseudo-header: the kernel fills them in.
        let sum = checksum(&packet);
        packet[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    packet
}

/// The Internet checksum (RFC 1071).
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|pair| u32::from(u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)])))
        .sum();
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An IPv4 packet's header fields we need and its payload, when it carries `protocol`.
fn strip_ipv4_header(packet: &[u8], protocol: u8) -> Option<(Ipv4Addr, &[u8])> {
    let first = *packet.first()?;
    let header = usize::from(first & 0x0f) * 4;
    if first >> 4 != 4 || header < 20 || packet.len() < header || packet[9] != protocol {
        return None;
    }
    let destination = Ipv4Addr::new(packet[16], packet[17], packet[18], packet[19]);
    Some((destination, &packet[header..]))
}

/// Our reply, or an ICMP error quoting one of our requests; `None` for anything else.
fn parse_icmp(
    family: Family,
    identifier: u16,
    from: IpAddr,
    icmp: &[u8],
) -> Option<(IpAddr, Answer)> {
    let (kind, code) = (*icmp.first()?, *icmp.get(1)?);
    // The identifier and sequence of an ICMP echo header of ours.
    let ours = |header: &[u8], echo: u8| -> Option<u16> {
        let header = header.get(..8)?;
        (header[0] == echo && u16::from_be_bytes([header[4], header[5]]) == identifier)
            .then(|| u16::from_be_bytes([header[6], header[7]]))
    };
    if kind == family.echo_reply() && code == 0 {
        let sequence = ours(icmp, family.echo_reply())?;
        if icmp.get(8..8 + MARKER.len())? != MARKER {
            return None;
        }
        return Some((from, Answer::Reply { sequence }));
    }
    // An error quotes the IP header of our request and the first 8 bytes of its ICMP.
    let quoted = icmp.get(8..)?;
    match (family, kind) {
        (Family::V4, 3) => {
            let (destination, request) = strip_ipv4_header(quoted, 1)?;
            let why = match code {
                0 => "network unreachable".to_string(),
                1 => format!("destination host unreachable (reported by {from})"),
                9 | 10 | 13 => {
                    format!("communication administratively prohibited (reported by {from})")
                }
                other => format!("destination unreachable, code {other} (reported by {from})"),
            };
            let sequence = ours(request, family.echo_request())?;
            Some((
                IpAddr::V4(destination),
                Answer::Unreachable { sequence, why },
            ))
        }
        (Family::V6, 1) => {
            let header = quoted.get(..40)?;
            if header[0] >> 4 != 6 || header[6] != 58 {
                return None;
            }
            let mut destination = [0u8; 16];
            destination.copy_from_slice(&header[24..40]);
            let why = match code {
                0 => "no route to destination".to_string(),
                1 => format!("communication administratively prohibited (reported by {from})"),
                3 => format!("address unreachable (reported by {from})"),
                other => format!("destination unreachable, code {other} (reported by {from})"),
            };
            let sequence = ours(quoted.get(40..)?, family.echo_request())?;
            Some((
                IpAddr::V6(Ipv6Addr::from(destination)).to_canonical(),
                Answer::Unreachable { sequence, why },
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        text.parse().unwrap()
    }

    #[test]
    fn defaults_apply_to_a_bare_list() {
        let (params, problems) = parse(&table(r#"list = ["192.0.2.1", "2001:db8::1"]"#));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            params,
            IpwParams {
                list: vec!["192.0.2.1".parse().unwrap(), "2001:db8::1".parse().unwrap()],
                ping_timeout: Duration::from_millis(1000),
                ping_count: 3,
            }
        );
    }

    #[test]
    fn the_originals_list_shape_and_a_single_string_are_accepted() {
        let (params, problems) = parse(&table(
            "list = [{ ip = \"192.0.2.1\" }, { ip = \"192.0.2.2\" }]\npingtimeout = 250\npingcount = 1",
        ));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(params.list.len(), 2);
        assert_eq!(params.ping_timeout, Duration::from_millis(250));
        assert_eq!(params.ping_count, 1);
        let (params, problems) = parse(&table(r#"list = "::ffff:192.0.2.9""#));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(params.list, ["192.0.2.9".parse::<IpAddr>().unwrap()]);
    }

    #[test]
    fn bad_values_are_each_reported() {
        let (_, problems) = parse(&table(
            r#"list = ["192.0.2.1", "host.example", 7, "192.0.2.1", "0.0.0.0", "ff02::1", { address = "x" }]
pingtimeout = 0
pingcount = "3"
pingtimout = 5"#,
        ));
        let all = problems.join("\n");
        for expected in [
            "key \"pingtimout\"",
            "did you mean \"pingtimeout\"",
            "\"host.example\" is not an IP address",
            "7 is not an IP address string",
            "192.0.2.1 is listed twice",
            "0.0.0.0 is not the address of one host",
            "ff02::1 is not the address of one host",
            "is not { ip = \"<address>\" }",
            "key \"pingtimeout\": 0 is out of range (1 to 600000)",
            "key \"pingcount\": \"3\" is not an integer",
        ] {
            assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
        }
        assert_eq!(problems.len(), 9, "{all}");
    }

    #[test]
    fn a_missing_or_empty_list_is_refused() {
        for text in ["", "list = []"] {
            let (_, problems) = parse(&table(text));
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(problems[0].contains("no address to ping"), "{problems:?}");
        }
        let many: Vec<String> = (0..300)
            .map(|i| format!("\"10.0.{}.{}\"", i / 200, i % 200 + 1))
            .collect();
        let (_, problems) = parse(&table(&format!("list = [{}]", many.join(","))));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("more than 256"), "{problems:?}");
    }

    #[test]
    fn sequence_numbers_map_back_to_their_address_across_the_wrap() {
        let base = u16::MAX - 3;
        for index in 0..4 {
            for attempt in 0..3 {
                let sequence = base.wrapping_add(index_sequence(index, attempt, 3));
                assert_eq!(sequence_index(sequence, base, 3, 4), Some(index));
            }
        }
        // A late reply of the previous check is no address of this one.
        assert_eq!(sequence_index(base.wrapping_sub(1), base, 3, 4), None);
    }

    #[test]
    fn the_checksum_of_a_request_verifies() {
        let packet = echo_request(Family::V4, 0x1234, 7);
        assert_eq!(checksum(&packet), 0);
        assert_eq!(&packet[4..8], &[0x12, 0x34, 0, 7]);
    }

    fn reply_to(request: &[u8], reply_type: u8) -> Vec<u8> {
        let mut reply = request.to_vec();
        reply[0] = reply_type;
        reply
    }

    fn ipv4_header(source: [u8; 4], destination: [u8; 4]) -> Vec<u8> {
        let mut header = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0];
        header.extend_from_slice(&source);
        header.extend_from_slice(&destination);
        header
    }

    #[test]
    fn replies_are_matched_by_identifier_and_marker() {
        let from: IpAddr = "192.0.2.1".parse().unwrap();
        let request = echo_request(Family::V4, 42, 9);
        assert_eq!(
            parse_icmp(Family::V4, 42, from, &reply_to(&request, 0)),
            Some((from, Answer::Reply { sequence: 9 }))
        );
        // Another process's identifier, our own request looped back, a foreign payload.
        assert_eq!(
            parse_icmp(Family::V4, 43, from, &reply_to(&request, 0)),
            None
        );
        assert_eq!(parse_icmp(Family::V4, 42, from, &request), None);
        let mut foreign = reply_to(&request, 0);
        foreign[10] ^= 1;
        assert_eq!(parse_icmp(Family::V4, 42, from, &foreign), None);
        let v6 = echo_request(Family::V6, 42, 3);
        let from6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(
            parse_icmp(Family::V6, 42, from6, &reply_to(&v6, 129)),
            Some((from6, Answer::Reply { sequence: 3 }))
        );
        assert_eq!(parse_icmp(Family::V6, 42, from6, &[129, 0, 0]), None);
    }

    #[test]
    fn a_raw_ipv4_reply_loses_its_header_and_an_error_names_the_quoted_destination() {
        let request = echo_request(Family::V4, 42, 5);
        let mut error = vec![3, 1, 0, 0, 0, 0, 0, 0];
        error.extend(ipv4_header([192, 0, 2, 100], [192, 0, 2, 7]));
        error.extend_from_slice(&request[..8]);
        let mut packet = ipv4_header([192, 0, 2, 100], [192, 0, 2, 100]);
        packet.extend(&error);
        let (_, icmp) = strip_ipv4_header(&packet, 1).unwrap();
        let (address, answer) =
            parse_icmp(Family::V4, 42, "192.0.2.100".parse().unwrap(), icmp).unwrap();
        assert_eq!(address, "192.0.2.7".parse::<IpAddr>().unwrap());
        assert_eq!(
            answer,
            Answer::Unreachable {
                sequence: 5,
                why: "destination host unreachable (reported by 192.0.2.100)".into()
            }
        );
        // A TCP packet is not ours.
        let mut tcp = ipv4_header([192, 0, 2, 1], [192, 0, 2, 2]);
        tcp[9] = 6;
        assert!(strip_ipv4_header(&tcp, 1).is_none());
    }

    #[test]
    fn the_failure_detail_says_what_each_address_did() {
        let mut quiet = Target::new("192.0.2.1".parse().unwrap());
        quiet.sent = 3;
        quiet.state = TargetState::Failed;
        let mut cut = Target::new("192.0.2.2".parse().unwrap());
        cut.sent = 1;
        cut.state = TargetState::Failed;
        let mut unreachable = Target::new("192.0.2.3".parse().unwrap());
        unreachable.sent = 3;
        unreachable.state = TargetState::Failed;
        unreachable.last_error = Some("network unreachable".into());
        let outcome = failure(&[quiet, cut, unreachable], 3, Duration::from_millis(200));
        assert_eq!(
            outcome,
            CheckOutcome::Failure {
                code: NO_REPLY,
                detail: "No address answered the ping: 192.0.2.1 (no reply to 3 echo requests, 200 ms each); \
                         192.0.2.2 (no reply to 1 of 3 echo requests before the monitor timeout); \
                         192.0.2.3 (network unreachable)."
                    .into()
            }
        );
        let mut closed = Target::new("192.0.2.1".parse().unwrap());
        closed.state = TargetState::NoSocket("cannot open an ICMP socket".into());
        assert!(matches!(
            failure(&[closed], 3, Duration::from_millis(200)),
            CheckOutcome::Failure {
                code: NO_SOCKET,
                ..
            }
        ));
    }

    use crate::private_netns;

    fn check_once(probe: &mut Ipw, timeout: Duration) -> (CheckOutcome, Duration) {
        let context = ProbeContext {
            lateness: Duration::ZERO,
            timeout,
            target_process: None,
        };
        let started = std::time::Instant::now();
        let outcome = private_netns::runtime().block_on(probe.check(context));
        (outcome, started.elapsed())
    }

    fn probe(list: &str, extra: &str) -> Ipw {
        let (params, problems) = parse(&table(&format!("list = {list}\n{extra}")));
        assert!(problems.is_empty(), "{problems:?}");
        Ipw::new(params)
    }

    /// In a private namespace: v0 (10.9.0.1/24, fd09::1/64) with its peer v1 up and no
    /// address on it, so 10.9.0.3 and fd09::3 are on a link where nobody answers.
    const LINK: &[&[&str]] = &[
        &["link", "add", "v0", "type", "veth", "peer", "name", "v1"],
        &["addr", "add", "10.9.0.1/24", "dev", "v0"],
        &["addr", "add", "fd09::1/64", "dev", "v0", "nodad"],
        &["link", "set", "v0", "up"],
        &["link", "set", "v1", "up"],
    ];

    #[test]
    fn loopback_answers_over_both_socket_kinds_in_a_private_netns() {
        if !private_netns::is_root() {
            eprintln!("skipped: needs root (a private network namespace)");
            return;
        }
        private_netns::run(&[], || {
            private_netns::allow_ping_sockets();
            for kind in [SocketKind::Dgram, SocketKind::Raw] {
                for list in ["[\"127.0.0.1\"]", "[\"::1\"]"] {
                    let mut ipw = probe(list, "pingtimeout = 500").with_socket_kind(kind);
                    // Twice: the second check uses new sequence numbers.
                    for _ in 0..2 {
                        let (outcome, _) = check_once(&mut ipw, Duration::from_secs(5));
                        assert_eq!(outcome, CheckOutcome::Normal, "{kind} {list}");
                    }
                }
            }
        });
    }

    #[test]
    fn without_ping_sockets_the_raw_socket_is_used_in_a_private_netns() {
        if !private_netns::is_root() {
            eprintln!("skipped: needs root (a private network namespace)");
            return;
        }
        private_netns::run(&[], || {
            // ping_group_range is "1 0" (nobody) in a new namespace: the ping socket fails.
            let mut only_dgram = probe("[\"127.0.0.1\"]", "").with_socket_kind(SocketKind::Dgram);
            let (outcome, _) = check_once(&mut only_dgram, Duration::from_secs(5));
            let CheckOutcome::Failure { code, detail } = outcome else {
                panic!("the ping socket is refused: {outcome:?}");
            };
            assert_eq!(code, NO_SOCKET);
            assert!(
                detail.contains("ping socket: Permission denied"),
                "{detail}"
            );
            let mut ipw = probe("[\"127.0.0.1\"]", "");
            assert_eq!(
                check_once(&mut ipw, Duration::from_secs(5)).0,
                CheckOutcome::Normal
            );
            assert_eq!(ipw.worked[0], Some(SocketKind::Raw));
        });
    }

    #[test]
    fn silent_and_unrouted_addresses_fail_only_all_together_in_a_private_netns() {
        if !private_netns::is_root() {
            eprintln!("skipped: needs root (a private network namespace)");
            return;
        }
        private_netns::run(LINK, || {
            let mut silent = probe(
                "[\"10.9.0.3\", \"fd09::3\", \"192.0.2.1\"]",
                "pingtimeout = 200\npingcount = 2",
            );
            let (outcome, took) = check_once(&mut silent, Duration::from_secs(5));
            assert_eq!(
                outcome,
                CheckOutcome::Failure {
                    code: NO_REPLY,
                    detail: "No address answered the ping: \
                             10.9.0.3 (no reply to 2 echo requests, 200 ms each); \
                             fd09::3 (no reply to 2 echo requests, 200 ms each); \
                             192.0.2.1 (cannot send: Network is unreachable (os error 101))."
                        .into()
                }
            );
            assert!(took < Duration::from_secs(2), "{took:?}");
            // One answering address is enough, whatever the others do.
            let mut mixed = probe(
                "[\"10.9.0.3\", \"192.0.2.1\", \"10.9.0.1\"]",
                "pingtimeout = 200",
            );
            assert_eq!(
                check_once(&mut mixed, Duration::from_secs(5)).0,
                CheckOutcome::Normal
            );
        });
    }

    #[test]
    fn a_check_ends_before_the_monitor_timeout_in_a_private_netns() {
        if !private_netns::is_root() {
            eprintln!("skipped: needs root (a private network namespace)");
            return;
        }
        private_netns::run(LINK, || {
            let mut slow = probe("[\"10.9.0.3\"]", "pingtimeout = 5000\npingcount = 3");
            let (outcome, took) = check_once(&mut slow, Duration::from_secs(1));
            assert!(took < Duration::from_secs(1), "{took:?}");
            assert!(took >= Duration::from_millis(850), "{took:?}");
            assert_eq!(
                outcome,
                CheckOutcome::Failure {
                    code: NO_REPLY,
                    detail: "No address answered the ping: 10.9.0.3 (no reply to 1 of 3 echo \
                             requests before the monitor timeout)."
                        .into()
                }
            );
        });
    }

    #[test]
    fn an_icmp_unreachable_ends_the_wait_early_in_a_private_netns() {
        if !private_netns::is_root() {
            eprintln!("skipped: needs root (a private network namespace)");
            return;
        }
        private_netns::run(LINK, || {
            // Neighbour resolution gives up after about 3 s and the kernel reports the
            // destination unreachable to the raw socket, well before the 20 s ping timeout.
            let mut ipw = probe(
                "[\"10.9.0.3\", \"fd09::3\"]",
                "pingtimeout = 20000\npingcount = 1",
            )
            .with_socket_kind(SocketKind::Raw);
            let (outcome, took) = check_once(&mut ipw, Duration::from_secs(30));
            assert!(took < Duration::from_secs(10), "{took:?}");
            assert_eq!(
                outcome,
                CheckOutcome::Failure {
                    code: NO_REPLY,
                    detail: "No address answered the ping: \
                             10.9.0.3 (destination host unreachable (reported by 10.9.0.1)); \
                             fd09::3 (address unreachable (reported by fd09::1))."
                        .into()
                }
            );
        });
    }
}
