//! `miiw`: the link of one network interface (NIC link up/down).
//!
//! Parameter: `object`, the interface name (the original's `parameters/object`), required.
//!
//! Each check reads `/sys/class/net/<object>/`: `flags` (administratively up?), `carrier`
//! (link detected?) and `operstate` (RFC 2863 state). The link is up when the interface is
//! administratively up, has a carrier and its operstate is `up` (or `unknown`, which drivers
//! without link reporting, like `lo`, show). Reading `carrier` of an interface that is
//! administratively down fails with EINVAL: that counts as no carrier.
//!
//! Between checks, a netlink listener (a `NETLINK_ROUTE` socket in the `RTMGRP_LINK`
//! multicast group, started at the first check and ended by `stop`) notes the first moment
//! the link went down; each check first has it read every event the kernel queued, so an
//! event is never counted for the wrong check. A link that went down and came back between
//! two healthy checks is
//! reported as a Warning (`rm 4`), so a flapping cable is seen even when every check
//! happens to find it up. Reporting the moment of a link-down as a failure, without waiting
//! for the next check, needs a way for a probe to wake the engine's scheduler (see the
//! [`Probe`] trait: today only `pidw`'s target process exit is event-driven).
//!
//! Defaults: interval 10 s, timeout 60 s, retry 3 (the reference's recalled values, §4 \[M\]).
//! Detail codes (ours; the original's are not known): [`LINK_DOWN`], [`NOT_FOUND`],
//! [`UNREADABLE`]; warning [`LINK_FLAPPED`].

use chrono::{DateTime, Local};
use clp_core::monitor::miiw::*;
use clp_core::monitor::spec::ProbeSettings;
use clp_core::monitor::{CheckFuture, CheckOutcome, Probe, ProbeContext};
use clp_core::os_action::OsActions;
use nix::sys::socket::{
    AddressFamily, NetlinkAddr, SockFlag, SockProtocol, SockType, bind, recvfrom, setsockopt,
    socket, sockopt,
};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::unix::AsyncFd;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

/// `IFF_LOWER_UP`: the driver reports a carrier.
const IFF_LOWER_UP: u32 = 0x1_0000;

/// `IFF_UP`: administratively up.
const IFF_UP: u32 = 0x1;

/// Where the kernel shows the interfaces of the daemon's network namespace.
const SYS_CLASS_NET: &str = "/sys/class/net";

/// Builds the probe of a validated monitor ([`clp_core::monitor::spec::BuildProbe`]).
pub fn build(config: &ProbeSettings<'_>, _: &OsActions) -> Result<Box<dyn Probe>, String> {
    let (params, problems) = parse(config.parameters);
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    Ok(Box::new(Miiw::new(params)))
}

/// The miiw probe.
#[derive(Debug)]
pub struct Miiw {
    object: String,
    /// `/sys/class/net`, or a test's own sysfs mount.
    sysfs: PathBuf,
    listener: Option<Listener>,
    /// The listener could not start (logged once).
    listener_failed: bool,
    /// The last check found the link down.
    was_down: bool,
    /// Fired by the listener when the link goes down, so the engine checks at once.
    went_down: Arc<Notify>,
}

impl Miiw {
    /// A probe of the interface `params.object`.
    pub fn new(params: MiiwParams) -> Miiw {
        Miiw {
            object: params.object,
            sysfs: PathBuf::from(SYS_CLASS_NET),
            listener: None,
            listener_failed: false,
            was_down: false,
            went_down: Arc::new(Notify::new()),
        }
    }

    /// Reads the interfaces from `sysfs` (a `class/net` folder) instead of `/sys/class/net`.
    pub fn with_sysfs(mut self, sysfs: PathBuf) -> Miiw {
        self.sysfs = sysfs;
        self
    }

    /// Starts the netlink listener when it is not running (first check, after a stop, or
    /// after it ended on an error).
    fn ensure_listener(&mut self) {
        if self
            .listener
            .as_ref()
            .is_some_and(|l| !l.task.is_finished())
        {
            return;
        }
        match Listener::start(self.object.clone(), Arc::clone(&self.went_down)) {
            Ok(listener) => {
                self.listener = Some(listener);
                self.listener_failed = false;
            }
            Err(error) => {
                self.listener = None;
                if !self.listener_failed {
                    tracing::warn!(
                        "cannot listen to link events ({error}); the link is read at each check only"
                    );
                }
                self.listener_failed = true;
            }
        }
    }
}

