//! clppm's death is not the service's death, nor a licence to run twice (issue 12): in an HA
//! cluster, clppm's keeper kills the resources' process groups when clppm dies or hangs,
//! before its lease can run out.
//!
//! First the keeper alone (`clppm --keeper MARGIN_MS`, fed by the test as clppm would feed
//! it) with a `sleep` process group; then, on the network-namespace bed, an exec resource
//! on node1 whose clppm is killed (`kill -9`) or stopped (SIGSTOP), its process observed
//! from the root namespace.

use std::io::Write;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use clp_core::process::ProcessIdentity;

use crate::ha_bed::Bed;
use crate::harness::{bin, signal, text_once_it_holds, wait_until};

/// The keeper's margin in the tests that feed it.
const MARGIN: Duration = Duration::from_millis(100);

/// A keeper started as clppm starts it, its pipe in the test's hands.
struct Keeper {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Keeper {
    fn start() -> Keeper {
        Keeper::start_in(std::path::Path::new("/nonexistent/clp-keeper-test"))
    }

    /// A keeper of the resource scripts under `root`.
    fn start_in(root: &std::path::Path) -> Keeper {
        Keeper::start_with(root, &[], Stdio::inherit())
    }

    /// With these variables (clppm hands the etcd access over so) and its stderr (its log).
    fn start_with(root: &std::path::Path, env: &[(&str, String)], stderr: Stdio) -> Keeper {
        let mut child = Command::new(bin("clppm"))
            .args(["--keeper", &MARGIN.as_millis().to_string()])
            .env("CLP_ROOT", root)
            .envs(env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start clppm --keeper");
        let stdin = child.stdin.take();
        Keeper { child, stdin }
    }

    fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("the pipe is open");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .expect("write to the keeper");
        stdin.flush().expect("flush");
    }

