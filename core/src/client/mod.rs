//! The operators' actions, one function each, for the commands: every action asks the
//! daemon, and where the original works without it (status, alerts, licenses, counters),
//! reads the store itself when the daemon is not running. This is the one place that rule
//! lives; a command parses, calls one of these and renders.

pub mod clppm_process;
pub mod config_push;
pub mod configure;
mod down;
mod error;
pub mod health;
pub mod perf;
pub mod remote;

use std::time::Duration;

pub use down::down;
pub use error::Error;
pub use health::{Health, HealthError, Part, PartHealth};
pub use perf::{GroupPerformance, MonitorPerformance};
pub use remote::{Remote, RemoteError};

use crate::alert::{AlertEvent, AlertFilter};
use crate::config::{self, Config};
use crate::ipc::client::{Client, StatusText};
use crate::ipc::{Request, Response};
use crate::license::{self, License, Removal};
use crate::paths::Paths;
use crate::status::{ClusterStatus, MonitorState, StatusSummary};
use crate::store::Store;

/// The status as [`Session::status_json`] returns it.
#[derive(Debug)]
pub enum StatusJson {
    /// The running daemon's status as `clpstat --json` prints it.
    Pretty(Vec<u8>),
    /// The running daemon's status, as compact JSON (from a daemon older than the pretty
    /// form).
    Compact(CompactStatus),
    /// The status decoded: built from the configuration and the store (the daemon is not
    /// running), or another server's answer through etcd.
    Decoded(ClusterStatus),
}

/// The status summary as [`Session::status_summary`] got it: read it with
/// [`SummaryAnswer::summary`].
#[derive(Debug)]
pub enum SummaryAnswer {
    /// The daemon's answer line: a summary, or an older daemon's whole status.
    Line(Vec<u8>),
    /// Another server's summary, decoded.
    Summary(StatusSummary<'static>),
    /// The whole status: built while the daemon is down, or another server's.
    Status(ClusterStatus),
}

impl SummaryAnswer {
    /// The summary, its strings borrowed from the answer.
    pub fn summary(&self) -> Result<StatusSummary<'_>, Error> {
        match self {
            SummaryAnswer::Line(line) => match crate::ipc::summary_from_line(line) {
                Some(Ok(summary)) => Ok(summary),
                Some(Err(error)) => Err(crate::ipc::client::ClientError::Protocol {
                    message: error.to_string(),
                }
                .into()),
                None => Err(Error::Unexpected(format!(
                    "clppm answered {} to a status request",
                    String::from_utf8_lossy(&line[..line.len().min(200)])
                ))),
            },
            SummaryAnswer::Summary(summary) => Ok(summary.clone()),
            SummaryAnswer::Status(status) => Ok(StatusSummary::from(status)),
        }
    }
}

/// A [`ClusterStatus`] as compact JSON, as the daemon wrote it.
#[derive(Debug)]
pub struct CompactStatus {
    /// The daemon's answer line.
    line: Vec<u8>,
    /// How many bytes of it are the answer's tag, which is not part of the status.
    skip: usize,
}

impl CompactStatus {
    /// The JSON of the status in two pieces (the answer's tag left out between them).
    pub fn parts(&self) -> [&[u8]; 2] {
        [b"{", &self.line[self.skip..]]
    }
}

/// How long a command waits for a daemon that holds its lock but does not answer yet.
const STARTING_WAIT: Duration = Duration::from_secs(10);

/// The configuration file, or an error naming every problem.
pub fn load_config(paths: &Paths) -> Result<Config, Error> {
    Ok(config::load(paths)?)
}

/// One command talking to the daemon of one install root, or (`-h HOST`) to another server
/// of the cluster; the caller's name greets the daemon (it reaches the daemon's log and
/// alerts for the requests that change state).
#[derive(Clone, Copy)]
pub struct Session<'a> {
    paths: &'a Paths,
    caller: &'a str,
    remote: Option<&'a dyn Remote>,
}

impl std::fmt::Debug for Session<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("root", &self.paths.root())
            .field("caller", &self.caller)
            .field("server", &self.remote.map(|remote| remote.server()))
            .finish()
    }
}

