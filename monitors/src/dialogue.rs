//! The line dialogue of the Internet-server monitors. SMTP (RFC 5321 §4.2) and FTP (RFC 959
//! §4.2) share one shape: the client sends one line, the server answers a three-digit code
//! and text, on several lines when the code is followed by `-` (`250-first`, ..., `250 last`)
//! ([`Dialogue::command`], [`Dialogue::reply`]). IMAP and POP3 answer in lines of their own
//! shape, which their monitors parse from [`Dialogue::line`].
//!
//! Used by `smtpw`, `ftpw`, `imap4w` and `pop3w`. Everything is async on tokio sockets: when
//! the engine abandons a check at its timeout it drops the future, and with it the
//! connection.

use std::fmt;
use std::net::SocketAddr;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use clp_core::monitor::{CheckFuture, CheckOutcome, Probe, ProbeContext};

/// The detail code of a connection that could not be made.
pub const CONNECT_FAILED: u32 = 1;
/// The detail code of a server that closed the connection or broke the reply format.
pub const PROTOCOL_ERROR: u32 = 2;
/// The detail code of a reply that says the server cannot serve (a code other than the one
/// the step expects).
pub const ERROR_REPLY: u32 = 3;
/// The detail code of a login the server refused.
pub const LOGIN_FAILED: u32 = 4;

/// The longest reply line read (RFC 5321 allows 512 bytes; servers' banners run longer).
const MAX_LINE: u64 = 4096;
/// The most lines one reply may have.
const MAX_LINES: usize = 200;
/// The most characters of server text quoted in a detail.
const MAX_QUOTED: usize = 200;

/// Why a dialogue step failed: the original's detail code and the text of `rm 9`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialogueError {
    /// The detail code.
    pub code: u32,
    /// The detail text, one line.
    pub detail: String,
}

/// The parameters of a line-protocol monitor (`smtpw`, `ftpw`, `imap4w`, `pop3w`): one
/// whole session with the server is a check.
pub trait Session: std::fmt::Debug + Send + 'static {
    /// Talks to the server once, from the connection to the goodbye.
    fn session(&self) -> impl std::future::Future<Output = Result<(), DialogueError>> + Send;
}

/// The probe of a line-protocol monitor: Normal when a session ends well, otherwise the
/// failure that ended it.
#[derive(Debug)]
pub struct SessionProbe<P>(pub P);

impl<P: Session + Sync> Probe for SessionProbe<P> {
    fn check(&mut self, _: ProbeContext) -> CheckFuture<'_> {
        Box::pin(async move {
            match self.0.session().await {
                Ok(()) => CheckOutcome::Normal,
                Err(DialogueError { code, detail }) => CheckOutcome::Failure { code, detail },
            }
        })
    }
}

impl DialogueError {
    /// A failure of code [`PROTOCOL_ERROR`].
    pub fn protocol(detail: String) -> Self {
        DialogueError {
            code: PROTOCOL_ERROR,
            detail,
        }
    }
}

/// One reply: its code and the text of its lines (joined by `" / "`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code.
    pub code: u16,
    /// The text after the code, cleaned of control characters and shortened.
    pub text: String,
}

impl Reply {
    /// Whether the code is a positive completion (2xx).
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.text.is_empty() {
            write!(f, "{}", self.code)
        } else {
            write!(f, "{} {}", self.code, self.text)
        }
    }
}

/// A connection to a server that speaks in replies.
#[derive(Debug)]
pub struct Dialogue {
    stream: BufReader<TcpStream>,
    server: String,
}

impl Dialogue {
    /// Connects to `host:port` (an address or a name).
    pub async fn connect(host: &str, port: u16) -> Result<Dialogue, DialogueError> {
        let server = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let failed = |error: std::io::Error| DialogueError {
            code: CONNECT_FAILED,
            detail: format!("Cannot connect to {server}: {error}."),
        };
        let stream = TcpStream::connect((host, port)).await.map_err(failed)?;
        Ok(Dialogue {
            stream: BufReader::new(stream),
            server,
        })
    }

