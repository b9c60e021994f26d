//! The one alert sink: where every alert record goes — the store (bounded), the text log
//! `log/alert.log` (rotated, each record whole or not at all), syslog and mail — used alike by
//! the daemon's engine and by the commands that log while clppm does not run (`clplogcmd`,
//! `clpdown`, `clpcfctrl`, clppm refusing to start).
//!
//! One syslog rule (`AlertSink::to_syslog`) and one failure report: when `alert.log` cannot
//! be written, a `clp 1` record goes to the store and syslog (and `clpstat` shows it while
//! the daemon runs); when it can again, a `clp 2` record is written to all three.

mod health;
mod writer;

use std::sync::{Arc, OnceLock};

use crate::alert::{AlertEvent, AlertFile, Level, send_to_syslog};
use crate::config::Config;
use crate::mail::Mailer;
use crate::paths::Paths;
use crate::store::Store;

/// Why a record did not reach the store.
#[derive(Debug, thiserror::Error)]
pub enum NotStored {
    /// The store could not be opened (another process holds it, the disk is unreadable, ...).
    #[error("{0}")]
    Open(String),
    /// Writing or flushing the record failed.
    #[error("{0}")]
    Write(String),
}

impl crate::exit_code::Coded for NotStored {
    fn code(&self) -> u8 {
        match self {
            NotStored::Open(_) => crate::exit_code::INIT_ERROR,
            NotStored::Write(_) => crate::exit_code::OTHER,
        }
    }
}

/// What became of one record: the targets it did not reach, and why.
#[derive(Debug, Default)]
pub struct Delivery {
    /// The store did not take it.
    pub not_stored: Option<NotStored>,
    /// `alert.log` did not take it (the failure itself is reported by the sink).
    pub not_written: Option<std::io::Error>,
    /// Mail was asked for and no mail service runs (`clplogcmd --mail`).
    pub not_mailed: bool,
}

/// Where `clplogcmd` wants its message: the alert log (store and `alert.log`), syslog, mail.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogTargets {
    /// The store and `alert.log`.
    pub alert: bool,
    /// Syslog.
    pub syslog: bool,
    /// The alert service's mail.
    pub mail: bool,
}

/// Who a record comes from, for the syslog rule.
#[derive(Debug, Clone, Copy)]
enum Origin {
    /// The product's own events (the catalogue's messages).
    Product,
    /// A `clplogcmd` message, with its writer's choice.
    Logcmd {
        /// `--syslog` (or no target named).
        syslog: bool,
    },
    /// The alert log's own failure or recovery.
    Health,
}

/// The alert sink of one process. The daemon's writes on a thread of its own (the
/// `writer` module): logging a record queues it; [`AlertSink::settle`] sees what was queued
/// written. A command's writes on the thread that logs.
#[derive(Debug)]
pub struct AlertSink {
    targets: Arc<Targets>,
    /// The daemon's writer thread.
    writer: Option<writer::Writer>,
}

/// Where the records go, and how: the writing half of a sink.
#[derive(Debug)]
struct Targets {
    server: String,
    /// The store, or why it could not be opened; a command's sink opens it at its first
    /// record (a syslog-only `clplogcmd` never touches it).
    store: OnceLock<Result<Store, String>>,
    store_dir: std::path::PathBuf,
    log: health::AlertLog,
    max_records: u64,
    syslog: bool,
    mail_level: Option<Level>,
    mailer: OnceLock<Mailer>,
    /// Flush the store after each record: a command ends (or the OS goes down) right after.
    flush_each: bool,
    /// Where each stored record is also copied (an HA cluster's alert sync); must not block.
    forward: OnceLock<Forward>,
}

/// A copier of stored records ([`AlertSink::set_forward`]).
pub struct Forward(pub Box<dyn Fn(&AlertEvent) + Send + Sync>);

impl std::fmt::Debug for Forward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Forward")
    }
}

impl AlertSink {
    /// The daemon's sink, over its open `store`: records are written by a thread of lower
    /// priority, in the order they were logged.
    pub fn new(config: &Config, paths: &Paths, store: Store) -> AlertSink {
        let targets = Arc::new(Targets::build(config, paths, Some(store), false));
        let writer = writer::Writer::start(Arc::clone(&targets));
        AlertSink { targets, writer }
    }

    /// The sink of a command logging while clppm does not run: opens the store at the first
    /// record that goes there (a failure is said in each [`Delivery`]; `alert.log` and syslog
    /// are still written) and flushes it after each record.
    pub fn offline(config: &Config, paths: &Paths) -> AlertSink {
        Self::on_this_thread(Targets::build(config, paths, None, true))
    }

    /// As [`Self::offline`], over a store the caller holds open (clppm before it runs).
    pub fn offline_on(config: &Config, paths: &Paths, store: Store) -> AlertSink {
        Self::on_this_thread(Targets::build(config, paths, Some(store), true))
    }

