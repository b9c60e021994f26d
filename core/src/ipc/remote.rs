//! The same [`Request`] and [`Response`] as the control socket carries, sent to another
//! server of the HA cluster through etcd (`clp-cluster`'s request channel, for `-h HOST`).
//!
//! A request travels as an [`Envelope`]: the request and who sent it, one JSON value; the
//! answer is the [`Response`] as the socket writes it. Both are held to sizes etcd carries
//! ([`MAX_REMOTE_REQUEST`], [`MAX_REMOTE_ANSWER`]): whatever is read from etcd may have been
//! written by anyone allowed to write there, so it is read as hostile input.

use serde::{Deserialize, Serialize};

use super::{ErrorCode, Request, Response};

/// The longest request value a server reads from etcd.
pub const MAX_REMOTE_REQUEST: usize = 64 << 10;
/// The longest answer value: etcd refuses a write over its `--max-request-bytes` (1.5 MiB by
/// default), so an answer is held under that; a longer one is replaced by an error saying so.
pub const MAX_REMOTE_ANSWER: usize = 1 << 20;
/// The longest command or server name an envelope may carry (they reach log lines).
const MAX_NAME: usize = 255;

/// One request sent through etcd: what to do and who asks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// The command that asks (`clpgrp`), for the daemon's log and alerts.
    pub client: String,
    /// The server it runs on.
    pub from: String,
    /// The request.
    pub request: Request,
}

impl Envelope {
    /// The envelope as its value in etcd.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads an envelope from etcd: at most [`MAX_REMOTE_REQUEST`] bytes, names of at most
    /// 255 bytes, a request that may be forwarded ([`forwarding_refusal`]). The error is the
    /// one line to answer with ([`Envelope::refusal`]).
    pub fn decode(value: &[u8]) -> Result<Envelope, String> {
        if value.len() > MAX_REMOTE_REQUEST {
            return Err(format!(
                "a request of {} bytes; requests through etcd are at most {MAX_REMOTE_REQUEST} bytes",
                value.len()
            ));
        }
        let envelope: Envelope = serde_json::from_slice(value)
            .map_err(|error| format!("cannot read the request: {error}"))?;
        if envelope.client.len() > MAX_NAME || envelope.from.len() > MAX_NAME {
            return Err("a request whose command or server name is longer than 255 bytes".into());
        }
        if let Some(why) = forwarding_refusal(&envelope.request) {
            return Err(why.to_string());
        }
        Ok(envelope)
    }

    /// The answer to a request [`Envelope::decode`] refused.
    pub fn refusal(why: String) -> Response {
        Response::error(ErrorCode::Protocol, why)
    }

    /// Who asks, as the daemon's log and alerts name it: `clpgrp@node1`, escaped (the
    /// names come from etcd and reach log lines).
    pub fn caller(&self) -> String {
        crate::escape::escape(&format!("{}@{}", self.client, self.from)).into_owned()
    }
}

/// Why `request` is not carried to another server, when it is not: the greeting belongs to
/// the socket, and the rest act on this server's own files or processes, so they run where
/// the operator is.
pub fn forwarding_refusal(request: &Request) -> Option<&'static str> {
    match request {
        Request::Hello { .. } => Some("the greeting is not a request another server carries out"),
        Request::Handoff => {
            Some("a hand-off belongs to clpcfctrl on the server itself; run it there")
        }
        Request::RegisterLicense { .. }
        | Request::StartTrial { .. }
        | Request::RemoveLicenses { .. } => {
            Some("licenses are registered on each server itself; run clplcnsc there")
        }
        Request::CatalogueAlert { .. } => {
            Some("configuration alerts are logged by clpcfctrl on the server itself")
        }
        Request::Status { .. }
        | Request::StopDaemon { .. }
        | Request::Suspend
        | Request::Resume
        | Request::StartGroup { .. }
        | Request::StopGroup { .. }
        | Request::MoveGroup { .. }
        | Request::StartResource { .. }
        | Request::StopResource { .. }
        | Request::SuspendMonitors { .. }
        | Request::ResumeMonitors { .. }
        | Request::ClearCounters { .. }
        | Request::DummyFailure { .. }
        | Request::Counters { .. }
        | Request::LogMessage { .. }
        | Request::Licenses
        | Request::Alerts { .. } => None,
    }
}

