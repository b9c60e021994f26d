//! A check that changes nothing writes nothing to the store: at 1,000 monitors checking
//! every second, a write (and its fsync) per check would be the daemon's main cost.

use std::sync::Arc;

use super::Engine;
use super::policy::Observation;
use clp_core::os_action::OsActions;
use clp_core::paths::Paths;
use clp_core::status::DaemonState;
use clp_core::store::Store;

const CONFIG: &str = "[cluster]\nname = \"writes\"\n\n[[monitor]]\nname = \"userw\"\ntype = \"userw\"\nretry = 3\n\n[monitor.recovery]\nfinal_action = \"none\"\n";

fn engine(dir: &tempfile::TempDir) -> Arc<Engine> {
    let paths = Paths::new(dir.path());
    std::fs::create_dir_all(paths.etc_dir()).expect("the etc folder");
    std::fs::write(paths.config_file(), CONFIG).expect("clp.conf");
    let config = clp_core::config::load(&paths).expect("the configuration");
    let store = Store::open(&paths.store_dir()).expect("the store");
    let os = OsActions::new(config.os_actions.clone(), true);
    let engine = Engine::new(config, paths, store, os, |_| None);
    engine.lock().daemon = DaemonState::Running;
    engine
}

#[tokio::test]
async fn a_healthy_check_after_a_healthy_check_writes_nothing() {
    let dir = tempfile::tempdir().expect("a temporary root");
    let engine = engine(&dir);
    engine.observe(0, Observation::Healthy);
    let before = engine.store.writes();
    for _ in 0..100 {
        engine.observe(0, Observation::Healthy);
    }
    assert_eq!(
        engine.store.writes(),
        before,
        "healthy checks wrote to the store"
    );
}

#[tokio::test]
async fn a_check_that_changes_the_counters_saves_them() {
    let dir = tempfile::tempdir().expect("a temporary root");
    let engine = engine(&dir);
    engine.observe(0, Observation::Healthy);
    let before = engine.store.writes();
    engine.observe(
        0,
        Observation::Failed {
            code: 11,
            detail: "gone".into(),
        },
    );
    assert!(
        engine.store.writes() > before,
        "a failed check (a retry counted) was not saved"
    );
}
