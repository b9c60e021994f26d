//! Test support for the network monitors: run a body on a thread of its own inside a new,
//! empty network namespace. Nothing is global: the namespace has no name, no route out and
//! disappears with the thread, so these tests touch no other network.

use std::process::Command;

/// Whether the tests run as root (a new network namespace needs `CAP_SYS_ADMIN`).
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Runs `body` on a new thread in a new network namespace with `lo` up, after the `ip`
/// commands of `setup` (each an argument list) ran inside it. Panics on a setup failure.
pub fn run<T: Send + 'static>(setup: &[&[&str]], body: impl FnOnce() -> T + Send + 'static) -> T {
    let setup: Vec<Vec<String>> = setup
        .iter()
        .map(|args| args.iter().map(|arg| arg.to_string()).collect())
        .collect();
    std::thread::spawn(move || {
        // SAFETY: unshare has no memory effects; CLONE_NEWNET moves only this thread.
        let unshared = unsafe { libc::unshare(libc::CLONE_NEWNET) };
        assert_eq!(
            unshared,
            0,
            "unshare(CLONE_NEWNET): {}",
            std::io::Error::last_os_error()
        );
        // Children inherit the namespace of the thread that starts them.
        let mut commands = vec![vec![
            "link".to_string(),
            "set".into(),
            "lo".into(),
            "up".into(),
        ]];
        commands.extend(setup);
        for args in commands {
            let status = Command::new("ip")
                .args(&args)
                .status()
                .unwrap_or_else(|error| {
                    panic!("cannot run ip (install iproute2: .ci/setup.d/iproute2.sh): {error}")
                });
            assert!(status.success(), "ip {} failed", args.join(" "));
        }
        body()
    })
    .join()
    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Allows unprivileged ping sockets in the current thread's network namespace.
pub fn allow_ping_sockets() {
    // /proc/sys/net belongs to the namespace of the thread that opens it.
    std::fs::write("/proc/sys/net/ipv4/ping_group_range", "0 2147483647")
        .expect("set net.ipv4.ping_group_range in the private namespace");
}

/// A current-thread tokio runtime (built on the namespace's thread).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// A sysfs mount of [`mount_sysfs`], unmounted on drop (before its folder is removed).
pub struct SysfsMount(std::ffi::CString);

impl Drop for SysfsMount {
    fn drop(&mut self) {
        // SAFETY: a valid C string, as umount2(2) expects.
        unsafe { libc::umount2(self.0.as_ptr(), libc::MNT_DETACH) };
    }
}

/// Mounts the current thread's view of sysfs (its network namespace's interfaces) at `at`,
/// in a mount namespace of this thread only.
pub fn mount_sysfs(at: &std::path::Path) -> SysfsMount {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: unshare has no memory effects; CLONE_NEWNS moves only this thread.
    let unshared = unsafe { libc::unshare(libc::CLONE_NEWNS) };
    assert_eq!(
        unshared,
        0,
        "unshare(CLONE_NEWNS): {}",
        std::io::Error::last_os_error()
    );
    let root = CString::new("/").expect("a path");
    let none = CString::new("none").expect("a name");
    let sysfs = CString::new("sysfs").expect("a name");
    let target = CString::new(at.as_os_str().as_bytes()).expect("a path");
    // SAFETY: every pointer is a valid C string or null, as mount(2) expects.
    unsafe {
        // Nothing mounted here may propagate to the other namespaces.
        let private = libc::mount(
            none.as_ptr(),
            root.as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        );
        assert_eq!(
            private,
            0,
            "make / private: {}",
            std::io::Error::last_os_error()
        );
        let mounted = libc::mount(
            sysfs.as_ptr(),
            target.as_ptr(),
            sysfs.as_ptr(),
            0,
            std::ptr::null(),
        );
        assert_eq!(
            mounted,
            0,
            "mount sysfs: {}",
            std::io::Error::last_os_error()
        );
    }
    SysfsMount(target)
}
