//! The synchronous client the commands use: connect, greet, one request, one answer.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{
    ERROR_PREFIX, ErrorCode, MAX_ANSWER, PROTOCOL, Request, Response, StatusForm, TEXT_PREFIX,
};

/// The client's read buffer.
const READ_BUFFER: usize = 64 << 10;

/// The room reserved at once for an answer longer than one read (see `Client::read_line`):
/// a status of ~30,000 monitors; a longer one grows as a vector does.
const BIG_ANSWER: usize = 4 << 20;

/// Why a command could not get an answer from the daemon.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing listens on the socket.
    #[error("clppm is not running (no answer on {}); start it with 'clpcl -s'", socket.display())]
    NotRunning {
        /// The socket path.
        socket: PathBuf,
    },
    /// The socket exists but this user may not use it (it is mode 0600).
    #[error("permission denied on {}: run the command as root or as the user running clppm", socket.display())]
    PermissionDenied {
        /// The socket path.
        socket: PathBuf,
    },
    /// The daemon did not answer within the time allowed.
    #[error("clppm did not answer on {} within {}; it may be overloaded or stuck — see its log, log/clppm.log", socket.display(), crate::duration_text::seconds(*waited))]
    Timeout {
        /// The socket path.
        socket: PathBuf,
        /// How long we waited.
        waited: Duration,
    },
    /// The connection broke or timed out.
    #[error("lost the connection to clppm on {}: {source}", socket.display())]
    Io {
        /// The socket path.
        socket: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The daemon answered something this client cannot read.
    #[error(
        "clppm answered in a form this command does not understand ({message}); are clppm and the commands of the same version?"
    )]
    Protocol {
        /// The decoder's message.
        message: String,
    },
    /// The daemon refused or failed the request.
    #[error("{message}")]
    Refused {
        /// What kind of failure.
        code: ErrorCode,
        /// The daemon's message.
        message: String,
    },
}

/// A greeted connection to the daemon (or one whose greeting goes with its first request:
/// [`Client::connect_asking`]).
#[derive(Debug)]
pub struct Client {
    socket: PathBuf,
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    /// The daemon's pid, from its welcome (0 until the welcome is read).
    pub daemon_pid: u32,
    /// The greeting line, while it is still to be sent with the first request.
    hello: Option<Vec<u8>>,
}

impl Client {
    /// Connects to the daemon at `socket` and exchanges the greeting.
    pub fn connect(socket: &Path, client_name: &str) -> Result<Client, ClientError> {
        Self::connect_within(socket, client_name, Duration::from_secs(10))
    }

    /// [`Client::connect`], waiting at most `timeout` for the greeting (a shell completion
    /// asks the daemon on every TAB and must not hang on a stuck one).
    pub fn connect_within(
        socket: &Path,
        client_name: &str,
        timeout: Duration,
    ) -> Result<Client, ClientError> {
        let mut client = Self::connect_asking(socket, client_name, timeout)?;
        let Some(hello) = client.hello.take() else {
            return Ok(client);
        };
        let greeting = client.write(&hello).and_then(|()| client.read_line());
        client.welcomed(greeting)?;
        Ok(client)
    }

