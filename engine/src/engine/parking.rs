//! Parked monitors: an event-driven monitor (pidw) whose target process is known alive and
//! whose ladder is at rest needs no wake-up of its own per interval, nor a task. Its task
//! leaves the probe in the monitor's slot and ends, and one batch per distinct interval runs
//! the check of every parked monitor of that interval under one lock: the check of pidw is "the engine still knows a live process" (the kernel
//! reports a death at once through the child exit or pidfd, and that path fails the monitor
//! immediately, parked or not). The batch counts each check as the task would have (checks,
//! last check, lateness against the batch's tick, time of the last check), so the status
//! stays true; a monitor whose check would not be a plain "healthy" (process gone, ladder
//! not at rest, dummy failure, switched off) is handed back: the batch starts a task for it,
//! which checks at once.
//!
//! 1,000 idle pidw at 1 s cost one wake-up a second instead of a thousand, and no memory for
//! a task each (a task and its timer were ~1 KB).

use std::collections::BTreeMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::time::{Instant, MissedTickBehavior};

use super::{Engine, MonitorRuntime, ResourceRuntime, State};
use clp_core::config::MonitorConfig;
use clp_core::status::{DaemonState, MonitorStatus};

impl Engine {
    /// Starts one batch task per distinct interval of the event-driven monitors (none when
    /// there are none). Each holds the engine weakly and ends with it.
    pub(super) fn spawn_parking(self: &Arc<Self>, indices: &[usize]) {
        let mut by_interval: BTreeMap<Duration, Vec<usize>> = BTreeMap::new();
        for &index in indices {
            by_interval
                .entry(self.config.monitors[index].interval)
                .or_default()
                .push(index);
        }
        for (interval, indices) in by_interval {
            let engine = Arc::downgrade(self);
            self.spawn_on_monitor_thread(run_batch(engine, interval, indices));
        }
    }

    /// Parks monitor `index` if its check would only say "healthy" until something changes:
    /// returns whether it did (its task then ends; its probe must be in its slot).
    pub(super) fn park(&self, index: usize) -> bool {
        let mut state = self.lock();
        let State {
            daemon,
            monitors,
            resources,
            ..
        } = &mut *state;
        let parkable = at_rest(
            *daemon,
            &monitors[index],
            &self.config.monitors[index],
            resources,
        );
        monitors[index].parked = parkable;
        parkable
    }

    /// One batch: checks every parked monitor of `indices`; hands back those that are no
    /// longer at rest (a task each again). `deadline` is the batch's scheduled tick.
    fn check_parked(self: &Arc<Self>, indices: &[usize], deadline: Instant) {
        let mut handed_back = Vec::new();
        {
            let mut state = self.lock();
            let State {
                daemon,
                monitors,
                resources,
                ..
            } = &mut *state;
            for &index in indices {
                let runtime = &mut monitors[index];
                if !runtime.parked {
                    continue;
                }
                let started = Instant::now();
                if at_rest(*daemon, runtime, &self.config.monitors[index], resources) {
                    let took = started.elapsed();
                    runtime.checks += 1;
                    runtime.last_check = Some(took);
                    runtime.last_lateness = Some(started.saturating_duration_since(deadline));
                    runtime.check_total = runtime.check_total.saturating_add(took);
                    runtime.check_max = runtime.check_max.max(took);
                    runtime.checked_at = Some(started.into_std());
                    runtime.delayed = false;
                } else {
                    runtime.parked = false;
                    handed_back.push(index);
                }
            }
        }
        for index in handed_back {
            if let Some(Ok(probe)) = super::monitors::lock_probe(&self.slots[index]).take() {
                self.spawn_monitor(index, probe, true);
            }
        }
    }
}

/// Whether the next check of an event-driven monitor can only be a healthy one that
/// changes nothing: the daemon runs, the monitor is on and not in dummy-failure mode, its
/// ladder is at rest (Normal, no failure counted, no recovery step pending or to confirm)
/// and the engine knows a live process of its target.
fn at_rest(
    daemon: DaemonState,
    runtime: &MonitorRuntime,
    config: &MonitorConfig,
    resources: &super::ByName<ResourceRuntime>,
) -> bool {
    let ladder = &runtime.ladder;
    daemon == DaemonState::Running
        && runtime.enabled
        && !runtime.dummy_failure
        && ladder.status == MonitorStatus::Normal
        && ladder.consecutive_failures == 0
        && !ladder.recovering
        && !ladder.rechecking
        && config
            .target
            .as_deref()
            .and_then(|target| resources.get(target))
            .is_some_and(|resource| resource.process.is_some())
}