impl Probe for Miiw {
    fn check(&mut self, _: ProbeContext) -> CheckFuture<'_> {
        Box::pin(async move {
            self.ensure_listener();
            let went_down = match &self.listener {
                Some(listener) => listener.take().await,
                None => None,
            };
            let (sysfs, object) = (self.sysfs.clone(), self.object.clone());
            let reading = tokio::task::spawn_blocking(move || read_link(&sysfs, &object))
                .await
                .unwrap_or_else(|error| LinkReading::Unreadable(error.to_string()));
            let outcome = judge(&self.object, &reading, went_down.as_ref(), self.was_down);
            self.was_down = matches!(outcome, CheckOutcome::Failure { .. });
            outcome
        })
    }

    fn stop(&mut self) {
        if let Some(listener) = self.listener.take() {
            listener.task.abort();
        }
    }

    fn wake(&self) -> Option<Arc<Notify>> {
        Some(Arc::clone(&self.went_down))
    }
}

impl Drop for Miiw {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What `/sys/class/net/<name>/` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkReading {
    /// No such interface.
    Missing,
    /// A file could not be read (why).
    Unreadable(String),
    /// The interface's state.
    Present {
        /// `IFF_UP` is set.
        admin_up: bool,
        /// `carrier` reads 1.
        carrier: bool,
        /// `operstate`.
        operstate: String,
    },
}

/// Reads the state of interface `name` under `sysfs` (blocking: small sysfs reads).
pub fn read_link(sysfs: &Path, name: &str) -> LinkReading {
    let folder = sysfs.join(name);
    let read = |file: &str| -> Result<String, LinkReading> {
        let path = folder.join(file);
        std::fs::read_to_string(&path)
            .map(|text| text.trim().to_string())
            .map_err(|error| match error.kind() {
                io::ErrorKind::NotFound => LinkReading::Missing,
                _ => LinkReading::Unreadable(format!("{}: {error}", path.display())),
            })
    };
    let state = (|| {
        let operstate = read("operstate")?;
        let flags = read("flags")?;
        let flags = u32::from_str_radix(flags.trim_start_matches("0x"), 16).map_err(|_| {
            LinkReading::Unreadable(format!(
                "{}/flags: \"{flags}\" is not a number",
                folder.display()
            ))
        })?;
        // Fails with EINVAL while the interface is administratively down: no carrier.
        let carrier = read("carrier").is_ok_and(|carrier| carrier == "1");
        Ok(LinkReading::Present {
            admin_up: flags & IFF_UP != 0,
            carrier,
            operstate,
        })
    })();
    state.unwrap_or_else(|reading| reading)
}

/// The outcome of a check: the reading, and what the listener saw since the last check.
fn judge(
    name: &str,
    reading: &LinkReading,
    went_down: Option<&LinkDown>,
    was_down: bool,
) -> CheckOutcome {
    let down = |detail: String| CheckOutcome::Failure {
        code: LINK_DOWN,
        detail,
    };
    match reading {
        LinkReading::Missing => CheckOutcome::Failure {
            code: NOT_FOUND,
            detail: format!("NIC {name} does not exist."),
        },
        LinkReading::Unreadable(why) => CheckOutcome::Failure {
            code: UNREADABLE,
            detail: format!("Cannot read the state of NIC {name}: {why}."),
        },
        LinkReading::Present {
            admin_up: false,
            operstate,
            ..
        } => down(format!(
            "NIC {name} is administratively down (operstate {operstate})."
        )),
        LinkReading::Present {
            carrier: false,
            operstate,
            ..
        } => down(format!(
            "NIC {name} has no carrier: the link is down (operstate {operstate})."
        )),
        LinkReading::Present { operstate, .. } if operstate != "up" && operstate != "unknown" => {
            down(format!(
                "NIC {name} is not operational (operstate {operstate})."
            ))
        }
        LinkReading::Present { .. } => match went_down {
            Some(event) if !was_down => CheckOutcome::Warning {
                code: LINK_FLAPPED,
                detail: format!(
                    "NIC {name} lost its link at {} ({}) and had it back at this check.",
                    event.at.format("%H:%M:%S%.3f"),
                    event.why
                ),
            },
            _ => CheckOutcome::Normal,
        },
    }
}

/// The first link-down the listener saw since the last check.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LinkDown {
    at: DateTime<Local>,
    why: String,
}

/// A check's question to the listener: the first link-down since the last question.
type Question = oneshot::Sender<Option<LinkDown>>;

