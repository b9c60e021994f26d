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
//! - `requests/<server>/<id>`: a request to that server's clppm (`-h HOST` of a command on
//!   another server), under the asker's lease; `answers/<id>`: its answer, under the same
//!   lease ([`crate::requests`]). The id is the lease's, in hex.
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

/// `/clp/<cluster>/requests/<server>/`: the requests to one server's clppm.
pub fn requests_prefix(cluster: &str, server: &str) -> String {
    format!(
        "{}requests/{}/",
        cluster_root(cluster),
        server.to_ascii_lowercase()
    )
}

/// `/clp/<cluster>/requests/<server>/<id>`: one request.
pub fn request(cluster: &str, server: &str, id: &str) -> String {
    format!("{}{id}", requests_prefix(cluster, server))
}

/// `/clp/<cluster>/answers/<id>`: the answer to request `id`.
pub fn answer(cluster: &str, id: &str) -> String {
    format!("{}answers/{id}", cluster_root(cluster))
}

/// The id of a request: its lease's, in hex.
pub fn request_id(lease: i64) -> String {
    format!("{lease:016x}")
}

/// The longest request id a server accepts (a lease id in hex has 16 digits).
const MAX_REQUEST_ID: usize = 64;

/// The request id a key under `prefix` names, when it is one a server answers: 1 to 64
/// letters, digits, `-` or `_` (it becomes part of the answer's key; anything else was not
/// written by a clp command).
pub fn request_id_of<'a>(prefix: &str, key: &'a [u8]) -> Option<&'a str> {
    let id = std::str::from_utf8(key).ok()?.strip_prefix(prefix)?;
    let valid = !id.is_empty()
        && id.len() <= MAX_REQUEST_ID
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    valid.then_some(id)
}

/// `/clp/<cluster>/config/`: the shared configuration ([`crate::config_sync`]).
pub fn config_prefix(cluster: &str) -> String {
    format!("{}config/", cluster_root(cluster))
}

/// `/clp/<cluster>/config/active`: the cluster's active generation, changed only by a
/// compare-and-set once every Online server accepted it.
pub fn config_active(cluster: &str) -> String {
    format!("{}active", config_prefix(cluster))
}

/// `/clp/<cluster>/config/proposals/`: generations waiting for the servers' answers.
pub fn config_proposals(cluster: &str) -> String {
    format!("{}proposals/", config_prefix(cluster))
}

/// `/clp/<cluster>/config/proposals/<id>/`: one proposal, its generation and answers.
pub fn proposal(cluster: &str, id: &str) -> String {
    format!("{}{id}/", config_proposals(cluster))
}

/// `/clp/<cluster>/config/proposals/<id>/generation`: the proposed generation.
pub fn proposal_generation(cluster: &str, id: &str) -> String {
    format!("{}generation", proposal(cluster, id))
}

/// `/clp/<cluster>/config/proposals/<id>/answers/`: each server's answer.
pub fn proposal_answers(cluster: &str, id: &str) -> String {
    format!("{}answers/", proposal(cluster, id))
}

/// `/clp/<cluster>/config/proposals/<id>/answers/<server>`: one server's answer.
pub fn proposal_answer(cluster: &str, id: &str, server: &str) -> String {
    format!(
        "{}{}",
        proposal_answers(cluster, id),
        server.to_ascii_lowercase()
    )
}

/// The proposal a `…/proposals/<id>/generation` key names, when it is one.
pub fn proposal_of_generation_key<'a>(cluster_proposals: &str, key: &'a [u8]) -> Option<&'a str> {
    std::str::from_utf8(key)
        .ok()?
        .strip_prefix(cluster_proposals)?
        .strip_suffix("/generation")
        .filter(|id| !id.contains('/'))
}

/// `/clp/<cluster>/alerts/`: every server's newest alerts ([`crate::alert_sync`]).
pub fn alerts_prefix(cluster: &str) -> String {
    format!("{}alerts/", cluster_root(cluster))
}

/// `/clp/<cluster>/alerts/<server>/`: one server's newest alerts, keyed by sequence.
pub fn server_alerts(cluster: &str, server: &str) -> String {
    format!("{}{}/", alerts_prefix(cluster), server.to_ascii_lowercase())
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
    /// The servers whose presence keys this server saw in etcd when it last wrote the record
    /// (lower case): its heartbeat view, which the others' `clpstat -n` shows. `None`
    /// before it has read them (and from a clppm that does not publish it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hears: Option<Vec<String>>,
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

    #[test]
    fn requests_live_under_their_server_and_answers_under_their_id() {
        let id = request_id(0x1234_abcd);
        assert_eq!(id, "000000001234abcd");
        assert_eq!(
            request("ha", "Node2", &id),
            "/clp/ha/requests/node2/000000001234abcd"
        );
        assert_eq!(answer("ha", &id), "/clp/ha/answers/000000001234abcd");
        let prefix = requests_prefix("ha", "node2");
        assert_eq!(
            request_id_of(&prefix, request("ha", "node2", &id).as_bytes()),
            Some(id.as_str())
        );
    }

    #[test]
    fn a_request_key_no_clp_command_writes_names_no_request() {
        let prefix = requests_prefix("ha", "node2");
        for key in [
            b"/clp/ha/requests/node2/".to_vec(),
            b"/clp/ha/requests/node2/a/b".to_vec(),
            b"/clp/ha/requests/node2/../../answers/x".to_vec(),
            b"/clp/ha/requests/node2/a b".to_vec(),
            b"/clp/ha/requests/node1/abc".to_vec(),
            format!("/clp/ha/requests/node2/{}", "a".repeat(65)).into_bytes(),
            b"/clp/ha/requests/node2/\xff".to_vec(),
            [b"/clp/ha/requests/node2/".as_slice(), &[0xff, 0xfe]].concat(),
        ] {
            assert_eq!(request_id_of(&prefix, &key), None, "{key:?}");
        }
        let longest = format!("/clp/ha/requests/node2/{}", "a".repeat(64));
        assert!(request_id_of(&prefix, longest.as_bytes()).is_some());
    }

    #[test]
    fn a_proposal_keeps_its_generation_and_answers_under_its_id() {
        assert_eq!(config_active("ha"), "/clp/ha/config/active");
        assert_eq!(
            proposal_generation("ha", "p1"),
            "/clp/ha/config/proposals/p1/generation"
        );
        assert_eq!(
            proposal_answer("ha", "p1", "Node2"),
            "/clp/ha/config/proposals/p1/answers/node2"
        );
        let prefix = config_proposals("ha");
        assert_eq!(
            proposal_of_generation_key(&prefix, b"/clp/ha/config/proposals/p1/generation"),
            Some("p1")
        );
        assert_eq!(
            proposal_of_generation_key(&prefix, b"/clp/ha/config/proposals/p1/answers/node2"),
            None
        );
        assert_eq!(server_alerts("ha", "Node2"), "/clp/ha/alerts/node2/");
    }
}