    fn on_this_thread(targets: Targets) -> AlertSink {
        AlertSink {
            targets: Arc::new(targets),
            writer: None,
        }
    }

    /// The server the records are written on.
    pub fn server(&self) -> &str {
        &self.targets.server
    }

    /// Hands the sink the alert service's mailer (once; a second one is ignored): it mails
    /// the records logged from now on.
    pub fn set_mailer(&self, mailer: Mailer) {
        // The records logged before are written without it.
        self.settle();
        let _ = self.targets.mailer.set(mailer);
    }

    /// Copies every record logged from now on through `forward` (once; a second one is
    /// ignored). It runs on the writing thread: it must hand the record on and return.
    pub fn set_forward(&self, forward: Forward) {
        // The records logged before are written without it.
        self.settle();
        let _ = self.targets.forward.set(forward);
    }

    /// One line for `clpstat` while `alert.log` cannot be written; None while it can.
    pub fn problem(&self) -> Option<String> {
        self.targets.log.problem()
    }

    /// The catalogue's message `module`/`event_id` with `args`, to every target.
    pub fn alert(&self, module: &str, event_id: u32, args: &[&str]) -> Delivery {
        match &self.writer {
            // Its text is made by the writer: a recovery that logs on its way to restarting
            // a process pays for the clock and the arguments, not for the catalogue's
            // lookup, the template and the time's formatting.
            Some(writer) => {
                writer.alert(writer::Unmade {
                    time: std::time::SystemTime::now(),
                    module: module.to_string(),
                    event_id,
                    args: args.iter().map(|arg| (*arg).to_string()).collect(),
                });
                Delivery::default()
            }
            None => self.targets.record(AlertEvent::from_catalogue(
                &self.targets.server,
                module,
                event_id,
                args,
            )),
        }
    }

    /// One of the product's events: to the store, `alert.log`, syslog (when configured) and
    /// mail (when the alert service runs and the level reaches `[mail] level`; never the mail
    /// service's own results, so a broken server cannot loop). The daemon's sink queues it
    /// and says nothing of its delivery (a failure to write `alert.log` is reported by the
    /// sink itself, as `clp 1`).
    pub fn record(&self, event: AlertEvent) -> Delivery {
        match &self.writer {
            Some(writer) => {
                writer.record(event);
                Delivery::default()
            }
            None => self.targets.record(event),
        }
    }

    /// A `clplogcmd` message, to the targets its writer chose; returns once it is written,
    /// after every record logged before it.
    pub fn log_message(&self, event: AlertEvent, targets: LogTargets) -> Delivery {
        match &self.writer {
            Some(writer) => match writer.log_message(event.clone(), targets) {
                Some(delivery) => delivery,
                None => self.targets.log_message(event, targets),
            },
            None => self.targets.log_message(event, targets),
        }
    }

    /// Returns once every record logged before the call is written (at once for a
    /// command's sink, which writes as it logs).
    pub fn settle(&self) {
        if let Some(writer) = &self.writer {
            writer.settle();
        }
    }

    /// Makes every record logged so far durable: written ([`Self::settle`]) and synced.
    pub fn flush(&self) {
        self.settle();
        self.targets.flush();
    }
}

impl Targets {
    fn build(config: &Config, paths: &Paths, store: Option<Store>, flush_each: bool) -> Targets {
        let held = OnceLock::new();
        if let Some(store) = store {
            let _ = held.set(Ok(store));
        }
        Targets {
            server: config.server_name(),
            store: held,
            store_dir: paths.store_dir(),
            log: health::AlertLog::new(AlertFile::new(
                paths.alert_log(),
                config.alert.file_max_bytes,
            )),
            max_records: config.alert.max_records,
            syslog: config.alert.syslog,
            mail_level: config.mail.as_ref().map(|mail| mail.level),
            mailer: OnceLock::new(),
            flush_each,
            forward: OnceLock::new(),
        }
    }

    /// [`AlertSink::record`], written now.
    fn record(&self, event: AlertEvent) -> Delivery {
        tracing::info!(module = %event.module, id = event.event_id, "{}", event.message);
        let delivery = self.store_and_write(&event);
        if self.to_syslog(Origin::Product) {
            send_to_syslog(&event);
        }
        if let (Some(mailer), Some(floor)) = (self.mailer.get(), self.mail_level)
            && event.module != "mail"
            && event.level >= floor
        {
            mailer.mail(event);
        }
        delivery
    }

