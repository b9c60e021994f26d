//! Whether a product may run today, and the alert that says so.

use chrono::NaiveDate;
use ed25519_dalek::VerifyingKey;

use super::{License, LicenseKind, LicenseState};

/// The state of a product given every registered license: valid when one is.
pub fn product_state<'a>(
    licenses: &'a [License],
    product: &str,
    today: NaiveDate,
    issuers: &[VerifyingKey],
) -> (LicenseState, Option<&'a License>) {
    let mut best: (LicenseState, Option<&License>) = (LicenseState::NotRegistered, None);
    for license in licenses.iter().filter(|l| l.product == product) {
        let state = license.state(today, issuers);
        if state == LicenseState::Valid {
            return (state, Some(license));
        }
        best = (state, Some(license));
    }
    best
}

/// The alert (lcns module) that tells the state of a product at daemon start.
pub fn state_alert(
    product: &str,
    state: LicenseState,
    license: Option<&License>,
) -> (u32, Vec<String>) {
    let end = license
        .and_then(|l| l.end)
        .map(|d| d.format("%Y/%m/%d").to_string())
        .unwrap_or_default();
    let start = license
        .map(|l| l.start.format("%Y/%m/%d").to_string())
        .unwrap_or_default();
    let kind = license.map(|l| l.kind);
    match (state, kind) {
        (LicenseState::Valid, Some(LicenseKind::Trial)) => (2, vec![end, product.into()]),
        (LicenseState::Valid, Some(LicenseKind::Fixed)) => (9, vec![end, product.into()]),
        (LicenseState::Valid, _) => (
            1,
            vec![license.map_or(1, |l| l.count).to_string(), product.into()],
        ),
        (LicenseState::Expired, Some(LicenseKind::Trial)) => (5, vec![end, product.into()]),
        (LicenseState::Expired, _) => (10, vec![end, product.into()]),
        (LicenseState::NotYetValid, _) => (8, vec![start, product.into()]),
        (LicenseState::Invalid, _) => (
            6,
            vec![
                product.into(),
                license.map(|l| l.serial.clone()).unwrap_or_default(),
            ],
        ),
        (LicenseState::NotRegistered, _) => (4, vec![product.into()]),
    }
}
