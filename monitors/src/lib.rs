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
}
