//! Who holds the floating address, sampled: one thread per server, inside its namespace,
//! reads the host's addresses (`getifaddrs`) every [`EVERY`] and writes each change down as
//! a journal entry of the pseudo-group `fip` (`up` when the host took the address, `down`
//! when it let it go), so the journal's overlap checker counts the times two hosts held the
//! address at once, whatever system moved it. Stopped on drop.

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::ha_bed::Bed;
use crate::ha_bed::client::in_netns;
use crate::ha_bed::journal::monotonic_ns;
use crate::ha_bed::overlap::Entry;

/// How often each host's addresses are read.
const EVERY: Duration = Duration::from_millis(5);

/// The pseudo-group of the sampler's entries.
pub const GROUP: &str = "fip";

/// The sampler: its entries so far, and what each server holds now.
pub struct Sampler {
    entries: Arc<Mutex<Vec<Entry>>>,
    holding: Arc<Mutex<Vec<bool>>>,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Sampler {
    /// Starts sampling `address` on every server of `bed`.
    pub fn start(bed: &Bed, address: Ipv4Addr) -> Sampler {
        let servers: Vec<(String, String)> = bed
            .servers()
            .map(|host| (host.name.clone(), host.netns.clone()))
            .collect();
        let mut sampler = Sampler {
            entries: Arc::default(),
            holding: Arc::new(Mutex::new(vec![false; servers.len()])),
            stop: Arc::default(),
            threads: Vec::new(),
        };
        for (index, (name, netns)) in servers.into_iter().enumerate() {
            let (entries, holding, stop) = (
                Arc::clone(&sampler.entries),
                Arc::clone(&sampler.holding),
                Arc::clone(&sampler.stop),
            );
            sampler.threads.push(std::thread::spawn(move || {
                let sampled = in_netns(&netns, move || {
                    let mut held = false;
                    while !stop.load(Ordering::Relaxed) {
                        let now = holds(address);
                        if now != held {
                            held = now;
                            let entry = Entry {
                                time: monotonic_ns(),
                                server: name.clone(),
                                group: GROUP.to_string(),
                                event: if now { "up" } else { "down" }.to_string(),
                                // One pseudo-run per host: the checker pairs up and down by pid.
                                pid: u32::try_from(index + 1).unwrap_or(u32::MAX),
                                fence: None,
                            };
                            lock(&entries).push(entry);
                            lock(&holding)[index] = now;
                        }
                        std::thread::sleep(EVERY);
                    }
                    Ok(())
                });
                if let Err(error) = sampled {
                    eprintln!("the address sampler stopped: {error}");
                }
            }));
        }
        sampler
    }

    /// The servers (by index) that hold the address now.
    pub fn holders(&self) -> Vec<usize> {
        lock(&self.holding)
            .iter()
            .enumerate()
            .filter_map(|(index, held)| held.then_some(index))
            .collect()
    }

    /// Every change so far.
    pub fn entries(&self) -> Vec<Entry> {
        lock(&self.entries).clone()
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether an interface of this thread's namespace has `address`.
fn holds(address: Ipv4Addr) -> bool {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list` with a list that freeifaddrs releases below.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        return false;
    }
    let wanted = u32::from(address).to_be();
    let mut found = false;
    let mut cursor = list;
    while !cursor.is_null() {
        // SAFETY: `cursor` is a node of the list getifaddrs returned, not yet freed.
        let node = unsafe { &*cursor };
        if !node.ifa_addr.is_null()
            // SAFETY: ifa_addr points to a sockaddr of the node's family.
            && i32::from(unsafe { (*node.ifa_addr).sa_family }) == libc::AF_INET
        {
            // SAFETY: an AF_INET address is a sockaddr_in.
            let inet = unsafe { &*(node.ifa_addr as *const libc::sockaddr_in) };
            found |= inet.sin_addr.s_addr == wanted;
        }
        cursor = node.ifa_next;
    }
    // SAFETY: `list` came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(list) };
    found
}
