//! The store of registrations: registering a signed license and removing licenses.

use serde::{Deserialize, Serialize};

use super::{License, LicenseError, LicenseKind, issuers_dir, trusted_issuers};
use crate::paths::Paths;

/// Which licenses `clplcncs -d` removes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Removal {
    /// The one with this serial number.
    Serial(String),
    /// Every trial.
    Trials,
    /// Every license.
    All,
}

/// Why a registration or removal failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The license itself is refused.
    #[error(transparent)]
    License(#[from] LicenseError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Nothing matched a removal.
    #[error("no registered license has serial number {0}; 'clplcncs -l' lists them")]
    NoSuchSerial(String),
}

/// Registers a signed license in the store: refused unless its signature verifies with a
/// trusted issuer of `paths` (trials included; a local trial is started by
/// [`start_trial`](super::start_trial)).
pub fn register(
    store: &crate::store::Store,
    paths: &Paths,
    license: &License,
) -> Result<(), RegistryError> {
    license.check_signature(
        &format!("the {} license", license.product),
        &trusted_issuers(paths),
        &issuers_dir(paths),
    )?;
    store.put_license(&license.serial, license)?;
    Ok(())
}

/// Removes licenses; returns how many.
pub fn remove(store: &crate::store::Store, removal: &Removal) -> Result<usize, RegistryError> {
    let licenses: Vec<License> = store.licenses()?;
    let doomed: Vec<&License> = licenses
        .iter()
        .filter(|l| match removal {
            Removal::Serial(serial) => l.serial.eq_ignore_ascii_case(serial),
            Removal::Trials => l.kind == LicenseKind::Trial,
            Removal::All => true,
        })
        .collect();
    if doomed.is_empty()
        && let Removal::Serial(serial) = removal
    {
        return Err(RegistryError::NoSuchSerial(serial.clone()));
    }
    for license in &doomed {
        store.remove_license(&license.serial)?;
    }
    Ok(doomed.len())
}
