//! The layout of a cluster's keys in etcd, all under `/clp/<cluster>/`.
//!
//! - `servers/<server>`: present while the server's lease lives (its heartbeat); the value
//!   says who holds it ([`ServerRecord`]).
//! - `groups/<group>/move`: an operator's move of the group, from the request to its outcome
//!   (no lease: it outlives the servers that wrote it; a stale one names an old owner's
//!   fencing token and binds nobody).
//! - `groups/<group>/owner`: the server running the group, created only by a
//!   compare-and-set on absence under the owner's lease; its `create_revision` is the fencing
//!   token handed to scripts.
//!
//! Server names are host names, compared without case: keys hold them in lower case.

use serde::{Deserialize, Serialize};

/// `/clp/<cluster>/`: everything of one cluster.
pub fn cluster_root(cluster: &str) -> String {
    format!("/clp/{cluster}/")
}

/// `/clp/<cluster>/servers/`: the presence keys.
pub fn servers_prefix(cluster: &str) -> String {
    format!("{}servers/", cluster_root(cluster))
}

/// `/clp/<cluster>/servers/<server>`: one server's presence key.
pub fn server(cluster: &str, server: &str) -> String {
    format!("{}{}", servers_prefix(cluster), server.to_ascii_lowercase())
}

/// `/clp/<cluster>/groups/<group>/owner`: who runs the group ([`crate::ownership`]).
pub fn group_owner(cluster: &str, group: &str) -> String {
    format!("{}groups/{group}/owner", cluster_root(cluster))
}

/// `/clp/<cluster>/groups/<group>/moved`: the server that last handed the group over after
/// it failed there ([`crate::ownership::hand_over`]).
pub fn group_moved(cluster: &str, group: &str) -> String {
    format!("{}groups/{group}/moved", cluster_root(cluster))
}

/// `/clp/<cluster>/groups/<group>/move`: an operator's move of the group (`clpgrp -m`), its
/// progress and its outcome ([`crate::moving`]).
pub fn group_move(cluster: &str, group: &str) -> String {
    format!("{}groups/{group}/move", cluster_root(cluster))
}

/// The server a presence key names, when `key` is one under `prefix`.
pub fn server_of<'a>(prefix: &str, key: &'a [u8]) -> Option<&'a str> {
    std::str::from_utf8(key).ok()?.strip_prefix(prefix)
}

/// The value of a presence key: who wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerRecord {
    /// The server's name as configured.
    pub name: String,
    /// clppm's process id on that server.
    pub pid: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_live_under_the_cluster_and_name_servers_in_lower_case() {
        assert_eq!(server("ha", "Node1"), "/clp/ha/servers/node1");
        assert_eq!(group_owner("ha", "web"), "/clp/ha/groups/web/owner");
        assert_eq!(group_move("ha", "web"), "/clp/ha/groups/web/move");
        let prefix = servers_prefix("ha");
        assert_eq!(server_of(&prefix, b"/clp/ha/servers/node1"), Some("node1"));
        assert_eq!(server_of(&prefix, b"/clp/other/servers/node1"), None);
    }
}
