//! A membership whose connection to etcd breaks while etcd still keeps its lease connects
//! again on the same lease: no `Lost` (which stops every group the server carries), and the
//! other servers never see it go. Only a silence longer than the limit is `Lost`. The
//! connection runs through a loopback proxy that the test cuts. Skips without `etcd`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clp_cluster::{Change, Membership, Presence, Session};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

mod common;
use common::{etcd_or_skip, losses, recorder};

/// A TCP proxy on loopback to etcd: [`Proxy::cut`] resets every connection through it, and
/// while it [`Proxy::refuses`] it closes each new one at once.
struct Proxy {
    port: u16,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    refusing: Arc<AtomicBool>,
    accept: JoinHandle<()>,
}

impl Proxy {
    async fn to(target: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let port = listener.local_addr().expect("its address").port();
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let refusing = Arc::new(AtomicBool::new(false));
        let accept = tokio::spawn({
            let connections = Arc::clone(&connections);
            let refusing = Arc::clone(&refusing);
            async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if refusing.load(Ordering::SeqCst) {
                        continue;
                    }
                    let forward = tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", target)).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    connections.lock().unwrap().push(forward);
                }
            }
        });
        Proxy {
            port,
            connections,
            refusing,
            accept,
        }
    }

    /// Ends every connection through the proxy (both sides closed at once).
    fn cut(&self) {
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    /// Whether new connections are closed as they come.
    fn refuses(&self, refusing: bool) {
        self.refusing.store(refusing, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

/// Server `local` of a two-server cluster through `port`: renewed every half second, a
/// 4 s timeout (silence limit 2 s).
fn settings(cluster: &str, local: &str, port: u16) -> clp_cluster::Settings {
    clp_cluster::Settings {
        timeout: Duration::from_secs(4),
        ..common::settings(cluster, local, &["a", "b"], port)
    }
}

/// The next session handed out after the one seen last, within `within`.
async fn next_session(
    sessions: &mut tokio::sync::watch::Receiver<Option<Session>>,
    within: Duration,
) -> Option<Session> {
    tokio::time::timeout(within, sessions.changed())
        .await
        .expect("a new session in time")
        .expect("the membership runs");
    sessions.borrow_and_update().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_connection_is_mended_on_the_same_lease_and_only_a_long_silence_is_lost() {
    let Some((client, _etcd)) = etcd_or_skip() else {
        return;
    };
    let proxy = Proxy::to(client).await;
    let cluster = format!("reconnect{}", std::process::id());
    let (a_changes, a_heard) = recorder();
    let a = Membership::start(settings(&cluster, "a", proxy.port), a_heard);
    let (b_changes, b_heard) = recorder();
    let b = Membership::start(settings(&cluster, "b", client), b_heard);
    common::wait_until("a sees b", Duration::from_secs(20), || {
        a.view().presence("b") == Presence::Online && a.session().is_some()
    })
    .await;
    common::wait_until("b sees a", Duration::from_secs(20), || {
        b.view().presence("a") == Presence::Online
    })
    .await;
    let lease = a.session().expect("a's session").lease;
    let mut sessions = a.sessions();
    sessions.borrow_and_update();

    // Three cuts, each mended on the same lease well within the silence limit.
    for cut in 0..3 {
        let cut_at = Instant::now();
        proxy.cut();
        let mended = loop {
            match next_session(&mut sessions, Duration::from_secs(3)).await {
                Some(session) => break session,
                None => continue,
            }
        };
        assert_eq!(mended.lease, lease, "cut {cut}: a took another lease");
        assert!(
            cut_at.elapsed() < Duration::from_secs(2),
            "cut {cut}: mended after {:?}",
            cut_at.elapsed()
        );
        assert_eq!(a.view().presence("b"), Presence::Online, "cut {cut}");
        assert!(a.view().problem.is_none(), "cut {cut}: {:?}", a.view());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(
        losses(&a_changes).is_empty(),
        "a broken connection was taken for a lost cluster: {:?}",
        a_changes.lock().unwrap()
    );
    assert!(
        !b_changes
            .lock()
            .unwrap()
            .contains(&Change::Down("a".into())),
        "b saw a go: {:?}",
        b_changes.lock().unwrap()
    );

    // Cut off for longer than the silence limit: Lost, then a new lease once it is back.
    proxy.refuses(true);
    proxy.cut();
    common::wait_until("a says it lost etcd", Duration::from_secs(5), || {
        !losses(&a_changes).is_empty()
    })
    .await;
    proxy.refuses(false);
    common::wait_until("a is back", Duration::from_secs(20), || {
        a.session().is_some_and(|session| session.lease != lease)
    })
    .await;
    assert_eq!(
        a_changes.lock().unwrap().last(),
        Some(&Change::Regained),
        "{:?}",
        a_changes.lock().unwrap()
    );
    a.leave().await;
    b.leave().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_joined_through_another_member_returns_to_its_own_on_the_same_lease() {
    let Some((client, _etcd)) = etcd_or_skip() else {
        return;
    };
    // "Its own member" is the proxy, which does not answer at first.
    let own = Proxy::to(client).await;
    own.refuses(true);
    let cluster = format!("home{}", std::process::id());
    let (changes, heard) = recorder();
    let a = Membership::start(
        clp_cluster::Settings {
            endpoints: vec![
                format!("http://127.0.0.1:{}", own.port),
                format!("http://127.0.0.1:{client}"),
            ],
            ..settings(&cluster, "a", client)
        },
        heard,
    );
    let joined = common::session_of(&a).await;
    let mut sessions = a.sessions();
    sessions.borrow_and_update();
    assert!(
        own.connections.lock().unwrap().is_empty(),
        "a joined through its own member while it refused"
    );
    // Its own member answers again: a goes back to it within a look, on the same lease.
    own.refuses(false);
    let back = loop {
        match next_session(&mut sessions, Duration::from_secs(10)).await {
            Some(session) => break session,
            None => continue,
        }
    };
    assert_eq!(back.lease, joined.lease, "a took another lease to go back");
    assert!(
        !own.connections.lock().unwrap().is_empty(),
        "the new session does not go through a's own member"
    );
    assert!(losses(&changes).is_empty(), "{:?}", changes.lock().unwrap());
    a.leave().await;
}
