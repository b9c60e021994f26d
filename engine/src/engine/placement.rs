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
    /// The destination of an operator's move that its owner released the group to
    /// (`clpgrp -m`): while it is up and in the group's order, it alone takes the group.
    pub moving_to: Option<&'a str>,
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
/// - a group released to a move's destination goes there, and nowhere else, while that
///   server is up and in the group's order (otherwise the move binds nobody);
/// - a group whose owner is up stays there (`failback` off, the original's default), or
///   moves back to its first server when `failback` is on and that server is up and did
///   not fail it;
/// - otherwise the first server of its order that is up and where it did not fail, or, when
///   it failed on every server up, the first server up (better than nowhere).
pub fn place(group: &GroupConfig, servers: Servers<'_>) -> Placement {
    let is_up = |server: &str| servers.up.iter().any(|up| same_host(up, server));
    let failed_on = |server: &str| servers.failed.iter().any(|f| same_host(f, server));
    let first = servers.order.first().copied();
    let destination = servers.moving_to.and_then(|to| {
        servers
            .order
            .iter()
            .copied()
            .find(|server| same_host(server, to) && is_up(server))
    });
    let chosen = match servers.owner.filter(|owner| is_up(owner)) {
        _ if destination.is_some() && servers.owner.is_none() => destination,
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

/// The destination of `clpgrp -m` without `-a`: the next server after the owner `from` in
/// the group's order (wrapping round) that is up; `None` when no other server is.
pub fn next_server<'a>(order: &[&'a str], from: &str, up: &[String]) -> Option<&'a str> {
    let is_up = |server: &str| up.iter().any(|u| same_host(u, server));
    let start = order
        .iter()
        .position(|server| same_host(server, from))
        .map_or(0, |index| index + 1);
    (0..order.len())
        .map(|step| order[(start + step) % order.len()])
        .find(|server| !same_host(server, from) && is_up(server))
}

/// Why a move of a group owned by `from` to `to` cannot be made, or `None` when it can:
/// the destination must be another server of the group's order, and up.
pub fn refuse_move(order: &[&str], from: &str, to: &str, up: &[String]) -> Option<String> {
    if same_host(from, to) {
        return Some(format!("the group already runs on server {to}"));
    }
    if !order.iter().any(|server| same_host(server, to)) {
        return Some(format!(
            "server {to} is not one of the group's servers ({})",
            order.join(", ")
        ));
    }
    if !up.iter().any(|server| same_host(server, to)) {
        return Some(format!("server {to} is not Online"));
    }
    None
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
        moving_to: Option<&'static str>,
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
                    moving_to: row.moving_to,
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
                moving_to: None,
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
                moving_to: None,
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
                moving_to: None,
                expected: Some("node1"),
            },
            Row {
                local: "node2",
                order: TWO,
                up: &["node2"],
                owner: None,
                failed: &[],
                failback: false,
                moving_to: None,
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
                moving_to: None,
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
                moving_to: None,
                expected: None,
            },
            Row {
                local: "node1",
                order: TWO,
                up: &[],
                owner: None,
                failed: &[],
                failback: false,
                moving_to: None,
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
                moving_to: None,
                expected: Some("node2"),
            },
            Row {
                local: "node3",
                order: THREE,
                up: &["node1", "node2", "node3"],
                owner: None,
                failed: &["node1", "node2"],
                failback: false,
                moving_to: None,
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
                moving_to: None,
                expected: Some("node1"),
            },
            Row {
                local: "node1",
                order: TWO,
                up: &["node1"],
                owner: None,
                failed: &["node1"],
                failback: false,
                moving_to: None,
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
                moving_to: None,
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
                moving_to: None,
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
                moving_to: None,
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
                moving_to: None,
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
                moving_to: None,
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
                moving_to: None,
                expected: Some("node3"),
            },
        ]);
    }

    #[test]
    fn a_released_move_lets_only_its_destination_take_the_group() {
        check(&[
            // Released to node3: node1 (first, up) does not take it; node3 does.
            Row {
                local: "node1",
                order: THREE,
                up: &["node1", "node2", "node3"],
                owner: None,
                failed: &[],
                failback: false,
                moving_to: Some("node3"),
                expected: Some("node3"),
            },
            Row {
                local: "node3",
                order: THREE,
                up: &["node1", "node2", "node3"],
                owner: None,
                failed: &[],
                failback: false,
                moving_to: Some("NODE3"),
                expected: Some("node3"),
            },
            // Even where it failed before: the operator named it.
            Row {
                local: "node2",
                order: TWO,
                up: &["node1", "node2"],
                owner: None,
                failed: &["node2"],
                failback: false,
                moving_to: Some("node2"),
                expected: Some("node2"),
            },
            // Failback does not pull it home while it moves.
            Row {
                local: "node1",
                order: TWO,
                up: &["node1", "node2"],
                owner: None,
                failed: &[],
                failback: true,
                moving_to: Some("node2"),
                expected: Some("node2"),
            },
            // The destination went down: the move binds nobody, the usual rules place it.
            Row {
                local: "node2",
                order: THREE,
                up: &["node1", "node2"],
                owner: None,
                failed: &[],
                failback: false,
                moving_to: Some("node3"),
                expected: Some("node1"),
            },
            // A destination outside the group's order binds nobody.
            Row {
                local: "node1",
                order: TWO,
                up: &["node1", "node2", "node3"],
                owner: None,
                failed: &[],
                failback: false,
                moving_to: Some("node3"),
                expected: Some("node1"),
            },
            // Once a server owns it again, the owner rules apply.
            Row {
                local: "node1",
                order: TWO,
                up: &["node1", "node2"],
                owner: Some("node2"),
                failed: &[],
                failback: false,
                moving_to: Some("node2"),
                expected: Some("node2"),
            },
        ]);
    }

    #[test]
    fn a_move_without_a_destination_goes_to_the_next_server_up_in_the_order() {
        let up = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            next_server(THREE, "node1", &up(&["node1", "node2", "node3"])),
            Some("node2")
        );
        assert_eq!(
            next_server(THREE, "node1", &up(&["node1", "node3"])),
            Some("node3")
        );
        // Wraps round past the end of the order.
        assert_eq!(
            next_server(THREE, "node3", &up(&["node1", "node2", "node3"])),
            Some("node1")
        );
        assert_eq!(
            next_server(THREE, "Node2", &up(&["node2", "node1"])),
            Some("node1")
        );
        assert_eq!(next_server(TWO, "node1", &up(&["node1"])), None);
        assert_eq!(next_server(&["node1"], "node1", &up(&["node1"])), None);
    }

    #[test]
    fn a_move_is_refused_to_a_server_that_cannot_take_the_group() {
        let up: Vec<String> = vec!["node1".into(), "node2".into(), "node3".into()];
        assert_eq!(refuse_move(THREE, "node1", "node2", &up), None);
        assert_eq!(
            refuse_move(THREE, "node1", "node1", &up).as_deref(),
            Some("the group already runs on server node1")
        );
        assert_eq!(
            refuse_move(TWO, "node1", "node3", &up).as_deref(),
            Some("server node3 is not one of the group's servers (node1, node2)")
        );
        assert_eq!(
            refuse_move(THREE, "node1", "node3", &up[..2]).as_deref(),
            Some("server node3 is not Online")
        );
    }

    #[test]
    fn home_is_the_first_server_of_the_order() {
        assert!(is_home(TWO, "node1"));
        assert!(is_home(TWO, "NODE1.example.com"));
        assert!(!is_home(TWO, "node2"));
        assert!(is_home(&[], "node2"));
    }
}
