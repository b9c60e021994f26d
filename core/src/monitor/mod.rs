//! Monitor types as the configuration and the engine see them: one file per type with its
//! [`spec::MonitorSpec`] (defaults, rules, parameters), listed in [`registry`], and the
//! [`Probe`] trait the engine schedules.
//!
//! The engine owns scheduling (interval, timeout, retry, timing, suspension) and the
//! recovery ladder; a probe only answers "how is my target now?". The probes themselves,
//! with their database, mail and HTTP clients, are the `clp-monitors` crate: the daemon hands
//! the engine their constructors ([`spec::FindBuilder`]). Adding a type is one file here
//! and one registry line, and one file and one registry line in `clp-monitors`.

pub mod database;
pub mod diskw;
pub mod fipw;
pub mod ftpw;
pub mod genw;
pub mod httpw;
pub mod imap4w;
pub mod ipw;
pub mod miiw;
pub mod mysqlw;
pub mod params;
pub mod pidw;
pub mod pop3w;
pub mod psqlw;
pub mod psw;
pub mod registry;
pub mod smtpw;
pub mod spec;
pub mod tcpw;
pub mod userw;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::process::ProcessIdentity;

/// What one check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    /// The target is healthy.
    Normal,
    /// Something to note that is not a fault.
    Warning {
        /// The detail code (shown in rm 4 as the original's `%2`).
        code: u32,
        /// What.
        detail: String,
    },
    /// A fault.
    Failure {
        /// The original's numeric detail code.
        code: u32,
        /// The detail text.
        detail: String,
    },
}

/// What the engine tells a probe about one check.
#[derive(Debug, Clone)]
pub struct ProbeContext {
    /// How late this check started against its schedule (the daemon's own stall).
    pub lateness: Duration,
    /// The check's timeout.
    pub timeout: Duration,
    /// The process of the monitor's target resource, when it has one.
    pub target_process: Option<ProcessIdentity>,
}

/// The future a check returns.
pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = CheckOutcome> + Send + 'a>>;

/// One monitor type's check.
pub trait Probe: Send {
    /// Runs one check. The engine abandons it at the timeout (a failure), so a probe may
    /// block on I/O without holding up any other monitor.
    fn check(&mut self, context: ProbeContext) -> CheckFuture<'_>;

    /// Whether the engine must report the exit of the target resource's process at once as a
    /// failure of this monitor (event-driven detection), instead of waiting for a check.
    fn watches_target_process(&self) -> bool {
        false
    }

    /// Whether a check can only be healthy while the engine knows a live process of the
    /// target resource (pidw): the engine then checks it in one batch per interval with the
    /// other such monitors instead of waking its task every interval.
    fn healthy_while_target_alive(&self) -> bool {
        false
    }

    /// A wake-up the probe fires when it learns of a fault between checks (a process it
    /// watches died, a link went down): the engine then checks at once instead of at the
    /// next interval.
    fn wake(&self) -> Option<std::sync::Arc<tokio::sync::Notify>> {
        None
    }

    /// Called when monitoring stops (daemon stop, suspend): release what the probe holds.
    fn stop(&mut self) {}
}

#[cfg(test)]
mod layer_tests {
    /// Every command links this crate, so the probes' clients (and the WebManager's server,
    /// the FTP upload, the etcd client and the engine) live in crates of their own, which
    /// this one never imports: a status read links no MySQL client.
    #[test]
    fn the_shared_crate_depends_on_no_probe_client_web_server_or_ftp_client() {
        let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        let manifest: toml::Table = std::fs::read_to_string(manifest).unwrap().parse().unwrap();
        let dependencies = manifest["dependencies"].as_table().unwrap();
        for heavy in [
            "tokio-postgres",
            "mysql_async",
            "md-5",
            "httparse",
            "suppaftp",
            "axum",
            "hyper",
            "tower",
            "argon2",
            "etcd-client",
            "clp-cluster",
            "clp-engine",
            "clp-monitors",
            "clp-webmgr",
            "clp-ftp",
        ] {
            assert!(
                !dependencies.contains_key(heavy),
                "clp-core depends on {heavy}"
            );
        }
    }

    /// The configuration's validation lists the types through the registry, so no type (and
    /// nothing a type builds on) may import the configuration: that was a circle of 21 files.
    #[test]
    fn no_monitor_type_imports_the_configuration() {
        let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files: Vec<_> = std::fs::read_dir(source.join("monitor"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        files.push(source.join("os_action.rs"));
        files.push(source.join("suggest.rs"));
        let import = concat!("crate::", "config");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            assert!(
                !text.contains(import),
                "{} imports the configuration",
                file.display()
            );
        }
    }
}
