//! Which server runs a group: the one decision every path that starts a group on this
//! server asks first (the daemon's start, `clpgrp -s`, `clprsc -s`, a monitor's group or
//! resource reactivation).
//!
//! Pure, like [`super::policy::decide`]: no clocks, no I/O, tested table by table. On one
//! server the answer is this server. The HA cluster (DESIGN.md, "The HA cluster") extends
//! [`Servers`] with who is up, the group's server order, failback and what failed where, and
//! the engine then acts only on the groups placed here (after taking their ownership key).

use clp_core::config::{GroupConfig, same_host};

/// What placement knows of the servers when it decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Servers<'a> {
    /// This server's name (the host's short name).
    pub local: &'a str,
    /// The servers that are up and may run the group, in the group's order of preference.
    /// On one server: this server alone.
    pub up: &'a [String],
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

/// The server for `group`: the first of the servers up, in the group's order.
pub fn place(group: &GroupConfig, servers: Servers<'_>) -> Placement {
    // Every group may run on every server today; the group's own server order (and its
    // failback) come with the HA cluster.
    let _ = group;
    match servers.up.first() {
        Some(server) if same_host(server, servers.local) => Placement::Here,
        Some(server) => Placement::Elsewhere {
            server: server.clone(),
        },
        None => Placement::Nowhere,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group() -> GroupConfig {
        GroupConfig {
            name: "failover1".into(),
            comment: String::new(),
            auto_start: true,
            resources: Vec::new(),
            servers: Vec::new(),
            failback: false,
        }
    }

    fn place_on(local: &str, up: &[&str]) -> Placement {
        let up: Vec<String> = up.iter().map(|s| s.to_string()).collect();
        place(&group(), Servers { local, up: &up })
    }

    #[test]
    fn on_one_server_every_group_runs_here() {
        assert_eq!(place_on("server1", &["server1"]), Placement::Here);
    }

    #[test]
    fn the_server_is_known_by_its_short_name_in_any_case() {
        assert_eq!(
            place_on("server1", &["Server1.example.com"]),
            Placement::Here
        );
    }

    #[test]
    fn a_group_whose_first_server_up_is_another_is_not_started_here() {
        assert_eq!(
            place_on("server2", &["server1", "server2"]),
            Placement::Elsewhere {
                server: "server1".into()
            }
        );
    }

    #[test]
    fn with_no_server_up_a_group_runs_nowhere() {
        assert_eq!(place_on("server1", &[]), Placement::Nowhere);
    }
}