    /// The server as `address:port`, for details.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The local end of the connection as an address literal (`[127.0.0.1]`,
    /// `[IPv6:::1]`), the identity RFC 5321 accepts from any client in EHLO/HELO.
    pub fn local_literal(&self) -> String {
        match self.stream.get_ref().local_addr() {
            Ok(SocketAddr::V4(address)) => format!("[{}]", address.ip()),
            Ok(SocketAddr::V6(address)) => format!("[IPv6:{}]", address.ip()),
            Err(_) => "[127.0.0.1]".to_string(),
        }
    }

    /// Reads one line, its line break removed (bytes that are not UTF-8 replaced).
    /// `waiting_for` names what it answers, for the detail of a failure ("the greeting",
    /// "NOOP").
    pub async fn line(&mut self, waiting_for: &str) -> Result<String, DialogueError> {
        let mut raw = Vec::new();
        let read = (&mut self.stream)
            .take(MAX_LINE)
            .read_until(b'\n', &mut raw)
            .await
            .map_err(|error| {
                DialogueError::protocol(format!(
                    "Reading the answer to {waiting_for} from {} failed: {error}.",
                    self.server
                ))
            })?;
        if read == 0 {
            return Err(DialogueError::protocol(format!(
                "{} closed the connection without answering {waiting_for}.",
                self.server
            )));
        }
        if !raw.ends_with(b"\n") && read as u64 == MAX_LINE {
            return Err(DialogueError::protocol(format!(
                "{} answered {waiting_for} with a line longer than {MAX_LINE} bytes.",
                self.server
            )));
        }
        let line = String::from_utf8_lossy(&raw);
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }

    /// Reads and drops `count` bytes (an IMAP literal in an answer the monitor does not
    /// read).
    pub async fn skip(&mut self, count: u64, waiting_for: &str) -> Result<(), DialogueError> {
        let skipped = tokio::io::copy(&mut (&mut self.stream).take(count), &mut tokio::io::sink())
            .await
            .map_err(|error| {
                DialogueError::protocol(format!(
                    "Reading the answer to {waiting_for} from {} failed: {error}.",
                    self.server
                ))
            })?;
        if skipped < count {
            return Err(DialogueError::protocol(format!(
                "{} closed the connection in the middle of its answer to {waiting_for}.",
                self.server
            )));
        }
        Ok(())
    }

    /// Reads one reply. `waiting_for` names what it answers, for the detail of a failure
    /// ("the greeting", "EHLO").
    pub async fn reply(&mut self, waiting_for: &str) -> Result<Reply, DialogueError> {
        let mut text = Vec::new();
        for _ in 0..MAX_LINES {
            let line = self.line(waiting_for).await?;
            let (code, separator, rest) = split_reply_line(&line).ok_or_else(|| {
                DialogueError::protocol(format!(
                    "{} answered {waiting_for} with something that is not a reply: \"{}\".",
                    self.server,
                    clean(&line)
                ))
            })?;
            if !rest.is_empty() {
                text.push(rest.to_string());
            }
            if separator != '-' {
                return Ok(Reply {
                    code,
                    text: clean(&text.join(" / ")),
                });
            }
        }
        Err(DialogueError::protocol(format!(
            "{} answered {waiting_for} with more than {MAX_LINES} lines.",
            self.server
        )))
    }

    /// Sends `line` (CRLF added) without waiting for an answer. `shown` is how the command
    /// appears in a detail, so a password is never quoted.
    pub async fn send(&mut self, line: &str, shown: &str) -> Result<(), DialogueError> {
        let mut bytes = Vec::with_capacity(line.len() + 2);
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        let written = async {
            let stream = self.stream.get_mut();
            stream.write_all(&bytes).await?;
            stream.flush().await
        }
        .await;
        written.map_err(|error| {
            DialogueError::protocol(format!(
                "Sending {shown} to {} failed: {error}.",
                self.server
            ))
        })
    }

