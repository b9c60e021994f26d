//! `pidw`: the process of an async exec resource is alive.
//!
//! Event-driven: the engine reports the process's exit the moment the kernel does (child
//! exit or pidfd), so detection does not wait for the interval. The periodic check only asks
//! the engine whether it still knows a live process for the resource (no /proc read), which is
//! also how the engine sees the target healthy again after a reactivation.

use clp_core::monitor::pidw::*;
use clp_core::monitor::spec::ProbeSettings;
use clp_core::monitor::{CheckFuture, CheckOutcome, Probe, ProbeContext};
use clp_core::os_action::OsActions;

/// Builds the probe of a validated monitor ([`clp_core::monitor::spec::BuildProbe`]).
pub fn build(_: &ProbeSettings<'_>, _: &OsActions) -> Result<Box<dyn Probe>, String> {
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

    fn healthy_while_target_alive(&self) -> bool {
        true
    }
}
