//! What this server knows of the others: [`View`] (clp-cluster keeps it up to date).

use serde::{Deserialize, Serialize};

/// A server's presence, as etcd tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Presence {
    /// Its lease lives: it renewed its heartbeat within the timeout.
    Online,
    /// It holds no lease: stopped, or silent for longer than the heartbeat timeout.
    Offline,
    /// Not known: this server cannot reach etcd (or has not yet), so it cannot see anyone.
    Unknown,
}

/// Every configured server's presence, in the configuration's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    /// Each server's name (as configured) and presence.
    pub servers: Vec<(String, Presence)>,
    /// Why the presences are not known (etcd unreachable, no quorum), while so.
    pub problem: Option<String>,
    /// What each Online server said it hears (its presence record in etcd): lower-case
    /// server name to the lower-case names it sees Online. Empty while not known.
    #[serde(default)]
    pub heard: std::collections::BTreeMap<String, Vec<String>>,
}

impl View {
    /// The view before anything is known: every server Unknown.
    pub fn unknown(servers: &[String], problem: impl Into<String>) -> View {
        View {
            servers: servers
                .iter()
                .map(|name| (name.clone(), Presence::Unknown))
                .collect(),
            problem: Some(problem.into()),
            heard: Default::default(),
        }
    }

    /// The presence of `server` (names compare without case).
    pub fn presence(&self, server: &str) -> Presence {
        self.servers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(server))
            .map_or(Presence::Unknown, |(_, presence)| *presence)
    }
}
