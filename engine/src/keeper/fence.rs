//! The keeper's decision, pure: what clppm said (lines of [`super::protocol`]), the boot
//! clock's time, and therefore which process groups to kill and whether to go on. No I/O,
//! no clock, no allocation after [`Fence::new`]: the keeper's loop feeds it and acts.
//!
//! The rules:
//! - `add PGID` registers a process group under the current lease; `add` again moves it to
//!   the current lease (clppm re-took the group's ownership under a new lease). A group added
//!   before any lease, or under one that ran out, is killed at once: without a lease there
//!   is no ownership. `del PGID` forgets it.
//! - `lease ID UNTIL` renews lease ID: the groups registered under it may run until
//!   `UNTIL - margin`. A new ID does not extend the groups of an older lease: their
//!   ownership ended with it.
//! - The end of input without `bye` (clppm died), a line that is not the protocol, or more
//!   groups than the keeper holds: every group is killed and the keeper ends.
//! - `bye`: clppm stopped cleanly; the keeper ends and kills nothing.
//! - A lease the keeper revoked (clppm hung past it, [`Fence::retire`]) is out of service:
//!   renewals of it are ignored and a group added under it is killed at once; only a new
//!   lease counts again.

use super::protocol::{self, Guarded, Line};

/// How many process groups one keeper holds (far more than a configuration has resources).
pub const CAPACITY: usize = 4096;

/// One registered process group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    guarded: Guarded,
    /// The lease it runs under (0: none).
    lease: i64,
    /// Until when (boot clock, ns) it may run, before the margin (0: no lease, none).
    until: u64,
}

const EMPTY: Entry = Entry {
    guarded: Guarded::Group(0),
    lease: 0,
    until: 0,
};

/// Why the keeper kills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The input ended without `bye`: clppm died.
    Gone,
    /// A line that is not the protocol: clppm is not itself (or not clppm).
    BadInput,
    /// More groups than [`CAPACITY`].
    Full,
    /// The lease was not renewed in time: clppm hangs or lost etcd.
    Expired,
}

impl Reason {
    /// One phrase for the keeper's log line.
    pub fn text(self) -> &'static str {
        match self {
            Reason::Gone => "clppm is gone (its pipe closed without bye)",
            Reason::BadInput => "clppm sent a line that is not the keeper's protocol",
            Reason::Full => "clppm registered more process groups than the keeper holds",
            Reason::Expired => "clppm did not renew its lease in time",
        }
    }
}

/// What the keeper does after a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Go on reading.
    Continue,
    /// Kill every group, then end.
    KillAllAndEnd(Reason),
    /// End without killing (`bye`).
    End,
}

/// The keeper's state: the groups and their leases.
pub struct Fence {
    margin: u64,
    /// The lease clppm renews now (0: none yet) and its deadline.
    lease: i64,
    until: u64,
    /// The lease the keeper revoked (0: none): out of service.
    retired: i64,
    entries: Box<[Entry; CAPACITY]>,
    len: usize,
}

impl Fence {
    /// An empty fence that kills `margin_ns` before a lease's deadline.
    pub fn new(margin_ns: u64) -> Fence {
        Fence {
            margin: margin_ns,
            lease: 0,
            until: 0,
            retired: 0,
            entries: Box::new([EMPTY; CAPACITY]),
            len: 0,
        }
    }

