//! The move of a store written by an earlier clp (sled, `var/store/db` and its siblings) into
//! redb, once, at the first open: the only module that names sled.
//!
//! Every tree is copied as it is (the records are the same JSON) into
//! `clp.redb.new`, which is synced and then renamed to `clp.redb`: a move cut short (a crash, a
//! full disk) leaves no `clp.redb`, and the next open starts it again from the sled store,
//! which it has not touched. Once `clp.redb` is in place, sled's files go to `sled-moved/`
//! (kept, not deleted: what an operator may want to look at after an upgrade). sled holds its
//! lock on `db` while the move runs, so a second process finds the store locked, as it
//! would have before.

use std::path::Path;

use redb::TableDefinition;

use super::{ALERTS, LICENSES, META, MONITORS, RESOURCES, StoreError, TRIALS};
use crate::paths;

/// The trees keyed by name, each with the table it becomes.
const NAMED: [(&str, TableDefinition<&str, &[u8]>); 5] = [
    ("monitors", MONITORS),
    ("resources", RESOURCES),
    ("meta", META),
    ("licenses", LICENSES),
    ("trials", TRIALS),
];

/// sled's page cache while the move reads (its default is 1 GiB).
const SLED_CACHE_BYTES: u64 = 1 << 20;

/// Moves the sled store in the folder `dir` into `dir/clp.redb`.
pub(super) fn move_into_redb(dir: &Path) -> Result<(), StoreError> {
    let failed = |what: &str, error: &dyn std::fmt::Display| StoreError::Backend {
        path: dir.to_path_buf(),
        message: format!(
            "cannot move the store of an earlier clp (sled) into {}: {what}: {error}; \
             the sled files are untouched, so the next start tries again",
            paths::store_file(dir).display()
        ),
    };
    let sled = sled::Config::new()
        .path(dir)
        .flush_every_ms(None)
        .cache_capacity(SLED_CACHE_BYTES)
        .open()
        .map_err(|error| match &error {
            // sled wraps the flock failure in an error of its own kind: match its words too.
            sled::Error::Io(io)
                if io.kind() == std::io::ErrorKind::WouldBlock
                    || io.to_string().contains("could not acquire lock") =>
            {
                StoreError::Locked {
                    path: dir.to_path_buf(),
                }
            }
            _ => failed("opening it", &error),
        })?;
    let new = paths::store_file_being_moved(dir);
    // What a move cut short left.
    let _ = std::fs::remove_file(&new);
    let copied = copy(&sled, &new).map_err(|error| failed("copying it", &error));
    drop(sled);
    if let Err(error) = copied {
        let _ = std::fs::remove_file(&new);
        return Err(error);
    }
    std::fs::rename(&new, paths::store_file(dir))
        .and_then(|()| std::fs::File::open(dir)?.sync_all())
        .map_err(|error| failed("renaming it into place", &error))?;
    set_sled_files_aside(dir);
    Ok(())
}

/// Copies every tree of `sled` into a new redb file at `new`, made durable.
fn copy(sled: &sled::Db, new: &Path) -> Result<(), redb::Error> {
    let db = redb::Database::create(new)?;
    let txn = db.begin_write()?;
    {
        let alerts = sled.open_tree("alerts").map_err(sled_error)?;
        let mut table = txn.open_table(ALERTS)?;
        for item in alerts.iter() {
            let (key, value) = item.map_err(sled_error)?;
            // Keys are big-endian sequence numbers; anything else was never written by clp.
            let Ok(seq) = <[u8; 8]>::try_from(key.as_ref()).map(u64::from_be_bytes) else {
                continue;
            };
            table.insert(seq, value.as_ref())?;
        }
    }
    for (name, definition) in NAMED {
        let tree = sled.open_tree(name).map_err(sled_error)?;
        let mut table = txn.open_table(definition)?;
        for item in tree.iter() {
            let (key, value) = item.map_err(sled_error)?;
            let Ok(key) = std::str::from_utf8(&key) else {
                continue;
            };
            table.insert(key, value.as_ref())?;
        }
    }
    txn.commit()?;
    Ok(())
}

fn sled_error(error: sled::Error) -> redb::Error {
    redb::Error::Io(std::io::Error::other(error.to_string()))
}

