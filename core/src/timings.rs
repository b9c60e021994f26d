//! The durations of a group's last starts and stops, kept in a ring that grows to [`KEPT`]
//! as they come (a group started once holds one, not room for 32: at 1,000 groups the
//! fixed rings were 272 KB, mostly zeros), and their median: what `clpperfc -g` shows.
//! The median is worked out when a duration is recorded, which is rare, not when it is
//! asked for: every status answer asks for it of every group.

use std::time::Duration;

/// How many of the latest durations a ring keeps.
pub const KEPT: usize = 32;

/// The latest [`KEPT`] durations, in ms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timings {
    /// At most `KEPT`; once full, the slot of the `count`th is `count % KEPT`.
    millis: Vec<u32>,
    /// How many were recorded in all (the ring holds the latest `KEPT`).
    count: u64,
    /// The median of `millis` (none while it is empty).
    median: Option<u32>,
}

impl Timings {
    /// Records one duration.
    pub fn record(&mut self, took: Duration) {
        let millis = u32::try_from(took.as_millis()).unwrap_or(u32::MAX);
        if self.millis.len() < KEPT {
            self.millis.push(millis);
        } else {
            let slot = usize::try_from(self.count % KEPT as u64).unwrap_or(0);
            self.millis[slot] = millis;
        }
        self.count = self.count.saturating_add(1);
        let mut sorted = self.millis.clone();
        sorted.sort_unstable();
        self.median = sorted.get((sorted.len().saturating_sub(1)) / 2).copied();
    }

    /// How many were recorded since the daemon started.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The median of the kept durations in ms (the lower middle of an even count); `None`
    /// when none was recorded.
    pub fn median_ms(&self) -> Option<u64> {
        self.median.map(u64::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_the_latest_durations() {
        let mut timings = Timings::default();
        assert_eq!(timings.median_ms(), None);
        for ms in [300, 100, 200] {
            timings.record(Duration::from_millis(ms));
        }
        assert_eq!(timings.median_ms(), Some(200));
        timings.record(Duration::from_millis(400));
        assert_eq!(timings.median_ms(), Some(200), "the lower middle of four");
        // Only the latest KEPT count: older ones roll off.
        for _ in 0..KEPT {
            timings.record(Duration::from_millis(7));
        }
        assert_eq!(timings.median_ms(), Some(7));
        assert_eq!(timings.count(), 4 + KEPT as u64);
    }

    #[test]
    fn a_ring_holds_only_what_was_recorded() {
        let mut timings = Timings::default();
        assert_eq!(
            timings.millis.capacity(),
            0,
            "an unused ring allocates nothing"
        );
        timings.record(Duration::from_millis(5));
        assert!(timings.millis.capacity() < KEPT);
        for ms in 0..3 * KEPT as u64 {
            timings.record(Duration::from_millis(ms));
        }
        assert_eq!(timings.millis.len(), KEPT, "the ring stops growing at KEPT");
    }
}
