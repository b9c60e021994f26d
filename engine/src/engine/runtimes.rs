//! The engine's two runtimes: the operations' runtime (group and resource operations,
//! recoveries, child exits, requests) and the monitors' own thread.
//!
//! Every monitor task and the parked monitors' batches run on one current-thread runtime in
//! a thread of its own (`clp-monitors`). A check then never holds up a restart: a resource's
//! exit is seen, and its recovery runs, on the operations' runtime, whose workers the checks
//! of 1,000 monitors no longer keep busy. One thread also means no wake-ups between workers
//! for the checks (a work-stealing runtime wakes an idle worker for every task it queues).
//! At 10,000 monitors the checks take ~20 % of a core (`benches/scale`), so one thread has
//! room.
//!
//! Whatever the engine starts in the background goes through [`Engine::spawn`], which puts
//! it on the operations' runtime even when a monitor task asks (a monitor's failure starts
//! its recovery from the monitor thread).
//!
//! The monitor thread lives as long as the operations' runtime: a task there holds the
//! thread's stop signal, and when that runtime shuts down (the daemon exits, a test ends)
//! the signal drops and the monitor runtime ends, dropping its tasks.

use std::future::Future;

use tokio::runtime::Handle;
use tokio::task::JoinHandle;

use super::Engine;

/// The name of the monitors' thread (as `top -H` and `/proc/PID/task/*/comm` show it).
const MONITOR_THREAD: &str = "clp-monitors";

/// Where the engine's tasks run ([`Engine::spawn`], [`Engine::spawn_on_monitor_thread`]).
#[derive(Default)]
pub(super) struct Runtimes {
    /// The operations' runtime: the one current when the engine was made or first started.
    operations: std::sync::OnceLock<Handle>,
    /// The monitors' current-thread runtime, started with the first monitor task.
    monitors: std::sync::OnceLock<Handle>,
}

impl Runtimes {
    /// Runtimes whose operations' runtime is the current one, if there is one now.
    pub(super) fn new() -> Runtimes {
        let runtimes = Runtimes::default();
        if let Ok(current) = Handle::try_current() {
            let _ = runtimes.operations.set(current);
        }
        runtimes
    }

    /// The operations' runtime: the one recorded, else the current one (recorded now).
    fn operations(&self) -> Handle {
        self.operations.get_or_init(Handle::current).clone()
    }

    /// The monitors' runtime, started on first use. When its thread cannot be started (a
    /// process out of threads), the monitors run on the operations' runtime, as said in
    /// the log.
    fn monitors(&self) -> Handle {
        self.monitors
            .get_or_init(|| {
                let operations = self.operations();
                start_monitor_thread(&operations).unwrap_or_else(|error| {
                    tracing::warn!(
                        "cannot start the monitors' thread ({error}); the monitors run beside the operations"
                    );
                    operations
                })
            })
            .clone()
    }
}

/// Starts the `clp-monitors` thread with a current-thread runtime, which runs until the
/// stop signal that a task of `operations` holds is dropped.
fn start_monitor_thread(operations: &Handle) -> std::io::Result<Handle> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("clp-monitors-io")
        .build()?;
    let handle = runtime.handle().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    std::thread::Builder::new()
        .name(MONITOR_THREAD.to_string())
        .spawn(move || {
            // Ends when the sender is dropped, with the task that holds it.
            let _ = runtime.block_on(stopped);
            // Dropping the runtime drops the monitor tasks still there.
            drop(runtime);
        })?;
    operations.spawn(async move {
        let _stop = stop;
        std::future::pending::<()>().await;
    });
    Ok(handle)
}

impl Engine {
    /// Runs `future` on the operations' runtime, wherever it is asked from (a monitor's
    /// failure starts its recovery from the monitor thread).
    pub(super) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.runtimes.operations().spawn(future)
    }

    /// Runs `future` on the monitors' thread ([module docs](self)).
    pub(super) fn spawn_on_monitor_thread<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.runtimes.monitors().spawn(future)
    }
}
