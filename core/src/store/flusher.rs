//! Durability of the store's writes: flushed within [`FLUSH_EVERY`] when there are any, and
//! never when there are none.
//!
//! A write that may wait commits without a sync (an alert: redb's `Durability::None`,
//! visible at once, on disk with the next durable commit), or waits in memory for the next
//! transaction (a counter, a resource's state: `unwritten.rs`). This thread
//! wakes as often while such writes come, compares the count of writes with the count at the
//! last flush, and makes them durable only when they differ (an empty commit with
//! `Durability::Immediate`, one sync). Once nothing was written for [`QUIET_PASSES`] passes it
//! sleeps until the next write wakes it: an idle daemon's store costs no wake-up at all. A
//! write that must be durable before its caller goes on still calls [`Durability::flush`]
//! itself. The last handle of a store flushes what is left when it is dropped.
//!
//! The flusher holds the store open only inside a pass, under the store's [`Gate`]; the
//! handle that closes the store takes the gate first, so it waits out a pass in progress
//! and the store (and redb's lock of its file) closes in that handle's drop, never a moment
//! later in the flusher: a command that reopens the store right after would find it locked.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use super::unwritten::{self, Change, Table, Unwritten};

/// How long a write may wait for the background flush.
pub(super) const FLUSH_EVERY: Duration = Duration::from_millis(500);

/// Passes without a write before the flusher sleeps until the next one: a burst of writes
/// with a short pause in it keeps the thread awake instead of parking and waking it again.
pub(super) const QUIET_PASSES: u32 = 2;

/// Taken by the flusher for each pass and by each store handle as it drops (see the module).
pub(super) type Gate = Arc<Mutex<()>>;

/// The writes of one open store and how many of them are on disk.
pub(super) struct Durability {
    db: redb::Database,
    /// Writes taken since the store was opened.
    writes: AtomicU64,
    /// The count of writes that the last successful flush covered.
    flushed: AtomicU64,
    /// Flushes that reached redb (each a sync of the store's file).
    syncs: AtomicU64,
    /// The background flusher, woken to end when the store is dropped.
    flusher: std::sync::OnceLock<std::thread::Thread>,
    /// Shared with the flusher: see [`Gate`].
    gate: Gate,
    /// Set while the flusher sleeps until a write wakes it ([`QUIET_PASSES`]).
    asleep: AtomicBool,
    /// Set by a [`Durable::Shortly`](super::Durable::Shortly) write: the next pass comes now,
    /// not a period later. Shared with the flusher apart from the store, which it may hold
    /// only inside a pass (see the module).
    urgent: Arc<AtomicBool>,
    /// Writes that may wait, not yet in redb (`unwritten.rs`).
    unwritten: Mutex<Unwritten>,
    /// Held by each transaction from before it begins until its bookkeeping is done ([`Self::writer`]).
    writer: Mutex<()>,
}

impl Durability {
    /// Starts the background flusher of `db`; the thread ends after the last handle is gone.
    pub(super) fn start(db: redb::Database) -> std::io::Result<Arc<Durability>> {
        let durability = Arc::new(Durability {
            db,
            writes: AtomicU64::new(0),
            flushed: AtomicU64::new(0),
            syncs: AtomicU64::new(0),
            flusher: std::sync::OnceLock::new(),
            gate: Gate::default(),
            asleep: AtomicBool::new(false),
            urgent: Arc::default(),
            unwritten: Mutex::default(),
            writer: Mutex::default(),
        });
        let weak = Arc::downgrade(&durability);
        let gate = Arc::clone(&durability.gate);
        let urgent = Arc::clone(&durability.urgent);
        let thread = crate::bookkeeping::spawn("clp-store-flush", FLUSHER_NICE, move || {
            flush_while_open(&weak, &gate, &urgent);
        })?;
        let _ = durability.flusher.set(thread.thread().clone());
        Ok(durability)
    }

    /// The gate a store handle takes before it lets go of the store.
    pub(super) fn gate(&self) -> Gate {
        Arc::clone(&self.gate)
    }

    /// The open database.
    pub(super) fn db(&self) -> &redb::Database {
        &self.db
    }

