//! `pop3w`: a POP3 server answers and lets the monitor's user open the maildrop.
//!
//! Each check connects to `ipaddress:port` and reads the `+OK` greeting. With a `username`
//! it logs in by `authmethod` and sends `STAT` (the maildrop opens and is counted; no
//! message is read or deleted); it ends with `QUIT`. A refused or closed connection, an
//! answer that is not POP3, or a `-ERR` is a fault whose detail quotes the server's answer;
//! a server that does not answer is abandoned by the engine at the monitor's timeout
//! (detail code 99).
//!
//! Parameters (the original's names): `ipaddress` (default `127.0.0.1`), `port` (110),
//! `username`, `password`, `authmethod`, `encrypwd` (0; 1 = a clpencrypt'ed password, refused
//! by this version). `authmethod` is the original's choice of `"APOP"` (its default as
//! recalled, \[M\] not confirmed) or `"USER/PASS"`. APOP (RFC 1939 §7) sends the MD5 digest of
//! the greeting's `<timestamp>` and the password instead of the password; a server that
//! offers APOP puts that timestamp in its greeting. Our choice: when `authmethod = "APOP"`
//! and the greeting has no timestamp, the check fails with code 4 and says so; it never
//! falls back to sending the password in the clear, which the operator chose not to do.
//! `"USER/PASS"` sends the password in the clear (this version speaks no TLS): watch a
//! server over loopback or a trusted network, with a user kept for the monitor. Our choices:
//! an empty `username` (the default) checks the greeting and QUIT without logging in (a
//! POP3 server has no NOOP before the login); an empty `password` is still sent. Defaults
//! interval 60 s, timeout 120 s, retry 2 are the reference's recalled values for the
//! Internet-server monitors (\[M\], not confirmed). Servers delay the answer to a wrong
//! password (Dovecot by 2 s): keep the timeout above that delay.
//!
//! Detail codes (ours; the original's are not documented): 1 cannot connect, 2 the server
//! closed the connection or did not speak POP3, 3 an answer other than the expected one (a
//! `-ERR` greeting, STAT or QUIT), 4 the login was refused (a `-ERR` to USER, PASS or APOP,
//! or APOP asked of a server that does not offer it).

use crate::dialogue;
use crate::dialogue::{
    Dialogue, DialogueError, ERROR_REPLY, LOGIN_FAILED, SessionProbe, clean, sentence,
};
use clp_core::monitor::Probe;
use clp_core::monitor::params::valid;
use clp_core::monitor::pop3w::*;
use clp_core::monitor::spec::ProbeSettings;
use clp_core::os_action::OsActions;
use md5::{Digest as _, Md5};

/// Builds the probe of a validated monitor ([`clp_core::monitor::spec::BuildProbe`]).
pub fn build(config: &ProbeSettings<'_>, _: &OsActions) -> Result<Box<dyn Probe>, String> {
    let params = valid(parse(config.parameters))?;
    Ok(Box::new(SessionProbe(params)))
}

impl dialogue::Session for Pop3wParams {
    fn session(&self) -> impl std::future::Future<Output = Result<(), DialogueError>> + Send {
        session(self)
    }
}

/// One status line: `+OK text` or `-ERR text` (RFC 1939 §3).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Answer {
    positive: bool,
    /// The server's text, as it came.
    text: String,
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = if self.positive { "+OK" } else { "-ERR" };
        let text = clean(&self.text);
        if text.is_empty() {
            write!(f, "{status}")
        } else {
            write!(f, "{status} {text}")
        }
    }
}

/// Reads a status line; `None` when it is not POP3.
fn parse_answer(line: &str) -> Option<Answer> {
    let (word, text) = line.split_once(' ').unwrap_or((line, ""));
    let positive = match word {
        "+OK" => true,
        "-ERR" => false,
        _ => return None,
    };
    Some(Answer {
        positive,
        text: text.to_string(),
    })
}

/// The APOP challenge of a greeting: its `<...>` (RFC 1939 §7), with no space in it.
fn apop_timestamp(greeting: &str) -> Option<&str> {
    let start = greeting.find('<')?;
    let length = greeting[start..].find('>')?;
    let timestamp = &greeting[start..=start + length];
    (timestamp.len() > 2 && !timestamp.contains(char::is_whitespace)).then_some(timestamp)
}

