//! `fipw`: a floating IP stays up. Each check reads the interfaces over netlink: the fip
//! resource's address must be on an interface (the one its parameters name, if they name
//! one) and, with `monmii = 1`, that interface's link must be up (administratively and with
//! a carrier). A failure feeds the monitor's recovery ladder, whose default target is the
//! fip resource: reactivation puts the address back.
//!
//! Defaults: interval 60 s, timeout 180 s, retry 1. Detail codes (ours): [`MISSING`],
//! [`LINK_DOWN`], [`UNREADABLE`], [`OTHER_INTERFACE`].

use clp_core::monitor::fipw::*;
use clp_core::monitor::spec::ProbeSettings;
use clp_core::monitor::{CheckFuture, CheckOutcome, Probe, ProbeContext};
use clp_core::os_action::OsActions;
use clp_core::resource::fip;
use clp_net::{CheckFailure, FloatingIp};

/// Builds the probe of a validated monitor ([`clp_core::monitor::spec::BuildProbe`]).
pub fn build(config: &ProbeSettings<'_>, _: &OsActions) -> Result<Box<dyn Probe>, String> {
    let (params, problems) = parse(config.parameters);
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    let (target, problems) = fip::parse(config.target_parameters);
    if !problems.is_empty() {
        return Err(format!(
            "its target is not a valid fip resource: {}",
            problems.join("; ")
        ));
    }
    Ok(Box::new(Fipw {
        address: FloatingIp::from(&target),
        monmii: params.monmii,
    }))
}

/// The fipw probe.
#[derive(Debug)]
pub struct Fipw {
    address: FloatingIp,
    monmii: bool,
}

impl Probe for Fipw {
    fn check(&mut self, _: ProbeContext) -> CheckFuture<'_> {
        Box::pin(async move {
            match self.address.check(self.monmii).await {
                Ok(_) => CheckOutcome::Normal,
                Err(failure) => {
                    let code = match &failure {
                        CheckFailure::Missing(_) => MISSING,
                        CheckFailure::OnOtherInterface { .. } => OTHER_INTERFACE,
                        CheckFailure::LinkDown(_) => LINK_DOWN,
                        CheckFailure::Netlink(_) => UNREADABLE,
                    };
                    CheckOutcome::Failure {
                        code,
                        detail: failure.to_string(),
                    }
                }
            }
        })
    }
}
