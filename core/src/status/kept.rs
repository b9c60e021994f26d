//! The monitors of the last status answers as they were encoded, for the next answer of the
//! same form. Of what an answer writes of a monitor, all but its check counters and
//! figures (`checks`, `last_check_us`, `last_lateness_us`, `check_figures`) change only with
//! its ladder (a failure, a recovery step, a reset), a switch (dummy failure) or the
//! configuration: between two answers nearly every monitor's are the same, and writing them
//! was half of an answer's CPU at 1,000 monitors (benches/PROFILE.md, session 30). A monitor
//! whose fields equal, value for value, those its kept bytes were written from is copied;
//! another is written, and kept.

use super::MonitorStatus;
use super::view::MonitorView;

/// The monitors of the last answers, as the daemon's control thread keeps them: one list
/// per form (the protocol's compact answer, and the pretty text of `clpstat --json`), in
/// the view's order.
#[derive(Debug, Default)]
pub struct EncodedMonitors {
    pub(super) compact: Vec<KeptMonitor>,
    pub(super) pretty: Vec<KeptMonitor>,
}

impl EncodedMonitors {
    /// Bytes of memory the kept monitors hold (printed by encode.rs's timing).
    #[cfg(test)]
    pub(super) fn bytes(&self) -> usize {
        [&self.compact, &self.pretty]
            .into_iter()
            .map(|list| {
                list.capacity() * std::mem::size_of::<KeptMonitor>()
                    + list.iter().map(KeptMonitor::bytes).sum::<usize>()
            })
            .sum()
    }
}

/// One monitor's members up to `dummy_failure` as an answer wrote them, and the fields they
/// were written from.
#[derive(Debug, Default)]
pub(super) struct KeptMonitor {
    /// None until members are kept (a new entry matches nothing).
    status: Option<MonitorStatus>,
    numbers: [u32; 4],
    final_action_done: bool,
    dummy_failure: bool,
    /// The five texts ([`steady_texts`]) one after the other, and their lengths.
    texts: Vec<u8>,
    lengths: [usize; 5],
    last_detail: Option<String>,
    /// The members as written (after the object's `{`, to the value of `dummy_failure`).
    pub(super) members: Vec<u8>,
}

/// The texts of a monitor that its kept members depend on.
fn steady_texts<'a>(monitor: &MonitorView<'a>) -> [&'a str; 5] {
    [
        monitor.name,
        monitor.kind,
        monitor.comment,
        monitor.final_action,
        monitor.recovery_target,
    ]
}

/// The numbers of a monitor that its kept members depend on.
fn steady_numbers(monitor: &MonitorView<'_>) -> [u32; 4] {
    [
        monitor.reactivations,
        monitor.reactivation_threshold,
        monitor.failovers,
        monitor.failover_threshold,
    ]
}

impl KeptMonitor {
    /// Whether the kept members are what `monitor`'s fields encode to.
    pub(super) fn matches(&self, monitor: &MonitorView<'_>) -> bool {
        self.status == Some(monitor.status)
            && self.numbers == steady_numbers(monitor)
            && self.final_action_done == monitor.final_action_done
            && self.dummy_failure == monitor.dummy_failure
            && self.last_detail.as_deref() == monitor.last_detail.as_deref()
            && self.texts_match(monitor)
    }

    fn texts_match(&self, monitor: &MonitorView<'_>) -> bool {
        let mut at = 0;
        for (text, &length) in steady_texts(monitor).iter().zip(&self.lengths) {
            if text.len() != length || self.texts.get(at..at + length) != Some(text.as_bytes()) {
                return false;
            }
            at += length;
        }
        true
    }

    /// Keeps `members`, written from `monitor`'s fields, in place of what was kept.
    pub(super) fn keep(&mut self, monitor: &MonitorView<'_>, members: &[u8]) {
        self.status = Some(monitor.status);
        self.numbers = steady_numbers(monitor);
        self.final_action_done = monitor.final_action_done;
        self.dummy_failure = monitor.dummy_failure;
        self.texts.clear();
        for (text, length) in steady_texts(monitor).iter().zip(&mut self.lengths) {
            self.texts.extend_from_slice(text.as_bytes());
            *length = text.len();
        }
        self.last_detail.clone_from(&monitor.last_detail);
        self.members.clear();
        self.members.extend_from_slice(members);
    }

    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.texts.capacity()
            + self.members.capacity()
            + self.last_detail.as_ref().map_or(0, String::capacity)
    }
}

/// Entry `index` of `list`, made (empty) if the list is shorter.
pub(super) fn entry(list: &mut Vec<KeptMonitor>, index: usize) -> &mut KeptMonitor {
    if list.len() <= index {
        list.resize_with(index + 1, KeptMonitor::default);
    }
    &mut list[index]
}
