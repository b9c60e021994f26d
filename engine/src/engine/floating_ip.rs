//! The fip resource: a floating IP brought up and down through clp-net, with the
//! original's alerts (`fip 10` another host answers for the address, `fip 11` forced
//! activation over it). In an HA cluster the keeper is told of the address while it is up,
//! so that it takes the address down with the groups' processes when clppm dies.

use std::sync::Arc;

use super::Engine;
use super::resources::Failure;
use clp_core::config::ResourceConfig;
use clp_core::resource::fip;
use clp_net::{ActivationError, FloatingIp};

/// The detail code of a fip activation refused because the address is in use (the
/// original's `fip 10`).
const IN_USE: &str = "10";
/// The detail code of any other fip failure.
const FAILED: &str = "1";

fn floating_ip(resource: &ResourceConfig) -> Result<(FloatingIp, bool), Failure> {
    let (params, problems) = fip::parse(&resource.parameters);
    if !problems.is_empty() {
        return Err(Failure::new(FAILED, problems.join("; ")));
    }
    Ok((FloatingIp::from(&params), params.forced_activation))
}

impl Engine {
    /// Activates a fip resource: probe, add, announce.
    pub(super) async fn start_floating_ip(
        self: &Arc<Self>,
        resource: &ResourceConfig,
    ) -> Result<(), Failure> {
        let (address, force) = floating_ip(resource)?;
        let text = address.address.to_string();
        // Told before the address exists: a clppm killed in between leaves nothing the
        // keeper does not know of.
        self.guard_address(address.address);
        match address.activate(force).await {
            Ok(activated) => {
                if let Some(other) = activated.forced_over {
                    tracing::warn!(resource = %resource.name, address = %text, other = %clp_net::mac_text(&other), "another host answers for the address; forced activation");
                    self.alert("fip", 11, &[&text]);
                }
                tracing::info!(resource = %resource.name, address = %text, interface = %activated.interface, added = activated.added, "floating IP up");
                Ok(())
            }
            Err(error) => {
                self.release_address(address.address);
                if matches!(error, ActivationError::InUse { .. }) {
                    self.alert("fip", 10, &[&text]);
                    return Err(Failure::new(IN_USE, error.to_string()));
                }
                Err(Failure::new(FAILED, error.to_string()))
            }
        }
    }

    /// Deactivates a fip resource: the address goes; an absent one is a success.
    pub(super) async fn stop_floating_ip(
        self: &Arc<Self>,
        resource: &ResourceConfig,
    ) -> Result<(), Failure> {
        let (address, _) = floating_ip(resource)?;
        match address.deactivate().await {
            Ok(removed) => {
                tracing::info!(resource = %resource.name, address = %address.address, removed, "floating IP down");
                self.release_address(address.address);
                Ok(())
            }
            Err(error) => Err(Failure::new(FAILED, error.to_string())),
        }
    }
}
