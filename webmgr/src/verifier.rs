//! Password hashing on a small fixed pool: argon2 takes tens of milliseconds and 19 MiB per
//! verification, so a flood of wrong passwords must not run as many at once as it sends
//! (300 requests, 100 in parallel, once took clpwebmgr to 6.6 GiB). [`WORKERS`] threads
//! verify, at most [`QUEUE`] more wait; a request beyond that is refused at once (503)
//! without hashing anything.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use super::access::{Matched, PasswordsSet};
use super::passwords::Passwords;

/// Verifications that run at once.
pub const WORKERS: usize = 2;
/// Verifications that may wait for a worker.
pub const QUEUE: usize = 32;

/// One verification: the password and where its answer goes.
struct Job {
    password: String,
    reply: tokio::sync::oneshot::Sender<(PasswordsSet, Matched)>,
}

/// The pool. Its threads end when it is dropped.
#[derive(Debug)]
pub struct Verifier {
    sender: SyncSender<Job>,
}

/// Every worker is busy and the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

impl Verifier {
    /// A pool of `workers` threads and `queue` places checking against `passwords`.
    pub fn new(passwords: Arc<Passwords>, workers: usize, queue: usize) -> Verifier {
        let (sender, receiver) = sync_channel::<Job>(queue);
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..workers.max(1) {
            let receiver = Arc::clone(&receiver);
            let passwords = Arc::clone(&passwords);
            let spawned = std::thread::Builder::new()
                .name(format!("clpwebmgr-verify-{index}"))
                .spawn(move || work(&receiver, &passwords));
            if let Err(error) = spawned {
                // Fewer workers only make verification slower; none at all makes every
                // check answer Busy, which fails closed.
                tracing::error!("cannot start a password verification thread: {error}");
            }
        }
        Verifier { sender }
    }

    /// Verifies `password` on the pool, or says at once that the pool is full.
    pub async fn check(&self, password: String) -> Result<(PasswordsSet, Matched), Busy> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        match self.sender.try_send(Job { password, reply }) {
            Ok(()) => answer.await.map_err(|_| Busy),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => Err(Busy),
        }
    }
}

fn work(receiver: &Mutex<Receiver<Job>>, passwords: &Passwords) {
    // argon2's working memory, allocated once and reused by every verification here.
    let mut memory = Vec::new();
    loop {
        let job = {
            let receiver = receiver.lock().unwrap_or_else(|poison| poison.into_inner());
            match receiver.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        // The client may have gone: then nobody waits for the answer.
        if job.reply.is_closed() {
            continue;
        }
        let _ = job
            .reply
            .send(passwords.check_with(Some(&job.password), &mut memory));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passwords::{PasswordKind, store};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_pool_refuses_at_once_and_still_verifies_what_it_took() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("webmgr-passwords.toml");
        store(&path, PasswordKind::Operation, Some("op")).unwrap();
        let verifier = Arc::new(Verifier::new(Arc::new(Passwords::new(path)), 1, 2));
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let verifier = Arc::clone(&verifier);
            tasks.push(tokio::spawn(
                async move { verifier.check("wrong".into()).await },
            ));
        }
        let mut busy = 0;
        let mut checked = 0;
        for task in tasks {
            match task.await.unwrap() {
                Err(Busy) => busy += 1,
                Ok((_, matched)) => {
                    assert_eq!(matched, Matched::Nothing);
                    checked += 1;
                }
            }
        }
        // One running and two waiting at most when the others came.
        assert!(checked >= 1 && checked <= 12 - busy, "{checked} checked");
        assert!(busy >= 1, "none refused of 12 on a pool of 1 + 2");
        assert_eq!(
            verifier.check("op".into()).await.map(|(_, m)| m),
            Ok(Matched::Operation)
        );
    }
}
