//! The daemon's link to the HA cluster ([`clp_cluster`]): when the configuration lists more
//! than one server, clppm joins the cluster in etcd, raises the `nm` alerts when a peer
//! starts or stops, shows every server in the status, and hands the engine the group
//! ownership ([`ClusterLink`]): lost and regained etcd, and owners that went down. A
//! one-server configuration never gets here: no etcd, nothing changes.

use std::sync::{Arc, Weak};

use clp_cluster::alert_sync::{self, AlertMirror, AlertPublisher};
use clp_cluster::{Change, Membership, Owners, Settings};

use crate::engine::{ClusterLink, Engine};
use clp_core::membership::servers_view;
use clp_core::status::ServersView;

/// This server in the cluster: its membership and the owners' watch.
pub struct Joined {
    membership: Membership,
    owners: Owners,
    /// The follower of the cluster's configuration ([`crate::cluster_config`]).
    configuration: clp_cluster::config_sync::ConfigFollower,
    /// This server's alerts copied into etcd, and the other servers' mirrored.
    alerts: (Arc<AlertPublisher>, Arc<AlertMirror>),
}

/// The membership's own methods (its view, sessions, ...) through the joined cluster.
impl std::ops::Deref for Joined {
    type Target = Membership;

    fn deref(&self) -> &Membership {
        &self.membership
    }
}

impl Joined {
    /// Leaves the cluster: the lease is revoked, and the owner keys still on it go with it
    /// (call after the groups were stopped: they then fail over to the next server).
    pub async fn leave(self) {
        let Joined {
            membership,
            owners,
            configuration,
            alerts,
        } = self;
        drop(configuration);
        drop(alerts);
        membership.leave().await;
        drop(owners);
    }
}

/// Joins the cluster when `engine`'s configuration is one (more than one server): the
/// membership runs until [`Joined::leave`] or its drop. Call inside the tokio runtime.
pub fn join(engine: &Arc<Engine>) -> Option<Joined> {
    let config = engine.config();
    if !config.is_cluster() {
        return None;
    }
    let etcd = config.etcd.as_ref()?;
    if etcd.tls.is_some() {
        // Parsed and validated; the client is built without TLS (the next slices add it).
        tracing::error!(
            "[etcd] TLS is configured, and this clp build talks to etcd without TLS: the cluster cannot be joined; use http:// endpoints on a trusted network for now"
        );
    }
    let settings = Settings {
        cluster: config.cluster.name.clone(),
        local: engine.server().to_string(),
        servers: config.servers.iter().map(|s| s.name.clone()).collect(),
        endpoints: local_first(&etcd.endpoints, &local_hosts(config, engine.server())),
        interval: config.heartbeat.interval,
        timeout: config.heartbeat.timeout,
    };
    let time_left_when_lost = settings.time_left_when_lost();
    let cluster = settings.cluster.clone();
    let alerts: Weak<Engine> = Arc::downgrade(engine);
    let membership = Membership::start(settings, move |change| {
        let Some(engine) = alerts.upgrade() else {
            return;
        };
        match change {
            Change::Up(server) => engine.alert("nm", 1, &[&server]),
            Change::Down(server) => engine.alert("nm", 2, &[&server]),
            Change::Lost(reason) => engine.lost_cluster(&reason),
            Change::Regained => engine.regained_cluster(),
        }
    });
    let heard: Weak<Engine> = Arc::downgrade(engine);
    let owners = Owners::start(&cluster, membership.sessions(), move |event| {
        if let Some(engine) = heard.upgrade() {
            engine.owner_event(event);
        }
    });
    engine.attach_cluster(ClusterLink::new(
        &cluster,
        membership.sessions(),
        owners.subscribe(),
        time_left_when_lost,
    ));
    let view = membership.subscribe();
    let shown: Weak<Engine> = Arc::downgrade(engine);
    engine.set_servers_source(Box::new(move || match shown.upgrade() {
        Some(engine) => servers_view(engine.config(), engine.server(), &view.borrow()),
        None => ServersView::default(),
    }));
    let configuration = crate::cluster_config::follow(engine, membership.sessions());
    let alerts = sync_alerts(engine, &cluster, membership.sessions());
    Some(Joined {
        membership,
        owners,
        configuration,
        alerts,
    })
}

/// Alert sync: this server's alerts copied into etcd (never blocking the engine), the
/// other servers' mirrored and served with this one's ([`clp_cluster::alert_sync`]).
fn sync_alerts(
    engine: &Arc<Engine>,
    cluster: &str,
    sessions: tokio::sync::watch::Receiver<Option<clp_cluster::Session>>,
) -> (Arc<AlertPublisher>, Arc<AlertMirror>) {
    let keep = engine
        .config()
        .alert
        .max_records
        .min(alert_sync::DEFAULT_KEEP);
    let publisher = Arc::new(AlertPublisher::start(
        cluster,
        engine.server(),
        keep,
        sessions.clone(),
    ));
    let mirror = Arc::new(AlertMirror::start(cluster, engine.server(), keep, sessions));
    let copier = Arc::downgrade(&publisher);
    engine.forward_alerts(clp_core::alert_sink::Forward(Box::new(move |event| {
        if let Some(publisher) = copier.upgrade() {
            publisher.publish(event);
        }
    })));
    let reader = Arc::downgrade(&mirror);
    engine.set_cluster_alerts(Box::new(move || {
        reader
            .upgrade()
            .map(|mirror| mirror.snapshot())
            .unwrap_or_default()
    }));
    (publisher, mirror)
}

/// This server's own addresses (from its `[[server]]`), its name, and loopback: the hosts
/// of an etcd endpoint that is this server's own member.
pub(crate) fn local_hosts(config: &clp_core::config::Config, local: &str) -> Vec<String> {
    let mut hosts: Vec<String> = vec![
        "127.0.0.1".into(),
        "localhost".into(),
        "::1".into(),
        local.to_ascii_lowercase(),
    ];
    for server in &config.servers {
        if clp_core::config::same_host(&server.name, local) {
            hosts.extend(server.addresses.iter().map(|a| a.to_string()));
        }
    }
    hosts
}

/// The endpoints, those on one of `hosts` first (the order otherwise kept): each
/// connection talks to one member, this server's own when it answers.
pub(crate) fn local_first(endpoints: &[String], hosts: &[String]) -> Vec<String> {
    let host_of = |url: &str| {
        let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
        let authority = rest.split('/').next().unwrap_or(rest);
        match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(v6).to_ascii_lowercase(),
            None => authority
                .split(':')
                .next()
                .unwrap_or(authority)
                .to_ascii_lowercase(),
        }
    };
    let (mut local, others): (Vec<String>, Vec<String>) = endpoints
        .iter()
        .cloned()
        .partition(|url| hosts.contains(&host_of(url)));
    local.extend(others);
    local
}

#[cfg(test)]
mod tests {
    use super::local_first;

    #[test]
    fn this_servers_own_etcd_member_comes_first() {
        let endpoints: Vec<String> = [
            "http://192.0.2.11:2379",
            "http://192.0.2.12:2379",
            "https://[2001:db8::12]:2379",
            "http://192.0.2.13:2379",
        ]
        .map(String::from)
        .to_vec();
        let hosts = vec!["192.0.2.12".to_string(), "2001:db8::12".to_string()];
        assert_eq!(
            local_first(&endpoints, &hosts),
            [
                "http://192.0.2.12:2379",
                "https://[2001:db8::12]:2379",
                "http://192.0.2.11:2379",
                "http://192.0.2.13:2379",
            ]
        );
        assert_eq!(local_first(&endpoints, &[]), endpoints);
    }
}