/// The netlink listener of one interface's link events: a task that reads them as they
/// come, so none is lost to a full queue between two checks.
#[derive(Debug)]
struct Listener {
    task: JoinHandle<()>,
    questions: mpsc::Sender<Question>,
}

impl Listener {
    /// Opens the netlink socket and starts the listening task (inside the runtime).
    fn start(name: String, went_down: Arc<Notify>) -> io::Result<Listener> {
        let fd = socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkRoute,
        )?;
        // A burst of events (many interfaces changing at once) should not overflow the
        // queue; if it does, the check still reads /sys.
        let _ = setsockopt(&fd, sockopt::RcvBuf, &(256 * 1024));
        bind(
            fd.as_raw_fd(),
            &NetlinkAddr::new(0, libc::RTMGRP_LINK as u32),
        )?;
        // SAFETY: the OwnedFd owns its descriptor, which stays open and the same until the
        // AsyncFd drops it (it is never swapped through get_mut).
        let fd = unsafe { AsyncFd::register(fd) }?;
        let (questions, asked) = mpsc::channel(1);
        let task = tokio::spawn(async move {
            if let Err(error) = listen(fd, &name, asked, went_down).await {
                tracing::warn!("the link event listener of {name} ended: {error}");
            }
        });
        Ok(Listener { task, questions })
    }

    /// The first link-down since the last call, counting every event the kernel sent
    /// before this call (`None` also when the listener has ended).
    async fn take(&self) -> Option<LinkDown> {
        let (question, answer) = oneshot::channel();
        self.questions.send(question).await.ok()?;
        answer.await.ok().flatten()
    }
}

/// What the listener task keeps between two checks.
struct Events<'a> {
    name: &'a str,
    buffer: Vec<u8>,
    went_down: Option<LinkDown>,
    wake: Arc<Notify>,
}

impl Events<'_> {
    /// Reads one datagram if one is queued (`false` when none is).
    fn read_one(&mut self, fd: &OwnedFd) -> io::Result<bool> {
        let (length, sender) = match recvfrom::<NetlinkAddr>(fd.as_raw_fd(), &mut self.buffer) {
            Ok(received) => received,
            Err(nix::errno::Errno::EAGAIN) => return Ok(false),
            Err(nix::errno::Errno::EINTR) => return Ok(true),
            Err(nix::errno::Errno::ENOBUFS) => {
                tracing::warn!(
                    "link events of {} were lost (queue full); checks still read /sys",
                    self.name
                );
                return Ok(true);
            }
            Err(error) => return Err(error.into()),
        };
        // Only the kernel (port 0) speaks for the links.
        if sender.is_some_and(|sender| sender.pid() == 0) {
            for why in link_events(&self.buffer[..length], self.name)
                .into_iter()
                .flatten()
            {
                if self.went_down.is_none() {
                    self.wake.notify_one();
                }
                self.went_down.get_or_insert_with(|| LinkDown {
                    at: Local::now(),
                    why,
                });
            }
        }
        Ok(true)
    }
}

async fn listen(
    fd: AsyncFd<OwnedFd>,
    name: &str,
    mut asked: mpsc::Receiver<Question>,
    wake: Arc<Notify>,
) -> io::Result<()> {
    let mut events = Events {
        name,
        buffer: vec![0u8; 64 * 1024],
        went_down: None,
        wake,
    };
    loop {
        tokio::select! {
            question = asked.recv() => {
                let Some(question) = question else {
                    return Ok(());
                };
                // Everything the kernel queued so far counts for this check.
                while events.read_one(fd.get_ref())? {}
                let _ = question.send(events.went_down.take());
            }
            ready = fd.readable() => {
                let mut guard = ready?;
                let read = guard.try_io(|fd| match events.read_one(fd.get_ref()) {
                    Ok(false) => Err(io::ErrorKind::WouldBlock.into()),
                    other => other,
                });
                if let Ok(result) = read {
                    result?;
                }
            }
        }
    }
}

const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const IFLA_IFNAME: u16 = 3;
const IFLA_OPERSTATE: u16 = 16;
const IFLA_CARRIER: u16 = 33;
/// The operstates of a working link: IF_OPER_UNKNOWN, IF_OPER_UP.
const OPERATIONAL: [u8; 2] = [0, 6];

