//! Local trials: started once per product per server, recorded outside the store.

use chrono::NaiveDate;

use super::{License, LicenseError, RegistryError};
use crate::paths::Paths;

/// Starts the local trial of `product` on `today`, with the period clp computes; once per
/// product per server (the record in `var/license-trials` survives deleting the trial,
/// the store and an uninstall).
pub fn start_trial(
    store: &crate::store::Store,
    paths: &Paths,
    product: &str,
    today: NaiveDate,
) -> Result<License, RegistryError> {
    let trial = License::trial(product, today)?;
    if let Some(registered) = trial_used(store, paths, &trial.product)? {
        return Err(LicenseError::TrialUsed {
            product: trial.product,
            registered,
        }
        .into());
    }
    mark_trial_used(paths, &trial.product, today)?;
    // The store's own record too, for a clp that predates the file.
    store.mark_trial(&trial.product, &today)?;
    store.put_license(&trial.serial, &trial)?;
    Ok(trial)
}

/// The used trials recorded in `var/license-trials`: one `PRODUCT YYYYMMDD` line each.
fn recorded_trials(paths: &Paths) -> Result<Vec<(String, NaiveDate)>, LicenseError> {
    let path = paths.license_trials_file();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(LicenseError::TrialRecord { path, source }),
    };
    Ok(text
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let product = words.next()?.to_string();
            // An unreadable date still marks the trial as used.
            let date = words
                .next()
                .and_then(|w| NaiveDate::parse_from_str(w, "%Y%m%d").ok())
                .unwrap_or_default();
            Some((product, date))
        })
        .collect())
}

/// When the trial of `product` was started on this server, if ever (the file, or the
/// store's record of an older clp).
pub fn trial_used(
    store: &crate::store::Store,
    paths: &Paths,
    product: &str,
) -> Result<Option<NaiveDate>, RegistryError> {
    if let Some((_, date)) = recorded_trials(paths)?
        .into_iter()
        .find(|(p, _)| p == product)
    {
        return Ok(Some(date));
    }
    Ok(store.trial_registered::<NaiveDate>(product)?)
}

/// Records that the trial of `product` was started (temporary file, then rename).
fn mark_trial_used(paths: &Paths, product: &str, today: NaiveDate) -> Result<(), LicenseError> {
    let path = paths.license_trials_file();
    let failed = |source| LicenseError::TrialRecord {
        path: path.clone(),
        source,
    };
    let mut text: String = recorded_trials(paths)?
        .iter()
        .map(|(p, d)| format!("{p} {}\n", d.format("%Y%m%d")))
        .collect();
    text.push_str(&format!("{product} {}\n", today.format("%Y%m%d")));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    crate::paths::write_replacing(&path, "partial", text.as_ref()).map_err(failed)
}
