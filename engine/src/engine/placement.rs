//! Which server runs a group: the one decision every path that starts a group on this
//! server asks first (the daemon's start, `clpgrp -s`, `clprsc -s`, a monitor's group or
//! resource reactivation, a failover).
//!
//! Pure, like [`super::policy::decide`]: no clocks, no I/O, tested table by table. On one
//! server the answer is this server. In an HA cluster (DESIGN.md, "The HA cluster") it
//! weighs who is up, the group's server order, `failback`, the group's current owner and
//! the servers where it failed; the engine then starts a group only after taking its owner
//! key, which makes a wrong or stale answer harmless: at most one server wins the key.

use clp_core::config::{GroupConfig, same_host};

/// What placement knows of the servers when it decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Servers<'a> {
    /// This server's name (the host's short name).
    pub local: &'a str,
    /// The servers the group may run on, in its order of preference (the group's
    /// `servers`, or every `[[server]]` in order: `Config::group_servers`). On one server:
    /// this server alone.
    pub order: &'a [&'a str],
    /// The servers that are up now (any order).
    pub up: &'a [String],
    /// The server that owns the group now, when one does.
    pub owner: Option<&'a str>,
    /// The servers where the group failed (to start, or its monitor's failover rung): it
    /// does not go back to them while another may take it.
    pub failed: &'a [String],
}

/// Where a group is to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// On this server: start it here.
    Here,
    /// On another server: this one does not start it.
    Elsewhere {
        /// The server that runs it.
        server: String,
    },
    /// No server that is up may run it.
    Nowhere,
}

/// The server for `group`:
/// - a group whose owner is up stays there (`failback` off, the original's default), or
///   moves back to its first server when `failback` is on and that server is up and did
///   not fail it;
/// - otherwise the first server of its order that is up and where it did not fail, or, when
///   it failed on every server up, the first server up (better than nowhere).
pub fn place(group: &GroupConfig, servers: Servers<'_>) -> Placement {
    let is_up = |server: &str| servers.up.iter().any(|up| same_host(up, server));
    let failed_on = |server: &str| servers.failed.iter().any(|f| same_host(f, server));
    let first = servers.order.first().copied();
    let chosen = match servers.owner.filter(|owner| is_up(owner)) {
        Some(owner) => match first {
            Some(first)
                if group.failback
                    && !same_host(first, owner)
                    && is_up(first)
                    && !failed_on(first) =>
            {
                Some(first)
            }
            _ => Some(owner),
        },
        None => servers
            .order
            .iter()
            .copied()
            .find(|server| is_up(server) && !failed_on(server))
            .or_else(|| servers.order.iter().copied().find(|server| is_up(server))),
    };
    match chosen {
        Some(server) if same_host(server, servers.local) => Placement::Here,
        Some(server) => Placement::Elsewhere {
            server: server.to_string(),
        },
        None => Placement::Nowhere,
    }
}

