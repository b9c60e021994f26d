//! The benchmark's figures: each trial's failover time, the overlaps the checker found in
//! its window, and the table of p50 / p99 / max per system and fault.

use std::time::Duration;

use crate::ha_bed::overlap::{Entry, overlaps};

/// One fault injected and what followed.
#[derive(Debug, Clone)]
pub struct Trial {
    /// `clp` or `keepalived`.
    pub system: &'static str,
    /// The fault's short name.
    pub fault: &'static str,
    /// From the fault to the client's first answer from the other server through the
    /// floating address; `None` when none came within the limit.
    pub failover: Option<Duration>,
    /// The journal's clock at the fault, and when the next trial began (its window).
    pub window: (u64, u64),
}

/// The overlaps found in the windows of `trials` (attributed by when the second run began):
/// how many, and the longest, in each trial.
pub fn attribute(trials: &[Trial], entries: &[Entry], now: u64) -> Vec<(usize, Duration)> {
    let found = overlaps(entries);
    trials
        .iter()
        .map(|trial| {
            let inside: Vec<_> = found
                .iter()
                .filter(|o| (trial.window.0..trial.window.1).contains(&o.second.start))
                .collect();
            let longest = inside.iter().map(|o| o.length(now)).max().unwrap_or(0);
            (inside.len(), Duration::from_nanos(longest))
        })
        .collect()
}

/// The nearest-rank percentile `p` of sorted `values`.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(duration: Duration) -> String {
    format!("{:.0}", duration.as_secs_f64() * 1000.0)
}

/// One row per system and fault: trials, failovers, p50 / p99 / max in ms, and the overlaps
/// of the service (journal) and of the address (sampler) with the longest of each.
pub fn table(
    trials: &[Trial],
    service: &[(usize, Duration)],
    address: &[(usize, Duration)],
) -> String {
    let mut out = String::from(
        "| fault | system | trials | failed over | p50 ms | p99 ms | max ms | service on both (longest) | address on both (longest) |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    let mut keys: Vec<(&str, &str)> = Vec::new();
    for trial in trials {
        if !keys.contains(&(trial.fault, trial.system)) {
            keys.push((trial.fault, trial.system));
        }
    }
    for (fault, system) in keys {
        let rows: Vec<usize> = (0..trials.len())
            .filter(|&i| trials[i].fault == fault && trials[i].system == system)
            .collect();
        let mut times: Vec<Duration> = rows.iter().filter_map(|&i| trials[i].failover).collect();
        times.sort_unstable();
        let sum = |counts: &[(usize, Duration)]| {
            let n: usize = rows.iter().map(|&i| counts[i].0).sum();
            let longest = rows.iter().map(|&i| counts[i].1).max().unwrap_or_default();
            if n == 0 {
                "0".to_string()
            } else {
                format!("{n} ({} ms)", ms(longest))
            }
        };
        out.push_str(&format!(
            "| {fault} | {system} | {} | {} | {} | {} | {} | {} | {} |\n",
            rows.len(),
            times.len(),
            ms(percentile(&times, 50.0)),
            ms(percentile(&times, 99.0)),
            ms(times.last().copied().unwrap_or_default()),
            sum(service),
            sum(address),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<Duration> = (1..=10).map(Duration::from_millis).collect();
        assert_eq!(percentile(&values, 50.0), Duration::from_millis(5));
        assert_eq!(percentile(&values, 99.0), Duration::from_millis(10));
        assert_eq!(percentile(&values[..1], 99.0), Duration::from_millis(1));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }
}
