//! Who may do what: the client allow-list, the two passwords, and the cross-site check.
//!
//! The original WebManager restricts clients by address and knows two passwords: one for
//! operation and one for reference (read-only). Here every request is one of two
//! [`Need`]s and [`authorize`] decides, from the client's address, the credential it sent
//! and which passwords are set, whether it may go on (with a [`Role`]) or gets a 401 or a
//! 403 ([`Denial`]). The decision is a pure function so that every rule is tested in a
//! table; the password hashes are checked by [`super::passwords`].
//!
//! | passwords set | read | operate |
//! |---|---|---|
//! | none | open | loopback clients only |
//! | operation only | open | the operation password |
//! | reference only | the reference password | loopback clients (with the reference password, to read) |
//! | both | either password | the operation password |
//!
//! A reference user who tries an operation gets 403 (the password is right, the role is
//! not); a missing or wrong password gets 401 with `WWW-Authenticate: Basic`. The user
//! name of HTTP Basic is ignored, as the original has passwords only.

use std::net::IpAddr;

use base64::Engine as _;

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Looking: pages, status, alerts, metrics.
    Read,
    /// Changing something: start, stop, suspend, resume, log collection and its download.
    Operate,
}

/// What an admitted client may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read only.
    Reference,
    /// Read and operate.
    Operation,
}

/// Which password a credential matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matched {
    /// No credential was sent, or it matched neither password.
    Nothing,
    /// The reference password.
    Reference,
    /// The operation password.
    Operation,
}

/// Which passwords are set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PasswordsSet {
    /// An operation password is set.
    pub operation: bool,
    /// A reference password is set.
    pub reference: bool,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// 401: a password is needed (or the one sent is wrong).
    Unauthorized(String),
    /// 403: this client or this role may not.
    Forbidden(String),
    /// 429: this client sent too many wrong passwords; it may try again after the seconds.
    TooManyFailures(String, u64),
    /// 503: the password checks are all busy; try again after the seconds.
    Busy(String, u64),
}

impl Denial {
    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            Denial::Unauthorized(_) => 401,
            Denial::Forbidden(_) => 403,
            Denial::TooManyFailures(..) => 429,
            Denial::Busy(..) => 503,
        }
    }

    /// The one-line reason.
    pub fn message(&self) -> &str {
        match self {
            Denial::Unauthorized(message)
            | Denial::Forbidden(message)
            | Denial::TooManyFailures(message, _)
            | Denial::Busy(message, _) => message,
        }
    }

    /// The seconds to put in `Retry-After`, when the client may simply try again later.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Denial::TooManyFailures(_, seconds) | Denial::Busy(_, seconds) => Some(*seconds),
            Denial::Unauthorized(_) | Denial::Forbidden(_) => None,
        }
    }
}

/// Whether `client` is on the allow-list (an empty list allows every client).
pub fn allowed(client: IpAddr, allow: &[ipnet::IpNet]) -> bool {
    let client = canonical(client);
    allow.is_empty() || allow.iter().any(|net| net.contains(&client))
}

