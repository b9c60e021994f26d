//! clppm's side of the keeper: starts it (`/proc/self/exe --keeper MARGIN_MS`, in its own
//! process group), tells it the lease's deadline at every renewal and the process groups as
//! they start and stop, and says `bye` at a clean stop.
//!
//! If the keeper dies while clppm runs, clppm starts another at once and tells it the lease
//! and every group again: clppm itself supervises its groups meanwhile (it is the one
//! noticing), so the fence lapses only for one fork and exec. A keeper that cannot be
//! started again, or that dies within a second of its start, leaves clppm unable to promise
//! the fence: it calls `on_lost` (clppm stops in order, and its groups with it).

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::net::IpAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::{mpsc, oneshot, watch};

use super::protocol::{Guarded, Line};
use clp_cluster::LeaseDeadline;
use clp_core::paths::Paths;

/// How long a clean end waits for the keeper to exit.
const END_WAIT: Duration = Duration::from_secs(2);

/// A keeper that dies sooner than this after its start is not started again.
const SHORTEST_LIFE: Duration = Duration::from_secs(1);

/// What the engine tells the keeper: cheap to clone, never blocks.
#[derive(Clone)]
pub struct Link {
    tx: mpsc::UnboundedSender<Message>,
}

impl Link {
    /// Tells the keeper every renewal of the lease in `deadline` until it ends. A group is
    /// told after the lease that was current when the engine started it: never before. Call
    /// it before the engine can own a group under that lease: a group the keeper learns of
    /// before any lease is killed at once.
    pub fn follow(&self, deadline: watch::Receiver<Option<LeaseDeadline>>) {
        let _ = self.tx.send(Message::Follow(deadline));
    }

    /// A resource's process group started (or was adopted): the keeper guards it.
    pub fn guard(&self, pgid: u32) {
        if let Ok(pgid) = i32::try_from(pgid)
            && pgid > 1
        {
            let _ = self.tx.send(Message::Line(Line::Add(Guarded::Group(pgid))));
        }
    }

    /// A floating IP is about to go up: the keeper takes it down when it kills.
    pub fn guard_address(&self, address: IpAddr) {
        let _ = self
            .tx
            .send(Message::Line(Line::Add(Guarded::Address(address))));
    }

    /// A floating IP went down (or never came up).
    pub fn release_address(&self, address: IpAddr) {
        let _ = self
            .tx
            .send(Message::Line(Line::Del(Guarded::Address(address))));
    }

    /// Kills every process group the keeper guards (SIGKILL) and the resource scripts of
    /// this root, and takes every guarded floating IP off, here and now from clppm: what
    /// the keeper would do, before clppm fences its server (an OS action such as a shutdown
    /// takes its time, and nothing of the groups may run or answer meanwhile). What it did,
    /// or `None` without a keeper task.
    pub async fn kill_all(&self) -> Option<String> {
        let (done, wait) = oneshot::channel();
        self.tx.send(Message::KillAll(done)).ok()?;
        wait.await.ok()
    }

    /// A resource's process group stopped or its leader exited.
    pub fn release(&self, pgid: u32) {
        if let Ok(pgid) = i32::try_from(pgid)
            && pgid > 1
        {
            let _ = self.tx.send(Message::Line(Line::Del(Guarded::Group(pgid))));
        }
    }
}

enum Message {
    Line(Line),
    Follow(watch::Receiver<Option<LeaseDeadline>>),
    KillAll(oneshot::Sender<String>),
    End(oneshot::Sender<()>),
}

/// The running keeper, owned by the daemon.
pub struct Keeper {
    link: Link,
}

