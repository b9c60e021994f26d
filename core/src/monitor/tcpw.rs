//! The tcpw type as the configuration sees it: its spec (defaults, rules), its
//! parameters and its detail codes. The probe that runs the check is
//! `clp_monitors::tcpw`, outside this crate, so validating a configuration links no
//! client.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::params::ParamReader;
use super::spec::{DefaultRecovery, MonitorSpec, TargetRule};

/// The tcpw type.
pub static SPEC: MonitorSpec = MonitorSpec {
    kind: "tcpw",
    interval: 60.0,
    timeout: 120.0,
    retry: 2,
    default_comment: "",
    forced_timing: None,
    target_rule: TargetRule::Optional,
    default_recovery: DefaultRecovery::Target,
    check_parameters: |parameters| parse(parameters).1,
};

const KEYS: &[&str] = &["ipaddress", "port"];

/// Detail code: no TCP connection (refused, unreachable).
pub const CONNECTION_FAILED: u32 = 2;

/// The parameters of a tcpw monitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpwParams {
    /// The address and port to connect to.
    pub address: SocketAddr,
}

/// Reads the parameters of a tcpw monitor; the second value lists every problem.
pub fn parse(table: &toml::Table) -> (TcpwParams, Vec<String>) {
    let mut reader = ParamReader::new(table);
    let text = reader.string("ipaddress", "127.0.0.1");
    let ip = text.parse::<IpAddr>().unwrap_or_else(|_| {
        reader.problem(
            "ipaddress",
            format!("\"{text}\" is not an IPv4 or IPv6 address"),
        );
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    });
    if !table.contains_key("port") {
        reader.problem("port", "is required: the TCP port to watch (1 to 65535)");
    }
    let port = reader.integer("port", 1, 1, 65535) as u16;
    let params = TcpwParams {
        address: SocketAddr::new(ip, port),
    };
    (params, reader.finish(KEYS))
}