    /// [`AlertSink::log_message`], written now.
    fn log_message(&self, event: AlertEvent, targets: LogTargets) -> Delivery {
        let mut delivery = Delivery::default();
        if targets.mail {
            match self.mailer.get() {
                Some(mailer) => mailer.mail(event.clone()),
                None => delivery.not_mailed = true,
            }
        }
        if targets.alert {
            let written = self.store_and_write(&event);
            delivery.not_stored = written.not_stored;
            delivery.not_written = written.not_written;
        }
        if self.to_syslog(Origin::Logcmd {
            syslog: targets.syslog,
        }) {
            send_to_syslog(&event);
        }
        delivery
    }

    /// The one syslog rule: the product's events go to syslog when `[alert] syslog` is on; a
    /// `clplogcmd` message when its writer asks; the alert log's own failure and recovery
    /// always, since the text log is what failed.
    fn to_syslog(&self, origin: Origin) -> bool {
        match origin {
            Origin::Product => self.syslog,
            Origin::Logcmd { syslog } => syslog,
            Origin::Health => true,
        }
    }

    /// Puts `event` into the store and `alert.log`; reports a change in the log's health.
    fn store_and_write(&self, event: &AlertEvent) -> Delivery {
        let not_stored = self.store(event).err();
        let (change, written) = self.log.write(&self.server, event);
        match change {
            health::Change::None => {}
            health::Change::Failed(report) => {
                tracing::error!("{}", report.message);
                self.report_health(&report);
            }
            health::Change::Resumed(report) => {
                tracing::warn!("{}", report.message);
                self.report_health(&report);
            }
        }
        Delivery {
            not_stored,
            not_written: written.err(),
            not_mailed: false,
        }
    }

    /// Puts an alert-log failure or recovery into the store and syslog (not the text log,
    /// which has it already or cannot take it), and makes it durable.
    fn report_health(&self, report: &AlertEvent) {
        let _ = self.store(report);
        if self.to_syslog(Origin::Health) {
            send_to_syslog(report);
        }
        self.flush();
    }

    /// Appends one record to the store (and flushes it, for a command's sink).
    fn store(&self, event: &AlertEvent) -> Result<(), NotStored> {
        let store = self
            .store
            .get_or_init(|| Store::open(&self.store_dir).map_err(|error| error.to_string()))
            .as_ref()
            .map_err(|error| NotStored::Open(error.clone()))?;
        let stored = store
            .append_alert(event, self.max_records)
            .inspect(|sequence| {
                if let Some(forward) = self.forward.get() {
                    let mut copy = event.clone();
                    copy.seq = *sequence;
                    (forward.0)(&copy);
                }
            })
            .and_then(|_| {
                if self.flush_each {
                    store.flush()
                } else {
                    Ok(())
                }
            })
            .map_err(|error| NotStored::Write(error.to_string()));
        if let Err(error) = &stored {
            tracing::error!("alert not stored: {error}");
        }
        stored
    }

