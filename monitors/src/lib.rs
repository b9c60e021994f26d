//! clp-monitors: the probes of the monitor types, with the clients they check through
//! (PostgreSQL, MySQL/MariaDB, HTTP(S), SMTP, POP3, IMAP4, FTP, TCP, ICMP, netlink, SCSI;
//! a floating IP's addresses through clp-net).
//!
//! What the configuration knows of a type (its defaults, rules and parameters) is
//! `clp_core::monitor`; this crate builds and runs the checks. Only the daemon links it: it
//! hands [`builder`] to the engine, so no other command links a database or mail client.
#![warn(missing_docs)]

pub mod dialogue;
pub mod diskw;
pub mod fipw;
pub mod ftpw;
pub mod genw;
pub mod httpw;
pub mod imap4w;
pub mod ipw;
pub mod miiw;
pub mod mysqlw;
pub mod pidw;
pub mod pop3w;
#[cfg(test)]
mod private_netns;
pub mod psqlw;
pub mod psw;
pub mod smtpw;
pub mod tcp;
pub mod tcpw;
pub mod userw;

use clp_core::monitor::spec::BuildProbe;

/// Every type's probe constructor, one line each (the types are `clp_core::monitor::registry`).
static BUILDERS: &[(&str, BuildProbe)] = &[
    ("pidw", pidw::build),
    ("userw", userw::build),
    ("httpw", httpw::build),
    ("tcpw", tcpw::build),
    ("ipw", ipw::build),
    ("miiw", miiw::build),
    ("fipw", fipw::build),
    ("genw", genw::build),
    ("psw", psw::build),
    ("diskw", diskw::build),
    ("smtpw", smtpw::build),
    ("ftpw", ftpw::build),
    ("imap4w", imap4w::build),
    ("pop3w", pop3w::build),
    ("psqlw", psqlw::build),
    ("mysqlw", mysqlw::build),
];

/// The probe constructor of a type name ([`clp_core::monitor::spec::FindBuilder`]).
pub fn builder(kind: &str) -> Option<BuildProbe> {
    BUILDERS
        .iter()
        .find(|(name, _)| *name == kind)
        .map(|(_, build)| *build)
}

#[cfg(test)]
mod tests {
    /// Every type the configuration accepts has a probe, and no probe lacks a type.
    #[test]
    fn every_configured_type_has_a_probe() {
        let kinds = clp_core::monitor::registry::kinds();
        for kind in &kinds {
            assert!(super::builder(kind).is_some(), "{kind} has no probe");
        }
        assert_eq!(kinds.len(), super::BUILDERS.len());
    }

    /// The future of one check of the types a large configuration has by the hundred
    /// (network probes, psw, diskw) stays small: it is allocated and moved on every check,
    /// and a buffer or a TLS connection held in it inline (the 4 KB read chunk and the
    /// ~7 KB handshake state httpw once carried) costs every check its size.
    #[tokio::test]
    async fn a_checks_future_is_small() {
        use clp_core::monitor::ProbeContext;
        use clp_core::monitor::spec::ProbeSettings;
        use clp_core::os_action::{OsActions, OsActionsConfig};
        let os = OsActions::new(OsActionsConfig::real_defaults(), true);
        let empty = toml::Table::new();
        let cases = [
            ("httpw", "servername = \"127.0.0.1\"\nport = 9"),
            (
                "httpw",
                "servername = \"127.0.0.1\"\nport = 9\nhttps = true",
            ),
            ("tcpw", "ipaddress = \"127.0.0.1\"\nport = 9"),
            ("smtpw", "ipaddress = \"127.0.0.1\"\nport = 9"),
            ("ftpw", "ipaddress = \"127.0.0.1\"\nport = 9"),
            ("pop3w", "ipaddress = \"127.0.0.1\"\nport = 9"),
            ("imap4w", "ipaddress = \"127.0.0.1\"\nport = 9"),
            ("psw", "processname = \"no-such-process-*\""),
            ("diskw", "object = \"/\""),
        ];
        for (kind, parameters) in cases {
            let parameters: toml::Table = toml::from_str(parameters).expect("parameters");
            let settings = ProbeSettings {
                name: kind,
                timeout: std::time::Duration::from_secs(1),
                retry: 0,
                nice: 0,
                parameters: &parameters,
                target_parameters: &empty,
            };
            let build = super::builder(kind).expect("a builder");
            let mut probe = build(&settings, &os).unwrap_or_else(|error| panic!("{kind}: {error}"));
            let check = probe.check(ProbeContext {
                lateness: std::time::Duration::ZERO,
                timeout: std::time::Duration::from_secs(1),
                target_process: None,
            });
            let size = std::mem::size_of_val(&*check);
            assert!(
                size <= 2048,
                "{kind} ({parameters}): a check's future is {size} bytes"
            );
        }
    }
}
