//! The monitor scheduler: one task per monitor, switched on and off by the engine, and the
//! executor of the ladder's decisions.

use std::sync::Arc;
use std::task::Poll;

use tokio::time::Instant;

use super::clock::Bell;

use super::policy::Observation;
use super::{Cause, Engine, State};
use clp_core::config::Timing;
use clp_core::monitor::{CheckOutcome, Probe, ProbeContext};
use clp_core::status::{DaemonState, MonitorStatus, ObjectStatus};

/// The detail code of a failure reported in dummy-failure mode.
const DUMMY_FAILURE: u32 = 9;

/// The detail code of a check abandoned at its timeout.
const CHECK_TIMEOUT: u32 = 99;

/// The unit of `rm 71`'s times: the original counts in ticks of 1/100 s.
const TICKS_PER_SECOND: u32 = 100;

/// Whether a monitor with this probe parks when idle ([`parking`](super::parking)): its
/// check only says whether the engine knows a live target process, and it has no wake-up
/// of its own (a parked monitor has no task to wake).
fn parks(probe: &dyn Probe) -> bool {
    probe.healthy_while_target_alive() && probe.wake().is_none()
}

/// A monitor's probe in its slot (taken by its task, left there while it is parked).
pub(super) fn lock_probe(
    slot: &super::MonitorSlot,
) -> std::sync::MutexGuard<'_, Option<Result<Box<dyn Probe>, String>>> {
    slot.probe
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl From<CheckOutcome> for Observation {
    fn from(outcome: CheckOutcome) -> Self {
        match outcome {
            CheckOutcome::Normal => Observation::Healthy,
            CheckOutcome::Warning { code, detail } => Observation::Warned { code, detail },
            CheckOutcome::Failure { code, detail } => Observation::Failed { code, detail },
        }
    }
}

/// What ended a monitor task's wait.
enum Wait {
    /// The check scheduled is due.
    Due,
    /// The probe's wake-up fired: a check now, the schedule unchanged.
    Woken,
    /// The monitor was switched on or off.
    Switched,
}

/// The check due after one due at `due`, every `interval`: the first such instant after
/// `now`, so that checks missed while a check ran late are skipped and the schedule keeps
/// its points on the grid.
fn following(due: Instant, interval: std::time::Duration, now: Instant) -> Instant {
    let next = due + interval;
    if next > now || interval.is_zero() {
        return next;
    }
    let missed = now.duration_since(next).as_nanos() / interval.as_nanos() + 1;
    next + interval * u32::try_from(missed).unwrap_or(u32::MAX)
}

/// Resolves when the probe fires its wake-up (never for probes without one). Probes use
/// `notify_one`, which keeps a permit, so a wake-up between two waits is not lost.
async fn woken(wake: Option<&tokio::sync::Notify>) {
    match wake {
        Some(notify) => notify.notified().await,
        None => std::future::pending().await,
    }
}

/// Resolves when the monitor is switched off.
async fn wait_until_off(slot: &super::MonitorSlot) {
    while slot.is_enabled() {
        slot.switched.notified().await;
    }
}

impl Engine {
    /// Starts the task of every monitor whose probe was built (switched off until the
    /// engine enables it); a probe that could not be built is rm 7.
    pub(super) fn spawn_monitors(self: &Arc<Self>) {
        self.spawn_on_monitor_thread(super::clock::Clock::run(Arc::downgrade(&self.clock)));
        let mut parkable = Vec::new();
        for (index, config) in self.config.monitors.iter().enumerate() {
            if self.lock().monitors[index].unlicensed {
                continue;
            }
            let built = self.slots[index]
                .probe
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .take();
            let probe = match built {
                Some(Ok(probe)) => probe,
                Some(Err(error)) => {
                    tracing::error!(monitor = %config.name, "{error}");
                    self.lock().monitors[index].unbuilt = true;
                    self.alert("rm", 7, &[&config.name]);
                    continue;
                }
                None => continue,
            };
            if parks(probe.as_ref()) {
                parkable.push(index);
            }
            self.spawn_monitor(index, probe, false);
        }
        self.spawn_parking(&parkable);
    }

    /// Starts monitor `index`'s task; `resumed`: handed back from the parked batch, it
    /// checks at once. No tracing span per monitor (at 1,000 monitors their records were
    /// 0.4 MB): what a monitor logs names it.
    pub(super) fn spawn_monitor(
        self: &Arc<Self>,
        index: usize,
        probe: Box<dyn Probe>,
        resumed: bool,
    ) {
        let task = super::MonitorTask::new(self);
        self.spawn_on_monitor_thread(
            async move { task.0.run_monitor(index, probe, resumed).await },
        );
    }