impl<'a> Session<'a> {
    /// A session of the command `caller` with the daemon of `paths`.
    pub fn new(paths: &'a Paths, caller: &'a str) -> Self {
        Self {
            paths,
            caller,
            remote: None,
        }
    }

    /// This session's requests sent to another server instead (`None`: the local daemon).
    /// A remote server's answers never fall back to this server's store: a server that
    /// does not run is an error ([`RemoteError::Offline`]), not an offline status.
    pub fn through(self, remote: Option<&'a dyn Remote>) -> Self {
        Self { remote, ..self }
    }

    /// The other server this session asks, if it asks one.
    pub fn remote(&self) -> Option<&'a dyn Remote> {
        self.remote
    }

    /// The install root this session talks about.
    pub fn paths(&self) -> &'a Paths {
        self.paths
    }

    /// Connects to the daemon; a daemon that is starting (it holds its lock but does not
    /// answer yet) is waited for, briefly.
    pub fn connect(&self) -> Result<Client, Error> {
        Ok(clppm_process::connect_when_up(
            self.paths,
            self.caller,
            STARTING_WAIT,
        )?)
    }

    /// [`Session::connect`] for one request: the greeting goes with it, in one write
    /// (a round trip fewer), and the daemon's welcome is read before its answer.
    fn connect_asking(&self) -> Result<Client, Error> {
        Ok(clppm_process::connect_when_up_asking(
            self.paths,
            self.caller,
            STARTING_WAIT,
        )?)
    }

    /// Sends one request and returns the answer.
    pub fn ask(&self, request: &Request) -> Result<Response, Error> {
        match self.remote {
            Some(remote) => Ok(remote.ask(self.caller, request, None)?),
            None => Ok(self.connect_asking()?.request(request, None)?),
        }
    }

    /// Sends one request that changes state and expects `Done`.
    pub fn operate(&self, request: &Request) -> Result<(), Error> {
        match self.ask(request)? {
            Response::Done => Ok(()),
            other => Err(Error::Unexpected(format!(
                "clppm answered {other:?} where it should have confirmed"
            ))),
        }
    }

    /// Moves `group` (every group that can move, when `None`) to the server `to` (the next
    /// server of the group's order that is Online, when `None`) in an HA cluster: this
    /// server's clppm writes the move into etcd, where the owner and the destination carry
    /// it out, and answers once the group is Online on the destination (at most `wait` per
    /// group) or the move failed.
    pub fn move_groups(
        &self,
        group: Option<&str>,
        to: Option<&str>,
        wait: Duration,
    ) -> Result<(), Error> {
        self.operate(&Request::MoveGroup {
            group: group.map(str::to_string),
            to: to.map(str::to_string),
            wait_seconds: wait.as_secs(),
        })
    }

    /// The status from the daemon, or built from the configuration (everything Offline,
    /// the counters from the store when it opens) when the daemon is not running.
    pub fn status(&self) -> Result<ClusterStatus, Error> {
        match self.ask(&Request::STATUS) {
            Ok(Response::Status(status)) => Ok(status),
            Ok(other) => Err(Error::Unexpected(format!(
                "clppm answered {other:?} to a status request"
            ))),
            Err(error) if error.is_not_running() => {
                let config = load_config(self.paths)?;
                let store = Store::open(&self.paths.store_dir()).ok();
                Ok(crate::status::offline_status(&config, store.as_ref()))
            }
            Err(error) => Err(error),
        }
    }

    /// What `clpstat`'s text layouts show of the status ([`StatusSummary`]): from the daemon
    /// a quarter of the whole status (at 1,000 monitors), kept as its answer line to be read
    /// without copying its strings ([`SummaryAnswer::summary`]); built from the
    /// configuration when the daemon is not running, as [`Session::status`].
    pub fn status_summary(&self) -> Result<SummaryAnswer, Error> {
        let request = Request::Status {
            form: crate::ipc::StatusForm::Summary,
        };
        if self.remote.is_some() {
            // Another server's answer comes through etcd, already decoded.
            return match self.ask(&request) {
                Ok(Response::StatusSummary(summary)) => Ok(SummaryAnswer::Summary(summary)),
                // A server whose clppm is older than summaries answers the whole status.
                Ok(Response::Status(status)) => Ok(SummaryAnswer::Status(status)),
                Ok(other) => Err(unexpected(&other)),
                Err(error) => Err(error),
            };
        }
        let answer = self
            .connect_asking()
            .and_then(|mut client| Ok(client.request_line(&request, None)?));
        match answer {
            Ok(line) => Ok(SummaryAnswer::Line(line)),
            Err(error) if error.is_not_running() => self.status().map(SummaryAnswer::Status),
            Err(error) => Err(error),
        }
    }

    /// [`Session::status`] for a command that prints it as JSON: the running daemon sends it
    /// as the text to print (decoding ~0.5 MB of status at 1,000 monitors into structs only
    /// to encode it again was most of `clpstat --json`'s time; re-indenting its compact line
    /// was most of what remained); a daemon older than that form sends its compact line.
    pub fn status_json(&self) -> Result<StatusJson, Error> {
        if self.remote.is_some() {
            // Another server's answer comes through etcd, already decoded.
            return self.status().map(StatusJson::Decoded);
        }
        let answer = self
            .connect_asking()
            .and_then(|mut client| Ok(client.status_text(None)?));
        match answer {
            Ok(StatusText::Pretty(text)) => Ok(StatusJson::Pretty(text)),
            Ok(StatusText::Compact(line)) => match crate::ipc::status_fields(&line) {
                Some(fields) => {
                    let skip = line.len() - fields.len();
                    Ok(StatusJson::Compact(CompactStatus { line, skip }))
                }
                None => Err(Error::Unexpected(format!(
                    "clppm answered {} to a status request",
                    String::from_utf8_lossy(&line[..line.len().min(200)])
                ))),
            },
            Err(error) if error.is_not_running() => self.status().map(StatusJson::Decoded),
            Err(error) => Err(error),
        }
    }

    /// The recovery counters of the monitors `names` (every monitor when empty); while the
    /// daemon is down, from the offline status.
    pub fn monitor_counters(&self, names: &[String]) -> Result<Vec<MonitorState>, Error> {
        let request = Request::Counters {
            monitors: names.to_vec(),
        };
        match self.ask(&request) {
            Ok(Response::Counters { monitors }) => Ok(monitors),
            Ok(other) => Err(unexpected(&other)),
            Err(error) if error.is_not_running() => select_monitors(self.status()?.monitors, names),
            Err(error) => Err(error),
        }
    }

    /// The newest `limit` alert records that pass `filter`; the flag is true when older
    /// matches did not fit one answer of the daemon.
    pub fn alerts(
        &self,
        filter: AlertFilter,
        limit: usize,
    ) -> Result<(Vec<AlertEvent>, bool), Error> {
        let request = Request::Alerts {
            limit,
            filter: filter.clone(),
        };
        self.daemon_or_store(
            &request,
            |response| match response {
                Response::Alerts { events, truncated } => Ok((events, truncated)),
                other => Err(unexpected(&other)),
            },
            |store| {
                let page = store
                    .alerts_matching(&filter, limit, usize::MAX)
                    .map_err(Error::Store)?;
                Ok((page.events, false))
            },
        )
    }

    /// The registered licenses.
    pub fn licenses(&self) -> Result<Vec<License>, Error> {
        self.daemon_or_store(
            &Request::Licenses,
            |response| match response {
                Response::Licenses { licenses } => Ok(licenses),
                other => Err(unexpected(&other)),
            },
            |store| store.licenses().map_err(Error::Store),
        )
    }

    /// Registers a signed license.
    pub fn register_license(&self, license: License) -> Result<(), Error> {
        self.daemon_or_store(
            &Request::RegisterLicense {
                license: license.clone(),
            },
            |_| Ok(()),
            |store| Ok(license::register(store, self.paths, &license)?),
        )
    }

    /// Starts the trial of `product`.
    pub fn start_trial(&self, product: &str) -> Result<License, Error> {
        self.daemon_or_store(
            &Request::StartTrial {
                product: product.to_string(),
            },
            |response| match response {
                Response::Licenses { mut licenses } if licenses.len() == 1 => {
                    Ok(licenses.remove(0))
                }
                other => Err(unexpected(&other)),
            },
            |store| {
                Ok(license::start_trial(
                    store,
                    self.paths,
                    product,
                    license::today(),
                )?)
            },
        )
    }

    /// Removes the licenses `removal` selects.
    pub fn remove_licenses(&self, removal: Removal) -> Result<(), Error> {
        self.daemon_or_store(
            &Request::RemoveLicenses {
                removal: removal.clone(),
            },
            |_| Ok(()),
            |store| {
                license::remove(store, &removal)
                    .map(|_| ())
                    .map_err(Error::from)
            },
        )
    }

    /// Sends `request` to the daemon, or runs `offline` on the store when it is not running.
    fn daemon_or_store<T>(
        &self,
        request: &Request,
        online: impl FnOnce(Response) -> Result<T, Error>,
        offline: impl FnOnce(&Store) -> Result<T, Error>,
    ) -> Result<T, Error> {
        match self.ask(request) {
            Ok(response) => online(response),
            Err(error) if error.is_not_running() => {
                let store = Store::open(&self.paths.store_dir()).map_err(Error::StoreOpen)?;
                offline(&store)
            }
            Err(error) => Err(error),
        }
    }
}

