//! The daemon's bookkeeping threads (the store's flusher, the alert writer, the log
//! writer): how they are kept out of the way of the work they record, and the queue
//! ([`Deferred`]) through which the alert and log writers take their work.
//!
//! Two rules. They run at a lower priority than the daemon's other threads. And they are
//! woken a moment after the work, not during it: on the restart path the daemon spawns a
//! process, and the scheduler may run a thread it just woke, even one of nice 19, before the
//! new process that the spawn preempted (a `perf sched` trace of a restart showed the alert
//! writer running 190 µs, and the flusher's sync 200 µs, while `start.sh` waited).

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long after the work its bookkeeping is woken: a restarted process has exec'd by then
/// (2–3 ms here), and the records of one operation are taken together.
pub const AFTER_THE_WORK: Duration = Duration::from_millis(5);

/// How long work queued while its writer was busy waits for its wake-up before the writer
/// takes it anyway.
pub const AT_THE_LATEST: Duration = Duration::from_millis(100);

/// Runs `wake` [`AFTER_THE_WORK`] from now, on a timer of the tokio runtime the caller runs
/// on; at once when it runs on none, and when that runtime ends before the timer. `wake`
/// must only wake a thread, not do its work.
pub fn wake_after_the_work(wake: impl FnOnce() + Send + 'static) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            let wake = WakeWhenDropped(Some(wake));
            runtime.spawn(async move {
                tokio::time::sleep(AFTER_THE_WORK).await;
                drop(wake);
            });
        }
        Err(_) => wake(),
    }
}

/// Runs its wake-up when dropped: after the timer, or with the timer's task when its runtime
/// shuts down first (a wake-up is never lost).
struct WakeWhenDropped<F: FnOnce()>(Option<F>);

impl<F: FnOnce()> Drop for WakeWhenDropped<F> {
    fn drop(&mut self) {
        if let Some(wake) = self.0.take() {
            wake();
        }
    }
}

/// Items the daemon's threads queue for one bookkeeping thread, which takes them in order a
/// moment after the work that queued them ([`wake_after_the_work`]); items queued while the
/// writer was still busy with the ones before are taken [`AT_THE_LATEST`] after it finished,
/// if their wake-up is late (a runtime whose timers wait for a busy worker). A queue of bounded
/// capacity drops what does not fit and counts it, for the writer to report. Whoever answers
/// for the items (a flush before an exit, a command's reply) counts them queued and written.
pub struct Deferred<T> {
    state: Mutex<State<T>>,
    /// At most this many items wait; more are dropped.
    capacity: usize,
    /// Signalled when the items queued may be taken (their wake-up came) or the queue closed.
    work: Condvar,
    /// Signalled when items were written.
    done: Condvar,
}

/// The items waiting, and how many were ever queued and written.
struct State<T> {
    items: VecDeque<T>,
    queued: u64,
    written: u64,
    /// Items dropped because the queue was full, not yet taken to be reported.
    dropped: u64,
    /// A wake-up of the writer is on its way for the items queued.
    wake_due: bool,
    /// That wake-up came (or someone asked): the writer may take them.
    released: bool,
    /// No more items come: the writer takes what is left and ends.
    closed: bool,
}

/// What the writer took: the items in the order queued, and how many were dropped since it
/// last took.
pub struct Taken<T> {
    /// The items, oldest first.
    pub items: VecDeque<T>,
    /// Items that did not fit in the queue since the last take.
    pub dropped: u64,
}

