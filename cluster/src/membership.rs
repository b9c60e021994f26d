//! This server's membership: its presence as an etcd lease and key, and the others watched.
//!
//! One task per clppm runs rounds: connect, grant a lease whose TTL is the heartbeat
//! timeout, put `servers/<me>` under it, read every server's key, then renew the lease every
//! heartbeat interval while watching the keys. A round whose connection breaks (a stream
//! reset, a request dropped while etcd's leadership moves, a member restarted) while the
//! lease is still renewed lately connects again on the same lease, to the next member: the
//! others see nothing, and this server keeps the groups it owns. Only when no renewal was
//! acknowledged for the silence limit (or etcd says the lease is gone) does the view say
//! that nobody's state is known ([`Change::Lost`]); the next round then starts after one
//! interval with a new lease. Changes of a peer's presence are handed to the caller
//! ([`Change`]), which raises the `nm` alerts.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use etcd_client::{Client, EventType, GetOptions, PutOptions};
use tokio::sync::{oneshot, watch};

use crate::keys::{self, ServerRecord};
use clp_core::membership::view::{Presence, View};

/// What a server needs to join its cluster.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The cluster's name (the keys live under `/clp/<cluster>/`).
    pub cluster: String,
    /// This server's name.
    pub local: String,
    /// Every server of the cluster, this one included, in the configuration's order.
    pub servers: Vec<String>,
    /// The etcd client URLs, this server's own member first: each connection talks to one
    /// member, the first that answers (with a leader), in this order. A server then sees
    /// the cluster as its own member does, and a member cut off elsewhere does not silence
    /// it (a client spreading requests over every member would wait on the cut one).
    pub endpoints: Vec<String>,
    /// The heartbeat interval: the lease is renewed this often.
    pub interval: Duration,
    /// The heartbeat timeout: the lease's TTL (whole seconds; etcd may raise it to its
    /// minimum, which is logged).
    pub timeout: Duration,
    /// TLS to etcd (`https://` endpoints), or none.
    pub tls: Option<clp_core::config::EtcdTls>,
}

impl Settings {
    /// How long one request to etcd may take.
    fn request_timeout(&self) -> Duration {
        (self.interval * 2).max(Duration::from_secs(1))
    }

    /// After how long without an acknowledged renewal this server says it cannot see etcd
    /// ([`Change::Lost`]): half the timeout, but at least one and a half intervals (a
    /// renewal was missed, not just answered late); the rest of the lease's time to live is
    /// left for stopping the groups it carries ([`Settings::time_left_when_lost`]).
    fn silence_limit(&self) -> Duration {
        (self.timeout / 2)
            .max(self.interval * 3 / 2)
            .min(self.timeout.saturating_sub(self.interval / 2))
    }

    /// At [`Change::Lost`], at least this much of the lease's time to live is left (counted
    /// from the last acknowledged renewal; etcd counts it from the renewal's arrival, which
    /// came earlier): the budget for stopping this server's groups before anyone else may
    /// take them.
    pub fn time_left_when_lost(&self) -> Duration {
        self.timeout.saturating_sub(self.silence_limit())
    }
}

