//! `tcpw`: a TCP port answers.
//!
//! Each check connects to `ipaddress:port` and closes the connection at once: healthy when
//! the three-way handshake completes. It says nothing of the service behind the port (use
//! a protocol monitor such as `httpw` for that); a listener whose accept queue is full but
//! whose kernel still completes handshakes counts as answering. The connect is one future,
//! so the engine's timeout abandons it (a peer that drops SYNs) and closes the socket.
//!
//! Not one of the original's types (reference §4 lists none for a bare port); the parameter
//! names follow its other network monitors (`smtpw`, `sambaw`).
//!
//! # Parameters (`[monitor.parameters]`)
//! | key | meaning | default |
//! |---|---|---|
//! | `ipaddress` | an IPv4 or IPv6 address (no host name: nothing to resolve) | `"127.0.0.1"` |
//! | `port` | TCP port, required | — |
//!
//! # Defaults
//! Interval 60 s, timeout 120 s, retry 2, as the reference's Internet agent monitors (§4,
//! \[M\]); our choice, for a type the original does not have. The recovery target defaults to
//! the monitor's `target` resource (the local server without one).
//!
//! # Detail codes (`rm 9 ... (CODE : DETAIL)`)
//! | code | fault | detail, for example |
//! |---|---|---|
//! | 2 | no TCP connection | `Cannot connect to 127.0.0.1:5432: connection refused.` |
//! | 99 | no answer within the timeout (from the engine) | `Monitor timed out after 120 seconds.` |
//!
//! Code 2 is httpw's code for the same fault.

use crate::tcp;
use clp_core::monitor::spec::ProbeSettings;
use clp_core::monitor::tcpw::*;
use clp_core::monitor::{CheckFuture, CheckOutcome, Probe, ProbeContext};
use clp_core::os_action::OsActions;

/// Builds the probe of a validated monitor ([`clp_core::monitor::spec::BuildProbe`]).
pub fn build(config: &ProbeSettings<'_>, _: &OsActions) -> Result<Box<dyn Probe>, String> {
    let (params, problems) = parse(config.parameters);
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    Ok(Box::new(Tcpw(params)))
}

/// The tcpw probe.
#[derive(Debug)]
pub struct Tcpw(TcpwParams);

impl Probe for Tcpw {
    fn check(&mut self, _: ProbeContext) -> CheckFuture<'_> {
        Box::pin(async move {
            match tcp::reachable(&[self.0.address]).await {
                Ok(()) => CheckOutcome::Normal,
                Err(error) => CheckOutcome::Failure {
                    code: CONNECTION_FAILED,
                    detail: error.to_string(),
                },
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn table(text: &str) -> toml::Table {
        text.parse().unwrap()
    }

    #[test]
    fn the_address_defaults_to_loopback_and_the_port_is_required() {
        let (params, problems) = parse(&table("port = 5432"));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(params.address, "127.0.0.1:5432".parse().unwrap());
        let (_, problems) = parse(&toml::Table::new());
        assert_eq!(
            problems,
            ["key \"port\": is required: the TCP port to watch (1 to 65535)"]
        );
        let (params, problems) = parse(&table("ipaddress = \"::1\"\nport = 22"));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(params.address, "[::1]:22".parse().unwrap());
    }

    #[test]
    fn bad_values_and_unknown_keys_are_each_reported() {
        let (_, problems) = parse(&table(
            "ipaddress = \"db.example\"\nport = 70000\nipadress = \"x\"",
        ));
        assert_eq!(problems.len(), 3, "{problems:?}");
        let text = problems.join("\n");
        assert!(text.contains("did you mean \"ipaddress\""), "{text}");
        assert!(
            text.contains("key \"ipaddress\": \"db.example\" is not an IPv4 or IPv6 address"),
            "{text}"
        );
        assert!(
            text.contains("key \"port\": 70000 is out of range"),
            "{text}"
        );
        let (_, problems) = parse(&table("port = \"80\""));
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[tokio::test]
    async fn open_then_closed() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut probe = Tcpw(TcpwParams { address });
        let context = ProbeContext {
            lateness: Duration::ZERO,
            timeout: Duration::from_secs(5),
            target_process: None,
        };
        assert_eq!(probe.check(context.clone()).await, CheckOutcome::Normal);
        drop(listener);
        assert_eq!(
            probe.check(context).await,
            CheckOutcome::Failure {
                code: CONNECTION_FAILED,
                detail: format!("Cannot connect to {address}: connection refused."),
            }
        );
    }
}
