//! The control-socket protocol between `clppm` and every command.
//!
//! Newline-delimited JSON over `$CLP_ROOT/run/clppm.sock`. Every connection opens with
//! [`Request::Hello`] / [`Response::Welcome`]; each later line is one [`Request`] answered by
//! one [`Response`]. Failures come back as [`Response::Error`] with an [`ErrorCode`], never as
//! a bare string. Lines longer than [`MAX_LINE`] are refused.

pub mod client;
pub mod pretty;
pub mod remote;

use serde::{Deserialize, Serialize};

use crate::alert::{AlertEvent, AlertFilter, Level};
use crate::status::{ClusterStatus, MonitorState, StatusSummary};

/// The protocol version; a daemon refuses clients of another version.
pub const PROTOCOL: u32 = 1;
/// The longest request line the daemon accepts (a client is not trusted).
pub const MAX_LINE: usize = 4 << 20;
/// The longest answer line a command accepts from the daemon: a status grows ~0.5 KB per
/// monitor (10,000 monitors ≈ 5 MB), so it is not held to [`MAX_LINE`].
pub const MAX_ANSWER: usize = 256 << 20;

/// What happens after the daemon has stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterStop {
    /// Nothing: the daemon exits.
    Nothing,
    /// Shut the OS down (clpdown, clpstdn).
    Shutdown,
    /// Reboot the OS (clpdown -r, clpstdn -r).
    Reboot,
}

/// A request from a command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// The first line of every connection.
    Hello {
        /// The client's protocol version.
        protocol: u32,
        /// The client's name, for the alert log (`clpcl`).
        client: String,
    },
    /// The status snapshot, in the [`StatusForm`] asked for. A daemon older than the
    /// forms ignores the field and answers the whole status in one line, which a command
    /// reads in any form (a summary skips the fields it does not hold; the pretty text is
    /// that line re-indented).
    Status {
        /// Which form (the whole status when absent).
        #[serde(default, skip_serializing_if = "StatusForm::is_whole")]
        form: StatusForm,
    },
    /// Stop every group in reverse order, then exit (then shut down or reboot).
    StopDaemon {
        /// What to do once stopped.
        then: AfterStop,
    },
    /// Stop monitoring and refuse operations; resources keep running.
    Suspend,
    /// Undo [`Request::Suspend`].
    Resume,
    /// Start one group, or every group.
    StartGroup {
        /// The group, or all.
        group: Option<String>,
    },
    /// Stop one group, or every group.
    StopGroup {
        /// The group, or all.
        group: Option<String>,
    },
    /// Move one group, or every group that can move, to another server of an HA cluster
    /// (`clpgrp -m`); answered once the group is Online there, or failed.
    MoveGroup {
        /// The group, or all.
        group: Option<String>,
        /// The destination, or the next server of the group's order that is Online.
        to: Option<String>,
        /// How long to wait for each group to be Online on its destination, in seconds.
        wait_seconds: u64,
    },
    /// Start one resource.
    StartResource {
        /// The resource.
        resource: String,
    },
    /// Stop one resource.
    StopResource {
        /// The resource.
        resource: String,
    },
    /// Suspend monitors (all when empty).
    SuspendMonitors {
        /// The monitors.
        monitors: Vec<String>,
    },
    /// Resume monitors (all when empty).
    ResumeMonitors {
        /// The monitors.
        monitors: Vec<String>,
    },
    /// Reset recovery counters (all when empty).
    ClearCounters {
        /// The monitors.
        monitors: Vec<String>,
    },
    /// Dummy failure on or off (off for all when empty).
    DummyFailure {
        /// The monitors.
        monitors: Vec<String>,
        /// On or off.
        enable: bool,
    },
    /// The recovery counters (all when empty).
    Counters {
        /// The monitors.
        monitors: Vec<String>,
    },
    /// Write one message to the alert log and/or syslog (clplogcmd).
    LogMessage {
        /// The message.
        message: String,
        /// Its level.
        level: Level,
        /// Its event id.
        event_id: u32,
        /// Into the alert log.
        alert: bool,
        /// Into syslog.
        syslog: bool,
        /// Mailed by the alert service.
        #[serde(default)]
        mail: bool,
    },
    /// Register a license.
    RegisterLicense {
        /// The license (parsed and checked by the command).
        license: crate::license::License,
    },
    /// Start the local trial of a product, with the period clp computes (once per product
    /// per server); answered with [`Response::Licenses`] holding the trial.
    StartTrial {
        /// The product id.
        product: String,
    },
    /// Every registered license.
    Licenses,
    /// Remove licenses.
    RemoveLicenses {
        /// Which.
        removal: crate::license::Removal,
    },
    /// Exit without stopping the groups: monitors stop, the state is saved, and the next
    /// clppm adopts the running resources (`clpcfctrl --apply` of a change that needs only
    /// a suspend/resume).
    Handoff,
    /// Log one message of the original's alert catalogue (`cfmgr 1` from clpcfctrl).
    CatalogueAlert {
        /// The module (`cfmgr`).
        module: String,
        /// The event id within the module.
        event_id: u32,
        /// The values of the message's `%1`, `%2`, ...
        args: Vec<String>,
    },
    /// The newest alert log records that pass a filter.
    Alerts {
        /// How many at most.
        limit: usize,
        /// Which (all when absent).
        #[serde(default)]
        filter: AlertFilter,
    },
}

