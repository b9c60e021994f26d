//! etcd over TLS, for real: every etcd member serves its clients over TLS only and asks each
//! for a certificate its CA signed (`--client-cert-auth`); the servers name the CA and their
//! client certificate in `[etcd]`. With them they join; with a certificate of another CA a
//! server cannot, and says why.

use std::time::Duration;

use crate::ha_bed::Bed;

/// The heartbeat timeout of these tests (clp's default).
const TIMEOUT: Duration = Duration::from_secs(3);

/// How long etcd may take to form its cluster and both clppm to join.
const FORM: Duration = Duration::from_secs(30);

#[test]
fn two_servers_join_over_tls_with_client_certificates() {
    let Some(mut bed) = Bed::create_tls("t", 2) else {
        return;
    };
    let config = bed.config(TIMEOUT, "");
    assert!(config.contains("https://192.0.2.11:2379"), "{config}");
    bed.write_config(&config);
    bed.start_clppm(0);
    bed.start_clppm(1);
    for index in 0..2 {
        for server in ["node1", "node2"] {
            bed.wait_for(index, server, "Online", FORM);
        }
        assert_eq!(bed.problem(index), None, "on {}", bed.hosts[index].name);
    }
    // A command's `-h` to the other server goes over TLS too, with the same files.
    let text = bed.run(0, "clpstat", &["-h", "node2"]).success();
    assert!(
        text.lines().any(|l| l.starts_with("   *node2 ")),
        "node2's own view, asked from node1:\n{text}"
    );
}

#[test]
fn a_server_whose_certificate_another_ca_signed_cannot_join_and_says_why() {
    let Some(mut bed) = Bed::create_tls("tr", 2) else {
        return;
    };
    let tls = bed.tls.as_ref().expect("a TLS bed");
    let good = bed.config(TIMEOUT, "");
    let rogue = good
        .replace(
            &tls.client.0.display().to_string(),
            &tls.rogue.0.display().to_string(),
        )
        .replace(
            &tls.client.1.display().to_string(),
            &tls.rogue.1.display().to_string(),
        );
    assert_ne!(good, rogue);
    bed.clp(0).write_config(&good);
    bed.clp(1).write_config(&rogue);
    bed.start_clppm(0);
    bed.start_clppm(1);
    bed.wait_for(0, "node1", "Online", FORM);
    let mut problem = None;
    // First "etcd has not answered yet", then why.
    crate::harness::wait_until("node2's reason", FORM, || {
        problem = bed.problem(1);
        problem
            .as_deref()
            .is_some_and(|p| p.contains("cannot be reached"))
    });
    let problem = problem.unwrap_or_default();
    eprintln!("node2 says: {problem}");
    assert!(
        // Each round tries the next member: any of the three is named.
        problem.contains("etcd cannot be reached at https://192.0.2.1")
            && problem.contains("cert_file"),
        "{problem}"
    );
    // etcd never heard of node2: node1 does not show it Online.
    std::thread::sleep(TIMEOUT);
    let shown: Vec<(String, String)> = bed.view(0);
    assert!(
        !shown
            .iter()
            .any(|(server, state)| server == "node2" && state == "Online"),
        "{shown:?}"
    );
}
