//! The sled store: the only file that names sled.
//!
//! One process at a time may open it (sled takes an exclusive lock): `clppm` while it runs,
//! otherwise a command, briefly. Every write that the daemon acknowledges is flushed
//! before the call returns, so it survives `kill -9`.

use std::path::{Path, PathBuf};

use serde::{Serialize, de::DeserializeOwned};

use crate::alert::{AlertEvent, AlertFilter};

mod flusher;

use flusher::Durability;

/// Why the store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process (normally clppm) holds the store.
    #[error("the store {} is in use by another process (is clppm running? then ask it)", path.display())]
    Locked {
        /// The store folder.
        path: PathBuf,
    },
    /// sled failed.
    #[error("store {}: {message}", path.display())]
    Backend {
        /// The store folder.
        path: PathBuf,
        /// What sled said.
        message: String,
    },
    /// A record could not be decoded.
    #[error("store {}: record {key} in {tree} is corrupt: {message}", path.display())]
    Corrupt {
        /// The store folder.
        path: PathBuf,
        /// The tree.
        tree: &'static str,
        /// The key.
        key: String,
        /// The decoder's message.
        message: String,
    },
}

/// When a write must be on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durable {
    /// Before the call returns: the write survives a `kill -9` or a power cut right after.
    Now,
    /// With the next flush: the next write made durable [`Durable::Now`] (sled writes its
    /// log in order, so that flush covers every earlier write), or the background flush
    /// within half a second. For a write that a durable one follows within moments (the
    /// restart path: the old process forgotten, then the new one recorded).
    Soon,
}

/// Alert log records read with a size budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertPage {
    /// The records, oldest first.
    pub events: Vec<AlertEvent>,
    /// False when older matching records did not fit the budget.
    pub complete: bool,
}

const ALERTS: &str = "alerts";
const MONITORS: &str = "monitors";
const RESOURCES: &str = "resources";
const META: &str = "meta";
const LICENSES: &str = "licenses";
const TRIALS: &str = "trials";

/// sled's page cache: enough for the trees' upper nodes and a page of recent alerts.
const CACHE_BYTES: u64 = 1 << 20;

/// The store's trees (each a handle on the open sled database).
#[derive(Clone)]
struct Trees {
    alerts: sled::Tree,
    monitors: sled::Tree,
    resources: sled::Tree,
    meta: sled::Tree,
    licenses: sled::Tree,
    trials: sled::Tree,
}

/// The open store.
#[derive(Clone)]
pub struct Store {
    path: PathBuf,
    /// Dropped by hand in [`Store`]'s drop, with `durability`.
    trees: std::mem::ManuallyDrop<Trees>,
    /// Serializes alert appends (each takes the next sequence number).
    append_lock: std::sync::Arc<std::sync::Mutex<()>>,
    /// The writes taken (all clones share it) and their flushing: [`Store::writes`].
    /// Dropped by hand in [`Store`]'s drop, under the flusher's gate (`flusher.rs`).
    durability: std::mem::ManuallyDrop<std::sync::Arc<Durability>>,
}

/// How long the last handle's drop waits for sled's own threads to let go of the file.
const CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

impl Drop for Store {
    fn drop(&mut self) {
        // Waits out a flusher pass in progress: the flusher then holds no handle, so when
        // this is the last one the store closes here, now (and sled's lock with it).
        let gate = self.durability.gate();
        let _pass = gate
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let last = std::sync::Arc::strong_count(&self.durability) == 1;
        // SAFETY: both fields are dropped once, here, and not used after.
        unsafe {
            std::mem::ManuallyDrop::drop(&mut self.trees);
            std::mem::ManuallyDrop::drop(&mut self.durability);
        }
        if last {
            wait_until_unlocked(&self.path);
        }
    }
}