/// Whether `server` is the group's home: the first server of its order (the original's
/// `CLP_SERVER=HOME`, any other is `OTHER`).
pub fn is_home(order: &[&str], server: &str) -> bool {
    order.first().is_none_or(|first| same_host(first, server))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(failback: bool) -> GroupConfig {
        GroupConfig {
            name: "failover1".into(),
            comment: String::new(),
            auto_start: true,
            resources: Vec::new(),
            servers: Vec::new(),
            failback,
        }
    }

    /// One row of a table: this server, the order, who is up, the owner, where it failed,
    /// failback; and the expected placement.
    struct Row {
        local: &'static str,
        order: &'static [&'static str],
        up: &'static [&'static str],
        owner: Option<&'static str>,
        failed: &'static [&'static str],
        failback: bool,
        expected: Option<&'static str>,
    }

    fn check(rows: &[Row]) {
        for (index, row) in rows.iter().enumerate() {
            let up: Vec<String> = row.up.iter().map(|s| s.to_string()).collect();
            let failed: Vec<String> = row.failed.iter().map(|s| s.to_string()).collect();
            let placement = place(
                &group(row.failback),
                Servers {
                    local: row.local,
                    order: row.order,
                    up: &up,
                    owner: row.owner,
                    failed: &failed,
                },
            );
            let expected = match row.expected {
                None => Placement::Nowhere,
                Some(server) if same_host(server, row.local) => Placement::Here,
                Some(server) => Placement::Elsewhere {
                    server: server.into(),
                },
            };
            assert_eq!(placement, expected, "row {index}");
        }
    }

    const TWO: &[&str] = &["node1", "node2"];
    const THREE: &[&str] = &["node1", "node2", "node3"];

    #[test]
    fn on_one_server_every_group_runs_here() {
        check(&[
            Row {
                local: "server1",
                order: &["server1"],
                up: &["server1"],
                owner: None,
                failed: &[],
                failback: false,
                expected: Some("server1"),
            },
            // Known by its short name, in any case.
            Row {
                local: "server1",
                order: &["Server1.example.com"],
                up: &["server1"],
                owner: None,
                failed: &[],
                failback: false,
                expected: Some("server1"),
            },
        ]);
    }

    #[test]
    fn an_unowned_group_goes_to_the_first_server_up_in_its_order() {
        check(&[
            Row {
                local: "node2",
                order: TWO,
                up: &["node2", "node1"],
                owner: None,
                failed: &[],
                failback: false,
                expected: Some("node1"),
            },
            Row {
                local: "node2",
                order: TWO,
                up: &["node2"],
                owner: None,
                failed: &[],
                failback: false,
                expected: Some("node2"),
            },
            // The group's own order, not the servers'.
            Row {
                local: "node2",
                order: &["node2", "node1"],
                up: &["node1", "node2"],
                owner: None,
                failed: &[],
                failback: false,
                expected: Some("node2"),
            },
            // A server that is up but not in the group's order never runs it.
            Row {
                local: "node3",
                order: TWO,
                up: &["node3"],
                owner: None,
                failed: &[],
                failback: false,
                expected: None,
            },
            Row {
                local: "node1",
                order: TWO,
                up: &[],
                owner: None,
                failed: &[],
                failback: false,
                expected: None,
            },
        ]);
    }

    #[test]
    fn a_failed_server_is_skipped_while_another_may_take_the_group() {
        check(&[
            Row {
                local: "node2",
                order: THREE,
                up: &["node1", "node2", "node3"],
                owner: None,
                failed: &["node1"],
                failback: false,
                expected: Some("node2"),
            },
            Row {
                local: "node3",
                order: THREE,
                up: &["node1", "node2", "node3"],
                owner: None,
                failed: &["node1", "node2"],
                failback: false,
                expected: Some("node3"),
            },
            // Failed on every server up: the first server up, rather than nowhere.
            Row {
                local: "node2",
                order: TWO,
                up: &["node1", "node2"],
                owner: None,
                failed: &["node1", "node2"],
                failback: false,
                expected: Some("node1"),
            },
            Row {
                local: "node1",
                order: TWO,
                up: &["node1"],
                owner: None,
                failed: &["node1"],
                failback: false,
                expected: Some("node1"),
            },
        ]);
    }

    #[test]
    fn a_running_group_stays_unless_failback_brings_it_home() {
        check(&[
            // failback off: it stays on node2 although node1 is back.
            Row {
                local: "node1",
                order: TWO,
                up: &["node1", "node2"],
                owner: Some("node2"),
                failed: &[],
                failback: false,
                expected: Some("node2"),
            },
            // failback on: home again.
            Row {
                local: "node1",
                order: TWO,
                up: &["node1", "node2"],
                owner: Some("node2"),
                failed: &[],
                failback: true,
                expected: Some("node1"),
            },
            // failback on, but the group failed at home: it stays.
            Row {
                local: "node1",
                order: TWO,
                up: &["node1", "node2"],
                owner: Some("node2"),
                failed: &["node1"],
                failback: true,
                expected: Some("node2"),
            },
            // failback on, home is down: it stays.
            Row {
                local: "node2",
                order: TWO,
                up: &["node2"],
                owner: Some("node2"),
                failed: &[],
                failback: true,
                expected: Some("node2"),
            },
            // The owner is down (its key not yet gone): placed as if unowned.
            Row {
                local: "node2",
                order: TWO,
                up: &["node2"],
                owner: Some("node1"),
                failed: &[],
                failback: false,
                expected: Some("node2"),
            },
            // A running group stays on its owner even when it failed there before.
            Row {
                local: "node3",
                order: THREE,
                up: &["node1", "node2", "node3"],
                owner: Some("node3"),
                failed: &["node3"],
                failback: false,
                expected: Some("node3"),
            },
        ]);
    }

    #[test]
    fn home_is_the_first_server_of_the_order() {
        assert!(is_home(TWO, "node1"));
        assert!(is_home(TWO, "NODE1.example.com"));
        assert!(!is_home(TWO, "node2"));
        assert!(is_home(&[], "node2"));
    }
}
