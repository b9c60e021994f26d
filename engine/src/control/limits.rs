//! The control socket's bounds: how many connections, how many buffered bytes, how long a
//! client may idle or dawdle over a line. They keep a hostile or broken client from taking
//! clppm's memory or its connection slots, while an operator's `clpstat` still gets in.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// The environment variable that overrides the limits (for tests), e.g.
/// `conns=8,line=4096,pool=65536,line_timeout=1,idle=2` (sizes in bytes, times in seconds).
pub const LIMITS_ENV: &str = "CLP_CONTROL_LIMITS";

/// The control socket's bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Connections served at once; beyond, the longest-waiting one is closed.
    pub connections: usize,
    /// The longest request line, newline included.
    pub line_bytes: usize,
    /// Request bytes buffered by all connections together.
    pub pool_bytes: usize,
    /// How long a started line may take to complete.
    pub line_timeout: Duration,
    /// How long a connection may wait between requests (or to read an answer).
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            connections: 64,
            line_bytes: 64 << 10,
            pool_bytes: 32 << 20,
            line_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

impl Limits {
    /// The defaults, overridden by [`LIMITS_ENV`] when it is set.
    pub fn from_env() -> Result<Limits, String> {
        match std::env::var(LIMITS_ENV) {
            Ok(spec) => Limits::parse(&spec),
            Err(_) => Ok(Limits::default()),
        }
    }

    /// The defaults overridden by `key=value` pairs separated by commas.
    pub fn parse(spec: &str) -> Result<Limits, String> {
        let mut limits = Limits::default();
        for pair in spec
            .split(',')
            .map(str::trim)
            .filter(|pair| !pair.is_empty())
        {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("{LIMITS_ENV}: '{pair}' is not key=value"))?;
            let count = || {
                value
                    .parse::<usize>()
                    .ok()
                    .filter(|count| *count > 0)
                    .ok_or_else(|| format!("{LIMITS_ENV}: {key} must be a positive integer"))
            };
            let seconds = || {
                value
                    .parse::<f64>()
                    .ok()
                    .filter(|seconds| seconds.is_finite() && *seconds > 0.0)
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| {
                        format!("{LIMITS_ENV}: {key} must be a positive number of seconds")
                    })
            };
            match key {
                "conns" => limits.connections = count()?,
                "line" => limits.line_bytes = count()?,
                "pool" => limits.pool_bytes = count()?,
                "line_timeout" => limits.line_timeout = seconds()?,
                "idle" => limits.idle_timeout = seconds()?,
                other => {
                    return Err(format!(
                        "{LIMITS_ENV}: unknown key '{other}' (known: conns, line, pool, line_timeout, idle)"
                    ));
                }
            }
        }
        Ok(limits)
    }
}

/// The bytes all connections may buffer together.
#[derive(Debug)]
pub struct Pool {
    used: AtomicUsize,
    capacity: usize,
}

impl Pool {
    /// A pool of `capacity` bytes.
    pub fn new(capacity: usize) -> Arc<Pool> {
        Arc::new(Pool {
            used: AtomicUsize::new(0),
            capacity,
        })
    }

    /// Bytes held now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    fn take(&self, bytes: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes)
                    .filter(|total| *total <= self.capacity)
            })
            .is_ok()
    }

    fn give_back(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::AcqRel);
    }
}

/// One connection's share of the [`Pool`]; returned when dropped.
#[derive(Debug)]
pub struct Reservation {
    pool: Arc<Pool>,
    held: usize,
}

impl Reservation {
    /// An empty share of `pool`.
    pub fn new(pool: &Arc<Pool>) -> Reservation {
        Reservation {
            pool: Arc::clone(pool),
            held: 0,
        }
    }

    /// Holds exactly `bytes` (growing or shrinking the share); false when the pool is full.
    pub fn hold(&mut self, bytes: usize) -> bool {
        if bytes > self.held {
            if !self.pool.take(bytes - self.held) {
                return false;
            }
        } else {
            self.pool.give_back(self.held - bytes);
        }
        self.held = bytes;
        true
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.pool.give_back(self.held);
    }
}

