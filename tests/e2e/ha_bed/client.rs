//! A client host on the bed's bridge (`192.0.2.19`): its own namespace, from which the tests
//! reach the service over TCP as a user would (through a server's address for now; the
//! floating address once the cluster has one). Removed on drop.

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{Bed, ip_path};
use crate::netns::ip;

/// The client's address.
pub const CLIENT_ADDRESS: &str = "192.0.2.19";

/// The client namespace and its veth.
pub struct Client {
    netns: String,
    veth: String,
}

impl Bed {
    /// A client host on this bed's bridge.
    pub fn client(&self) -> Client {
        let netns = format!("{}-c", self.netns_prefix());
        let veth = format!("{}c", self.veth_prefix());
        let client = Client {
            netns: netns.clone(),
            veth: veth.clone(),
        };
        let inner = format!("{veth}n");
        ip(&["netns", "add", &netns]);
        ip(&["link", "add", &veth, "type", "veth", "peer", "name", &inner]);
        ip(&["link", "set", &veth, "master", &self.bridge]);
        ip(&["link", "set", &veth, "up"]);
        ip(&["link", "set", &inner, "netns", &netns]);
        ip(&["-n", &netns, "link", "set", "lo", "up"]);
        let cidr = format!("{CLIENT_ADDRESS}/24");
        ip(&["-n", &netns, "addr", "add", &cidr, "dev", &inner]);
        ip(&["-n", &netns, "link", "set", &inner, "up"]);
        client
    }
}

impl Client {
    /// Connects to `address:port` from the client's namespace and returns the service's
    /// greeting (`SERVER GROUP`), or why there is none.
    pub fn ask(&self, address: &str, port: u16, within: Duration) -> Result<String, String> {
        let target: SocketAddr = format!("{address}:{port}")
            .parse()
            .map_err(|error| format!("{address}:{port}: {error}"))?;
        in_netns(&self.netns, move || {
            let mut stream = TcpStream::connect_timeout(&target, within)
                .map_err(|error| format!("{target}: {error}"))?;
            stream
                .set_read_timeout(Some(within))
                .map_err(|error| error.to_string())?;
            let mut greeting = String::new();
            stream
                .read_to_string(&mut greeting)
                .map_err(|error| format!("{target}: {error}"))?;
            Ok(greeting.trim().to_string())
        })
    }
}

/// Runs `work` in network namespace `netns`, on a thread of its own (entering a namespace
/// is per thread, and that thread ends with `work`).
pub fn in_netns<T: Send + 'static>(
    netns: &str,
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let netns = netns.to_string();
    std::thread::spawn(move || {
        let file = std::fs::File::open(format!("/run/netns/{netns}"))
            .map_err(|error| format!("the namespace {netns}: {error}"))?;
        // SAFETY: setns on an open namespace file changes only this thread's namespace.
        if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            return Err(format!(
                "cannot enter {netns}: {}",
                std::io::Error::last_os_error()
            ));
        }
        work()
    })
    .join()
    .unwrap_or_else(|_| Err("the thread in the namespace panicked".into()))
}

impl Drop for Client {
    fn drop(&mut self) {
        for args in [["netns", "del", &self.netns], ["link", "del", &self.veth]] {
            let _ = Command::new(ip_path())
                .args(args)
                .stderr(Stdio::null())
                .status();
        }
    }
}