    /// The registered groups.
    pub fn groups(&self) -> impl Iterator<Item = Guarded> + '_ {
        self.entries[..self.len].iter().map(|entry| entry.guarded)
    }

    /// How many groups are registered.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no group is registered.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// One line of input (without its newline).
    pub fn line(&mut self, text: &[u8]) -> Step {
        match protocol::parse(text) {
            Some(Line::Bye) => Step::End,
            Some(Line::Lease { lease, .. }) if lease == self.retired => Step::Continue,
            Some(Line::Lease { lease, until }) => {
                self.lease = lease;
                self.until = until;
                for entry in &mut self.entries[..self.len] {
                    if entry.lease == lease {
                        entry.until = until;
                    }
                }
                Step::Continue
            }
            Some(Line::Add(guarded)) => {
                let entry = Entry {
                    guarded,
                    lease: self.lease,
                    until: self.until,
                };
                if let Some(known) = self.find(guarded) {
                    self.entries[known] = entry;
                } else if self.len == CAPACITY {
                    return Step::KillAllAndEnd(Reason::Full);
                } else {
                    self.entries[self.len] = entry;
                    self.len += 1;
                }
                Step::Continue
            }
            Some(Line::Del(guarded)) => {
                if let Some(known) = self.find(guarded) {
                    self.remove(known);
                }
                Step::Continue
            }
            None => Step::KillAllAndEnd(Reason::BadInput),
        }
    }

    /// The input ended.
    pub fn end_of_input(&self) -> Step {
        Step::KillAllAndEnd(Reason::Gone)
    }

    /// When (boot clock, ns) the next group is due to be killed, if any group is registered.
    pub fn next_kill(&self) -> Option<u64> {
        self.entries[..self.len]
            .iter()
            .map(|entry| entry.until)
            .min()
            .map(|until| until.saturating_sub(self.margin))
    }

    /// Whether the current lease (if any) ran out at `now`, margin included: nothing of
    /// this server may run then.
    pub fn lease_ran_out(&self, now: u64) -> bool {
        now >= self.until.saturating_sub(self.margin)
    }

    /// The lease clppm renewed last, while it has not run out at `now` (boot clock, ns).
    pub fn lease_in_force(&self, now: u64) -> Option<i64> {
        (self.lease > 0 && now < self.until).then_some(self.lease)
    }

    /// The lease clppm renews now, unless it was retired; it may have run out.
    pub fn current_lease(&self) -> Option<i64> {
        (self.lease > 0 && self.lease != self.retired).then_some(self.lease)
    }

    /// Takes the current lease out of service: the keeper revoked it. Its renewals are
    /// ignored from now on, and whatever is added under it is due at once.
    pub fn retire(&mut self) {
        self.retired = self.lease;
        self.until = 0;
    }

    /// Takes out every group due at `now` (boot clock, ns), handing each to `kill`.
    pub fn take_due(&mut self, now: u64, mut kill: impl FnMut(Guarded)) {
        let mut index = 0;
        while index < self.len {
            let entry = self.entries[index];
            if now >= entry.until.saturating_sub(self.margin) {
                kill(entry.guarded);
                self.remove(index);
            } else {
                index += 1;
            }
        }
    }

    /// Takes out every group, handing each to `kill`.
    pub fn take_all(&mut self, mut kill: impl FnMut(Guarded)) {
        for entry in &self.entries[..self.len] {
            kill(entry.guarded);
        }
        self.len = 0;
    }

    fn find(&self, guarded: Guarded) -> Option<usize> {
        self.entries[..self.len]
            .iter()
            .position(|entry| entry.guarded == guarded)
    }

    /// Removes entry `index` (the last one takes its place: the order does not matter).
    fn remove(&mut self, index: usize) {
        self.len -= 1;
        self.entries[index] = self.entries[self.len];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn fence() -> Fence {
        Fence::new(100 * MS)
    }

    fn group(guarded: Guarded) -> i32 {
        match guarded {
            Guarded::Group(pgid) => pgid,
            Guarded::Address(_) => -1,
        }
    }

    fn due(fence: &mut Fence, now: u64) -> Vec<i32> {
        let mut killed = Vec::new();
        fence.take_due(now, |guarded| killed.push(group(guarded)));
        killed.sort_unstable();
        killed
    }

    #[test]
    fn a_group_under_a_renewed_lease_lives_until_the_deadline_minus_the_margin() {
        let mut fence = fence();
        assert_eq!(fence.line(b"lease 7 1000000000"), Step::Continue);
        assert_eq!(fence.line(b"add 4242"), Step::Continue);
        assert_eq!(fence.next_kill(), Some(900 * MS));
        assert!(due(&mut fence, 899 * MS).is_empty());
        // Renewed: the deadline moves.
        fence.line(b"lease 7 2000000000");
        assert_eq!(fence.next_kill(), Some(1900 * MS));
        assert!(due(&mut fence, 1000 * MS).is_empty());
        assert_eq!(due(&mut fence, 1900 * MS), vec![4242]);
        assert!(fence.is_empty());
        assert_eq!(fence.next_kill(), None);
    }

    #[test]
    fn a_new_lease_does_not_extend_the_groups_of_the_old_one_until_they_are_added_again() {
        let mut fence = fence();
        fence.line(b"lease 7 1000000000");
        fence.line(b"add 100");
        fence.line(b"add 200");
        fence.line(b"lease 8 5000000000");
        assert_eq!(fence.next_kill(), Some(900 * MS));
        // clppm took 200's ownership again under lease 8.
        fence.line(b"add 200");
        assert_eq!(due(&mut fence, 900 * MS), vec![100]);
        assert_eq!(fence.next_kill(), Some(4900 * MS));
        assert_eq!(
            fence.groups().collect::<Vec<_>>(),
            vec![Guarded::Group(200)]
        );
    }

    #[test]
    fn a_group_added_before_any_lease_is_due_at_once() {
        let mut fence = fence();
        assert_eq!(fence.next_kill(), None);
        fence.line(b"add 300");
        assert_eq!(fence.next_kill(), Some(0));
        assert_eq!(due(&mut fence, 1), vec![300]);
        // A later lease does not save a group added without one.
        fence.line(b"add 301");
        fence.line(b"lease 9 1000000000");
        assert_eq!(due(&mut fence, 1), vec![301]);
    }

    #[test]
    fn a_group_added_after_its_lease_ran_out_is_due_at_once() {
        let mut fence = fence();
        fence.line(b"lease 7 1000000000");
        fence.line(b"add 400");
        assert_eq!(due(&mut fence, 2000 * MS), vec![400]);
    }

    #[test]
    fn a_retired_lease_is_not_renewed_and_protects_nothing_until_a_new_one_comes() {
        let mut fence = fence();
        fence.line(b"lease 7 1000000000");
        fence.line(b"add 400");
        assert_eq!(due(&mut fence, 900 * MS), vec![400]);
        assert_eq!(fence.current_lease(), Some(7));
        fence.retire();
        assert_eq!(fence.current_lease(), None);
        // clppm wakes up and believes it renewed lease 7: nothing it starts may run.
        assert_eq!(fence.line(b"lease 7 9000000000"), Step::Continue);
        fence.line(b"add 401");
        assert_eq!(fence.next_kill(), Some(0));
        assert_eq!(due(&mut fence, 901 * MS), vec![401]);
        // A new lease (clppm won its ownership again) protects again.
        fence.line(b"lease 8 9000000000");
        fence.line(b"add 402");
        assert_eq!(fence.current_lease(), Some(8));
        assert!(due(&mut fence, 902 * MS).is_empty());
        assert_eq!(fence.next_kill(), Some(8900 * MS));
    }

    #[test]
    fn del_forgets_a_group_and_an_unknown_del_is_harmless() {
        let mut fence = fence();
        fence.line(b"lease 7 1000000000");
        fence.line(b"add 500");
        fence.line(b"add 600");
        assert_eq!(fence.line(b"del 500"), Step::Continue);
        assert_eq!(fence.line(b"del 777"), Step::Continue);
        assert_eq!(due(&mut fence, u64::MAX), vec![600]);
    }

    #[test]
    fn the_end_of_input_kills_everything_and_bye_kills_nothing() {
        let mut fence = fence();
        fence.line(b"lease 7 1000000000");
        fence.line(b"add 500");
        assert_eq!(fence.end_of_input(), Step::KillAllAndEnd(Reason::Gone));
        assert_eq!(fence.line(b"bye"), Step::End);
        let mut killed = Vec::new();
        fence.take_all(|guarded| killed.push(group(guarded)));
        assert_eq!(killed, vec![500]);
        assert!(fence.is_empty());
    }

    #[test]
    fn a_floating_ip_is_guarded_under_the_lease_like_a_group() {
        let mut fence = fence();
        fence.line(b"lease 7 1000000000");
        fence.line(b"add 192.0.2.100");
        fence.line(b"add 2001:db8::100");
        fence.line(b"add 700");
        fence.line(b"del 2001:db8::100");
        let mut taken = Vec::new();
        fence.take_due(900 * MS, |guarded| taken.push(guarded));
        taken.sort_unstable();
        assert_eq!(
            taken,
            vec![
                Guarded::Group(700),
                Guarded::Address("192.0.2.100".parse().expect("address"))
            ]
        );
    }

    #[test]
    fn any_line_outside_the_protocol_kills_everything() {
        for line in [
            &b""[..],
            b"add",
            b"add 1",
            b"add 0",
            b"add -5",
            b"add 12x",
            b"add 99999999999",
            b"lease 7",
            b"lease 0 100",
            b"lease 7 -1",
            b"lease 7 100 extra",
            b"ADD 100",
            b"bye ",
            b"hello",
            b"add \xff",
        ] {
            let mut fence = fence();
            assert_eq!(
                fence.line(line),
                Step::KillAllAndEnd(Reason::BadInput),
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn more_groups_than_the_capacity_kill_everything() {
        let mut fence = fence();
        for pgid in 0..CAPACITY {
            let line = format!("add {}", pgid + 2);
            assert_eq!(fence.line(line.as_bytes()), Step::Continue);
        }
        // Adding a known group again is not a new one.
        assert_eq!(fence.line(b"add 2"), Step::Continue);
        assert_eq!(fence.line(b"add 999999"), Step::KillAllAndEnd(Reason::Full));
    }
}
