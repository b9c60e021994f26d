//! Operator monitor operations (`clpmonctrl`): suspend and resume, dummy failure, counters.

use clp_core::ipc::ErrorCode;
use clp_core::status::{DaemonState, MonitorState};
use clp_core::store::Durable;

use super::{Cause, Engine, OperationError};

impl Engine {
    pub(super) fn monitor_indexes(&self, names: &[String]) -> Result<Vec<usize>, OperationError> {
        if names.is_empty() {
            return Ok((0..self.config.monitors.len()).collect());
        }
        names
            .iter()
            .map(|name| {
                self.config
                    .monitors
                    .iter()
                    .position(|m| &m.name == name)
                    .ok_or_else(|| {
                        OperationError::new(
                            ErrorCode::NotFound,
                            format!("monitor \"{name}\" is not in the configuration; 'clpstat -m' lists the monitors"),
                        )
                    })
            })
            .collect()
    }

    /// `clpmonctrl -s [-m MON]`.
    pub fn suspend_monitors(&self, names: &[String]) -> Result<(), OperationError> {
        self.set_monitors_suspended(names, true)
    }

    /// `clpmonctrl -r [-m MON]`.
    pub fn resume_monitors(&self, names: &[String]) -> Result<(), OperationError> {
        self.set_monitors_suspended(names, false)
    }

    /// Suspends or resumes the named monitors (all when none): rm 29/30 for each named one,
    /// rm 31/32 for all.
    fn set_monitors_suspended(
        &self,
        names: &[String],
        suspend: bool,
    ) -> Result<(), OperationError> {
        let indexes = self.monitor_indexes(names)?;
        let mut state = self.lock();
        if suspend && state.daemon == DaemonState::Suspended {
            return Err(OperationError::new(
                ErrorCode::Suspended,
                "clppm is suspended; every monitor is already stopped",
            ));
        }
        let (one, all) = if suspend { (29, 31) } else { (30, 32) };
        for &index in &indexes {
            if state.monitors[index].suspended != suspend {
                state.monitors[index].suspended = suspend;
                if !names.is_empty() {
                    self.alert("rm", one, &[&self.config.monitors[index].name]);
                }
            }
        }
        if names.is_empty() {
            self.alert("rm", all, &[]);
        }
        self.refresh_monitors(&mut state, Cause::Suspension);
        Ok(())
    }

    /// `clpmonctrl -e -m MON` / `-n [-m MON]`: a monitor reports a fault without anything
    /// being broken, so an operator can drill the whole recovery ladder (rm 180–183; rm
    /// 184/185 and nothing changed when a named monitor never runs).
    pub fn set_dummy_failure(&self, names: &[String], enable: bool) -> Result<(), OperationError> {
        if enable && names.is_empty() {
            return Err(OperationError::new(
                ErrorCode::Failed,
                "name the monitor to fail with -m MONITOR",
            ));
        }
        let indexes = self.monitor_indexes(names)?;
        let mut state = self.lock();
        if state.daemon != DaemonState::Running {
            return Err(OperationError::new(
                ErrorCode::Suspended,
                "clppm is suspended or stopping; dummy failure needs running monitors",
            ));
        }
        if names.is_empty() {
            self.alert("rm", if enable { 182 } else { 183 }, &[]);
        }
        // A named monitor that never runs cannot report a dummy failure (rm 184/185).
        let idle: Vec<&str> = indexes
            .iter()
            .filter(|&&index| {
                !names.is_empty()
                    && (state.monitors[index].unlicensed || state.monitors[index].unbuilt)
            })
            .map(|&index| self.config.monitors[index].name.as_str())
            .collect();
        if !idle.is_empty() {
            for name in &idle {
                self.alert("rm", if enable { 184 } else { 185 }, &[name]);
            }
            return Err(OperationError::new(
                ErrorCode::Failed,
                format!(
                    "{} never runs (its option license is missing, or its parameters were refused: see the alert log), so it cannot be put in or out of dummy-failure mode",
                    idle.join(", ")
                ),
            ));
        }
        for index in indexes {
            if state.monitors[index].dummy_failure != enable {
                state.monitors[index].dummy_failure = enable;
                let name = &self.config.monitors[index].name;
                self.alert("rm", if enable { 180 } else { 181 }, &[name]);
            }
        }
        Ok(())
    }

    /// `clpmonctrl -c [-m MON]`.
    pub fn clear_counters(&self, names: &[String]) -> Result<(), OperationError> {
        let indexes = self.monitor_indexes(names)?;
        let mut state = self.lock();
        for index in indexes {
            state.monitors[index].ladder.clear_counters();
            let name = &self.config.monitors[index].name;
            if let Err(error) =
                self.store
                    .put_monitor(name, &state.monitors[index].ladder, Durable::Now)
            {
                return Err(OperationError::new(ErrorCode::Failed, error.to_string()));
            }
        }
        Ok(())
    }

    /// `clpmonctrl -v [-m MON]`.
    pub fn counters(&self, names: &[String]) -> Result<Vec<MonitorState>, OperationError> {
        let indexes = self.monitor_indexes(names)?;
        let status = self.status();
        Ok(indexes
            .into_iter()
            .map(|i| status.monitors[i].clone())
            .collect())
    }
}