    /// Makes every record stored so far durable.
    fn flush(&self) {
        if let Some(Ok(store)) = self.store.get()
            && let Err(error) = store.flush()
        {
            tracing::error!("cannot flush the store: {error}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(paths: &Paths, syslog: bool) -> Config {
        let mut config = Config::default_for(paths);
        config.alert.syslog = syslog;
        config
    }

    #[test]
    fn an_offline_record_reaches_the_store_and_the_text_log() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let paths = Paths::new(dir.path());
        let sink = AlertSink::offline(&config(&paths, false), &paths);
        let delivery = sink.alert("down", 1, &["s", "clpdown"]);
        assert!(delivery.not_stored.is_none() && delivery.not_written.is_none());
        drop(sink);
        let store = Store::open(&paths.store_dir()).expect("the store");
        let stored = store.alerts(10).expect("the alerts");
        assert_eq!(stored.len(), 1);
        let text = std::fs::read_to_string(paths.alert_log()).expect("alert.log");
        assert!(text.contains(" down 1 "), "{text}");
    }

    #[test]
    fn the_daemons_records_are_written_in_order_by_a_thread_of_lower_priority() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let paths = Paths::new(dir.path());
        let store = Store::open(&paths.store_dir()).expect("the store");
        let sink = AlertSink::new(&config(&paths, false), &paths, store.clone());
        for id in 1..=50 {
            sink.alert("rc", id, &["g"]);
        }
        // A message waits for the records before it, and says what became of it.
        let delivery = sink.log_message(
            AlertEvent::custom("s", "logcmd", 1, Level::Info, "after fifty"),
            LogTargets {
                alert: true,
                ..LogTargets::default()
            },
        );
        assert!(delivery.not_stored.is_none() && delivery.not_written.is_none());
        sink.alert("rc", 51, &["g"]);
        sink.settle();
        let stored: Vec<u32> = store
            .alerts(100)
            .expect("the alerts")
            .iter()
            .map(|event| event.event_id)
            .collect();
        let mut expected: Vec<u32> = (1..=50).collect();
        expected.extend([1, 51]);
        assert_eq!(stored, expected, "the store, in the order logged");
        let text = std::fs::read_to_string(paths.alert_log()).expect("alert.log");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 52, "{text}");
        assert!(lines[50].contains(" logcmd 1 after fifty"), "{text}");
        assert!(lines[51].contains(" rc 51 "), "{text}");
        // The writer thread runs at a nice value above this test's.
        let (writers, own) = crate::bookkeeping::nice_values("clp-alerts");
        assert!(
            !writers.is_empty() && writers.iter().all(|nice| *nice > own || *nice == 19),
            "writers {writers:?}, test {own}"
        );
        drop(sink);
    }

    /// The writer writes by itself, unasked: shortly after the first record when logged on
    /// a runtime (its timer wakes the writer), at once otherwise.
    #[test]
    fn the_daemons_writer_writes_unasked_on_a_runtime_and_off_one() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let paths = Paths::new(dir.path());
        let store = Store::open(&paths.store_dir()).expect("the store");
        let sink = AlertSink::new(&config(&paths, false), &paths, store.clone());
        let count = || store.alerts(10).expect("the alerts").len();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        sink.alert("rc", 1, &["g"]);
        while count() < 1 {
            assert!(
                std::time::Instant::now() < deadline,
                "not written off a runtime"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            sink.alert("rc", 2, &["g"]);
            sink.alert("rc", 3, &["g"]);
            // Gathered: not written the moment they are logged.
            assert_eq!(count(), 1);
            while count() < 3 {
                assert!(
                    std::time::Instant::now() < deadline,
                    "not written on a runtime"
                );
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        });
        drop(sink);
    }

    #[test]
    fn an_offline_write_failure_is_reported_in_the_store() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let paths = Paths::new(dir.path());
        // alert.log is a folder: it cannot be appended to.
        std::fs::create_dir_all(paths.alert_log()).expect("a folder in the way");
        let sink = AlertSink::offline(&config(&paths, false), &paths);
        let delivery = sink.log_message(
            AlertEvent::custom("s", "logcmd", 1, Level::Info, "hello"),
            LogTargets {
                alert: true,
                ..LogTargets::default()
            },
        );
        assert!(delivery.not_written.is_some());
        drop(sink);
        let store = Store::open(&paths.store_dir()).expect("the store");
        let stored = store.alerts(10).expect("the alerts");
        let ids: Vec<(&str, u32)> = stored
            .iter()
            .map(|event| (event.module.as_str(), event.event_id))
            .collect();
        assert_eq!(ids, [("logcmd", 1), (health::MODULE, health::WRITE_FAILED)]);
    }

    #[test]
    fn a_store_held_elsewhere_still_leaves_the_text_log_written() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let paths = Paths::new(dir.path());
        let _held = Store::open(&paths.store_dir()).expect("the store");
        let sink = AlertSink::offline(&config(&paths, false), &paths);
        let delivery = sink.alert("down", 2, &["s", "clpdown"]);
        assert!(matches!(delivery.not_stored, Some(NotStored::Open(_))));
        assert!(delivery.not_written.is_none());
    }

    #[test]
    fn a_syslog_only_message_leaves_the_store_alone() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let paths = Paths::new(dir.path());
        let sink = AlertSink::offline(&config(&paths, false), &paths);
        let event = AlertEvent::custom("s", "logcmd", 1, Level::Info, "hello");
        let targets = LogTargets {
            syslog: true,
            ..LogTargets::default()
        };
        let delivery = sink.log_message(event, targets);
        assert!(delivery.not_stored.is_none());
        assert!(!paths.store_dir().exists());
        assert!(!paths.alert_log().exists());
    }

    #[test]
    fn mail_asked_without_a_mail_service_is_said() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let paths = Paths::new(dir.path());
        let sink = AlertSink::offline(&config(&paths, false), &paths);
        let event = AlertEvent::custom("s", "logcmd", 1, Level::Info, "hello");
        let targets = LogTargets {
            mail: true,
            ..LogTargets::default()
        };
        assert!(sink.log_message(event, targets).not_mailed);
    }

    #[test]
    fn one_syslog_rule() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let paths = Paths::new(dir.path());
        let quiet = AlertSink::offline(&config(&paths, false), &paths);
        assert!(!quiet.targets.to_syslog(Origin::Product));
        assert!(quiet.targets.to_syslog(Origin::Logcmd { syslog: true }));
        assert!(!quiet.targets.to_syslog(Origin::Logcmd { syslog: false }));
        assert!(quiet.targets.to_syslog(Origin::Health));
        drop(quiet);
        let loud = AlertSink::offline(&config(&paths, true), &paths);
        assert!(loud.targets.to_syslog(Origin::Product));
    }
}