/// The forms of the status a [`Request::Status`] asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusForm {
    /// The whole status, one compact line: [`Response::Status`].
    #[default]
    Whole,
    /// What `clpstat`'s text layouts show: [`Response::StatusSummary`].
    Summary,
    /// The whole status as `clpstat --json` prints it (indented by two spaces, a newline
    /// at the end): a [`Response::StatusText`] line that tells its length, then the text
    /// itself (it spans lines).
    Pretty,
}

impl StatusForm {
    fn is_whole(&self) -> bool {
        *self == StatusForm::Whole
    }
}

impl Request {
    /// The whole status, one line ([`StatusForm::Whole`]).
    pub const STATUS: Request = Request::Status {
        form: StatusForm::Whole,
    };

    /// Reads one request line (trailing newline optional); the error says what is wrong, in
    /// one line, for the client.
    pub fn from_line(line: &[u8]) -> Result<Request, String> {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        serde_json::from_slice(line).map_err(|error| format!("cannot read the request: {error}"))
    }

    /// Whether the request changes state (and so needs the peer's credentials checked).
    pub fn is_mutating(&self) -> bool {
        !matches!(
            self,
            Request::Hello { .. }
                | Request::Status { .. }
                | Request::Counters { .. }
                | Request::Alerts { .. }
                | Request::Licenses
        )
    }
}

/// What kind of failure an [`Response::Error`] reports; commands map it to an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request was malformed or of another protocol version.
    Protocol,
    /// A named group, resource or monitor does not exist.
    NotFound,
    /// The daemon is suspended.
    Suspended,
    /// The daemon is stopping.
    Stopping,
    /// The peer may not change state.
    PermissionDenied,
    /// The operation ran and failed.
    Failed,
    /// What was to be started is already started: nothing was done.
    AlreadyStarted,
    /// What was to be stopped is already stopped: nothing was done.
    AlreadyStopped,
}

/// The daemon's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Response {
    /// The answer to [`Request::Hello`].
    Welcome {
        /// The daemon's protocol version.
        protocol: u32,
        /// The daemon's version.
        daemon_version: String,
        /// The daemon's pid.
        pid: u32,
    },
    /// The operation succeeded.
    Done,
    /// The status snapshot.
    Status(ClusterStatus),
    /// The status summary ([`StatusForm::Summary`]).
    #[serde(deserialize_with = "owned_summary")]
    StatusSummary(StatusSummary<'static>),
    /// The status as pretty JSON ([`StatusForm::Pretty`]): this line tells its length, and
    /// that many bytes follow it, the text of the status.
    StatusText {
        /// The length of the text, in bytes.
        bytes: u64,
    },
    /// The recovery counters.
    Counters {
        /// One entry per monitor.
        monitors: Vec<MonitorState>,
    },
    /// Registered licenses.
    Licenses {
        /// The licenses.
        licenses: Vec<crate::license::License>,
    },
    /// How many licenses were removed.
    Removed {
        /// The count.
        count: usize,
    },
    /// Alert log records, oldest first.
    Alerts {
        /// The records.
        events: Vec<AlertEvent>,
        /// True when older matching records were left out so that the answer fits one line.
        #[serde(default)]
        truncated: bool,
    },
    /// The operation failed.
    Error {
        /// What kind of failure.
        code: ErrorCode,
        /// One line: what failed and what to do.
        message: String,
    },
}