struct Slot {
    waiting_since: Instant,
    busy: bool,
    close: Option<oneshot::Sender<()>>,
}

/// The open connections, so that a new one can take the slot of the longest-waiting one.
#[derive(Default)]
pub struct Connections {
    slots: Mutex<HashMap<u64, Slot>>,
    next: AtomicUsize,
}

/// What [`Connections::admit`] decided.
pub enum Admission {
    /// Served; the receiver fires when the connection is evicted.
    Admitted(Ticket, oneshot::Receiver<()>),
    /// Every slot is busy with a request: refused.
    Full,
}

impl Connections {
    /// An empty table.
    pub fn new() -> Arc<Connections> {
        Arc::new(Connections::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Slot>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Open connections.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no connection is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Admits a connection; at `limit`, first closes the connection that has waited longest
    /// for its client (never one whose request is being carried out).
    pub fn admit(self: &Arc<Self>, limit: usize) -> Admission {
        let mut slots = self.lock();
        if slots.len() >= limit {
            let oldest = slots
                .iter()
                .filter(|(_, slot)| !slot.busy)
                .min_by_key(|(_, slot)| slot.waiting_since)
                .map(|(id, _)| *id);
            match oldest {
                Some(id) => {
                    if let Some(mut slot) = slots.remove(&id)
                        && let Some(close) = slot.close.take()
                    {
                        let _ = close.send(());
                    }
                    tracing::info!(
                        "control socket: {limit} connections open; closed the one waiting longest"
                    );
                }
                None => return Admission::Full,
            }
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed) as u64;
        let (close, closed) = oneshot::channel();
        slots.insert(
            id,
            Slot {
                waiting_since: Instant::now(),
                busy: false,
                close: Some(close),
            },
        );
        Admission::Admitted(
            Ticket {
                connections: Arc::clone(self),
                id,
            },
            closed,
        )
    }
}

/// A connection's slot; freed when dropped.
pub struct Ticket {
    connections: Arc<Connections>,
    id: u64,
}

impl Ticket {
    /// Marks the connection as carrying out a request (not evictable) or as waiting for its
    /// client again (evictable, the wait counted from now).
    pub fn set_busy(&self, busy: bool) {
        if let Some(slot) = self.connections.lock().get_mut(&self.id) {
            slot.busy = busy;
            if !busy {
                slot.waiting_since = Instant::now();
            }
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.connections.lock().remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_and_refuse_nonsense() {
        let limits = Limits::parse("conns=8, line=4096,idle=0.5").expect("valid limits");
        assert_eq!(limits.connections, 8);
        assert_eq!(limits.line_bytes, 4096);
        assert_eq!(limits.idle_timeout, Duration::from_millis(500));
        assert_eq!(limits.pool_bytes, Limits::default().pool_bytes);
        assert!(Limits::parse("conns=0").is_err());
        assert!(Limits::parse("bogus=1").is_err());
        assert!(Limits::parse("idle=-1").is_err());
    }

    #[test]
    fn the_pool_never_lends_more_than_it_has() {
        let pool = Pool::new(100);
        let mut first = Reservation::new(&pool);
        let mut second = Reservation::new(&pool);
        assert!(first.hold(60));
        assert!(!second.hold(41));
        assert!(second.hold(40));
        assert!(first.hold(10));
        assert_eq!(pool.used(), 50);
        drop(second);
        assert_eq!(pool.used(), 10);
    }

    #[test]
    fn a_full_table_evicts_the_longest_waiting_idle_connection() {
        let connections = Connections::new();
        let Admission::Admitted(first, mut first_closed) = connections.admit(2) else {
            panic!("the first is admitted");
        };
        let Admission::Admitted(second, _second_closed) = connections.admit(2) else {
            panic!("the second is admitted");
        };
        second.set_busy(true);
        let Admission::Admitted(third, _third_closed) = connections.admit(2) else {
            panic!("the third takes the first's slot");
        };
        assert!(
            first_closed.try_recv().is_ok(),
            "the first was told to close"
        );
        drop(first);
        third.set_busy(true);
        assert!(matches!(connections.admit(2), Admission::Full));
        assert_eq!(connections.len(), 2);
    }
}
