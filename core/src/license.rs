//! Licenses: the products, the one-line key files, their ed25519 signatures, trials, and
//! whether a product may run today.
//!
//! A key file is the original's one line `kind,key,PRODUCTID,count,start,end,user` (`end`
//! empty for a perpetual license). `key` is an ed25519 signature, in hex, of the other
//! fields (`kind,PRODUCTID,count,start,end,user`) by an issuer whose public key is trusted in
//! `$CLP_ROOT/etc/license-issuers/*.pub` (64 hex characters). Every key file must carry that
//! signature, a trial's included: an unsigned or edited line is refused. A local trial is
//! never read from a file: clp makes it ([`start_trial`], `clplcncs --trial -P PRODUCT`),
//! valid [`TRIAL_DAYS`] from today, once per product per server. Which trials were used is
//! kept in `$CLP_ROOT/var/license-trials`
//! ([`Paths::license_trials_file`](crate::paths::Paths::license_trials_file)), outside the
//! store and outside what the installer's uninstall removes.
//!
//! The original's product ids (`XSSS40`, `ISAG40`, ...) name the same products as clp's
//! ([`original`]); its own key files (six fields, no clp signature) are refused with a
//! message that says what they are.

mod keys;
pub mod original;
mod products;
mod registry;
mod state;
mod trials;

pub use keys::{
    generate_key_pair, issuers_dir, read_public_key, read_signing_key, sign, trusted_issuers,
};
pub use products::{
    CORE_PRODUCT, HA_PRODUCT, PRODUCTS, Product, core_product, product, required_product,
};
pub use registry::{RegistryError, Removal, register, remove};
pub use state::{product_state, state_alert};
pub use trials::{start_trial, trial_used};

use std::path::Path;

use chrono::{Duration, NaiveDate};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use keys::decode_hex;

/// How long a trial license is valid from its registration.
pub const TRIAL_DAYS: i64 = 60;

/// The kind of a license.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LicenseKind {
    /// A perpetual product license.
    Product,
    /// Valid between two dates.
    Fixed,
    /// A trial.
    Trial,
}

impl LicenseKind {
    fn word(self) -> &'static str {
        match self {
            LicenseKind::Product => "product",
            LicenseKind::Fixed => "fixed",
            LicenseKind::Trial => "trial",
        }
    }

    fn parse(word: &str) -> Option<LicenseKind> {
        match word {
            "product" => Some(LicenseKind::Product),
            "fixed" => Some(LicenseKind::Fixed),
            "trial" => Some(LicenseKind::Trial),
            _ => None,
        }
    }
}

/// One registered license.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct License {
    /// Its serial number (from the signature; `TRIAL-<product>` for trials).
    pub serial: String,
    /// Its kind.
    pub kind: LicenseKind,
    /// The product id.
    pub product: String,
    /// The licensed count (CPUs or nodes).
    pub count: u32,
    /// First valid day.
    pub start: NaiveDate,
    /// Last valid day (none: perpetual).
    pub end: Option<NaiveDate>,
    /// The licensee.
    pub user: String,
    /// The signature in hex (empty for trials).
    pub key: String,
}

/// Whether a license (or a product) may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenseState {
    /// Valid today.
    Valid,
    /// Past its end date.
    Expired,
    /// Before its start date.
    NotYetValid,
    /// The signature does not verify with any trusted issuer.
    Invalid,
    /// No license of the product is registered.
    NotRegistered,
}

impl LicenseState {
    /// The word the listing prints after `Status.....`.
    pub fn as_str(self) -> &'static str {
        match self {
            LicenseState::Valid => "valid",
            LicenseState::Expired => "expired",
            LicenseState::NotYetValid => "invalid",
            LicenseState::Invalid => "invalid",
            LicenseState::NotRegistered => "unregistered",
        }
    }
}

