//! The control socket: `clp*` commands' requests, served on a thread of its own.
//!
//! The socket has its own thread and single-threaded runtime, so that an operator's
//! `clpstat` is answered at once even when thousands of monitors keep the engine's
//! threads busy. Read-only requests (status, counters, alerts, licenses) are answered on
//! that thread; requests that change state run on the engine's runtime, where the tasks
//! they start (resources, recoveries) belong.
//!
//! Every connection is held to the [`Limits`]: a bounded number of connections (a new one
//! takes the slot of the one that has waited longest, so `clpstat` gets in during a flood),
//! a bounded line and a shared pool of buffered bytes, and timeouts for idle and slow
//! clients.

pub mod limits;

use std::sync::Arc;
use std::time::{Duration, Instant};

use limits::{Admission, Connections, Pool, Reservation, Ticket};
pub use limits::{LIMITS_ENV, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::runtime::Handle;
use tokio::sync::oneshot;

use crate::engine::Engine;
use clp_core::ipc::{ErrorCode, PROTOCOL, Request, Response, StatusForm};

/// The running control thread; [`ControlThread::stop`] ends it.
pub struct ControlThread {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ControlThread {
    /// Serves `listener` on a new thread; mutating requests go to the runtime this is
    /// called from (the engine's).
    pub fn start(listener: UnixListener, engine: Arc<Engine>) -> std::io::Result<ControlThread> {
        let listener = listener.into_std()?;
        let engines_runtime = Handle::current();
        let limits = Limits::from_env().map_err(std::io::Error::other)?;
        // Built here, so that a failure is the caller's error, not a silent thread.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let listener = {
            let _inside = runtime.enter();
            UnixListener::from_std(listener)?
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("clppm-control".into())
            .spawn(move || {
                runtime.block_on(async move {
                    tokio::select! {
                        () = serve(listener, engine, engines_runtime, limits) => {}
                        _ = stopped => {}
                    }
                });
            })?;
        Ok(ControlThread {
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Stops serving (connections in progress are dropped) and waits for the thread.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

/// Accepts connections for ever, each served by its own task on the control thread, within
/// the [`Limits`].
async fn serve(
    listener: UnixListener,
    engine: Arc<Engine>,
    engines_runtime: Handle,
    limits: Limits,
) {
    let connections = Connections::new();
    let pool = Pool::new(limits.pool_bytes);
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let (ticket, evicted) = match connections.admit(limits.connections) {
                    Admission::Admitted(ticket, evicted) => (ticket, evicted),
                    Admission::Full => {
                        tracing::warn!(
                            "control socket: {} connections are all carrying out requests; refused one",
                            limits.connections
                        );
                        tokio::spawn(refuse(stream, limits));
                        continue;
                    }
                };
                let connection = Connection {
                    engine: Arc::clone(&engine),
                    engines_runtime: engines_runtime.clone(),
                    limits,
                    ticket,
                    buffered: Reservation::new(&pool),
                };
                tokio::spawn(async move {
                    tokio::select! {
                        result = connection.serve(stream) => {
                            if let Err(error) = result {
                                tracing::debug!("connection ended: {error}");
                            }
                        }
                        _ = evicted => {}
                    }
                });
            }
            Err(error) => {
                tracing::error!("accept failed: {error}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

/// Tells a client that clppm has no connection slot for it.
async fn refuse(stream: UnixStream, limits: Limits) {
    let (_, mut writer) = stream.into_split();
    let response = Response::error(
        ErrorCode::Failed,
        format!(
            "clppm is serving {} connections already; try again",
            limits.connections
        ),
    );
    let _ = write_response(&mut writer, &response, limits.line_timeout).await;
}

thread_local! {
    /// The buffer of the last status answer, kept for the next one (the control thread
    /// answers them all): ~0.7 MB at 1,000 monitors is neither grown by doubling nor
    /// faulted in and zeroed by the kernel again per answer (an eighth of an answer's CPU
    /// in the profile, benches/PROFILE.md). One at most, and none over [`SPARE_BYTES`].
    static SPARE: std::cell::RefCell<Option<Vec<u8>>> = const { std::cell::RefCell::new(None) };

    /// The monitor list of the last status view, kept for the next one as [`SPARE`] is
    /// (~200 KB at 1,000 monitors), and none over [`SPARE_BYTES`].
    static SPARE_MONITORS: std::cell::RefCell<clp_core::status::SpareMonitorList> =
        std::cell::RefCell::new(clp_core::status::SpareMonitorList::default());

    /// The monitors of the last status answers as encoded, for the next answer to copy
    /// those whose fields did not change (at 1,000 monitors, half of an answer's CPU); none
    /// over [`KEEP_MONITORS_UP_TO`] monitors.
    static ENCODED: std::cell::RefCell<clp_core::status::EncodedMonitors> =
        std::cell::RefCell::new(clp_core::status::EncodedMonitors::default());
}

/// The largest answer buffer kept for the next answer (~5,000 monitors' pretty status);
/// a larger one is freed, so that a big status does not stay resident between answers.
const SPARE_BYTES: usize = 4 << 20;

/// The most monitors whose encoding is kept for the next answer: ~0.55 MB a form at 1,000
/// (~1.1 MB when both are asked for), so at most ~3.3 MB, under [`SPARE_BYTES`]. A larger
/// status is written whole each time, as before there was anything to keep.
const KEEP_MONITORS_UP_TO: usize = 3_000;

/// The most one read of a request takes: the bytes that may go past the pool's limit
/// before a connection is refused.
const READ_AT_ONCE: usize = 8 << 10;

/// A buffer for a status answer: the last one's, emptied, or a new one.
fn answer_buffer() -> Vec<u8> {
    SPARE.with_borrow_mut(Option::take).unwrap_or_default()
}

/// Keeps `buffer` for the next answer (see [`SPARE`]).
fn keep_buffer(mut buffer: Vec<u8>) {
    if buffer.capacity() <= SPARE_BYTES {
        buffer.clear();
        SPARE.with_borrow_mut(|spare| *spare = Some(buffer));
    }
}

/// The answer to a status request in `form`, encoded straight from the engine's
/// [`clp_core::status::StatusView`] by the status's own encoder: byte for byte the encoding
/// of [`Response::Status`] (or [`Response::StatusSummary`]) of the same status, or for
/// [`StatusForm::Pretty`] the line [`Response::StatusText`] and the text it announces.
fn status_answer(engine: &Engine, form: StatusForm) -> std::io::Result<(Option<Vec<u8>>, Vec<u8>)> {
    let mut answer = answer_buffer();
    let view = engine.status_view_in(SPARE_MONITORS.take());
    ENCODED.with_borrow_mut(|encoded| {
        // Nothing kept of a status this large (an earlier, smaller one's is freed).
        let kept = if view.monitors.len() <= KEEP_MONITORS_UP_TO {
            Some(encoded)
        } else {
            *encoded = clp_core::status::EncodedMonitors::default();
            None
        };
        match form {
            StatusForm::Whole => view.write_answer_keeping(&mut answer, kept),
            StatusForm::Pretty => view.write_pretty_keeping(&mut answer, kept),
            StatusForm::Summary => view.write_summary(&mut answer),
        }
    });
    let spare = view.into_spare();
    if spare.bytes() <= SPARE_BYTES {
        SPARE_MONITORS.set(spare);
    }
    if form == StatusForm::Pretty {
        let bytes = u64::try_from(answer.len()).unwrap_or(u64::MAX);
        let mut head =
            serde_json::to_vec(&Response::StatusText { bytes }).map_err(std::io::Error::other)?;
        head.push(b'\n');
        Ok((Some(head), answer))
    } else {
        answer.push(b'\n');
        Ok((None, answer))
    }
}

/// Answers a status request in `form`.
async fn write_status(
    writer: &mut tokio::net::unix::OwnedWriteHalf,
    engine: &Engine,
    form: StatusForm,
    timeout: Duration,
) -> std::io::Result<()> {
    let (head, body) = status_answer(engine, form)?;
    if let Some(head) = head {
        write_line(writer, &head, timeout).await?;
    }
    write_line(writer, &body, timeout).await?;
    keep_buffer(body);
    Ok(())
}

async fn write_response(
    writer: &mut tokio::net::unix::OwnedWriteHalf,
    response: &Response,
    timeout: Duration,
) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(response).map_err(std::io::Error::other)?;
    line.push(b'\n');
    write_line(writer, &line, timeout).await
}

/// Writes one answer line (newline included), or a text a line announced, within `timeout`.
async fn write_line(
    writer: &mut tokio::net::unix::OwnedWriteHalf,
    line: &[u8],
    timeout: Duration,
) -> std::io::Result<()> {
    match tokio::time::timeout(timeout, writer.write_all(line)).await {
        Ok(result) => result,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "the client did not read its answer in time",
        )),
    }
}

/// How reading the next request line ended.
enum NextLine {
    /// A complete line (newline stripped).
    Line(Vec<u8>),
    /// The client closed the connection.
    Closed,
    /// The client broke a limit; this is what to tell it before closing.
    Refused(String),
}

/// One served connection and the limits it is held to.
struct Connection {
    engine: Arc<Engine>,
    engines_runtime: Handle,
    limits: Limits,
    ticket: Ticket,
    /// This connection's share of the pool: the bytes in its read buffer.
    buffered: Reservation,
}

impl Connection {
    /// The next request line: within the idle timeout for its first byte, the line timeout
    /// for its end, the line length and the pool.
    async fn next_line(
        &mut self,
        reader: &mut tokio::net::unix::OwnedReadHalf,
        pending: &mut Vec<u8>,
    ) -> std::io::Result<NextLine> {
        let limits = self.limits;
        let mut line_started = (!pending.is_empty()).then(Instant::now);
        let idle_since = Instant::now();
        loop {
            if let Some(end) = pending.iter().position(|byte| *byte == b'\n') {
                if end + 1 > limits.line_bytes {
                    return Ok(NextLine::Refused(too_long(limits)));
                }
                let mut line: Vec<u8> = pending.drain(..=end).collect();
                line.pop();
                if pending.capacity() > READ_AT_ONCE * 2 {
                    pending.shrink_to(pending.len().max(READ_AT_ONCE));
                }
                self.buffered.hold(pending.len());
                return Ok(NextLine::Line(line));
            }
            if pending.len() >= limits.line_bytes {
                return Ok(NextLine::Refused(too_long(limits)));
            }
            let deadline = match line_started {
                Some(started) => started + limits.line_timeout,
                None => idle_since + limits.idle_timeout,
            };
            // Read straight into the spare room of `pending`: no buffer allocated and zeroed
            // per line (an 8 KiB `calloc` per line was 6 % of the control thread's CPU while
            // a status was asked each second).
            pending.reserve(READ_AT_ONCE);
            let mut capped = (&mut *reader).take(READ_AT_ONCE as u64);
            let read =
                match tokio::time::timeout_at(deadline.into(), capped.read_buf(pending)).await {
                    Ok(read) => read?,
                    Err(_) if line_started.is_some() => {
                        return Ok(NextLine::Refused(format!(
                            "the request was not finished within {}; closing",
                            clp_core::duration_text::seconds(limits.line_timeout)
                        )));
                    }
                    Err(_) => {
                        return Ok(NextLine::Refused(format!(
                            "no request for {} seconds; closing",
                            limits.idle_timeout.as_secs_f64()
                        )));
                    }
                };
            if read == 0 {
                return Ok(NextLine::Closed);
            }
            if !self.buffered.hold(pending.len()) {
                tracing::warn!(
                    "control socket: {} bytes of unfinished requests are buffered; closed a connection",
                    limits.pool_bytes
                );
                return Ok(NextLine::Refused(
                    "clppm's request buffers are full; try again".to_string(),
                ));
            }
            line_started.get_or_insert_with(Instant::now);
        }
    }

    /// One client's requests, answered in order: read-only ones here, the others on the
    /// engine's runtime (where the work they start belongs).
    async fn serve(mut self, stream: UnixStream) -> std::io::Result<()> {
        let peer_uid = stream.peer_cred().map(|cred| cred.uid()).ok();
        let may_change =
            peer_uid.is_some_and(|uid| uid == 0 || uid == nix::unistd::geteuid().as_raw());
        let (mut reader, mut writer) = stream.into_split();
        let timeout = self.limits.idle_timeout;
        let mut client: Option<String> = None;
        let mut pending = Vec::new();
        loop {
            let line = match self.next_line(&mut reader, &mut pending).await? {
                NextLine::Line(line) => line,
                NextLine::Closed => return Ok(()),
                NextLine::Refused(message) => {
                    let response = Response::error(ErrorCode::Protocol, message);
                    return write_response(&mut writer, &response, timeout).await;
                }
            };
            let request = match Request::from_line(&line) {
                Ok(request) => request,
                Err(message) => {
                    let response = Response::error(ErrorCode::Protocol, message);
                    write_response(&mut writer, &response, timeout).await?;
                    continue;
                }
            };
            self.ticket.set_busy(true);
            let written = match request {
                // The status is encoded from the engine's state as it stands, not built
                // into a `Response` first (the answer a greeted client gets either way).
                Request::Status { form } if client.is_some() => {
                    // What the status shows has its alerts written.
                    self.engine.settle_alerts();
                    write_status(&mut writer, &self.engine, form, timeout).await
                }
                request => {
                    let response = self.answer(&mut client, may_change, request).await;
                    self.engine.settle_alerts();
                    write_response(&mut writer, &response, timeout).await
                }
            };
            self.ticket.set_busy(false);
            written?;
        }
    }

    /// The answer to one request of a client that is (or is becoming) `client`.
    async fn answer(
        &self,
        client: &mut Option<String>,
        may_change: bool,
        request: Request,
    ) -> Response {
        match (&*client, request) {
            (
                _,
                Request::Hello {
                    protocol,
                    client: name,
                },
            ) => {
                if protocol != PROTOCOL {
                    Response::error(
                        ErrorCode::Protocol,
                        format!(
                            "clppm speaks protocol {PROTOCOL}, the command {protocol}; use commands of the same version"
                        ),
                    )
                } else {
                    // The name reaches log lines and alerts: never a raw control character.
                    *client = Some(clp_core::escape::escape(&name).into_owned());
                    Response::Welcome {
                        protocol: PROTOCOL,
                        daemon_version: env!("CARGO_PKG_VERSION").to_string(),
                        pid: std::process::id(),
                    }
                }
            }
            (None, _) => Response::error(ErrorCode::Protocol, "say hello first"),
            (Some(_), request) if request.is_mutating() && !may_change => Response::error(
                ErrorCode::PermissionDenied,
                "only root or the user running clppm may change its state",
            ),
            (Some(name), request) => {
                let mutating = request.is_mutating();
                let response = if mutating {
                    let engine = Arc::clone(&self.engine);
                    let name = name.clone();
                    self.engines_runtime
                        .spawn(async move { handle(&engine, &name, request).await })
                        .await
                        .unwrap_or_else(|error| {
                            tracing::error!("a request's task failed: {error}");
                            Response::error(
                                ErrorCode::Failed,
                                "clppm could not finish the request; see log/clppm.log",
                            )
                        })
                } else {
                    handle(&self.engine, name, request).await
                };
                // What the daemon acknowledges survives kill -9.
                if mutating {
                    self.engine.flush_store();
                }
                response
            }
        }
    }
}

fn too_long(limits: Limits) -> String {
    format!("request longer than {} bytes; closing", limits.line_bytes)
}

/// Carries out one request of `client`: a socket's, or one from another server through etcd
/// ([`crate::membership`]).
pub(crate) async fn handle(engine: &Arc<Engine>, client: &str, request: Request) -> Response {
    let done = |result: Result<(), crate::engine::OperationError>| match result {
        Ok(()) => Response::Done,
        Err(error) => error.into_response(),
    };
    match request {
        Request::Hello { .. } => Response::error(ErrorCode::Protocol, "already greeted"),
        // Another server's request (through etcd) is answered as a decoded `Response`:
        // the pretty form is for a command on this server's socket, so the whole status.
        Request::Status {
            form: StatusForm::Whole | StatusForm::Pretty,
        } => Response::Status(engine.status()),
        Request::Status {
            form: StatusForm::Summary,
        } => Response::StatusSummary(
            clp_core::status::StatusSummary::from(&engine.status()).into_owned(),
        ),
        Request::StopDaemon { then } => {
            engine.stop_from(client, then);
            engine.wait_stopped().await;
            Response::Done
        }
        Request::Suspend => done(engine.suspend(client)),
        Request::Resume => done(engine.resume(client)),
        Request::StartGroup { group } => done(engine.start_groups(group.as_deref()).await),
        Request::StopGroup { group } => done(engine.stop_groups(group.as_deref()).await),
        Request::MoveGroup {
            group,
            to,
            wait_seconds,
        } => done(
            engine
                .move_groups(
                    group.as_deref(),
                    to.as_deref(),
                    std::time::Duration::from_secs(wait_seconds),
                )
                .await,
        ),
        Request::StartResource { resource } => done(engine.start_resource(&resource).await),
        Request::StopResource { resource } => done(engine.stop_resource(&resource).await),
        Request::SuspendMonitors { monitors } => done(engine.suspend_monitors(&monitors)),
        Request::ResumeMonitors { monitors } => done(engine.resume_monitors(&monitors)),
        Request::ClearCounters { monitors } => done(engine.clear_counters(&monitors)),
        Request::DummyFailure { monitors, enable } => {
            done(engine.set_dummy_failure(&monitors, enable))
        }
        Request::Counters { monitors } => match engine.counters(&monitors) {
            Ok(monitors) => Response::Counters { monitors },
            Err(error) => error.into_response(),
        },
        Request::LogMessage {
            message,
            level,
            event_id,
            alert,
            syslog,
            mail,
        } => {
            let event = clp_core::alert::AlertEvent::custom(
                engine.server(),
                "logcmd",
                event_id,
                level,
                &message,
            );
            done(engine.log_message(event, alert, syslog, mail))
        }
        Request::RegisterLicense { license } => done(engine.register_license(&license)),
        Request::StartTrial { product } => match engine.start_trial(&product) {
            Ok(trial) => Response::Licenses {
                licenses: vec![trial],
            },
            Err(error) => error.into_response(),
        },
        Request::Licenses => match engine.licenses() {
            Ok(licenses) => Response::Licenses { licenses },
            Err(error) => error.into_response(),
        },
        Request::RemoveLicenses { removal } => match engine.remove_licenses(&removal) {
            Ok(count) => Response::Removed { count },
            Err(error) => error.into_response(),
        },
        Request::Handoff => done(engine.hand_off(client).await),
        Request::CatalogueAlert {
            module,
            event_id,
            args,
        } => {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            engine.alert(&module, event_id, &args);
            Response::Done
        }
        Request::Alerts { limit, filter } => match engine.alerts(&filter, limit) {
            Ok(page) => Response::Alerts {
                events: page.events,
                truncated: !page.complete,
            },
            Err(error) => error.into_response(),
        },
    }
}
