//! The failover benchmark of issue 12 — not a test: `#[ignore]`d, run by
//! `benches/failover/run.sh`, which prints the table the README shows.
//!
//! One bed (two servers and a witness, a client host), one floating address with the bed's
//! service behind it, and the same faults injected on whichever server serves: first with
//! clp, then with keepalived moving the same address between the same namespaces
//! ([`keepalived`]). Each trial times the fault to the client's first answer from the
//! other server through the floating address (the client asks every 10 ms, 100 ms connect
//! timeout), holds the fault for [`HOLD`] more, heals it, and waits until the pair is settled again (one holder, the
//! daemons back, for [`STABLE`]). Over the whole run the journal's checker counts the
//! overlaps of the service (it ran on both servers at once) and the [`sampler`] those of
//! the address (both held it), each attributed to the trial in whose window it began.
//!
//! Environment: `CLP_BENCH_TRIALS` (per fault and system, default 30), `CLP_BENCH_FAULTS`
//! (default `kill9,hang,link,partition,monitor`), `CLP_BENCH_SYSTEMS` (default
//! `clp,keepalived`), `CLP_BENCH_OUT` (a file the table is written to as well).

mod keepalived;
mod sampler;
mod summary;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use crate::ha_bed::Bed;
use crate::ha_bed::client::Client;
use crate::ha_bed::journal::monotonic_ns;
use crate::harness::{is_zombie, signal};
use keepalived::Keepalived;
use sampler::Sampler;
use summary::Trial;

/// clp's heartbeat timeout here (its default).
const TIMEOUT: Duration = Duration::from_secs(3);
/// The floating address.
const FLOATING: &str = "192.0.2.100";
/// The service's port.
const PORT: u16 = 8080;
/// clp's group, and the journal's group of keepalived's service.
const CLP_GROUP: &str = "web";
const VRRP_GROUP: &str = "vrrp";
/// How long a failover may take before the trial counts as none.
const FAILOVER_LIMIT: Duration = Duration::from_secs(30);
/// How long a fault is held after the failover before it is healed: what each side does
/// while it lasts (a partitioned keepalived keeps its address) shows in the overlaps.
const HOLD: Duration = Duration::from_secs(1);
/// How long the pair must stay settled before the next fault.
const STABLE: Duration = Duration::from_secs(2);
/// How long settling may take.
const SETTLE_LIMIT: Duration = Duration::from_secs(60);
/// How long etcd may take to form.
const FORM: Duration = Duration::from_secs(30);

/// A fault the benchmark injects on the server that serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// `kill -9` of the daemon (clppm; every keepalived process).
    Kill9,
    /// SIGSTOP of the daemon (a hang), SIGCONT to heal.
    Hang,
    /// The host's link cut (carrier loss), brought up to heal.
    Link,
    /// The host silently partitioned (nft drops all but loopback), removed to heal.
    Partition,
    /// The service killed (`kill -9`): the monitor (clp's pidw, keepalived's track_script)
    /// must notice.
    Monitor,
}

impl Fault {
    const ALL: [Fault; 5] = [
        Fault::Kill9,
        Fault::Hang,
        Fault::Link,
        Fault::Partition,
        Fault::Monitor,
    ];

    fn key(self) -> &'static str {
        match self {
            Fault::Kill9 => "kill9",
            Fault::Hang => "hang",
            Fault::Link => "link",
            Fault::Partition => "partition",
            Fault::Monitor => "monitor",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Fault::Kill9 => "kill -9 of the daemon",
            Fault::Hang => "daemon hung (SIGSTOP)",
            Fault::Link => "link cut",
            Fault::Partition => "silent partition (nft)",
            Fault::Monitor => "service killed (monitor)",
        }
    }
}

/// What differs between the systems: how their daemon is killed, hung and started again,
/// and when they are back.
trait System {
    fn name(&self) -> &'static str;
    /// The journal's group of the service.
    fn group(&self) -> &'static str;
    fn kill_daemon(&mut self, bed: &mut Bed, index: usize);
    fn hang_daemon(&mut self, bed: &mut Bed, index: usize) -> Box<dyn std::any::Any>;
    fn start_daemon(&mut self, bed: &mut Bed, index: usize);
    /// Whether every daemon runs (and, for clp, every server sees every other Online).
    fn ready(&self, bed: &Bed) -> bool;
    /// Starts again the daemons that a fence ended (a server that fenced itself reboots);
    /// how many.
    fn recover(&mut self, _bed: &mut Bed) -> usize {
        0
    }
    /// What the system logged, for a report when it does not settle.
    fn report(&self, _bed: &Bed) -> String {
        String::new()
    }
    /// The pid of the service on server `index`.
    fn service(&self, bed: &Bed, index: usize) -> Option<u32> {
        let name = &bed.hosts[index].name;
        bed.journal
            .running(self.group())
            .into_iter()
            .find(|(server, _)| server == name)
            .map(|(_, pid)| pid)
    }
}

