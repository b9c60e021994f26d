//! The split-brain checker (pure): from the journal's entries, each run of a group's service
//! on a server as an interval, and every pair of intervals of one group on two servers that
//! overlap in time.
//!
//! A run opens with `up` (the service listens) and closes with the first `down` (it exited
//! on a signal) or `gone` (the bed saw its pid disappear: a SIGKILLed service writes nothing)
//! of the same pid. A run never closed lasts to the end of the journal and beyond: it
//! overlaps anything that starts after it. Intervals that only touch (one ends at the very
//! time the other starts) do not overlap. Other events (the scripts' notes) are ignored.
//!
//! An `up` may carry the fencing token its scripts got (`CLP_FENCE`, the owner key's
//! revision): a run that starts after another must never carry a smaller one
//! ([`fence_regressions`]).

use std::fmt;

/// One line of the journal: `TIME SERVER GROUP EVENT PID [FENCE]` (time in CLOCK_MONOTONIC
/// ns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// CLOCK_MONOTONIC, in nanoseconds (system-wide: the same in every namespace).
    pub time: u64,
    /// The server the event happened on.
    pub server: String,
    /// The group whose service it is.
    pub group: String,
    /// `up`, `down`, `gone`, or a script's note (`start-script`, `stop-script`, ...).
    pub event: String,
    /// The process the event is about.
    pub pid: u32,
    /// The fencing token the service was started with, when it had one.
    pub fence: Option<u64>,
}

impl Entry {
    /// Parses one journal line; `None` for a line that is not one (a torn or empty line).
    pub fn parse(line: &str) -> Option<Entry> {
        let mut fields = line.split_whitespace();
        let entry = Entry {
            time: fields.next()?.parse().ok()?,
            server: fields.next()?.to_string(),
            group: fields.next()?.to_string(),
            event: fields.next()?.to_string(),
            pid: fields.next()?.parse().ok()?,
            fence: match fields.next() {
                Some(fence) => Some(fence.parse().ok()?),
                None => None,
            },
        };
        fields.next().is_none().then_some(entry)
    }
}

/// One run of a group's service on a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interval {
    /// Where it ran.
    pub server: String,
    /// Whose service it was.
    pub group: String,
    /// Its process.
    pub pid: u32,
    /// When it listened.
    pub start: u64,
    /// When it exited or was seen gone; `None` while it runs (or nobody saw it end).
    pub end: Option<u64>,
    /// Its fencing token, when it had one.
    pub fence: Option<u64>,
}

impl Interval {
    fn overlaps(&self, other: &Interval) -> bool {
        let before = |a: &Interval, b: &Interval| a.end.is_some_and(|end| end <= b.start);
        !before(self, other) && !before(other, self)
    }
}

/// Two servers holding the same group at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlap {
    /// The run that started first.
    pub first: Interval,
    /// The run that started while the first still ran.
    pub second: Interval,
}

impl Overlap {
    /// How long both ran (up to `now` for a run that never ended).
    pub fn length(&self, now: u64) -> u64 {
        let end = |interval: &Interval| interval.end.unwrap_or(now.max(interval.start));
        end(&self.first)
            .min(end(&self.second))
            .saturating_sub(self.second.start)
    }
}

impl fmt::Display for Overlap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = |ns: u64| ns as f64 / 1e9;
        let end = |interval: &Interval| match interval.end {
            Some(end) => format!("{:.3}", seconds(end)),
            None => "(still running)".into(),
        };
        write!(
            f,
            "group {} ran on {} (pid {}, {:.3} to {}) and on {} (pid {}, {:.3} to {}) at once",
            self.first.group,
            self.first.server,
            self.first.pid,
            seconds(self.first.start),
            end(&self.first),
            self.second.server,
            self.second.pid,
            seconds(self.second.start),
            end(&self.second),
        )
    }
}