/// Waits (at most [`CLOSE_WAIT`]) until no handle of this process holds the store's lock
/// any more. sled writes a full I/O buffer from a thread of its own pool, which holds the
/// database (and its locked file) a moment after the write it waited for returned: a store
/// reopened right after its last handle closed was then found locked.
fn wait_until_unlocked(path: &Path) {
    let file = crate::paths::store_lock_file(path);
    let deadline = std::time::Instant::now() + CLOSE_WAIT;
    loop {
        let free = match std::fs::File::open(&file) {
            // Taken and released at once (the file's close releases it).
            Ok(opened) => opened.try_lock().is_ok(),
            // No file: nothing holds it.
            Err(_) => true,
        };
        if free || std::time::Instant::now() >= deadline {
            if !free {
                tracing::warn!(
                    "the store {} is still locked {CLOSE_WAIT:?} after it closed",
                    path.display()
                );
            }
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating) the store at `path`; fails at once when another process holds it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(path).map_err(|error| StoreError::Backend {
            path: path.to_path_buf(),
            message: format!("cannot create the folder: {error}"),
        })?;
        let db = sled::Config::new()
            .path(path)
            // Our own flusher syncs only when something was written (`flusher.rs`).
            .flush_every_ms(None)
            // The store is small and read seldom (alerts on request, states at start); the
            // default cache (1 GiB) would keep every page written since the start resident.
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(|error| classify(path, error))?;
        let tree = |name: &str| db.open_tree(name).map_err(|error| classify(path, error));
        Ok(Store {
            trees: std::mem::ManuallyDrop::new(Trees {
                alerts: tree(ALERTS)?,
                monitors: tree(MONITORS)?,
                resources: tree(RESOURCES)?,
                meta: tree(META)?,
                licenses: tree(LICENSES)?,
                trials: tree(TRIALS)?,
            }),
            append_lock: std::sync::Arc::new(std::sync::Mutex::new(())),
            durability: std::mem::ManuallyDrop::new(Durability::start(db).map_err(|error| {
                StoreError::Backend {
                    path: path.to_path_buf(),
                    message: format!("cannot start the store's flusher thread: {error}"),
                }
            })?),
            path: path.to_path_buf(),
        })
    }

    fn backend(&self, error: sled::Error) -> StoreError {
        classify(&self.path, error)
    }

    /// How many writes (inserts and removals) this store has taken since it was opened, by
    /// every clone: a check that changes nothing must not add one (the daemon's tests read it).
    pub fn writes(&self) -> u64 {
        self.durability.writes()
    }

    /// How many of the writes so far (counted as [`Store::writes`] counts them, the first
    /// ones) are known to be on disk; the others are within half a second.
    pub fn synced_writes(&self) -> u64 {
        self.durability.synced()
    }

    /// How many times the store's writes were synced to disk since it was opened.
    pub fn syncs(&self) -> u64 {
        self.durability.syncs()
    }

    fn wrote(&self) {
        self.durability.wrote();
        // What the write replaced is freed once no thread sees it, not with this thread's
        // next 64 writes (`flusher.rs`).
        flusher::release_garbage();
    }

    /// Makes every write so far durable (at no cost when nothing was written since the last
    /// flush).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.durability.flush().map_err(|e| self.backend(e))
    }

    fn put<T: Serialize>(
        &self,
        tree: &sled::Tree,
        key: &str,
        value: &T,
        durable: Durable,
    ) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(value).map_err(|error| StoreError::Backend {
            path: self.path.clone(),
            message: format!("cannot encode {key}: {error}"),
        })?;
        tree.insert(key.as_bytes(), bytes)
            .map_err(|e| self.backend(e))?;
        self.wrote();
        self.flush_if(durable)
    }

    fn flush_if(&self, durable: Durable) -> Result<(), StoreError> {
        match durable {
            Durable::Now => self.flush(),
            Durable::Soon => Ok(()),
        }
    }

    fn get<T: DeserializeOwned>(
        &self,
        tree: &sled::Tree,
        name: &'static str,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        let Some(bytes) = tree.get(key.as_bytes()).map_err(|e| self.backend(e))? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|error| StoreError::Corrupt {
                path: self.path.clone(),
                tree: name,
                key: key.to_string(),
                message: error.to_string(),
            })
    }

    fn remove(&self, tree: &sled::Tree, key: &str, durable: Durable) -> Result<(), StoreError> {
        tree.remove(key.as_bytes()).map_err(|e| self.backend(e))?;
        self.wrote();
        self.flush_if(durable)
    }

    /// Appends an alert, dropping the oldest beyond `max_records`; returns its sequence number.
    /// Durable at the next [`Store::flush`] (or the background flush within half a second).
    pub fn append_alert(&self, event: &AlertEvent, max_records: u64) -> Result<u64, StoreError> {
        // One append at a time: the sequence number is the last one plus one.
        let _append = self
            .append_lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let seq_of = |key: &sled::IVec| key.as_ref().try_into().ok().map(u64::from_be_bytes);
        let seq = self
            .trees
            .alerts
            .last()
            .map_err(|e| self.backend(e))?
            .and_then(|(key, _)| seq_of(&key))
            .map_or(1, |last| last + 1);
        let mut event = event.clone();
        event.seq = seq;
        let bytes = serde_json::to_vec(&event).map_err(|error| StoreError::Backend {
            path: self.path.clone(),
            message: format!("cannot encode an alert: {error}"),
        })?;
        self.trees
            .alerts
            .insert(seq.to_be_bytes(), bytes)
            .map_err(|e| self.backend(e))?;
        self.wrote();
        // The keys are consecutive numbers, so the count is last − first + 1 (sled's len()
        // walks the whole tree).
        while let Some((key, _)) = self.trees.alerts.first().map_err(|e| self.backend(e))? {
            match seq_of(&key) {
                Some(first) if seq - first + 1 > max_records => {
                    self.trees.alerts.remove(key).map_err(|e| self.backend(e))?;
                    self.wrote();
                }
                _ => break,
            }
        }
        // Not flushed here: an alert is in memory at once and on disk within the
        // background flush (≤ 0.5 s, `flusher.rs`); the daemon flushes before it answers a request, so
        // nothing it acknowledged is lost, and a restart never waits for a disk sync.
        Ok(seq)
    }

    /// The newest `limit` alerts, oldest first.
    pub fn alerts(&self, limit: usize) -> Result<Vec<AlertEvent>, StoreError> {
        Ok(self
            .alerts_matching(&AlertFilter::default(), limit, usize::MAX)?
            .events)
    }

    /// The newest records that pass `filter`, at most `limit` of them and at most `budget`
    /// bytes of JSON, oldest first; `complete` is false when the budget cut older matches.
    pub fn alerts_matching(
        &self,
        filter: &AlertFilter,
        limit: usize,
        budget: usize,
    ) -> Result<AlertPage, StoreError> {
        let mut events = Vec::new();
        let mut used = 0usize;
        let mut complete = true;
        for item in self.trees.alerts.iter().rev() {
            if events.len() >= limit {
                break;
            }
            let (key, bytes) = item.map_err(|e| self.backend(e))?;
            let event: AlertEvent =
                serde_json::from_slice(&bytes).map_err(|error| StoreError::Corrupt {
                    path: self.path.clone(),
                    tree: ALERTS,
                    key: format!("{key:?}"),
                    message: error.to_string(),
                })?;
            if !filter.matches(&event) {
                continue;
            }
            // The stored JSON is what the answer will carry (plus a comma).
            used = used.saturating_add(bytes.len() + 1);
            if used > budget {
                complete = false;
                break;
            }
            events.push(event);
        }
        events.reverse();
        Ok(AlertPage { events, complete })
    }

    /// Saves a monitor's recovery counters.
    pub fn put_monitor<T: Serialize>(
        &self,
        name: &str,
        value: &T,
        durable: Durable,
    ) -> Result<(), StoreError> {
        self.put(&self.trees.monitors, name, value, durable)
    }

    /// Loads a monitor's recovery counters.
    pub fn monitor<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, StoreError> {
        self.get(&self.trees.monitors, MONITORS, name)
    }

    /// Saves what the daemon knows of a running resource.
    pub fn put_resource<T: Serialize>(
        &self,
        name: &str,
        value: &T,
        durable: Durable,
    ) -> Result<(), StoreError> {
        self.put(&self.trees.resources, name, value, durable)
    }

    /// Loads what the daemon knew of a resource.
    pub fn resource<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, StoreError> {
        self.get(&self.trees.resources, RESOURCES, name)
    }

    /// Forgets a resource (it is stopped).
    pub fn remove_resource(&self, name: &str, durable: Durable) -> Result<(), StoreError> {
        self.remove(&self.trees.resources, name, durable)
    }

    /// Saves a daemon-wide fact.
    pub fn put_meta<T: Serialize>(&self, key: &str, value: &T) -> Result<(), StoreError> {
        self.put(&self.trees.meta, key, value, Durable::Now)
    }

    /// Loads a daemon-wide fact.
    pub fn meta<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        self.get(&self.trees.meta, META, key)
    }
}

