//! Follows clppm for the live views: new alert log records and status changes, polled
//! every [`POLL`] while at least one browser listens, published to every listener at once.
//! With nobody listening it asks nothing.
//!
//! Each poll asks for the newest `STEP` records, and for all of them when even the oldest
//! of those is new. A record is new when its sequence number is above the highest seen of
//! its server: in an HA cluster clppm serves every server's records merged by time, whose
//! sequence numbers are each server's own, and another server's record may reach this one
//! late (its mirror follows etcd), after newer records of this server were shown; it is
//! still shown then, in its place by time. It also keeps the alert counts by level for
//! `/metrics`: the records kept when it first reached clppm, plus every one since.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, broadcast};

use clp_core::alert::{AlertEvent, Level};
use clp_core::ipc::{Request, Response};
use clp_core::paths::Paths;

/// How often the daemon is asked while someone listens.
pub const POLL: Duration = Duration::from_millis(500);
/// How many records a new listener gets first.
pub const SNAPSHOT: usize = 300;

/// What listeners receive.
#[derive(Debug, Clone)]
pub enum Feed {
    /// A new alert log record.
    Alert(Arc<AlertEvent>),
    /// The records were replaced (clppm was reached for the first time, or its store was
    /// replaced): take a new snapshot.
    Reset,
    /// The status changed (the JSON of `GET /api/v1/cluster`).
    Status(Arc<String>),
}

#[derive(Debug, Default)]
struct Known {
    recent: VecDeque<AlertEvent>,
    /// The newest record seen (time, server, sequence number).
    last: Option<Mark>,
    /// The highest sequence number seen of each server.
    seen: BTreeMap<String, u64>,
    /// The records come from the store (not from the text log, while clppm is down).
    from_store: bool,
    counts: BTreeMap<Level, u64>,
    status: Option<Arc<String>>,
}

/// Where a record stands in the merged alert log: time, server, sequence number.
type Mark = (String, String, u64);

fn mark(event: &AlertEvent) -> Mark {
    (event.time.clone(), event.server.clone(), event.seq)
}

/// How many records a poll fetches first when the newest moved.
const STEP: usize = 64;

/// The shared follower.
#[derive(Debug)]
pub struct Follower {
    paths: Paths,
    language: String,
    max_records: usize,
    known: Mutex<Known>,
    /// Serialises catch-ups (the poll loop and `/metrics`).
    catching_up: tokio::sync::Mutex<()>,
    feed: broadcast::Sender<Feed>,
    listener_joined: Notify,
}

/// What a new listener starts from.
#[derive(Debug)]
pub struct Subscription {
    /// The newest records, oldest first.
    pub recent: Vec<AlertEvent>,
    /// The last status seen, if any.
    pub status: Option<Arc<String>>,
    /// What follows.
    pub feed: broadcast::Receiver<Feed>,
}

impl Follower {
    /// A follower of the daemon at `paths`; `max_records` is the store's bound
    /// (`[alert] max_records`), the most a first catch-up fetches; `language` goes into
    /// the status it publishes.
    pub fn new(paths: Paths, max_records: usize, language: String) -> Arc<Follower> {
        Arc::new(Follower {
            paths,
            language,
            max_records: max_records.max(1),
            known: Mutex::new(Known::default()),
            catching_up: tokio::sync::Mutex::new(()),
            feed: broadcast::channel(1024).0,
            listener_joined: Notify::new(),
        })
    }

    fn known(&self) -> std::sync::MutexGuard<'_, Known> {
        self.known
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Joins the listeners: the snapshot and the feed, taken together so nothing is lost
    /// or seen twice between them.
    pub fn subscribe(&self) -> Subscription {
        let known = self.known();
        let subscription = Subscription {
            recent: known.recent.iter().cloned().collect(),
            status: known.status.clone(),
            feed: self.feed.subscribe(),
        };
        drop(known);
        self.listener_joined.notify_one();
        subscription
    }

    /// The newest records known, oldest first.
    pub fn recent(&self, limit: usize) -> Vec<AlertEvent> {
        let known = self.known();
        let skip = known.recent.len().saturating_sub(limit);
        known.recent.iter().skip(skip).cloned().collect()
    }

    /// The alert counts by level.
    pub fn counts(&self) -> BTreeMap<Level, u64> {
        self.known().counts.clone()
    }

    /// Polls while someone listens; runs until the process ends.
    pub async fn run(self: Arc<Self>) {
        loop {
            if self.feed.receiver_count() == 0 {
                self.listener_joined.notified().await;
                continue;
            }
            self.catch_up().await;
            self.poll_status().await;
            tokio::time::sleep(POLL).await;
        }
    }

    async fn ask(&self, request: Request) -> Option<Response> {
        super::link::call(
            &self.paths,
            "WebManager".into(),
            request,
            Some(super::link::READ_TIMEOUT),
        )
        .await
        .ok()
    }

    async fn alerts(&self, limit: usize) -> Option<Vec<AlertEvent>> {
        let request = Request::Alerts {
            limit,
            filter: Default::default(),
        };
        match self.ask(request).await? {
            Response::Alerts { events, .. } => Some(events),
            _ => None,
        }
    }

