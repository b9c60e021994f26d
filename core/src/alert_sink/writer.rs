//! The daemon's alert writer: a thread of lower priority that writes the records the engine
//! logs, so that a recovery does not wait for the store and `alert.log` before it restarts
//! a process, and the restarted process does not share its CPU with them: the writer is
//! woken a moment after the first record of a burst ([`crate::bookkeeping`]).
//!
//! Records are written in the order they were logged. Whoever answers for them (a command's
//! reply, the alert query, a flush before the OS goes down) first sees the records logged
//! before it written ([`Writer::settle`]), so that nothing said to have happened is missing
//! from the alert log when the answer arrives. It writes what is still queued itself rather
//! than wait for the writer, whose priority is the lowest: a busy CPU never holds up an
//! answer behind it.

use std::sync::{Arc, Mutex, mpsc};

use super::{Delivery, LogTargets, Targets};
use crate::alert::AlertEvent;
use crate::bookkeeping::Deferred;

/// A catalogue message logged and not yet made into a record ([`AlertEvent::from_catalogue`]).
pub(super) struct Unmade {
    /// When it was logged.
    pub(super) time: std::time::SystemTime,
    /// The catalogue's module.
    pub(super) module: String,
    /// The catalogue's event id.
    pub(super) event_id: u32,
    /// The template's arguments.
    pub(super) args: Vec<String>,
}

/// One record to write.
enum Job {
    /// One of the product's events.
    Record(AlertEvent),
    /// One of the catalogue's messages, made into a record as it is written.
    Catalogue(Unmade),
    /// A `clplogcmd` message, whose writer waits for what became of it.
    Message(AlertEvent, LogTargets, mpsc::SyncSender<Delivery>),
}

/// What the writer thread and the loggers share.
struct Shared {
    queue: Arc<Deferred<Job>>,
    /// Held while jobs taken from the queue are written: one writer at a time, so that
    /// records go out in the order they were queued.
    writing: Mutex<()>,
}

impl Shared {
    /// Writes every job queued now, in order; false when there was none.
    fn write_queued(&self, targets: &Targets) -> bool {
        let _writing = self
            .writing
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let jobs = self.queue.take().items;
        if jobs.is_empty() {
            return false;
        }
        let count = jobs.len() as u64;
        for job in jobs {
            // A record that panics its writer is lost, not the ones after it.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match job {
                Job::Record(event) => {
                    targets.record(event);
                }
                Job::Catalogue(unmade) => {
                    targets.record(AlertEvent::from_catalogue_at(
                        unmade.time,
                        &targets.server,
                        &unmade.module,
                        unmade.event_id,
                        &unmade.args,
                    ));
                }
                Job::Message(event, chosen, reply) => {
                    let _ = reply.send(targets.log_message(event, chosen));
                }
            }));
        }
        self.queue.mark_written(count);
        true
    }
}

/// The writer thread of a daemon's sink; it writes what is queued, then ends, when dropped.
pub(super) struct Writer {
    shared: Arc<Shared>,
    targets: Arc<Targets>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Writer")
    }
}

impl Writer {
    /// Starts the thread that writes to `targets`; None when no thread could be had (the
    /// sink then writes on the caller's thread, as a command's does).
    pub(super) fn start(targets: Arc<Targets>) -> Option<Writer> {
        let shared = Arc::new(Shared {
            queue: Deferred::new(usize::MAX),
            writing: Mutex::new(()),
        });
        let (theirs, their_targets) = (Arc::clone(&shared), Arc::clone(&targets));
        let thread =
            crate::bookkeeping::spawn("clp-alerts", crate::bookkeeping::LOWEST, move || {
                write_until_closed(&theirs, &their_targets);
            });
        match thread {
            Ok(thread) => Some(Writer {
                shared,
                targets,
                thread: Some(thread),
            }),
            Err(error) => {
                tracing::warn!("alerts are written by the threads that log them: {error}");
                None
            }
        }
    }

    /// Queues one of the product's events.
    pub(super) fn record(&self, event: AlertEvent) {
        self.queue(Job::Record(event));
    }

    /// Queues one of the catalogue's messages.
    pub(super) fn alert(&self, unmade: Unmade) {
        self.queue(Job::Catalogue(unmade));
    }

    /// Queues a `clplogcmd` message and sees it written ([`Self::settle`]); None when its
    /// writer failed before it could say.
    pub(super) fn log_message(&self, event: AlertEvent, targets: LogTargets) -> Option<Delivery> {
        let (reply, delivery) = mpsc::sync_channel(1);
        self.queue(Job::Message(event, targets, reply));
        self.settle();
        delivery.recv().ok()
    }

    /// Queues `job`; the writer is woken after the work that logs ([`crate::bookkeeping`]):
    /// the records of one operation go out together, and not while a process it restarted
    /// starts.
    fn queue(&self, job: Job) {
        self.shared.queue.push(job);
    }

    /// Returns once every record queued before the call is written: writes those still
    /// queued on the calling thread, and waits for those the writer is writing.
    pub(super) fn settle(&self) {
        let queue = &self.shared.queue;
        let target = queue.queued();
        while !queue.is_written(target) {
            // Blocks while the writer writes what it took, then writes what is left.
            if !self.shared.write_queued(&self.targets) {
                queue.wait_written(target, None);
                return;
            }
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.shared.queue.close();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The writer thread: every job in the order queued, until the sink is dropped and nothing
/// is left.
fn write_until_closed(shared: &Shared, targets: &Targets) {
    while shared.queue.wait_for_work() {
        shared.write_queued(targets);
    }
}