/// Revokes `lease` from a short-lived client, each step within `wait`: the owner keys and
/// the presence on it go at once. For the keeper of a clppm that died or hangs, once it made
/// sure nothing of that clppm's groups runs any more (`clp_engine::keeper`).
///
/// With `unless_renewed`, only a lease that nobody renews any more is revoked: etcd must
/// say that at most that many whole seconds of it are left (a lease renewed lately has
/// nearly its whole TTL left); otherwise nothing is revoked ([`Revoked::Renewed`]).
pub async fn revoke_lease(
    endpoints: &[String],
    tls: Option<&clp_core::config::EtcdTls>,
    lease: i64,
    wait: Duration,
    unless_renewed: Option<i64>,
) -> Result<Revoked, String> {
    let options = crate::config_sync::connect_options(wait, tls)?;
    let revoke = async {
        let mut client = Client::connect(endpoints.to_vec(), Some(options))
            .await
            .map_err(|error| format!("etcd ({}): {error}", endpoints.join(", ")))?;
        if let Some(at_most) = unless_renewed {
            let left = client
                .lease_time_to_live(lease, None)
                .await
                .map_err(|error| {
                    format!("etcd did not say what is left of lease {lease}: {error}")
                })?
                .ttl();
            // etcd says -1 for a lease it no longer has.
            if left < 0 {
                return Ok(Revoked::Gone);
            }
            if left > at_most {
                return Ok(Revoked::Renewed(left));
            }
        }
        client
            .lease_revoke(lease)
            .await
            .map(|_| Revoked::Revoked)
            .map_err(|error| format!("etcd did not revoke lease {lease}: {error}"))
    };
    tokio::time::timeout(wait * 2, revoke)
        .await
        .map_err(|_| format!("etcd did not answer within {:?}", wait * 2))?
}

/// What [`revoke_lease`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// The lease is revoked.
    Revoked,
    /// etcd no longer had it (it ran out or was revoked already).
    Gone,
    /// It was renewed lately (this many whole seconds are left): not revoked.
    Renewed(i64),
}

/// A change the caller hears about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A peer's lease appeared: the server started (`nm 1`).
    Up(String),
    /// A peer's lease ended: it stopped or fell silent for the timeout (`nm 2`).
    Down(String),
    /// etcd stopped answering this server: every state is unknown now (why).
    Lost(String),
    /// etcd answers again.
    Regained,
}

/// This server's standing in etcd while it is connected: the client and the lease that
/// carries its presence; the group owner keys live on the same lease ([`crate::ownership`]).
#[derive(Clone)]
pub struct Session {
    /// The connected client.
    pub client: Client,
    /// The lease of this server's presence.
    pub lease: i64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("lease", &self.lease)
            .finish()
    }
}

/// Until when this server's lease is surely valid: the moment its last acknowledged grant or
/// keep-alive was *sent*, on the boot clock ([`clp_core::boottime`]), plus the TTL etcd granted.
/// etcd renewed it after that moment, so it cannot expire earlier. clppm's keeper kills the
/// resources of a group before this deadline when it is not pushed further.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseDeadline {
    /// The lease's id.
    pub lease: i64,
    /// The deadline on the boot clock (time since the host booted).
    pub until: Duration,
}

/// A running membership. [`Membership::leave`] revokes the lease (the others see this
/// server Offline at once); dropping it stops renewing (they see it after the timeout).
pub struct Membership {
    view: watch::Receiver<View>,
    session: watch::Receiver<Option<Session>>,
    deadline: watch::Receiver<Option<LeaseDeadline>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    grace: Duration,
}

impl Membership {
    /// Joins the cluster in the background (on the current tokio runtime): never fails; a
    /// cluster that cannot be reached shows in [`Membership::view`].
    pub fn start(
        settings: Settings,
        on_change: impl Fn(Change) + Send + Sync + 'static,
    ) -> Membership {
        let (view_tx, view) = watch::channel(View::unknown(
            &settings.servers,
            "joining the cluster: etcd has not answered yet",
        ));
        let (session_tx, session) = watch::channel(None);
        let (deadline_tx, deadline) = watch::channel(None);
        let (stop_tx, stop_rx) = oneshot::channel();
        let grace = settings.request_timeout() + Duration::from_millis(500);
        let runner = Runner {
            prefix: keys::servers_prefix(&settings.cluster),
            settings,
            view: view_tx,
            session: session_tx,
            deadline: deadline_tx,
            on_change: Box::new(on_change),
            known: HashMap::new(),
            connected: false,
            next_endpoint: 0,
            held: None,
        };
        Membership {
            view,
            session,
            deadline,
            stop: Some(stop_tx),
            task: Some(tokio::spawn(runner.run(stop_rx))),
            grace,
        }
    }

