//! The control socket: `clp*` commands' requests, served on a thread of its own.
//!
//! The socket has its own thread and single-threaded runtime, so that an operator's
//! `clpstat` is answered at once even when thousands of monitors keep the engine's
//! threads busy. Read-only requests (status, counters, alerts, licenses) are answered on
//! that thread; requests that change state run on the engine's runtime, where the tasks
//! they start (resources, recoveries) belong.

use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::runtime::Handle;
use tokio::sync::oneshot;

use crate::engine::Engine;
use crate::ipc::{ErrorCode, MAX_LINE, PROTOCOL, Request, Response};

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
                        () = serve(listener, engine, engines_runtime) => {}
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

/// Accepts connections for ever, each served by its own task on the control thread.
async fn serve(listener: UnixListener, engine: Arc<Engine>, engines_runtime: Handle) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let engine = Arc::clone(&engine);
                let engines_runtime = engines_runtime.clone();
                tokio::spawn(async move {
                    if let Err(error) = serve_connection(stream, engine, engines_runtime).await {
                        tracing::debug!("connection ended: {error}");
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

async fn write_response(
    writer: &mut tokio::net::unix::OwnedWriteHalf,
    response: &Response,
) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(response).map_err(std::io::Error::other)?;
    line.push(b'\n');
    writer.write_all(&line).await
}

/// One client's requests, answered in order: read-only ones here, the others on the
/// engine's runtime (where the work they start belongs).
async fn serve_connection(
    stream: UnixStream,
    engine: Arc<Engine>,
    engines_runtime: Handle,
) -> std::io::Result<()> {
    let peer_uid = stream.peer_cred().map(|cred| cred.uid()).ok();
    let may_change = peer_uid.is_some_and(|uid| uid == 0 || uid == nix::unistd::geteuid().as_raw());
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    let mut client: Option<String> = None;
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .await?;
        if read == 0 {
            return Ok(());
        }
        if line.len() > MAX_LINE {
            let response = Response::error(
                ErrorCode::Protocol,
                format!("request longer than {MAX_LINE} bytes"),
            );
            return write_response(&mut writer, &response).await;
        }
        let request: Request = match serde_json::from_slice(&line) {
            Ok(request) => request,
            Err(error) => {
                let response = Response::error(
                    ErrorCode::Protocol,
                    format!("cannot read the request: {error}"),
                );
                write_response(&mut writer, &response).await?;
                continue;
            }
        };
        let response = match (&client, request) {
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
                    client = Some(crate::escape::escape(&name).into_owned());
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
                    let engine = Arc::clone(&engine);
                    let name = name.clone();
                    engines_runtime
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
                    handle(&engine, name, request).await
                };
                // What the daemon acknowledges survives kill -9.
                if mutating {
                    engine.flush_store();
                }
                response
            }
        };
        write_response(&mut writer, &response).await?;
    }
}

/// Carries out one request.
async fn handle(engine: &Arc<Engine>, client: &str, request: Request) -> Response {
    let done = |result: Result<(), crate::engine::OperationError>| match result {
        Ok(()) => Response::Done,
        Err(error) => error.into_response(),
    };
    match request {
        Request::Hello { .. } => Response::error(ErrorCode::Protocol, "already greeted"),
        Request::Status => Response::Status(engine.status()),
        Request::StopDaemon { then } => {
            engine.stop_from(client, then);
            engine.wait_stopped().await;
            Response::Done
        }
        Request::Suspend => done(engine.suspend(client)),
        Request::Resume => done(engine.resume(client)),
        Request::StartGroup { group } => done(engine.start_groups(group.as_deref()).await),
        Request::StopGroup { group } => done(engine.stop_groups(group.as_deref()).await),
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
            let event = crate::alert::AlertEvent::custom(
                &engine.config().cluster.name,
                "logcmd",
                event_id,
                level,
                &message,
            );
            engine.log_message(event, alert, syslog, mail);
            Response::Done
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
        Request::Alerts { limit } => match engine.alerts(limit) {
            Ok(events) => Response::Alerts { events },
            Err(error) => error.into_response(),
        },
    }
}
