//! The durations of a group's last starts and stops, kept in a fixed ring (no allocation
//! when one is recorded), and their median: what `clpperfc -g` shows.

use std::time::Duration;

/// How many of the latest durations a ring keeps.
pub const KEPT: usize = 32;

/// The latest [`KEPT`] durations, in ms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    millis: [u32; KEPT],
    /// How many were recorded in all (the ring holds the latest `KEPT`).
    count: u64,
}

impl Timings {
    /// Records one duration.
    pub fn record(&mut self, took: Duration) {
        let slot = usize::try_from(self.count % KEPT as u64).unwrap_or(0);
        self.millis[slot] = u32::try_from(took.as_millis()).unwrap_or(u32::MAX);
        self.count = self.count.saturating_add(1);
    }

    /// How many were recorded since the daemon started.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The median of the kept durations in ms (the lower middle of an even count); `None`
    /// when none was recorded.
    pub fn median_ms(&self) -> Option<u64> {
        let kept = usize::try_from(self.count.min(KEPT as u64)).unwrap_or(KEPT);
        if kept == 0 {
            return None;
        }
        let mut sorted = self.millis;
        let sorted = &mut sorted[..kept];
        sorted.sort_unstable();
        Some(u64::from(sorted[(kept - 1) / 2]))
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
}
