//! The per-client budget of wrong passwords: [`FREE`] failures are free; after them a
//! client gets one attempt every [`SPACING`], and every other attempt is refused (429)
//! without hashing. A right password clears the client's count; a client silent for
//! [`FORGET`] is forgotten. At most [`CLIENTS`] clients are remembered (the stalest is
//! dropped first), so the table itself cannot be made to grow without bound.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Wrong passwords a client may send before it is slowed down.
pub const FREE: u32 = 10;
/// Then, one attempt per this long.
pub const SPACING: Duration = Duration::from_secs(6);
/// A client with no failure for this long starts afresh.
pub const FORGET: Duration = Duration::from_secs(600);
/// Clients remembered at most.
pub const CLIENTS: usize = 4096;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// The failures of every client.
#[derive(Debug, Default)]
pub struct FailureBudget {
    clients: Mutex<HashMap<IpAddr, Failures>>,
}

impl FailureBudget {
    /// An empty budget.
    pub fn new() -> FailureBudget {
        FailureBudget::default()
    }

    /// Whether `client` may have a password checked now; `Err`: how long until it may.
    pub fn admit(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let clients = self.lock();
        match clients.get(&client) {
            Some(failures) if failures.count >= FREE => {
                let since = now.saturating_duration_since(failures.last);
                if since < SPACING {
                    Err(SPACING - since)
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    /// `client` sent a wrong password.
    pub fn failed(&self, client: IpAddr, now: Instant) {
        let mut clients = self.lock();
        if clients.len() >= CLIENTS && !clients.contains_key(&client) {
            clients.retain(|_, failures| now.saturating_duration_since(failures.last) < FORGET);
            if clients.len() >= CLIENTS
                && let Some(stalest) = clients
                    .iter()
                    .min_by_key(|(_, failures)| failures.last)
                    .map(|(address, _)| *address)
            {
                clients.remove(&stalest);
            }
        }
        let failures = clients.entry(client).or_insert(Failures {
            count: 0,
            last: now,
        });
        if now.saturating_duration_since(failures.last) >= FORGET {
            failures.count = 0;
        }
        failures.count = failures.count.saturating_add(1);
        failures.last = now;
    }

    /// `client` sent a right password.
    pub fn succeeded(&self, client: IpAddr) {
        self.lock().remove(&client);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Failures>> {
        self.clients
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_failures_are_free_then_one_attempt_per_spacing() {
        let budget = FailureBudget::new();
        let client: IpAddr = "192.168.100.9".parse().unwrap();
        let other: IpAddr = "192.168.100.10".parse().unwrap();
        let start = Instant::now();
        for _ in 0..FREE {
            assert_eq!(budget.admit(client, start), Ok(()));
            budget.failed(client, start);
        }
        assert_eq!(budget.admit(client, start), Err(SPACING));
        assert_eq!(
            budget.admit(client, start + Duration::from_secs(2)),
            Err(Duration::from_secs(4))
        );
        assert_eq!(budget.admit(other, start), Ok(()));
        let later = start + SPACING;
        assert_eq!(budget.admit(client, later), Ok(()));
        budget.failed(client, later);
        assert!(
            budget
                .admit(client, later + Duration::from_secs(1))
                .is_err()
        );
        assert_eq!(budget.admit(client, later + FORGET), Ok(()));
        budget.failed(client, later + FORGET);
        assert_eq!(budget.admit(client, later + FORGET), Ok(()));
        budget.succeeded(client);
        assert_eq!(budget.admit(client, later), Ok(()));
    }

    #[test]
    fn the_table_stays_bounded() {
        let budget = FailureBudget::new();
        let now = Instant::now();
        for index in 0..(CLIENTS as u32 + 100) {
            budget.failed(IpAddr::from(index.to_be_bytes()), now);
        }
        assert_eq!(budget.lock().len(), CLIENTS);
    }
}