impl<T: Send + 'static> Deferred<T> {
    /// An empty queue that holds at most `capacity` items.
    pub fn new(capacity: usize) -> Arc<Deferred<T>> {
        Arc::new(Deferred {
            state: Mutex::new(State {
                items: VecDeque::new(),
                queued: 0,
                written: 0,
                dropped: 0,
                wake_due: false,
                released: false,
                closed: false,
            }),
            capacity,
            work: Condvar::new(),
            done: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues `item` (false: the queue was full, the item is dropped and counted); the
    /// first of a burst asks for the writer's wake-up after the work.
    pub fn push(self: &Arc<Self>, item: T) -> bool {
        let mut state = self.lock();
        if state.items.len() >= self.capacity {
            state.dropped += 1;
            return false;
        }
        state.items.push_back(item);
        state.queued += 1;
        let first = !std::mem::replace(&mut state.wake_due, true);
        drop(state);
        if first {
            let queue = Arc::clone(self);
            wake_after_the_work(move || queue.release());
        }
        true
    }

    /// Lets the writer take what is queued now, and wakes it.
    pub fn release(&self) {
        self.lock().released = true;
        self.work.notify_one();
    }

    /// Tells the writer that nothing more comes: it takes what is left, then
    /// [`Self::wait_for_work`] says to end.
    pub fn close(&self) {
        self.lock().closed = true;
        self.work.notify_all();
    }

    /// For the writer: waits until the items queued may be taken (released, or waiting for
    /// [`AT_THE_LATEST`]), or the queue is closed; false when it is closed and empty (the
    /// writer ends). Idle, it sleeps until an item comes.
    pub fn wait_for_work(&self) -> bool {
        let mut state = self.lock();
        loop {
            if state.closed && state.items.is_empty() {
                return false;
            }
            if !state.items.is_empty() && (state.released || state.closed) {
                return true;
            }
            if state.items.is_empty() {
                state = self
                    .work
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            } else {
                let (now, waited) = self
                    .work
                    .wait_timeout(state, AT_THE_LATEST)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                state = now;
                if waited.timed_out() && !state.items.is_empty() {
                    return true;
                }
            }
        }
    }

    /// Takes every item queued now (none when another took them first); the wake-up asked
    /// for them is spent. Whoever takes them writes them, then says so
    /// ([`Self::mark_written`]).
    pub fn take(&self) -> Taken<T> {
        let mut state = self.lock();
        state.wake_due = false;
        state.released = false;
        Taken {
            items: std::mem::take(&mut state.items),
            dropped: std::mem::take(&mut state.dropped),
        }
    }

    /// Counts `count` items taken as written, and tells those waiting for them.
    pub fn mark_written(&self, count: u64) {
        self.lock().written += count;
        self.done.notify_all();
    }

    /// How many items were ever queued: what [`Self::wait_written`] waits for.
    pub fn queued(&self) -> u64 {
        self.lock().queued
    }

    /// True once `target` items are written; waits for them until `deadline` (None: for as
    /// long as it takes), and returns false when it passed first.
    pub fn wait_written(&self, target: u64, deadline: Option<Instant>) -> bool {
        let mut state = self.lock();
        while state.written < target {
            match deadline {
                None => {
                    state = self
                        .done
                        .wait(state)
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                }
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return false;
                    }
                    state = self
                        .done
                        .wait_timeout(state, left)
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .0;
                }
            }
        }
        true
    }

    /// True once `target` items are written (no wait).
    pub fn is_written(&self, target: u64) -> bool {
        self.lock().written >= target
    }
}

/// As low as a thread's priority goes (nice 19): the alert and log writers'.
pub const LOWEST: libc::c_int = 19;

/// Starts the bookkeeping thread `name`, which runs `body` at a nice value `nice` steps
/// above the daemon's ([`lower_this_threads_priority`]).
pub fn spawn(
    name: &str,
    nice: libc::c_int,
    body: impl FnOnce() + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            lower_this_threads_priority(nice);
            body();
        })
}

/// Raises the calling thread's nice value `by` steps above its current one (at most 19):
/// its work waits for the resources the daemon just started on a busy CPU, never the other
/// way round. A failure (a limit on nice values) leaves the thread as it is.
pub fn lower_this_threads_priority(by: libc::c_int) {
    // SAFETY: getpriority/setpriority on this thread's own id (Linux keeps a nice value per
    // thread); errno is cleared first, as getpriority may return -1 as a value.
    unsafe {
        let tid = libc::gettid() as libc::id_t;
        *libc::__errno_location() = 0;
        let current = libc::getpriority(libc::PRIO_PROCESS, tid);
        if current == -1 && *libc::__errno_location() != 0 {
            return;
        }
        let _ = libc::setpriority(libc::PRIO_PROCESS, tid, (current + by).min(19));
    }
}

