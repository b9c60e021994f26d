//! The request channel: a command on one server (`-h HOST`) asks another server's clppm
//! through etcd, the one place every server already talks to. No port of clp's own is
//! opened: whoever may write under `/clp/<cluster>/` in etcd (etcd's users and client
//! certificates decide) may command the cluster, exactly as they may take its groups.
//!
//! - The asker ([`Channel`]) grants a short lease, puts the [`Envelope`] at
//!   `requests/<server>/<id>` under it (only while the server's presence key exists: one
//!   transaction), keeps the lease alive while it waits, and watches `answers/<id>` and the
//!   server's presence key. Revoking the lease at the end removes both keys; a request whose
//!   asker died goes when its lease runs out.
//! - Each clppm ([`Requests`]) watches its own `requests/<server>/` prefix. It takes a
//!   request by deleting its key in a transaction (so a request runs at most once, even
//!   across a restart), runs it through the same dispatch as the control socket, and puts
//!   the answer under the request's lease. Anything read from etcd is hostile input: keys
//!   that no command writes, requests without a lease, oversized or malformed values are
//!   removed or answered with an error, never trusted.

use std::collections::HashSet;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use etcd_client::{
    Client, Compare, CompareOp, EventType, GetOptions, KeyValue, PutOptions, Txn, TxnOp,
    WatchOptions,
};
use tokio::sync::{Semaphore, watch};

use crate::keys;
use crate::membership::Session;
use clp_core::client::RemoteError;
use clp_core::config::Config;
use clp_core::ipc::remote::{self, Envelope, forwarding_refusal};
use clp_core::ipc::{ErrorCode, Request, Response};

/// The time to live of a request's lease: a request whose asker is gone vanishes this long
/// after its last renewal.
const REQUEST_TTL: i64 = 10;
/// How often the asker renews its request's lease.
const KEEP_ALIVE: Duration = Duration::from_secs(3);
/// How long the asker waits to connect to one etcd member, and for one answer of etcd.
const ETCD_TIMEOUT: Duration = Duration::from_secs(3);
/// How many requests one clppm carries out at once; more are refused with an error.
const CONCURRENT_REQUESTS: usize = 8;

/// Where a command reaches another server of its cluster.
#[derive(Debug, Clone)]
pub struct Channel {
    /// The cluster's name.
    pub cluster: String,
    /// The etcd client URLs, this server's own member first.
    pub endpoints: Vec<String>,
    /// The server asked, as configured.
    pub server: String,
    /// The server the command runs on.
    pub from: String,
    /// TLS to etcd, as clppm uses it (`[etcd]`'s files).
    pub tls: Option<clp_core::config::EtcdTls>,
}

impl clp_core::client::Remote for Channel {
    fn server(&self) -> &str {
        &self.server
    }

    fn ask(
        &self,
        caller: &str,
        request: &Request,
        wait: Option<Duration>,
    ) -> Result<Response, RemoteError> {
        if let Some(why) = forwarding_refusal(request) {
            return Err(RemoteError::NotForwarded(format!(
                "not sent to server {}: {why}",
                self.server
            )));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| {
                RemoteError::Etcd(format!("cannot start the etcd client's runtime: {error}"))
            })?;
        let envelope = Envelope {
            client: caller.to_string(),
            from: self.from.clone(),
            request: request.clone(),
        };
        let answer = runtime.block_on(self.ask_async(&envelope, wait))?;
        match answer {
            Response::Error { code, message } => Err(RemoteError::Refused {
                server: self.server.clone(),
                code,
                message,
            }),
            answer => Ok(answer),
        }
    }
}

