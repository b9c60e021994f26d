//! The daemon's lifecycle: the start (restore, licenses, monitors, groups), the orderly
//! stop, suspend and resume, and stop requests.

use std::sync::Arc;

use clp_core::ipc::{AfterStop, ErrorCode};
use clp_core::status::{DaemonState, ObjectStatus};

use super::{Cause, Engine, MONITOR_STOP_WAIT, OperationError, handoff};

/// How long after the start monitoring has settled: the first checks of monitors switched
/// on at the start ran, and the idle ones parked.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(30);

impl Engine {
    /// Restores what survived a previous run, starts the monitor tasks and the groups.
    pub fn start(self: &Arc<Self>, requested_by: Option<&str>) {
        self.alert("pm", 1, &[]);
        let handed_over = self.take_handed_over_groups();
        match (&handed_over, requested_by) {
            // The previous clppm handed its resources over: for the alert log this is the
            // resume of a suspend (cl 3/pm 35 were logged by the previous process).
            (Some(_), client) => {
                let client = client.unwrap_or("clppm");
                self.alert("cl", 4, &[self.server(), client]);
                self.alert("pm", 34, &[client]);
            }
            (None, Some(client)) => self.alert("cl", 1, &[self.server(), client]),
            (None, None) => {}
        }
        let unclean = self
            .store
            .meta::<bool>("running")
            .ok()
            .flatten()
            .unwrap_or(false);
        if unclean {
            tracing::warn!("the previous clppm did not stop cleanly; adopting what still runs");
        }
        if let Err(error) = self.store.put_meta("running", &true) {
            tracing::error!("cannot mark the store running: {error}");
        }
        let licensed = self.check_licenses();
        {
            let mut state = self.lock();
            for (index, monitor) in self.config.monitors.iter().enumerate() {
                if let Some(product) = clp_core::license::required_product(&monitor.kind)
                    && !licensed.contains(product)
                {
                    state.monitors[index].unlicensed = true;
                    self.alert("rm", 160, &[&monitor.name]);
                }
            }
        }
        self.watch_core_license();
        if let Some(mail) = &self.config.mail
            && licensed.contains("ALRT10")
        {
            let engine = Arc::downgrade(self);
            let server = format!("{}:{}", mail.server, mail.port);
            let mailer = clp_core::mail::Mailer::start(mail.clone(), move |sent| {
                let Some(engine) = engine.upgrade() else {
                    return;
                };
                match sent {
                    clp_core::mail::Sent::Delivered => engine.alert("mail", 6, &[&server]),
                    clp_core::mail::Sent::Failed(error) => {
                        engine.alert("mail", 5, &[&error, &server])
                    }
                }
            });
            self.alert_sink.set_mailer(mailer);
        }
        // What the operator had suspended before a hand-off stays suspended.
        let suspension = if handed_over.is_some() {
            self.take_handed_over_suspension()
        } else {
            handoff::Suspension::default()
        };
        {
            let mut state = self.lock();
            for (index, monitor) in self.config.monitors.iter().enumerate() {
                if suspension.monitors.contains(&monitor.name) {
                    state.monitors[index].suspended = true;
                }
            }
        }
        self.restore_resources();
        self.spawn_monitors();
        let engine = Arc::clone(self);
        self.spawn(async move {
            let _operation = engine.operations.lock().await;
            {
                let mut state = engine.lock();
                if state.daemon == DaemonState::Starting {
                    state.daemon = if suspension.daemon {
                        DaemonState::Suspended
                    } else {
                        DaemonState::Running
                    };
                }
                engine.refresh_monitors(&mut state, Cause::Lifecycle);
            }
            match handed_over {
                // After a hand-off: the groups that were active, and only those whose
                // resources did not all survive (the others are adopted as they run).
                // (In an HA cluster, groups are restarted only after taking their owner
                // key: those adopted take it when etcd answers, see ownership.rs.)
                Some(_) if engine.config.is_cluster() => {}
                Some(groups) => {
                    for name in groups {
                        if engine.is_stopping() {
                            break;
                        }
                        if !engine.group_fully_online(&name) {
                            engine.start_group_locked(&name, "START").await;
                        }
                    }
                }
                // An HA cluster places its groups once etcd answers (ownership.rs).
                None if engine.config.is_cluster() => {}
                None => {
                    for group in engine.config.groups.iter().filter(|g| g.auto_start) {
                        if engine.is_stopping() {
                            break;
                        }
                        engine.start_group_locked(&group.name, "START").await;
                    }
                }
            }
            // The start is over: the code and constants only it used need not stay
            // resident (what monitoring runs is mapped back at its next use).
            let dropped = clp_core::code_pages::release_startup_pages();
            tracing::debug!(
                "start-up over: {} KiB of program pages unmapped",
                dropped >> 10
            );
            // Once monitoring settled (the first checks ran, idle monitors parked and their
            // tasks ended), what ran only then goes too, and the heap the start freed.
            tokio::spawn(async {
                tokio::time::sleep(SETTLE).await;
                let dropped = clp_core::code_pages::release_startup_pages();
                let trimmed = clp_core::code_pages::release_free_heap();
                tracing::debug!(
                    "monitoring settled: {} KiB of program pages unmapped, heap trimmed: {trimmed}",
                    dropped >> 10
                );
                // From now on what runs stays in memory: a restart after a quiet spell does
                // not wait for its code to come back from disk.
                match clp_core::code_pages::keep_code_resident() {
                    Ok(locked) => tracing::debug!(
                        "program pages locked on fault: {} KiB of mappings",
                        locked >> 10
                    ),
                    Err(error) => tracing::warn!("{error}"),
                }
            });
        });
    }

