//! What clppm tells its keeper: one ASCII line per message, at most [`MAX_LINE`] bytes.
//!
//! ```text
//! lease ID UNTIL    lease ID is valid until UNTIL (boot clock, ns since boot)
//! add PGID          a resource's process group runs (under the current lease)
//! del PGID          it stopped
//! add ADDRESS       a floating IP is up on this server (under the current lease)
//! del ADDRESS       it went down
//! bye               clppm stops cleanly: end without killing
//! ```
//!
//! The keeper reads it as hostile: anything else is a reason to kill (see [`super::fence`]).

/// The longest line the keeper accepts, newline excluded.
pub const MAX_LINE: usize = 64;

/// What the keeper guards: a resource's process group, killed, or a floating IP, taken off
/// this server's interfaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Guarded {
    /// A process group (above 1).
    Group(i32),
    /// A floating IP address.
    Address(std::net::IpAddr),
}

impl std::fmt::Display for Guarded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Guarded::Group(pgid) => write!(f, "{pgid}"),
            Guarded::Address(address) => write!(f, "{address}"),
        }
    }
}

/// One message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    /// The lease's id and its validity deadline (boot clock, ns).
    Lease {
        /// The etcd lease id (positive).
        lease: i64,
        /// Until when it is valid.
        until: u64,
    },
    /// A process group or address to guard.
    Add(Guarded),
    /// A process group or address no longer to guard.
    Del(Guarded),
    /// clppm stops cleanly.
    Bye,
}

impl Line {
    /// The line as clppm writes it, newline included.
    pub fn encode(self) -> String {
        match self {
            Line::Lease { lease, until } => format!("lease {lease} {until}\n"),
            Line::Add(guarded) => format!("add {guarded}\n"),
            Line::Del(guarded) => format!("del {guarded}\n"),
            Line::Bye => "bye\n".to_string(),
        }
    }
}

/// The message in `line` (without its newline), or `None` when it is not one.
pub fn parse(line: &[u8]) -> Option<Line> {
    if line.len() > MAX_LINE {
        return None;
    }
    let text = std::str::from_utf8(line).ok()?;
    let mut words = text.split(' ');
    let verb = words.next()?;
    let line = match verb {
        "bye" => Line::Bye,
        "add" => Line::Add(guarded(words.next()?)?),
        "del" => Line::Del(guarded(words.next()?)?),
        "lease" => {
            let lease = number(words.next()?)?;
            let until = number(words.next()?)?;
            Line::Lease {
                lease: i64::try_from(lease).ok().filter(|lease| *lease > 0)?,
                until,
            }
        }
        _ => return None,
    };
    words.next().is_none().then_some(line)
}

/// Decimal digits only (no sign, no spaces), as a u64.
fn number(word: &str) -> Option<u64> {
    if word.is_empty() || !word.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    word.parse().ok()
}

/// A process group (digits only) or an IP address (a dot or a colon in it).
fn guarded(word: &str) -> Option<Guarded> {
    if word.contains(['.', ':']) {
        word.parse().ok().map(Guarded::Address)
    } else {
        pgid(word).map(Guarded::Group)
    }
}

/// A process group that may be killed: above 1 (0 is the caller's own group, 1 is init's).
fn pgid(word: &str) -> Option<i32> {
    i32::try_from(number(word)?).ok().filter(|pgid| *pgid > 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_reads_back_as_written() {
        for line in [
            Line::Lease {
                lease: 7587_8888_1234_5678,
                until: u64::MAX,
            },
            Line::Add(Guarded::Group(2)),
            Line::Del(Guarded::Group(i32::MAX)),
            Line::Add(Guarded::Address("192.0.2.100".parse().expect("address"))),
            Line::Del(Guarded::Address(
                "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
                    .parse()
                    .expect("address"),
            )),
            Line::Bye,
        ] {
            let text = line.encode();
            assert!(text.len() <= MAX_LINE + 1, "{text:?}");
            let text = text.strip_suffix('\n').expect("a newline");
            assert_eq!(parse(text.as_bytes()), Some(line));
        }
    }

    #[test]
    fn an_address_that_does_not_parse_is_not_a_line() {
        for line in [
            "add 192.0.2",
            "add 192.0.2.1.5",
            "del ::g",
            "add 1.2.3.4/24",
            "add :",
        ] {
            assert_eq!(parse(line.as_bytes()), None, "{line}");
        }
    }

    #[test]
    fn a_line_longer_than_the_limit_is_refused() {
        let long = format!("add {}", "0".repeat(MAX_LINE));
        assert_eq!(parse(long.as_bytes()), None);
    }
}