/// Why a license file or key was refused.
#[derive(Debug, thiserror::Error)]
pub enum LicenseError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The line is not a license.
    #[error(
        "{what}: not a license key line ({why}); expected kind,key,PRODUCT,count,start,end,user"
    )]
    Format {
        /// The file or text named.
        what: String,
        /// What is wrong.
        why: String,
    },
    /// An unknown product.
    #[error("{}", original::unknown_product_text(.0))]
    UnknownProduct(String),
    /// A key file of the original product (six fields, not signed for clp).
    #[error(
        "{what}: this is a license key file of the original CLUSTERPRO/FailSafe ({kind} license of {product}, {start} to {end}); clp accepts only keys signed by clplcncs-issue: {}",
        original::original_key_advice(product)
    )]
    OriginalKeyFile {
        /// The file or text named.
        what: String,
        /// Its kind word (`trial`).
        kind: String,
        /// Its product id (`XSSS40`).
        product: String,
        /// Its first day, as written.
        start: String,
        /// Its last day, as written.
        end: String,
    },
    /// The product given with -P does not match the file.
    #[error("the key file is for {file}, not {given}")]
    ProductMismatch {
        /// In the file.
        file: String,
        /// On the command line.
        given: String,
    },
    /// The line carries no signature.
    #[error(
        "{what}: the license of {product} is not signed (its key field is empty); only lines signed by a trusted issuer (clplcncs-issue) are accepted, and a trial is started with 'clplcncs --trial -P {product}'"
    )]
    Unsigned {
        /// The file or text named.
        what: String,
        /// The product.
        product: String,
    },
    /// The key field is not an ed25519 signature.
    #[error(
        "{what}: the key of the {product} license is not a signature (expected 128 hex characters, found {found}); use the file the issuer sent, unedited"
    )]
    NotASignature {
        /// The file or text named.
        what: String,
        /// The product.
        product: String,
        /// How many characters the key has.
        found: usize,
    },
    /// The signature does not verify.
    #[error("{what}: the license key of {product} does not verify with any trusted issuer in {}: the line was edited after signing or signed by an issuer this server does not trust", issuers.display())]
    BadSignature {
        /// The file or text named.
        what: String,
        /// The product.
        product: String,
        /// The issuers folder.
        issuers: std::path::PathBuf,
    },
    /// No issuer is trusted, so no signature can verify.
    #[error(
        "{what}: no trusted license issuer in {}: put the issuer's public key (*.pub) there, or start a trial with 'clplcncs --trial -P {product}'", issuers.display()
    )]
    NoIssuers {
        /// The file or text named.
        what: String,
        /// The product.
        product: String,
        /// The issuers folder.
        issuers: std::path::PathBuf,
    },
    /// The trial-use record could not be read or written.
    #[error("{}: {source}; the trial was not started", path.display())]
    TrialRecord {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A trial was used before.
    #[error(
        "the trial of {product} was already used on this server (registered {registered}); register a license key with -I"
    )]
    TrialUsed {
        /// The product.
        product: String,
        /// When.
        registered: NaiveDate,
    },
    /// A key file for signing or trust is wrong.
    #[error("{}: {why}", path.display())]
    Key {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        why: String,
    },
}

fn date_word(date: Option<NaiveDate>) -> String {
    date.map(|d| d.format("%Y%m%d").to_string())
        .unwrap_or_default()
}

fn parse_date(word: &str, what: &str) -> Result<NaiveDate, LicenseError> {
    // Exactly eight digits: chrono alone also takes "+2026011" or "2026011" and the line
    // written back would differ from the one read.
    let digits = word.len() == 8 && word.bytes().all(|b| b.is_ascii_digit());
    digits
        .then(|| NaiveDate::parse_from_str(word, "%Y%m%d").ok())
        .flatten()
        .ok_or_else(|| LicenseError::Format {
            what: what.to_string(),
            why: format!("\"{word}\" is not a date YYYYMMDD"),
        })
}

impl License {
    /// What the issuer signs: every field but the key.
    pub fn payload(&self) -> String {
        format!(
            "{},{},{},{},{},{}",
            self.kind.word(),
            self.product,
            self.count,
            date_word(Some(self.start)),
            date_word(self.end),
            self.user
        )
    }

    /// The key-file line.
    pub fn to_line(&self) -> String {
        format!(
            "{},{},{},{},{},{},{},",
            self.kind.word(),
            self.key,
            self.product,
            self.count,
            date_word(Some(self.start)),
            date_word(self.end),
            self.user
        )
    }