    /// Counts one write (a transaction's under [`Self::writer`], see `Store::write`; one
    /// that waits under the lock of what waits), wakes the flusher if it sleeps, and returns
    /// the count with this write.
    pub(super) fn wrote(&self) -> u64 {
        let count = self.writes.fetch_add(1, Ordering::SeqCst) + 1;
        if self.asleep.swap(false, Ordering::SeqCst)
            && let Some(thread) = self.flusher.get()
        {
            thread.unpark();
        }
        count
    }

    /// Asks the flusher for a pass now (a [`Durable::Shortly`](super::Durable::Shortly)
    /// write was just counted).
    pub(super) fn flush_shortly(&self) {
        self.urgent.store(true, Ordering::SeqCst);
        self.asleep.store(false, Ordering::SeqCst);
        if let Some(thread) = self.flusher.get() {
            // Not during the restart that asked for it (crate::bookkeeping).
            let thread = thread.clone();
            crate::bookkeeping::wake_after_the_work(move || thread.unpark());
        }
    }

    /// Records that the first `count` writes are on disk (a durable commit just synced), but
    /// not those still waiting in memory (made while it ran). Called under [`Self::writer`]:
    /// no other transaction took any of them meanwhile.
    pub(super) fn synced_up_to(&self, count: u64) {
        let count = match self.unwritten().oldest() {
            Some(oldest) => count.min(oldest - 1),
            None => count,
        };
        self.syncs.fetch_add(1, Ordering::SeqCst);
        self.flushed.fetch_max(count, Ordering::SeqCst);
    }

    /// The store's own writer lock, held by a transaction from before it begins until the
    /// changes it applied are forgotten and its sync recorded. redb lets the next writer in
    /// at the commit: without this, a transaction could copy and apply again a change that
    /// the one before it applied (and that a newer write of the record has replaced since),
    /// or record a sync of a change another transaction applied without one.
    pub(super) fn writer(&self) -> std::sync::MutexGuard<'_, ()> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn unwritten(&self) -> std::sync::MutexGuard<'_, Unwritten> {
        self.unwritten
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes a write that may wait: `key` in `table` becomes `value` (None removes it) at
    /// the next transaction. Counted like a committed write.
    pub(super) fn write_later(&self, table: Table, key: &str, value: Option<Vec<u8>>) {
        // Counted under the lock: a transaction's copy of the changes holds every write
        // counted before it was taken.
        let mut unwritten = self.unwritten();
        let count = self.wrote();
        unwritten.record(table, key, value, count);
    }

    /// The latest value of `key` in `table` that is not yet in redb ([`Unwritten::latest`]).
    pub(super) fn latest_unwritten(&self, table: Table, key: &str) -> Option<Option<Vec<u8>>> {
        self.unwritten().latest(table, key)
    }

    /// Applies the writes waiting in memory in `txn`, which holds redb's writer slot;
    /// returns them for [`Self::written`] once `txn` is committed.
    pub(super) fn apply_unwritten(
        &self,
        txn: &redb::WriteTransaction,
    ) -> Result<Vec<Change>, redb::Error> {
        let changes = self.unwritten().snapshot();
        unwritten::apply(txn, &changes)?;
        Ok(changes)
    }

    /// The transaction that applied `changes` is committed: they no longer wait.
    pub(super) fn written(&self, changes: &[Change]) {
        if !changes.is_empty() {
            self.unwritten().forget(changes);
        }
    }

    /// Whether a write is not yet flushed.
    fn pending(&self) -> bool {
        self.flushed.load(Ordering::SeqCst) < self.writes.load(Ordering::SeqCst)
    }

    /// Writes taken since the store was opened.
    pub(super) fn writes(&self) -> u64 {
        self.writes.load(Ordering::SeqCst)
    }

    /// How many of the writes (the first ones) are known to be on disk.
    pub(super) fn synced(&self) -> u64 {
        self.flushed.load(Ordering::SeqCst)
    }

    /// Flushes that reached redb since the store was opened.
    pub(super) fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::SeqCst)
    }

    /// Makes every write counted so far durable; does nothing when they all are.
    pub(super) fn flush(&self) -> Result<(), redb::Error> {
        // Every write counted here is committed (a transaction counts its own before its
        // commit, under the writer lock this flush waits for; redb's durable commit below
        // makes every earlier commit durable with it) or waits in memory, in the copy the
        // transaction below applies (one that waits is counted as it is recorded). One
        // counted later waits for the next flush.
        let writes = self.writes.load(Ordering::SeqCst);
        if self.flushed.load(Ordering::SeqCst) >= writes {
            return Ok(());
        }
        let _writer = self.writer();
        let mut sync = self.db.begin_write()?;
        sync.set_durability(redb::Durability::Immediate)?;
        let applied = self.apply_unwritten(&sync)?;
        sync.commit()?;
        self.written(&applied);
        self.synced_up_to(writes);
        Ok(())
    }
}