/// Reads a summary with its own strings (an answer kept as a [`Response`] outlives the
/// line it was read from).
fn owned_summary<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<StatusSummary<'static>, D::Error> {
    StatusSummary::deserialize(deserializer).map(StatusSummary::into_owned)
}

/// The first bytes of the three big answers as the daemon writes them (serde writes an
/// internally tagged enum's tag first), and what [`Response::from_line`] reads them as.
const STATUS_PREFIX: &[u8] = br#"{"type":"status","#;
const SUMMARY_PREFIX: &[u8] = br#"{"type":"status_summary","#;
/// The first bytes of the line announcing a pretty status text.
pub(crate) const TEXT_PREFIX: &[u8] = br#"{"type":"status_text","#;
const COUNTERS_PREFIX: &[u8] = br#"{"type":"counters","#;
const ALERTS_PREFIX: &[u8] = br#"{"type":"alerts","#;
/// The first bytes of an error answer: a client that keeps answers as lines reads these.
pub(crate) const ERROR_PREFIX: &[u8] = br#"{"type":"error","#;

/// The fields of a status answer line after its tag (the line without `{"type":"status",`):
/// `{` and these are the [`ClusterStatus`] as JSON, for a command that passes the status
/// through without reading it. `None` when the line is not a status written by the daemon.
pub fn status_fields(line: &[u8]) -> Option<&[u8]> {
    line.strip_prefix(STATUS_PREFIX)
}

/// Reads the answer to a summary request: a summary, or the whole status of a daemon older
/// than summaries (read as a summary: its other fields are skipped). `None` when the line
/// is neither.
pub fn summary_from_line(line: &[u8]) -> Option<serde_json::Result<StatusSummary<'_>>> {
    (line.starts_with(SUMMARY_PREFIX) || line.starts_with(STATUS_PREFIX))
        .then(|| serde_json::from_slice(line))
}

/// The body of [`Response::Counters`], read without the tag.
#[derive(Deserialize)]
struct CountersBody {
    monitors: Vec<MonitorState>,
}

/// The body of [`Response::Alerts`], read without the tag.
#[derive(Deserialize)]
struct AlertsBody {
    events: Vec<AlertEvent>,
    #[serde(default)]
    truncated: bool,
}

