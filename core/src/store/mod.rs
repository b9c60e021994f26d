//! The store: one redb file, `var/store/clp.redb`; the only module that names redb.
//!
//! One process at a time may open it (redb locks the file): `clppm` while it runs,
//! otherwise a command, briefly. Every write that the daemon acknowledges is flushed
//! before the call returns, so it survives `kill -9`. redb runs no thread of its own: a
//! write that must be durable is a transaction on the caller's thread, one that may wait is
//! recorded in memory for the next transaction (`unwritten.rs`), and the one background
//! thread is ours (`flusher.rs`), asleep while nothing is written. A store that an earlier
//! clp wrote with sled is moved into redb at its first open (`from_sled.rs`).

use std::path::{Path, PathBuf};

use serde::{Serialize, de::DeserializeOwned};

use crate::alert::{AlertEvent, AlertFilter};

mod flusher;
mod from_sled;
mod unwritten;

use flusher::Durability;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};

/// Why the store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process (normally clppm) holds the store.
    #[error("the store {} is in use by another process (is clppm running? then ask it)", path.display())]
    Locked {
        /// The store folder.
        path: PathBuf,
    },
    /// The store's file could not be read or written.
    #[error("store {}: {message}", path.display())]
    Backend {
        /// The store folder.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// A record could not be decoded.
    #[error("store {}: record {key} in {tree} is corrupt: {message}", path.display())]
    Corrupt {
        /// The store folder.
        path: PathBuf,
        /// The table.
        tree: String,
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
    /// With the next flush: the next write made durable [`Durable::Now`] (which applies the
    /// writes waiting before its own), or the background flush within half a second. Held
    /// in memory until then (`unwritten.rs`); reads see it at once. For a write that a
    /// durable one follows within moments (the restart path: the old process forgotten,
    /// then the new one recorded).
    Soon,
    /// Within moments, by the flusher thread, without waiting for it: for a write whose sync
    /// must not hold up its caller nor compete with what it just started (the restart
    /// path's new process; a clppm killed before the sync still finds that process by its
    /// environment, see `processes.rs`). The flusher runs at a lower priority than the
    /// daemon's other threads.
    Shortly,
}

/// Alert log records read with a size budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertPage {
    /// The records, oldest first.
    pub events: Vec<AlertEvent>,
    /// False when older matching records did not fit the budget.
    pub complete: bool,
}

/// The alert log: sequence number → the record's JSON.
const ALERTS: TableDefinition<u64, &[u8]> = TableDefinition::new("alerts");
/// A monitor's recovery counters, by monitor name.
const MONITORS: TableDefinition<&str, &[u8]> = TableDefinition::new("monitors");
/// What the daemon knows of a running resource, by resource name.
const RESOURCES: TableDefinition<&str, &[u8]> = TableDefinition::new("resources");
/// Daemon-wide facts.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Registered licenses, by serial number.
const LICENSES: TableDefinition<&str, &[u8]> = TableDefinition::new("licenses");
/// When each product's trial was registered.
const TRIALS: TableDefinition<&str, &[u8]> = TableDefinition::new("trials");

/// redb's page cache: the store is small and read seldom (alerts on request, states at
/// start); redb's default (1 GiB) would keep every page read since the start resident.
const CACHE_BYTES: usize = 1 << 20;

/// The open store.
#[derive(Clone)]
pub struct Store {
    path: PathBuf,
    /// Serializes alert appends (each takes the next sequence number).
    append_lock: std::sync::Arc<std::sync::Mutex<()>>,
    /// The database, the writes taken (all clones share it) and their flushing:
    /// [`Store::writes`]. Dropped by hand in [`Store`]'s drop, under the flusher's gate
    /// (`flusher.rs`).
    durability: std::mem::ManuallyDrop<std::sync::Arc<Durability>>,
}