    /// Closes the pipe and waits for the keeper's exit code.
    fn close(&mut self) -> Option<i32> {
        self.stdin = None;
        self.child.wait().expect("wait for the keeper").code()
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `sleep` leading its own process group, with a child of its own in the group.
struct Group {
    child: Child,
    identity: ProcessIdentity,
}

impl Group {
    fn start() -> Group {
        Group::start_with(&[])
    }

    /// With these variables in its environment.
    fn start_with(env: &[(&str, &std::path::Path)]) -> Group {
        use std::os::unix::process::CommandExt;
        let child = Command::new("sh")
            .args(["-c", "sleep 600 & exec sleep 600"])
            .envs(env.iter().copied())
            .process_group(0)
            .spawn()
            .expect("start a process group");
        let identity = wait_for_identity(child.id());
        Group { child, identity }
    }

    fn pgid(&self) -> u32 {
        self.identity.pid
    }

    /// Whether any process of the group still runs (zombies waiting for their parent, or
    /// for init to reap them, do not).
    fn alive(&mut self) -> bool {
        let _ = self.child.try_wait();
        group_runs(self.pgid())
    }

    /// Waits until the whole group is gone, up to `within`; how long it took.
    fn gone_within(&mut self, within: Duration) -> Option<Duration> {
        let started = Instant::now();
        while started.elapsed() < within {
            if !self.alive() {
                return Some(started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        None
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        clp_core::process::signal_group(self.pgid(), nix::sys::signal::Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

/// Whether a process of group `pgid` runs (is not a zombie), read from `/proc`.
fn group_runs(pgid: u32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|entry| {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            return false;
        };
        // After the command name: state, ppid, pgrp.
        let Some(rest) = stat.rfind(')').map(|end| &stat[end + 1..]) else {
            return false;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.to_string()
    })
}

fn wait_for_identity(pid: u32) -> ProcessIdentity {
    let mut identity = None;
    wait_until("the process's identity", Duration::from_secs(5), || {
        identity = ProcessIdentity::of(pid);
        identity.is_some()
    });
    identity.expect("just read")
}

/// The boot clock in ns, `ahead` from now.
fn boot_clock_in(ahead: Duration) -> u128 {
    (clp_core::boottime::now() + ahead).as_nanos()
}

#[test]
fn the_keeper_kills_the_groups_when_the_pipe_closes_without_bye() {
    let mut keeper = Keeper::start();
    let mut group = Group::start();
    keeper.say(&format!(
        "lease 7 {}",
        boot_clock_in(Duration::from_secs(60))
    ));
    keeper.say(&format!("add {}", group.pgid()));
    // The keeper has read its lines when it answers nothing: give it a moment.
    std::thread::sleep(Duration::from_millis(50));
    assert!(group.alive());
    keeper.stdin = None;
    let took = group.gone_within(Duration::from_millis(100));
    assert!(
        took.is_some(),
        "the group outlived its keeper's pipe by 100 ms"
    );
    assert_eq!(keeper.close(), Some(0));
}

#[test]
fn the_keeper_also_kills_this_roots_resource_scripts_it_was_not_told_of() {
    let root = tempfile::tempdir().expect("a root");
    let other = tempfile::tempdir().expect("another root");
    let mut keeper = Keeper::start_in(root.path());
    let resource = std::path::Path::new("app");
    // Started by a clppm that died before it could say `add`.
    let mut untold =
        Group::start_with(&[("CLP_ROOT", root.path()), ("CLP_RESOURCENAME", resource)]);
    // Another root's resource, and a process of this root that is no resource script.
    let mut elsewhere =
        Group::start_with(&[("CLP_ROOT", other.path()), ("CLP_RESOURCENAME", resource)]);
    let mut not_a_resource = Group::start_with(&[("CLP_ROOT", root.path())]);
    keeper.say(&format!(
        "lease 7 {}",
        boot_clock_in(Duration::from_secs(60))
    ));
    std::thread::sleep(Duration::from_millis(50));
    keeper.stdin = None;
    assert!(
        untold.gone_within(Duration::from_secs(1)).is_some(),
        "this root's unregistered resource script outlived the keeper"
    );
    assert_eq!(keeper.close(), Some(0));
    assert!(elsewhere.alive(), "another root's resource was killed");
    assert!(
        not_a_resource.alive(),
        "a process that is no resource script was killed"
    );
}

#[test]
fn the_keeper_kills_the_groups_before_a_lease_that_is_not_renewed_runs_out() {
    let mut keeper = Keeper::start();
    let mut group = Group::start();
    let lease = Duration::from_millis(1500);
    keeper.say(&format!("lease 7 {}", boot_clock_in(lease)));
    keeper.say(&format!("add {}", group.pgid()));
    let told = Instant::now();
    let took = group
        .gone_within(lease + Duration::from_secs(2))
        .map(|_| told.elapsed());
    let took = took.expect("the group outlived its lease");
    eprintln!("killed {took:?} after a lease of {lease:?} (margin {MARGIN:?})");
    assert!(took < lease, "killed after the lease ran out: {took:?}");
    // Not before its time: the lease minus the margin, less a little for the clocks.
    assert!(
        took + MARGIN + Duration::from_millis(50) >= lease,
        "killed too early: {took:?}"
    );
    // The keeper goes on for clppm (which may come back and take a new lease).
    keeper.say("bye");
    assert_eq!(keeper.close(), Some(0));
}

#[test]
fn a_renewed_lease_keeps_the_groups_and_bye_leaves_them_running() {
    let mut keeper = Keeper::start();
    let mut group = Group::start();
    let renew = |keeper: &mut Keeper| {
        keeper.say(&format!(
            "lease 7 {}",
            boot_clock_in(Duration::from_millis(400))
        ));
    };
    renew(&mut keeper);
    keeper.say(&format!("add {}", group.pgid()));
    for _ in 0..8 {
        std::thread::sleep(Duration::from_millis(100));
        renew(&mut keeper);
    }
    assert!(group.alive(), "a renewed lease did not keep the group");
    keeper.say(&format!("del {}", group.pgid()));
    keeper.say(&format!("add {}", group.pgid()));
    keeper.say("bye");
    assert_eq!(keeper.close(), Some(0));
    std::thread::sleep(Duration::from_millis(100));
    assert!(group.alive(), "bye killed the group");
}

#[test]
fn a_line_outside_the_protocol_kills_the_groups() {
    for line in ["add 1", "hello", &"x".repeat(100)] {
        let mut keeper = Keeper::start();
        let mut group = Group::start();
        keeper.say(&format!(
            "lease 7 {}",
            boot_clock_in(Duration::from_secs(60))
        ));
        keeper.say(&format!("add {}", group.pgid()));
        std::thread::sleep(Duration::from_millis(50));
        assert!(group.alive());
        keeper.say(line);
        assert!(
            group.gone_within(Duration::from_secs(1)).is_some(),
            "{line:?} left the group running"
        );
        assert_eq!(keeper.close(), Some(2), "{line:?}");
    }
}

// ---- The keeper and a real etcd on loopback: a hung clppm's lease. ----

/// An etcd on loopback with one lease of `ttl` (a key on it), for the keeper to release.
struct LeaseOnEtcd {
    _etcd: crate::loopback_etcd::Etcd,
    endpoint: String,
    runtime: tokio::runtime::Runtime,
    lease: i64,
}

impl LeaseOnEtcd {
    /// `None` (said) where etcd is not installed.
    fn grant(ttl: i64) -> Option<LeaseOnEtcd> {
        if !crate::loopback_etcd::etcd_available() {
            eprintln!("skipped: etcd is not installed (run .ci/setup.d/etcd.sh)");
            return None;
        }
        let port = crate::loopback_etcd::free_port();
        let etcd = crate::loopback_etcd::start_etcd(port);
        let endpoint = format!("http://127.0.0.1:{port}");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let lease = runtime.block_on(async {
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let granted = async {
                    let mut client =
                        etcd_client::Client::connect([endpoint.as_str()], None).await?;
                    let lease = client.lease_grant(ttl, None).await?.id();
                    let on_lease = etcd_client::PutOptions::new().with_lease(lease);
                    client
                        .put("/clp/test/owner", "node1", Some(on_lease))
                        .await?;
                    Ok::<i64, etcd_client::Error>(lease)
                };
                match granted.await {
                    Ok(lease) => break lease,
                    Err(error) if Instant::now() > deadline => panic!("etcd on loopback: {error}"),
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        Some(LeaseOnEtcd {
            _etcd: etcd,
            endpoint,
            runtime,
            lease,
        })
    }

    /// What etcd says is left of the lease, in whole seconds (-1: it has none).
    fn left(&self) -> i64 {
        self.runtime.block_on(async {
            let mut client = etcd_client::Client::connect([self.endpoint.as_str()], None)
                .await
                .expect("connect to etcd");
            client
                .lease_time_to_live(self.lease, None)
                .await
                .expect("the lease's time to live")
                .ttl()
        })
    }

    /// A keeper handed this etcd, releasing a hung lease when at most `stale` seconds are
    /// left; its log goes to `log`.
    fn keeper(&self, stale: i64, log: &std::path::Path) -> Keeper {
        let env = [
            ("CLP_KEEPER_ETCD", self.endpoint.clone()),
            ("CLP_KEEPER_ETCD_STALE", stale.to_string()),
        ];
        let file = std::fs::File::create(log).expect("the keeper's log");
        Keeper::start_with(
            std::path::Path::new("/nonexistent/clp-keeper-test"),
            &env,
            Stdio::from(file),
        )
    }
}

#[test]
fn the_keeper_of_a_hung_clppm_releases_its_lease_once_its_groups_are_gone_and_nothing_runs_under_it_after()
 {
    // etcd holds the lease for 10 s; the keeper was told it is valid for 1.5 s more (clppm
    // renewed it and hung): it kills at 1.4 s and, since etcd says at most 9 s are left
    // (nobody renewed it behind the keeper's back), releases it long before it runs out.
    let Some(etcd) = LeaseOnEtcd::grant(10) else {
        return;
    };
    let granted = Instant::now();
    let log = tempfile::NamedTempFile::new().expect("a log file");
    let mut keeper = etcd.keeper(9, log.path());
    let mut group = Group::start();
    keeper.say(&format!(
        "lease {} {}",
        etcd.lease,
        boot_clock_in(Duration::from_millis(1500))
    ));
    keeper.say(&format!("add {}", group.pgid()));
    assert!(
        group.gone_within(Duration::from_secs(5)).is_some(),
        "the group outlived the lease the keeper was told of"
    );
    wait_until("the lease released", Duration::from_secs(5), || {
        etcd.left() < 0
    });
    eprintln!(
        "released {:?} after the grant (TTL 10 s)",
        granted.elapsed()
    );
    assert!(
        granted.elapsed() < Duration::from_secs(8),
        "the lease ran out on its own"
    );
    let said = text_once_it_holds(
        log.path(),
        "released its etcd lease",
        Duration::from_secs(5),
    );
    assert!(
        said.contains("released its etcd lease"),
        "the keeper's log:\n{said}"
    );

    // clppm wakes up and believes it renewed the lease: what it starts under it dies at once.
    let mut late = Group::start();
    keeper.say(&format!(
        "lease {} {}",
        etcd.lease,
        boot_clock_in(Duration::from_secs(60))
    ));
    keeper.say(&format!("add {}", late.pgid()));
    assert!(
        late.gone_within(Duration::from_secs(2)).is_some(),
        "a group added under the released lease ran"
    );
    // Under a new lease (clppm won its groups again), groups run again.
    let mut again = Group::start();
    keeper.say(&format!(
        "lease {} {}",
        etcd.lease + 1,
        boot_clock_in(Duration::from_secs(60))
    ));
    keeper.say(&format!("add {}", again.pgid()));
    std::thread::sleep(Duration::from_millis(300));
    assert!(again.alive(), "a group under a new lease was killed");
    keeper.say("bye");
    assert_eq!(keeper.close(), Some(0));
}

#[test]
fn the_keeper_does_not_release_a_lease_that_was_renewed_behind_its_back() {
    // The keeper was told the lease is valid for 1 s; etcd has 10 s of it (clppm renewed it
    // and the keeper did not hear of it yet): it kills, but leaves the lease alone.
    let Some(etcd) = LeaseOnEtcd::grant(10) else {
        return;
    };
    let log = tempfile::NamedTempFile::new().expect("a log file");
    let mut keeper = etcd.keeper(1, log.path());
    let mut group = Group::start();
    keeper.say(&format!(
        "lease {} {}",
        etcd.lease,
        boot_clock_in(Duration::from_secs(1))
    ));
    keeper.say(&format!("add {}", group.pgid()));
    assert!(group.gone_within(Duration::from_secs(5)).is_some());
    let said = text_once_it_holds(log.path(), "left to run out", Duration::from_secs(5));
    assert!(said.contains("renewed lately"), "the keeper's log:\n{said}");
    assert!(
        etcd.left() > 0,
        "a lease renewed behind the keeper's back was released"
    );
    keeper.say("bye");
    assert_eq!(keeper.close(), Some(0));
}

// ---- On the bed: a real clppm, killed or stopped. ----

/// The heartbeat (as in `ha_membership`: etcd's shortest lease flaps on a busy machine).
const TIMEOUT: Duration = Duration::from_secs(3);

/// Where node1's resource writes its pid.
const PID_FILE: &str = "svc.pid";

fn config(bed: &Bed) -> String {
    let mut text = bed.config(TIMEOUT, "");
    text.push_str(
        "[[group]]\nname = \"svc\"\nauto_start = false\nservers = [\"node1\"]\n\n\
         [[group.resource]]\nname = \"app\"\nmode = \"async\"\n",
    );
    text
}

/// Starts node1's clppm and the group on it; the resource's process.
fn start_service(bed: &mut Bed) -> (u32, ProcessIdentity) {
    let clppm = bed.start_clppm(0);
    // node1's own heartbeat is Normal once its lease is granted: a group started before
    // would run without a lease, and its keeper kills it at once.
    wait_until("node1's lease", Duration::from_secs(30), || {
        let run = bed.run(0, "clpstat", &["--json"]);
        let Ok(status) = serde_json::from_str::<serde_json::Value>(&run.stdout()) else {
            return false;
        };
        status["ha"]["servers"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|server| server["name"] == "node1" && server["heartbeat"]["status"] == "Normal")
    });
    let pid_file = bed.clp(0).path(PID_FILE);
    let _ = std::fs::remove_file(&pid_file);
    // Taking the group may wait for a previous clppm's lease to run out.
    wait_until(
        "the group to start on node1",
        Duration::from_secs(20),
        || bed.run(0, "clpgrp", &["-s", "svc"]).output.status.success(),
    );
    let started = Instant::now();
    loop {
        let pid = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|text| text.trim().parse::<u32>().ok());
        if let Some(identity) = pid.and_then(ProcessIdentity::of) {
            return (clppm, identity);
        }
        if started.elapsed() > Duration::from_secs(10) {
            let log = std::fs::read_to_string(bed.clp(0).path("log/clppm.log")).unwrap_or_default();
            panic!("the resource's process did not start (pid {pid:?}); clppm.log:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The live keeper that clppm `clppm` started (its child running `--keeper`).
fn keeper_of(clppm: u32) -> Option<u32> {
    let entries = std::fs::read_dir("/proc").ok()?;
    entries.flatten().find_map(|entry| {
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
        let rest = &stat[stat.rfind(')')? + 1..];
        let parent: u32 = rest.split_whitespace().nth(1)?.parse().ok()?;
        let command = std::fs::read(entry.path().join("cmdline")).ok()?;
        let keeper = command.split(|b| *b == 0).any(|arg| arg == b"--keeper");
        (parent == clppm && keeper && ProcessIdentity::of(pid)?.is_alive()).then_some(pid)
    })
}

/// Waits (polling every ms from the root namespace) until `process` is gone.
fn gone_after(process: ProcessIdentity, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < within {
        if !process.is_alive() {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    None
}

fn summary(what: &str, mut took: Vec<Duration>) {
    took.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p50 = took[took.len() / 2];
    let max = took[took.len() - 1];
    let all: Vec<String> = took.iter().map(|d| format!("{:.1}", ms(*d))).collect();
    eprintln!(
        "{what}: resource gone after p50 {:.1} ms, max {:.1} ms over {} trials [{}] (lease TTL {:?})",
        ms(p50),
        ms(max),
        took.len(),
        all.join(", "),
        TIMEOUT
    );
}

#[test]
fn a_killed_or_stopped_clppm_leaves_no_resource_running_past_its_lease() {
    let Some(mut bed) = Bed::create("k", 2) else {
        return;
    };
    let text = config(&bed);
    for index in 0..2 {
        bed.clp(index).write_config(&text);
    }
    for index in 0..2 {
        bed.clp(index).script(
            "svc",
            "app",
            "start.sh",
            &format!("echo $$ > \"$CLP_ROOT/{PID_FILE}\"\nexec sleep 600"),
        );
    }
    bed.start_clppm(1);
    let trials = std::env::var("CLP_KEEPER_TRIALS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3usize);

    // kill -9 of clppm: the resource goes at once (the keeper's pipe closes).
    let mut killed = Vec::new();
    for trial in 0..trials {
        let (clppm, process) = start_service(&mut bed);
        assert!(process.is_alive());
        if trial == 0 {
            // The keeper killed: clppm starts another at once, which guards the resource in
            // turn (the kill below proves it). Past its first second: one that dies sooner
            // makes clppm stop.
            std::thread::sleep(Duration::from_millis(1200));
            let keeper = keeper_of(clppm).expect("node1's keeper");
            signal(keeper, libc::SIGKILL);
            wait_until(
                "clppm to start another keeper",
                Duration::from_secs(5),
                || keeper_of(clppm).is_some_and(|new| new != keeper),
            );
            assert!(process.is_alive(), "the keeper's death ended the resource");
        }
        bed.kill_clppm(clppm);
        let took = gone_after(process, TIMEOUT).expect("the resource outlived clppm's lease");
        killed.push(took);
    }
    summary("kill -9 of clppm", killed);
    let log_path = bed.clp(0).path("log/clppm.log");
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(
        log().contains("clppm is gone (its pipe closed without bye): killed 1 process group(s)"),
        "the keeper's line in clppm.log:\n{}",
        log()
    );

    // SIGSTOP of clppm: the resource goes before the lease can run out, and SIGCONT does not
    // bring it back unsupervised.
    let mut stopped = Vec::new();
    for _ in 0..trials {
        let (clppm, process) = start_service(&mut bed);
        signal(clppm, libc::SIGSTOP);
        let took = gone_after(process, TIMEOUT + Duration::from_secs(2));
        signal(clppm, libc::SIGCONT);
        let took = took.expect("the resource outlived a hung clppm");
        assert!(
            took < TIMEOUT,
            "the resource outlived the lease TTL of a hung clppm: {took:?}"
        );
        stopped.push(took);
        std::thread::sleep(Duration::from_secs(2));
        assert!(!process.is_alive(), "SIGCONT brought the process back");
        bed.kill_clppm(clppm);
    }
    summary("SIGSTOP of clppm", stopped);
    assert!(
        log().contains("clppm did not renew its lease in time: killed 1 process group(s)"),
        "the keeper's line in clppm.log:\n{}",
        log()
    );
}