impl Store {
    /// Saves a license under its serial number.
    pub fn put_license<T: Serialize>(&self, serial: &str, value: &T) -> Result<(), StoreError> {
        self.put(&self.trees.licenses, serial, value, Durable::Now)
    }

    /// Every registered license, by serial number.
    pub fn licenses<T: DeserializeOwned>(&self) -> Result<Vec<T>, StoreError> {
        let mut all = Vec::new();
        for item in self.trees.licenses.iter() {
            let (key, bytes) = item.map_err(|e| self.backend(e))?;
            all.push(
                serde_json::from_slice(&bytes).map_err(|error| StoreError::Corrupt {
                    path: self.path.clone(),
                    tree: LICENSES,
                    key: String::from_utf8_lossy(&key).into_owned(),
                    message: error.to_string(),
                })?,
            );
        }
        Ok(all)
    }

    /// Removes a license; whether it was there.
    pub fn remove_license(&self, serial: &str) -> Result<bool, StoreError> {
        let removed = self
            .trees
            .licenses
            .remove(serial.as_bytes())
            .map_err(|e| self.backend(e))?
            .is_some();
        self.wrote();
        self.flush()?;
        Ok(removed)
    }

    /// When the trial of a product was registered, if ever (kept after the trial is deleted:
    /// a trial is once per product per store).
    pub fn trial_registered<T: DeserializeOwned>(
        &self,
        product: &str,
    ) -> Result<Option<T>, StoreError> {
        self.get(&self.trees.trials, TRIALS, product)
    }