    /// Brings the known records up to date with the daemon's (or, while it is down and
    /// nothing is known yet, with the text alert log).
    pub async fn catch_up(&self) {
        let _serial = self.catching_up.lock().await;
        let Some(mut events) = self.alerts(STEP.min(self.max_records)).await else {
            let mut known = self.known();
            if !known.from_store && known.recent.is_empty() {
                let events = clp_core::alert::read_text_log(&self.paths.alert_log(), SNAPSHOT);
                if !events.is_empty() {
                    known.counts = count(&events);
                    known.recent = events.into();
                    let _ = self.feed.send(Feed::Reset);
                }
            }
            return;
        };
        let (from_store, last) = {
            let known = self.known();
            (known.from_store, known.last.clone())
        };
        let newest_mark = events.last().map(mark);
        if !from_store || newest_mark < last {
            let Some(events) = self.alerts(self.max_records).await else {
                return;
            };
            self.known().replace(events);
            let _ = self.feed.send(Feed::Reset);
            return;
        }
        // All of the step is new: there may be more.
        if events.len() >= STEP && self.known().all_new(&events) {
            let Some(all) = self.alerts(self.max_records).await else {
                return;
            };
            events = all;
        }
        let new = self.known().take(events);
        for event in new {
            let _ = self.feed.send(Feed::Alert(Arc::new(event)));
        }
    }

    async fn poll_status(&self) {
        let view = super::link::cluster_view(&self.paths, &self.language).await;
        let Ok(json) = serde_json::to_string(&view) else {
            return;
        };
        let mut known = self.known();
        if known.status.as_deref() != Some(&json) {
            let json = Arc::new(json);
            known.status = Some(Arc::clone(&json));
            let _ = self.feed.send(Feed::Status(json));
        }
    }
}

impl Known {
    /// Starts again from `events` (the daemon's whole log, oldest first).
    fn replace(&mut self, events: Vec<AlertEvent>) {
        self.counts = count(&events);
        self.last = events.last().map(mark);
        self.seen.clear();
        for event in &events {
            self.note_seen(event);
        }
        let skip = events.len().saturating_sub(SNAPSHOT);
        self.recent = events.into_iter().skip(skip).collect();
        self.from_store = true;
    }

    /// Whether no record of `events` was seen before.
    fn all_new(&self, events: &[AlertEvent]) -> bool {
        events.iter().all(|event| self.is_new(event))
    }

    fn is_new(&self, event: &AlertEvent) -> bool {
        self.seen
            .get(&event.server)
            .is_none_or(|&highest| event.seq > highest)
    }

    fn note_seen(&mut self, event: &AlertEvent) {
        let highest = self.seen.entry(event.server.clone()).or_insert(0);
        *highest = (*highest).max(event.seq);
    }

    /// Takes the records of `events` not seen before: counted, kept in their place by time
    /// among the recent ones; returned in the order they came, to be published.
    fn take(&mut self, events: Vec<AlertEvent>) -> Vec<AlertEvent> {
        let mut new = Vec::new();
        for event in events {
            if !self.is_new(&event) {
                continue;
            }
            self.note_seen(&event);
            let event_mark = mark(&event);
            if self.last.as_ref().is_none_or(|last| &event_mark > last) {
                self.last = Some(event_mark.clone());
            }
            *self.counts.entry(event.level).or_default() += 1;
            let at = self
                .recent
                .iter()
                .rposition(|kept| mark(kept) < event_mark)
                .map_or(0, |index| index + 1);
            self.recent.insert(at, event.clone());
            if self.recent.len() > SNAPSHOT {
                self.recent.pop_front();
            }
            new.push(event);
        }
        new
    }
}

fn count(events: &[AlertEvent]) -> BTreeMap<Level, u64> {
    let mut counts = BTreeMap::new();
    for event in events {
        *counts.entry(event.level).or_default() += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(server: &str, time: &str, seq: u64) -> AlertEvent {
        AlertEvent {
            seq,
            time: format!("2026/12/03 10:00:{time}"),
            server: server.into(),
            module: "logcmd".into(),
            event_id: 1,
            level: Level::Info,
            message: format!("{server} {seq}"),
        }
    }

    fn names(events: &[AlertEvent]) -> Vec<String> {
        events.iter().map(|e| e.message.clone()).collect()
    }

    #[test]
    fn another_servers_record_that_arrives_late_is_still_taken_in_its_place_by_time() {
        let mut known = Known::default();
        known.replace(vec![
            event("node1", "01.000", 1),
            event("node2", "02.000", 7),
        ]);
        // node1 logs at :04; node2's record of :03 reaches this server's mirror after it.
        let first = known.take(vec![
            event("node1", "01.000", 1),
            event("node2", "02.000", 7),
            event("node1", "04.000", 2),
        ]);
        assert_eq!(names(&first), ["node1 2"]);
        let late = known.take(vec![
            event("node1", "01.000", 1),
            event("node2", "02.000", 7),
            event("node2", "03.000", 8),
            event("node1", "04.000", 2),
        ]);
        assert_eq!(names(&late), ["node2 8"], "the late record is published");
        assert_eq!(
            names(&known.recent.iter().cloned().collect::<Vec<_>>()),
            ["node1 1", "node2 7", "node2 8", "node1 2"],
            "kept in its place by time"
        );
        assert_eq!(known.counts.get(&Level::Info), Some(&4));
        assert_eq!(known.last, Some(mark(&event("node1", "04.000", 2))));
        // Seen records are not taken twice.
        assert!(known.take(vec![event("node2", "03.000", 8)]).is_empty());
    }

    #[test]
    fn a_step_whose_oldest_record_is_new_asks_for_more() {
        let mut known = Known::default();
        known.replace(vec![event("node1", "01.000", 1)]);
        assert!(known.all_new(&[event("node1", "02.000", 2), event("node2", "01.500", 1)]));
        assert!(!known.all_new(&[event("node1", "01.000", 1), event("node1", "02.000", 2)]));
    }
}
