//! tcpw against a real listening socket the test opens, closes and opens again.

use std::net::TcpListener;

use crate::harness::*;
use crate::monitor_httpw::{httpd_events, web_cluster};

#[test]
fn tcpw_sees_a_port_close_and_open_again() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = listener.local_addr().unwrap().port();
    let cluster = web_cluster(&format!(
        r#"[[monitor]]
name = "tcpw"
type = "tcpw"
interval = 0.3
timeout = 1
[monitor.parameters]
port = {port}
[monitor.recovery]
target = "httpd"
reactivation_threshold = 1
final_action = "none"
"#
    ));
    cluster.start();
    // Each check is one connection in the listener's queue.
    listener.set_nonblocking(true).unwrap();
    let mut accepted = 0;
    wait_until("two checks connected", WAIT, || {
        while listener.accept().is_ok() {
            accepted += 1;
        }
        accepted >= 2
    });
    assert_eq!(cluster.monitor_status("tcpw"), "Normal");

    drop(listener);
    wait_until("rm 9 for the closed port", WAIT, || {
        cluster.alerts().contains(&format!(
            "rm 9 Detected an error in monitoring tcpw. (2 : Cannot connect to 127.0.0.1:{port}: connection refused.)"
        ))
    });
    assert_monitor_in_error(&cluster, "tcpw");
    wait_until("the resource restarted", WAIT, || {
        httpd_events(&cluster).contains(&"RECOVER".to_string())
    });

    let _listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the same port");
    wait_until("rm 26", WAIT, || {
        cluster.count_alerts("rm 26 tcpw status changed from error to normal.") == 1
    });
    assert_eq!(cluster.monitor_status("tcpw"), "Normal");
    cluster.stop();
}
