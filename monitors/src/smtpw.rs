//! `smtpw`: an SMTP server answers a short session.
//!
//! Each check connects to `ipaddress:port`, reads the `220` greeting, introduces itself
//! with `EHLO` (with `HELO` when the server does not know EHLO: a 5xx answer), sends `NOOP`
//! and ends with `QUIT`. A refused connection, a closed connection, an answer that is not a
//! reply, or a reply other than the expected 2xx is a fault; a server that does not answer
//! is abandoned by the engine at the monitor's timeout (detail code 99). No mail is sent.
//!
//! Parameters (the original's names, reference §4): `ipaddress` (default `127.0.0.1`),
//! `port` (default 25). Defaults interval 60 s, timeout 120 s, retry 2 are the reference's
//! recalled values for the Internet-server monitors (\[M\], not confirmed); the client's own
//! identity in EHLO/HELO is the address literal of the connection's local end (our choice:
//! valid for every server, no DNS needed).
//!
//! Detail codes (ours; the original's are not documented): 1 cannot connect, 2 the server
//! closed the connection or did not speak SMTP, 3 a reply other than the expected one.

use crate::dialogue;
use crate::dialogue::{Dialogue, DialogueError, SessionProbe, unexpected};
use clp_core::monitor::Probe;
use clp_core::monitor::params::valid;
use clp_core::monitor::smtpw::*;
use clp_core::monitor::spec::ProbeSettings;
use clp_core::os_action::OsActions;

/// Builds the probe of a validated monitor ([`clp_core::monitor::spec::BuildProbe`]).
pub fn build(config: &ProbeSettings<'_>, _: &OsActions) -> Result<Box<dyn Probe>, String> {
    let params = valid(parse(config.parameters))?;
    Ok(Box::new(SessionProbe(params)))
}

impl dialogue::Session for SmtpwParams {
    fn session(&self) -> impl std::future::Future<Output = Result<(), DialogueError>> + Send {
        session(self)
    }
}

/// One SMTP session: greeting, EHLO (or HELO), NOOP, QUIT.
async fn session(params: &SmtpwParams) -> Result<(), DialogueError> {
    let mut smtp = Dialogue::connect(&params.ipaddress, params.port).await?;
    let greeting = smtp.reply("the greeting").await?;
    if greeting.code != 220 {
        return Err(unexpected(
            &format!("The connection to {}", smtp.server()),
            &greeting,
        ));
    }
    let me = smtp.local_literal();
    let ehlo = smtp.command(&format!("EHLO {me}"), "EHLO").await?;
    if !ehlo.is_positive() {
        // A server that does not know EHLO says so with a 5xx (RFC 5321 §4.1.4); any
        // other answer (421 closing, 4xx) is the server's state, not its dialect.
        if !(500..600).contains(&ehlo.code) {
            return Err(unexpected("EHLO", &ehlo));
        }
        let helo = smtp.command(&format!("HELO {me}"), "HELO").await?;
        if !helo.is_positive() {
            return Err(unexpected(
                &format!("HELO (after EHLO was answered {ehlo})"),
                &helo,
            ));
        }
    }
    let noop = smtp.command("NOOP", "NOOP").await?;
    if !noop.is_positive() {
        return Err(unexpected("NOOP", &noop));
    }
    match smtp.command("QUIT", "QUIT").await {
        Ok(quit) if !quit.is_positive() => Err(unexpected("QUIT", &quit)),
        // A server that hangs up on QUIT without its 221 has still served the session.
        Ok(_) | Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> (SmtpwParams, Vec<String>) {
        parse(&text.parse::<toml::Table>().unwrap())
    }

    #[test]
    fn defaults_are_the_originals() {
        let (params, problems) = parsed("");
        assert_eq!(
            params,
            SmtpwParams {
                ipaddress: "127.0.0.1".into(),
                port: 25
            }
        );
        assert!(problems.is_empty(), "{problems:?}");
        let (params, problems) = parsed("ipaddress = \"::1\"\nport = 2525");
        assert_eq!((params.ipaddress.as_str(), params.port), ("::1", 2525));
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn bad_values_and_unknown_keys_are_problems() {
        let (params, problems) = parsed("port = 0\nipaddress = \"\"\nipadress = \"x\"");
        assert_eq!(params.port, 25);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems
                .iter()
                .any(|p| p.contains("did you mean \"ipaddress\""))
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("key \"port\": 0 is out of range"))
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("key \"ipaddress\": is empty"))
        );
        let (_, problems) = parsed("port = \"25\"");
        assert_eq!(problems, ["key \"port\": \"25\" is not an integer"]);
    }

    async fn session_with(
        greeting: &'static str,
        answer: fn(&str) -> Option<&'static str>,
    ) -> (Result<(), DialogueError>, Vec<String>) {
        let (port, server) = crate::dialogue::scripted_server(greeting, answer).await;
        let params = SmtpwParams {
            ipaddress: "127.0.0.1".into(),
            port,
        };
        let outcome = session(&params).await;
        (outcome, server.await.unwrap())
    }

    #[tokio::test]
    async fn a_healthy_session_is_ehlo_noop_quit() {
        let (outcome, received) = session_with("220 mail ESMTP\r\n", |line| {
            Some(match &line[..4] {
                "EHLO" => "250-mail\r\n250 8BITMIME\r\n",
                "QUIT" => "221 Bye\r\n",
                _ => "250 OK\r\n",
            })
        })
        .await;
        assert_eq!(outcome, Ok(()));
        assert_eq!(received, ["EHLO [127.0.0.1]", "NOOP", "QUIT"]);
    }

    #[tokio::test]
    async fn a_server_that_does_not_know_ehlo_gets_helo() {
        let (outcome, received) = session_with("220 old SMTP\r\n", |line| {
            Some(match &line[..4] {
                "EHLO" => "502 Command not implemented\r\n",
                "QUIT" => "221 Bye\r\n",
                _ => "250 OK\r\n",
            })
        })
        .await;
        assert_eq!(outcome, Ok(()));
        assert_eq!(
            received,
            ["EHLO [127.0.0.1]", "HELO [127.0.0.1]", "NOOP", "QUIT"]
        );
    }

    #[tokio::test]
    async fn a_refusing_greeting_or_noop_is_a_fault() {
        let (outcome, received) =
            session_with("554 No SMTP service here\r\n", |_| Some("250 OK\r\n")).await;
        let failure = outcome.unwrap_err();
        assert_eq!(failure.code, crate::dialogue::ERROR_REPLY);
        assert!(
            failure
                .detail
                .ends_with("was answered 554 No SMTP service here."),
            "{failure:?}"
        );
        assert!(received.is_empty());

        let (outcome, _) = session_with("220 mail\r\n", |line| {
            Some(if line.starts_with("NOOP") {
                "451 Local error\r\n"
            } else {
                "250 OK\r\n"
            })
        })
        .await;
        assert_eq!(
            outcome.unwrap_err().detail,
            "NOOP was answered 451 Local error."
        );
    }
}