/// The APOP digest: MD5 of the timestamp and the password, in lower-case hex.
fn apop_digest(timestamp: &str, password: &str) -> String {
    let mut md5 = Md5::new();
    md5.update(timestamp.as_bytes());
    md5.update(password.as_bytes());
    md5.finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Reads one status line answering `shown`.
async fn answer(pop: &mut Dialogue, shown: &str) -> Result<Answer, DialogueError> {
    let line = pop.line(shown).await?;
    parse_answer(&line).ok_or_else(|| {
        DialogueError::protocol(format!(
            "{} answered {shown} with something that is not POP3: \"{}\".",
            pop.server(),
            clean(&line)
        ))
    })
}

/// Sends `line` and reads its status line; `shown` never quotes a password.
async fn command(pop: &mut Dialogue, line: &str, shown: &str) -> Result<Answer, DialogueError> {
    pop.send(line, shown).await?;
    answer(pop, shown).await
}

/// The failure of a step answered `-ERR`.
fn unexpected(step: &str, answer: &Answer) -> DialogueError {
    DialogueError {
        code: ERROR_REPLY,
        detail: sentence(format!("{step} was answered {answer}")),
    }
}

/// One POP3 session: greeting, login and STAT, QUIT.
async fn session(params: &Pop3wParams) -> Result<(), DialogueError> {
    let mut pop = Dialogue::connect(&params.ipaddress, params.port).await?;
    let greeting = answer(&mut pop, "the greeting").await?;
    if !greeting.positive {
        return Err(unexpected(
            &format!("The connection to {}", pop.server()),
            &greeting,
        ));
    }
    if !params.username.is_empty() {
        log_in(&mut pop, params, &greeting.text).await?;
        let stat = command(&mut pop, "STAT", "STAT").await?;
        if !stat.positive {
            return Err(unexpected("STAT", &stat));
        }
    }
    match command(&mut pop, "QUIT", "QUIT").await {
        Ok(quit) if !quit.positive => Err(unexpected("QUIT", &quit)),
        // A server that hangs up on QUIT without its +OK has still served the session.
        Ok(_) | Err(_) => Ok(()),
    }
}

/// APOP, or USER and PASS.
async fn log_in(
    pop: &mut Dialogue,
    params: &Pop3wParams,
    greeting: &str,
) -> Result<(), DialogueError> {
    let user = &params.username;
    let (step, answer) = match params.authmethod {
        AuthMethod::Apop => {
            let Some(timestamp) = apop_timestamp(greeting) else {
                return Err(DialogueError {
                    code: LOGIN_FAILED,
                    detail: format!(
                        "Cannot log in as \"{user}\" with APOP: {} offers no APOP (its greeting has no <timestamp>); set authmethod = \"USER/PASS\" for this server.",
                        pop.server()
                    ),
                });
            };
            let digest = apop_digest(timestamp, &params.password);
            let apop = command(pop, &format!("APOP {user} {digest}"), "APOP").await?;
            ("APOP", apop)
        }
        AuthMethod::UserPass => {
            let shown = format!("USER {user}");
            let answer = command(pop, &shown, &shown).await?;
            if answer.positive {
                let pass = command(pop, &format!("PASS {}", &*params.password), "PASS").await?;
                ("PASS", pass)
            } else {
                ("USER", answer)
            }
        }
    };
    if answer.positive {
        return Ok(());
    }
    Err(DialogueError {
        code: LOGIN_FAILED,
        detail: sentence(format!(
            "Login as \"{user}\" refused: {step} was answered {answer}"
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialogue::{PROTOCOL_ERROR, scripted_server};
    use clp_core::monitor::params::Secret;

    fn parsed(text: &str) -> (Pop3wParams, Vec<String>) {
        parse(&text.parse::<toml::Table>().unwrap())
    }

    #[test]
    fn defaults_are_the_originals() {
        let (params, problems) = parsed("");
        assert_eq!(
            params,
            Pop3wParams {
                ipaddress: "127.0.0.1".into(),
                port: 110,
                username: String::new(),
                password: Secret::default(),
                authmethod: AuthMethod::Apop,
            }
        );
        assert!(problems.is_empty(), "{problems:?}");
        let (params, problems) = parsed(
            "ipaddress = \"::1\"\nport = 1110\nusername = \"clp\"\npassword = \"pw\"\nauthmethod = \"USER/PASS\"\nencrypwd = 0",
        );
        assert_eq!((params.ipaddress.as_str(), params.port), ("::1", 1110));
        assert_eq!((params.username.as_str(), &*params.password), ("clp", "pw"));
        assert_eq!(params.authmethod, AuthMethod::UserPass);
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn bad_values_and_unknown_keys_are_problems() {
        let (params, problems) = parsed(
            "port = 70000\nipaddress = \" \"\npassword = \"a\\r\\nQUIT\"\nauthmethod = \"USER\"\nencrypwd = 1\nusernme = \"x\"",
        );
        assert_eq!(params.port, 110);
        assert_eq!(params.authmethod, AuthMethod::Apop);
        assert_eq!(problems.len(), 6, "{problems:?}");
        for expected in [
            "did you mean \"username\"",
            "key \"port\": 70000 is out of range",
            "key \"ipaddress\": is empty",
            "key \"password\": must not contain a line break",
            "key \"authmethod\": \"USER\" is not one of APOP, USER/PASS",
            "key \"encrypwd\": encrypted passwords are not supported",
        ] {
            assert!(
                problems.iter().any(|p| p.contains(expected)),
                "{expected}: {problems:?}"
            );
        }
        let (_, problems) = parsed("username = \"a b\"");
        assert_eq!(
            problems,
            [
                "key \"username\": APOP takes a user name without spaces; use authmethod = \"USER/PASS\""
            ]
        );
        let (_, problems) = parsed("username = \"a b\"\nauthmethod = \"USER/PASS\"");
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn passwords_are_not_shown() {
        let (params, _) = parsed("username = \"clp\"\npassword = \"hunter2\"");
        let shown = format!("{params:?} {:?}", SessionProbe(params.clone()));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("(hidden)"), "{shown}");
    }

    #[test]
    fn status_lines_are_read() {
        assert_eq!(
            parse_answer("+OK Dovecot ready."),
            Some(Answer {
                positive: true,
                text: "Dovecot ready.".into()
            })
        );
        assert_eq!(
            parse_answer("+OK"),
            Some(Answer {
                positive: true,
                text: String::new()
            })
        );
        let refusal = parse_answer("-ERR [AUTH] Authentication failed.").unwrap();
        assert!(!refusal.positive);
        assert_eq!(refusal.to_string(), "-ERR [AUTH] Authentication failed.");
        for not_pop3 in ["* OK IMAP4rev1", "220 mail", "+OKAY", "-error", ""] {
            assert_eq!(parse_answer(not_pop3), None, "{not_pop3:?}");
        }
    }

    #[test]
    fn the_apop_digest_is_rfc_1939s() {
        // RFC 1939 §7's example.
        let greeting = "POP3 server ready <1896.697170952@dbc.mtview.ca.us>";
        let timestamp = apop_timestamp(greeting).unwrap();
        assert_eq!(timestamp, "<1896.697170952@dbc.mtview.ca.us>");
        assert_eq!(
            apop_digest(timestamp, "tanstaaf"),
            "c4c9334bac560ecc979e58001b3e22fb"
        );
        assert_eq!(apop_timestamp("Dovecot (Debian) ready."), None);
        assert_eq!(apop_timestamp("ready <>"), None);
        assert_eq!(apop_timestamp("ready <no stamp> here"), None);
        assert_eq!(apop_timestamp("ready <unclosed"), None);
    }

    fn params(username: &str, authmethod: AuthMethod, password: &str) -> Pop3wParams {
        Pop3wParams {
            ipaddress: "127.0.0.1".into(),
            port: 0,
            username: username.into(),
            password: password.into(),
            authmethod,
        }
    }

    async fn session_with(
        greeting: &'static str,
        params: Pop3wParams,
        answer: fn(&str) -> Option<&'static str>,
    ) -> (Result<(), DialogueError>, Vec<String>) {
        let (port, server) = scripted_server(greeting, answer).await;
        let outcome = session(&Pop3wParams { port, ..params }).await;
        (outcome, server.await.unwrap())
    }

    /// A server whose only user is `mrose` with password `tanstaaf` (RFC 1939's example).
    fn healthy(line: &str) -> Option<&'static str> {
        Some(match line {
            "USER mrose" | "PASS tanstaaf" | "NOOP" => "+OK\r\n",
            "APOP mrose c4c9334bac560ecc979e58001b3e22fb" => "+OK maildrop has 1 message\r\n",
            "STAT" => "+OK 1 369\r\n",
            "QUIT" => "+OK dewey POP3 server signing off\r\n",
            _ if line.starts_with("USER ") => "-ERR never heard of that mailbox\r\n",
            _ if line.starts_with("PASS ") || line.starts_with("APOP ") => {
                "-ERR [AUTH] Authentication failed.\r\n"
            }
            _ => "-ERR Unknown command\r\n",
        })
    }

    const APOP_GREETING: &str = "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n";

    #[tokio::test]
    async fn without_a_user_the_session_is_greeting_and_quit() {
        let (outcome, received) =
            session_with("+OK ready\r\n", params("", AuthMethod::Apop, ""), healthy).await;
        assert_eq!(outcome, Ok(()));
        assert_eq!(received, ["QUIT"]);
    }

    #[tokio::test]
    async fn apop_sends_the_digest_of_the_greetings_timestamp() {
        let (outcome, received) = session_with(
            APOP_GREETING,
            params("mrose", AuthMethod::Apop, "tanstaaf"),
            healthy,
        )
        .await;
        assert_eq!(outcome, Ok(()));
        assert_eq!(
            received,
            [
                "APOP mrose c4c9334bac560ecc979e58001b3e22fb",
                "STAT",
                "QUIT"
            ]
        );

        let (outcome, received) = session_with(
            APOP_GREETING,
            params("mrose", AuthMethod::Apop, "wrong"),
            healthy,
        )
        .await;
        assert_eq!(
            outcome.unwrap_err(),
            DialogueError {
                code: LOGIN_FAILED,
                detail: "Login as \"mrose\" refused: APOP was answered -ERR [AUTH] Authentication failed.".into()
            }
        );
        assert_eq!(received.len(), 1);
        assert!(!received[0].contains("wrong"));
    }

    #[tokio::test]
    async fn apop_without_a_timestamp_sends_no_password() {
        let (outcome, received) = session_with(
            "+OK Dovecot ready.\r\n",
            params("mrose", AuthMethod::Apop, "tanstaaf"),
            healthy,
        )
        .await;
        let failure = outcome.unwrap_err();
        assert_eq!(failure.code, LOGIN_FAILED);
        assert!(
            failure
                .detail
                .starts_with("Cannot log in as \"mrose\" with APOP: 127.0.0.1:")
                && failure.detail.ends_with(
                    " offers no APOP (its greeting has no <timestamp>); set authmethod = \"USER/PASS\" for this server."
                ),
            "{failure:?}"
        );
        assert!(received.is_empty(), "{received:?}");
    }

    #[tokio::test]
    async fn user_and_pass_and_their_refusals() {
        let (outcome, received) = session_with(
            "+OK ready\r\n",
            params("mrose", AuthMethod::UserPass, "tanstaaf"),
            healthy,
        )
        .await;
        assert_eq!(outcome, Ok(()));
        assert_eq!(received, ["USER mrose", "PASS tanstaaf", "STAT", "QUIT"]);

        let (outcome, _) = session_with(
            "+OK ready\r\n",
            params("mrose", AuthMethod::UserPass, "wrong"),
            healthy,
        )
        .await;
        assert_eq!(
            outcome.unwrap_err().detail,
            "Login as \"mrose\" refused: PASS was answered -ERR [AUTH] Authentication failed."
        );

        let (outcome, received) = session_with(
            "+OK ready\r\n",
            params("nobody", AuthMethod::UserPass, "x"),
            healthy,
        )
        .await;
        assert_eq!(
            outcome.unwrap_err(),
            DialogueError {
                code: LOGIN_FAILED,
                detail: "Login as \"nobody\" refused: USER was answered -ERR never heard of that mailbox."
                    .into()
            }
        );
        assert_eq!(received, ["USER nobody"]);
    }

    #[tokio::test]
    async fn an_err_greeting_stat_or_quit_is_a_fault() {
        let (outcome, received) = session_with(
            "-ERR [SYS/TEMP] Server shutting down\r\n",
            params("", AuthMethod::Apop, ""),
            healthy,
        )
        .await;
        let failure = outcome.unwrap_err();
        assert_eq!(failure.code, ERROR_REPLY);
        assert!(
            failure
                .detail
                .ends_with(" was answered -ERR [SYS/TEMP] Server shutting down."),
            "{failure:?}"
        );
        assert!(received.is_empty());

        let (outcome, _) = session_with(
            "+OK ready\r\n",
            params("mrose", AuthMethod::UserPass, "tanstaaf"),
            |line| {
                if line == "STAT" {
                    Some("-ERR [IN-USE] Mailbox is locked\r\n")
                } else {
                    healthy(line)
                }
            },
        )
        .await;
        assert_eq!(
            outcome.unwrap_err(),
            DialogueError {
                code: ERROR_REPLY,
                detail: "STAT was answered -ERR [IN-USE] Mailbox is locked.".into()
            }
        );

        let (outcome, _) = session_with("+OK ready\r\n", params("", AuthMethod::Apop, ""), |_| {
            Some("-ERR not now\r\n")
        })
        .await;
        assert_eq!(
            outcome.unwrap_err().detail,
            "QUIT was answered -ERR not now."
        );

        let (outcome, _) = session_with(
            "* OK [CAPABILITY IMAP4rev1] ready\r\n",
            params("", AuthMethod::Apop, ""),
            healthy,
        )
        .await;
        let failure = outcome.unwrap_err();
        assert_eq!(failure.code, PROTOCOL_ERROR);
        assert!(failure.detail.contains("not POP3"), "{failure:?}");
    }
}