    /// Every server's presence now.
    pub fn view(&self) -> View {
        self.view.borrow().clone()
    }

    /// The view as it changes.
    pub fn subscribe(&self) -> watch::Receiver<View> {
        self.view.clone()
    }

    /// The client and lease, while etcd answers.
    pub fn session(&self) -> Option<Session> {
        self.session.borrow().clone()
    }

    /// The sessions as they change (a new lease after each reconnection, `None` while etcd
    /// does not answer).
    pub fn sessions(&self) -> watch::Receiver<Option<Session>> {
        self.session.clone()
    }

    /// The validity deadline of this server's lease as it is renewed (`None` before the
    /// first grant). It stays at the last acknowledged renewal while etcd is silent.
    pub fn lease_deadline(&self) -> watch::Receiver<Option<LeaseDeadline>> {
        self.deadline.clone()
    }

    /// Leaves the cluster: revokes the lease, so the others see this server Offline at once.
    pub async fn leave(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(self.grace, task).await;
        }
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Keep-alives left unanswered before a round gives up (the silence limit ends it sooner).
const MAX_UNANSWERED: usize = 1024;

/// The pause before a broken round connects again on its lease (a refused connection fails
/// at once; the silence limit bounds the attempts).
const RECONNECT_PAUSE: Duration = Duration::from_millis(100);

/// How a round ended.
enum Ended {
    /// The caller asked to leave.
    Stopped,
}

/// The lease a round holds, kept across a broken connection: the next round renews it
/// instead of granting another, so a connection that breaks while etcd still keeps the
/// lease (a stream reset, a leader change, a member restarted) costs this server nothing.
#[derive(Debug, Clone, Copy)]
struct Held {
    /// The lease's id.
    lease: i64,
    /// The TTL etcd granted it (seconds).
    granted: i64,
    /// When its last renewal was acknowledged.
    last_renewal: Instant,
}

/// A round connected: what the main loop of [`Runner::round`] follows.
struct Connected {
    client: Client,
    lease: i64,
    keeper: etcd_client::LeaseKeeper,
    renewals: etcd_client::LeaseKeepAliveStream,
    watch: etcd_client::WatchStream,
    published: Vec<String>,
}

/// How often a round away from this server's own etcd member looks whether it answers.
const HOME_LOOK_EVERY: Duration = Duration::from_secs(5);

/// A look, every [`HOME_LOOK_EVERY`] in its own task, whether this server's own etcd member
/// answers with a leader again, for a round that talks to another member: a server sees
/// the cluster as its own member does (`Settings::endpoints`), and a member it fell back to
/// at its start may be the one that is cut off later. Ends with the round.
struct HomeWatch {
    answered: Option<oneshot::Receiver<String>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl HomeWatch {
    /// Looks at `home` (none: a round on the own member, nothing to look at).
    fn start(home: Option<String>, settings: &Settings) -> HomeWatch {
        let Some(home) = home else {
            return HomeWatch {
                answered: None,
                task: None,
            };
        };
        let (tell, answered) = oneshot::channel();
        let wait = settings.request_timeout();
        let tls = settings.tls.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(HOME_LOOK_EVERY).await;
                if answers_with_a_leader(&home, wait, tls.as_ref()).await {
                    let _ = tell.send(home);
                    return;
                }
            }
        });
        HomeWatch {
            answered: Some(answered),
            task: Some(task),
        }
    }

    /// The own member's endpoint once it answers; never, when there is nothing to look at.
    async fn answered(&mut self) -> String {
        match self.answered.as_mut() {
            Some(answered) => match answered.await {
                Ok(home) => home,
                Err(_) => std::future::pending().await,
            },
            None => std::future::pending().await,
        }
    }
}

