//! A network namespace with a veth pair, made by a test and deleted when it drops: the
//! network that the ipw and miiw tests break and repair. Root only; names carry the pid so
//! parallel runs do not collide.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::harness::wait_until;

/// Whether the tests run as root (namespaces and veth pairs need it).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no memory effects.
    unsafe { libc::geteuid() == 0 }
}

/// The `ip` command of iproute2.
fn ip_binary() -> &'static str {
    ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        .into_iter()
        .find(|path| Path::new(path).exists())
        .expect("no `ip` command: run .ci/setup.d/iproute2.sh (installs iproute2)")
}

/// Runs `ip ARGS`, returning stdout; panics with stderr on a failure.
#[track_caller]
pub fn ip(args: &[&str]) -> String {
    let output = Command::new(ip_binary())
        .args(args)
        .output()
        .expect("run ip");
    assert!(
        output.status.success(),
        "ip {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A namespace `clp-<tag>-<pid>` holding `<tag><pid>n`, the peer of the host's
/// `<tag><pid>h`. Both ends are up, without addresses.
pub struct TestNetns {
    /// The namespace's name.
    pub name: String,
    /// The end in the host's namespace.
    pub host_end: String,
    /// The end inside the namespace.
    pub inner_end: String,
}

impl TestNetns {
    /// Makes the namespace and the pair, or says why it cannot (not root) and gives `None`.
    pub fn create(tag: &str) -> Option<TestNetns> {
        if !is_root() {
            eprintln!(
                "skipped: this test makes a network namespace and a veth pair, which needs root"
            );
            return None;
        }
        let pid = std::process::id();
        // From here on Drop removes whatever was made, even if a step below fails.
        let netns = TestNetns {
            name: format!("clp-{tag}-{pid}"),
            host_end: format!("{tag}{pid}h"),
            inner_end: format!("{tag}{pid}n"),
        };
        ip(&["netns", "add", &netns.name]);
        ip(&[
            "link",
            "add",
            &netns.host_end,
            "type",
            "veth",
            "peer",
            "name",
            &netns.inner_end,
        ]);
        ip(&["link", "set", &netns.inner_end, "netns", &netns.name]);
        netns.inside(&["link", "set", "lo", "up"]);
        netns.inside(&["link", "set", &netns.inner_end, "up"]);
        ip(&["link", "set", &netns.host_end, "up"]);
        netns.wait_for_operstate("up");
        Some(netns)
    }

    /// Runs `ip ARGS` inside the namespace.
    #[track_caller]
    pub fn inside(&self, args: &[&str]) -> String {
        let mut full = vec!["netns", "exec", &self.name, ip_binary()];
        full.extend_from_slice(args);
        ip(&full)
    }

    /// Waits until the host end's operstate is `state`.
    pub fn wait_for_operstate(&self, state: &str) {
        let path = format!("/sys/class/net/{}/operstate", self.host_end);
        wait_until(
            &format!("{} operstate {state}", self.host_end),
            Duration::from_secs(5),
            || std::fs::read_to_string(&path).is_ok_and(|text| text.trim() == state),
        );
    }
}

impl Drop for TestNetns {
    fn drop(&mut self) {
        // Deleting the namespace destroys the inner end, and with it the host end; the host
        // end is deleted by name too in case the pair never made it into the namespace.
        for args in [
            vec!["netns", "del", self.name.as_str()],
            vec!["link", "del", self.host_end.as_str()],
        ] {
            let _ = Command::new(ip_binary())
                .args(&args)
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}