impl Channel {
    /// Connects to the first etcd member that answers, in order.
    async fn connect(&self) -> Result<Client, RemoteError> {
        let options = crate::config_sync::connect_options(ETCD_TIMEOUT, self.tls.as_ref())
            .map_err(RemoteError::Etcd)?;
        let mut failures = Vec::new();
        for endpoint in &self.endpoints {
            match Client::connect([endpoint.as_str()], Some(options.clone())).await {
                Ok(mut client) => match client.status().await {
                    Ok(_) => return Ok(client),
                    Err(error) => failures.push(format!("{endpoint}: {error}")),
                },
                Err(error) => failures.push(format!("{endpoint}: {error}")),
            }
        }
        Err(RemoteError::Etcd(format!(
            "no etcd member of the cluster answers, so server {} cannot be asked ({})",
            self.server,
            failures.join("; ")
        )))
    }

    /// Sends `envelope` and waits for the answer: the lease is revoked at the end, whatever
    /// happened, so that the request and its answer leave etcd.
    async fn ask_async(
        &self,
        envelope: &Envelope,
        wait: Option<Duration>,
    ) -> Result<Response, RemoteError> {
        let mut client = self.connect().await?;
        let lease = client
            .lease_grant(REQUEST_TTL, None)
            .await
            .map_err(|error| self.etcd(error))?
            .id();
        let answer = self.exchange(&mut client, lease, envelope, wait).await;
        // Best effort: when etcd does not answer, the lease runs out by itself.
        let _ = client.lease_revoke(lease).await;
        answer
    }

    fn etcd(&self, error: etcd_client::Error) -> RemoteError {
        RemoteError::Etcd(format!(
            "etcd failed while asking server {}: {error}",
            self.server
        ))
    }

    async fn exchange(
        &self,
        client: &mut Client,
        lease: i64,
        envelope: &Envelope,
        wait: Option<Duration>,
    ) -> Result<Response, RemoteError> {
        let id = keys::request_id(lease);
        let presence = keys::server(&self.cluster, &self.server);
        let request_key = keys::request(&self.cluster, &self.server, &id);
        let answer_key = keys::answer(&self.cluster, &id);
        // Only while the server is in the cluster: an Offline server is told at once.
        let put = Txn::new()
            .when([Compare::create_revision(
                presence.as_str(),
                CompareOp::Greater,
                0,
            )])
            .and_then([TxnOp::put(
                request_key.as_str(),
                envelope.encode(),
                Some(PutOptions::new().with_lease(lease)),
            )]);
        let put = client.txn(put).await.map_err(|error| self.etcd(error))?;
        if !put.succeeded() {
            return Err(RemoteError::Offline {
                server: self.server.clone(),
            });
        }
        let revision = put.header().map_or(0, |header| header.revision());
        let from_now = WatchOptions::new().with_start_revision(revision + 1);
        let mut answers = client
            .watch(answer_key.as_str(), Some(from_now.clone()))
            .await
            .map_err(|error| self.etcd(error))?;
        let mut presences = client
            .watch(presence.as_str(), Some(from_now))
            .await
            .map_err(|error| self.etcd(error))?;
        let (mut keeper, mut renewals) = client
            .lease_keep_alive(lease)
            .await
            .map_err(|error| self.etcd(error))?;
        let started = Instant::now();
        // Far enough never to come: "wait while the server is in the cluster".
        let deadline = started + wait.unwrap_or(Duration::from_secs(100 * 365 * 86_400));
        let mut ticker = tokio::time::interval(KEEP_ALIVE);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let stopping = matches!(envelope.request, Request::StopDaemon { .. });
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(deadline.into()) => {
                    return Err(RemoteError::Timeout {
                        server: self.server.clone(),
                        seconds: started.elapsed().as_secs(),
                    });
                }
                _ = ticker.tick() => {
                    keeper.keep_alive().await.map_err(|error| self.etcd(error))?;
                }
                renewal = renewals.message() => match renewal {
                    Ok(Some(renewed)) if renewed.ttl() > 0 => {}
                    Ok(_) => {
                        return Err(RemoteError::Etcd(format!(
                            "the request to server {} expired in etcd before it was answered",
                            self.server
                        )));
                    }
                    Err(error) => return Err(self.etcd(error)),
                },
                message = answers.message() => {
                    let message = message.map_err(|error| self.etcd(error))?;
                    let Some(message) = message else {
                        return Err(RemoteError::Etcd("etcd closed the watch of the answer".into()));
                    };
                    let answer = message
                        .events()
                        .iter()
                        .filter(|event| event.event_type() == EventType::Put)
                        .find_map(|event| event.kv());
                    if let Some(kv) = answer {
                        return remote::decode_answer(kv.value()).map_err(|message| {
                            RemoteError::Protocol { server: self.server.clone(), message }
                        });
                    }
                }
                message = presences.message() => {
                    let message = message.map_err(|error| self.etcd(error))?;
                    let Some(message) = message else {
                        return Err(RemoteError::Etcd("etcd closed the watch of the server".into()));
                    };
                    let left = message
                        .events()
                        .iter()
                        .any(|event| event.event_type() == EventType::Delete);
                    // A clppm asked to stop leaves the cluster as it stops: that is its answer.
                    if left && stopping {
                        return Ok(Response::Done);
                    }
                    if left {
                        return Err(RemoteError::LeftBeforeAnswer { server: self.server.clone() });
                    }
                }
            }
        }
    }
}

