//! The kernel's interfaces and addresses over rtnetlink: read them, add and remove one
//! address. One connection per operation: a floating address changes rarely.

use std::net::IpAddr;

use futures_util::TryStreamExt;
use rtnetlink::packet_core::ErrorMessage;
use rtnetlink::packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage,
};
use rtnetlink::packet_route::link::{LinkAttribute, LinkFlags, LinkLayerType, LinkMessage};

use crate::packet::Mac;
use crate::placement::Interface;

/// A netlink failure, with what was being done.
#[derive(Debug, thiserror::Error)]
#[error("netlink: cannot {doing}: {why}")]
pub struct NetlinkError {
    doing: String,
    why: String,
}

impl NetlinkError {
    fn new(doing: impl Into<String>, why: impl std::fmt::Display) -> NetlinkError {
        NetlinkError {
            doing: doing.into(),
            why: why.to_string(),
        }
    }
}

/// `errno` of a refused request, if the kernel refused it.
fn errno(error: &rtnetlink::Error) -> Option<i32> {
    match error {
        rtnetlink::Error::NetlinkError(ErrorMessage {
            code: Some(code), ..
        }) => Some(-code.get()),
        _ => None,
    }
}

/// An rtnetlink connection of the calling thread's network namespace; its task ends when
/// this is dropped.
pub struct Netlink {
    handle: rtnetlink::Handle,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Netlink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Netlink {
    /// Opens a connection (must run inside a tokio runtime).
    pub fn connect() -> Result<Netlink, NetlinkError> {
        let (connection, handle, _) = rtnetlink::new_connection()
            .map_err(|error| NetlinkError::new("open a NETLINK_ROUTE socket", error))?;
        let task = tokio::spawn(connection);
        Ok(Netlink { handle, task })
    }

    /// Every interface with its addresses.
    pub async fn interfaces(&self) -> Result<Vec<Interface>, NetlinkError> {
        let links: Vec<LinkMessage> = self
            .handle
            .link()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(|error| NetlinkError::new("list the interfaces", error))?;
        let addresses = self.addresses().await?;
        Ok(links
            .iter()
            .map(|link| {
                let mut interface = interface_of(link);
                interface.addresses = addresses
                    .iter()
                    .filter(|message| message.header.index == interface.index)
                    .filter_map(|message| {
                        address_of(message).map(|a| (a, message.header.prefix_len))
                    })
                    .collect();
                interface
            })
            .collect())
    }

    async fn addresses(&self) -> Result<Vec<AddressMessage>, NetlinkError> {
        self.handle
            .address()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(|error| NetlinkError::new("list the addresses", error))
    }

    /// Adds `address/prefix` to interface `index`; an IPv6 address skips the kernel's own
    /// duplicate address detection (the caller probed already) so that it serves at once.
    /// Returns false when it was there already.
    pub async fn add(&self, index: u32, address: IpAddr, prefix: u8) -> Result<bool, NetlinkError> {
        let mut request = self.handle.address().add(index, address, prefix);
        if address.is_ipv6() {
            let message = request.message_mut();
            message.header.flags |= AddressHeaderFlags::Nodad;
            message
                .attributes
                .push(AddressAttribute::Flags(AddressFlags::Nodad));
        }
        match request.execute().await {
            Ok(()) => Ok(true),
            Err(error) if errno(&error) == Some(libc::EEXIST) => Ok(false),
            Err(error) => Err(NetlinkError::new(
                format!("add {address}/{prefix} to interface {index}"),
                error,
            )),
        }
    }

    /// Removes `address` from whichever interface holds it; returns false when no interface
    /// did.
    pub async fn remove(&self, address: IpAddr) -> Result<bool, NetlinkError> {
        let held = self
            .addresses()
            .await?
            .into_iter()
            .filter(|message| address_of(message) == Some(address));
        let mut removed = false;
        for message in held {
            match self.handle.address().del(message).execute().await {
                Ok(()) => removed = true,
                Err(error) if errno(&error) == Some(libc::EADDRNOTAVAIL) => {}
                Err(error) => {
                    return Err(NetlinkError::new(format!("remove {address}"), error));
                }
            }
        }
        Ok(removed)
    }
}

/// The interface's own address of an address message (`IFA_LOCAL` where there is one: on a
/// point-to-point link `IFA_ADDRESS` is the peer's).
fn address_of(message: &AddressMessage) -> Option<IpAddr> {
    let local = message.attributes.iter().find_map(|a| match a {
        AddressAttribute::Local(address) => Some(*address),
        _ => None,
    });
    local.or_else(|| {
        message.attributes.iter().find_map(|a| match a {
            AddressAttribute::Address(address) => Some(*address),
            _ => None,
        })
    })
}

fn interface_of(link: &LinkMessage) -> Interface {
    let mut name = String::new();
    let mut mac = None;
    for attribute in &link.attributes {
        match attribute {
            LinkAttribute::IfName(n) => name = n.clone(),
            LinkAttribute::Address(bytes)
                if link.header.link_layer_type == LinkLayerType::Ether =>
            {
                mac = <Mac>::try_from(bytes.as_slice()).ok();
            }
            _ => {}
        }
    }
    Interface {
        index: link.header.index,
        name,
        mac,
        up: link.header.flags.contains(LinkFlags::Up),
        lower_up: link.header.flags.contains(LinkFlags::LowerUp),
        addresses: Vec::new(),
    }
}