    /// Sends `line` (CRLF added) and reads the reply. `shown` is how the command appears in
    /// a detail, so a password is never quoted.
    pub async fn command(&mut self, line: &str, shown: &str) -> Result<Reply, DialogueError> {
        self.send(line, shown).await?;
        self.reply(shown).await
    }
}

/// The failure of a step whose reply was not the expected one.
pub fn unexpected(step: &str, reply: &Reply) -> DialogueError {
    DialogueError {
        code: ERROR_REPLY,
        detail: sentence(format!("{step} was answered {reply}")),
    }
}

/// `text` ended with a full stop, unless it already ends with one (servers' texts often do).
pub fn sentence(mut text: String) -> String {
    if !text.ends_with(['.', '!', '?']) {
        text.push('.');
    }
    text
}

/// Splits `250-text` / `250 text` / `250` into code, separator and text.
fn split_reply_line(line: &str) -> Option<(u16, char, &str)> {
    let digits = line.get(..3)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let code = digits.parse().ok()?;
    let mut rest = line[3..].chars();
    match rest.next() {
        None => Some((code, ' ', "")),
        Some(separator @ (' ' | '-')) => Some((code, separator, rest.as_str())),
        Some(_) => None,
    }
}

/// Server text fit for one alert line: control characters dropped, trimmed, shortened.
pub fn clean(text: &str) -> String {
    let cleaned: String = text.chars().filter(|c| !c.is_control()).collect();
    let cleaned = cleaned.trim();
    if cleaned.chars().count() > MAX_QUOTED {
        let cut: String = cleaned.chars().take(MAX_QUOTED).collect();
        format!("{cut}...")
    } else {
        cleaned.to_string()
    }
}

/// A loopback server of one connection for the types' unit tests: it sends `greeting`,
/// then answers each command line with `answer(line)` (closing on `None`), and returns the
/// lines it received.
#[cfg(test)]
pub(crate) async fn scripted_server(
    greeting: &'static str,
    answer: fn(&str) -> Option<&'static str>,
) -> (u16, tokio::task::JoinHandle<Vec<String>>) {
    scripted_server_with(greeting, move |line| answer(line).map(str::to_string)).await
}

