//! The status lines of a cluster's servers, from what etcd shows (pure: unit-tested).

use super::view::{Presence, View};

use crate::config::{Config, same_host};
use crate::status::{HeartbeatStatus, ObjectStatus, ServerStatus, ServersView};

/// The heartbeat line's name and comment: the lease plays the original's LAN heartbeat.
const HEARTBEAT: (&str, &str) = ("lanhb1", "LAN Heartbeat");

/// What the status says before clppm runs, or when it cannot ask etcd.
const NOT_RUNNING: &str =
    "clppm does not run on this server: the other servers' states are not known here";

/// The status lines of every server from `view`: this server is Online (its clppm answers),
/// its heartbeat Normal while etcd renews it; a peer is what etcd says, Unknown while etcd
/// cannot be reached.
pub fn servers_view(config: &Config, local: &str, view: &View) -> ServersView {
    let servers = config
        .servers
        .iter()
        .map(|server| {
            let presence = view.presence(&server.name);
            let (status, heartbeat) = match presence {
                Presence::Online => (ObjectStatus::Online, "Normal"),
                Presence::Offline => (ObjectStatus::Offline, "Offline"),
                Presence::Unknown => (ObjectStatus::Unknown, "Unknown"),
            };
            let status = if same_host(&server.name, local) {
                ObjectStatus::Online
            } else {
                status
            };
            server_status(&server.name, &server.comment, status, heartbeat)
        })
        .collect();
    ServersView {
        servers,
        problem: view.problem.clone(),
        alerts_not_copied: 0,
        heard: view.heard.clone(),
    }
}

/// The servers of a cluster whose clppm does not run here: this one Offline, the others
/// not known (`clpstat` reads no etcd).
pub fn offline_view(config: &Config) -> Option<ServersView> {
    if !config.is_cluster() {
        return None;
    }
    let local = config.server_name();
    let servers = config
        .servers
        .iter()
        .map(|server| {
            let (status, heartbeat) = if same_host(&server.name, &local) {
                (ObjectStatus::Offline, "Offline")
            } else {
                (ObjectStatus::Unknown, "Unknown")
            };
            server_status(&server.name, &server.comment, status, heartbeat)
        })
        .collect();
    Some(ServersView {
        servers,
        problem: Some(NOT_RUNNING.to_string()),
        alerts_not_copied: 0,
        heard: Default::default(),
    })
}

fn server_status(name: &str, comment: &str, status: ObjectStatus, heartbeat: &str) -> ServerStatus {
    ServerStatus {
        name: name.to_string(),
        status,
        comment: comment.to_string(),
        heartbeat: HeartbeatStatus {
            name: HEARTBEAT.0.into(),
            status: heartbeat.into(),
            comment: HEARTBEAT.1.into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        crate::config::parse_str(
            "[cluster]\nname = \"ha\"\n[[server]]\nname = \"node1\"\ncomment = \"first\"\n[[server]]\nname = \"node2\"\n[[server]]\nname = \"node3\"\n[etcd]\nendpoints = [\"http://192.0.2.11:2379\"]\n",
            std::path::Path::new("/nonexistent"),
        )
        .unwrap()
    }

    fn shown(view: &ServersView) -> Vec<(String, &'static str, String)> {
        view.servers
            .iter()
            .map(|s| {
                (
                    s.name.clone(),
                    s.status.as_str(),
                    s.heartbeat.status.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn each_server_shows_what_etcd_says_and_this_one_is_online() {
        let view = View {
            servers: vec![
                ("node1".into(), Presence::Online),
                ("node2".into(), Presence::Offline),
                ("node3".into(), Presence::Online),
            ],
            problem: None,
            heard: Default::default(),
        };
        let status = servers_view(&config(), "node1", &view);
        assert_eq!(
            shown(&status),
            [
                ("node1".to_string(), "Online", "Normal".to_string()),
                ("node2".to_string(), "Offline", "Offline".to_string()),
                ("node3".to_string(), "Online", "Normal".to_string()),
            ]
        );
        assert_eq!(status.servers[0].comment, "first");
        assert_eq!(status.problem, None);
    }

    #[test]
    fn without_etcd_nobody_is_guessed() {
        let names = ["node1".to_string(), "node2".into(), "node3".into()];
        let view = View::unknown(&names, "etcd cannot be reached at http://192.0.2.11:2379");
        let status = servers_view(&config(), "node2", &view);
        assert_eq!(
            shown(&status),
            [
                ("node1".to_string(), "Unknown", "Unknown".to_string()),
                ("node2".to_string(), "Online", "Unknown".to_string()),
                ("node3".to_string(), "Unknown", "Unknown".to_string()),
            ]
        );
        assert_eq!(
            status.problem.as_deref(),
            Some("etcd cannot be reached at http://192.0.2.11:2379")
        );
    }
}
