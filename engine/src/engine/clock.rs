//! One timer for every monitor's schedule. A monitor waiting for its next check hangs its
//! [`Bell`] on the [`Clock`] at that instant; the clock's task sleeps until the earliest
//! instant and rings every bell due then. Monitors fall due together on the points of the
//! [grid](super::grid), so the clock wakes once per point for all of them, where a timer
//! per monitor went through the runtime's timer wheel once (and, for an instant a second
//! or more away, twice: once to move down a level) for each check.
//!
//! A bell hung again for another instant before it rang is hung anew, and the old hanging
//! is stale and rings nothing; hung again for the same instant (the monitor was woken or
//! switched in between, and waits for the same check), it keeps its hanging.
//!
//! The bells of one point ring a slice at a time ([`RUNG_AT_ONCE`]), so that a task woken
//! during a burst of checks (a watched process's death, whose restart is waited for) waits
//! for one slice of checks, not for all of them.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Waker};

use tokio::sync::Notify;
use tokio::time::Instant;

/// How many bells the clock rings before it lets the tasks woken meanwhile run: 500 checks
/// of a point take ~5 ms, a slice of 32 ~0.3 ms.
const RUNG_AT_ONCE: usize = 32;

/// The instants monitors wait for, with the bells to ring at each.
#[derive(Debug, Default)]
pub(super) struct Clock {
    due: Mutex<BTreeMap<Instant, Vec<Hanging>>>,
    /// Woken when an instant earlier than all others is added, and when the clock is gone.
    earlier: Arc<Notify>,
}

/// A bell hung for one wait.
#[derive(Debug)]
struct Hanging {
    bell: Arc<Bell>,
    /// The wait it was hung for: a later wait makes it stale.
    wait: u64,
}

/// One monitor's bell: what its task waits on.
#[derive(Debug, Default)]
pub(super) struct Bell(Mutex<BellState>);

#[derive(Debug, Default)]
struct BellState {
    /// The number of the last wait it was hung for.
    wait: u64,
    /// The number of the last wait it rang for.
    rung: u64,
    /// The instant of the last wait.
    at: Option<Instant>,
    waker: Option<Waker>,
}