/// The answer as its value in etcd: an answer longer than [`MAX_REMOTE_ANSWER`] is replaced
/// by an error that says so (etcd would refuse it, and the asker would wait in vain).
pub fn encode_answer(answer: &Response, server: &str) -> Vec<u8> {
    let value = serde_json::to_vec(answer).unwrap_or_default();
    if value.len() <= MAX_REMOTE_ANSWER {
        return value;
    }
    let refusal = Response::error(
        ErrorCode::Failed,
        format!(
            "the answer of server {server} is {} bytes, more than the {} MiB a request through etcd carries; run the command on {server} itself",
            value.len(),
            MAX_REMOTE_ANSWER >> 20
        ),
    );
    serde_json::to_vec(&refusal).unwrap_or_default()
}

/// Reads an answer from etcd: at most [`MAX_REMOTE_ANSWER`] bytes, one [`Response`].
pub fn decode_answer(value: &[u8]) -> Result<Response, String> {
    if value.len() > MAX_REMOTE_ANSWER {
        return Err(format!(
            "an answer of {} bytes, more than {} MiB",
            value.len(),
            MAX_REMOTE_ANSWER >> 20
        ));
    }
    Response::from_line(value).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(request: Request) -> Envelope {
        Envelope {
            client: "clpgrp".into(),
            from: "node1".into(),
            request,
        }
    }

    #[test]
    fn a_request_reads_back_as_sent() {
        let sent = envelope(Request::StartGroup {
            group: Some("web".into()),
        });
        assert_eq!(Envelope::decode(&sent.encode()), Ok(sent));
    }

    #[test]
    fn hostile_requests_are_answered_with_an_error_not_read() {
        let protocol = |value: &[u8]| match Envelope::decode(value) {
            Err(message) => message,
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert!(protocol(b"{not json").starts_with("cannot read the request"));
        assert!(protocol(&vec![b' '; MAX_REMOTE_REQUEST + 1]).contains("at most"));
        let unknown = br#"{"client":"x","from":"y","request":{"type":"status"},"extra":1}"#;
        assert!(protocol(unknown).starts_with("cannot read the request"));
        let mut long = envelope(Request::STATUS);
        long.client = "x".repeat(256);
        assert!(protocol(&long.encode()).contains("255 bytes"));
        let hello = envelope(Request::Hello {
            protocol: 1,
            client: "x".into(),
        });
        assert!(protocol(&hello.encode()).contains("greeting"));
        assert!(protocol(&envelope(Request::Handoff).encode()).contains("clpcfctrl"));
    }

    #[test]
    fn the_caller_is_named_with_its_server_and_escaped() {
        let mut sent = envelope(Request::STATUS);
        sent.from = "node1\nforged".into();
        assert_eq!(sent.caller(), "clpgrp@node1\\nforged");
    }

    #[test]
    fn an_answer_too_long_for_etcd_becomes_an_error_that_says_so() {
        let long = Response::error(ErrorCode::NotFound, "x".repeat(MAX_REMOTE_ANSWER));
        let value = encode_answer(&long, "node2");
        assert!(value.len() < 1024);
        match decode_answer(&value) {
            Ok(Response::Error { code, message }) => {
                assert_eq!(code, ErrorCode::Failed);
                assert!(
                    message.contains("run the command on node2 itself"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            decode_answer(&encode_answer(&Response::Done, "node2")),
            Ok(Response::Done)
        );
        assert!(decode_answer(&vec![b' '; MAX_REMOTE_ANSWER + 1]).is_err());
        assert!(decode_answer(b"[1,2").is_err());
    }
}
