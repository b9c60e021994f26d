//! The alert log as the daemon serves it: alerts from the engine, `clplogcmd` messages and
//! the alert query of `clpstat --alert`.

use crate::alert::{AlertEvent, AlertFilter};
use crate::alert_sink::LogTargets;
use crate::ipc::ErrorCode;

use super::{Engine, OperationError};

impl Engine {
    /// Logs one catalogue message to every alert target.
    pub fn alert(&self, module: &str, event_id: u32, args: &[&str]) {
        self.alert_sink.alert(module, event_id, args);
    }

    /// Logs one event to every alert target ([`AlertSink::record`]).
    pub fn record(&self, event: AlertEvent) {
        self.alert_sink.record(event);
    }

    /// Writes an event from `clplogcmd`; an error when it was to be mailed and no mail
    /// service runs (after logging it).
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
        if self.alert_sink.log_message(event, targets).not_mailed {
            return Err(OperationError::new(
                ErrorCode::Failed,
                "--mail: the alert service does not mail (it needs a [mail] section in clp.conf and the ALRT10 license); the message was logged, not mailed",
            ));
        }
        Ok(())
    }

    /// The newest alerts that pass `filter`, at most `limit`, and no more than fit one
    /// answer line of the control protocol.
    pub fn alerts(
        &self,
        filter: &AlertFilter,
        limit: usize,
    ) -> Result<crate::store::AlertPage, OperationError> {
        // Room for the answer's envelope.
        const BUDGET: usize = crate::ipc::MAX_LINE - (64 << 10);
        self.store
            .alerts_matching(filter, limit, BUDGET)
            .map_err(|error| OperationError::new(ErrorCode::Failed, error.to_string()))
    }
}