impl Drop for Durability {
    fn drop(&mut self) {
        if let Err(error) = self.flush() {
            tracing::error!("cannot flush the store as it closes: {error}");
        }
        if let Some(thread) = self.flusher.get() {
            thread.unpark();
        }
    }
}

/// The flusher thread's loop: every [`FLUSH_EVERY`], flush if anything was written; after
/// [`QUIET_PASSES`] passes without a write, sleep until one comes.
/// A pass holds the store only under `gate`, so it never holds the last handle.
fn flush_while_open(durability: &Weak<Durability>, gate: &Gate, urgent: &AtomicBool) {
    let urgent = || urgent.swap(false, Ordering::SeqCst);
    let mut quiet = 0;
    loop {
        let mut now = urgent();
        if quiet >= QUIET_PASSES && !now {
            // Woken by the next write (or the store's close); its flush comes a period later,
            // an urgent one's at once.
            std::thread::park();
            quiet = 0;
            now = urgent();
        }
        if !now {
            // Cut short by an urgent write, which this pass then covers.
            std::thread::park_timeout(FLUSH_EVERY);
            urgent();
        }
        let _pass = gate.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(durability) = durability.upgrade() else {
            return;
        };
        #[cfg(test)]
        tests::pass_begins(gate);
        let wrote = durability.pending();
        if let Err(error) = durability.flush() {
            tracing::error!("cannot flush the store: {error}");
        }
        quiet = if wrote { 0 } else { quiet + 1 };
        if quiet >= QUIET_PASSES {
            // A write counted from here on wakes this thread; one counted before is pending.
            durability.asleep.store(true, Ordering::SeqCst);
            if durability.pending() {
                durability.asleep.store(false, Ordering::SeqCst);
                quiet = 0;
            }
        }
        drop(durability);
    }
}

