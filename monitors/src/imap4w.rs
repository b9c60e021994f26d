//! `imap4w`: an IMAP4 server answers and lets the monitor's user log in.
//!
//! Each check connects to `ipaddress:port` and reads the greeting: `* OK` goes on,
//! `* PREAUTH` (a connection the server has already authenticated) goes on without a login,
//! `* BYE` (the server turns the connection away) is a fault. Then come `CAPABILITY`, the
//! login when a `username` is given, `NOOP` and `LOGOUT`, each command tagged `a1`, `a2`, ...
//! (RFC 3501 §2.2). A refused or closed connection, an answer that is not IMAP, or a tagged
//! `NO` or `BAD` is a fault whose detail quotes the server's answer; a server that does not
//! answer is abandoned by the engine at the monitor's timeout (detail code 99). No mailbox
//! is selected.
//!
//! Parameters (the original's names): `ipaddress` (default `127.0.0.1`), `port` (143),
//! `username`, `password`, `authmethod`, `encrypwd` (0; 1 = a clpencrypt'ed password, refused
//! by this version). `authmethod` is the original's choice of `"AUTHENTICATE LOGIN"` (its
//! default as recalled, \[M\] not confirmed: the SASL LOGIN mechanism, user and password
//! base64-encoded in answer to the server's two prompts) or `"LOGIN"` (the LOGIN command,
//! user and password as IMAP strings: quoted, or literals when not 7-bit); ours in addition:
//! `"AUTHENTICATE PLAIN"` (RFC 4616). When the server's capabilities say it does not take
//! the method (no `AUTH=LOGIN` / `AUTH=PLAIN`, or `LOGINDISABLED` for LOGIN), the check
//! fails with code 4 and sends no password. None of the methods encrypts the password
//! (this version speaks no TLS): watch a server over loopback or a trusted network, with a
//! user kept for the monitor. Our choices: an empty `username` (the default) checks the
//! greeting, CAPABILITY, NOOP and LOGOUT without logging in; an empty `password` is still
//! sent. Defaults interval 60 s, timeout 120 s, retry 2 are the reference's recalled values
//! for the Internet-server monitors (\[M\], not confirmed). Servers delay the answer to a
//! wrong password (Dovecot by 2 s): keep the timeout above that delay.
//!
//! Detail codes (ours; the original's are not documented): 1 cannot connect, 2 the server
//! closed the connection or did not speak IMAP, 3 an answer other than the expected one (a
//! `BYE` greeting, a tagged `NO` or `BAD`), 4 the login was refused (a tagged `NO` to LOGIN
//! or AUTHENTICATE, or a method the server does not offer).

use crate::dialogue;
use crate::dialogue::{
    Dialogue, DialogueError, ERROR_REPLY, LOGIN_FAILED, PROTOCOL_ERROR, SessionProbe, clean,
    sentence,
};
use base64::Engine as _;
use clp_core::monitor::Probe;
use clp_core::monitor::imap4w::*;
use clp_core::monitor::params::valid;
use clp_core::monitor::spec::ProbeSettings;
use clp_core::os_action::OsActions;

/// The most literals in one response line.
const MAX_LITERALS: usize = 16;

/// The largest literal skipped in a response.
const MAX_LITERAL: u64 = 1 << 20;

/// The most response lines read while waiting for one command's completion.
const MAX_RESPONSES: usize = 1000;

/// Builds the probe of a validated monitor ([`clp_core::monitor::spec::BuildProbe`]).
pub fn build(config: &ProbeSettings<'_>, _: &OsActions) -> Result<Box<dyn Probe>, String> {
    let params = valid(parse(config.parameters))?;
    Ok(Box::new(SessionProbe(params)))
}

impl dialogue::Session for Imap4wParams {
    fn session(&self) -> impl std::future::Future<Output = Result<(), DialogueError>> + Send {
        session(self)
    }
}

/// The status of a command's completion (RFC 3501 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Ok,
    No,
    Bad,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::No => "NO",
            Status::Bad => "BAD",
        }
    }
}

/// One response line of a server (RFC 3501 §2.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Response {
    /// `* ...`: data, or a status tied to no command; the text after `* `.
    Untagged(String),
    /// `+ ...`: the server waits for more of the command.
    Continuation,
    /// `tag OK|NO|BAD text`: the end of a command.
    Tagged {
        tag: String,
        status: Status,
        text: String,
    },
}

