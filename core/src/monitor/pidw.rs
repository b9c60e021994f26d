//! `pidw`: the process of an async exec resource is alive.
//!
//! Event-driven: the engine reports the process's exit the moment the kernel does (child
//! exit or pidfd), so detection does not wait for the interval. The periodic check only asks
//! the engine whether it still knows a live process for the resource (no /proc read), which is
//! also how the engine sees the target healthy again after a reactivation.

use super::spec::{
    DefaultRecovery, MonitorSpec, ProbeSettings, TargetRule, Timing, unknown_parameters,
};
use super::{CheckFuture, CheckOutcome, Probe, ProbeContext};
use crate::os_action::OsActions;

/// The pidw type.
pub static SPEC: MonitorSpec = MonitorSpec {
    kind: "pidw",
    interval: 5.0,
    timeout: 60.0,
    retry: 0,
    default_comment: "",
    forced_timing: Some(Timing::Active),
    target_rule: TargetRule::AsyncExecResource,
    default_recovery: DefaultRecovery::Target,
    check_parameters: |parameters| unknown_parameters(parameters, &[]),
    build,
};

/// The original's detail code for "process not found".
pub const PROCESS_GONE: u32 = 11;

fn build(_: &ProbeSettings<'_>, _: &OsActions) -> Result<Box<dyn Probe>, String> {
    Ok(Box::new(Pidw))
}

/// The pidw probe.
#[derive(Debug)]
pub struct Pidw;

/// The failure pidw reports.
pub fn process_gone() -> CheckOutcome {
    CheckOutcome::Failure {
        code: PROCESS_GONE,
        detail: "Process did not exist.".to_string(),
    }
}

impl Probe for Pidw {
    fn check(&mut self, context: ProbeContext) -> CheckFuture<'_> {
        Box::pin(async move {
            // The engine clears the target's process the moment its exit is seen (child
            // exit or pidfd), so its presence is the answer: no /proc read per check.
            match context.target_process {
                Some(_) => CheckOutcome::Normal,
                None => process_gone(),
            }
        })
    }

    fn watches_target_process(&self) -> bool {
        true
    }
}