    /// Connects to the daemon at `socket` for one request: the greeting is sent with that
    /// request, in one write, and the daemon's welcome read before its answer (a round trip
    /// fewer for a command that asks one thing). Any daemon reads it so: it reads each line
    /// as it comes, however the lines arrive. `timeout` bounds the reads until a request
    /// sets its own.
    pub fn connect_asking(
        socket: &Path,
        client_name: &str,
        timeout: Duration,
    ) -> Result<Client, ClientError> {
        let stream = UnixStream::connect(socket).map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
                ClientError::NotRunning {
                    socket: socket.to_path_buf(),
                }
            }
            std::io::ErrorKind::PermissionDenied => ClientError::PermissionDenied {
                socket: socket.to_path_buf(),
            },
            _ => ClientError::Io {
                socket: socket.to_path_buf(),
                source: error,
            },
        })?;
        let io = |source| ClientError::Io {
            socket: socket.to_path_buf(),
            source,
        };
        stream.set_read_timeout(Some(timeout)).map_err(io)?;
        let writer = stream.try_clone().map_err(io)?;
        Ok(Client {
            socket: socket.to_path_buf(),
            // Big reads: a status of 1,000 monitors is ~0.5 MB.
            reader: BufReader::with_capacity(READ_BUFFER, stream),
            writer,
            daemon_pid: 0,
            hello: Some(Self::line_of(&Request::Hello {
                protocol: PROTOCOL,
                client: client_name.to_string(),
            })?),
        })
    }

    /// Takes the daemon's answer to the greeting: its welcome, or why there is none.
    fn welcomed(&mut self, greeting: Result<Vec<u8>, ClientError>) -> Result<(), ClientError> {
        // A daemon that dies while we connect (its socket still accepting) resets the
        // connection: for the caller it is simply not running.
        let greeting = match greeting {
            Err(ClientError::Io { source, .. })
                if matches!(
                    source.kind(),
                    std::io::ErrorKind::ConnectionReset
                        | std::io::ErrorKind::BrokenPipe
                        | std::io::ErrorKind::UnexpectedEof
                ) =>
            {
                return Err(ClientError::NotRunning {
                    socket: self.socket.clone(),
                });
            }
            other => Self::decode(&other?)?,
        };
        match greeting {
            Response::Welcome { pid, .. } => {
                self.daemon_pid = pid;
                Ok(())
            }
            other => Err(ClientError::Protocol {
                message: format!("expected a welcome, got {other:?}"),
            }),
        }
    }

    /// Sends one request and waits up to `timeout` (None: as long as it takes) for the answer.
    pub fn request(
        &mut self,
        request: &Request,
        timeout: Option<Duration>,
    ) -> Result<Response, ClientError> {
        self.set_timeout(timeout)?;
        match self.exchange(request)? {
            Response::Error { code, message } => Err(ClientError::Refused { code, message }),
            response => Ok(response),
        }
    }

    /// [`Client::request`], the answer left as the line the daemon wrote (without its
    /// newline): for a command that passes it through rather than reading it. An error
    /// answer is still read, and returned as [`ClientError::Refused`].
    pub fn request_line(
        &mut self,
        request: &Request,
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>, ClientError> {
        self.set_timeout(timeout)?;
        let mut line = self.exchange_line(request)?;
        if line.starts_with(ERROR_PREFIX) {
            return match Self::decode(&line)? {
                Response::Error { code, message } => Err(ClientError::Refused { code, message }),
                other => Err(ClientError::Protocol {
                    message: format!("expected an error, got {other:?}"),
                }),
            };
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        Ok(line)
    }

    /// The status as `clpstat --json` prints it ([`StatusForm::Pretty`]): the text the
    /// daemon sends after its [`Response::StatusText`] line, or, from a daemon older than
    /// that form, its compact status line (without its newline) to be re-indented.
    pub fn status_text(&mut self, timeout: Option<Duration>) -> Result<StatusText, ClientError> {
        let request = Request::Status {
            form: StatusForm::Pretty,
        };
        let line = self.request_line(&request, timeout)?;
        if !line.starts_with(TEXT_PREFIX) {
            return Ok(StatusText::Compact(line));
        }
        let bytes = match Self::decode(&line)? {
            Response::StatusText { bytes } => bytes,
            other => {
                return Err(ClientError::Protocol {
                    message: format!("expected the status text's length, got {other:?}"),
                });
            }
        };
        let length = usize::try_from(bytes)
            .ok()
            .filter(|length| *length <= MAX_ANSWER)
            .ok_or_else(|| ClientError::Protocol {
                message: format!("a status text longer than {} MiB", MAX_ANSWER >> 20),
            })?;
        let mut text = vec![0_u8; length];
        self.reader
            .read_exact(&mut text)
            .map_err(|source| self.read_error(source))?;
        Ok(StatusText::Pretty(text))
    }

    /// How long the next answer may take (None: as long as it takes).
    fn set_timeout(&self, timeout: Option<Duration>) -> Result<(), ClientError> {
        self.reader
            .get_ref()
            .set_read_timeout(timeout)
            .map_err(|source| ClientError::Io {
                socket: self.socket.clone(),
                source,
            })
    }

    fn exchange(&mut self, request: &Request) -> Result<Response, ClientError> {
        let line = self.exchange_line(request)?;
        Self::decode(&line)
    }

    fn decode(line: &[u8]) -> Result<Response, ClientError> {
        Response::from_line(line).map_err(|error| ClientError::Protocol {
            message: error.to_string(),
        })
    }

    /// What a failed read of an answer is for the caller: a timeout, or a broken connection.
    fn read_error(&self, source: std::io::Error) -> ClientError {
        match source.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => ClientError::Timeout {
                socket: self.socket.clone(),
                waited: self
                    .reader
                    .get_ref()
                    .read_timeout()
                    .ok()
                    .flatten()
                    .unwrap_or_default(),
            },
            _ => ClientError::Io {
                socket: self.socket.clone(),
                source,
            },
        }
    }

    /// A request as its line (newline included).
    fn line_of(request: &Request) -> Result<Vec<u8>, ClientError> {
        let mut line = serde_json::to_vec(request).map_err(|error| ClientError::Protocol {
            message: error.to_string(),
        })?;
        line.push(b'\n');
        Ok(line)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        self.writer
            .write_all(bytes)
            .map_err(|source| ClientError::Io {
                socket: self.socket.clone(),
                source,
            })
    }

    /// Sends `request` (after the greeting, in the same write, if that is still to go),
    /// returns the answer line as read (newline included).
    fn exchange_line(&mut self, request: &Request) -> Result<Vec<u8>, ClientError> {
        let line = Self::line_of(request)?;
        match self.hello.take() {
            Some(mut both) => {
                both.extend_from_slice(&line);
                let greeting = self.write(&both).and_then(|()| self.read_line());
                self.welcomed(greeting)?;
            }
            None => self.write(&line)?,
        }
        self.read_line()
    }

    /// Reads one answer line (newline included).
    ///
    /// An answer that does not end within the first read (a status of 1,000 monitors is
    /// ~125 KB) goes into one reservation of [`BIG_ANSWER`] bytes: the kernel maps a page
    /// only when it is written, so this touches the answer's size once, where growing by
    /// doubling copied it and touched about twice as many fresh pages (each a page fault:
    /// a tenth of a millisecond of `clpstat`'s whole run at 1,000 monitors).
    fn read_line(&mut self) -> Result<Vec<u8>, ClientError> {
        let mut answer = Vec::new();
        let big = loop {
            match self.reader.fill_buf() {
                Ok(buffered) => break !buffered.is_empty() && !buffered.contains(&b'\n'),
                Err(source) if source.kind() == std::io::ErrorKind::Interrupted => {}
                Err(source) => return Err(self.read_error(source)),
            }
        };
        if big {
            answer.reserve(BIG_ANSWER);
        }
        let read = (&mut self.reader)
            .take(MAX_ANSWER as u64 + 1)
            .read_until(b'\n', &mut answer)
            .map_err(|source| self.read_error(source))?;
        if read == 0 {
            return Err(ClientError::Io {
                socket: self.socket.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "clppm closed the connection",
                ),
            });
        }
        if answer.len() > MAX_ANSWER {
            return Err(ClientError::Protocol {
                message: format!("an answer longer than {} MiB", MAX_ANSWER >> 20),
            });
        }
        Ok(answer)
    }
}