impl Drop for Store {
    fn drop(&mut self) {
        // Waits out a flusher pass in progress: the flusher then holds no handle, so when
        // this is the last one the store closes here, now (and redb's lock with it).
        let gate = self.durability.gate();
        let _pass = gate
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // SAFETY: dropped once, here, and not used after.
        unsafe {
            std::mem::ManuallyDrop::drop(&mut self.durability);
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating) the store in the folder `path`; fails at once when another process
    /// holds it. A store an earlier clp wrote with sled there is moved into redb first.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(path).map_err(|error| StoreError::Backend {
            path: path.to_path_buf(),
            message: format!("cannot create the folder: {error}"),
        })?;
        let file = crate::paths::store_file(path);
        if !file.exists() && crate::paths::sled_store_file(path).exists() {
            from_sled::move_into_redb(path)?;
        }
        let db = open_file(path, &file)?;
        Ok(Store {
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

    fn backend(&self, error: impl Into<redb::Error>) -> StoreError {
        classify(&self.path, error.into())
    }

    fn db(&self) -> &redb::Database {
        self.durability.db()
    }

    /// How many writes (inserts and removals) this store has taken since it was opened, by
    /// every clone: a check that changes nothing must not add one (the daemon's tests read it).
    /// Writes that wait in memory count when they are taken.
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

    /// Makes every write so far durable (at no cost when nothing was written since the last
    /// flush).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.durability.flush().map_err(|e| self.backend(e))
    }

    /// Runs `change` in one write transaction, committed with `durable`'s durability, and
    /// counts it as one write when `change` says it wrote.
    fn write<R>(
        &self,
        durable: Durable,
        change: impl FnOnce(&redb::WriteTransaction) -> Result<(R, bool), redb::Error>,
    ) -> Result<R, StoreError> {
        let _writer = self.durability.writer();
        let mut txn = self.db().begin_write().map_err(|e| self.backend(e))?;
        if durable != Durable::Now {
            txn.set_durability(redb::Durability::None)
                .map_err(|e| self.backend(e))?;
        }
        // Every write counted so far is committed or waits in memory, in the copy applied
        // here: the writes that waited go first, being older than this one.
        let before = self.durability.writes();
        let applied = self
            .durability
            .apply_unwritten(&txn)
            .map_err(|e| self.backend(e))?;
        let (result, wrote) = change(&txn).map_err(|e| self.backend(e))?;
        // Counted under the writer lock: a flush that starts now waits for this commit, and
        // no write committed after it is in the count.
        let counted = wrote.then(|| self.durability.wrote());
        txn.commit().map_err(|e| self.backend(e))?;
        #[cfg(test)]
        tests::committed(self);
        self.durability.written(&applied);
        if durable == Durable::Now && (counted.is_some() || !applied.is_empty()) {
            // The commit synced: the writes counted up to this one are on disk.
            self.durability.synced_up_to(counted.unwrap_or(before));
        }
        Ok(result)
    }

    fn put<T: Serialize>(
        &self,
        table: unwritten::Table,
        key: &str,
        value: &T,
        durable: Durable,
    ) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(value).map_err(|error| StoreError::Backend {
            path: self.path.clone(),
            message: format!("cannot encode {key}: {error}"),
        })?;
        if durable != Durable::Now {
            self.later(table, key, Some(bytes), durable);
            return Ok(());
        }
        self.write(durable, |txn| {
            txn.open_table(table)?.insert(key, bytes.as_slice())?;
            Ok(((), true))
        })
    }

    /// Takes a write that need not be durable now ([`Durable::Soon`],
    /// [`Durable::Shortly`]) as a record in memory for the next transaction (`unwritten.rs`).
    fn later(&self, table: unwritten::Table, key: &str, value: Option<Vec<u8>>, durable: Durable) {
        self.durability.write_later(table, key, value);
        if durable == Durable::Shortly {
            self.durability.flush_shortly();
        }
    }

    fn get<T: DeserializeOwned>(
        &self,
        table: unwritten::Table,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        if let Some(latest) = self.durability.latest_unwritten(table, key) {
            return match latest {
                Some(bytes) => self.decode(table, key, &bytes).map(Some),
                None => Ok(None),
            };
        }
        let read = self.db().begin_read().map_err(|e| self.backend(e))?;
        let Some(records) = readable(&read, table).map_err(|e| self.backend(e))? else {
            return Ok(None);
        };
        let Some(bytes) = records.get(key).map_err(|e| self.backend(e))? else {
            return Ok(None);
        };
        self.decode(table, key, bytes.value()).map(Some)
    }

    fn decode<T: DeserializeOwned>(
        &self,
        table: unwritten::Table,
        key: &str,
        bytes: &[u8],
    ) -> Result<T, StoreError> {
        serde_json::from_slice(bytes).map_err(|error| StoreError::Corrupt {
            path: self.path.clone(),
            tree: redb::TableHandle::name(&table).to_string(),
            key: key.to_string(),
            message: error.to_string(),
        })
    }

    /// Removes `key`; whether it was there (a removal that waits cannot say: true, and
    /// counted as a write).
    fn remove(
        &self,
        table: unwritten::Table,
        key: &str,
        durable: Durable,
    ) -> Result<bool, StoreError> {
        if durable != Durable::Now {
            self.later(table, key, None, durable);
            return Ok(true);
        }
        self.write(durable, |txn| {
            let removed = txn.open_table(table)?.remove(key)?.is_some();
            Ok((removed, removed))
        })
    }

    /// Appends an alert, dropping the oldest beyond `max_records`; returns its sequence number.
    /// Durable at the next [`Store::flush`] (or the background flush within half a second).
    pub fn append_alert(&self, event: &AlertEvent, max_records: u64) -> Result<u64, StoreError> {
        // One append at a time: the sequence number is the last one plus one.
        let _append = self
            .append_lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let path = &self.path;
        // Not flushed here: an alert is in memory at once and on disk within the
        // background flush (≤ 0.5 s, `flusher.rs`); the daemon flushes before it answers a
        // request, so nothing it acknowledged is lost, and a restart never waits for a sync.
        self.write(Durable::Soon, |txn| {
            let mut alerts = txn.open_table(ALERTS)?;
            let seq = alerts.last()?.map_or(1, |(key, _)| key.value() + 1);
            let mut event = event.clone();
            event.seq = seq;
            let bytes = serde_json::to_vec(&event).map_err(|error| {
                redb::Error::Io(std::io::Error::other(format!(
                    "cannot encode an alert for {}: {error}",
                    path.display()
                )))
            })?;
            alerts.insert(seq, bytes.as_slice())?;
            // The keys are consecutive numbers, so the count is last − first + 1.
            let keep_from = (seq + 1).saturating_sub(max_records.max(1));
            loop {
                let first = alerts.first()?.map(|(key, _)| key.value());
                match first {
                    Some(first) if first < keep_from => {
                        alerts.remove(first)?;
                    }
                    _ => break,
                }
            }
            Ok((seq, true))
        })
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
        let read = self.db().begin_read().map_err(|e| self.backend(e))?;
        let Some(alerts) = readable(&read, ALERTS).map_err(|e| self.backend(e))? else {
            return Ok(AlertPage { events, complete });
        };
        for item in alerts.iter().map_err(|e| self.backend(e))?.rev() {
            if events.len() >= limit {
                break;
            }
            let (key, bytes) = item.map_err(|e| self.backend(e))?;
            let bytes = bytes.value();
            let event: AlertEvent =
                serde_json::from_slice(bytes).map_err(|error| StoreError::Corrupt {
                    path: self.path.clone(),
                    tree: "alerts".to_string(),
                    key: key.value().to_string(),
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
        self.put(MONITORS, name, value, durable)
    }

    /// Loads a monitor's recovery counters.
    pub fn monitor<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, StoreError> {
        self.get(MONITORS, name)
    }

    /// Saves what the daemon knows of a running resource.
    pub fn put_resource<T: Serialize>(
        &self,
        name: &str,
        value: &T,
        durable: Durable,
    ) -> Result<(), StoreError> {
        self.put(RESOURCES, name, value, durable)
    }

    /// Loads what the daemon knew of a resource.
    pub fn resource<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, StoreError> {
        self.get(RESOURCES, name)
    }

    /// Forgets a resource (it is stopped).
    pub fn remove_resource(&self, name: &str, durable: Durable) -> Result<(), StoreError> {
        self.remove(RESOURCES, name, durable).map(drop)
    }

    /// Saves a daemon-wide fact.
    pub fn put_meta<T: Serialize>(&self, key: &str, value: &T) -> Result<(), StoreError> {
        self.put(META, key, value, Durable::Now)
    }

    /// Loads a daemon-wide fact.
    pub fn meta<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        self.get(META, key)
    }
}

impl Store {
    /// Saves a license under its serial number.
    pub fn put_license<T: Serialize>(&self, serial: &str, value: &T) -> Result<(), StoreError> {
        self.put(LICENSES, serial, value, Durable::Now)
    }

    /// Every registered license, by serial number.
    pub fn licenses<T: DeserializeOwned>(&self) -> Result<Vec<T>, StoreError> {
        let read = self.db().begin_read().map_err(|e| self.backend(e))?;
        let mut all = Vec::new();
        let Some(licenses) = readable(&read, LICENSES).map_err(|e| self.backend(e))? else {
            return Ok(all);
        };
        for item in licenses.iter().map_err(|e| self.backend(e))? {
            let (key, bytes) = item.map_err(|e| self.backend(e))?;
            all.push(serde_json::from_slice(bytes.value()).map_err(|error| {
                StoreError::Corrupt {
                    path: self.path.clone(),
                    tree: "licenses".to_string(),
                    key: key.value().to_string(),
                    message: error.to_string(),
                }
            })?);
        }
        Ok(all)
    }

    /// Removes a license; whether it was there.
    pub fn remove_license(&self, serial: &str) -> Result<bool, StoreError> {
        self.remove(LICENSES, serial, Durable::Now)
    }

    /// When the trial of a product was registered, if ever (kept after the trial is deleted:
    /// a trial is once per product per store).
    pub fn trial_registered<T: DeserializeOwned>(
        &self,
        product: &str,
    ) -> Result<Option<T>, StoreError> {
        self.get(TRIALS, product)
    }

    /// Records that the trial of a product was registered.
    pub fn mark_trial<T: Serialize>(&self, product: &str, when: &T) -> Result<(), StoreError> {
        self.put(TRIALS, product, when, Durable::Now)
    }
}

/// Opens (creating) the redb file `file` of the store folder `dir`.
fn open_file(dir: &Path, file: &Path) -> Result<redb::Database, StoreError> {
    redb::Builder::new()
        .set_cache_size(CACHE_BYTES)
        // Every page's checksum at each open: a file damaged on disk is refused with an
        // error that names it, where redb may otherwise panic on what it reads. The store
        // is small (its alerts are bounded), so the check costs little.
        .set_check_integrity_on_open(true)
        .create(file)
        .map_err(|error| classify(dir, error.into()))
}

/// `table` in the read transaction `read`, or None when nothing was ever written to it (a
/// write creates it).
fn readable<K: redb::Key + 'static, V: redb::Value + 'static>(
    read: &redb::ReadTransaction,
    table: TableDefinition<K, V>,
) -> Result<Option<redb::ReadOnlyTable<K, V>>, redb::Error> {
    match read.open_table(table) {
        Ok(opened) => Ok(Some(opened)),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

fn classify(path: &Path, error: redb::Error) -> StoreError {
    match error {
        redb::Error::DatabaseAlreadyOpen => StoreError::Locked {
            path: path.to_path_buf(),
        },
        redb::Error::Corrupted(message) => StoreError::Backend {
            path: path.to_path_buf(),
            message: format!(
                "the file {} is damaged ({message}); with clppm stopped, move it aside \
                 and start again: a new store begins empty (register the licenses again \
                 with clplcncs; the recovery counters start at 0)",
                crate::paths::store_file(path).display()
            ),
        },
        other => StoreError::Backend {
            path: path.to_path_buf(),
            message: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Level;

    /// The last handle's drop closes the store (and frees its lock) before it returns, with
    /// the flusher's thread busy or not, so the store reopens at once, every time (sled,
    /// before, held it from a thread of its own a moment longer).
    #[test]
    fn a_store_whose_last_handle_is_gone_opens_again_at_once() {
        let dir = tempfile::tempdir().expect("a temp dir");
        // Threads that keep the processors busy, so that the flusher's thread is often
        // preempted in the middle of a pass.
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

    /// A store whose next committed write says so, then waits 200 ms before it forgets
    /// the waiting changes it applied (the window in which redb lets the next
    /// transaction in).
    static PAUSED: std::sync::Mutex<Option<(usize, std::sync::mpsc::Sender<()>)>> =
        std::sync::Mutex::new(None);

    /// Called by a write between its commit and its bookkeeping.
    pub(super) fn committed(store: &Store) {
        let armed = PAUSED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take_if(|(paused, _)| *paused == std::ptr::from_ref(store) as usize);
        if let Some((_, told)) = armed {
            let _ = told.send(());
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }

    /// A flush that comes while a durable write of a record has committed but not yet
    /// forgotten the waiting change of that record it applied does not apply that change
    /// again over the newer value: the store's writer lock (`Durability::writer`) keeps
    /// it out until the write is done (redb alone lets it in at the commit).
    #[test]
    fn a_flush_never_puts_back_a_value_a_durable_write_replaced() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let store = std::sync::Arc::new(Store::open(dir.path()).expect("the store"));
        store
            .put_resource("r", &"older", Durable::Soon)
            .expect("a write that waits");
        let (told, committed) = std::sync::mpsc::channel();
        *PAUSED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((std::ptr::from_ref(&*store) as usize, told));
        let flushing = {
            let store = std::sync::Arc::clone(&store);
            std::thread::spawn(move || {
                // No message (the hook did not fire): the test's own check says so.
                if committed
                    .recv_timeout(std::time::Duration::from_secs(30))
                    .is_ok()
                {
                    store.flush().expect("a flush");
                }
            })
        };
        let wrote = store.put_resource("r", &"newer", Durable::Now);
        let unfired = PAUSED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        wrote.expect("a durable write");
        assert!(unfired.is_none(), "the durable write did not pass the hook");
        flushing.join().expect("the flushing thread");
        assert_eq!(
            store.resource::<String>("r").expect("a read").as_deref(),
            Some("newer")
        );
        drop(store);
        let reopened = Store::open(dir.path()).expect("the store again");
        assert_eq!(
            reopened.resource::<String>("r").expect("a read").as_deref(),
            Some("newer")
        );
    }

    /// Writes that may wait are read at once, counted, and on disk after the flush, the
    /// store's close, or a durable write of any record; a later write of a record wins
    /// whichever way each went.
    #[test]
    fn writes_that_wait_are_read_at_once_and_reach_the_disk_in_order() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let store = Store::open(dir.path()).expect("the store");
        let before = store.writes();
        store
            .put_resource("r", &1, Durable::Soon)
            .expect("a write that waits");
        store
            .put_monitor("m", &"counters", Durable::Shortly)
            .expect("a write synced shortly");
        store
            .remove_resource("gone", Durable::Soon)
            .expect("a removal");
        assert_eq!(store.writes(), before + 3, "each counted as a write");
        assert!(store.synced_writes() < store.writes());
        assert_eq!(store.resource::<i32>("r").expect("a read"), Some(1));
        assert_eq!(
            store.monitor::<String>("m").expect("a read"),
            Some("counters".to_string())
        );
        // A durable write of another record takes them to the disk with it.
        store.put_meta("fact", &true).expect("a durable write");
        assert_eq!(store.synced_writes(), store.writes());
        // Later writes win, whether they waited or not.
        store.put_resource("r", &2, Durable::Now).expect("durable");
        store.put_resource("r", &3, Durable::Soon).expect("waits");
        store.put_resource("q", &1, Durable::Soon).expect("waits");
        store.remove_resource("q", Durable::Soon).expect("waits");
        assert_eq!(store.resource::<i32>("r").expect("a read"), Some(3));
        assert_eq!(store.resource::<i32>("q").expect("a read"), None);
        store.flush().expect("a flush");
        assert_eq!(store.synced_writes(), store.writes());
        store.put_resource("r", &4, Durable::Soon).expect("waits");
        // The close writes what waits.
        drop(store);
        let store = Store::open(dir.path()).expect("the store again");
        assert_eq!(store.resource::<i32>("r").expect("a read"), Some(4));
        assert_eq!(store.resource::<i32>("q").expect("a read"), None);
        assert_eq!(
            store.monitor::<String>("m").expect("a read"),
            Some("counters".to_string())
        );
        assert_eq!(store.meta::<bool>("fact").expect("a read"), Some(true));
    }

    /// An alert's append (a transaction without a sync, on the alert writer's thread) takes
    /// the writes that waited along; the background flush then syncs them all.
    #[test]
    fn an_alert_append_takes_the_writes_that_waited() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let store = Store::open(dir.path()).expect("the store");
        store.put_resource("r", &7, Durable::Soon).expect("waits");
        let event = AlertEvent::custom("s", "logcmd", 1, Level::Info, "m");
        store.append_alert(&event, 10).expect("an append");
        assert_eq!(
            store.durability.latest_unwritten(RESOURCES, "r"),
            None,
            "the append's transaction applied it"
        );
        assert_eq!(store.resource::<i32>("r").expect("a read"), Some(7));
        let deadline = std::time::Instant::now() + flusher::FLUSH_EVERY * 6;
        while store.synced_writes() < store.writes() {
            assert!(std::time::Instant::now() < deadline, "no background flush");
            std::thread::sleep(std::time::Duration::from_millis(20));
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

    /// What a long-running daemon does to its store: alerts come and the oldest go, counters
    /// are rewritten, flushes come now and then. The file's freed pages are used again, so
    /// it stays near the size of what it holds (sled's grew with everything ever written).
    #[test]
    fn a_store_rewritten_many_times_stays_the_size_of_what_it_holds() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let detail = "x".repeat(200);
        let size = || {
            std::fs::metadata(crate::paths::store_file(dir.path()))
                .unwrap()
                .len()
        };
        let mut after_first_round = 0;
        for round in 0..6 {
            for i in 0..1_000 {
                let event = AlertEvent::custom(
                    "s",
                    "rm",
                    9,
                    Level::Error,
                    &format!("{round} {i} {detail}"),
                );
                store.append_alert(&event, 500).unwrap();
                store
                    .put_monitor(&format!("m{}", i % 100), &(round, i), Durable::Soon)
                    .unwrap();
                if i % 100 == 0 {
                    store.flush().unwrap();
                }
            }
            store.flush().unwrap();
            if round == 0 {
                after_first_round = size();
            }
        }
        assert_eq!(store.alerts(usize::MAX).unwrap().len(), 500);
        let last = size();
        assert!(
            last <= after_first_round * 2,
            "the file grew from {after_first_round} to {last} bytes over five more rounds"
        );
    }

    /// A store file damaged on disk (here: a run of its bytes overwritten) is refused with
    /// an error that names the store, never a panic, and never taken for an empty store.
    #[test]
    fn a_damaged_store_file_is_refused_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for i in 0..300 {
            let event = AlertEvent::custom("s", "rm", 9, Level::Error, &format!("alert {i}"));
            store.append_alert(&event, 1_000).unwrap();
        }
        store.put_license("SERIAL", &"a license").unwrap();
        drop(store);
        let file = crate::paths::store_file(dir.path());
        let mut bytes = std::fs::read(&file).unwrap();
        let middle = bytes.len() / 2;
        for byte in &mut bytes[middle..middle + 4096] {
            *byte ^= 0x5a;
        }
        std::fs::write(&file, bytes).unwrap();
        let opened = std::panic::catch_unwind(|| Store::open(dir.path()));
        let Ok(opened) = opened else {
            panic!("opening a damaged store panicked");
        };
        match opened {
            Err(error) => assert!(
                error
                    .to_string()
                    .contains(&dir.path().display().to_string())
                    && error.to_string().contains("move it aside"),
                "{error}"
            ),
            // The damage fell on pages no tree uses: then every record is still there.
            Ok(store) => {
                assert_eq!(store.alerts(1_000).unwrap().len(), 300);
                assert_eq!(store.licenses::<String>().unwrap().len(), 1);
            }
        }
    }

    #[test]
    fn a_second_open_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Store::open(dir.path()).unwrap();
        let second = Store::open(dir.path()).unwrap_err();
        assert!(matches!(second, StoreError::Locked { .. }), "{second}");
    }
}