/// Every run of a service in `entries`, in start order.
pub fn intervals(entries: &[Entry]) -> Vec<Interval> {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by_key(|entry| entry.time);
    let mut runs: Vec<Interval> = Vec::new();
    for entry in sorted {
        match entry.event.as_str() {
            "up" => runs.push(Interval {
                server: entry.server.clone(),
                group: entry.group.clone(),
                pid: entry.pid,
                start: entry.time,
                end: None,
                fence: entry.fence,
            }),
            "down" | "gone" => {
                let open = runs.iter_mut().rev().find(|run| {
                    run.end.is_none()
                        && run.pid == entry.pid
                        && run.server == entry.server
                        && run.group == entry.group
                });
                if let Some(run) = open {
                    run.end = Some(entry.time);
                }
            }
            _ => {}
        }
    }
    runs
}

/// Every pair of runs of one group on two different servers that overlap in time.
pub fn overlaps(entries: &[Entry]) -> Vec<Overlap> {
    let runs = intervals(entries);
    let mut found = Vec::new();
    for (index, first) in runs.iter().enumerate() {
        for second in &runs[index + 1..] {
            if first.group == second.group
                && first.server != second.server
                && first.overlaps(second)
            {
                found.push(Overlap {
                    first: first.clone(),
                    second: second.clone(),
                });
            }
        }
    }
    found
}