/// An IPv4 client seen through an IPv6 socket (`::ffff:10.0.0.1`) as its IPv4 address.
pub fn canonical(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Decides one request. `matched` is what the credential sent matched (see
/// [`super::passwords::Passwords::check`]).
pub fn authorize(
    client: IpAddr,
    allow: &[ipnet::IpNet],
    set: PasswordsSet,
    matched: Matched,
    need: Need,
) -> Result<Role, Denial> {
    let client = canonical(client);
    if !allowed(client, allow) {
        return Err(Denial::Forbidden(format!(
            "{client} is not on the WebManager's allow-list ([webmanager] allow in clp.conf)"
        )));
    }
    let reads = !set.reference || matched != Matched::Nothing;
    if !reads {
        return Err(Denial::Unauthorized(
            "a password is needed: the reference or the operation password".into(),
        ));
    }
    let role = match matched {
        Matched::Operation => Role::Operation,
        Matched::Reference | Matched::Nothing if set.operation => Role::Reference,
        // No operation password: operating is for this machine's own users.
        Matched::Reference | Matched::Nothing if client.is_loopback() => Role::Operation,
        Matched::Reference | Matched::Nothing => Role::Reference,
    };
    match (need, role) {
        (Need::Read, role) | (Need::Operate, role @ Role::Operation) => Ok(role),
        (Need::Operate, Role::Reference) if set.operation && matched == Matched::Reference => Err(
            Denial::Forbidden("the reference password allows no operation".into()),
        ),
        (Need::Operate, Role::Reference) if set.operation => Err(Denial::Unauthorized(
            "operations need the operation password".into(),
        )),
        (Need::Operate, Role::Reference) => Err(Denial::Forbidden(format!(
            "operations from {client} need an operation password: set one with 'clpwebmgr --set-password operation PASSWORD'"
        ))),
    }
}

/// The password of an `Authorization: Basic ...` header (the user name is ignored).
pub fn basic_password(header: &str) -> Option<String> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (_user, password) = text.split_once(':')?;
    Some(password.to_string())
}

/// Refuses an operation addressed to a host name that is not this server's (DNS rebinding:
/// a page of `evil.example` whose name was made to point at this machine runs in the
/// browser as `evil.example`, so its `Origin` and `Host` agree and only the name betrays
/// it). `host` is the `Host` header (or the request target's authority). An IP address is
/// always accepted: a rebinding needs a name the attacker controls. Names are compared in
/// lower case, without the port and a final dot, with `hosts` (`[webmanager] hosts`).
///
/// The refusal is 403 rather than 421 (Misdirected Request): the request reached the right
/// server and a client is not meant to retry it on another connection; it is an access
/// refusal like the others, with the same page and message.
pub fn host_accepted(host: Option<&str>, hosts: &[String]) -> Result<(), Denial> {
    let Some(host) = host.map(str::trim).filter(|host| !host.is_empty()) else {
        return Err(Denial::Forbidden(
            "an operation needs a Host header naming this server".into(),
        ));
    };
    let name = if let Some(rest) = host.strip_prefix('[') {
        // `[v6]` or `[v6]:port`.
        match rest.split_once(']') {
            Some((address, _)) => address,
            None => rest,
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        }
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name.parse::<IpAddr>().is_ok() || hosts.contains(&name) {
        return Ok(());
    }
    Err(Denial::Forbidden(format!(
        "operations are not accepted for the host name \"{name}\"; add it to [webmanager] hosts in clp.conf if it is this server's"
    )))
}

/// What a request says about where it comes from, for the cross-site check.
#[derive(Debug, Clone, Default)]
pub struct RequestOrigin<'a> {
    /// `Content-Type`.
    pub content_type: Option<&'a str>,
    /// `X-Requested-With`.
    pub requested_with: Option<&'a str>,
    /// `Origin`.
    pub origin: Option<&'a str>,
    /// `Sec-Fetch-Site`.
    pub fetch_site: Option<&'a str>,
    /// `Host`.
    pub host: Option<&'a str>,
}

/// Refuses an operation another site could have made the browser send.
///
/// An operation must carry `Content-Type: application/json` or an `X-Requested-With`
/// header: a plain HTML form can send neither, and a script of another site can send
/// them only after a CORS preflight that the WebManager never allows. Besides, a browser
/// that says where the request comes from (`Origin`, `Sec-Fetch-Site`) must say this site.
pub fn same_site(request: &RequestOrigin<'_>) -> Result<(), Denial> {
    let json = request.content_type.is_some_and(|value| {
        value
            .split(';')
            .next()
            .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
    });
    if !json && request.requested_with.is_none() {
        return Err(Denial::Forbidden(
            "an operation must be sent with Content-Type: application/json or an X-Requested-With header".into(),
        ));
    }
    if let Some(site) = request.fetch_site
        && !(site.eq_ignore_ascii_case("same-origin") || site.eq_ignore_ascii_case("none"))
    {
        return Err(Denial::Forbidden(format!(
            "a request from another site ({site}) may not operate"
        )));
    }
    if let Some(origin) = request.origin {
        let origin_host = origin
            .split_once("://")
            .map_or(origin, |(_, rest)| rest)
            .trim_end_matches('/');
        if request.host != Some(origin_host) {
            return Err(Denial::Forbidden(format!(
                "a request from {origin} may not operate"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOOPBACK: &str = "127.0.0.1";
    const REMOTE: &str = "192.168.100.9";

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn set(operation: bool, reference: bool) -> PasswordsSet {
        PasswordsSet {
            operation,
            reference,
        }
    }

    fn decide(client: &str, set: PasswordsSet, matched: Matched, need: Need) -> Result<Role, u16> {
        authorize(ip(client), &[], set, matched, need).map_err(|denial| denial.status())
    }

    #[test]
    fn without_passwords_reads_are_open_and_operations_stay_on_the_machine() {
        let none = set(false, false);
        assert_eq!(
            decide(REMOTE, none, Matched::Nothing, Need::Read),
            Ok(Role::Reference)
        );
        assert_eq!(
            decide(REMOTE, none, Matched::Nothing, Need::Operate),
            Err(403)
        );
        assert_eq!(
            decide(LOOPBACK, none, Matched::Nothing, Need::Operate),
            Ok(Role::Operation)
        );
        assert_eq!(
            decide("::1", none, Matched::Nothing, Need::Operate),
            Ok(Role::Operation)
        );
        assert_eq!(
            decide("::ffff:127.0.0.1", none, Matched::Nothing, Need::Operate),
            Ok(Role::Operation)
        );
    }

    #[test]
    fn the_operation_password_is_needed_to_operate_once_set() {
        let operation = set(true, false);
        assert_eq!(
            decide(REMOTE, operation, Matched::Nothing, Need::Read),
            Ok(Role::Reference)
        );
        for client in [LOOPBACK, REMOTE] {
            assert_eq!(
                decide(client, operation, Matched::Nothing, Need::Operate),
                Err(401)
            );
            assert_eq!(
                decide(client, operation, Matched::Operation, Need::Operate),
                Ok(Role::Operation)
            );
        }
    }

    #[test]
    fn the_reference_password_reads_and_never_operates() {
        let both = set(true, true);
        assert_eq!(decide(REMOTE, both, Matched::Nothing, Need::Read), Err(401));
        assert_eq!(
            decide(REMOTE, both, Matched::Reference, Need::Read),
            Ok(Role::Reference)
        );
        assert_eq!(
            decide(REMOTE, both, Matched::Operation, Need::Read),
            Ok(Role::Operation)
        );
        assert_eq!(
            decide(REMOTE, both, Matched::Reference, Need::Operate),
            Err(403)
        );
        assert_eq!(
            decide(LOOPBACK, both, Matched::Reference, Need::Operate),
            Err(403)
        );
        let reference = set(false, true);
        assert_eq!(
            decide(LOOPBACK, reference, Matched::Nothing, Need::Read),
            Err(401)
        );
        assert_eq!(
            decide(LOOPBACK, reference, Matched::Reference, Need::Operate),
            Ok(Role::Operation)
        );
        assert_eq!(
            decide(REMOTE, reference, Matched::Reference, Need::Operate),
            Err(403)
        );
    }

    #[test]
    fn the_allow_list_comes_first() {
        let allow = vec!["10.0.0.0/8".parse().unwrap()];
        let denial = authorize(
            ip(LOOPBACK),
            &allow,
            set(false, false),
            Matched::Operation,
            Need::Read,
        )
        .unwrap_err();
        assert_eq!(denial.status(), 403);
        assert!(
            denial
                .message()
                .contains("127.0.0.1 is not on the WebManager's allow-list")
        );
        assert!(
            authorize(
                ip("10.1.2.3"),
                &allow,
                set(false, false),
                Matched::Nothing,
                Need::Read
            )
            .is_ok()
        );
        assert!(allowed(ip("::ffff:10.1.2.3"), &allow));
        assert!(allowed(ip(REMOTE), &[]));
    }

    #[test]
    fn basic_credentials_ignore_the_user() {
        assert_eq!(
            basic_password("Basic OnNlY3JldA==").as_deref(),
            Some("secret")
        );
        assert_eq!(
            basic_password("basic YWRtaW46c2VjcmV0").as_deref(),
            Some("secret")
        );
        assert_eq!(basic_password("Bearer abc"), None);
        assert_eq!(basic_password("Basic !!!"), None);
    }

    #[test]
    fn operations_are_accepted_for_this_servers_names_and_any_address() {
        let hosts = vec!["localhost".to_string(), "clp1".to_string()];
        for host in [
            "localhost",
            "LOCALHOST:29003",
            "clp1.:29003",
            "127.0.0.1:29003",
            "192.168.100.5",
            "[::1]:29003",
            "[fe80::1]",
        ] {
            assert!(host_accepted(Some(host), &hosts).is_ok(), "{host}");
        }
        for host in [
            None,
            Some(""),
            Some("evil.example"),
            Some("evil.example:29003"),
            Some("clp1.evil.example"),
        ] {
            let denial = host_accepted(host, &hosts).unwrap_err();
            assert_eq!(denial.status(), 403, "{host:?}");
        }
        assert!(
            host_accepted(Some("evil.example:29003"), &hosts)
                .unwrap_err()
                .message()
                .contains("\"evil.example\"; add it to [webmanager] hosts")
        );
    }

    #[test]
    fn operations_from_other_sites_are_refused() {
        let ours = RequestOrigin {
            content_type: Some("application/json; charset=utf-8"),
            host: Some("127.0.0.1:29003"),
            ..Default::default()
        };
        assert!(same_site(&ours).is_ok());
        let form = RequestOrigin {
            content_type: Some("application/x-www-form-urlencoded"),
            ..ours.clone()
        };
        assert!(same_site(&form).is_err());
        let header = RequestOrigin {
            requested_with: Some("clpwebmgr"),
            ..form.clone()
        };
        assert!(same_site(&header).is_ok());
        let same_origin = RequestOrigin {
            origin: Some("http://127.0.0.1:29003"),
            fetch_site: Some("same-origin"),
            ..ours.clone()
        };
        assert!(same_site(&same_origin).is_ok());
        let cross_origin = RequestOrigin {
            origin: Some("http://evil.example"),
            ..ours.clone()
        };
        assert!(same_site(&cross_origin).is_err());
        let cross_site = RequestOrigin {
            fetch_site: Some("cross-site"),
            ..ours
        };
        assert!(same_site(&cross_site).is_err());
    }
}
