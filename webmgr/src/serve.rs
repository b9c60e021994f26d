//! The WebManager's own accept loop, on hyper's HTTP/1.1 connections, so that a client
//! cannot hold the server with what it does not send:
//!
//! - at most `max_connections` connections are served at once; one more is answered
//!   `503` (plain HTTP) or simply closed (HTTPS) at once, without being read;
//! - the TLS handshake and every request's headers must arrive within `header_timeout`
//!   (hyper's header read timeout, which also ends a kept-alive connection that does not
//!   start its next request in that time), and a request's body within `header_timeout`
//!   of its head (`Deadline`: a body trickled a byte at a time would otherwise hold the
//!   connection, its handler waiting on it);
//! - a connection that neither reads nor writes a byte for `idle_timeout` while no handler
//!   is working on one of its requests is closed (a client that stops reading a download
//!   or a live view). The live views send a keep-alive comment often enough to stay open.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

/// The limits of `[webmanager]`.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The TLS handshake and each request's headers.
    pub header_timeout: Duration,
    /// No byte either way while no handler works.
    pub idle_timeout: Duration,
    /// Connections at once.
    pub max_connections: usize,
}

/// The most a connection buffers of what it reads (request heads).
const READ_BUFFER: usize = 64 * 1024;

/// What a client over the cap gets before the connection is closed.
const OVER_CAP: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Type: text/plain\r\nContent-Length: 45\r\n\r\nclpwebmgr: too many connections, retry later\n";

/// Serves `router` on `listener` until `stop` turns true, then lets open connections
/// finish for at most `grace`.
pub async fn serve(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
    grace: Duration,
) {
    let max = limits.max_connections.max(1);
    let slots = Arc::new(Semaphore::new(max));
    let (closing, closing_seen) = watch::channel(false);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|stop| *stop) => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of descriptors or a connection reset before it was taken: wait a
                // moment rather than spin.
                tracing::warn!("accepting a connection: {error}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            if tls.is_none() {
                let _ = stream.try_write(OVER_CAP);
            }
            tracing::debug!("{peer}: refused, {max} connections are open");
            continue;
        };
        let connection = Connection {
            peer,
            router: router.clone(),
            limits,
            closing: closing_seen.clone(),
        };
        let tls = tls.clone();
        tokio::spawn(async move {
            connection.run(stream, tls).await;
            drop(slot);
        });
    }
    let _ = closing.send(true);
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(grace, slots.acquire_many(all)).await;
}

struct Connection {
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    closing: watch::Receiver<bool>,
}

impl Connection {
    async fn run(self, stream: TcpStream, tls: Option<tokio_rustls::TlsAcceptor>) {
        let activity = Arc::new(Activity::new());
        match tls {
            None => self.http(Tracked::new(stream, &activity), activity).await,
            Some(acceptor) => {
                let handshake =
                    tokio::time::timeout(self.limits.header_timeout, acceptor.accept(stream)).await;
                match handshake {
                    Ok(Ok(stream)) => self.http(Tracked::new(stream, &activity), activity).await,
                    Ok(Err(error)) => tracing::debug!("{}: TLS handshake: {error}", self.peer),
                    Err(_) => tracing::debug!("{}: TLS handshake timed out", self.peer),
                }
            }
        }
    }

    async fn http<S>(mut self, io: Tracked<S>, activity: Arc<Activity>)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let peer = self.peer;
        let router = self.router.clone();
        let limits = self.limits;
        let working = Arc::clone(&activity);
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let router = router.clone();
            let busy = Busy::new(&working);
            let body_within = limits.header_timeout;
            async move {
                let request = request.map(|body| Body::new(Deadline::new(body, body_within)));
                let response = router.oneshot(request).await;
                drop(busy);
                response
            }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.limits.header_timeout)
            // A request's head fits in 64 KiB (hyper's default allows ~400 KiB): with
            // `max_connections` open, buffered heads stay within 16 MiB by default.
            .max_buf_size(READ_BUFFER)
            .max_header_size(READ_BUFFER)
            .keep_alive(true);
        let connection = builder.serve_connection(TokioIo::new(io), service);
        tokio::pin!(connection);
        let idle = self.limits.idle_timeout;
        let mut tick = tokio::time::interval(
            (idle / 4).clamp(Duration::from_millis(50), Duration::from_secs(1)),
        );
        let mut closing = false;
        loop {
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!("{peer}: {error}");
                    }
                    return;
                }
                changed = self.closing.changed(), if !closing => {
                    closing = true;
                    if changed.is_ok() {
                        connection.as_mut().graceful_shutdown();
                    }
                }
                _ = tick.tick() => {
                    if activity.working.load(Ordering::Relaxed) == 0 && activity.quiet_for() >= idle {
                        tracing::debug!("{peer}: idle for {idle:?}, closed");
                        return;
                    }
                }
            }
        }
    }
}

/// A request body that must have arrived whole by a deadline: past it, reading it fails
/// (the handler answers 400 and the connection closes) instead of waiting on a client that
/// sends a byte now and then.
struct Deadline<B> {
    inner: B,
    expires: Pin<Box<tokio::time::Sleep>>,
    within: Duration,
}

impl<B> Deadline<B> {
    fn new(inner: B, within: Duration) -> Deadline<B> {
        Deadline {
            inner,
            expires: Box::pin(tokio::time::sleep(within)),
            within,
        }
    }
}

/// The error of a body that missed its [`Deadline`].
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?} (header_timeout)")]
struct BodyTooSlow(Duration);

impl<B> http_body::Body for Deadline<B>
where
    B: http_body::Body + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = B::Data;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        match self.expires.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(BodyTooSlow(self.within).into()))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// When a connection last moved a byte, and how many of its requests a handler works on.
#[derive(Debug)]
struct Activity {
    start: Instant,
    last_millis: AtomicU64,
    working: AtomicUsize,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            start: Instant::now(),
            last_millis: AtomicU64::new(0),
            working: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_millis.store(now, Ordering::Relaxed);
    }

    fn quiet_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_millis.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// A handler at work on a request of the connection (until its response is ready).
struct Busy(Arc<Activity>);

impl Busy {
    fn new(activity: &Arc<Activity>) -> Busy {
        activity.working.fetch_add(1, Ordering::Relaxed);
        Busy(Arc::clone(activity))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.working.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

/// A stream that notes each byte it moves in its [`Activity`].
struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S> Tracked<S> {
    fn new(inner: S, activity: &Arc<Activity>) -> Tracked<S> {
        Tracked {
            inner,
            activity: Arc::clone(activity),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(written)) = &polled
            && *written > 0
        {
            self.activity.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