/// How this clppm carries out a request from another server: the control socket's dispatch.
pub type Handler =
    Arc<dyn Fn(Envelope) -> std::pin::Pin<Box<dyn Future<Output = Response> + Send>> + Send + Sync>;

/// The watch of this server's requests; dropping it stops taking new ones.
pub struct Requests {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Requests {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Requests {
    /// Takes the requests to `server` in the background (on the current tokio runtime),
    /// through each session's client as the membership connects; each runs through
    /// `handler` on a task of its own.
    pub fn start(
        cluster: &str,
        server: &str,
        sessions: watch::Receiver<Option<Session>>,
        handler: Handler,
    ) -> Requests {
        let runner = Runner {
            prefix: keys::requests_prefix(cluster, server),
            cluster: cluster.to_string(),
            server: server.to_string(),
            handler,
            in_flight: Arc::new(Mutex::new(HashSet::new())),
            slots: Arc::new(Semaphore::new(CONCURRENT_REQUESTS)),
        };
        Requests {
            task: tokio::spawn(runner.run(sessions)),
        }
    }
}

struct Runner {
    prefix: String,
    cluster: String,
    server: String,
    handler: Handler,
    /// The requests being carried out (a new round lists them again).
    in_flight: Arc<Mutex<HashSet<String>>>,
    slots: Arc<Semaphore>,
}

impl Runner {
    async fn run(self, mut sessions: watch::Receiver<Option<Session>>) {
        loop {
            let session = sessions.borrow_and_update().clone();
            match session {
                None => {
                    if sessions.changed().await.is_err() {
                        return;
                    }
                }
                Some(session) => {
                    tokio::select! {
                        ended = self.round(&session.client) => {
                            if let Err(error) = ended {
                                tracing::debug!("the watch of the requests to this server ended: {error}");
                            }
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                        changed = sessions.changed() => {
                            if changed.is_err() {
                                return;
                            }
                        }
                    }
                }
            }
        }
    }

    /// The waiting requests, then the watch until it fails.
    async fn round(&self, client: &Client) -> Result<(), String> {
        let mut client = client.clone();
        let listed = client
            .get(self.prefix.as_str(), Some(GetOptions::new().with_prefix()))
            .await
            .map_err(|e| e.to_string())?;
        let revision = listed.header().map_or(0, |header| header.revision());
        for kv in listed.kvs() {
            self.take(&client, kv);
        }
        let mut watch =
            crate::rounds::watch_prefix(&mut client, self.prefix.as_str(), revision + 1)
                .await
                .map_err(|e| e.to_string())?;
        loop {
            let Some(message) = watch.message().await.map_err(|e| e.to_string())? else {
                return Err("etcd closed the watch of the requests".into());
            };
            if message.canceled() {
                return Err(format!(
                    "etcd cancelled the watch of the requests: {}",
                    message.cancel_reason()
                ));
            }
            for event in message.events() {
                if event.event_type() != EventType::Put {
                    continue;
                }
                if let Some(kv) = event.kv() {
                    self.take(&client, kv);
                }
            }
        }
    }

    /// Takes one request key: removed when no clp command wrote it, else carried out on a
    /// task of its own (or refused when too many are).
    fn take(&self, client: &Client, kv: &KeyValue) {
        let key = kv.key().to_vec();
        let Some(id) = keys::request_id_of(&self.prefix, &key).map(str::to_string) else {
            tracing::warn!(
                key = %String::from_utf8_lossy(&key).chars().take(200).collect::<String>(),
                "removed a key under this server's requests that names no request"
            );
            spawn_delete(client.clone(), key);
            return;
        };
        if kv.lease() == 0 {
            // Its answer would stay in etcd for ever: a clp command always sends a lease.
            tracing::warn!(id, "removed a request without a lease");
            spawn_delete(client.clone(), key);
            return;
        }
        {
            let mut in_flight = self
                .in_flight
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if !in_flight.insert(id.clone()) {
                return;
            }
        }
        let slot = Arc::clone(&self.slots).try_acquire_owned().ok();
        let job = Job {
            client: client.clone(),
            key,
            mod_revision: kv.mod_revision(),
            lease: kv.lease(),
            value: kv.value().to_vec(),
            answer_key: keys::answer(&self.cluster, &id),
            server: self.server.clone(),
            handler: Arc::clone(&self.handler),
        };
        let in_flight = Arc::clone(&self.in_flight);
        tokio::spawn(async move {
            let answer = match slot {
                Some(_slot) => job.carry_out().await,
                None => {
                    let refusal = Response::error(
                        ErrorCode::Failed,
                        format!(
                            "server {} is carrying out {CONCURRENT_REQUESTS} requests from other servers already; try again",
                            job.server
                        ),
                    );
                    job.refuse(refusal).await
                }
            };
            if let Err(error) = answer {
                tracing::debug!(
                    id,
                    "a request from another server was not answered: {error}"
                );
            }
            in_flight
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .remove(&id);
        });
    }
}

/// One request taken from etcd.
struct Job {
    client: Client,
    key: Vec<u8>,
    mod_revision: i64,
    lease: i64,
    value: Vec<u8>,
    answer_key: String,
    server: String,
    handler: Handler,
}

impl Job {
    /// Takes the request (deletes its key, unless it changed or went) and answers it.
    async fn carry_out(mut self) -> Result<(), etcd_client::Error> {
        if !self.claim().await? {
            return Ok(());
        }
        let answer = match Envelope::decode(&self.value) {
            Ok(envelope) => {
                tracing::info!(
                    caller = %envelope.caller(),
                    request = ?envelope.request,
                    "a request from another server"
                );
                (self.handler)(envelope).await
            }
            Err(why) => {
                tracing::warn!("refused a request from etcd: {why}");
                Envelope::refusal(why)
            }
        };
        self.answer(&answer).await
    }