/// The link events of interface `name` in one netlink datagram, in order: `None` when the
/// link is up, `Some(why)` when it is down.
fn link_events(datagram: &[u8], name: &str) -> Vec<Option<String>> {
    let mut events = Vec::new();
    let mut rest = datagram;
    while rest.len() >= 16 {
        let length = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if length < 16 || length > rest.len() {
            break;
        }
        let kind = u16::from_ne_bytes([rest[4], rest[5]]);
        if (kind == RTM_NEWLINK || kind == RTM_DELLINK)
            && let Some(event) = link_event(kind, &rest[16..length], name)
        {
            events.push(event);
        }
        rest = rest.get(align4(length)..).unwrap_or_default();
    }
    events
}

fn align4(length: usize) -> usize {
    (length + 3) & !3
}

/// One `ifinfomsg` and its attributes, when it is about interface `name`.
fn link_event(kind: u16, message: &[u8], name: &str) -> Option<Option<String>> {
    let header = message.get(..16)?;
    let flags = u32::from_ne_bytes([header[8], header[9], header[10], header[11]]);
    let (mut ifname, mut operstate, mut carrier) = (None, None, None);
    let mut attributes = &message[16..];
    while attributes.len() >= 4 {
        let length = usize::from(u16::from_ne_bytes([attributes[0], attributes[1]]));
        if length < 4 || length > attributes.len() {
            break;
        }
        let value = &attributes[4..length];
        match u16::from_ne_bytes([attributes[2], attributes[3]]) & 0x3fff {
            IFLA_IFNAME => {
                let end = value.iter().position(|b| *b == 0).unwrap_or(value.len());
                ifname = Some(&value[..end]);
            }
            IFLA_OPERSTATE => operstate = value.first().copied(),
            IFLA_CARRIER => carrier = value.first().copied(),
            _ => {}
        }
        attributes = attributes.get(align4(length)..).unwrap_or_default();
    }
    if ifname? != name.as_bytes() {
        return None;
    }
    let why = if kind == RTM_DELLINK {
        Some("removed".to_string())
    } else if flags & IFF_UP == 0 {
        Some("administratively down".to_string())
    } else if flags & IFF_LOWER_UP == 0 || carrier == Some(0) {
        Some("no carrier".to_string())
    } else {
        operstate
            .filter(|state| !OPERATIONAL.contains(state))
            .map(|state| format!("operstate {}", operstate_name(state)))
    };
    Some(why)
}

