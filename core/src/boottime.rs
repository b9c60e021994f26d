//! The host's boot clock (`CLOCK_BOOTTIME`): monotonic, shared by every process of the host,
//! and — unlike `CLOCK_MONOTONIC` — still counting while the host is suspended. The HA
//! cluster's lease deadline is told to clppm's keeper on this clock, so a host that resumes
//! from a suspend sees a lease that ran out meanwhile as run out.

use std::time::Duration;

/// The boot clock now, as the time since the host booted.
pub fn now() -> Duration {
    let mut spec = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the one we own; CLOCK_BOOTTIME exists
    // on every Linux since 2.6.39.
    let result = unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut spec) };
    if result != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        u64::try_from(spec.tv_sec).unwrap_or(0),
        u32::try_from(spec.tv_nsec).unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_boot_clock_moves_forward() {
        let first = super::now();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let second = super::now();
        assert!(first > std::time::Duration::ZERO);
        assert!(second >= first + std::time::Duration::from_millis(5));
    }
}
