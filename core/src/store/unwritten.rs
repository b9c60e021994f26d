//! Writes that may wait, held in memory until the next transaction takes them.
//!
//! A write that need not be durable at once ([`Durable::Soon`](super::Durable::Soon),
//! [`Durable::Shortly`](super::Durable::Shortly)) costs its caller a record here, not a redb
//! transaction: a restart made two such transactions before it spawned the process (a
//! sampled profile put them at a fifth of the daemon's time from the exit to the spawn).
//! The next transaction applies them before its own write: the flusher's pass, a durable
//! write, an alert's append. A later write of a record wins: one that waits replaces the
//! record's change here, and a transaction's own write comes after the changes it applied,
//! which it forgets before the next transaction begins (the store's writer lock,
//! `Durability::writer`).
//!
//! A `kill -9` loses them as it lost a redb commit without a sync. Reads see these records
//! at once ([`Unwritten::latest`]); a change stays here until the commit that applied it
//! succeeded, so a read never misses it in between.

use redb::{TableDefinition, TableHandle};

/// A table whose records may wait here (keyed by name, JSON values).
pub(super) type Table = TableDefinition<'static, &'static str, &'static [u8]>;

/// One record's change not yet in redb.
#[derive(Clone)]
pub(super) struct Change {
    table: Table,
    key: String,
    /// The record's new bytes; None removes it.
    value: Option<Vec<u8>>,
    /// The number of the latest write it carries in the store's count of writes
    /// (`Durability::wrote`).
    count: u64,
    /// The number of the oldest write it carries: a change that replaced an earlier one
    /// still carries that one, which is not on disk either.
    first: u64,
}

/// The changes not yet in redb: the latest one of each record.
#[derive(Default)]
pub(super) struct Unwritten {
    changes: Vec<Change>,
}

impl Unwritten {
    /// Records the write numbered `count` of `key` in `table` (None removes it), replacing
    /// an earlier change of the same record.
    pub(super) fn record(&mut self, table: Table, key: &str, value: Option<Vec<u8>>, count: u64) {
        match self.position(table, key) {
            Some(at) => {
                let change = &mut self.changes[at];
                change.value = value;
                change.count = count;
                // `first` stays: the replaced write is not on disk.
            }
            None => self.changes.push(Change {
                table,
                key: key.to_string(),
                value,
                count,
                first: count,
            }),
        }
    }

    /// The latest change of `key` in `table` not yet in redb: Some(None) for a removal,
    /// None when redb has its latest value.
    pub(super) fn latest(&self, table: Table, key: &str) -> Option<Option<Vec<u8>>> {
        self.position(table, key)
            .map(|at| self.changes[at].value.clone())
    }

    /// A copy of every change, for a transaction to apply ([`apply`]).
    pub(super) fn snapshot(&self) -> Vec<Change> {
        self.changes.clone()
    }

    /// Forgets the changes of `applied` now committed, except those changed again since.
    pub(super) fn forget(&mut self, applied: &[Change]) {
        self.changes.retain(|change| {
            !applied.iter().any(|done| {
                done.count == change.count
                    && done.key == change.key
                    && done.table.name() == change.table.name()
            })
        });
    }

    /// The number of the oldest write not yet on disk that is here, if any.
    pub(super) fn oldest(&self) -> Option<u64> {
        self.changes.iter().map(|change| change.first).min()
    }

    fn position(&self, table: Table, key: &str) -> Option<usize> {
        self.changes
            .iter()
            .position(|change| change.key == key && change.table.name() == table.name())
    }
}

/// Applies `changes` in the write transaction `txn`.
pub(super) fn apply(txn: &redb::WriteTransaction, changes: &[Change]) -> Result<(), redb::Error> {
    for change in changes {
        let mut table = txn.open_table(change.table)?;
        match &change.value {
            Some(bytes) => {
                table.insert(change.key.as_str(), bytes.as_slice())?;
            }
            None => {
                table.remove(change.key.as_str())?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Table = TableDefinition::new("a");
    const B: Table = TableDefinition::new("b");

    #[test]
    fn the_latest_change_of_a_record_is_kept_and_forgotten_only_once_applied() {
        let mut unwritten = Unwritten::default();
        unwritten.record(A, "k", Some(b"1".to_vec()), 1);
        unwritten.record(B, "k", None, 2);
        assert_eq!(unwritten.latest(A, "k"), Some(Some(b"1".to_vec())));
        assert_eq!(unwritten.latest(B, "k"), Some(None));
        assert_eq!(unwritten.latest(A, "other"), None);
        let applied = unwritten.snapshot();
        // Changed again while the transaction ran: that change stays.
        unwritten.record(A, "k", Some(b"3".to_vec()), 3);
        unwritten.forget(&applied);
        assert_eq!(unwritten.latest(A, "k"), Some(Some(b"3".to_vec())));
        assert_eq!(unwritten.latest(B, "k"), None);
        // The change still carries write 1 (its transaction may not have synced it): no
        // sync that does not apply it counts it on disk.
        assert_eq!(unwritten.oldest(), Some(1));
        let applied = unwritten.snapshot();
        unwritten.forget(&applied);
        assert_eq!(unwritten.oldest(), None);
    }
}
