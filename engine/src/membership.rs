//! The daemon's link to the HA cluster ([`clp_cluster`]): when the configuration lists more
//! than one server, clppm joins the cluster in etcd, raises the `nm` alerts when a peer
//! starts or stops, shows every server in the status, and hands the engine the group
//! ownership ([`ClusterLink`]): lost and regained etcd, and owners that went down; it takes
//! the requests other servers' commands send it through etcd (`-h HOST`) and runs them
//! through the control socket's dispatch. A one-server configuration never gets here: no
//! etcd, nothing changes.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use clp_cluster::alert_sync::{self, AlertMirror, AlertPublisher};
use clp_cluster::requests::Handler;
use clp_cluster::{Change, Membership, Owners, Requests, Settings};

use crate::engine::{ClusterLink, Engine};
use clp_core::alert::{AlertEvent, Level};
use clp_core::ipc::remote::Envelope;
use clp_core::ipc::{ErrorCode, Response};
use clp_core::membership::servers_view;
use clp_core::status::ServersView;

/// This server in the cluster: its membership, the owners' watch and the requests' watch.
pub struct Joined {
    membership: Membership,
    owners: Owners,
    requests: Requests,
    /// The follower of the cluster's configuration ([`crate::cluster_config`]).
    configuration: clp_cluster::config_sync::ConfigFollower,
    /// This server's alerts copied into etcd, and the other servers' mirrored.
    alerts: (Arc<AlertPublisher>, Arc<AlertMirror>),
    /// The task that hands etcd's leadership to the witness (`[etcd] witness_leads`).
    leader_placement: Option<AbortOnDrop>,
    /// The task that revokes a silent peer's lease once it surely ran out.
    lease_reaper: AbortOnDrop,
}

/// A spawned task that ends with its owner.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
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
            requests,
            configuration,
            alerts,
            leader_placement,
            lease_reaper,
        } = self;
        drop(leader_placement);
        drop(lease_reaper);
        drop(requests);
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
    let settings = Settings {
        cluster: config.cluster.name.clone(),
        local: engine.server().to_string(),
        servers: config.servers.iter().map(|s| s.name.clone()).collect(),
        endpoints: clp_cluster::endpoints::local_first(
            &etcd.endpoints,
            &clp_cluster::endpoints::local_hosts(config, engine.server()),
        ),
        interval: config.heartbeat.interval,
        timeout: config.heartbeat.timeout,
        tls: etcd.tls.clone(),
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
            Change::Down(server) => {
                engine.alert("nm", 2, &[&server]);
                engine.peer_down(&server);
            }
            Change::Lost(reason) => engine.lost_cluster(&reason),
            Change::Regained => engine.regained_cluster(),
        }
    });
    // Before the cluster is attached: a group owned under the lease is told to the keeper
    // after the lease (a keeper that saw no lease yet kills it at once).
    engine.keeper_follows(membership.lease_deadline());
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
    let alerts = sync_alerts(engine, &cluster, membership.sessions());
    let view = membership.subscribe();
    let shown: Weak<Engine> = Arc::downgrade(engine);
    let not_copied = alerts.0.dropped_counter();
    engine.set_servers_source(Box::new(move || match shown.upgrade() {
        Some(engine) => ServersView {
            alerts_not_copied: not_copied.load(std::sync::atomic::Ordering::Relaxed),
            ..servers_view(engine.config(), engine.server(), &view.borrow())
        },
        None => ServersView::default(),
    }));
    let requests = Requests::start(
        &cluster,
        engine.server(),
        membership.sessions(),
        dispatch(engine),
    );
    let configuration = crate::cluster_config::follow(engine, membership.sessions());
    let leader_placement = etcd.witness_leads.then(|| {
        AbortOnDrop(tokio::spawn(
            clp_cluster::leader_placement::keep_leader_on_witness(
                membership.sessions(),
                clp_cluster::leader_placement::Hosts {
                    servers: clp_cluster::endpoints::server_hosts(config),
                    local: clp_cluster::endpoints::local_hosts(config, engine.server()),
                },
            ),
        ))
    });
    let lease_reaper = AbortOnDrop(tokio::spawn(clp_cluster::lease_reaper::reap_silent_peers(
        membership.sessions(),
        cluster.clone(),
        engine.server().to_string(),
    )));
    Some(Joined {
        membership,
        owners,
        requests,
        configuration,
        alerts,
        leader_placement,
        lease_reaper,
    })
}

/// The requests from other servers run through the control socket's dispatch, as the
/// caller `command@server`; what they change is flushed, as a socket's request is.
fn dispatch(engine: &Arc<Engine>) -> Handler {
    let engine: Weak<Engine> = Arc::downgrade(engine);
    Arc::new(move |envelope: Envelope| {
        let engine = engine.upgrade();
        Box::pin(async move {
            let Some(engine) = engine else {
                return Response::error(ErrorCode::Stopping, "clppm is stopping");
            };
            let caller = envelope.caller();
            let mutating = envelope.request.is_mutating();
            let answer = crate::control::handle(&engine, &caller, envelope.request).await;
            if mutating {
                engine.flush_store();
            }
            answer
        })
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
    let mirror = Arc::new(AlertMirror::start(
        cluster,
        engine.server(),
        keep,
        sessions.clone(),
    ));
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
    report_not_copied(Arc::downgrade(engine), Arc::downgrade(&publisher), sessions);
    (publisher, mirror)
}

/// How often the count of alerts not copied into etcd is looked at.
const NOT_COPIED_CHECK: Duration = Duration::from_secs(1);

/// At most one alert about alerts not copied in this long.
const NOT_COPIED_SPACING: Duration = Duration::from_secs(30);

/// Raises an alert (clp 3, copied to the other servers) when the count of this server's
/// alerts not copied into etcd rose, once etcd answers again (reported then, the alert
/// itself reaches the others), at most one every [`NOT_COPIED_SPACING`]. Ends with the
/// publisher.
fn report_not_copied(
    engine: Weak<Engine>,
    publisher: Weak<AlertPublisher>,
    sessions: tokio::sync::watch::Receiver<Option<clp_cluster::Session>>,
) {
    tokio::spawn(async move {
        let mut reported = 0;
        let mut last: Option<Instant> = None;
        let mut tick = tokio::time::interval(NOT_COPIED_CHECK);
        loop {
            tick.tick().await;
            let (Some(engine), Some(publisher)) = (engine.upgrade(), publisher.upgrade()) else {
                return;
            };
            let count = publisher.dropped();
            let quiet = last.is_some_and(|at| at.elapsed() < NOT_COPIED_SPACING);
            if count <= reported || quiet || sessions.borrow().is_none() {
                continue;
            }
            engine.record(AlertEvent::custom(
                engine.server(),
                alert_sync::MODULE,
                alert_sync::NOT_COPIED_EVENT,
                Level::Warning,
                &alert_sync::not_copied_message(count - reported, count),
            ));
            reported = count;
            last = Some(Instant::now());
        }
    });
}
