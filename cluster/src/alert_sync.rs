//! Alert synchronisation (the original's "alert sync"): every server's alerts readable on
//! any server. Each clppm copies the alerts it logs into etcd, under
//! `/clp/<cluster>/alerts/<server>/<sequence>`, keeping only its newest N
//! ([`AlertPublisher`]), and mirrors the other servers' ([`AlertMirror`]); the readers merge
//! the mirror with the local alert log by time ([`merge`]).
//!
//! The engine never waits on etcd for an alert: [`AlertPublisher::publish`] hands the
//! event to a bounded queue and returns; when the queue is full, or etcd does not answer,
//! the event is dropped from the copy (the local alert log has it) and counted.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clp_core::alert::AlertEvent;
use etcd_client::{DeleteOptions, EventType, GetOptions, SortOrder, SortTarget};
use tokio::sync::{mpsc, watch};

use crate::keys;
use crate::membership::Session;

/// How many alerts each server keeps in etcd when the caller does not say.
pub const DEFAULT_KEEP: u64 = 1000;

/// clp's own alert module (the one of the alert log's health events).
pub const MODULE: &str = "clp";

/// The event id, in [`MODULE`], of the alert that says this server's alerts were not
/// copied into etcd ([`not_copied_message`]).
pub const NOT_COPIED_EVENT: u32 = 3;

/// The text of that alert: `new` more alerts not copied, `total` since clppm started.
pub fn not_copied_message(new: u64, total: u64) -> String {
    format!(
        "{new} alerts of this server were not copied into etcd ({total} since clppm started): the other servers do not show them; this server's alert log has them."
    )
}

/// Alerts waiting to be copied into etcd, at most.
const QUEUE: usize = 256;

/// How long one copy may take before it counts as dropped.
const PUT_TIMEOUT: Duration = Duration::from_secs(2);

/// The key of one alert: sequences zero-padded, so that keys sort as numbers.
fn alert_key(prefix: &str, sequence: u64) -> String {
    format!("{prefix}{sequence:020}")
}

