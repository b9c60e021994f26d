//! `clpcl -s` with a startup error larger than a pipe: it returns at once with the error's
//! beginning and says where the whole is saved, instead of hanging.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::harness::*;

/// `clpcl -s` with a deadline: killed and failed if it does not return in time.
fn start_with_deadline(cluster: &Cluster, deadline: Duration) -> Run {
    let mut child = cluster
        .command("clpcl")
        .arg("-s")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            if let Some(pid) = cluster.daemon_pid() {
                signal(pid, libc::SIGKILL);
            }
            panic!("clpcl -s did not return within {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Run {
        output: child.wait_with_output().unwrap(),
    }
}

/// Asserts a prompt failure whose message is cut and saved whole.
fn assert_cut_and_saved(cluster: &Cluster, needle: &str) {
    let run = start_with_deadline(cluster, Duration::from_secs(60));
    assert_ne!(run.code(), 0, "{}", run.stderr());
    let stderr = run.stderr();
    assert!(stderr.len() < 6000, "{} bytes shown", stderr.len());
    let saved = cluster.path("log/clppm.startup-error");
    assert!(
        stderr.contains(&format!("the whole message is in {}", saved.display())),
        "{stderr}"
    );
    let whole = std::fs::read_to_string(&saved).unwrap();
    assert!(whole.len() > 65_536, "{} bytes saved", whole.len());
    assert!(whole.contains(needle), "the saved message names {needle}");
    assert!(cluster.daemon_pid().is_none() || !alive(cluster.daemon_pid().unwrap()));
}

#[test]
fn a_huge_monitor_name_fails_the_start_promptly() {
    let cluster = Cluster::new();
    let name = "m".repeat(100_000);
    cluster.write_config(&format!(
        "[cluster]\nname = \"zabi\"\n\n[[monitor]]\nname = \"{name}\"\ntype = \"pidw\"\ntarget = \"exec\"\n"
    ));
    assert_cut_and_saved(&cluster, &name);
}

#[test]
fn two_thousand_typos_fail_the_start_promptly() {
    let cluster = Cluster::new();
    let mut config = String::from("[cluster]\nname = \"zabi\"\n\n");
    for index in 0..2000 {
        config.push_str(&format!(
            "[[monitor]]\nname = \"mon{index}\"\ntype = \"pidw\"\ntargte = \"exec\"\n\n"
        ));
    }
    cluster.write_config(&config);
    assert_cut_and_saved(&cluster, "mon1999");
}