struct Clp;

impl System for Clp {
    fn name(&self) -> &'static str {
        "clp"
    }
    fn group(&self) -> &'static str {
        CLP_GROUP
    }
    fn kill_daemon(&mut self, bed: &mut Bed, index: usize) {
        let pid = bed
            .clppm_pid(index)
            .expect("the clppm of the active server");
        bed.kill_clppm(pid);
    }
    fn hang_daemon(&mut self, bed: &mut Bed, index: usize) -> Box<dyn std::any::Any> {
        let pid = bed
            .clppm_pid(index)
            .expect("the clppm of the active server");
        Box::new(bed.hang_clppm(pid))
    }
    fn start_daemon(&mut self, bed: &mut Bed, index: usize) {
        bed.start_clppm(index);
    }
    fn recover(&mut self, bed: &mut Bed) -> usize {
        let fenced = bed.reap_dead_clppm();
        for &index in &fenced {
            eprintln!(
                "clp: {} fenced itself; starting it again",
                bed.hosts[index].name
            );
            bed.start_clppm(index);
        }
        fenced.len()
    }
    fn report(&self, bed: &Bed) -> String {
        (0..2)
            .map(|index| {
                let alerts = bed.clp(index).alerts();
                let tail: Vec<&str> = alerts.lines().rev().take(12).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                format!(
                    "--- clpstat on {name} ---\n{}\n--- alerts on {name} ---\n{}\n",
                    bed.run(index, "clpstat", &[]).stdout(),
                    tail.join("\n"),
                    name = bed.hosts[index].name
                )
            })
            .collect()
    }
    fn ready(&self, bed: &Bed) -> bool {
        (0..2).all(|index| {
            let view = bed.view(index);
            ["node1", "node2"]
                .iter()
                .all(|server| view.iter().any(|(n, s)| n == server && s == "Online"))
        })
    }
}

struct Vrrp(Keepalived);

impl System for Vrrp {
    fn name(&self) -> &'static str {
        "keepalived"
    }
    fn group(&self) -> &'static str {
        VRRP_GROUP
    }
    fn kill_daemon(&mut self, _bed: &mut Bed, index: usize) {
        self.0.kill(index);
    }
    fn hang_daemon(&mut self, _bed: &mut Bed, index: usize) -> Box<dyn std::any::Any> {
        Box::new(self.0.hang(index))
    }
    fn start_daemon(&mut self, bed: &mut Bed, index: usize) {
        self.0.start(bed, index);
    }
    fn ready(&self, _bed: &Bed) -> bool {
        (0..2).all(|index| self.0.running(index))
    }
    fn report(&self, bed: &Bed) -> String {
        (0..2)
            .map(|index| {
                let log = self.0.log(bed, index);
                let tail: Vec<&str> = log.lines().rev().take(15).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                format!(
                    "--- keepalived on {} ---\n{}\n",
                    bed.hosts[index].name,
                    tail.join("\n")
                )
            })
            .collect()
    }
}

/// The settings of both systems, said in the output.
fn settings() -> String {
    format!(
        "clp: heartbeat interval 0.5 s, timeout {} s (its default); group web = fip {FLOATING} \
         (probe_wait 200 ms, its default: the duplicate check before the address goes up) + \
         the service (exec, async: its start script only execs it, its stop script is \
         empty and clp sends SIGTERM), fipw interval 1, pidw on the service interval 1 with \
         reactivation_threshold 0, failover_threshold 1; failback off. etcd: 3 members (the \
         two servers and a witness), --heartbeat-interval 50 --election-timeout 500.\n{}",
        TIMEOUT.as_secs(),
        keepalived::SETTINGS
    )
}

/// clp's configuration: the group of [`settings`], with a fence as the final action.
fn clp_config(bed: &Bed) -> String {
    let group = format!(
        r#"{}
{}
[[monitor]]
name = "servicew"
type = "pidw"
target = "service"
interval = 1
[monitor.recovery]
target = "service"
reactivation_threshold = 0
failover_threshold = 1
final_action = "none"
"#,
        crate::ha_bed::fence_actions(),
        crate::ha_bed::fip_group(CLP_GROUP, FLOATING)
    );
    bed.config(TIMEOUT, &group)
}