/// Reads one response line; `None` when it is not IMAP.
fn parse_response(line: &str) -> Option<Response> {
    if let Some(rest) = line.strip_prefix("* ") {
        return Some(Response::Untagged(rest.to_string()));
    }
    if line == "+" || line.starts_with("+ ") {
        return Some(Response::Continuation);
    }
    let (tag, rest) = line.split_once(' ')?;
    // A tag is an ASTRING-CHAR run without `+` (RFC 3501 §9).
    let tag_char = |b: u8| {
        b.is_ascii_graphic() && !matches!(b, b'+' | b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\')
    };
    if tag.is_empty() || !tag.bytes().all(tag_char) {
        return None;
    }
    let (word, text) = rest.split_once(' ').unwrap_or((rest, ""));
    let status = match word.to_ascii_uppercase().as_str() {
        "OK" => Status::Ok,
        "NO" => Status::No,
        "BAD" => Status::Bad,
        _ => return None,
    };
    Some(Response::Tagged {
        tag: tag.to_string(),
        status,
        text: text.to_string(),
    })
}

/// The length of the literal a response line ends with (`... {42}`), if it does.
fn literal_length(line: &str) -> Option<u64> {
    let inside = line.strip_suffix('}')?;
    let start = inside.rfind('{')?;
    let digits = &inside[start + 1..];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// How a string goes into a command (RFC 3501 §4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
enum ImapString<'a> {
    /// A quoted string, quotes and escapes included.
    Quoted(String),
    /// A literal: its bytes follow `{length}` once the server says go ahead.
    Literal(&'a str),
}

/// `value` as a quoted string when it can be one (7-bit, no CR, LF or NUL; `"` and `\`
/// escaped), else as a literal.
fn imap_string(value: &str) -> ImapString<'_> {
    if !value
        .bytes()
        .all(|b| b.is_ascii() && !matches!(b, b'\0' | b'\r' | b'\n'))
    {
        return ImapString::Literal(value);
    }
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('"');
    for c in value.chars() {
        if matches!(c, '"' | '\\') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    ImapString::Quoted(quoted)
}

/// The end of one command.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Completion {
    status: Status,
    /// The server's text, cleaned for a detail.
    text: String,
}

impl std::fmt::Display for Completion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.text.is_empty() {
            write!(f, "{}", self.status.word())
        } else {
            write!(f, "{} {}", self.status.word(), self.text)
        }
    }
}

/// The failure of a step whose completion was not OK.
fn refused(step: &str, completion: &Completion) -> DialogueError {
    DialogueError {
        code: ERROR_REPLY,
        detail: sentence(format!("{step} was answered {completion}")),
    }
}

/// One connection and what the server said of itself.
struct Session {
    imap: Dialogue,
    tags: u32,
    /// The capabilities last listed, upper case.
    capabilities: Vec<String>,
    /// The text of a `* BYE` the server sent.
    bye: Option<String>,
}

impl Session {
    fn next_tag(&mut self) -> String {
        self.tags += 1;
        format!("a{}", self.tags)
    }

    fn has(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }

    /// The next response line, with any literal in it skipped.
    async fn response(&mut self, waiting_for: &str) -> Result<Response, DialogueError> {
        let mut line = self.imap.line(waiting_for).await?;
        for _ in 0..MAX_LITERALS {
            let Some(length) = literal_length(&line) else {
                return parse_response(&line).ok_or_else(|| {
                    DialogueError::protocol(format!(
                        "{} answered {waiting_for} with something that is not IMAP: \"{}\".",
                        self.imap.server(),
                        clean(&line)
                    ))
                });
            };
            if length > MAX_LITERAL {
                break;
            }
            self.imap.skip(length, waiting_for).await?;
            let rest = self.imap.line(waiting_for).await?;
            line.push_str(&rest);
        }
        Err(DialogueError::protocol(format!(
            "{} answered {waiting_for} with literals larger than this monitor reads.",
            self.imap.server()
        )))
    }

