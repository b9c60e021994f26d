//! The grid checks fall due on. Monitors of one interval share its points, so the monitor
//! thread wakes once per point for a burst of checks instead of once per monitor at a phase
//! of its own; a burst also lets the probes' peers (a local server woken by each
//! connection) serve the burst in one go.
//!
//! The step is the daemon's: as coarse as [`COARSEST`] while the points stay small, finer
//! (down to [`FINEST`]) as the checks a second grow, so that no point holds much more than
//! [`CHECKS_PER_POINT`] checks and the last check of a burst starts little later than the
//! first. 1,000 monitors of 1 s fall due on 2 points a second; 10,000 on 40.
//!
//! Why bursts this coarse: each burst wakes the monitor thread and, for the network probes,
//! the local servers on the other CPU, and on a virtual machine that costs far more than
//! the checks' order suggests. The same 300 network probes a second made by a C loop
//! cost 0.37 % of a core in one burst and 0.62 % in ten; clp's 1,000 mixed monitors cost
//! 1.43 % on 10 points a second, 1.20 % on 4, 1.00 % on 2 and 0.97 % on 1, with the last
//! check of a point starting at most 6 ms (2 points) or 19 ms (1 point) after the first
//! (benches/PROFILE.md, session 24).

use std::time::Duration;

use tokio::time::Instant;

/// The coarsest step: a monitor's first check waits at most this long for its point, and
/// coarser bursts saved no more CPU (benches/PROFILE.md, session 24).
const COARSEST: Duration = Duration::from_millis(500);

/// The finest step (at most 100 points a second).
const FINEST: Duration = Duration::from_millis(10);

/// About how many checks one point holds before the step is made finer: 500 checks of
/// the scale mix take ~5 ms on an Intel VM, ~10 on an AMD one (benches/PROFILE.md,
/// session 29).
const CHECKS_PER_POINT: f64 = 500.0;

/// Above this many checks a second, a point holds half as many ([`CHECKS_PER_POINT`] / 2):
/// the points come often enough that a wake-up more costs little beside the checks, and a
/// point's last check starts half as late (at 10,000 on the AMD VM, a lateness p99 of 20 ms
/// was the length of a point's burst).
const FINER_ABOVE: f64 = 2_000.0;

/// A grid of points `step` apart, from `base`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Grid {
    base: Instant,
    step: Duration,
}

impl Grid {
    /// The grid of monitors checking at `intervals`, starting now.
    pub(super) fn for_intervals(intervals: impl IntoIterator<Item = Duration>) -> Grid {
        let checks_a_second: f64 = intervals
            .into_iter()
            .map(|interval| 1.0 / interval.as_secs_f64().max(FINEST.as_secs_f64()))
            .sum();
        // Half a check of margin: 20,000 monitors of 10 s sum to a hair over 2,000.
        let per_point = if checks_a_second > FINER_ABOVE + 0.5 {
            CHECKS_PER_POINT / 2.0
        } else {
            CHECKS_PER_POINT
        };
        let step = if checks_a_second > 0.0 {
            Duration::from_secs_f64((per_point / checks_a_second).min(1.0))
        } else {
            COARSEST
        };
        Grid {
            base: Instant::now(),
            step: step.clamp(FINEST, COARSEST),
        }
    }

    /// The distance between two points.
    #[cfg(test)]
    pub(super) fn step(&self) -> Duration {
        self.step
    }

    /// The first point at or after `at`.
    pub(super) fn on(&self, at: Instant) -> Instant {
        let step = self.step.as_nanos();
        let steps = at
            .saturating_duration_since(self.base)
            .as_nanos()
            .div_ceil(step);
        self.base + Duration::from_nanos(u64::try_from(steps * step).unwrap_or(u64::MAX))
    }

    /// The first point at or after `at` that is monitor `index`'s phase: the monitors of one
    /// interval spread evenly over its points (index modulo the points), so that those
    /// switched on together (all of them, at the daemon's start) do not fall due together
    /// every interval ever after.
    pub(super) fn phased(&self, at: Instant, index: usize, interval: Duration) -> Instant {
        let at = self.on(at);
        let step = self.step.as_nanos();
        let points = (interval.as_nanos() / step).max(1);
        let phase = u128::try_from(index).unwrap_or(0) % points;
        let point = at.saturating_duration_since(self.base).as_nanos() / step;
        let ahead = (phase + points - point % points) % points;
        at + Duration::from_nanos(u64::try_from(ahead * step).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seconds(n: usize, each: u64) -> Vec<Duration> {
        vec![Duration::from_secs(each); n]
    }

    #[test]
    fn the_step_keeps_points_small_between_its_bounds() {
        let step = |intervals: Vec<Duration>| Grid::for_intervals(intervals).step();
        assert_eq!(step(Vec::new()), COARSEST);
        assert_eq!(step(seconds(10, 1)), COARSEST);
        assert_eq!(step(seconds(1_000, 1)), COARSEST);
        assert_eq!(step(seconds(2_000, 1)), Duration::from_millis(250));
        assert_eq!(step(seconds(20_000, 10)), Duration::from_millis(250));
        assert_eq!(
            step(seconds(4_000, 1)),
            Duration::from_millis(62) + Duration::from_micros(500)
        );
        assert_eq!(step(seconds(10_000, 1)), Duration::from_millis(25));
        assert_eq!(step(seconds(100_000, 1)), FINEST);
        // 10,000 monitors of 10 s are 1,000 checks a second, as 1,000 of 1 s.
        assert_eq!(step(seconds(10_000, 10)), COARSEST);
    }

    #[test]
    fn checks_fall_due_on_shared_points() {
        let grid = Grid::for_intervals(seconds(1_000, 1));
        let now = Instant::now();
        let mut points = std::collections::BTreeSet::new();
        for micros in 0..2_000 {
            let at = now + Duration::from_micros(micros * 10);
            let due = grid.on(at);
            assert!(
                due >= at && due - at < grid.step(),
                "{micros}: {:?}",
                due - at
            );
            points.insert(due);
        }
        // 20 ms of instants share at most 2 points: 2 timer wake-ups, not 2,000.
        assert!(points.len() <= 2, "{} points", points.len());
    }

    #[test]
    fn monitors_switched_on_together_spread_over_the_interval() {
        let second = Duration::from_secs(1);
        for monitors in [1_000, 10_000] {
            let grid = Grid::for_intervals(seconds(monitors, 1));
            let now = Instant::now();
            let mut per_point = std::collections::BTreeMap::<Instant, usize>::new();
            for index in 0..monitors {
                let due = grid.phased(now, index, second);
                assert!(
                    due >= now && due - now <= second,
                    "{index}: {:?}",
                    due - now
                );
                *per_point.entry(due).or_default() += 1;
            }
            // Every point of the second, evenly: 500 checks at each of 2 points for 1,000
            // monitors, 250 at each of 40 for 10,000; never all at once.
            let points = (second.as_nanos() / grid.step().as_nanos()) as usize;
            assert_eq!(per_point.len(), points, "{monitors} monitors");
            assert!(
                per_point.values().all(|&n| n == monitors / points),
                "{per_point:?}"
            );
        }
    }
}
