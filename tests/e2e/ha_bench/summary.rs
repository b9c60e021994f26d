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
    /// How many servers fenced themselves (and were started again) in the trial.
    pub fenced: usize,
    /// The server that served at the fault, and the one expected to take over.
    pub from: String,
    pub to: String,
    /// The journal's group of the system's service.
    pub group: &'static str,
}

/// The steps of one failover, each the time from the fault: the address gone from the
/// server that served (the sampler), on the other one (the sampler), the service up there
/// (the journal). `None` where the step was not seen in the trial's window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Steps {
    pub address_gone: Option<Duration>,
    pub address_up: Option<Duration>,
    pub service_up: Option<Duration>,
}

/// Each trial's [`Steps`], from the sampler's `address` entries and the journal's `service`
/// entries.
pub fn steps(trials: &[Trial], address: &[Entry], service: &[Entry]) -> Vec<Steps> {
    let first = |entries: &[Entry], trial: &Trial, server: &str, group: &str, event: &str| {
        entries
            .iter()
            .filter(|e| (trial.window.0..trial.window.1).contains(&e.time))
            .find(|e| e.server == server && e.group == group && e.event == event)
            .map(|e| Duration::from_nanos(e.time - trial.window.0))
    };
    trials
        .iter()
        .map(|trial| Steps {
            address_gone: first(
                address,
                trial,
                &trial.from,
                crate::ha_bench::sampler::GROUP,
                "down",
            ),
            address_up: first(
                address,
                trial,
                &trial.to,
                crate::ha_bench::sampler::GROUP,
                "up",
            ),
            service_up: first(service, trial, &trial.to, trial.group, "up"),
        })
        .collect()
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
        "| fault | system | trials | failed over | p50 ms | p99 ms | max ms | service on both (longest) | address on both (longest) | servers fenced |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for (fault, system) in keys(trials) {
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
            "| {fault} | {system} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            rows.len(),
            times.len(),
            ms(percentile(&times, 50.0)),
            ms(percentile(&times, 99.0)),
            ms(times.last().copied().unwrap_or_default()),
            sum(service),
            sum(address),
            rows.iter().map(|&i| trials[i].fenced).sum::<usize>(),
        ));
    }
    out
}

/// One row per system and fault: the p50 of each step of [`Steps`] and of the answer, in ms
/// from the fault (how many trials saw the step, when not all).
pub fn steps_table(trials: &[Trial], steps: &[Steps]) -> String {
    let mut out = String::from(
        "| fault | system | address gone from the old server | address on the new server | service up on the new server | client answered |\n\
         |---|---|---|---|---|---|\n",
    );
    for (fault, system) in keys(trials) {
        let rows: Vec<usize> = (0..trials.len())
            .filter(|&i| trials[i].fault == fault && trials[i].system == system)
            .collect();
        let p50 = |pick: &dyn Fn(usize) -> Option<Duration>| {
            let mut times: Vec<Duration> = rows.iter().filter_map(|&i| pick(i)).collect();
            times.sort_unstable();
            match times.len() {
                0 => "—".to_string(),
                n if n == rows.len() => ms(percentile(&times, 50.0)),
                n => format!("{} ({n} of {})", ms(percentile(&times, 50.0)), rows.len()),
            }
        };
        out.push_str(&format!(
            "| {fault} | {system} | {} | {} | {} | {} |\n",
            p50(&|i| steps[i].address_gone),
            p50(&|i| steps[i].address_up),
            p50(&|i| steps[i].service_up),
            p50(&|i| trials[i].failover),
        ));
    }
    out
}

/// The (fault, system) pairs of `trials`, fault by fault, the systems side by side, each in
/// the order it first ran.
fn keys(trials: &[Trial]) -> Vec<(&'static str, &'static str)> {
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
    faults
        .iter()
        .flat_map(|fault| systems.iter().map(move |system| (*fault, *system)))
        .filter(|(fault, system)| {
            trials
                .iter()
                .any(|t| t.fault == *fault && t.system == *system)
        })
        .collect()
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
            fenced: usize::from(fault == "hang" && ms.is_none()),
            from: "node1".to_string(),
            to: "node2".to_string(),
            group: "web",
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
                "| kill9 | clp | 1 | 1 | 700 | 700 | 700 | 0 | 0 | 0 |",
                "| kill9 | keepalived | 1 | 1 | 1000 | 1000 | 1000 | 0 | 0 | 0 |",
                "| hang | clp | 2 | 1 | 3200 | 3200 | 3200 | 0 | 0 | 1 |",
                "| hang | keepalived | 1 | 1 | 3600 | 3600 | 3600 | 1 (1044 ms) | 0 | 0 |",
            ]
        );
    }

    #[test]
    fn the_steps_are_the_first_of_each_kind_in_the_trials_window_on_the_right_server() {
        let entry = |time: u64, server: &str, group: &str, event: &str| Entry {
            time,
            server: server.to_string(),
            group: group.to_string(),
            event: event.to_string(),
            pid: 1,
            fence: None,
        };
        let trial = |from: &str, to: &str, window| Trial {
            system: "clp",
            fault: "hang",
            failover: Some(Duration::from_millis(3)),
            window,
            fenced: 0,
            from: from.to_string(),
            to: to.to_string(),
            group: "web",
        };
        let ms = 1_000_000;
        let address = [
            entry(5 * ms, "node1", "fip", "down"), // before the window
            entry(11 * ms, "node1", "fip", "down"),
            entry(12 * ms, "node2", "fip", "up"),
            entry(14 * ms, "node2", "fip", "up"),
            entry(21 * ms, "node2", "fip", "down"),
        ];
        let service = [
            entry(13 * ms, "node2", "other", "up"),
            entry(15 * ms, "node2", "web", "up"),
        ];
        let trials = [
            trial("node1", "node2", (10 * ms, 20 * ms)),
            trial("node2", "node1", (20 * ms, 30 * ms)),
        ];
        let found = steps(&trials, &address, &service);
        assert_eq!(
            found[0],
            Steps {
                address_gone: Some(Duration::from_millis(1)),
                address_up: Some(Duration::from_millis(2)),
                service_up: Some(Duration::from_millis(5)),
            }
        );
        assert_eq!(
            found[1],
            Steps {
                address_gone: Some(Duration::from_millis(1)),
                address_up: None,
                service_up: None,
            }
        );
        let table = steps_table(&trials, &found);
        assert_eq!(
            table.lines().nth(2),
            Some("| hang | clp | 1 | 2 (1 of 2) | 5 (1 of 2) | 3 |")
        );
    }
}