    /// Remembers what an untagged response says of the server.
    fn note(&mut self, text: &str) {
        let (word, rest) = text.split_once(' ').unwrap_or((text, ""));
        match word.to_ascii_uppercase().as_str() {
            "CAPABILITY" => {
                self.capabilities = rest
                    .split_ascii_whitespace()
                    .map(str::to_ascii_uppercase)
                    .collect();
            }
            "OK" | "PREAUTH" => {
                // A greeting may list the capabilities in a response code.
                let upper = rest.to_ascii_uppercase();
                if let Some(listed) = upper
                    .strip_prefix("[CAPABILITY ")
                    .and_then(|codes| codes.split_once(']'))
                    .map(|(listed, _)| listed)
                {
                    self.capabilities = listed
                        .split_ascii_whitespace()
                        .map(str::to_string)
                        .collect();
                }
            }
            "BYE" => self.bye = Some(clean(rest)),
            _ => {}
        }
    }

    /// Reads to the completion of `tag`, or to the server's go-ahead for more of the command
    /// (`None`) when `more` is allowed.
    async fn answer(
        &mut self,
        tag: &str,
        shown: &str,
        more: bool,
    ) -> Result<Option<Completion>, DialogueError> {
        for _ in 0..MAX_RESPONSES {
            let response = match self.response(shown).await {
                Ok(response) => response,
                // The server said why it went away: that is the answer.
                Err(failure) if failure.code == PROTOCOL_ERROR && self.bye.is_some() => {
                    return Err(DialogueError {
                        code: ERROR_REPLY,
                        detail: sentence(format!(
                            "{shown} was answered BYE {}",
                            self.bye.as_deref().unwrap_or_default()
                        )),
                    });
                }
                Err(failure) => return Err(failure),
            };
            match response {
                Response::Untagged(text) => self.note(&text),
                Response::Continuation if more => return Ok(None),
                Response::Continuation => {
                    return Err(DialogueError::protocol(format!(
                        "{} asked for more of {shown} than there is.",
                        self.imap.server()
                    )));
                }
                Response::Tagged {
                    tag: answered,
                    status,
                    text,
                } if answered == tag => {
                    return Ok(Some(Completion {
                        status,
                        text: clean(&text),
                    }));
                }
                Response::Tagged { tag: answered, .. } => {
                    return Err(DialogueError::protocol(format!(
                        "{} answered {shown} for tag \"{}\", which the monitor did not send.",
                        self.imap.server(),
                        clean(&answered)
                    )));
                }
            }
        }
        Err(DialogueError::protocol(format!(
            "{} answered {shown} with more than {MAX_RESPONSES} lines.",
            self.imap.server()
        )))
    }

    /// Reads to the completion of `tag`.
    async fn completion(&mut self, tag: &str, shown: &str) -> Result<Completion, DialogueError> {
        match self.answer(tag, shown, false).await? {
            Some(completion) => Ok(completion),
            None => Err(DialogueError::protocol(format!(
                "{} asked for more of {shown} than there is.",
                self.imap.server()
            ))),
        }
    }

    /// Sends a command without arguments; an answer other than OK is a fault.
    async fn simple(&mut self, command: &str) -> Result<(), DialogueError> {
        let tag = self.next_tag();
        self.imap.send(&format!("{tag} {command}"), command).await?;
        let completion = self.completion(&tag, command).await?;
        if completion.status == Status::Ok {
            Ok(())
        } else {
            Err(refused(command, &completion))
        }
    }

    /// `LOGIN user password`, a literal argument sent once the server says go ahead.
    async fn login(&mut self, user: &str, password: &str) -> Result<Completion, DialogueError> {
        let shown = "LOGIN";
        let tag = self.next_tag();
        let mut line = format!("{tag} LOGIN");
        for argument in [user, password] {
            match imap_string(argument) {
                ImapString::Quoted(quoted) => {
                    line.push(' ');
                    line.push_str(&quoted);
                }
                ImapString::Literal(text) => {
                    line.push_str(&format!(" {{{}}}", text.len()));
                    self.imap.send(&line, shown).await?;
                    if let Some(early) = self.answer(&tag, shown, true).await? {
                        return Ok(early);
                    }
                    line = text.to_string();
                }
            }
        }
        self.imap.send(&line, shown).await?;
        self.completion(&tag, shown).await
    }