/// Moves sled's files (`db`, `conf`, `blobs/`, `snap.*`) into `sled-moved/`; a file that
/// cannot be moved is said in the log and left (the store is in redb already).
fn set_sled_files_aside(dir: &Path) {
    let aside = paths::sled_store_moved_dir(dir);
    if let Err(error) = std::fs::create_dir_all(&aside) {
        tracing::warn!("cannot create {}: {error}", aside.display());
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let sled_file = name.to_str().is_some_and(|name| {
            matches!(name, "db" | "conf" | "blobs") || name.starts_with("snap.")
        });
        if sled_file && let Err(error) = std::fs::rename(entry.path(), aside.join(&name)) {
            tracing::warn!(
                "the store is in redb now, but {} could not be set aside: {error}",
                entry.path().display()
            );
        }
    }
    tracing::info!(
        "the store of an earlier clp (sled) is in {} now; its files are in {}",
        paths::store_file(dir).display(),
        aside.display()
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{AlertEvent, Level};

    /// A sled store as an earlier clp left it: every tree, in its own encoding.
    fn write_sled_store(dir: &Path) {
        let db = sled::open(dir).expect("a sled store");
        let alerts = db.open_tree("alerts").expect("alerts");
        for seq in 1u64..=3 {
            let mut event = AlertEvent::custom("s", "logcmd", 1, Level::Info, &format!("m{seq}"));
            event.seq = seq;
            alerts
                .insert(seq.to_be_bytes(), serde_json::to_vec(&event).expect("json"))
                .expect("an alert");
        }
        for (tree, key, value) in [
            ("monitors", "pidw", "{\"count\":2}"),
            ("resources", "exec", "{\"online\":true}"),
            ("meta", "started", "\"yes\""),
            ("licenses", "SERIAL1", "{\"product\":\"XSS10\"}"),
            ("trials", "XSS10", "\"2026/12/01\""),
        ] {
            db.open_tree(tree)
                .expect("a tree")
                .insert(key, value.as_bytes())
                .expect("a record");
        }
        db.flush().expect("a flush");
    }

    #[test]
    fn a_sled_store_is_moved_into_redb_whole_and_once() {
        let dir = tempfile::tempdir().expect("a temp dir");
        write_sled_store(dir.path());
        // sled's own thread may hold its lock a moment after the drop.
        std::thread::sleep(std::time::Duration::from_millis(100));
        let store = super::super::Store::open(dir.path()).expect("the store");
        let messages: Vec<String> = store
            .alerts(10)
            .expect("alerts")
            .into_iter()
            .map(|event| event.message)
            .collect();
        assert_eq!(messages, ["m1", "m2", "m3"]);
        let value = |found: Option<serde_json::Value>| found.expect("a record").to_string();
        assert_eq!(value(store.monitor("pidw").expect("read")), "{\"count\":2}");
        assert_eq!(
            value(store.resource("exec").expect("read")),
            "{\"online\":true}"
        );
        assert_eq!(value(store.meta("started").expect("read")), "\"yes\"");
        assert_eq!(
            store
                .licenses::<serde_json::Value>()
                .expect("licenses")
                .len(),
            1
        );
        assert_eq!(
            value(store.trial_registered("XSS10").expect("read")),
            "\"2026/12/01\""
        );
        // The next alert follows the moved ones.
        let event = AlertEvent::custom("s", "logcmd", 1, Level::Info, "m4");
        assert_eq!(store.append_alert(&event, 100).expect("an append"), 4);
        drop(store);
        // sled's files are set aside, and the next open reads redb alone.
        assert!(!paths::sled_store_file(dir.path()).exists());
        assert!(paths::sled_store_moved_dir(dir.path()).join("db").exists());
        assert!(!paths::store_file_being_moved(dir.path()).exists());
        let again = super::super::Store::open(dir.path()).expect("the store again");
        assert_eq!(again.alerts(10).expect("alerts").len(), 4);
    }

    #[test]
    fn a_move_cut_short_is_started_again_from_the_untouched_sled_store() {
        let dir = tempfile::tempdir().expect("a temp dir");
        write_sled_store(dir.path());
        std::thread::sleep(std::time::Duration::from_millis(100));
        // A half-written file of an earlier try, never renamed into place.
        std::fs::write(
            paths::store_file_being_moved(dir.path()),
            b"half a redb file",
        )
        .expect("a leftover");
        let store = super::super::Store::open(dir.path()).expect("the store");
        assert_eq!(store.alerts(10).expect("alerts").len(), 3);
    }
}
