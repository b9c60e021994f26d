//! Work that follows etcd while this server is connected: one round per session, started
//! again after a pause when it ends with an error, and cut short when the session changes.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

use crate::membership::Session;

/// Runs `round` on each session as it comes, until the sessions' sender is gone. A round
/// that ends (an error is logged with `what`) starts again after a second on the same
/// session; a new session (or none) ends it at once.
pub(crate) async fn per_session<R, F, E>(
    mut sessions: watch::Receiver<Option<Session>>,
    what: &'static str,
    mut round: R,
) where
    R: FnMut(Session) -> F,
    F: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    loop {
        let session = sessions.borrow_and_update().clone();
        let Some(session) = session else {
            if sessions.changed().await.is_err() {
                return;
            }
            continue;
        };
        tokio::select! {
            ended = round(session) => {
                if let Err(error) = ended {
                    tracing::warn!("{what}: {error}");
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    changed = sessions.changed() => if changed.is_err() { return },
                }
            }
            changed = sessions.changed() => if changed.is_err() { return },
        }
    }
}

/// Periodic looks at etcd: every period, the client of the session current then (a tick
/// without a session is skipped).
pub(crate) struct Looks {
    tick: tokio::time::Interval,
    sessions: watch::Receiver<Option<Session>>,
}

impl Looks {
    /// Looks every `period`, the first at once.
    pub(crate) fn every(period: Duration, sessions: watch::Receiver<Option<Session>>) -> Looks {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Looks { tick, sessions }
    }

    /// The client for the next look; `None` once the sessions' sender is gone.
    pub(crate) async fn next(&mut self) -> Option<etcd_client::Client> {
        loop {
            tokio::select! {
                _ = self.tick.tick() => {}
                changed = self.sessions.changed() => {
                    changed.ok()?;
                    continue;
                }
            }
            if let Some(session) = self.sessions.borrow().as_ref() {
                return Some(session.client.clone());
            }
        }
    }
}

/// The watch of every key under `prefix` from revision `from` on: a round lists the prefix,
/// then watches from the listing's revision + 1 so that it misses nothing and sees nothing
/// twice.
pub(crate) async fn watch_prefix(
    client: &mut etcd_client::Client,
    prefix: &str,
    from: i64,
) -> Result<etcd_client::WatchStream, etcd_client::Error> {
    let options = etcd_client::WatchOptions::new()
        .with_prefix()
        .with_start_revision(from);
    client.watch(prefix, Some(options)).await
}
