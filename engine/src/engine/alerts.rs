//! The alert log as the daemon serves it: alerts from the engine, `clplogcmd` messages and
//! the alert query of `clpstat --alert`.

use std::path::Path;

use clp_core::alert::{AlertEvent, AlertFilter};
use clp_core::alert_sink::{Delivery, LogTargets};
use clp_core::ipc::ErrorCode;

use super::{Engine, OperationError};

impl Engine {
    /// Logs one catalogue message to every alert target.
    pub fn alert(&self, module: &str, event_id: u32, args: &[&str]) {
        self.alert_sink.alert(module, event_id, args);
    }

    /// Logs one event to every alert target ([`AlertSink::record`](clp_core::alert_sink::AlertSink::record)).
    pub fn record(&self, event: AlertEvent) {
        self.alert_sink.record(event);
    }

    /// Returns once every alert logged so far is written: an answer to a command follows
    /// the alerts of what it reports.
    pub fn settle_alerts(&self) {
        self.alert_sink.settle();
    }

    /// Writes an event from `clplogcmd`; refused when the store did not take it (the message
    /// is not acknowledged: the command exits non-zero with the reason) or when it was to be
    /// mailed and no mail service runs (after logging it).
    pub fn log_message(
        &self,
        event: AlertEvent,
        alert: bool,
        syslog: bool,
        mail: bool,
    ) -> Result<(), OperationError> {
        let targets = LogTargets {
            alert,
            syslog,
            mail,
        };
        let delivery = self.alert_sink.log_message(event, targets);
        log_message_answer(delivery, &self.paths.store_dir())
    }

    /// The newest alerts that pass `filter`, at most `limit`, and no more than fit one
    /// answer line of the control protocol. In an HA cluster, every server's: this one's
    /// store merged by time with the other servers' alerts mirrored from etcd.
    pub fn alerts(
        &self,
        filter: &AlertFilter,
        limit: usize,
    ) -> Result<clp_core::store::AlertPage, OperationError> {
        // Room for the answer's envelope.
        const BUDGET: usize = clp_core::ipc::MAX_LINE - (64 << 10);
        self.alert_sink.settle();
        let mut page = self
            .store
            .alerts_matching(filter, limit, BUDGET)
            .map_err(|error| OperationError::new(ErrorCode::Failed, error.to_string()))?;
        if let Some(others) = self.cluster_alerts.get() {
            let others: Vec<AlertEvent> = others()
                .into_iter()
                .filter(|event| filter.matches(event))
                .collect();
            if !others.is_empty() {
                let local = std::mem::take(&mut page.events);
                let mut merged = clp_cluster::alert_sync::merge(local, others, limit);
                // The other servers' records count against the same answer budget.
                let mut used = 0usize;
                let mut keep_from = merged.len();
                for (index, event) in merged.iter().enumerate().rev() {
                    used =
                        used.saturating_add(serde_json::to_vec(event).map_or(0, |b| b.len() + 1));
                    if used > BUDGET {
                        page.complete = false;
                        break;
                    }
                    keep_from = index;
                }
                page.events = merged.split_off(keep_from);
            }
        }
        Ok(page)
    }

    /// Serves the other servers' alerts, read from `source`, with this one's (set once).
    pub fn set_cluster_alerts(&self, source: super::ClusterAlerts) {
        let _ = self.cluster_alerts.set(source);
    }

    /// Copies every alert this server logs from now on through `forward` (set once).
    pub fn forward_alerts(&self, forward: clp_core::alert_sink::Forward) {
        self.alert_sink.set_forward(forward);
    }
}

/// The answer to a `clplogcmd` request from what became of its message.
fn log_message_answer(delivery: Delivery, store_dir: &Path) -> Result<(), OperationError> {
    // Before the mail: a message missing from the alert log is the graver loss.
    if let Some(error) = delivery.not_stored {
        return Err(OperationError::new(
            ErrorCode::Failed,
            format!(
                "the message was not stored in the alert log ({error}); alert.log and syslog may have it. Check the disk of the store ({}) and send it again",
                store_dir.display()
            ),
        ));
    }
    if delivery.not_mailed {
        return Err(OperationError::new(
            ErrorCode::Failed,
            "--mail: the alert service does not mail (it needs a [mail] section in clp.conf and the ALRT10 license); the message was logged, not mailed",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clp_core::alert_sink::NotStored;

    #[test]
    fn a_message_the_store_did_not_take_is_refused_with_the_reason() {
        let delivery = Delivery {
            not_stored: Some(NotStored::Write(
                "No space left on device (os error 28)".into(),
            )),
            ..Delivery::default()
        };
        let refusal = log_message_answer(delivery, Path::new("/var/clp/store"))
            .expect_err("a message that was not stored must not be acknowledged");
        assert_eq!(refusal.code, ErrorCode::Failed);
        assert!(
            refusal.message.contains("No space left on device")
                && refusal.message.contains("/var/clp/store"),
            "{}",
            refusal.message
        );
    }

    #[test]
    fn a_stored_message_is_acknowledged() {
        assert_eq!(
            log_message_answer(Delivery::default(), Path::new("/var/clp/store")),
            Ok(())
        );
    }
}