/// For tests: the nice values of this process's threads named `name`, and of the calling
/// thread.
#[cfg(test)]
pub(crate) fn nice_values(name: &str) -> (Vec<i64>, i64) {
    let nice_of = |task: &std::path::Path| -> i64 {
        let stat = std::fs::read_to_string(task.join("stat")).expect("the task's stat");
        let after_name = stat.rsplit_once(')').expect("a stat line").1;
        // Fields after the name start at the state (3rd); nice is the 19th.
        after_name
            .split_whitespace()
            .nth(16)
            .expect("nice")
            .parse()
            .expect("a number")
    };
    let tasks = std::path::Path::new("/proc/self/task");
    // SAFETY: gettid has no preconditions.
    let own = nice_of(&tasks.join(unsafe { libc::gettid() }.to_string()));
    let named = std::fs::read_dir(tasks)
        .expect("the tasks")
        .flatten()
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm")).is_ok_and(|comm| comm.trim() == name)
        })
        .map(|task| nice_of(&task.path()))
        .collect();
    (named, own)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wake_comes_after_the_work_on_a_runtime_and_at_once_off_one() {
        let (sender, woken) = std::sync::mpsc::channel();
        let at_once = sender.clone();
        wake_after_the_work(move || at_once.send(()).expect("sent"));
        assert!(woken.try_recv().is_ok(), "off a runtime: at once");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime");
        let began = std::time::Instant::now();
        runtime.block_on(async {
            wake_after_the_work(move || sender.send(()).expect("sent"));
            assert!(
                woken.try_recv().is_err(),
                "on a runtime: not during the work"
            );
            while woken.try_recv().is_err() {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        });
        assert!(began.elapsed() >= AFTER_THE_WORK);

        // A runtime that ends before the timer: the wake-up comes as it ends.
        let (sender, woken) = std::sync::mpsc::channel();
        let ending = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime");
        ending.block_on(async { wake_after_the_work(move || sender.send(()).expect("sent")) });
        assert!(woken.try_recv().is_err(), "not before the runtime ends");
        drop(ending);
        assert!(woken.try_recv().is_ok(), "woken as the runtime ended");
    }

    /// The writer's side of a [`Deferred`]: what it took, in the order taken, until closed.
    fn take_until_closed(queue: Arc<Deferred<u32>>) -> std::thread::JoinHandle<Vec<u32>> {
        std::thread::spawn(move || {
            let mut all = Vec::new();
            while queue.wait_for_work() {
                let taken = queue.take();
                let count = taken.items.len() as u64;
                all.extend(taken.items);
                queue.mark_written(count);
            }
            all
        })
    }

    #[test]
    fn deferred_items_are_taken_in_order_after_the_work_and_all_before_the_end() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime");
        let queue = Deferred::new(usize::MAX);
        let writer = take_until_closed(Arc::clone(&queue));
        runtime.block_on(async {
            for item in 0..100 {
                assert!(queue.push(item));
            }
            // Not taken during the work: the wake-up comes after it.
            std::thread::sleep(Duration::from_millis(20));
            assert!(!queue.is_written(1), "taken before the work ended");
            tokio::time::sleep(AFTER_THE_WORK * 4).await;
            assert!(
                queue.wait_written(100, Some(Instant::now() + Duration::from_secs(10))),
                "taken after the work"
            );
        });
        // Off the runtime the wake-up is at once; what is queued at the close is taken too.
        for item in 100..200 {
            queue.push(item);
        }
        queue.close();
        let taken = writer.join().expect("the writer");
        assert_eq!(taken, (0..200).collect::<Vec<_>>());
        assert_eq!(queue.queued(), 200);
    }

    #[test]
    fn deferred_items_whose_runtime_ended_are_taken() {
        let queue = Deferred::new(usize::MAX);
        let writer = take_until_closed(Arc::clone(&queue));
        // The writer waits idle: only a wake-up takes the item.
        std::thread::sleep(Duration::from_millis(20));
        // Queued on a runtime that ends before the wake-up it was asked for.
        {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                queue.push(7);
            });
        }
        let began = Instant::now();
        assert!(queue.wait_written(1, Some(Instant::now() + Duration::from_secs(10))));
        assert!(began.elapsed() < Duration::from_secs(10));
        queue.close();
        assert_eq!(writer.join().expect("the writer"), vec![7]);
    }

    #[test]
    fn a_full_deferred_queue_drops_and_counts_and_a_wait_has_its_deadline() {
        let queue = Deferred::new(3);
        for item in 0..5_u32 {
            assert_eq!(queue.push(item), item < 3, "item {item}");
        }
        // Nobody writes: a wait for what was queued ends at its deadline.
        let began = Instant::now();
        assert!(!queue.wait_written(3, Some(began + Duration::from_millis(50))));
        assert!(began.elapsed() >= Duration::from_millis(50));
        let taken = queue.take();
        assert_eq!(Vec::from(taken.items), vec![0, 1, 2]);
        assert_eq!(taken.dropped, 2);
        // The count of drops starts again; room again for new items.
        assert!(queue.push(9));
        let again = queue.take();
        assert_eq!((Vec::from(again.items), again.dropped), (vec![9], 0));
        queue.mark_written(4);
        assert!(queue.wait_written(4, None));
    }

    #[test]
    fn a_bookkeeping_thread_runs_at_a_higher_nice_value() {
        let lowered = spawn("clp-lowered", 5, std::thread::park).expect("a thread");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let (named, own) = nice_values("clp-lowered");
            if named.iter().any(|nice| *nice >= own + 5 || *nice == 19) {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{named:?} vs {own}");
            std::thread::sleep(Duration::from_millis(5));
        }
        lowered.thread().unpark();
        lowered.join().expect("joined");
    }
}