impl Response {
    /// Reads one answer line. serde reads an internally tagged enum by first copying the
    /// whole value into a tree of its own and then reading that tree; for the big answers
    /// (a status of 1,000 monitors is ~0.5 MB) that doubles the client's work, so a line
    /// that starts with their tag is read straight into its body (which ignores the `type`
    /// key); any other line takes the ordinary path.
    pub fn from_line(line: &[u8]) -> serde_json::Result<Response> {
        if line.starts_with(STATUS_PREFIX) {
            serde_json::from_slice(line).map(Response::Status)
        } else if line.starts_with(SUMMARY_PREFIX) {
            serde_json::from_slice(line)
                .map(|summary: StatusSummary<'_>| Response::StatusSummary(summary.into_owned()))
        } else if line.starts_with(COUNTERS_PREFIX) {
            serde_json::from_slice(line).map(|body: CountersBody| Response::Counters {
                monitors: body.monitors,
            })
        } else if line.starts_with(ALERTS_PREFIX) {
            serde_json::from_slice(line).map(|body: AlertsBody| Response::Alerts {
                events: body.events,
                truncated: body.truncated,
            })
        } else {
            serde_json::from_slice(line)
        }
    }

    /// An error response.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Response {
        Response::Error {
            code,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::offline_status;

    fn status() -> ClusterStatus {
        let text = "[cluster]\nname = \"c\"\n\n[[group]]\nname = \"g\"\n\n[[group.resource]]\nname = \"r\"\nstart = \"/bin/true\"\n\n[[monitor]]\nname = \"u\"\ntype = \"userw\"\ncomment = \"a \\\"quoted\\\" \\u00e9\"\n";
        let config = crate::config::parse_str(text, std::path::Path::new("/nonexistent"))
            .expect("a valid test configuration");
        offline_status(&config, None)
    }

    fn event() -> AlertEvent {
        AlertEvent {
            seq: 7,
            time: "2026/12/03 12:00:00.000".into(),
            server: "s".into(),
            module: "rm".into(),
            event_id: 9,
            level: Level::Error,
            message: "x \"y\"".into(),
        }
    }

    /// Every answer reads back as itself, whether or not it takes a direct path.
    #[test]
    fn every_answer_reads_back_as_written() {
        let answers = [
            Response::Status(status()),
            Response::Counters {
                monitors: status().monitors,
            },
            Response::Alerts {
                events: vec![event(), event()],
                truncated: true,
            },
            Response::Alerts {
                events: vec![],
                truncated: false,
            },
            Response::Done,
            Response::error(ErrorCode::NotFound, "no such monitor"),
            Response::Welcome {
                protocol: PROTOCOL,
                daemon_version: "0.1.0".into(),
                pid: 1,
            },
        ];
        for answer in answers {
            let line = serde_json::to_vec(&answer).expect("encodes");
            assert_eq!(Response::from_line(&line).expect("reads"), answer);
            let generic: Response = serde_json::from_slice(&line).expect("reads");
            assert_eq!(generic, answer);
        }
    }

    /// The direct paths rely on the tag coming first; the daemon writes it so.
    #[test]
    fn the_big_answers_start_with_their_tag() {
        let status = serde_json::to_vec(&Response::Status(status())).expect("encodes");
        assert!(status.starts_with(STATUS_PREFIX));
        let counters = serde_json::to_vec(&Response::Counters { monitors: vec![] }).expect("ok");
        assert!(counters.starts_with(COUNTERS_PREFIX));
        let alerts = serde_json::to_vec(&Response::Alerts {
            events: vec![],
            truncated: false,
        })
        .expect("encodes");
        assert!(alerts.starts_with(ALERTS_PREFIX));
        let error = serde_json::to_vec(&Response::error(ErrorCode::Failed, "x")).expect("ok");
        assert!(error.starts_with(ERROR_PREFIX));
    }

    /// `{` and a status answer's fields are the status itself, as serde writes it alone.
    #[test]
    fn a_status_answers_fields_are_the_status() {
        let line = serde_json::to_vec(&Response::Status(status())).expect("encodes");
        let fields = status_fields(&line).expect("a status answer");
        let mut alone = b"{".to_vec();
        alone.extend_from_slice(fields);
        assert_eq!(alone, serde_json::to_vec(&status()).expect("encodes"));
        assert_eq!(status_fields(b"{\"type\":\"done\"}"), None);
    }

    /// The whole-status request is the line it always was; a request for another form
    /// reads, to a daemon older than the forms (whose `Status` had no fields), as a status
    /// request, so that it answers the whole status, which the command reads in any form.
    #[test]
    fn a_request_for_a_form_is_a_status_request_to_an_older_daemon() {
        #[derive(Debug, PartialEq, Deserialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        enum OldRequest {
            Status,
            Suspend,
        }
        let whole = serde_json::to_string(&Request::STATUS).expect("ok");
        assert_eq!(whole, r#"{"type":"status"}"#);
        assert_eq!(Request::from_line(whole.as_bytes()), Ok(Request::STATUS));
        for form in [StatusForm::Summary, StatusForm::Pretty] {
            let line = serde_json::to_vec(&Request::Status { form }).expect("ok");
            assert_eq!(Request::from_line(&line), Ok(Request::Status { form }));
            let old: OldRequest = serde_json::from_slice(&line).expect("an old daemon reads it");
            assert_eq!(old, OldRequest::Status);
            assert_ne!(old, OldRequest::Suspend);
        }
    }

    /// A status whose tag is not first (another writer) still reads, the ordinary way.
    #[test]
    fn a_status_with_its_tag_elsewhere_still_reads() {
        let mut value = serde_json::to_value(status()).expect("encodes");
        value["type"] = "status".into();
        let line = serde_json::to_vec(&value).expect("encodes");
        assert!(!line.starts_with(STATUS_PREFIX));
        assert_eq!(
            Response::from_line(&line).expect("reads"),
            Response::Status(status())
        );
    }
}