    pub(super) fn is_stopping(&self) -> bool {
        self.lock().daemon == DaemonState::Stopping
    }

    /// Asks the daemon to stop (idempotent; the first request's after-action wins).
    pub fn request_stop(&self, then: AfterStop) {
        self.stop_request.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(then);
                true
            } else {
                false
            }
        });
    }

    /// Waits for a stop request.
    pub async fn stop_requested(&self) -> AfterStop {
        let mut receiver = self.stop_request.subscribe();
        loop {
            if let Some(then) = *receiver.borrow_and_update() {
                return then;
            }
            if receiver.changed().await.is_err() {
                return AfterStop::Nothing;
            }
        }
    }

    /// Waits until the orderly stop has finished.
    pub async fn wait_stopped(&self) {
        let mut receiver = self.stopped.subscribe();
        while !*receiver.borrow_and_update() {
            if receiver.changed().await.is_err() {
                return;
            }
        }
    }

    /// The orderly stop: monitors off, groups stopped in reverse order, the store marked clean.
    pub async fn shutdown(self: &Arc<Self>) {
        self.alert("pm", 2, &[]);
        {
            let mut state = self.lock();
            state.daemon = DaemonState::Stopping;
            self.refresh_monitors(&mut state, Cause::Lifecycle);
        }
        self.end_monitor_tasks().await;
        let _operation = self.operations.lock().await;
        for group in self.config.groups.iter().rev() {
            let active = {
                let state = self.lock();
                let group_active = state.groups.get(&group.name).is_some_and(|g| g.active);
                group_active
                    || group.resources.iter().any(|r| {
                        state
                            .resources
                            .get(&r.name)
                            .is_some_and(|r| r.status != ObjectStatus::Offline)
                    })
            };
            if active {
                self.stop_group_locked(&group.name, "CLUSTERSHUTDOWN").await;
            }
        }
        if let Err(error) = self.store.put_meta("running", &false) {
            tracing::error!("cannot mark the store stopped: {error}");
        }
        self.stopped.send_replace(true);
    }

    /// Ends every monitor task (the daemon is stopping): a check in flight finishes first,
    /// one that hangs is not waited for long. A parked monitor has no task: its probe is
    /// stopped here.
    pub(super) async fn end_monitor_tasks(&self) {
        // Wake every task, also those already switched off, so that each one ends.
        for slot in &self.slots {
            slot.switch(false);
        }
        {
            let mut state = self.lock();
            for (runtime, slot) in state.monitors.iter_mut().zip(&self.slots) {
                if std::mem::take(&mut runtime.parked)
                    && let Some(Ok(mut probe)) = super::monitors::lock_probe(slot).take()
                {
                    probe.stop();
                }
            }
        }
        let deadline = tokio::time::Instant::now() + MONITOR_STOP_WAIT;
        if tokio::time::timeout_at(deadline, self.monitor_tasks.none_left())
            .await
            .is_err()
        {
            tracing::warn!("a monitor did not stop in time");
        }
    }

    /// `clpcl --suspend`: monitors stop, resources keep running, operations are refused.
    pub fn suspend(&self, client: &str) -> Result<(), OperationError> {
        let mut state = self.lock();
        match state.daemon {
            DaemonState::Suspended => {
                return Err(OperationError::new(
                    ErrorCode::Suspended,
                    "clppm is already suspended",
                ));
            }
            DaemonState::Stopping => {
                return Err(OperationError::new(
                    ErrorCode::Stopping,
                    "clppm is stopping",
                ));
            }
            _ => {}
        }
        self.alert("cl", 3, &[self.server(), client]);
        self.alert("pm", 35, &[client]);
        state.daemon = DaemonState::Suspended;
        self.refresh_monitors(&mut state, Cause::Suspension);
        self.alert("rm", 31, &[]);
        Ok(())
    }

    /// `clpcl --resume`.
    pub fn resume(&self, client: &str) -> Result<(), OperationError> {
        let mut state = self.lock();
        match state.daemon {
            DaemonState::Suspended => {}
            DaemonState::Stopping => {
                return Err(OperationError::new(
                    ErrorCode::Stopping,
                    "clppm is stopping",
                ));
            }
            _ => {
                return Err(OperationError::new(
                    ErrorCode::AlreadyStarted,
                    "clppm is not suspended (it is running); nothing was done",
                ));
            }
        }
        self.alert("cl", 4, &[self.server(), client]);
        self.alert("pm", 34, &[client]);
        state.daemon = DaemonState::Running;
        self.refresh_monitors(&mut state, Cause::Suspension);
        self.alert("rm", 32, &[]);
        Ok(())
    }

    /// Logs a stop request (cl 2, pm 31 or the shutdown/reboot ones) and asks for the stop.
    pub fn stop_from(&self, client: &str, then: AfterStop) {
        match then {
            AfterStop::Nothing => {
                self.alert("cl", 2, &[self.server(), client]);
                self.alert("pm", 31, &[client]);
            }
            AfterStop::Shutdown => {
                self.alert("down", 1, &[self.server(), client]);
                self.alert("pm", 30, &[client]);
            }
            AfterStop::Reboot => {
                self.alert("down", 2, &[self.server(), client]);
                self.alert("pm", 32, &[client]);
            }
        }
        self.request_stop(then);
    }

    pub(super) fn check_operable(&self) -> Result<(), OperationError> {
        match self.lock().daemon {
            DaemonState::Suspended => Err(OperationError::new(
                ErrorCode::Suspended,
                "clppm is suspended; resume it with 'clpcl --resume' first",
            )),
            DaemonState::Stopping => Err(OperationError::new(
                ErrorCode::Stopping,
                "clppm is stopping",
            )),
            _ => Ok(()),
        }
    }
}
