//! The daemon's bookkeeping threads (the store's flusher, the alert writer, the log
//! writer): how they are kept out of the way of the work they record.
//!
//! Two rules. They run at a lower priority than the daemon's other threads. And they are
//! woken a moment after the work, not during it: on the restart path the daemon spawns a
//! process, and the scheduler may run a thread it just woke, even one of nice 19, before the
//! new process that the spawn preempted (a `perf sched` trace of a restart showed the alert
//! writer running 190 µs, and the flusher's sync 200 µs, while `start.sh` waited).

use std::time::Duration;

/// How long after the work its bookkeeping is woken: a restarted process has exec'd by then
/// (2–3 ms here), and the records of one operation are taken together.
pub const AFTER_THE_WORK: Duration = Duration::from_millis(5);

/// Runs `wake` [`AFTER_THE_WORK`] from now, on a timer of the tokio runtime the caller runs
/// on; at once when it runs on none. `wake` must only wake a thread, not do its work.
pub fn wake_after_the_work(wake: impl FnOnce() + Send + 'static) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(async move {
                tokio::time::sleep(AFTER_THE_WORK).await;
                wake();
            });
        }
        Err(_) => wake(),
    }
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
    }

    #[test]
    fn a_lowered_thread_runs_at_a_higher_nice_value() {
        let lowered = std::thread::Builder::new()
            .name("clp-lowered".into())
            .spawn(|| {
                lower_this_threads_priority(5);
                std::thread::park();
            })
            .expect("a thread");
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