/// How much lower the flusher's priority is than the daemon's: its syncs are bookkeeping
/// ([`crate::bookkeeping`]).
const FLUSHER_NICE: libc::c_int = 10;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// A gate whose flusher's next pass says it began, then holds the store 300 ms.
    static HELD: Mutex<Option<(usize, mpsc::Sender<()>)>> = Mutex::new(None);

    /// Called by the flusher as a pass begins (holding the store).
    pub(super) fn pass_begins(gate: &Gate) {
        let armed = HELD
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take_if(|(held, _)| *held == Arc::as_ptr(gate) as usize);
        if let Some((_, began)) = armed {
            let _ = began.send(());
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    #[test]
    fn a_store_closed_during_a_flush_opens_again_at_once() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("store");
        let store = super::super::Store::open(&path).expect("the store");
        let (began, pass) = mpsc::channel();
        *HELD.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((Arc::as_ptr(&store.durability.gate) as usize, began));
        pass.recv_timeout(FLUSH_EVERY * 4)
            .expect("a flusher pass within two periods");
        // The flusher holds the store for 300 ms more: the drop waits for it and closes.
        drop(store);
        super::super::Store::open(&path).expect("the store opens again at once");
    }

    fn open(dir: &std::path::Path) -> redb::Database {
        redb::Database::create(crate::paths::store_file(dir)).expect("a store")
    }

    const TABLE: redb::TableDefinition<&str, &str> = redb::TableDefinition::new("t");

    /// Commits one write without a sync, as the store does for an alert.
    fn write(durability: &Durability) {
        let mut txn = durability.db.begin_write().expect("a write");
        txn.set_durability(redb::Durability::None).expect("no sync");
        txn.open_table(TABLE)
            .expect("the table")
            .insert("k", "v")
            .expect("an insert");
        txn.commit().expect("a commit");
        durability.wrote();
    }

    #[test]
    fn a_flush_with_nothing_written_does_not_reach_redb() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let durability = Durability::start(open(dir.path())).expect("the flusher");
        durability.flush().expect("a flush");
        assert_eq!(durability.flushed.load(Ordering::SeqCst), 0);
        write(&durability);
        durability.flush().expect("a flush");
        assert_eq!(durability.flushed.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn the_background_flush_covers_a_write_within_its_period() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let durability = Durability::start(open(dir.path())).expect("the flusher");
        write(&durability);
        let deadline = std::time::Instant::now() + FLUSH_EVERY * 4;
        while durability.flushed.load(Ordering::SeqCst) < 1 {
            assert!(
                std::time::Instant::now() < deadline,
                "no background flush within {:?}",
                FLUSH_EVERY * 4
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn an_idle_store_sleeps_until_a_write_wakes_its_flusher() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let durability = Durability::start(open(dir.path())).expect("the flusher");
        let until = |what: &str, ok: &dyn Fn() -> bool| {
            let deadline = std::time::Instant::now() + FLUSH_EVERY * (QUIET_PASSES + 4);
            while !ok() {
                assert!(std::time::Instant::now() < deadline, "{what}: not in time");
                std::thread::sleep(Duration::from_millis(20));
            }
        };
        // Nothing written: after the quiet passes the flusher sleeps (no more wake-ups).
        until("the flusher asleep", &|| {
            durability.asleep.load(Ordering::SeqCst)
        });
        // A write wakes it, and is flushed within its period.
        write(&durability);
        assert!(!durability.asleep.load(Ordering::SeqCst));
        until("the write flushed", &|| {
            durability.flushed.load(Ordering::SeqCst) >= 1
        });
        // And once quiet again, it sleeps again.
        until("the flusher asleep again", &|| {
            durability.asleep.load(Ordering::SeqCst)
        });
    }

    /// A `Durable::Shortly` write is synced by the flusher at once, whether it slept or
    /// waited out its period (an ordinary write waits a whole period), and the flusher runs
    /// at a lower priority than the thread that wrote.
    #[test]
    fn an_urgent_write_is_synced_at_once_by_a_flusher_of_lower_priority() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let durability = Durability::start(open(dir.path())).expect("the flusher");
        let synced_within_the_period = |count: u64| {
            let began = std::time::Instant::now();
            while durability.flushed.load(Ordering::SeqCst) < count {
                assert!(
                    began.elapsed() < FLUSH_EVERY * 9 / 10,
                    "an urgent write waited for the flusher's period"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
        };
        let deadline = std::time::Instant::now() + FLUSH_EVERY * (QUIET_PASSES + 4);
        while !durability.asleep.load(Ordering::SeqCst) {
            assert!(
                std::time::Instant::now() < deadline,
                "the flusher never slept"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // Asleep: woken and synced at once.
        write(&durability);
        durability.flush_shortly();
        synced_within_the_period(1);
        // Awake, in the middle of its period: cut short.
        write(&durability);
        durability.flush_shortly();
        synced_within_the_period(2);

        let (flushers, ours) = crate::bookkeeping::nice_values("clp-store-flush");
        assert!(!flushers.is_empty(), "no flusher thread found");
        if ours < 19 {
            assert!(
                flushers.iter().all(|nice| *nice > ours),
                "flushers' nice {flushers:?}, the writer's {ours}"
            );
        }
    }

    #[test]
    fn the_flusher_thread_ends_with_the_store() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let durability = Durability::start(open(dir.path())).expect("the flusher");
        let weak = Arc::downgrade(&durability);
        drop(durability);
        assert!(weak.upgrade().is_none());
        // The store's lock is free again at once: its last handle (ours) is gone, and the
        // thread held none between its passes.
        redb::Database::create(crate::paths::store_file(dir.path()))
            .expect("the store opens again at once");
    }
}
