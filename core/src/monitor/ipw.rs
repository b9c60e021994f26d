//! The ipw type as the configuration sees it: its spec (defaults, rules), its
//! parameters and its detail codes. The probe that runs the check is
//! `clp_monitors::ipw`, outside this crate, so validating a configuration links no
//! client.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use super::params::ParamReader;
use super::spec::{DefaultRecovery, MonitorSpec, TargetRule};

/// The ipw type.
pub static SPEC: MonitorSpec = MonitorSpec {
    kind: "ipw",
    interval: 60.0,
    timeout: 60.0,
    retry: 1,
    default_comment: "",
    forced_timing: None,
    target_rule: TargetRule::Optional,
    default_recovery: DefaultRecovery::Target,
    check_parameters: |parameters| parse(parameters).1,
};

const KEYS: &[&str] = &["list", "pingtimeout", "pingcount"];

/// The most addresses one ipw may list (keeps a check's sequence numbers unambiguous).
pub const MAX_ADDRESSES: usize = 256;

/// Detail code: no listed address answered.
pub const NO_REPLY: u32 = 1;
/// Detail code: no ICMP socket could be opened (not root, unprivileged ping not allowed).
pub const NO_SOCKET: u32 = 2;

/// ipw's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpwParams {
    /// The addresses to ping.
    pub list: Vec<IpAddr>,
    /// How long one echo request waits for its reply.
    pub ping_timeout: Duration,
    /// Echo requests per address within one check.
    pub ping_count: u16,
}

/// Reads ipw's parameters; returns them with one message per problem.
pub fn parse(parameters: &toml::Table) -> (IpwParams, Vec<String>) {
    let mut reader = ParamReader::new(parameters);
    let list = read_list(&mut reader, parameters);
    let ping_timeout = reader.integer("pingtimeout", 1000, 1, 600_000);
    let ping_count = reader.integer("pingcount", 3, 1, 100);
    let params = IpwParams {
        list,
        ping_timeout: Duration::from_millis(u64::try_from(ping_timeout).unwrap_or(1000)),
        ping_count: u16::try_from(ping_count).unwrap_or(3),
    };
    (params, reader.finish(KEYS))
}

/// `list`: a string, a list of strings, or the original's list of `{ ip = "..." }`.
fn read_list(reader: &mut ParamReader<'_>, parameters: &toml::Table) -> Vec<IpAddr> {
    let items: Vec<&toml::Value> = match parameters.get("list") {
        None => Vec::new(),
        Some(toml::Value::Array(items)) => items.iter().collect(),
        Some(item) => vec![item],
    };
    if items.is_empty() {
        reader.problem(
            "list",
            "no address to ping; give at least one, e.g. list = [\"192.0.2.1\"]",
        );
    }
    if items.len() > MAX_ADDRESSES {
        reader.problem(
            "list",
            format!(
                "{} addresses is more than {MAX_ADDRESSES}; split them over several ipw monitors",
                items.len()
            ),
        );
    }
    let mut list = Vec::new();
    for item in items.into_iter().take(MAX_ADDRESSES) {
        let text = match item {
            toml::Value::String(text) => text.as_str(),
            toml::Value::Table(table) => match table.get("ip") {
                Some(toml::Value::String(text)) if table.len() == 1 => text.as_str(),
                _ => {
                    reader.problem("list", format!("{item} is not {{ ip = \"<address>\" }}"));
                    continue;
                }
            },
            other => {
                reader.problem("list", format!("{other} is not an IP address string"));
                continue;
            }
        };
        let address = match text.trim().parse::<IpAddr>() {
            Ok(address) => address.to_canonical(),
            Err(_) => {
                reader.problem("list", format!("\"{text}\" is not an IP address"));
                continue;
            }
        };
        if address.is_unspecified() || address.is_multicast() || address == Ipv4Addr::BROADCAST {
            reader.problem(
                "list",
                format!("{address} is not the address of one host; list unicast addresses"),
            );
        } else if list.contains(&address) {
            reader.problem("list", format!("{address} is listed twice"));
        } else {
            list.push(address);
        }
    }
    list
}