/// Copies this server's alerts into etcd without ever blocking the caller.
pub struct AlertPublisher {
    queue: mpsc::Sender<AlertEvent>,
    dropped: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for AlertPublisher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl AlertPublisher {
    /// Starts the copier on the current runtime: `local`'s alerts, `keep` at most in etcd.
    pub fn start(
        cluster: &str,
        local: &str,
        keep: u64,
        sessions: watch::Receiver<Option<Session>>,
    ) -> AlertPublisher {
        let (queue, events) = mpsc::channel(QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let copier = Copier {
            prefix: keys::server_alerts(cluster, local),
            keep: keep.max(1),
            dropped: Arc::clone(&dropped),
            next: None,
        };
        AlertPublisher {
            queue,
            dropped,
            task: tokio::spawn(copier.run(events, sessions)),
        }
    }

    /// Queues `event` for etcd; when the queue is full it is dropped (and counted).
    pub fn publish(&self, event: &AlertEvent) {
        if self.queue.try_send(event.clone()).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The alerts not copied into etcd so far (queue full, etcd silent or refusing).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// The counter of dropped alerts, shared (for a status that outlives the publisher).
    pub fn dropped_counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.dropped)
    }
}

struct Copier {
    prefix: String,
    keep: u64,
    dropped: Arc<AtomicU64>,
    /// The next sequence, once read from etcd (per connection: another clppm of this
    /// server may have written meanwhile).
    next: Option<u64>,
}

impl Copier {
    async fn run(
        mut self,
        mut events: mpsc::Receiver<AlertEvent>,
        sessions: watch::Receiver<Option<Session>>,
    ) {
        let mut lease = None;
        while let Some(event) = events.recv().await {
            let session = sessions.borrow().clone();
            let Some(session) = session else {
                self.next = None;
                self.dropped.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            if lease != Some(session.lease) {
                lease = Some(session.lease);
                self.next = None;
            }
            let copied = tokio::time::timeout(PUT_TIMEOUT, self.copy(&session, &event)).await;
            if !matches!(copied, Ok(Ok(()))) {
                self.next = None;
                let count = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if count == 1 || count.is_power_of_two() {
                    tracing::warn!(
                        "{count} alerts not copied into etcd so far (the local alert log has them)"
                    );
                }
            }
        }
    }

    async fn copy(
        &mut self,
        session: &Session,
        event: &AlertEvent,
    ) -> Result<(), etcd_client::Error> {
        let mut client = session.client.clone();
        let sequence = match self.next {
            Some(next) => next,
            None => {
                let last = client
                    .get(
                        self.prefix.as_str(),
                        Some(
                            GetOptions::new()
                                .with_prefix()
                                .with_keys_only()
                                .with_sort(SortTarget::Key, SortOrder::Descend)
                                .with_limit(1),
                        ),
                    )
                    .await?;
                last.kvs()
                    .first()
                    .and_then(|kv| keys::server_of(&self.prefix, kv.key()))
                    .and_then(|sequence| sequence.parse::<u64>().ok())
                    .map_or(1, |sequence| sequence + 1)
            }
        };
        let value = serde_json::to_vec(event).unwrap_or_default();
        client
            .put(alert_key(&self.prefix, sequence), value, None)
            .await?;
        self.next = Some(sequence + 1);
        // Keep the newest `keep`: everything below sequence + 1 - keep goes.
        if sequence > self.keep {
            client
                .delete(
                    alert_key(&self.prefix, 0),
                    Some(
                        DeleteOptions::new()
                            .with_range(alert_key(&self.prefix, sequence + 1 - self.keep)),
                    ),
                )
                .await?;
        }
        Ok(())
    }
}

/// The other servers' newest alerts, mirrored from etcd while it answers.
pub struct AlertMirror {
    alerts: Arc<std::sync::Mutex<BTreeMap<String, VecDeque<AlertEvent>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for AlertMirror {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl AlertMirror {
    /// Starts mirroring every server's alerts but `local`'s, `keep` at most per server.
    pub fn start(
        cluster: &str,
        local: &str,
        keep: u64,
        sessions: watch::Receiver<Option<Session>>,
    ) -> AlertMirror {
        let alerts = Arc::new(std::sync::Mutex::new(BTreeMap::new()));
        let mirror = Mirror {
            prefix: keys::alerts_prefix(cluster),
            local: local.to_ascii_lowercase(),
            keep: usize::try_from(keep.max(1)).unwrap_or(usize::MAX),
            alerts: Arc::clone(&alerts),
        };
        AlertMirror {
            alerts,
            task: tokio::spawn(mirror.run(sessions)),
        }
    }

    /// The other servers' alerts known now (each server's oldest first).
    pub fn snapshot(&self) -> Vec<AlertEvent> {
        let alerts = self
            .alerts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        alerts.values().flatten().cloned().collect()
    }
}

struct Mirror {
    prefix: String,
    local: String,
    keep: usize,
    alerts: Arc<std::sync::Mutex<BTreeMap<String, VecDeque<AlertEvent>>>>,
}

impl Mirror {
    async fn run(self, sessions: watch::Receiver<Option<Session>>) {
        let this = Arc::new(self);
        crate::rounds::per_session(sessions, "mirroring the other servers' alerts", |session| {
            let this = Arc::clone(&this);
            async move { this.round(&session).await }
        })
        .await;
    }

    async fn round(&self, session: &Session) -> Result<(), etcd_client::Error> {
        let mut client = session.client.clone();
        let listed = client
            .get(self.prefix.as_str(), Some(GetOptions::new().with_prefix()))
            .await?;
        let revision = listed.header().map_or(0, |header| header.revision());
        {
            let mut fresh: BTreeMap<String, VecDeque<AlertEvent>> = BTreeMap::new();
            for kv in listed.kvs() {
                self.add(&mut fresh, kv.key(), kv.value());
            }
            *self
                .alerts
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = fresh;
        }
        let mut stream =
            crate::rounds::watch_prefix(&mut client, self.prefix.as_str(), revision + 1).await?;
        while let Some(message) = stream.message().await? {
            if message.canceled() {
                return Ok(());
            }
            let mut alerts = self
                .alerts
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            for event in message.events() {
                if event.event_type() != EventType::Put {
                    continue;
                }
                if let Some(kv) = event.kv() {
                    self.add(&mut alerts, kv.key(), kv.value());
                }
            }
        }
        Ok(())
    }

    /// Adds one alert key's event (not this server's), keeping the newest `keep`.
    fn add(&self, alerts: &mut BTreeMap<String, VecDeque<AlertEvent>>, key: &[u8], value: &[u8]) {
        let Some(rest) = keys::server_of(&self.prefix, key) else {
            return;
        };
        let Some((server, _sequence)) = rest.split_once('/') else {
            return;
        };
        if server == self.local {
            return;
        }
        let Ok(event) = serde_json::from_slice::<AlertEvent>(value) else {
            return;
        };
        let kept = alerts.entry(server.to_string()).or_default();
        kept.push_back(event);
        while kept.len() > self.keep {
            kept.pop_front();
        }
    }
}

/// The newest `limit` of `local` and `others` together, oldest first, ordered by time
/// (then server): what a reader of the alert log sees in an HA cluster.
pub fn merge(local: Vec<AlertEvent>, others: Vec<AlertEvent>, limit: usize) -> Vec<AlertEvent> {
    let mut all = local;
    all.extend(others);
    // A stable sort keeps each server's own order among equal times.
    all.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.server.cmp(&b.server)));
    let skip = all.len().saturating_sub(limit);
    all.into_iter().skip(skip).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clp_core::alert::Level;

    fn event(server: &str, time: &str, seq: u64) -> AlertEvent {
        AlertEvent {
            seq,
            time: time.into(),
            server: server.into(),
            module: "logcmd".into(),
            event_id: 1,
            level: Level::Info,
            message: format!("{server} {seq}"),
        }
    }

    #[test]
    fn every_servers_alerts_merge_by_time_and_the_newest_are_kept() {
        let local = vec![
            event("node1", "2026/12/03 10:00:00.000", 1),
            event("node1", "2026/12/03 10:00:02.000", 2),
        ];
        let others = vec![
            event("node2", "2026/12/03 10:00:01.000", 7),
            event("node2", "2026/12/03 10:00:03.000", 8),
        ];
        let merged = merge(local.clone(), others.clone(), 10);
        let order: Vec<&str> = merged.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(order, ["node1 1", "node2 7", "node1 2", "node2 8"]);
        let newest = merge(local, others, 2);
        let order: Vec<&str> = newest.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(order, ["node1 2", "node2 8"]);
    }

    #[tokio::test]
    async fn without_etcd_alerts_are_dropped_and_counted_never_waited_for() {
        let (_sessions, receiver) = watch::channel(None);
        let publisher = AlertPublisher::start("ha", "node1", 10, receiver);
        let started = std::time::Instant::now();
        for seq in 0..10_000 {
            publisher.publish(&event("node1", "2026/12/03 10:00:00.000", seq));
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "publishing waited: {:?}",
            started.elapsed()
        );
        // The queue's overflow at once, the rest as the copier finds no session.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while publisher.dropped() < 10_000 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(publisher.dropped(), 10_000);
    }

    #[test]
    fn keys_sort_as_sequences() {
        assert!(alert_key("p/", 9) < alert_key("p/", 10));
        assert_eq!(alert_key("p/", 42), "p/00000000000000000042");
    }
}