    /// Parses a key-file line; `what` names it in errors.
    pub fn parse_line(line: &str, what: &str) -> Result<License, LicenseError> {
        let format = |why: &str| LicenseError::Format {
            what: what.to_string(),
            why: why.to_string(),
        };
        let line = line.trim();
        // One closing comma: a line whose last field (the user) is empty keeps its 7 fields.
        let fields: Vec<&str> = line.strip_suffix(',').unwrap_or(line).split(',').collect();
        if original::is_original_line(&fields) {
            return Err(LicenseError::OriginalKeyFile {
                what: what.to_string(),
                kind: fields[0].to_string(),
                product: fields[2].to_string(),
                start: fields[4].to_string(),
                end: fields[5].to_string(),
            });
        }
        if fields.len() != 7 {
            return Err(format(&format!("{} fields instead of 7", fields.len())));
        }
        let kind = LicenseKind::parse(fields[0]).ok_or_else(|| {
            format(&format!(
                "kind \"{}\" is not product, fixed or trial",
                fields[0]
            ))
        })?;
        let key = fields[1].to_string();
        let Some(product) = self::product(fields[2]).map(|p| p.id.to_string()) else {
            return Err(LicenseError::UnknownProduct(fields[2].to_string()));
        };
        let count = fields[3]
            .parse()
            .map_err(|_| format(&format!("count \"{}\" is not a number", fields[3])))?;
        let start = parse_date(fields[4], what)?;
        let end = if fields[5].is_empty() {
            None
        } else {
            Some(parse_date(fields[5], what)?)
        };
        if kind != LicenseKind::Product && end.is_none() {
            return Err(format("a trial or fixed-term license needs an end date"));
        }
        let serial = if kind == LicenseKind::Trial && key.is_empty() {
            format!("TRIAL-{product}")
        } else {
            key.chars().take(16).collect::<String>().to_uppercase()
        };
        let user = fields[6];
        if user.trim().is_empty() {
            return Err(format("the user name is empty"));
        }
        if user.chars().any(char::is_control) {
            return Err(format(&format!(
                "the user name {} holds a control character",
                user.escape_debug()
            )));
        }
        if key.chars().any(char::is_control) {
            return Err(format("the key holds a control character"));
        }
        Ok(License {
            serial,
            kind,
            product,
            count,
            start,
            end,
            user: user.to_string(),
            key,
        })
    }

    /// Reads a key file.
    pub fn read_file(path: &Path) -> Result<License, LicenseError> {
        let text = std::fs::read_to_string(path).map_err(|source| LicenseError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let line = text
            .lines()
            .find(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .unwrap_or("");
        License::parse_line(line, &path.display().to_string())
    }

    /// A local trial of `product` starting `today`.
    pub fn trial(product: &str, today: NaiveDate) -> Result<License, LicenseError> {
        let Some(product) = self::product(product).map(|p| p.id) else {
            return Err(LicenseError::UnknownProduct(product.to_string()));
        };
        Ok(License {
            serial: format!("TRIAL-{product}"),
            kind: LicenseKind::Trial,
            product: product.to_string(),
            count: 1,
            start: today,
            end: Some(today + Duration::days(TRIAL_DAYS - 1)),
            user: format!("trial {product}"),
            key: String::new(),
        })
    }

    /// Whether this is a trial exactly as clp makes it ([`License::trial`]): unsigned, one
    /// count, the fixed period. Nothing else unsigned is ever valid.
    pub fn is_local_trial(&self) -> bool {
        self.kind == LicenseKind::Trial
            && self.key.is_empty()
            && self.count == 1
            && self.serial == format!("TRIAL-{}", self.product)
            && self.end == Some(self.start + Duration::days(TRIAL_DAYS - 1))
    }

    /// Whether the signature verifies with one of `issuers`, or this is a local trial.
    pub fn verifies(&self, issuers: &[VerifyingKey]) -> bool {
        self.is_local_trial() || self.check_signature("", issuers, Path::new("")).is_ok()
    }

    /// Checks that the line carries an issuer's signature that verifies with one of
    /// `issuers`, and says why not; `what` names the file, `issuers_dir` where issuers live.
    pub fn check_signature(
        &self,
        what: &str,
        issuers: &[VerifyingKey],
        issuers_dir: &Path,
    ) -> Result<(), LicenseError> {
        let product = self.product.clone();
        let what = what.to_string();
        if self.key.trim().is_empty() {
            return Err(LicenseError::Unsigned { what, product });
        }
        let Some(bytes) = decode_hex::<64>(&self.key) else {
            return Err(LicenseError::NotASignature {
                what,
                product,
                found: self.key.trim().chars().count(),
            });
        };
        if issuers.is_empty() {
            return Err(LicenseError::NoIssuers {
                what,
                product,
                issuers: issuers_dir.to_path_buf(),
            });
        }
        let signature = Signature::from_bytes(&bytes);
        if issuers
            .iter()
            .any(|issuer| issuer.verify(self.payload().as_bytes(), &signature).is_ok())
        {
            Ok(())
        } else {
            Err(LicenseError::BadSignature {
                what,
                product,
                issuers: issuers_dir.to_path_buf(),
            })
        }
    }

    /// The state of this license on `today`.
    pub fn state(&self, today: NaiveDate, issuers: &[VerifyingKey]) -> LicenseState {
        if !self.verifies(issuers) {
            LicenseState::Invalid
        } else if today < self.start {
            LicenseState::NotYetValid
        } else if self.end.is_some_and(|end| today > end) {
            LicenseState::Expired
        } else {
            LicenseState::Valid
        }
    }
}

/// Today, local time.
pub fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

#[cfg(test)]
mod tests;