/// RFC 2863 names, as `/sys/class/net/*/operstate` spells them.
fn operstate_name(state: u8) -> &'static str {
    match state {
        0 => "unknown",
        1 => "notpresent",
        2 => "down",
        3 => "lowerlayerdown",
        4 => "testing",
        5 => "dormant",
        6 => "up",
        _ => "?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::private_netns;
    use std::process::Command;
    use std::time::{Duration, Instant};

    fn table(text: &str) -> toml::Table {
        text.parse().unwrap()
    }

    #[test]
    fn the_object_is_required_and_must_be_an_interface_name() {
        let (params, problems) = parse(&table("object = \"eth0\""));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(params.object, "eth0");
        let (_, problems) = parse(&table(""));
        assert_eq!(problems, ["key \"object\" is missing"]);
        for bad in ["", "a-very-long-name0", "../x", "eth0:1", "eth 0", ".."] {
            let (_, problems) = parse(&table(&format!("object = \"{bad}\"")));
            assert_eq!(problems.len(), 1, "{bad}: {problems:?}");
        }
        let (_, problems) = parse(&table("object = 3\nobjct = \"eth0\""));
        let all = problems.join("\n");
        assert!(all.contains("did you mean \"object\""), "{all}");
        assert!(all.contains("key \"object\": 3 is not a string"), "{all}");
    }

    fn fake_interface(
        root: &Path,
        name: &str,
        flags: &str,
        carrier: Option<&str>,
        operstate: &str,
    ) {
        let folder = root.join(name);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("flags"), format!("{flags}\n")).unwrap();
        std::fs::write(folder.join("operstate"), format!("{operstate}\n")).unwrap();
        match carrier {
            Some(carrier) => {
                std::fs::write(folder.join("carrier"), format!("{carrier}\n")).unwrap()
            }
            // Unreadable, like the EINVAL of an administratively down interface.
            None => std::fs::create_dir(folder.join("carrier")).unwrap(),
        }
    }

    #[test]
    fn sysfs_readings() {
        let root = tempfile::tempdir().unwrap();
        fake_interface(root.path(), "up0", "0x1003", Some("1"), "up");
        fake_interface(root.path(), "off0", "0x1002", None, "down");
        fake_interface(root.path(), "bad0", "zz", Some("1"), "up");
        assert_eq!(
            read_link(root.path(), "up0"),
            LinkReading::Present {
                admin_up: true,
                carrier: true,
                operstate: "up".into()
            }
        );
        assert_eq!(
            read_link(root.path(), "off0"),
            LinkReading::Present {
                admin_up: false,
                carrier: false,
                operstate: "down".into()
            }
        );
        assert_eq!(read_link(root.path(), "none0"), LinkReading::Missing);
        assert!(
            matches!(read_link(root.path(), "bad0"), LinkReading::Unreadable(why) if why.contains("is not a number"))
        );
    }

    #[test]
    fn verdicts() {
        let present = |admin_up, carrier, operstate: &str| LinkReading::Present {
            admin_up,
            carrier,
            operstate: operstate.into(),
        };
        let failure = |code, detail: &str| CheckOutcome::Failure {
            code,
            detail: detail.into(),
        };
        assert_eq!(
            judge("v0", &present(true, true, "up"), None, false),
            CheckOutcome::Normal
        );
        assert_eq!(
            judge("lo", &present(true, true, "unknown"), None, false),
            CheckOutcome::Normal
        );
        assert_eq!(
            judge("v0", &present(false, false, "down"), None, false),
            failure(
                LINK_DOWN,
                "NIC v0 is administratively down (operstate down)."
            )
        );
        assert_eq!(
            judge("v0", &present(true, false, "lowerlayerdown"), None, false),
            failure(
                LINK_DOWN,
                "NIC v0 has no carrier: the link is down (operstate lowerlayerdown)."
            )
        );
        assert_eq!(
            judge("v0", &present(true, true, "dormant"), None, false),
            failure(LINK_DOWN, "NIC v0 is not operational (operstate dormant).")
        );
        assert_eq!(
            judge("v9", &LinkReading::Missing, None, false),
            failure(NOT_FOUND, "NIC v9 does not exist.")
        );
        assert_eq!(
            judge(
                "v0",
                &LinkReading::Unreadable("x: denied".into()),
                None,
                false
            ),
            failure(UNREADABLE, "Cannot read the state of NIC v0: x: denied.")
        );
        let at = Local::now();
        let flap = LinkDown {
            at,
            why: "no carrier".into(),
        };
        assert_eq!(
            judge("v0", &present(true, true, "up"), Some(&flap), false),
            CheckOutcome::Warning {
                code: LINK_FLAPPED,
                detail: format!(
                    "NIC v0 lost its link at {} (no carrier) and had it back at this check.",
                    at.format("%H:%M:%S%.3f")
                )
            }
        );
        // The end of an outage the last check reported is no flap.
        assert_eq!(
            judge("v0", &present(true, true, "up"), Some(&flap), true),
            CheckOutcome::Normal
        );
    }

    /// A netlink message: header, ifinfomsg with `flags`, attributes.
    fn newlink(kind: u16, flags: u32, attributes: &[(u16, &[u8])]) -> Vec<u8> {
        let mut body = vec![0u8; 16];
        body[8..12].copy_from_slice(&flags.to_ne_bytes());
        for (kind, value) in attributes {
            let length = 4 + value.len();
            body.extend_from_slice(&(length as u16).to_ne_bytes());
            body.extend_from_slice(&kind.to_ne_bytes());
            body.extend_from_slice(value);
            body.resize(align4(body.len()), 0);
        }
        let mut message = ((16 + body.len()) as u32).to_ne_bytes().to_vec();
        message.extend_from_slice(&kind.to_ne_bytes());
        message.extend_from_slice(&[0; 10]);
        message.extend(body);
        message
    }

    #[test]
    fn netlink_link_messages() {
        let up = IFF_UP | IFF_LOWER_UP;
        let mut datagram = newlink(
            RTM_NEWLINK,
            up,
            &[(IFLA_IFNAME, b"v0\0"), (IFLA_OPERSTATE, &[6])],
        );
        datagram.extend(newlink(
            RTM_NEWLINK,
            IFF_UP,
            &[(IFLA_IFNAME, b"v0\0"), (IFLA_OPERSTATE, &[2])],
        ));
        datagram.extend(newlink(RTM_NEWLINK, 0, &[(IFLA_IFNAME, b"v1\0")]));
        datagram.extend(newlink(RTM_NEWLINK, 0, &[(IFLA_IFNAME, b"v0\0")]));
        datagram.extend(newlink(
            RTM_NEWLINK,
            up,
            &[(IFLA_IFNAME, b"v0\0"), (IFLA_OPERSTATE, &[5])],
        ));
        datagram.extend(newlink(RTM_DELLINK, up, &[(IFLA_IFNAME, b"v0\0")]));
        datagram.extend(newlink(
            RTM_NEWLINK,
            up,
            &[(IFLA_IFNAME, b"v0\0"), (IFLA_CARRIER, &[0])],
        ));
        assert_eq!(
            link_events(&datagram, "v0"),
            [
                None,
                Some("no carrier".to_string()),
                Some("administratively down".to_string()),
                Some("operstate dormant".to_string()),
                Some("removed".to_string()),
                Some("no carrier".to_string()),
            ]
        );
        // Truncated or garbage input ends the walk quietly.
        assert!(link_events(&datagram[..20], "v0").is_empty());
        assert!(link_events(&[0xff; 40], "v0").is_empty());
    }

    fn ip(args: &[&str]) {
        let status = Command::new("ip").args(args).status().unwrap();
        assert!(status.success(), "ip {}", args.join(" "));
    }

    fn check(runtime: &tokio::runtime::Runtime, probe: &mut Miiw) -> CheckOutcome {
        let context = ProbeContext {
            lateness: Duration::ZERO,
            timeout: Duration::from_secs(5),
            target_process: None,
        };
        runtime.block_on(probe.check(context))
    }

    #[test]
    fn a_link_lost_and_back_between_checks_is_a_warning_in_a_private_netns() {
        if !private_netns::is_root() {
            eprintln!("skipped: needs root (a private network namespace)");
            return;
        }
        let setup: &[&[&str]] = &[
            &["link", "add", "v0", "type", "veth", "peer", "name", "v1"],
            &["link", "set", "v0", "up"],
            &["link", "set", "v1", "up"],
        ];
        private_netns::run(setup, || {
            let sysfs = tempfile::tempdir().unwrap();
            let _mount = private_netns::mount_sysfs(sysfs.path());
            let net = sysfs.path().join("class/net");
            let runtime = private_netns::runtime();
            // The kernel sets the operstate just before it sends the link event.
            let operstate = |value: &str| {
                let deadline = Instant::now() + Duration::from_secs(5);
                while std::fs::read_to_string(net.join("v0/operstate"))
                    .unwrap_or_default()
                    .trim()
                    != value
                {
                    assert!(Instant::now() < deadline, "v0 never became {value}");
                    std::thread::sleep(Duration::from_millis(10));
                }
            };
            operstate("up");
            let mut probe = Miiw::new(MiiwParams {
                object: "v0".into(),
            })
            .with_sysfs(net.clone());
            assert_eq!(check(&runtime, &mut probe), CheckOutcome::Normal);

            // Lost between two checks, back before the second one: a warning, once.
            ip(&["link", "set", "v1", "down"]);
            operstate("lowerlayerdown");
            ip(&["link", "set", "v1", "up"]);
            operstate("up");
            let outcome = check(&runtime, &mut probe);
            assert!(
                matches!(&outcome, CheckOutcome::Warning { detail, .. } if detail.starts_with("NIC v0 lost its link at ") && detail.ends_with(" (no carrier) and had it back at this check.")),
                "{outcome:?}"
            );
            assert_eq!(check(&runtime, &mut probe), CheckOutcome::Normal);

            // Down at a check: a failure; its end is no flap.
            ip(&["link", "set", "v1", "down"]);
            operstate("lowerlayerdown");
            assert_eq!(
                check(&runtime, &mut probe),
                CheckOutcome::Failure {
                    code: LINK_DOWN,
                    detail: "NIC v0 has no carrier: the link is down (operstate lowerlayerdown)."
                        .into()
                }
            );
            ip(&["link", "set", "v1", "up"]);
            operstate("up");
            assert_eq!(check(&runtime, &mut probe), CheckOutcome::Normal);

            // A stopped probe holds no listener; the next check starts a new one.
            probe.stop();
            assert!(probe.listener.is_none());
            ip(&["link", "set", "v0", "down"]);
            assert_eq!(
                check(&runtime, &mut probe),
                CheckOutcome::Failure {
                    code: LINK_DOWN,
                    detail: "NIC v0 is administratively down (operstate down).".into()
                }
            );
            assert!(probe.listener.is_some());
            ip(&["link", "del", "v0"]);
            assert_eq!(
                check(&runtime, &mut probe),
                CheckOutcome::Failure {
                    code: NOT_FOUND,
                    detail: "NIC v0 does not exist.".into()
                }
            );
        });
    }
}