    /// Records that the trial of a product was registered.
    pub fn mark_trial<T: Serialize>(&self, product: &str, when: &T) -> Result<(), StoreError> {
        self.put(&self.trees.trials, product, when, Durable::Now)
    }
}

fn classify(path: &Path, error: sled::Error) -> StoreError {
    match &error {
        // sled wraps the flock failure in an error of its own kind: match its words too.
        sled::Error::Io(io)
            if io.kind() == std::io::ErrorKind::WouldBlock
                || io.to_string().contains("could not acquire lock") =>
        {
            StoreError::Locked {
                path: path.to_path_buf(),
            }
        }
        _ => StoreError::Backend {
            path: path.to_path_buf(),
            message: error.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Level;

    /// sled writes what a flush makes durable from a thread of its own pool, which still
    /// holds the database a moment after the flush returned: the last handle's drop waits
    /// for it, so the store reopens at once, every time.
    #[test]
    fn a_store_whose_last_handle_is_gone_opens_again_at_once() {
        let dir = tempfile::tempdir().expect("a temp dir");
        // Threads that keep the processors busy, so that sled's thread is often preempted
        // between the end of its write and its release of the database.
        let busy = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let spinners: Vec<_> = (0..std::thread::available_parallelism().map_or(2, usize::from))
            .map(|_| {
                let busy = std::sync::Arc::clone(&busy);
                std::thread::spawn(move || {
                    while busy.load(std::sync::atomic::Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        let reopened = (0..200).try_for_each(|round| {
            let store = Store::open(dir.path())
                .map_err(|error| format!("open {round} after a close: {error}"))?;
            store
                .put_meta("round", &round)
                .map_err(|error| format!("a durable write (a flush): {error}"))
        });
        busy.store(false, std::sync::atomic::Ordering::Relaxed);
        for spinner in spinners {
            let _ = spinner.join();
        }
        if let Err(error) = reopened {
            panic!("{error}");
        }
    }

    #[test]
    fn alerts_are_bounded_and_ordered() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for i in 0..5 {
            let event = AlertEvent::custom("s", "logcmd", 1, Level::Info, &format!("m{i}"));
            store.append_alert(&event, 3).unwrap();
        }
        let messages: Vec<String> = store
            .alerts(10)
            .unwrap()
            .into_iter()
            .map(|e| e.message)
            .collect();
        assert_eq!(messages, ["m2", "m3", "m4"]);
    }

    #[test]
    fn a_filtered_read_counts_only_matches_and_stops_at_its_budget() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let big = "x".repeat(1000);
        for i in 0..40 {
            let (module, level) = if i % 2 == 0 {
                ("logcmd", Level::Error)
            } else {
                ("rc", Level::Info)
            };
            let event = AlertEvent::custom("s", module, 1, level, &format!("m{i} {big}"));
            store.append_alert(&event, 1000).unwrap();
        }
        let logcmd = AlertFilter {
            module: Some("logcmd".into()),
            ..AlertFilter::default()
        };
        // The limit counts matches, newest first, whatever lies between them.
        let page = store.alerts_matching(&logcmd, 3, usize::MAX).unwrap();
        let heads: Vec<&str> = page.events.iter().map(|e| &e.message[..3]).collect();
        assert_eq!(heads, ["m34", "m36", "m38"]);
        assert!(page.complete);
        // A budget of about five records keeps the newest that fit and says so.
        let page = store.alerts_matching(&logcmd, 100, 5 * 1100).unwrap();
        assert!(!page.complete);
        assert!(
            (3..=5).contains(&page.events.len()),
            "{}",
            page.events.len()
        );
        assert_eq!(page.events.last().unwrap().message[..3], *"m38");
        let errors = AlertFilter {
            level: Some(Level::Warning),
            since: Some("1970/01/01".into()),
            ..AlertFilter::default()
        };
        let all = store.alerts_matching(&errors, 100, usize::MAX).unwrap();
        assert_eq!(all.events.len(), 20);
        assert!(all.events.iter().all(|e| e.module == "logcmd"));
        let future = AlertFilter {
            since: Some("2999/01/01".into()),
            ..AlertFilter::default()
        };
        assert!(
            store
                .alerts_matching(&future, 100, usize::MAX)
                .unwrap()
                .events
                .is_empty()
        );
    }

    #[test]
    fn a_second_open_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Store::open(dir.path()).unwrap();
        let second = Store::open(dir.path()).unwrap_err();
        assert!(matches!(second, StoreError::Locked { .. }), "{second}");
    }
}
