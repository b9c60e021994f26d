//! Follows clppm for the live views: new alert log records and status changes, polled
//! every [`POLL`] while at least one browser listens, published to every listener at once.
//! With nobody listening it asks nothing.
//!
//! Each poll first asks for the newest record only; the records in between are fetched
//! only when it moved. A record is placed by its time, server and sequence number (its mark):
//! in an HA cluster clppm serves every server's records merged by time, whose sequence
//! numbers are each server's own. It also keeps the alert counts by level for
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
    last: Option<Mark>,
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
        let Some(newest) = self.alerts(1).await else {
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
        let newest_mark = newest.last().map(mark);
        let (from_store, last) = {
            let known = self.known();
            (known.from_store, known.last.clone())
        };
        if from_store && newest_mark == last {
            return;
        }
        if !from_store || newest_mark < last {
            let Some(events) = self.alerts(self.max_records).await else {
                return;
            };
            let mut known = self.known();
            known.counts = count(&events);
            known.last = events.last().map(mark);
            let skip = events.len().saturating_sub(SNAPSHOT);
            known.recent = events.into_iter().skip(skip).collect();
            known.from_store = true;
            let _ = self.feed.send(Feed::Reset);
            return;
        }
        let Some(mut events) = self.alerts(STEP.min(self.max_records)).await else {
            return;
        };
        // All of the step is new: there may be more.
        if events.len() >= STEP && events.first().map(mark) > last {
            let Some(all) = self.alerts(self.max_records).await else {
                return;
            };
            events = all;
        }
        let mut known = self.known();
        for event in events {
            let event_mark = Some(mark(&event));
            if event_mark <= known.last {
                continue;
            }
            known.last = event_mark;
            *known.counts.entry(event.level).or_default() += 1;
            known.recent.push_back(event.clone());
            if known.recent.len() > SNAPSHOT {
                known.recent.pop_front();
            }
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

fn count(events: &[AlertEvent]) -> BTreeMap<Level, u64> {
    let mut counts = BTreeMap::new();
    for event in events {
        *counts.entry(event.level).or_default() += 1;
    }
    counts
}
