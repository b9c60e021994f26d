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
    // Fault by fault, the systems side by side, each in the order it first ran.
    let mut faults: Vec<&str> = Vec::new();
    let mut systems: Vec<&str> = Vec::new();
    for trial in trials {
        if !faults.contains(&trial.fault) {
            faults.push(trial.fault);
        }
        if !systems.contains(&trial.system) {
            systems.push(trial.system);
        }
    }
    let keys = faults.iter().flat_map(|fault| {
        systems
            .iter()
            .map(move |system| (*fault, *system))
            .filter(|(fault, system)| {
                trials
                    .iter()
                    .any(|t| t.fault == *fault && t.system == *system)
            })
    });
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

    #[test]
    fn the_table_puts_the_systems_side_by_side_fault_by_fault() {
        let trial = |system, fault, ms: Option<u64>| Trial {
            system,
            fault,
            failover: ms.map(Duration::from_millis),
            window: (0, 1),
        };
        let trials = [
            trial("clp", "kill9", Some(700)),
            trial("clp", "hang", Some(3200)),
            trial("clp", "hang", None),
            trial("keepalived", "kill9", Some(1000)),
            trial("keepalived", "hang", Some(3600)),
        ];
        let none = vec![(0, Duration::ZERO); 5];
        let mut overlaps = none.clone();
        overlaps[4] = (1, Duration::from_millis(1044));
        let table = table(&trials, &overlaps, &none);
        let rows: Vec<&str> = table.lines().skip(2).collect();
        assert_eq!(
            rows,
            [
                "| kill9 | clp | 1 | 1 | 700 | 700 | 700 | 0 | 0 |",
                "| kill9 | keepalived | 1 | 1 | 1000 | 1000 | 1000 | 0 | 0 |",
                "| hang | clp | 2 | 1 | 3200 | 3200 | 3200 | 0 | 0 |",
                "| hang | keepalived | 1 | 1 | 3600 | 3600 | 3600 | 1 (1044 ms) | 0 |",
            ]
        );
    }
}