/// The words of an environment variable's comma list, or `default`.
fn list(name: &str, default: &[&'static str]) -> Vec<String> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => value
            .split(',')
            .map(|word| word.trim().to_string())
            .filter(|word| !word.is_empty())
            .collect(),
        _ => default.iter().map(|word| word.to_string()).collect(),
    }
}

#[test]
#[ignore = "a benchmark, not a test: benches/failover/run.sh"]
fn failover_benchmark_clp_beside_keepalived() {
    let trials: usize = std::env::var("CLP_BENCH_TRIALS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(30);
    let keys: Vec<&str> = Fault::ALL.iter().map(|f| f.key()).collect();
    let wanted = list("CLP_BENCH_FAULTS", &keys);
    let faults: Vec<Fault> = Fault::ALL
        .into_iter()
        .filter(|fault| wanted.iter().any(|w| w == fault.key()))
        .collect();
    let systems = list("CLP_BENCH_SYSTEMS", &["clp", "keepalived"]);
    if faults.contains(&Fault::Partition) && !crate::ha_bed::faults::has_nft() {
        panic!("the partition fault needs nft: run .ci/setup.d/nftables.sh");
    }
    let Some(mut bed) = Bed::create("bn", 2) else {
        return;
    };
    let client = bed.client();
    let floating: Ipv4Addr = FLOATING.parse().expect("the floating address");
    let sampler = Sampler::start(&bed, floating);
    eprintln!("{}", settings());
    let mut done: Vec<Trial> = Vec::new();

    if systems.iter().any(|s| s == "clp") {
        bed.write_config(&clp_config(&bed));
        for index in 0..2 {
            let name = bed.hosts[index].name.clone();
            // The service alone, as keepalived's notify script starts it; the stop script
            // does nothing (clp ends the service with SIGTERM after it, as keepalived's
            // standby script does).
            let start = bed.journal.serve_script(&name, CLP_GROUP, PORT);
            bed.clp(index)
                .script(CLP_GROUP, "service", "start.sh", &start);
            bed.clp(index).script(CLP_GROUP, "service", "stop.sh", ":");
        }
        bed.start_clppm(0);
        crate::harness::wait_until("etcd and node1 serving", FORM, || {
            bed.journal.servers_running(CLP_GROUP) == ["node1"]
        });
        bed.start_clppm(1);
        let mut clp = Clp;
        run(
            &mut bed, &client, &sampler, &mut clp, &faults, trials, &mut done,
        );
        // Both clppm killed: their keepers take the service and the address down.
        for index in 0..2 {
            if let Some(pid) = bed.clppm_pid(index) {
                bed.kill_clppm(pid);
            }
        }
        crate::harness::wait_until("clp's service and address gone", FORM, || {
            bed.journal.servers_running(CLP_GROUP).is_empty() && sampler.holders().is_empty()
        });
    }

    if systems.iter().any(|s| s == "keepalived") {
        let mut vrrp = Vrrp(Keepalived::configure(&bed, VRRP_GROUP, FLOATING, PORT));
        vrrp.start_daemon(&mut bed, 0);
        vrrp.start_daemon(&mut bed, 1);
        run(
            &mut bed, &client, &sampler, &mut vrrp, &faults, trials, &mut done,
        );
        vrrp.0.stop();
    }

    let now = monotonic_ns();
    let service = summary::attribute(&done, &bed.journal.entries(), now);
    let address = summary::attribute(&done, &sampler.entries(), now);
    let table = summary::table(&done, &service, &address);
    let steps = summary::steps(&done, &sampler.entries(), &bed.journal.entries());
    let steps = summary::steps_table(&done, &steps);
    let header = format!(
        "Failover from the fault to the client's first answer from the other server through \
         {FLOATING} ({trials} trials per fault and system, alternating servers; each fault \
         held {HOLD:?} after the failover, then healed).\n\
         Faults: {}.\n{}\n",
        faults
            .iter()
            .map(|f| format!("{} = {}", f.key(), f.label()))
            .collect::<Vec<_>>()
            .join(", "),
        settings()
    );
    let steps = format!("Where the time goes (p50 ms from the fault):\n\n{steps}");
    eprintln!("\n{header}\n{table}\n{steps}");
    if let Ok(path) = std::env::var("CLP_BENCH_OUT") {
        std::fs::write(&path, format!("{header}\n{table}\n{steps}")).expect("CLP_BENCH_OUT");
    }
}

/// `trials` of every fault against `system`, appended to `done`.
fn run(
    bed: &mut Bed,
    client: &Client,
    sampler: &Sampler,
    system: &mut dyn System,
    faults: &[Fault],
    trials: usize,
    done: &mut Vec<Trial>,
) {
    for &fault in faults {
        for n in 1..=trials {
            let active = settle(bed, client, sampler, system);
            let other = 1 - active;
            let expected = format!("{} {}", bed.hosts[other].name, system.group());
            let began = monotonic_ns();
            if let Some(last) = done.last_mut() {
                last.window.1 = began;
            }
            let fault_at = Instant::now();
            let healing: Box<dyn std::any::Any> = match fault {
                Fault::Kill9 => {
                    system.kill_daemon(bed, active);
                    Box::new(())
                }
                Fault::Hang => system.hang_daemon(bed, active),
                Fault::Link => Box::new(bed.cut_link(active)),
                Fault::Partition => Box::new(bed.partition(active)),
                Fault::Monitor => {
                    let pid = system
                        .service(bed, active)
                        .expect("the service of the active server");
                    signal(pid, libc::SIGKILL);
                    Box::new(())
                }
            };
            let failover = answer(client, &expected, fault_at);
            if failover.is_none() {
                eprintln!(
                    "no failover within {FAILOVER_LIMIT:?}:\n{}",
                    system.report(bed)
                );
            }
            // Held a moment after the other server answers, then healed: the pair returns
            // to two servers.
            std::thread::sleep(HOLD);
            drop(healing);
            if fault == Fault::Kill9 {
                system.start_daemon(bed, active);
            }
            // A server that fenced itself (its recorder killed its processes, as a power-off
            // would) comes back, as after a reboot.
            std::thread::sleep(Duration::from_millis(200));
            let fenced = system.recover(bed);
            eprintln!(
                "{} {} {n}/{trials}: {} -> {}: {}",
                system.name(),
                fault.key(),
                bed.hosts[active].name,
                bed.hosts[other].name,
                failover.map_or("no failover".to_string(), |d| format!("{d:?}"))
            );
            done.push(Trial {
                system: system.name(),
                fault: fault.key(),
                failover,
                window: (began, u64::MAX),
                fenced,
                from: bed.hosts[active].name.clone(),
                to: bed.hosts[other].name.clone(),
                group: system.group(),
            });
        }
    }
    let settled_at = monotonic_ns();
    settle(bed, client, sampler, system);
    if let Some(last) = done.last_mut() {
        last.window.1 = settled_at.max(monotonic_ns());
    }
}

/// Polls the service through the floating address until it answers `expected`; the time
/// since `fault_at`, or `None` after [`FAILOVER_LIMIT`].
fn answer(client: &Client, expected: &str, fault_at: Instant) -> Option<Duration> {
    while fault_at.elapsed() < FAILOVER_LIMIT {
        if client
            .ask(FLOATING, PORT, Duration::from_millis(100))
            .as_deref()
            == Ok(expected)
        {
            return Some(fault_at.elapsed());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// Waits until the pair is settled for [`STABLE`]: the daemons ready, one server holding
/// the address and running the service, the client answered by it. That server's index.
fn settle(bed: &Bed, client: &Client, sampler: &Sampler, system: &dyn System) -> usize {
    let deadline = Instant::now() + SETTLE_LIMIT;
    let mut since: Option<(Instant, usize)> = None;
    loop {
        let holder = settled_on(bed, client, sampler, system);
        match (holder, since) {
            (Some(index), Some((at, was))) if index == was => {
                if at.elapsed() >= STABLE {
                    return index;
                }
            }
            (Some(index), _) => since = Some((Instant::now(), index)),
            (None, _) => since = None,
        }
        assert!(
            Instant::now() < deadline,
            "{} did not settle within {SETTLE_LIMIT:?}: holders {:?}, service on {:?}, ready {}\n{}",
            system.name(),
            sampler.holders(),
            bed.journal.servers_running(system.group()),
            system.ready(bed),
            system.report(bed)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The server that alone holds the address and runs the service and answers, the daemons
/// being ready; `None` while the pair is not there.
fn settled_on(bed: &Bed, client: &Client, sampler: &Sampler, system: &dyn System) -> Option<usize> {
    let [holder] = sampler.holders()[..] else {
        return None;
    };
    let name = &bed.hosts[holder].name;
    let running = bed.journal.running(system.group());
    let [(server, pid)] = &running[..] else {
        return None;
    };
    if server != name || is_zombie(*pid) || !system.ready(bed) {
        return None;
    }
    let expected = format!("{name} {}", system.group());
    (client
        .ask(FLOATING, PORT, Duration::from_millis(500))
        .as_deref()
        == Ok(expected.as_str()))
    .then_some(holder)
}
