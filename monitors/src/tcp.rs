//! A TCP connection for the network monitors (`httpw`, `tcpw`): resolve a name, then try
//! each address in turn, and say which step failed and why in an operator's words.
//!
//! Everything here is async and holds no thread: when the engine abandons a check at its
//! timeout it drops the future, which closes the socket. The one exception is resolving a
//! host name (not an IP address), which tokio runs as a blocking `getaddrinfo` on its
//! blocking pool; that call ends by itself within the resolver's own timeouts
//! (`/etc/resolv.conf`), even when the check was abandoned.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use tokio::net::TcpStream;

/// Why no connection was made.
#[derive(Debug)]
pub enum ConnectError {
    /// The host name did not resolve (or resolved to no address).
    Resolve {
        /// The name.
        host: String,
        /// What the resolver said.
        error: io::Error,
    },
    /// No address accepted the connection.
    Connect {
        /// The last address tried.
        address: SocketAddr,
        /// Why it failed.
        error: io::Error,
    },
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::Resolve { host, error } => {
                write!(f, "Cannot resolve the host name \"{host}\": {error}.")
            }
            ConnectError::Connect { address, error } => {
                write!(f, "Cannot connect to {address}: {}.", describe(error))
            }
        }
    }
}

/// An I/O error in the words an operator looks for ("connection refused").
pub fn describe(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
        io::ErrorKind::ConnectionReset => "connection reset by the peer".to_string(),
        io::ErrorKind::TimedOut => "connection timed out".to_string(),
        io::ErrorKind::HostUnreachable => "host unreachable".to_string(),
        io::ErrorKind::NetworkUnreachable => "network unreachable".to_string(),
        io::ErrorKind::AddrNotAvailable => "address not available".to_string(),
        _ => error.to_string(),
    }
}

/// Resolves `host` (a name or an IP address literal, which needs no resolver) and connects
/// to the first of its addresses that accepts.
pub async fn connect(host: &str, port: u16) -> Result<TcpStream, ConnectError> {
    connect_any(&resolve(host, port).await?).await
}

/// Where a probe connects: an IP address literal is parsed once, when the probe is built; a
/// host name is resolved at every check (what it names may move).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// A literal address and the port.
    Address(SocketAddr),
    /// A host name and the port.
    Name {
        /// The name.
        host: String,
        /// The port.
        port: u16,
    },
}

impl Peer {
    /// `host` (a name, or an IP address literal, IPv6 without brackets) at `port`.
    pub fn new(host: &str, port: u16) -> Peer {
        match host.parse::<std::net::IpAddr>() {
            Ok(address) => Peer::Address(SocketAddr::new(address, port)),
            Err(_) => Peer::Name {
                host: host.to_string(),
                port,
            },
        }
    }

    /// The addresses to try, in order: the literal one, or what the name resolves to now.
    async fn addresses(&self) -> Result<std::borrow::Cow<'_, [SocketAddr]>, ConnectError> {
        match self {
            Peer::Address(address) => Ok(std::borrow::Cow::Borrowed(std::slice::from_ref(address))),
            Peer::Name { host, port } => resolve(host, *port).await.map(std::borrow::Cow::Owned),
        }
    }
}

/// [`connect`], sending as much of `first` as the socket takes at once: a connection made
/// inside the `connect` call (loopback) is written to before it is handed to the runtime,
/// so the check does not wait a turn of the reactor to learn that the socket is writable.
/// Returns the stream and how many bytes of `first` went, or the error of that send.
pub async fn connect_sending(
    peer: &Peer,
    first: &[u8],
) -> Result<(TcpStream, io::Result<usize>), ConnectError> {
    let addresses = peer.addresses().await?;
    first_that_accepts(&addresses, |address| async move {
        match begin(&address)? {
            Begun::Settled(stream) => {
                let sent = send_now(&stream, first);
                TcpStream::from_std(stream).map(|stream| (stream, sent))
            }
            Begun::InProgress(stream) => settle(stream).await.map(|stream| (stream, Ok(0))),
        }
    })
    .await
}

/// Tries `attempt` on each of `addresses` in turn: the first success, or the last
/// address's error.
async fn first_that_accepts<T, F>(
    addresses: &[SocketAddr],
    mut attempt: impl FnMut(SocketAddr) -> F,
) -> Result<T, ConnectError>
where
    F: std::future::Future<Output = io::Result<T>>,
{
    let mut last = None;
    for address in addresses {
        match attempt(*address).await {
            Ok(done) => return Ok(done),
            Err(error) => {
                last = Some(ConnectError::Connect {
                    address: *address,
                    error,
                })
            }
        }
    }
    Err(last.unwrap_or_else(|| ConnectError::Resolve {
        host: String::new(),
        error: io::Error::new(io::ErrorKind::NotFound, "no address"),
    }))
}

/// Sends what the non-blocking `stream` takes of `bytes` now (0 when it would wait).
fn send_now(mut stream: &std::net::TcpStream, bytes: &[u8]) -> io::Result<usize> {
    use std::io::Write as _;
    if bytes.is_empty() {
        return Ok(0);
    }
    match stream.write(bytes) {
        Err(error)
            if matches!(
                error.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            ) =>
        {
            Ok(0)
        }
        sent => sent,
    }
}