/// [`scripted_server`] with answers made from the line (an IMAP tag echoed).
#[cfg(test)]
pub(crate) async fn scripted_server_with(
    greeting: &'static str,
    answer: impl Fn(&str) -> Option<String> + Send + 'static,
) -> (u16, tokio::task::JoinHandle<Vec<String>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let port = listener.local_addr().expect("its address").port();
    let task = tokio::spawn(async move {
        let mut received = Vec::new();
        let Ok((socket, _)) = listener.accept().await else {
            return received;
        };
        let mut socket = BufReader::new(socket);
        if socket
            .get_mut()
            .write_all(greeting.as_bytes())
            .await
            .is_err()
        {
            return received;
        }
        let mut line = String::new();
        while matches!(socket.read_line(&mut line).await, Ok(n) if n > 0) {
            let command = line.trim_end().to_string();
            line.clear();
            let reply = answer(&command);
            received.push(command);
            match reply {
                Some(reply) if socket.get_mut().write_all(reply.as_bytes()).await.is_ok() => {}
                _ => break,
            }
        }
        received
    });
    (port, task)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[test]
    fn reply_lines_are_split() {
        assert_eq!(split_reply_line("250 OK"), Some((250, ' ', "OK")));
        assert_eq!(
            split_reply_line("250-PIPELINING"),
            Some((250, '-', "PIPELINING"))
        );
        assert_eq!(split_reply_line("221"), Some((221, ' ', "")));
        assert_eq!(split_reply_line("2x0 OK"), None);
        assert_eq!(split_reply_line("250+OK"), None);
        assert_eq!(split_reply_line("HTTP/1.1 400"), None);
        assert_eq!(split_reply_line("é50 OK"), None);
    }

    #[test]
    fn a_detail_is_one_sentence() {
        assert_eq!(
            sentence("NOOP was answered 500 What".into()),
            "NOOP was answered 500 What."
        );
        assert_eq!(
            sentence("PASS was answered 530 Failed.".into()),
            "PASS was answered 530 Failed."
        );
    }

    #[test]
    fn quoted_text_is_one_short_line() {
        assert_eq!(clean(" a\tb\u{1b}c "), "abc");
        assert_eq!(clean(&"x".repeat(300)).len(), MAX_QUOTED + 3);
    }

    /// A one-connection server that sends `script`, closes its side and reads until the
    /// client closes.
    async fn serve(script: &'static [u8]) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            socket.write_all(script).await.unwrap();
            socket.shutdown().await.unwrap();
            let mut sink = Vec::new();
            let _ = socket.read_to_end(&mut sink).await;
        });
        port
    }

    #[tokio::test]
    async fn a_multi_line_reply_is_one_reply() {
        let port = serve(b"220-first\r\n220-second\r\n220 last\r\n250 OK\r\n").await;
        let mut dialogue = Dialogue::connect("127.0.0.1", port).await.unwrap();
        let greeting = dialogue.reply("the greeting").await.unwrap();
        assert_eq!(greeting.code, 220);
        assert_eq!(greeting.text, "first / second / last");
        let ok = dialogue.command("NOOP", "NOOP").await.unwrap();
        assert!(ok.is_positive());
        assert_eq!(dialogue.local_literal(), "[127.0.0.1]");
    }

    #[tokio::test]
    async fn lines_are_read_whole_and_literals_skipped() {
        let port = serve(b"* OK ready\r\n* 1 FETCH {5}\r\nhello)\r\n+OK bare\nlast").await;
        let mut dialogue = Dialogue::connect("127.0.0.1", port).await.unwrap();
        assert_eq!(dialogue.line("the greeting").await.unwrap(), "* OK ready");
        assert_eq!(dialogue.line("NOOP").await.unwrap(), "* 1 FETCH {5}");
        dialogue.skip(5, "NOOP").await.unwrap();
        assert_eq!(dialogue.line("NOOP").await.unwrap(), ")");
        assert_eq!(dialogue.line("STAT").await.unwrap(), "+OK bare");
        assert_eq!(dialogue.line("QUIT").await.unwrap(), "last");
        let error = dialogue.skip(1, "QUIT").await.unwrap_err();
        assert_eq!(error.code, PROTOCOL_ERROR);
        assert!(
            error
                .detail
                .ends_with("closed the connection in the middle of its answer to QUIT."),
            "{error:?}"
        );
        let error = dialogue.line("QUIT").await.unwrap_err();
        assert!(
            error
                .detail
                .ends_with("closed the connection without answering QUIT."),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn a_closed_connection_or_garbage_is_a_protocol_error() {
        let port = serve(b"").await;
        let mut dialogue = Dialogue::connect("127.0.0.1", port).await.unwrap();
        let error = dialogue.reply("the greeting").await.unwrap_err();
        assert_eq!(error.code, PROTOCOL_ERROR);
        assert!(
            error
                .detail
                .ends_with("closed the connection without answering the greeting."),
            "{error:?}"
        );

        let port = serve(b"SSH-2.0-OpenSSH\r\n").await;
        let mut dialogue = Dialogue::connect("127.0.0.1", port).await.unwrap();
        let error = dialogue.reply("the greeting").await.unwrap_err();
        assert_eq!(error.code, PROTOCOL_ERROR);
        assert!(error.detail.contains("\"SSH-2.0-OpenSSH\""), "{error:?}");
    }

    #[tokio::test]
    async fn a_refused_connection_names_the_server() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let error = Dialogue::connect("127.0.0.1", port).await.unwrap_err();
        assert_eq!(error.code, CONNECT_FAILED);
        assert!(
            error
                .detail
                .starts_with(&format!("Cannot connect to 127.0.0.1:{port}: ")),
            "{error:?}"
        );
    }
}