/// Every pair of consecutive runs of one group (in start order, both with a token) where
/// the later carries a smaller fencing token than the earlier: an old owner's token reused.
pub fn fence_regressions(entries: &[Entry]) -> Vec<(Interval, Interval)> {
    let runs = intervals(entries);
    let mut found = Vec::new();
    let mut groups: Vec<&str> = runs.iter().map(|run| run.group.as_str()).collect();
    groups.sort_unstable();
    groups.dedup();
    for group in groups {
        let fenced: Vec<&Interval> = runs
            .iter()
            .filter(|run| run.group == group && run.fence.is_some())
            .collect();
        for pair in fenced.windows(2) {
            if pair[1].fence < pair[0].fence {
                found.push((pair[0].clone(), pair[1].clone()));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(lines: &[&str]) -> Vec<Entry> {
        lines
            .iter()
            .map(|line| Entry::parse(line).expect("a journal line"))
            .collect()
    }

    /// (description, journal, expected overlaps as (first server, second server, group)).
    type Case = (
        &'static str,
        &'static [&'static str],
        &'static [(&'static str, &'static str, &'static str)],
    );

    const CASES: &[Case] = &[
        ("nothing ran", &[], &[]),
        (
            "one server, started and stopped",
            &["10 node1 g up 100", "20 node1 g down 100"],
            &[],
        ),
        (
            "a failover: the second starts after the first stopped",
            &[
                "10 node1 g up 100",
                "20 node1 g down 100",
                "30 node2 g up 200",
            ],
            &[],
        ),
        (
            "touching intervals are not an overlap",
            &[
                "10 node1 g up 100",
                "20 node1 g gone 100",
                "20 node2 g up 200",
            ],
            &[],
        ),
        (
            "one nanosecond of both",
            &[
                "10 node1 g up 100",
                "21 node1 g down 100",
                "20 node2 g up 200",
            ],
            &[("node1", "node2", "g")],
        ),
        (
            "an unclosed run overlaps every later one",
            &[
                "10 node1 g up 100",
                "30 node2 g up 200",
                "40 node2 g down 200",
                "50 node3 g up 300",
            ],
            &[("node1", "node2", "g"), ("node1", "node3", "g")],
        ),
        (
            "a SIGKILLed service closed by the bed's `gone`",
            &[
                "10 node1 g up 100",
                "15 node1 g gone 100",
                "16 node2 g up 200",
            ],
            &[],
        ),
        (
            "lines out of order are sorted by time",
            &[
                "30 node2 g up 200",
                "20 node1 g down 100",
                "10 node1 g up 100",
            ],
            &[],
        ),
        (
            "several groups: each on its own server at once is fine",
            &[
                "10 node1 a up 100",
                "11 node2 b up 200",
                "20 node1 a down 100",
                "21 node2 b down 200",
            ],
            &[],
        ),
        (
            "several groups: only the one held twice is reported",
            &[
                "10 node1 a up 100",
                "11 node2 b up 200",
                "12 node2 a up 201",
                "20 node1 a down 100",
                "21 node2 b down 200",
                "22 node2 a down 201",
            ],
            &[("node1", "node2", "a")],
        ),
        (
            "two runs on the same server are not a split brain",
            &["10 node1 g up 100", "11 node1 g up 101"],
            &[],
        ),
        (
            "a `down` closes only its own pid",
            &[
                "10 node1 g up 100",
                "11 node1 g down 999",
                "12 node2 g up 200",
            ],
            &[("node1", "node2", "g")],
        ),
        (
            "the scripts' notes are not runs",
            &[
                "10 node1 g start-script 50",
                "11 node2 g start-script 60",
                "12 node1 g stop-script 70",
            ],
            &[],
        ),
    ];

    #[test]
    fn overlaps_table() {
        for (description, lines, expected) in CASES {
            let found: Vec<(String, String, String)> = overlaps(&journal(lines))
                .into_iter()
                .map(|o| (o.first.server, o.second.server, o.first.group))
                .collect();
            let expected: Vec<(String, String, String)> = expected
                .iter()
                .map(|(a, b, g)| (a.to_string(), b.to_string(), g.to_string()))
                .collect();
            assert_eq!(found, expected, "{description}");
        }
    }

    #[test]
    fn unclosed_runs_stay_open() {
        let runs = intervals(&journal(&["10 node1 g up 100", "20 node2 g up 200"]));
        assert_eq!(runs.len(), 2);
        assert!(runs.iter().all(|run| run.end.is_none()));
    }

    #[test]
    fn an_overlap_names_both_runs_with_their_times() {
        let found = overlaps(&journal(&[
            "1000000000 node1 g up 100",
            "3500000000 node1 g gone 100",
            "2000000000 node2 g up 200",
        ]));
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].to_string(),
            "group g ran on node1 (pid 100, 1.000 to 3.500) and on node2 (pid 200, 2.000 to (still running)) at once"
        );
        assert_eq!(found[0].length(9_000_000_000), 1_500_000_000);
    }

    #[test]
    fn fencing_tokens_only_rise() {
        let cases: &[(&str, &[&str], usize)] = &[
            ("no tokens", &["10 node1 g up 1", "20 node1 g down 1"], 0),
            (
                "a failover with a newer token",
                &[
                    "10 node1 g up 1 7",
                    "20 node1 g gone 1",
                    "30 node2 g up 2 9",
                ],
                0,
            ),
            (
                "a restart on the same owner keeps its token",
                &[
                    "10 node1 g up 1 7",
                    "20 node1 g down 1",
                    "30 node1 g up 2 7",
                ],
                0,
            ),
            (
                "an older token after a newer one",
                &[
                    "10 node1 g up 1 9",
                    "20 node1 g down 1",
                    "30 node2 g up 2 7",
                ],
                1,
            ),
            (
                "groups are compared apart",
                &["10 node1 a up 1 9", "30 node2 b up 2 7"],
                0,
            ),
        ];
        for (description, lines, expected) in cases {
            assert_eq!(
                fence_regressions(&journal(lines)).len(),
                *expected,
                "{description}"
            );
        }
    }

    #[test]
    fn torn_lines_are_not_entries() {
        for line in [
            "",
            "10 node1 g up",
            "x node1 g up 1",
            "10 node1 g up 1 7 extra",
            "10 node1 g up 1 x",
        ] {
            assert_eq!(Entry::parse(line), None, "{line:?}");
        }
    }
}
