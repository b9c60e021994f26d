//! A clppm killed (`kill -9`) right after it started an async resource's process: the next
//! clppm must find that process, never start a second one. Found by the storm
//! (`tests/e2e/storm.rs`).

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use super::{Engine, PersistedResource};
use clp_core::os_action::OsActions;
use clp_core::paths::Paths;
use clp_core::process::{self, ProcessIdentity};
use clp_core::store::{Durable, Store};

const CONFIG: &str = "[cluster]\nname = \"crash\"\n\n[[group]]\nname = \"g\"\n\n[[group.resource]]\nname = \"r\"\nmode = \"async\"\n";

struct Root {
    _dir: tempfile::TempDir,
    paths: Paths,
}

fn root() -> Root {
    root_with(CONFIG, &["r"])
}

/// A root with `config` and a sleeping async start.sh for each of `resources` (group g).
fn root_with(config: &str, resources: &[&str]) -> Root {
    let dir = tempfile::tempdir().expect("a temporary root");
    let paths = Paths::new(dir.path());
    for resource in resources {
        let scripts = paths.etc_dir().join("scripts/g").join(resource);
        std::fs::create_dir_all(&scripts).expect("the scripts folder");
        let start = scripts.join("start.sh");
        std::fs::write(&start, "#!/bin/sh\nexec sleep 600\n").expect("start.sh");
        std::fs::set_permissions(&start, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    std::fs::write(paths.config_file(), config).expect("clp.conf");
    Root { _dir: dir, paths }
}

/// A clppm on `root`, as the daemon makes it (nothing started).
fn engine(root: &Root) -> Arc<Engine> {
    let config = clp_core::config::load(&root.paths).expect("the configuration");
    let store = Store::open(&root.paths.store_dir()).expect("the store");
    let os = OsActions::new(config.os_actions.clone(), true);
    Engine::new(config, root.paths.clone(), store, os, |_| None)
}

/// Ends the process group on drop, whatever the test's outcome.
struct Reaper(u32);

impl Drop for Reaper {
    fn drop(&mut self) {
        process::signal_group(self.0, nix::sys::signal::Signal::SIGKILL);
    }
}

fn process_of(engine: &Engine) -> Option<ProcessIdentity> {
    engine.lock().resources.get("r").and_then(|r| r.process)
}

#[tokio::test]
async fn an_async_process_is_in_the_store_as_soon_as_it_is_started() {
    let root = root();
    let engine = engine(&root);
    let resource = engine.config.groups[0].resources[0].clone();
    let started = engine.run_start(&resource, "START").await;
    assert!(started.is_ok(), "start.sh did not start");
    let process = process_of(&engine).expect("the started process is known");
    let _reaper = Reaper(process.pid);
    // Nothing else has happened yet (not even "Online"): a kill -9 here must not lose it.
    let stored: Option<PersistedResource> = engine.store.resource("r").expect("the store reads");
    assert_eq!(
        stored.and_then(|p| p.process),
        Some(process),
        "the process was not recorded when it was started"
    );
}

#[tokio::test]
async fn a_process_started_but_never_recorded_is_adopted_not_started_again() {
    let root = root();
    let first = engine(&root);
    let resource = first.config.groups[0].resources[0].clone();
    // What a clppm killed between the spawn and the store write leaves: a running start
    // script, nothing recorded.
    let script = first.script(
        &resource,
        &resource.start,
        first.script_env(&resource, "START", None),
    );
    let child = script.spawn().expect("start.sh");
    let pid = child.id().expect("a pid");
    let _reaper = Reaper(pid);
    drop(first);
    let next = engine(&root);
    next.restore_resources();
    assert_eq!(
        process_of(&next).map(|p| p.pid),
        Some(pid),
        "the running, unrecorded process was not adopted"
    );
    let status = next.lock().resources.get("r").map(|r| r.status);
    assert_eq!(status, Some(clp_core::status::ObjectStatus::Online));
}

/// A resource restarted by its monitor waits for no disk sync before it runs again: the
/// stop's write is left to the start's sync, which covers it, and that sync is the
/// flusher's, made at once.
#[tokio::test]
async fn a_restart_syncs_the_store_once_the_new_process_is_recorded() {
    let root = root();
    let engine = engine(&root);
    let resource = engine.config.groups[0].resources[0].clone();
    assert!(
        engine.activate(&resource, "START").await.is_ok(),
        "the first start"
    );
    let first = process_of(&engine).expect("the first process");
    let _first = Reaper(first.pid);
    // The first start's sync (the flusher's) is over before counting.
    engine.flush_store();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let syncs = engine.store.syncs();
    let stopped = engine
        .deactivate(&resource, "RESOURCERESTART", Durable::Soon)
        .await;
    assert!(stopped.is_ok(), "the stop");
    assert_eq!(engine.store.syncs(), syncs, "the stop synced the store");
    let stop_written = engine.store.writes();
    assert!(
        engine.store.synced_writes() < stop_written,
        "the stop wrote nothing"
    );
    assert!(
        engine.activate(&resource, "RECOVER").await.is_ok(),
        "the restart"
    );
    let second = process_of(&engine).expect("the new process");
    let _second = Reaper(second.pid);
    // Synced by the flusher at once (`Durable::Shortly`), not by the restart itself.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while engine.store.syncs() == syncs && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert!(
        engine.store.syncs() > syncs,
        "the new process was not synced"
    );
    assert!(
        engine.store.synced_writes() >= stop_written,
        "the stop was left unsynced"
    );
    let persisted: Option<PersistedResource> = engine.store.resource("r").expect("the store");
    assert_eq!(persisted.and_then(|p| p.process), Some(second));
}

/// A group stopped by an operator is on disk as stopped when the stop returns.
#[tokio::test]
async fn a_stop_that_no_start_follows_is_synced_at_once() {
    let root = root();
    let engine = engine(&root);
    let resource = engine.config.groups[0].resources[0].clone();
    assert!(
        engine.activate(&resource, "START").await.is_ok(),
        "the start"
    );
    let _process = Reaper(process_of(&engine).expect("the process").pid);
    let started_written = engine.store.writes();
    assert!(
        engine
            .deactivate(&resource, "GROUPSTOP", Durable::Now)
            .await
            .is_ok(),
        "the stop"
    );
    assert!(
        engine.store.synced_writes() > started_written,
        "the stop is not on disk"
    );
}

/// A group's stop syncs the store once, at its end, not once per resource.
#[tokio::test]
async fn a_group_stop_syncs_once_for_all_its_resources() {
    const TWO: &str = "[cluster]\nname = \"crash\"\n\n[[group]]\nname = \"g\"\n\n[[group.resource]]\nname = \"r1\"\nmode = \"async\"\n\n[[group.resource]]\nname = \"r2\"\nmode = \"async\"\n";
    let root = root_with(TWO, &["r1", "r2"]);
    let engine = engine(&root);
    assert!(engine.start_group_locked("g", "START").await, "the start");
    let reapers: Vec<Reaper> = ["r1", "r2"]
        .iter()
        .filter_map(|name| engine.lock().resources.get(*name).and_then(|r| r.process))
        .map(|process| Reaper(process.pid))
        .collect();
    assert_eq!(reapers.len(), 2, "both resources run");
    // The starts' syncs (the flusher's, `Durable::Shortly`) are over before counting.
    engine.flush_store();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let (syncs, written) = (engine.store.syncs(), engine.store.writes());
    assert!(engine.stop_group_locked("g", "GROUPSTOP").await, "the stop");
    assert_eq!(engine.store.syncs(), syncs + 1, "one sync for the group");
    assert!(
        engine.store.synced_writes() > written,
        "the stop is not on disk"
    );
    for name in ["r1", "r2"] {
        let persisted: Option<PersistedResource> = engine.store.resource(name).expect("the store");
        assert!(persisted.is_none(), "{name} is still recorded");
    }
}