    /// Takes the request and answers `refusal` without carrying it out.
    async fn refuse(mut self, refusal: Response) -> Result<(), etcd_client::Error> {
        if self.claim().await? {
            self.answer(&refusal).await?;
        }
        Ok(())
    }

    /// Deletes the request's key while it is the one read: false when it changed or went.
    async fn claim(&mut self) -> Result<bool, etcd_client::Error> {
        let take = Txn::new()
            .when([Compare::mod_revision(
                self.key.clone(),
                CompareOp::Equal,
                self.mod_revision,
            )])
            .and_then([TxnOp::delete(self.key.clone(), None)]);
        Ok(self.client.txn(take).await?.succeeded())
    }

    /// Puts the answer under the request's lease (which fails, harmlessly, when the asker
    /// has gone and its lease with it).
    async fn answer(&mut self, answer: &Response) -> Result<(), etcd_client::Error> {
        let value = remote::encode_answer(answer, &self.server);
        self.client
            .put(
                self.answer_key.as_str(),
                value,
                Some(PutOptions::new().with_lease(self.lease)),
            )
            .await?;
        Ok(())
    }
}

/// Deletes `key` in the background (best effort).
fn spawn_delete(mut client: Client, key: Vec<u8>) {
    tokio::spawn(async move {
        let _ = client.delete(key, None).await;
    });
}

/// Which server `-h name` means in the cluster `config`: `None` for this server (its name,
/// an address of it, `localhost`), the channel to any other server of the cluster, or an
/// error naming the servers when it is none of them.
pub fn route(config: &Config, name: &str) -> Result<Option<Channel>, RemoteError> {
    let name = name.trim().trim_end_matches('.');
    let this = clp_core::config::host_name();
    let address = name.parse::<IpAddr>().ok();
    let named = config.servers.iter().find(|server| {
        clp_core::config::same_host(&server.name, name)
            || address.is_some_and(|address| server.addresses.contains(&address))
    });
    let server = match named {
        None if clp_core::local_server::is_local_server(name) => return Ok(None),
        None => {
            return Err(RemoteError::UnknownServer {
                name: name.to_string(),
                known: config.servers.iter().map(|s| s.name.clone()).collect(),
            });
        }
        Some(server) if clp_core::config::same_host(&server.name, &this) => return Ok(None),
        Some(server) => server,
    };
    let Some(etcd) = config.etcd.as_ref() else {
        return Err(RemoteError::Etcd(format!(
            "the configuration has no [etcd], through which server {} is asked",
            server.name
        )));
    };
    Ok(Some(Channel {
        cluster: config.cluster.name.clone(),
        endpoints: crate::endpoints::local_first(
            &etcd.endpoints,
            &crate::endpoints::local_hosts(config, &this),
        ),
        server: server.name.clone(),
        from: this,
        tls: etcd.tls.clone(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(this: &str) -> Config {
        let text = format!(
            "[cluster]\nname = \"ha\"\n\n[[server]]\nname = \"{this}\"\naddresses = [\"192.0.2.11\"]\n\n[[server]]\nname = \"node2\"\naddresses = [\"192.0.2.12\"]\n\n[etcd]\nendpoints = [\"http://192.0.2.12:2379\", \"http://192.0.2.11:2379\"]\n"
        );
        clp_core::config::parse_str(&text, std::path::Path::new("/nonexistent"))
            .expect("a valid test configuration")
    }

    #[test]
    fn another_server_is_reached_through_etcd_by_its_name_or_address() {
        let this = clp_core::config::host_name();
        let config = config(&this);
        for name in ["node2", "NODE2", "node2.example.com", "192.0.2.12"] {
            let channel = route(&config, name)
                .expect("a server of the cluster")
                .expect("another server");
            assert_eq!(channel.server, "node2");
            assert_eq!(channel.cluster, "ha");
            assert_eq!(channel.from, this);
            // This server's own member first.
            assert_eq!(channel.endpoints[0], "http://192.0.2.11:2379");
        }
        for name in [this.as_str(), "localhost", "127.0.0.1", "192.0.2.11"] {
            assert!(
                route(&config, name).expect("this server").is_none(),
                "{name}"
            );
        }
    }

    #[test]
    fn an_unknown_server_is_refused_naming_the_servers() {
        let this = clp_core::config::host_name();
        let error = route(&config(&this), "node9").expect_err("unknown");
        assert_eq!(
            error.to_string(),
            format!("server node9 is not a server of this cluster; the servers are {this}, node2")
        );
    }
}
