//! Hostile clients of the control socket: a flood of huge unfinished lines, idle and slow
//! clients, garbage. clppm must refuse them, stay small, and keep answering `clpstat`.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::harness::*;

/// The attack: this many connections...
const CONNECTIONS: usize = 250;
/// ...each sending an unfinished line this long.
const PARTIAL_LINE: usize = 4 << 20;
/// clppm's resident memory must stay below this during the attack (it reached 1,068 MiB
/// before the limits; the limits allow 64 connections x 64 KiB, at most 32 MiB).
const RSS_BOUND_KIB: u64 = 200 << 10;

/// clppm's resident memory in KiB, from /proc.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Starts the daemon with `CLP_CONTROL_LIMITS` set (or the defaults when `None`).
fn start(cluster: &Cluster, limits: Option<&str>) {
    let mut command = cluster.command("clpcl");
    command.arg("-s");
    if let Some(limits) = limits {
        command.env("CLP_CONTROL_LIMITS", limits);
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{output:?}");
}

/// Sends up to `bytes` of one unfinished line; stops quietly when clppm closes.
fn send_partial_line(stream: &mut UnixStream, bytes: usize) {
    stream
        .set_write_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let chunk = vec![b'x'; 64 << 10];
    let mut sent = 0;
    while sent < bytes {
        match stream.write(&chunk[..chunk.len().min(bytes - sent)]) {
            Ok(0) | Err(_) => return,
            Ok(written) => sent += written,
        }
    }
}

/// The connection's next line, or None at end of file / error.
fn read_line(stream: &UnixStream, timeout: Duration) -> Option<String> {
    stream.set_read_timeout(Some(timeout)).unwrap();
    let mut line = String::new();
    match BufReader::new(stream).read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line),
    }
}

/// Whether clppm has closed `stream` (end of file within `timeout`), after any answer.
fn closed_within(stream: &mut UnixStream, timeout: Duration) -> bool {
    stream.set_read_timeout(Some(timeout)).unwrap();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).is_ok()
}

#[test]
fn a_flood_of_unfinished_lines_leaves_clppm_small_and_answering() {
    let cluster = Cluster::new();
    start(&cluster, None);
    let pid = cluster.daemon_pid().unwrap();
    let socket = cluster.path("run/clppm.sock");
    let before = rss_kib(pid);

    let peak = Arc::new(AtomicU64::new(before));
    let attacking = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, attacking) = (Arc::clone(&peak), Arc::clone(&attacking));
        std::thread::spawn(move || {
            while attacking.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    // Ten attackers of 25 connections each; the connections stay open to the end.
    let attackers: Vec<_> = (0..10)
        .map(|_| {
            let socket = socket.clone();
            std::thread::spawn(move || {
                let mut held = Vec::new();
                for _ in 0..CONNECTIONS / 10 {
                    if let Ok(mut stream) = UnixStream::connect(&socket) {
                        send_partial_line(&mut stream, PARTIAL_LINE);
                        held.push(stream);
                    }
                }
                held
            })
        })
        .collect();
    // clpstat answers while the attack runs.
    let started = Instant::now();
    cluster.run("clpstat", &[]).success();
    let clpstat_took = started.elapsed();
    let held: Vec<UnixStream> = attackers
        .into_iter()
        .flat_map(|attacker| attacker.join().unwrap())
        .collect();
    cluster.run("clpstat", &[]).success();
    attacking.store(false, Ordering::Relaxed);
    sampler.join().unwrap();
    let peak = peak.load(Ordering::Relaxed);
    let after = rss_kib(pid);
    eprintln!(
        "control socket flood: {} connections x {} MiB unfinished lines; clppm RSS {} KiB before, peak {} KiB, {} KiB after; clpstat during the attack took {:?}",
        held.len(),
        PARTIAL_LINE >> 20,
        before,
        peak,
        after,
        clpstat_took
    );
    assert!(
        peak < RSS_BOUND_KIB,
        "clppm reached {peak} KiB of resident memory (bound {RSS_BOUND_KIB} KiB)"
    );
    assert!(
        clpstat_took < Duration::from_secs(10),
        "clpstat took {clpstat_took:?}"
    );
    drop(held);
    cluster.stop();
}

#[test]
fn idle_slow_and_garbage_clients_are_answered_and_closed() {
    let cluster = Cluster::new();
    start(&cluster, Some("idle=1,line_timeout=1,line=4096,conns=8"));
    let socket = cluster.path("run/clppm.sock");

    // Garbage gets an error and the connection stays usable.
    let mut garbage = UnixStream::connect(&socket).unwrap();
    garbage.write_all(b"{not json\n").unwrap();
    let answer = read_line(&garbage, Duration::from_secs(5)).unwrap();
    assert!(answer.contains("cannot read the request"), "{answer}");
    garbage
        .write_all(b"{\"type\":\"hello\",\"protocol\":1,\"client\":\"test\"}\n")
        .unwrap();
    let answer = read_line(&garbage, Duration::from_secs(5)).unwrap();
    assert!(answer.contains("welcome"), "{answer}");

    // An idle client is told and closed after the idle timeout.
    let mut idle = UnixStream::connect(&socket).unwrap();
    let answer = read_line(&idle, Duration::from_secs(10)).unwrap_or_default();
    assert!(answer.contains("no request for 1 seconds"), "{answer}");
    assert!(closed_within(&mut idle, Duration::from_secs(5)));

    // A slow client (a line started, never finished) is closed after the line timeout.
    let mut slow = UnixStream::connect(&socket).unwrap();
    slow.write_all(b"{\"type\":").unwrap();
    let answer = read_line(&slow, Duration::from_secs(10)).unwrap_or_default();
    assert!(answer.contains("not finished within 1 second;"), "{answer}");
    assert!(closed_within(&mut slow, Duration::from_secs(5)));

    // A line over the limit is refused and closed.
    let mut long = UnixStream::connect(&socket).unwrap();
    send_partial_line(&mut long, 8192);
    let answer = read_line(&long, Duration::from_secs(10)).unwrap_or_default();
    assert!(answer.contains("longer than 4096 bytes"), "{answer}");

    // More idle connections than slots: the oldest make room and clpstat gets in.
    let crowd: Vec<UnixStream> = (0..20)
        .map(|_| UnixStream::connect(&socket).unwrap())
        .collect();
    cluster.run("clpstat", &[]).success();
    drop(crowd);
    cluster.stop();
}