/// An answer that does not fit the request.
fn unexpected(answer: &Response) -> Error {
    Error::Unexpected(format!("clppm answered {answer:?}"))
}

/// The monitors `names` of `all` (all of them when `names` is empty).
fn select_monitors(all: Vec<MonitorState>, names: &[String]) -> Result<Vec<MonitorState>, Error> {
    if names.is_empty() {
        return Ok(all);
    }
    names
        .iter()
        .map(|name| {
            all.iter()
                .find(|m| &m.name == name)
                .cloned()
                .ok_or_else(|| Error::UnknownMonitor(name.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit_code;

    /// An install root with no daemon and the given configuration (none: the default).
    fn stopped_root(config: Option<&str>) -> (tempfile::TempDir, Paths) {
        let root = tempfile::tempdir().expect("temp dir");
        let paths = Paths::new(root.path());
        if let Some(text) = config {
            let file = paths.config_file();
            std::fs::create_dir_all(file.parent().expect("etc")).expect("etc");
            std::fs::write(&file, text).expect("config");
        }
        (root, paths)
    }

    #[test]
    fn with_the_daemon_down_the_status_is_read_from_the_configuration() {
        let (_root, paths) = stopped_root(None);
        let status = Session::new(&paths, "test")
            .status()
            .expect("offline status");
        assert_eq!(status.daemon, crate::status::DaemonState::Stopped);
        assert_eq!(
            status.monitors.len(),
            1,
            "the default configuration's userw"
        );
    }

    #[test]
    fn with_the_daemon_down_a_broken_configuration_says_bad_config() {
        let (_root, paths) = stopped_root(Some("[[group]\n"));
        let error = Session::new(&paths, "test")
            .status()
            .expect_err("bad config");
        assert_eq!(error.code(), exit_code::BAD_CONFIG);
    }

    #[test]
    fn with_the_daemon_down_licenses_and_alerts_come_from_the_store() {
        let (_root, paths) = stopped_root(None);
        let session = Session::new(&paths, "test");
        assert!(session.licenses().expect("licenses").is_empty());
        let (events, truncated) = session.alerts(AlertFilter::default(), 10).expect("alerts");
        assert!(events.is_empty() && !truncated);
    }

    #[test]
    fn with_the_daemon_down_an_unknown_monitor_is_not_registered() {
        let (_root, paths) = stopped_root(None);
        let error = Session::new(&paths, "test")
            .monitor_counters(&["nosuch".to_string()])
            .expect_err("unknown monitor");
        assert_eq!(error.code(), exit_code::NOT_REGISTERED);
    }

    #[test]
    fn an_operation_needs_the_daemon() {
        let (_root, paths) = stopped_root(None);
        let error = Session::new(&paths, "test")
            .operate(&Request::Suspend)
            .expect_err("no daemon");
        assert!(error.is_not_running());
        assert_eq!(error.code(), exit_code::NOT_RUNNING);
    }
}