impl Drop for HomeWatch {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Whether the etcd member at `endpoint` answers within `wait` and knows a leader.
async fn answers_with_a_leader(
    endpoint: &str,
    wait: Duration,
    tls: Option<&clp_core::config::EtcdTls>,
) -> bool {
    let Ok(options) = crate::config_sync::connect_options(wait, tls) else {
        return false;
    };
    let look = async {
        let mut client = Client::connect([endpoint], Some(options)).await.ok()?;
        client
            .status()
            .await
            .ok()
            .map(|status| status.leader() != 0)
    };
    tokio::time::timeout(wait * 2, look)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// The membership task.
struct Runner {
    settings: Settings,
    prefix: String,
    view: watch::Sender<View>,
    session: watch::Sender<Option<Session>>,
    deadline: watch::Sender<Option<LeaseDeadline>>,
    on_change: Box<dyn Fn(Change) + Send + Sync>,
    /// The last known presence of each server (lower-case name): unknown stretches never
    /// overwrite it, so a change across an outage is still reported.
    known: HashMap<String, Presence>,
    connected: bool,
    /// The endpoint the next round connects to (an index into the settings', wrapped).
    next_endpoint: usize,
    /// This server's lease while etcd may still keep it ([`Held`]).
    held: Option<Held>,
}

impl Runner {
    async fn run(mut self, mut stop: oneshot::Receiver<()>) {
        loop {
            match self.round(&mut stop).await {
                Ok(Ended::Stopped) => return,
                Err(reason) => {
                    let silence_limit = self.settings.silence_limit();
                    let within = self
                        .held
                        .filter(|held| held.last_renewal.elapsed() < silence_limit);
                    let pause = match within {
                        // Connected and still renewed lately: connect again on the same
                        // lease; `Lost` only once the silence limit passes.
                        Some(held) if self.connected => {
                            tracing::info!(
                                "{reason}; connecting again on this server's lease {:x} (renewed {:.1} s ago)",
                                held.lease,
                                held.last_renewal.elapsed().as_secs_f64()
                            );
                            RECONNECT_PAUSE
                        }
                        _ => {
                            if within.is_none() {
                                self.held = None;
                            }
                            self.lose(reason);
                            self.settings.interval
                        }
                    };
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = &mut stop => return,
                    }
                }
            }
        }
    }

    /// One connection: register (or renew the lease held), read, then renew and watch
    /// until something fails.
    async fn round(&mut self, stop: &mut oneshot::Receiver<()>) -> Result<Ended, String> {
        let count = self.settings.endpoints.len().max(1);
        let index = self.next_endpoint % count;
        let endpoint = self
            .settings
            .endpoints
            .get(index)
            .cloned()
            .unwrap_or_default();
        // The next round tries the next member, unless this one keeps answering.
        self.next_endpoint += 1;
        let silence_limit = self.settings.silence_limit();
        let connected = match self.held {
            // A lease held: connected again before the silence limit, or not at all.
            Some(held) => tokio::time::timeout_at(
                (held.last_renewal + silence_limit).into(),
                self.connect(&endpoint),
            )
            .await
            .unwrap_or_else(|_| Err(self.silent_for(&endpoint))),
            None => self.connect(&endpoint).await,
        };
        let Connected {
            mut client,
            lease,
            mut keeper,
            mut renewals,
            mut watch,
            mut published,
        } = connected?;
        let unreachable = self.unreachable(&endpoint);
        let own_key = keys::server(&self.settings.cluster, &self.settings.local);
        let mut ticker = tokio::time::interval(self.settings.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // When each keep-alive not yet answered was sent (etcd answers them in order).
        let mut unanswered: VecDeque<Duration> = VecDeque::new();
        // Away from this server's own member (it did not answer when this round began):
        // back to it, on the same lease, once it answers with a leader.
        let mut home = HomeWatch::start(
            (index != 0)
                .then(|| self.settings.endpoints.first().cloned())
                .flatten(),
            &self.settings,
        );
        loop {
            let last_renewal = self
                .held
                .map_or_else(Instant::now, |held| held.last_renewal);
            tokio::select! {
                _ = &mut *stop => {
                    let _ = self.session.send(None);
                    // Best effort: when etcd does not answer, the lease runs out by itself.
                    let _ = client.lease_revoke(lease).await;
                    self.held = None;
                    return Ok(Ended::Stopped);
                }
                _ = tokio::time::sleep_until((last_renewal + silence_limit).into()) => {
                    return Err(self.silent_for(&endpoint));
                }
                own = home.answered() => {
                    return Err(format!(
                        "this server's own etcd member {own} answers again (this round talked to {endpoint})"
                    ));
                }
                _ = ticker.tick() => {
                    if unanswered.len() >= MAX_UNANSWERED {
                        return Err(format!("etcd has not answered {MAX_UNANSWERED} keep-alives of this server's heartbeat"));
                    }
                    unanswered.push_back(clp_core::boottime::now());
                    keeper.keep_alive().await.map_err(&unreachable)?;
                    // A record whose put was dropped (see `publish_hears`) goes again.
                    self.publish_hears(&mut client, &own_key, lease, &mut published)
                        .await
                        .map_err(&unreachable)?;
                }
                renewal = renewals.message() => match renewal {
                    Ok(Some(answer)) if answer.ttl() > 0 => {
                        if let Some(held) = self.held.as_mut() {
                            held.last_renewal = Instant::now();
                        }
                        if let Some(sent) = unanswered.pop_front() {
                            self.renewed(lease, sent, answer.ttl());
                        }
                    }
                    Ok(Some(_)) => {
                        self.held = None;
                        return Err("this server's heartbeat lease expired: it was renewed too late".into());
                    }
                    Ok(None) => return Err("etcd closed the heartbeat stream".into()),
                    Err(error) => return Err(unreachable(error)),
                },
                answer = watch.message() => match answer {
                    Ok(Some(answer)) => {
                        if answer.canceled() {
                            return Err(format!(
                                "etcd cancelled the watch of the servers: {}",
                                answer.cancel_reason()
                            ));
                        }
                        for event in answer.events() {
                            let Some(kv) = event.kv() else { continue };
                            let Some(name) = keys::server_of(&self.prefix, kv.key()) else {
                                continue;
                            };
                            let (presence, hears) = match event.event_type() {
                                EventType::Put => (Presence::Online, hears_of(kv.value())),
                                EventType::Delete => (Presence::Offline, None),
                            };
                            if presence == Presence::Offline
                                && name.eq_ignore_ascii_case(&self.settings.local)
                            {
                                self.held = None;
                                return Err("this server's presence key was removed from etcd".into());
                            }
                            self.set(name, presence, hears);
                        }
                        self.publish_hears(&mut client, &own_key, lease, &mut published)
                            .await
                            .map_err(&unreachable)?;
                    }
                    Ok(None) => return Err("etcd closed the watch of the servers".into()),
                    Err(error) => return Err(unreachable(error)),
                },
            }
        }
    }

    /// Connects to `endpoint` and takes this server's place: renews the lease held (a
    /// lease etcd no longer has ends it, [`Held`]) or grants one and puts this server's
    /// key on it; then reads every server's key, watches them, and hands out the session.
    async fn connect(&mut self, endpoint: &str) -> Result<Connected, String> {
        let unreachable = self.unreachable(endpoint);
        let options = crate::config_sync::connect_options(
            self.settings.request_timeout(),
            self.settings.tls.as_ref(),
        )?;
        let mut client = Client::connect([endpoint], Some(options))
            .await
            .map_err(&unreachable)?;
        let own_key = keys::server(&self.settings.cluster, &self.settings.local);
        let asked = clp_core::boottime::now();
        let (lease, keeper, renewals) = match self.held {
            Some(held) => match client.lease_keep_alive(held.lease).await {
                Ok((keeper, renewals)) => {
                    self.renewed(held.lease, asked, held.granted);
                    self.held = Some(Held {
                        last_renewal: Instant::now(),
                        ..held
                    });
                    (held.lease, keeper, renewals)
                }
                Err(error) if lease_not_found(&error) => {
                    self.held = None;
                    return Err(format!(
                        "this server's heartbeat lease ran out while etcd could not be reached ({endpoint}: {error})"
                    ));
                }
                Err(error) => return Err(unreachable(error)),
            },
            None => {
                let ttl = i64::try_from(self.settings.timeout.as_secs().max(1)).unwrap_or(i64::MAX);
                let lease = client.lease_grant(ttl, None).await.map_err(&unreachable)?;
                let granted = lease.ttl();
                if granted != ttl {
                    tracing::warn!(
                        "etcd granted a heartbeat lease of {granted} s instead of the configured timeout of {ttl} s (etcd's minimum)"
                    );
                }
                let lease = lease.id();
                self.renewed(lease, asked, granted);
                self.held = Some(Held {
                    lease,
                    granted,
                    last_renewal: Instant::now(),
                });
                self.publish(&mut client, &own_key, lease, None)
                    .await
                    .map_err(&unreachable)?;
                let (keeper, renewals) =
                    client.lease_keep_alive(lease).await.map_err(&unreachable)?;
                (lease, keeper, renewals)
            }
        };
        let listed = client
            .get(self.prefix.as_str(), Some(GetOptions::new().with_prefix()))
            .await
            .map_err(&unreachable)?;
        let revision = listed.header().map_or(0, |header| header.revision());
        let present: Vec<String> = listed
            .kvs()
            .iter()
            .filter_map(|kv| keys::server_of(&self.prefix, kv.key()))
            .map(str::to_ascii_lowercase)
            .collect();
        let heard = listed
            .kvs()
            .iter()
            .filter_map(|kv| {
                let name = keys::server_of(&self.prefix, kv.key())?;
                Some((name.to_ascii_lowercase(), hears_of(kv.value())?))
            })
            .collect();
        let watch = crate::rounds::watch_prefix(&mut client, self.prefix.as_str(), revision + 1)
            .await
            .map_err(&unreachable)?;
        // The session goes out before the view says Online, so whoever reacts to the view
        // (or to `Change::Regained`) finds it.
        let _ = self.session.send(Some(Session {
            client: client.clone(),
            lease,
        }));
        self.regain(endpoint, &present, heard);
        // What this server hears, in its own record for the others' `clpstat -n`.
        let published = self.hears();
        self.publish(&mut client, &own_key, lease, Some(published.clone()))
            .await
            .map_err(&unreachable)?;
        // Connected: a later round starts again from this server's own member.
        self.next_endpoint = 0;
        Ok(Connected {
            client,
            lease,
            keeper,
            renewals,
            watch,
            published,
        })
    }

    /// What a failed request to `endpoint` says, with a hint where TLS may be the cause.
    fn unreachable(&self, endpoint: &str) -> impl Fn(etcd_client::Error) -> String + use<> {
        // Over TLS a refused certificate looks like any broken connection: say where to look.
        let hint = if self.settings.tls.is_some() {
            " (over TLS: if the network is fine, check that [etcd] ca_file signed the member's certificate and that etcd's --trusted-ca-file signed cert_file)"
        } else {
            ""
        };
        let endpoint = endpoint.to_string();
        move |error| format!("etcd cannot be reached at {endpoint}: {error}{hint}")
    }

    /// Why a round ends once no renewal was acknowledged for the silence limit.
    fn silent_for(&self, endpoint: &str) -> String {
        let silent = self
            .held
            .map_or(Duration::ZERO, |held| held.last_renewal.elapsed());
        format!(
            "etcd has not renewed this server's heartbeat for {:.1} s (endpoints {endpoint})",
            silent.as_secs_f64()
        )
    }

    /// etcd renewed `lease` for `ttl` seconds upon a request sent at `sent` (boot clock).
    fn renewed(&self, lease: i64, sent: Duration, ttl: i64) {
        let ttl = Duration::from_secs(u64::try_from(ttl).unwrap_or(0));
        self.deadline.send_replace(Some(LeaseDeadline {
            lease,
            until: sent + ttl,
        }));
    }

    /// Publishes whom this server hears when it changed since `published`. A put that etcd
    /// drops while its leadership moves (the servers hand it to the witness) is left for the
    /// next call (the next tick): the lease, renewed by its own stream, is not in question.
    async fn publish_hears(
        &self,
        client: &mut Client,
        own_key: &str,
        lease: i64,
        published: &mut Vec<String>,
    ) -> Result<(), etcd_client::Error> {
        let hears = self.hears();
        if hears == *published {
            return Ok(());
        }
        match self
            .publish(client, own_key, lease, Some(hears.clone()))
            .await
        {
            Ok(()) => *published = hears,
            Err(error) if dropped_by_a_leader_change(&error) => {
                tracing::debug!("this server's record goes again at the next tick: {error}");
            }
            Err(error) => return Err(error),
        }
        Ok(())
    }

    /// Puts this server's presence key under `lease`: its record, saying that it hears
    /// `hears` (`None`: not known yet).
    async fn publish(
        &self,
        client: &mut Client,
        own_key: &str,
        lease: i64,
        hears: Option<Vec<String>>,
    ) -> Result<(), etcd_client::Error> {
        let record = ServerRecord {
            name: self.settings.local.clone(),
            pid: std::process::id(),
            hears,
        };
        let value = serde_json::to_vec(&record).unwrap_or_default();
        client
            .put(own_key, value, Some(PutOptions::new().with_lease(lease)))
            .await
            .map(|_| ())
    }

    /// The servers this server sees Online now (lower case, in the configuration's order).
    fn hears(&self) -> Vec<String> {
        self.view
            .borrow()
            .servers
            .iter()
            .filter(|(_, presence)| *presence == Presence::Online)
            .map(|(name, _)| name.to_ascii_lowercase())
            .collect()
    }

    /// Connected (through `endpoint`): every configured server Online when its key is
    /// `present`, else Offline; what each says it hears, `heard`.
    fn regain(&mut self, endpoint: &str, present: &[String], heard: BTreeMap<String, Vec<String>>) {
        if !self.connected {
            self.connected = true;
            tracing::info!(
                "joined the cluster {} in etcd (through {endpoint})",
                self.settings.cluster
            );
            (self.on_change)(Change::Regained);
        }
        let servers: Vec<(String, Presence)> = self
            .settings
            .servers
            .iter()
            .map(|name| {
                let lower = name.to_ascii_lowercase();
                let presence = if present.contains(&lower) {
                    Presence::Online
                } else {
                    Presence::Offline
                };
                (name.clone(), presence)
            })
            .collect();
        for (name, presence) in &servers {
            self.note(name, *presence);
        }
        self.view.send_replace(View {
            servers,
            problem: None,
            heard,
        });
    }

    /// One server's presence changed (or its record, saying what it `hears`, was written;
    /// `None`: it does not say).
    fn set(&mut self, name: &str, presence: Presence, hears: Option<Vec<String>>) {
        let Some(configured) = self
            .settings
            .servers
            .iter()
            .find(|server| server.eq_ignore_ascii_case(name))
            .cloned()
        else {
            return;
        };
        self.note(&configured, presence);
        self.view.send_modify(|view| {
            for (server, shown) in &mut view.servers {
                if *server == configured {
                    *shown = presence;
                }
            }
            let lower = configured.to_ascii_lowercase();
            match hears {
                Some(hears) => {
                    view.heard.insert(lower, hears);
                }
                None => {
                    view.heard.remove(&lower);
                }
            }
        });
    }

    /// Records a definite presence and reports a peer's change against the last one known.
    fn note(&mut self, name: &str, presence: Presence) {
        let before = self.known.insert(name.to_ascii_lowercase(), presence);
        if name.eq_ignore_ascii_case(&self.settings.local) {
            return;
        }
        match (before, presence) {
            (Some(Presence::Offline), Presence::Online) => {
                (self.on_change)(Change::Up(name.to_string()));
            }
            (Some(Presence::Online), Presence::Offline) => {
                (self.on_change)(Change::Down(name.to_string()));
            }
            _ => {}
        }
    }

    /// etcd stopped answering: nobody's state is known until it answers again.
    fn lose(&mut self, reason: String) {
        let _ = self.session.send(None);
        if self.connected {
            self.connected = false;
            tracing::warn!("{reason}; every server's state is unknown until etcd answers");
            (self.on_change)(Change::Lost(reason.clone()));
        } else {
            tracing::debug!("{reason}");
        }
        self.view
            .send_replace(View::unknown(&self.settings.servers, reason));
    }
}

/// Whether etcd refused a request only because its leadership was changing (raft drops the
/// proposals made during a transfer): the request may go again at once.
fn dropped_by_a_leader_change(error: &etcd_client::Error) -> bool {
    let etcd_client::Error::GRpcStatus(status) = error else {
        return false;
    };
    ["raft proposal dropped", "leader changed"]
        .iter()
        .any(|words| status.message().contains(words))
}

/// Whether etcd says that it no longer has the lease a keep-alive named (it ran out or was
/// revoked): a round that held it must take a new one; a reaper that asked to revoke it
/// finds etcd's sweep came first.
pub(crate) fn lease_not_found(error: &etcd_client::Error) -> bool {
    match error {
        etcd_client::Error::LeaseKeepAliveError(message) => message.contains("lease not found"),
        etcd_client::Error::GRpcStatus(status) => status.message().contains("lease not found"),
        _ => false,
    }
}

/// What a presence record says its server hears; `None` when it does not say (not read
/// yet, an older clppm's record) or does not parse.
fn hears_of(value: &[u8]) -> Option<Vec<String>> {
    serde_json::from_slice::<ServerRecord>(value)
        .ok()
        .and_then(|record| record.hears)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_proposal_dropped_by_a_leader_change_goes_again() {
        let status =
            |message: &str| etcd_client::Error::GRpcStatus(tonic::Status::unknown(message));
        assert!(dropped_by_a_leader_change(&status(
            "etcdserver: raft proposal dropped"
        )));
        assert!(dropped_by_a_leader_change(&status("raft proposal dropped")));
        assert!(dropped_by_a_leader_change(&status(
            "etcdserver: leader changed"
        )));
        assert!(!dropped_by_a_leader_change(&status(
            "etcdserver: no leader"
        )));
        assert!(!dropped_by_a_leader_change(&status(
            "etcdserver: requested lease not found"
        )));
        assert!(!dropped_by_a_leader_change(
            &etcd_client::Error::InvalidArgs("raft proposal dropped".into())
        ));
    }

    #[test]
    fn a_record_says_what_its_server_hears_only_when_it_says_so() {
        assert_eq!(
            hears_of(br#"{"name":"node2","pid":7,"hears":["node1","node2"]}"#),
            Some(vec!["node1".to_string(), "node2".to_string()])
        );
        // An older clppm's record, one written before the servers were read, and junk.
        assert_eq!(hears_of(br#"{"name":"node2","pid":7}"#), None);
        assert_eq!(hears_of(b"not json"), None);
        let unknown = ServerRecord {
            name: "node1".into(),
            pid: 1,
            hears: None,
        };
        assert_eq!(
            serde_json::to_string(&unknown).unwrap(),
            r#"{"name":"node1","pid":1}"#
        );
    }
}
