//! A packet socket (`AF_PACKET`, `SOCK_RAW`) bound to one interface and one EtherType:
//! whole Ethernet frames out and in, for the probes and announcements the kernel does not
//! send for a floating address.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use tokio::io::unix::AsyncFd;

/// A packet socket on one interface.
pub struct PacketSocket {
    fd: AsyncFd<OwnedFd>,
}

impl PacketSocket {
    /// Opens a socket that sends on interface `index` and receives its frames of
    /// `ethertype` (needs `CAP_NET_RAW`; must run inside a tokio runtime).
    pub fn open(index: u32, ethertype: u16) -> io::Result<PacketSocket> {
        let protocol = ethertype.to_be();
        // SAFETY: socket(2) with constant arguments; the result is checked before use.
        let raw = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                i32::from(protocol),
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: sockaddr_ll is plain data; all-zero is a valid value.
        let mut address: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        address.sll_family = libc::AF_PACKET as u16;
        address.sll_protocol = protocol;
        address.sll_ifindex = i32::try_from(index)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface index"))?;
        let length = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        // SAFETY: `address` is a valid sockaddr_ll of `length` bytes for the call.
        let bound = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                std::ptr::addr_of!(address).cast::<libc::sockaddr>(),
                length,
            )
        };
        if bound < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the socket is owned by the AsyncFd and closed only when it is dropped.
        let fd = unsafe { AsyncFd::register(fd) }?;
        Ok(PacketSocket { fd })
    }

    /// Sends one whole Ethernet frame.
    pub async fn send(&self, frame: &[u8]) -> io::Result<()> {
        loop {
            let mut guard = self.fd.writable().await?;
            let sent = guard.try_io(|fd| {
                // SAFETY: `frame` is valid for `frame.len()` bytes during the call.
                let sent =
                    unsafe { libc::send(fd.as_raw_fd(), frame.as_ptr().cast(), frame.len(), 0) };
                if sent < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(())
                }
            });
            match sent {
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }

    /// The next frame received, or `None` when `wait` passes first.
    pub async fn receive(&self, buffer: &mut [u8], wait: Duration) -> io::Result<Option<usize>> {
        let received = tokio::time::timeout(wait, async {
            loop {
                let mut guard = self.fd.readable().await?;
                let result = guard.try_io(|fd| {
                    // SAFETY: `buffer` is valid for writes of `buffer.len()` bytes.
                    let length = unsafe {
                        libc::recv(fd.as_raw_fd(), buffer.as_mut_ptr().cast(), buffer.len(), 0)
                    };
                    usize::try_from(length).map_err(|_| io::Error::last_os_error())
                });
                match result {
                    Ok(result) => return result,
                    Err(_would_block) => continue,
                }
            }
        })
        .await;
        match received {
            Ok(result) => result.map(Some),
            Err(_elapsed) => Ok(None),
        }
    }
}