/// The batch task of one interval: a tick, the batch, until the engine is gone.
async fn run_batch(engine: Weak<Engine>, interval: Duration, indices: Vec<usize>) {
    let first = match engine.upgrade() {
        Some(engine) => engine.grid.on(Instant::now()),
        None => return,
    };
    let mut ticker = tokio::time::interval_at(first, interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        let deadline = ticker.tick().await;
        let Some(engine) = engine.upgrade() else {
            return;
        };
        engine.check_parked(&indices, deadline);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;
    use clp_core::monitor::{CheckFuture, CheckOutcome, Probe, ProbeContext};
    use clp_core::os_action::OsActions;
    use clp_core::paths::Paths;
    use clp_core::process::ProcessIdentity;
    use clp_core::store::Store;

    const CONFIG: &str = "[cluster]\nname = \"park\"\n\n[[group]]\nname = \"g\"\n\n\
        [[group.resource]]\nname = \"r\"\nmode = \"async\"\n\n\
        [[monitor]]\nname = \"p\"\ntype = \"pidw\"\ntarget = \"r\"\ninterval = 1\nretry = 5\n\
        [monitor.recovery]\ntarget = \"r\"\nfinal_action = \"none\"\n";

    /// How often the test probe's `check` ran (one test uses it).
    static PROBE_CHECKS: AtomicU64 = AtomicU64::new(0);

    /// pidw's contract, counting its calls.
    struct CountingPidw;

    impl Probe for CountingPidw {
        fn check(&mut self, context: ProbeContext) -> CheckFuture<'_> {
            PROBE_CHECKS.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                match context.target_process {
                    Some(_) => CheckOutcome::Normal,
                    None => CheckOutcome::Failure {
                        code: 1,
                        detail: "gone".into(),
                    },
                }
            })
        }

        fn watches_target_process(&self) -> bool {
            true
        }

        fn healthy_while_target_alive(&self) -> bool {
            true
        }
    }

    fn build(
        _: &clp_core::monitor::spec::ProbeSettings<'_>,
        _: &OsActions,
    ) -> Result<Box<dyn Probe>, String> {
        Ok(Box::new(CountingPidw))
    }

    fn set_process(engine: &Engine, process: Option<ProcessIdentity>) {
        if let Some(resource) = engine.lock().resources.get_mut("r") {
            resource.process = process;
        }
    }

    fn engine(dir: &std::path::Path) -> Arc<Engine> {
        let paths = Paths::new(dir);
        let scripts = paths.etc_dir().join("scripts/g/r");
        std::fs::create_dir_all(&scripts).expect("the scripts folder");
        std::fs::write(scripts.join("start.sh"), "#!/bin/sh\nexec sleep 600\n").expect("start.sh");
        std::fs::write(paths.config_file(), CONFIG).expect("clp.conf");
        let config = clp_core::config::load(&paths).expect("the configuration");
        let store = Store::open(&paths.store_dir()).expect("the store");
        let os = OsActions::new(config.os_actions.clone(), true);
        Engine::new(config, paths, store, os, |kind| {
            (kind == "pidw").then_some(build as clp_core::monitor::spec::BuildProbe)
        })
    }

    /// A monitor's task is its future (plus tokio's header): at 1,000 monitors every 100
    /// bytes of it are 0.1 MB of the daemon's memory.
    #[tokio::test]
    async fn a_monitor_task_is_small() {
        let dir = tempfile::tempdir().expect("a temporary root");
        let engine = engine(dir.path());
        let task = engine.run_monitor(0, Box::new(CountingPidw), false);
        let size = std::mem::size_of_val(&task);
        assert!(size < 640, "a monitor's task is {size} bytes");
    }

    #[tokio::test]
    async fn an_idle_pidw_is_counted_by_the_batch_and_its_task_wakes_only_on_a_change() {
        let dir = tempfile::tempdir().expect("a temporary root");
        let engine = engine(dir.path());
        set_process(
            &engine,
            Some(ProcessIdentity {
                pid: std::process::id(),
                start_time: 0,
            }),
        );
        {
            let mut state = engine.lock();
            state.daemon = DaemonState::Running;
            state.monitors[0].enabled = true;
        }
        engine.slots[0].switch(true);
        engine.spawn_monitors();

        // Three checks of 1 s: the first waits for its point of the grid (up to 500 ms),
        // the batch's first tick for another; a busy machine may add more.
        let waited = std::time::Instant::now();
        while engine.lock().monitors[0].checks < 3 && waited.elapsed() < Duration::from_secs(8) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let probe_checks = PROBE_CHECKS.load(Ordering::SeqCst);
        let (checks, parked, lateness) = {
            let state = engine.lock();
            let runtime = &state.monitors[0];
            (runtime.checks, runtime.parked, runtime.last_lateness)
        };
        assert_eq!(probe_checks, 1, "the task checked on its own while idle");
        assert!(parked, "an idle pidw was not parked");
        assert_eq!(
            engine.monitor_tasks.live.load(Ordering::SeqCst),
            0,
            "a parked monitor still has a task"
        );
        assert!(
            checks >= 3,
            "the status counts {checks} checks in {:?}",
            waited.elapsed()
        );
        assert!(
            lateness.is_some(),
            "no lateness shown for the batch's checks"
        );

        // The process is gone (the engine cleared it): the batch hands the monitor back and
        // its task checks again, and sees the fault.
        set_process(&engine, None);
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        assert!(
            PROBE_CHECKS.load(Ordering::SeqCst) > probe_checks,
            "the task did not check after its process went away"
        );
        assert_eq!(engine.monitor_tasks.live.load(Ordering::SeqCst), 1);
        let state = engine.lock();
        assert!(!state.monitors[0].parked);
        assert!(state.monitors[0].ladder.consecutive_failures >= 1);
    }
}