    /// `AUTHENTICATE mechanism`, answering the server's prompts with `answers` in turn.
    async fn authenticate(
        &mut self,
        mechanism: &str,
        answers: &[String],
    ) -> Result<Completion, DialogueError> {
        let shown = format!("AUTHENTICATE {mechanism}");
        let tag = self.next_tag();
        self.imap.send(&format!("{tag} {shown}"), &shown).await?;
        for answer in answers {
            if let Some(early) = self.answer(&tag, &shown, true).await? {
                return Ok(early);
            }
            self.imap.send(answer, &shown).await?;
        }
        if let Some(completion) = self.answer(&tag, &shown, true).await? {
            return Ok(completion);
        }
        // A prompt past user and password: cancel the exchange (RFC 3501 §6.2.2).
        self.imap.send("*", &shown).await?;
        let _ = self.completion(&tag, &shown).await;
        Err(DialogueError {
            code: ERROR_REPLY,
            detail: format!(
                "{} asked for more than user and password in {shown}.",
                self.imap.server()
            ),
        })
    }
}

/// One IMAP session: greeting, CAPABILITY, login, NOOP, LOGOUT.
async fn session(params: &Imap4wParams) -> Result<(), DialogueError> {
    let imap = Dialogue::connect(&params.ipaddress, params.port).await?;
    let mut session = Session {
        imap,
        tags: 0,
        capabilities: Vec::new(),
        bye: None,
    };
    let greeting = session.response("the greeting").await?;
    let Response::Untagged(text) = greeting else {
        return Err(DialogueError::protocol(format!(
            "{} greeted with something that is not an IMAP greeting.",
            session.imap.server()
        )));
    };
    let (word, rest) = text.split_once(' ').unwrap_or((&text, ""));
    let preauthenticated = match word.to_ascii_uppercase().as_str() {
        "OK" => false,
        "PREAUTH" => true,
        "BYE" => {
            return Err(DialogueError {
                code: ERROR_REPLY,
                detail: sentence(format!(
                    "The connection to {} was answered BYE {}",
                    session.imap.server(),
                    clean(rest)
                )),
            });
        }
        _ => {
            return Err(DialogueError::protocol(format!(
                "{} greeted with something that is not an IMAP greeting: \"* {}\".",
                session.imap.server(),
                clean(&text)
            )));
        }
    };
    session.note(&text);
    session.simple("CAPABILITY").await?;
    if !params.username.is_empty() && !preauthenticated {
        log_in(&mut session, params).await?;
    }
    session.simple("NOOP").await?;
    let tag = session.next_tag();
    if session
        .imap
        .send(&format!("{tag} LOGOUT"), "LOGOUT")
        .await
        .is_err()
    {
        // A server that hangs up before LOGOUT arrives has still served the session.
        return Ok(());
    }
    match session.completion(&tag, "LOGOUT").await {
        Ok(completion) if completion.status != Status::Ok => Err(refused("LOGOUT", &completion)),
        // The server says BYE and may hang up before its tagged OK.
        Ok(_) | Err(_) => Ok(()),
    }
}