    /// One monitor's task: while enabled, a check every interval — and at once when the
    /// probe's wake-up fires (event-driven types); a check in flight is dropped when the
    /// monitor is switched off. A monitor that parks ([`parking`](super::parking)) leaves
    /// its probe in its slot and its task ends; the batch starts a new one to hand it back.
    pub(super) async fn run_monitor(
        self: &Arc<Self>,
        index: usize,
        mut probe: Box<dyn Probe>,
        mut resumed: bool,
    ) {
        let config = &self.config.monitors[index];
        // Read once: a check then does not touch the monitor's configuration, whose memory
        // has gone cold in the second since its last check (at 1,000 httpw, the load of
        // `interval` was a third of this task's own CPU).
        let (interval, timeout) = (config.interval, config.timeout);
        let slot = &self.slots[index];
        let bell = Arc::new(Bell::default());
        let wake = probe.wake();
        let parkable = parks(probe.as_ref());
        if resumed && !slot.is_enabled() {
            // Switched off while parked: released as a running monitor's probe would be.
            probe.stop();
            resumed = false;
        }
        loop {
            while !slot.is_enabled() {
                if self.is_stopping() {
                    probe.stop();
                    return;
                }
                slot.switched.notified().await;
            }
            let first = if resumed {
                // Handed back by the batch: the check runs now, the next ones at the
                // monitor's phase (see `phased_in`).
                Instant::now()
            } else {
                // A monitor that follows a resource (timing = "active") gives it one
                // interval to come up, and after a recovery step the target gets one
                // interval to prove itself (a process that dies right after its restart is
                // not taken for healthy); otherwise the first check comes at once, after
                // wait_before_start.
                let in_error = self.lock().monitors[index].ladder.status == MonitorStatus::Error;
                let settle = if in_error || config.timing == clp_core::config::Timing::Active {
                    config.interval
                } else {
                    std::time::Duration::ZERO
                };
                self.grid
                    .on(Instant::now() + config.wait_before_start + settle)
            };
            resumed = false;
            let mut next = first;
            let mut phased_in = false;
            loop {
                let event = tokio::select! {
                    () = slot.switched.notified() => Wait::Switched,
                    () = self.clock.ring_at(&bell, next) => Wait::Due,
                    () = woken(wake.as_deref()) => Wait::Woken,
                };
                let deadline = match event {
                    Wait::Due => next,
                    Wait::Woken => Instant::now(),
                    Wait::Switched if slot.is_enabled() => continue,
                    Wait::Switched => break,
                };
                if !phased_in {
                    // The first check came at once; from the next one on the monitor keeps
                    // its phase of the grid (the second one comes half an interval to one and
                    // a half after the first).
                    next = self.grid.phased(deadline + interval / 2, index, interval);
                    phased_in = true;
                } else if matches!(event, Wait::Due) {
                    next = following(next, interval, Instant::now());
                }
                let started = Instant::now();
                let lateness = started.saturating_duration_since(deadline);
                let (dummy_failure, target_process) = self.before_check(index);
                let context = ProbeContext {
                    lateness,
                    timeout,
                    target_process,
                };
                let outcome = tokio::select! {
                    // The check first: one that is done at once never waits on the switch.
                    biased;
                    outcome = run_check(probe.as_mut(), context, dummy_failure) => outcome,
                    // Switched off mid-check: the check is dropped, its result unwanted.
                    () = wait_until_off(slot) => break,
                };
                let healthy = outcome == CheckOutcome::Normal;
                let (delayed, at_rest) =
                    self.record_check(index, timeout, started.elapsed(), lateness, healthy);
                if let Some(took) = delayed {
                    self.delay_warning(index, took);
                }
                // A healthy check of a ladder at rest changes nothing: no call (and no
                // clone of the ladder) for it.
                if slot.is_enabled() && !at_rest {
                    self.observe(index, outcome.into());
                }
                if parkable && healthy && slot.is_enabled() {
                    // The probe waits in the slot, where the batch finds it to hand the
                    // monitor back; put there before the monitor counts as parked.
                    *lock_probe(slot) = Some(Ok(probe));
                    if self.park(index) {
                        return;
                    }
                    match lock_probe(slot).take() {
                        Some(Ok(taken)) => probe = taken,
                        _ => return,
                    }
                }
            }
            // Switched off.
            probe.stop();
            if self.is_stopping() {
                return;
            }
        }
    }

    /// Counts a check; returns its duration when it starts a delay (rm 71 is due), and
    /// whether it was healthy with the ladder at rest (Normal, no failure counted, no
    /// recovery step pending or to confirm): then observing it would change nothing.
    fn record_check(
        &self,
        index: usize,
        timeout: std::time::Duration,
        took: std::time::Duration,
        lateness: std::time::Duration,
        healthy: bool,
    ) -> (Option<std::time::Duration>, bool) {
        let rate = u32::from(self.config.cluster.monitor_delay_warning);
        // A check abandoned at its timeout is a failure, not a delay.
        let delayed = took > timeout * rate / 100 && took < timeout;
        let mut state = self.lock();
        let running = state.daemon == DaemonState::Running;
        let runtime = &mut state.monitors[index];
        runtime.checks += 1;
        runtime.last_check = Some(took);
        runtime.last_lateness = Some(lateness);
        runtime.check_total = runtime.check_total.saturating_add(took);
        runtime.check_max = runtime.check_max.max(took);
        runtime.checked_at = Some(std::time::Instant::now());
        let starts = delayed && !runtime.delayed;
        runtime.delayed = delayed;
        let ladder = &runtime.ladder;
        let at_rest = healthy
            && running
            && ladder.status == MonitorStatus::Normal
            && ladder.consecutive_failures == 0
            && !ladder.recovering
            && !ladder.rechecking;
        (starts.then_some(took), at_rest)
    }