impl Keeper {
    /// Starts the keeper of the resources under `paths`' root (killing `margin` before a
    /// lease's deadline, writing what it does to the end of the daemon log); `on_lost` runs
    /// when it dies and cannot be replaced. Call inside the tokio runtime.
    pub fn start(
        margin: Duration,
        etcd: Vec<(&'static str, OsString)>,
        paths: &Paths,
        on_lost: impl Fn(String) + Send + 'static,
    ) -> std::io::Result<Keeper> {
        let process = Process::spawn(margin, &etcd, paths)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let task = Task {
            margin,
            etcd,
            paths: paths.clone(),
            process,
            groups: BTreeSet::new(),
            deadline: None,
            lease: None,
            on_lost: Box::new(on_lost),
        };
        tokio::spawn(task.run(rx));
        Ok(Keeper { link: Link { tx } })
    }

    /// The engine's handle.
    pub fn link(&self) -> Link {
        self.link.clone()
    }

    /// Ends the keeper: with `bye` when no group is left to guard; otherwise by closing its
    /// pipe, so that it kills what is left before clppm gives its lease up.
    pub async fn end(self) {
        let (done, wait) = oneshot::channel();
        if self.link.tx.send(Message::End(done)).is_ok() {
            let _ = wait.await;
        }
    }
}

/// One keeper process and the pipe to it.
struct Process {
    child: Child,
    stdin: Option<ChildStdin>,
    started: Instant,
}

impl Process {
    fn spawn(
        margin: Duration,
        etcd: &[(&'static str, OsString)],
        paths: &Paths,
    ) -> std::io::Result<Process> {
        // Its lines go to clppm's log (clppm's stderr is /dev/null once it detached).
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(paths.daemon_log())
            .map_or_else(|_| Stdio::inherit(), Stdio::from);
        let mut child = Command::new("/proc/self/exe")
            .arg0(super::NAME)
            .arg("--keeper")
            .arg(margin.as_millis().to_string())
            // The root whose resource scripts it sweeps, absolute.
            .env(clp_core::paths::ROOT_ENV, paths.root())
            // How it reaches etcd to release the lease after clppm died (`release`).
            .envs(etcd.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(stderr)
            .process_group(0)
            .kill_on_drop(false)
            .spawn()?;
        let stdin = child.stdin.take();
        tracing::info!(
            pid = child.id(),
            "started the keeper of this server's resources"
        );
        Ok(Process {
            child,
            stdin,
            started: Instant::now(),
        })
    }

    /// Writes `line`; a keeper that went away is noticed by its exit.
    async fn send(&mut self, line: Line) {
        if let Some(stdin) = &mut self.stdin
            && stdin.write_all(line.encode().as_bytes()).await.is_err()
        {
            self.stdin = None;
        }
    }
}

struct Task {
    margin: Duration,
    /// The etcd access a keeper is handed ([`super::release::Release::env`]).
    etcd: Vec<(&'static str, OsString)>,
    paths: Paths,
    process: Process,
    /// What the keeper guards, to tell a new one.
    groups: BTreeSet<Guarded>,
    /// The lease's deadline as the membership renews it.
    deadline: Option<watch::Receiver<Option<LeaseDeadline>>>,
    /// The last lease line told.
    lease: Option<Line>,
    on_lost: Box<dyn Fn(String) + Send>,
}

impl Task {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Message>) {
        loop {
            tokio::select! {
                message = rx.recv() => match message {
                    Some(Message::Line(line)) => {
                        if matches!(line, Line::Add(_)) {
                            self.tell_lease().await;
                        }
                        self.note(line);
                        self.process.send(line).await;
                    }
                    Some(Message::Follow(deadline)) => {
                        self.deadline = Some(deadline);
                        self.tell_lease().await;
                    }
                    Some(Message::KillAll(done)) => {
                        let _ = done.send(self.kill_all().await);
                    }
                    Some(Message::End(done)) => {
                        self.end().await;
                        let _ = done.send(());
                        return;
                    }
                    // The daemon dropped its handle without ending: the pipe closes with
                    // the task, and the keeper kills what it guards.
                    None => return,
                },
                changed = renewed(&mut self.deadline) => {
                    if changed {
                        self.tell_lease().await;
                    } else {
                        self.deadline = None;
                    }
                }
                status = self.process.child.wait() => {
                    if !self.replace(status).await {
                        return;
                    }
                }
            }
        }
    }

    /// Tells the keeper the lease's current deadline, when it is new.
    async fn tell_lease(&mut self) {
        let Some(deadline) = &mut self.deadline else {
            return;
        };
        let Some(LeaseDeadline { lease, until }) = *deadline.borrow_and_update() else {
            return;
        };
        let line = Line::Lease {
            lease,
            until: u64::try_from(until.as_nanos()).unwrap_or(u64::MAX),
        };
        if self.lease != Some(line) {
            self.lease = Some(line);
            self.process.send(line).await;
        }
    }

    fn note(&mut self, line: Line) {
        match line {
            Line::Add(guarded) => {
                self.groups.insert(guarded);
            }
            Line::Del(guarded) => {
                self.groups.remove(&guarded);
            }
            Line::Lease { .. } | Line::Bye => {}
        }
    }

    /// [`Link::kill_all`]: everything guarded goes (it stays registered with the keeper,
    /// which finds nothing left to kill).
    async fn kill_all(&mut self) -> String {
        let mut killed = Vec::new();
        let mut addresses = Vec::new();
        for guarded in &self.groups {
            match *guarded {
                Guarded::Group(pgid) => {
                    super::run::kill_group(pgid);
                    killed.push(pgid);
                }
                Guarded::Address(address) => addresses.push(address),
            }
        }
        let root = self.paths.root().display().to_string();
        let swept = super::sweep::sweep(&root, &killed).len();
        let failures = super::run::take_off(&addresses).await;
        let mut said = format!(
            "killed {} process group(s) and {swept} more resource script(s), took {} of {} floating IP(s) off",
            killed.len(),
            addresses.len() - failures.len().min(addresses.len()),
            addresses.len()
        );
        if !failures.is_empty() {
            said.push_str(&format!(" ({})", failures.join("; ")));
        }
        said
    }

    /// The keeper died: start another and tell it everything; false when that fails.
    async fn replace(&mut self, status: std::io::Result<std::process::ExitStatus>) -> bool {
        let how = match status {
            Ok(status) => status.to_string(),
            Err(error) => error.to_string(),
        };
        let lived = self.process.started.elapsed();
        if lived < SHORTEST_LIFE {
            (self.on_lost)(format!(
                "the keeper of this server's resources ended ({how}) {:.1} s after its start",
                lived.as_secs_f64()
            ));
            return false;
        }
        tracing::error!("the keeper of this server's resources ended ({how}); starting another");
        match Process::spawn(self.margin, &self.etcd, &self.paths) {
            Ok(process) => {
                self.process = process;
                if let Some(lease) = self.lease {
                    self.process.send(lease).await;
                }
                let groups: Vec<Guarded> = self.groups.iter().copied().collect();
                for guarded in groups {
                    self.process.send(Line::Add(guarded)).await;
                }
                true
            }
            Err(error) => {
                (self.on_lost)(format!(
                    "the keeper of this server's resources ended ({how}) and cannot be started again: {error}"
                ));
                false
            }
        }
    }

    async fn end(&mut self) {
        if self.groups.is_empty() {
            self.process.send(Line::Bye).await;
        } else {
            tracing::warn!(
                "{} process group(s) still run at the stop: the keeper kills them before the lease is given up",
                self.groups.len()
            );
        }
        self.process.stdin = None;
        if tokio::time::timeout(END_WAIT, self.process.child.wait())
            .await
            .is_err()
        {
            tracing::error!("the keeper did not end within {END_WAIT:?}");
        }
    }
}

/// Whether the lease's deadline changed (`false`: its membership ended); never, without one.
async fn renewed(deadline: &mut Option<watch::Receiver<Option<LeaseDeadline>>>) -> bool {
    match deadline {
        Some(deadline) => deadline.changed().await.is_ok(),
        None => std::future::pending().await,
    }
}