/// Logs in by `authmethod` if the server's capabilities allow it.
async fn log_in(session: &mut Session, params: &Imap4wParams) -> Result<(), DialogueError> {
    let method = params.authmethod;
    let cannot = |why: String| DialogueError {
        code: LOGIN_FAILED,
        detail: format!(
            "Cannot log in as \"{}\" with {}: {why}",
            params.username,
            method.name()
        ),
    };
    match method.mechanism() {
        None if session.has("LOGINDISABLED") => {
            return Err(cannot(format!(
                "{} disables LOGIN on this connection (LOGINDISABLED); set authmethod to an AUTHENTICATE method it offers.",
                session.imap.server()
            )));
        }
        Some(mechanism) if !session.has(&format!("AUTH={mechanism}")) => {
            let offered: Vec<&str> = session
                .capabilities
                .iter()
                .filter_map(|c| c.strip_prefix("AUTH="))
                .collect();
            let offered = if offered.is_empty() {
                "none".to_string()
            } else {
                offered.join(", ")
            };
            return Err(cannot(format!(
                "{} does not offer it (its AUTHENTICATE mechanisms: {offered}); set authmethod to one it offers, or \"LOGIN\".",
                session.imap.server()
            )));
        }
        _ => {}
    }
    let encode = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let completion = match method {
        AuthMethod::Login => session.login(&params.username, &params.password).await?,
        AuthMethod::AuthenticateLogin => {
            let answers = [
                encode(params.username.as_bytes()),
                encode(params.password.as_bytes()),
            ];
            session.authenticate("LOGIN", &answers).await?
        }
        AuthMethod::AuthenticatePlain => {
            let message = format!("\0{}\0{}", params.username, &*params.password);
            session
                .authenticate("PLAIN", &[encode(message.as_bytes())])
                .await?
        }
    };
    match completion.status {
        Status::Ok => Ok(()),
        Status::No => Err(DialogueError {
            code: LOGIN_FAILED,
            detail: sentence(format!(
                "Login as \"{}\" refused: {} was answered {completion}",
                params.username,
                method.name()
            )),
        }),
        Status::Bad => Err(refused(method.name(), &completion)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialogue::scripted_server_with;
    use clp_core::monitor::params::Secret;

    fn parsed(text: &str) -> (Imap4wParams, Vec<String>) {
        parse(&text.parse::<toml::Table>().unwrap())
    }

    #[test]
    fn defaults_are_the_originals() {
        let (params, problems) = parsed("");
        assert_eq!(
            params,
            Imap4wParams {
                ipaddress: "127.0.0.1".into(),
                port: 143,
                username: String::new(),
                password: Secret::default(),
                authmethod: AuthMethod::AuthenticateLogin,
            }
        );
        assert!(problems.is_empty(), "{problems:?}");
        let (params, problems) = parsed(
            "ipaddress = \"::1\"\nport = 1143\nusername = \"clp\"\npassword = \"pw\"\nauthmethod = \"LOGIN\"\nencrypwd = 0",
        );
        assert_eq!((params.ipaddress.as_str(), params.port), ("::1", 1143));
        assert_eq!((params.username.as_str(), &*params.password), ("clp", "pw"));
        assert_eq!(params.authmethod, AuthMethod::Login);
        assert!(problems.is_empty(), "{problems:?}");
        let (params, _) = parsed("authmethod = \"AUTHENTICATE PLAIN\"");
        assert_eq!(params.authmethod, AuthMethod::AuthenticatePlain);
    }

    #[test]
    fn bad_values_and_unknown_keys_are_problems() {
        let (params, problems) = parsed(
            "port = 0\nipaddress = \"\"\nusername = \"a\\nb\"\nauthmethod = \"CRAM-MD5\"\nencrypwd = 1\nauthmetod = \"LOGIN\"",
        );
        assert_eq!(params.port, 143);
        assert_eq!(params.authmethod, AuthMethod::AuthenticateLogin);
        assert_eq!(problems.len(), 6, "{problems:?}");
        for expected in [
            "did you mean \"authmethod\"",
            "key \"port\": 0 is out of range",
            "key \"ipaddress\": is empty",
            "key \"username\": must not contain a line break",
            "key \"authmethod\": \"CRAM-MD5\" is not one of AUTHENTICATE LOGIN, LOGIN, AUTHENTICATE PLAIN",
            "key \"encrypwd\": encrypted passwords are not supported",
        ] {
            assert!(
                problems.iter().any(|p| p.contains(expected)),
                "{expected}: {problems:?}"
            );
        }
    }

    #[test]
    fn passwords_are_not_shown() {
        let (params, _) = parsed("username = \"clp\"\npassword = \"hunter2\"");
        let shown = format!("{params:?} {:?}", SessionProbe(params.clone()));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("(hidden)"), "{shown}");
    }

    #[test]
    fn strings_are_quoted_or_sent_as_literals() {
        assert_eq!(
            imap_string("s3cret"),
            ImapString::Quoted("\"s3cret\"".into())
        );
        assert_eq!(imap_string(""), ImapString::Quoted("\"\"".into()));
        assert_eq!(
            imap_string(r#"a "b" \c"#),
            ImapString::Quoted(r#""a \"b\" \\c""#.into())
        );
        assert_eq!(imap_string("pässwörd"), ImapString::Literal("pässwörd"));
        assert_eq!(imap_string("a\r\nb"), ImapString::Literal("a\r\nb"));
    }

    #[test]
    fn response_lines_are_told_apart() {
        assert_eq!(
            parse_response("* OK [CAPABILITY IMAP4rev1] ready"),
            Some(Response::Untagged("OK [CAPABILITY IMAP4rev1] ready".into()))
        );
        assert_eq!(
            parse_response("+ VXNlcm5hbWU6"),
            Some(Response::Continuation)
        );
        assert_eq!(parse_response("+"), Some(Response::Continuation));
        assert_eq!(
            parse_response("a2 NO [AUTHENTICATIONFAILED] Authentication failed."),
            Some(Response::Tagged {
                tag: "a2".into(),
                status: Status::No,
                text: "[AUTHENTICATIONFAILED] Authentication failed.".into()
            })
        );
        assert_eq!(
            parse_response("a3 ok"),
            Some(Response::Tagged {
                tag: "a3".into(),
                status: Status::Ok,
                text: String::new()
            })
        );
        assert!(matches!(
            parse_response("A1 BAD Error in IMAP command"),
            Some(Response::Tagged {
                status: Status::Bad,
                ..
            })
        ));
        for not_imap in [
            "+OK POP3 ready",
            "220 mail ESMTP",
            "SSH-2.0-OpenSSH_9.2",
            "a1 MAYBE",
            "",
            "*OK",
        ] {
            assert_eq!(parse_response(not_imap), None, "{not_imap:?}");
        }
    }

    #[test]
    fn a_literal_at_the_end_of_a_line_is_found() {
        assert_eq!(literal_length("* 1 FETCH (BODY[] {42}"), Some(42));
        assert_eq!(literal_length("* OK {0}"), Some(0));
        assert_eq!(literal_length("* OK {}"), None);
        assert_eq!(literal_length("* OK {4+}"), None);
        assert_eq!(literal_length("* OK done"), None);
    }

    fn params(username: &str, authmethod: AuthMethod) -> impl Fn(u16) -> Imap4wParams {
        let username = username.to_string();
        move |port| Imap4wParams {
            ipaddress: "127.0.0.1".into(),
            port,
            username: username.clone(),
            password: "s3cret".into(),
            authmethod,
        }
    }

    /// A scripted IMAP server: `answer(command, tag)` gives the lines after the command.
    async fn session_with(
        greeting: &'static str,
        params: impl Fn(u16) -> Imap4wParams,
        answer: fn(&str, &str) -> Option<String>,
    ) -> (Result<(), DialogueError>, Vec<String>) {
        let (port, server) = scripted_server_with(greeting, move |line| {
            let (tag, command) = line.split_once(' ').unwrap_or(("", line));
            answer(command, tag)
        })
        .await;
        let outcome = session(&params(port)).await;
        (outcome, server.await.unwrap())
    }

    const GREETING: &str = "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=LOGIN] ready\r\n";

    /// A healthy server: any user, password `s3cret`.
    fn healthy(command: &str, tag: &str) -> Option<String> {
        let upper = command.to_ascii_uppercase();
        Some(if upper == "CAPABILITY" {
            format!("* CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=LOGIN\r\n{tag} OK done\r\n")
        } else if upper.starts_with("LOGIN ") {
            if command.ends_with(" \"s3cret\"") {
                format!("{tag} OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n")
            } else {
                format!("{tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
            }
        } else if upper == "NOOP" {
            format!(
                "* 3 EXISTS\r\n* 1 FETCH (BODY[] {{5}}\r\nhello)\r\n{tag} OK NOOP completed\r\n"
            )
        } else if upper == "LOGOUT" {
            format!("* BYE Logging out\r\n{tag} OK Logout completed\r\n")
        } else {
            format!("{tag} BAD Error in IMAP command\r\n")
        })
    }

    #[tokio::test]
    async fn a_healthy_session_without_a_user_is_capability_noop_logout() {
        let (outcome, received) =
            session_with(GREETING, params("", AuthMethod::Login), healthy).await;
        assert_eq!(outcome, Ok(()));
        assert_eq!(received, ["a1 CAPABILITY", "a2 NOOP", "a3 LOGOUT"]);
    }

    #[tokio::test]
    async fn login_quotes_its_strings_and_a_refusal_is_code_4() {
        let (outcome, received) =
            session_with(GREETING, params("alice", AuthMethod::Login), healthy).await;
        assert_eq!(outcome, Ok(()));
        assert_eq!(
            received,
            [
                "a1 CAPABILITY",
                "a2 LOGIN \"alice\" \"s3cret\"",
                "a3 NOOP",
                "a4 LOGOUT"
            ]
        );

        let wrong = |port| Imap4wParams {
            password: "wr\"ong".into(),
            ..params("alice", AuthMethod::Login)(port)
        };
        let (outcome, received) = session_with(GREETING, wrong, healthy).await;
        let failure = outcome.unwrap_err();
        assert_eq!(failure.code, LOGIN_FAILED);
        assert_eq!(
            failure.detail,
            "Login as \"alice\" refused: LOGIN was answered NO [AUTHENTICATIONFAILED] Authentication failed."
        );
        assert_eq!(received[1], r#"a2 LOGIN "alice" "wr\"ong""#);
        assert!(!failure.detail.contains("wr\"ong"));
    }

    #[tokio::test]
    async fn a_password_that_is_not_7_bit_goes_as_a_literal() {
        let umlaut = |port| Imap4wParams {
            password: "pässwort".into(),
            ..params("alice", AuthMethod::Login)(port)
        };
        let (outcome, received) = session_with(GREETING, umlaut, |command, tag| {
            Some(if command.ends_with("{9}") {
                "+ go ahead\r\n".to_string()
            } else if command == "pässwort" {
                // The literal's bytes and the end of the line of tag a2.
                "a2 OK Logged in\r\n".to_string()
            } else {
                healthy(command, tag)?
            })
        })
        .await;
        assert_eq!(outcome, Ok(()));
        assert_eq!(received[1], "a2 LOGIN \"alice\" {9}");
        assert_eq!(received[2], "pässwort");
        assert_eq!(received[3], "a3 NOOP");
    }

    #[tokio::test]
    async fn authenticate_login_answers_the_two_prompts() {
        let (outcome, received) = session_with(
            GREETING,
            params("alice", AuthMethod::AuthenticateLogin),
            |command, tag| {
                Some(match command {
                    "AUTHENTICATE LOGIN" => "+ VXNlcm5hbWU6\r\n".to_string(),
                    // Lines without a tag: the scripted server splits them at no space.
                    "YWxpY2U=" => "+ UGFzc3dvcmQ6\r\n".to_string(),
                    "czNjcmV0" => "a2 OK Logged in\r\n".to_string(),
                    _ => healthy(command, tag)?,
                })
            },
        )
        .await;
        assert_eq!(outcome, Ok(()));
        assert_eq!(
            received,
            [
                "a1 CAPABILITY",
                "a2 AUTHENTICATE LOGIN",
                "YWxpY2U=",
                "czNjcmV0",
                "a3 NOOP",
                "a4 LOGOUT"
            ]
        );
    }

    #[tokio::test]
    async fn authenticate_plain_sends_one_message() {
        let (outcome, received) = session_with(
            GREETING,
            params("alice", AuthMethod::AuthenticatePlain),
            |command, tag| {
                Some(match command {
                    "AUTHENTICATE PLAIN" => "+ \r\n".to_string(),
                    "AGFsaWNlAHMzY3JldA==" => "a2 NO [AUTHENTICATIONFAILED] Nope.\r\n".into(),
                    _ => healthy(command, tag)?,
                })
            },
        )
        .await;
        assert_eq!(
            outcome.unwrap_err(),
            DialogueError {
                code: LOGIN_FAILED,
                detail: "Login as \"alice\" refused: AUTHENTICATE PLAIN was answered NO [AUTHENTICATIONFAILED] Nope.".into()
            }
        );
        assert_eq!(received.len(), 3, "{received:?}");
    }

    #[tokio::test]
    async fn a_method_the_server_does_not_offer_sends_no_password() {
        let (outcome, received) = session_with(
            "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=GSSAPI] ready\r\n",
            params("alice", AuthMethod::AuthenticatePlain),
            |command, tag| {
                Some(if command == "CAPABILITY" {
                    format!("* CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=GSSAPI\r\n{tag} OK\r\n")
                } else {
                    healthy(command, tag)?
                })
            },
        )
        .await;
        let failure = outcome.unwrap_err();
        assert_eq!(failure.code, LOGIN_FAILED);
        assert!(
            failure.detail.starts_with(
                "Cannot log in as \"alice\" with AUTHENTICATE PLAIN: 127.0.0.1:"
            ) && failure
                .detail
                .ends_with("does not offer it (its AUTHENTICATE mechanisms: GSSAPI); set authmethod to one it offers, or \"LOGIN\"."),
            "{failure:?}"
        );
        assert_eq!(received, ["a1 CAPABILITY"]);

        let (outcome, _) = session_with(
            "* OK ready\r\n",
            params("alice", AuthMethod::Login),
            |command, tag| {
                Some(if command == "CAPABILITY" {
                    format!("* CAPABILITY IMAP4rev1 LOGINDISABLED\r\n{tag} OK\r\n")
                } else {
                    healthy(command, tag)?
                })
            },
        )
        .await;
        let failure = outcome.unwrap_err();
        assert_eq!(failure.code, LOGIN_FAILED);
        assert!(failure.detail.contains("LOGINDISABLED"), "{failure:?}");
    }

    #[tokio::test]
    async fn greetings_bye_and_preauth() {
        let (outcome, received) = session_with(
            "* BYE Too many connections\r\n",
            params("alice", AuthMethod::Login),
            healthy,
        )
        .await;
        let failure = outcome.unwrap_err();
        assert_eq!(failure.code, ERROR_REPLY);
        assert!(
            failure
                .detail
                .ends_with("was answered BYE Too many connections."),
            "{failure:?}"
        );
        assert!(received.is_empty());

        let (outcome, received) = session_with(
            "* PREAUTH [CAPABILITY IMAP4rev1] welcome back\r\n",
            params("alice", AuthMethod::Login),
            healthy,
        )
        .await;
        assert_eq!(outcome, Ok(()));
        assert_eq!(received, ["a1 CAPABILITY", "a2 NOOP", "a3 LOGOUT"]);

        let (outcome, _) =
            session_with("+OK POP3 ready\r\n", params("", AuthMethod::Login), healthy).await;
        let failure = outcome.unwrap_err();
        assert_eq!(failure.code, PROTOCOL_ERROR);
        assert!(
            failure.detail.ends_with("\"+OK POP3 ready\"."),
            "{failure:?}"
        );
    }

    #[tokio::test]
    async fn a_tagged_no_or_bad_is_a_fault_with_the_servers_text() {
        let (outcome, _) = session_with(GREETING, params("", AuthMethod::Login), |command, tag| {
            Some(if command == "NOOP" {
                format!("{tag} NO [UNAVAILABLE] Internal error occurred.\r\n")
            } else {
                healthy(command, tag)?
            })
        })
        .await;
        assert_eq!(
            outcome.unwrap_err(),
            DialogueError {
                code: ERROR_REPLY,
                detail: "NOOP was answered NO [UNAVAILABLE] Internal error occurred.".into()
            }
        );

        // A server that says BYE and hangs up: the BYE is the answer.
        let (outcome, _) = session_with(GREETING, params("", AuthMethod::Login), |command, tag| {
            if command == "NOOP" {
                return None;
            }
            Some(if command == "CAPABILITY" {
                format!("* BYE Server shutting down.\r\n{tag} OK done\r\n")
            } else {
                healthy(command, tag)?
            })
        })
        .await;
        assert_eq!(
            outcome.unwrap_err(),
            DialogueError {
                code: ERROR_REPLY,
                detail: "NOOP was answered BYE Server shutting down.".into()
            }
        );

        // An answer for another tag is not IMAP as the monitor speaks it.
        let (outcome, _) = session_with(GREETING, params("", AuthMethod::Login), |command, _| {
            Some(format!("z9 OK {command}\r\n"))
        })
        .await;
        let failure = outcome.unwrap_err();
        assert_eq!(failure.code, PROTOCOL_ERROR);
        assert!(failure.detail.contains("tag \"z9\""), "{failure:?}");
    }
}