    /// `rm 71`: a check took longer than the delay warning rate of its timeout (logged once
    /// per run of delayed checks). Times are in ticks of 1/100 s, as the original counts.
    fn delay_warning(&self, index: usize, took: std::time::Duration) {
        let config = &self.config.monitors[index];
        self.alert(
            "rm",
            71,
            &[
                &config.name,
                &format!("{}", config.timeout.as_secs_f64()),
                &TICKS_PER_SECOND.to_string(),
                &(took.as_millis() / (1000 / u128::from(TICKS_PER_SECOND))).to_string(),
                &self.config.cluster.monitor_delay_warning.to_string(),
            ],
        );
    }

    /// What a check of monitor `index` needs of the state, under one lock: whether it is in
    /// dummy-failure mode, and the live process of its target that the engine knows.
    fn before_check(&self, index: usize) -> (bool, Option<clp_core::process::ProcessIdentity>) {
        let state = self.lock();
        let target = self.config.monitors[index].target.as_deref();
        (
            state.monitors[index].dummy_failure,
            target.and_then(|target| state.resources.get(target).and_then(|r| r.process)),
        )
    }

    /// Switches each monitor's task on or off to match the state; logs rm 1/rm 2 for real
    /// starts and stops.
    pub(super) fn refresh_monitors(&self, state: &mut State, cause: Cause) {
        self.refresh(state, cause, 0..self.config.monitors.len());
    }

    /// [`Self::refresh_monitors`] after a change of `resource` alone: only the monitors
    /// that follow it can change (the others depend on the daemon's state, suspension and
    /// licenses, whose every change refreshes them all).
    pub(super) fn refresh_followers(&self, state: &mut State, resource: &str) {
        let followers = self.followers(resource);
        self.refresh(state, Cause::Lifecycle, followers.iter().copied());
    }

    fn refresh(&self, state: &mut State, cause: Cause, indices: impl Iterator<Item = usize>) {
        for index in indices {
            let config = &self.config.monitors[index];
            let target_active = match (config.timing, &config.target) {
                (Timing::Active, Some(target)) => state
                    .resources
                    .get(target)
                    .is_some_and(|r| r.status == ObjectStatus::Online && !r.stopping),
                (Timing::Active, None) => false,
                (Timing::Always, _) => true,
            };
            let lifecycle_on = state.daemon == DaemonState::Running && target_active;
            let suspended = state.monitors[index].suspended;
            let enabled = lifecycle_on && !suspended && !state.monitors[index].unlicensed;
            let was = state.monitors[index].enabled;
            if was != enabled {
                state.monitors[index].enabled = enabled;
                state.monitors[index].checked_at = enabled.then(std::time::Instant::now);
                self.slots[index].switch(enabled);
                if cause == Cause::Lifecycle && !suspended {
                    self.alert("rm", if enabled { 1 } else { 2 }, &[&config.name]);
                }
            }
        }
    }
}

/// One check: the probe's answer within the context's timeout, or the dummy failure.
async fn run_check(
    probe: &mut dyn Probe,
    context: ProbeContext,
    dummy_failure: bool,
) -> CheckOutcome {
    if dummy_failure {
        return CheckOutcome::Failure {
            code: DUMMY_FAILURE,
            detail: "Dummy failure.".to_string(),
        };
    }
    let timeout = context.timeout;
    let deadline = Instant::now() + timeout;
    let mut check = probe.check(context);
    // Most checks are done at their first poll (a loopback connect, a cached read, a
    // pidfd): those need no timer.
    let first = std::future::poll_fn(|cx| Poll::Ready(check.as_mut().poll(cx))).await;
    if let Poll::Ready(outcome) = first {
        return outcome;
    }
    match tokio::time::timeout_at(deadline, check).await {
        Ok(outcome) => outcome,
        Err(_) => CheckOutcome::Failure {
            code: CHECK_TIMEOUT,
            detail: format!("Monitor timed out after {} seconds.", timeout.as_secs_f64()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_next_check_keeps_the_schedule_and_skips_what_was_missed() {
        let second = Duration::from_secs(1);
        let due = Instant::now();
        // On time: one interval on.
        assert_eq!(
            following(due, second, due + Duration::from_millis(5)),
            due + second
        );
        // The check ran 2.5 intervals late: the two missed ones are skipped, the schedule
        // keeps its phase.
        assert_eq!(
            following(due, second, due + Duration::from_millis(2_500)),
            due + 3 * second
        );
        // Exactly on a missed instant: the next one after it.
        assert_eq!(following(due, second, due + 2 * second), due + 3 * second);
        assert_eq!(following(due, Duration::ZERO, due + second), due);
    }
}