/// The addresses of `host` (a name or an IP address literal) at `port`.
async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, ConnectError> {
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|error| ConnectError::Resolve {
            host: host.to_string(),
            error,
        })?
        .collect();
    if addresses.is_empty() {
        return Err(ConnectError::Resolve {
            host: host.to_string(),
            error: io::Error::new(io::ErrorKind::NotFound, "no address"),
        });
    }
    Ok(addresses)
}

/// Connects to the first of `addresses` that accepts; the error is the last address's.
pub async fn connect_any(addresses: &[SocketAddr]) -> Result<TcpStream, ConnectError> {
    first_that_accepts(addresses, TcpStream::connect).await
}

/// Whether one of `addresses` accepts a connection (the first that does; the error is the
/// last address's), closing it at once: [`connect_any`] for a probe that sends nothing.
///
/// A connection made at once is never handed to the runtime: on loopback (and on any host
/// that answers before `connect` returns) the kernel completes the handshake inside the
/// `connect` call, so one `poll` that does not wait settles it, and the check costs no
/// reactor registration and no wake-up. A connection still in progress is awaited as
/// [`connect_any`] awaits it.
pub async fn reachable(addresses: &[SocketAddr]) -> Result<(), ConnectError> {
    first_that_accepts(addresses, |address| async move {
        match begin(&address)? {
            Begun::Settled(stream) => {
                drop(stream);
                Ok(())
            }
            Begun::InProgress(stream) => settle(stream).await.map(drop),
        }
    })
    .await
}

/// A connection begun without waiting.
enum Begun {
    /// Made already.
    Settled(std::net::TcpStream),
    /// The handshake is still under way (a non-blocking socket).
    InProgress(std::net::TcpStream),
}

/// Opens a non-blocking socket to `address` and asks once, without waiting, whether the
/// connection is made; a refusal known by then is the error.
fn begin(address: &SocketAddr) -> io::Result<Begun> {
    use std::os::fd::AsRawFd as _;
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(*address),
        socket2::Type::STREAM.nonblocking(),
        Some(socket2::Protocol::TCP),
    )?;
    match socket.connect(&(*address).into()) {
        Ok(()) => return Ok(Begun::Settled(socket.into())),
        Err(error) if error.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(error) => return Err(error),
    }
    let stream: std::net::TcpStream = socket.into();
    let mut asked = libc::pollfd {
        fd: stream.as_raw_fd(),
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one pollfd, of a descriptor `stream` owns for the whole call; a timeout of 0
    // never waits.
    let ready = unsafe { libc::poll(&mut asked, 1, 0) };
    if ready == 1 {
        // A TCP socket with an error pending always polls POLLERR (`tcp_poll`), so a
        // writable one without it is connected: no `getsockopt(SO_ERROR)` to ask.
        if asked.revents & (libc::POLLERR | libc::POLLHUP) == 0
            && asked.revents & libc::POLLOUT != 0
        {
            return Ok(Begun::Settled(stream));
        }
        if let Some(error) = stream.take_error()? {
            return Err(error);
        }
    }
    Ok(Begun::InProgress(stream))
}

/// Waits for a connection in progress, as tokio's own connect does: writable, then the
/// socket's pending error, if any.
async fn settle(stream: std::net::TcpStream) -> io::Result<TcpStream> {
    let stream = TcpStream::from_std(stream)?;
    stream.writable().await?;
    match stream.take_error()? {
        Some(error) => Err(error),
        None => Ok(stream),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_closed_port_is_refused_in_plain_words() {
        // Bind, learn the port, close: nothing listens there now.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let error = connect("127.0.0.1", address.port()).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("Cannot connect to {address}: connection refused.")
        );
    }

    #[tokio::test]
    async fn reachable_says_what_connect_says() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let open = listener.local_addr().unwrap();
        let closed = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        assert!(reachable(&[open]).await.is_ok());
        assert!(reachable(&[closed, open]).await.is_ok());
        let refused = reachable(&[closed]).await.unwrap_err().to_string();
        assert_eq!(
            refused,
            connect_any(&[closed]).await.unwrap_err().to_string()
        );
        assert_eq!(
            refused,
            format!("Cannot connect to {closed}: connection refused.")
        );
        // The path of a connection still in progress when first asked (through the
        // reactor) answers for a made one too.
        let stream = std::net::TcpStream::connect(open).unwrap();
        stream.set_nonblocking(true).unwrap();
        assert!(settle(stream).await.is_ok());
        // No address at all.
        assert!(reachable(&[]).await.is_err());
    }

    #[tokio::test]
    async fn a_literal_peer_is_parsed_once_and_a_name_is_resolved_at_each_connect() {
        assert_eq!(
            Peer::new("127.0.0.1", 80),
            Peer::Address("127.0.0.1:80".parse().unwrap())
        );
        assert_eq!(
            Peer::new("::1", 8080),
            Peer::Address("[::1]:8080".parse().unwrap())
        );
        // Brackets are URL syntax, not an address: resolved (and refused) as a name is.
        assert!(matches!(Peer::new("[::1]", 80), Peer::Name { .. }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        for peer in [Peer::new("127.0.0.1", port), Peer::new("localhost", port)] {
            let (_, sent) = connect_sending(&peer, b"x").await.unwrap();
            assert_eq!(sent.unwrap(), 1, "{peer:?}");
        }
    }

    #[tokio::test]
    async fn an_open_port_connects() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(connect("127.0.0.1", port).await.is_ok());
    }
}