/// The status text of [`Client::status_text`].
#[derive(Debug)]
pub enum StatusText {
    /// The text as `clpstat --json` prints it.
    Pretty(Vec<u8>),
    /// The compact status answer line of a daemon older than the pretty form.
    Compact(Vec<u8>),
}

/// Connects, sends one request, returns the answer.
pub fn call(
    socket: &Path,
    client_name: &str,
    request: &Request,
    timeout: Option<Duration>,
) -> Result<Response, ClientError> {
    Client::connect_asking(socket, client_name, Duration::from_secs(10))?.request(request, timeout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipc::MAX_LINE;
    use std::os::unix::net::UnixListener;

    /// A daemon that greets, then answers the next request with `answer`.
    fn one_answer_daemon(socket: &Path, answer: Response) -> std::thread::JoinHandle<()> {
        let listener = UnixListener::bind(socket).expect("a test socket");
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().expect("a client");
            let mut reader = BufReader::new(stream.try_clone().expect("a clone"));
            let mut writer = stream;
            for reply in [
                Response::Welcome {
                    protocol: PROTOCOL,
                    daemon_version: "test".into(),
                    pid: 1,
                },
                answer,
            ] {
                let mut line = String::new();
                reader.read_line(&mut line).expect("a request");
                let mut out = serde_json::to_vec(&reply).expect("encodes");
                out.push(b'\n');
                writer.write_all(&out).expect("answers");
            }
        })
    }

    #[test]
    fn an_answer_longer_than_a_request_may_be_is_read_whole() {
        // A status of 10,000 monitors is ~5 MB: over the requests' limit, and must arrive.
        let dir = tempfile::tempdir().expect("a temp dir");
        let socket = dir.path().join("clppm.sock");
        let message = "x".repeat(MAX_LINE + (1 << 20));
        let daemon = one_answer_daemon(
            &socket,
            Response::error(ErrorCode::NotFound, message.as_str()),
        );
        let answer = call(&socket, "test", &Request::STATUS, None);
        daemon.join().expect("the daemon thread");
        match answer {
            Err(ClientError::Refused { message: got, .. }) => assert_eq!(got.len(), message.len()),
            other => panic!("expected the whole answer, got {other:?}"),
        }
    }

    /// A daemon that greets, then answers the next request with `answer` as it is.
    fn raw_answer_daemon(socket: &Path, answer: Vec<u8>) -> std::thread::JoinHandle<()> {
        let listener = UnixListener::bind(socket).expect("a test socket");
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().expect("a client");
            let mut reader = BufReader::new(stream.try_clone().expect("a clone"));
            let mut writer = stream;
            let mut welcome = serde_json::to_vec(&Response::Welcome {
                protocol: PROTOCOL,
                daemon_version: "test".into(),
                pid: 1,
            })
            .expect("encodes");
            welcome.push(b'\n');
            for reply in [welcome, answer] {
                let mut line = String::new();
                reader.read_line(&mut line).expect("a request");
                writer.write_all(&reply).expect("answers");
            }
        })
    }

    /// A command that asks one thing sends the greeting and its request in one write:
    /// the daemon's first read holds both lines (a round trip fewer); a daemon that reads
    /// line by line (any daemon, `one_answer_daemon` above) answers each in turn.
    #[test]
    fn a_request_asked_with_the_greeting_arrives_with_it() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let socket = dir.path().join("clppm.sock");
        let listener = UnixListener::bind(&socket).expect("a test socket");
        let daemon = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("a client");
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .expect("a timeout");
            let mut first = vec![0_u8; 64 << 10];
            let read = stream.read(&mut first).expect("the first read");
            first.truncate(read);
            let mut answers = Vec::new();
            for answer in [
                Response::Welcome {
                    protocol: PROTOCOL,
                    daemon_version: "test".into(),
                    pid: 7,
                },
                Response::Done,
            ] {
                answers.extend(serde_json::to_vec(&answer).expect("encodes"));
                answers.push(b'\n');
            }
            stream.write_all(&answers).expect("answers");
            first
        });
        let answer = call(
            &socket,
            "test",
            &Request::Suspend,
            Some(Duration::from_secs(10)),
        );
        let first = daemon.join().expect("the daemon thread");
        assert_eq!(answer.expect("an answer"), Response::Done);
        let lines: Vec<Request> = first
            .split(|byte| *byte == b'\n')
            .filter(|line| !line.is_empty())
            .map(|line| Request::from_line(line).expect("a request"))
            .collect();
        assert_eq!(
            lines,
            [
                Request::Hello {
                    protocol: PROTOCOL,
                    client: "test".into()
                },
                Request::Suspend
            ]
        );
    }

    fn status_text_from(answer: &[u8]) -> Result<StatusText, ClientError> {
        let dir = tempfile::tempdir().expect("a temp dir");
        let socket = dir.path().join("clppm.sock");
        let daemon = raw_answer_daemon(&socket, answer.to_vec());
        let text = Client::connect(&socket, "test").and_then(|mut c| c.status_text(None));
        daemon.join().expect("the daemon thread");
        text
    }

    /// The pretty status is read as long as its line says, line breaks and all; an older
    /// daemon's compact line is handed back to be re-indented; a text cut short is an error.
    #[test]
    fn the_status_text_is_read_by_its_length() {
        let text = b"{\n  \"cluster\": \"c\"\n}\n";
        let mut answer =
            format!("{{\"type\":\"status_text\",\"bytes\":{}}}\n", text.len()).into_bytes();
        answer.extend_from_slice(text);
        match status_text_from(&answer) {
            Ok(StatusText::Pretty(got)) => assert_eq!(got, text),
            other => panic!("expected the text, got {other:?}"),
        }
        let compact = b"{\"type\":\"status\",\"cluster\":\"c\"}\n";
        match status_text_from(compact) {
            Ok(StatusText::Compact(got)) => assert_eq!(got, &compact[..compact.len() - 1]),
            other => panic!("expected the compact line, got {other:?}"),
        }
        answer.truncate(answer.len() - 3);
        match status_text_from(&answer) {
            Err(ClientError::Io { source, .. }) => {
                assert_eq!(source.kind(), std::io::ErrorKind::UnexpectedEof);
            }
            other => panic!("expected an error, got {other:?}"),
        }
    }
}
