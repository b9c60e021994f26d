//! The control socket: the handshake, version skew, oversized lines, access by other users.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;

use crate::harness::*;

fn exchange(stream: &mut UnixStream, line: &str) -> serde_json::Value {
    stream.write_all(line.as_bytes()).unwrap();
    stream.write_all(b"\n").unwrap();
    let mut answer = String::new();
    BufReader::new(stream.try_clone().unwrap())
        .read_line(&mut answer)
        .unwrap();
    serde_json::from_str(&answer).unwrap()
}

#[test]
fn the_socket_speaks_a_versioned_protocol() {
    let cluster = Cluster::new();
    cluster.start();
    let socket = cluster.path("run/clppm.sock");
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the socket is for its owner only");
    let mut stream = UnixStream::connect(&socket).unwrap();
    let refused = exchange(&mut stream, r#"{"type":"status"}"#);
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["code"], "protocol");
    let skew = exchange(
        &mut stream,
        r#"{"type":"hello","protocol":99,"client":"test"}"#,
    );
    assert!(
        skew["message"]
            .as_str()
            .unwrap()
            .contains("protocol 1, the command 99"),
        "{skew}"
    );
    let welcome = exchange(
        &mut stream,
        r#"{"type":"hello","protocol":1,"client":"test"}"#,
    );
    assert_eq!(welcome["type"], "welcome");
    assert_eq!(welcome["pid"], cluster.daemon_pid().unwrap());
    let status = exchange(&mut stream, r#"{"type":"status"}"#);
    assert_eq!(status["type"], "status");
    let garbage = exchange(&mut stream, "{not json");
    assert_eq!(garbage["code"], "protocol");
    cluster.stop();
}

#[test]
fn another_user_is_told_why_it_cannot_connect() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: needs root to run a command as another user");
        return;
    }
    let cluster = Cluster::new();
    cluster.start();
    // The temporary root must be reachable by "nobody" for the binary to find the socket.
    let mut dir = cluster.root().to_path_buf();
    while dir != std::path::Path::new("/") {
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode | 0o011)).unwrap();
        dir.pop();
    }
    let output = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(bin("clpgrp"))
        .arg("-s")
        .env("CLP_ROOT", cluster.root())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("permission denied on"), "{stderr}");
    cluster.stop();
}