impl Bell {
    fn state(&self) -> MutexGuard<'_, BellState> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Resolves when its bell rings for its wait.
#[derive(Debug)]
pub(super) struct Rung {
    bell: Arc<Bell>,
    wait: u64,
}

impl Future for Rung {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.bell.state();
        if state.rung == self.wait {
            return Poll::Ready(());
        }
        match &mut state.waker {
            Some(waker) => waker.clone_from(cx.waker()),
            None => state.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl Clock {
    /// The instants and their bells.
    fn due(&self) -> MutexGuard<'_, BTreeMap<Instant, Vec<Hanging>>> {
        self.due
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Hangs `bell` at `at`: the future resolves once the clock has reached `at` (at once
    /// when it has), unless the bell is hung again for another instant before.
    pub(super) fn ring_at(&self, bell: &Arc<Bell>, at: Instant) -> Rung {
        let wait = {
            let mut state = bell.state();
            if state.at == Some(at) {
                // Hung there already (a wait for the same check, given up for a switch or
                // a wake-up): the same hanging serves, so the clock holds at most one per
                // monitor however often it is woken.
                return Rung {
                    bell: Arc::clone(bell),
                    wait: state.wait,
                };
            }
            state.wait += 1;
            state.at = Some(at);
            state.wait
        };
        let first = {
            let mut due = self.due();
            let first = due.keys().next().is_none_or(|earliest| at < *earliest);
            due.entry(at).or_default().push(Hanging {
                bell: Arc::clone(bell),
                wait,
            });
            first
        };
        if first {
            self.earlier.notify_one();
        }
        Rung {
            bell: Arc::clone(bell),
            wait,
        }
    }

    /// Takes every bell due by `now` off the clock.
    /// Usually one point is due, and its list is handed over as it is: no copy, and no
    /// rebuilding of the later part of the map (as `split_off` would).
    fn take_due(&self, now: Instant) -> Vec<Hanging> {
        let mut due = self.due();
        let mut taken: Vec<Hanging> = Vec::new();
        while let Some(entry) = due.first_entry() {
            if *entry.key() > now {
                break;
            }
            let bells = entry.remove();
            if taken.is_empty() {
                taken = bells;
            } else {
                taken.extend(bells);
            }
        }
        taken
    }

    /// Rings `bells` (those not hung again since).
    fn ring(bells: &[Hanging]) {
        let mut wakers = Vec::with_capacity(bells.len());
        for hanging in bells {
            let mut state = hanging.bell.state();
            if state.wait == hanging.wait {
                state.rung = hanging.wait;
                wakers.extend(state.waker.take());
            }
        }
        for waker in wakers {
            waker.wake();
        }
    }

    /// The earliest instant anything is due.
    fn next(&self) -> Option<Instant> {
        let due = self.due();
        due.keys().next().copied()
    }

    /// The clock's task: rings the bells as their instants come, until the clock is gone.
    pub(super) async fn run(clock: Weak<Clock>) {
        loop {
            let due = match clock.upgrade() {
                Some(clock) => clock.take_due(Instant::now()),
                None => return,
            };
            // A slice at a time, the clock's task going to the back of the queue between
            // two: a task woken meanwhile (a pidfd's death, a command) runs after the
            // checks of one slice, not after every check of the point. The thread yields
            // its CPU too: a thread of the daemon woken meanwhile on the same CPU (the
            // worker that restarts a resource) would otherwise wait out the burst's time
            // slice, which the scheduler protects from a wake-up's preemption for ~3 ms.
            for (number, slice) in due.chunks(RUNG_AT_ONCE).enumerate() {
                if number > 0 {
                    tokio::task::yield_now().await;
                    std::thread::yield_now();
                }
                Clock::ring(slice);
            }
            let (next, earlier) = {
                let Some(clock) = clock.upgrade() else {
                    return;
                };
                (clock.next(), Arc::clone(&clock.earlier))
            };
            let notified = earlier.notified();
            match next {
                Some(at) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = notified => {}
                    }
                }
                None => notified.await,
            }
        }
    }
}

impl Drop for Clock {
    fn drop(&mut self) {
        // The task learns that the clock is gone and ends.
        self.earlier.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Waits for `rung`, then says how long after `start` it resolved.
    async fn resolved(rung: Rung, start: Instant) -> Duration {
        tokio::time::timeout(Duration::from_secs(10), rung)
            .await
            .expect("the bell rings within 10 s");
        start.elapsed()
    }

    #[tokio::test]
    async fn bells_ring_at_their_instants_and_a_bell_hung_again_rings_once() {
        let clock = Arc::new(Clock::default());
        let task = tokio::spawn(Clock::run(Arc::downgrade(&clock)));
        let start = Instant::now();
        let ms = Duration::from_millis;
        let (early, late, moved) = (
            Arc::new(Bell::default()),
            Arc::new(Bell::default()),
            Arc::new(Bell::default()),
        );
        // Hung out of order, and one hung at 100 ms, then again at 300 ms: the first
        // hanging is stale.
        let late_rung = clock.ring_at(&late, start + ms(200));
        let early_rung = clock.ring_at(&early, start + ms(50));
        let stale = clock.ring_at(&moved, start + ms(100));
        let moved_rung = clock.ring_at(&moved, start + ms(300));
        assert!(resolved(early_rung, start).await >= ms(50));
        let late_at = resolved(late_rung, start).await;
        assert!(late_at >= ms(200), "{late_at:?}");
        assert!(resolved(moved_rung, start).await >= ms(300));
        // The stale wait never resolves.
        assert!(tokio::time::timeout(ms(300), stale).await.is_err());
        // An instant already past rings at once; one earlier than all others wakes the
        // clock from a longer sleep.
        let _far = clock.ring_at(
            &Arc::new(Bell::default()),
            start + Duration::from_secs(3600),
        );
        let bell = Arc::new(Bell::default());
        resolved(clock.ring_at(&bell, start), start).await;
        let now = Instant::now();
        let soon = resolved(clock.ring_at(&bell, now + ms(20)), now).await;
        assert!(soon >= ms(20) && soon < Duration::from_secs(5), "{soon:?}");
        // Hung again for the same instant, a bell keeps its one hanging, and both waits
        // resolve.
        let again = Arc::new(Bell::default());
        let at = Instant::now() + ms(20);
        let first_wait = clock.ring_at(&again, at);
        let second_wait = clock.ring_at(&again, at);
        assert_eq!(clock.due.lock().unwrap().get(&at).map(Vec::len), Some(1));
        assert!(resolved(second_wait, start).await >= at - start);
        assert!(resolved(first_wait, start).await >= at - start);
        // Many bells at one instant ring, a slice at a time, all of them.
        let at = Instant::now() + ms(20);
        let many: Vec<Rung> = (0..RUNG_AT_ONCE * 3 + 1)
            .map(|_| clock.ring_at(&Arc::new(Bell::default()), at))
            .collect();
        for rung in many {
            assert!(resolved(rung, start).await >= at - start);
        }
        // The task ends with the clock.
        drop(clock);
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("the clock's task ends with the clock")
            .unwrap();
    }
}
