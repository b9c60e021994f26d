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
//! kept in `$CLP_ROOT/var/license-trials` ([`Paths::license_trials_file`]), outside the store
//! and outside what the installer's uninstall removes.
//!
//! The original's product ids (`XSSS40`, `ISAG40`, ...) name the same products as clp's
//! ([`original`]); its own key files (six fields, no clp signature) are refused with a
//! message that says what they are.

pub mod original;

use std::path::Path;

use chrono::{Duration, NaiveDate};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::paths::Paths;

/// How long a trial license is valid from its registration.
pub const TRIAL_DAYS: i64 = 60;

/// A product that needs a license.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Product {
    /// The product id (`XSS10`).
    pub id: &'static str,
    /// The name the listing shows.
    pub name: &'static str,
}

/// The core product: without a valid license for it, clppm does not start.
pub const CORE_PRODUCT: &str = "XSS10";

/// Every product, with the seed's ids.
pub const PRODUCTS: &[Product] = &[
    Product {
        id: "XSS10",
        name: "Cluster CPU License CLUSTERPRO X SingleServerSafe 1.0 for Linux",
    },
    Product {
        id: "ISAG10",
        name: "Cluster License CLUSTERPRO X Internet Server Agent 1.0 for Linux",
    },
    Product {
        id: "DBAG10",
        name: "Cluster License CLUSTERPRO X Database Agent 1.0 for Linux",
    },
    Product {
        id: "FSAG10",
        name: "Cluster License CLUSTERPRO X File Server Agent 1.0 for Linux",
    },
    Product {
        id: "ALRT10",
        name: "Cluster License CLUSTERPRO X Alert Service 1.0 for Linux",
    },
];

/// The product of an id: clp's (`XSS10`) or the original's (`XSSS40`), in any case.
pub fn product(id: &str) -> Option<&'static Product> {
    PRODUCTS
        .iter()
        .find(|p| p.id.eq_ignore_ascii_case(id))
        .or_else(|| {
            let clp = original::original_product(id)?.clp?;
            PRODUCTS.iter().find(|p| p.id == clp)
        })
}

/// The option license a monitor type needs (the original's agents), if any.
pub fn required_product(monitor_kind: &str) -> Option<&'static str> {
    match monitor_kind {
        "httpw" | "smtpw" | "ftpw" | "imap4w" | "pop3w" => Some("ISAG10"),
        "psqlw" | "mysqlw" | "oraclew" | "db2w" | "odbcw" | "sqlserverw" | "sybasew" => {
            Some("DBAG10")
        }
        "sambaw" | "nfsw" => Some("FSAG10"),
        _ => None,
    }
}

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
/// trusted issuer of `paths` (trials included; a local trial is started by [`start_trial`]).
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

/// `etc/license-issuers/`: the trusted issuers' public keys.
pub fn issuers_dir(paths: &Paths) -> std::path::PathBuf {
    paths.license_issuers_dir()
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
    let partial = crate::paths::temporary_for(&path, "partial");
    std::fs::write(&partial, text).map_err(failed)?;
    std::fs::rename(&partial, &path).map_err(failed)
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

/// Decodes `N` bytes of hex.
fn decode_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let text = text.trim();
    if text.len() != N * 2 {
        return None;
    }
    let mut bytes = [0u8; N];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(bytes)
}

fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The trusted issuers: every `*.pub` file (64 hex characters) in `etc/license-issuers/`.
pub fn trusted_issuers(paths: &Paths) -> Vec<VerifyingKey> {
    let dir = issuers_dir(paths);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut keys = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("pub") {
            continue;
        }
        match read_public_key(&path) {
            Ok(key) => keys.push(key),
            Err(error) => tracing::warn!("{error}"),
        }
    }
    keys
}

/// Reads a public key file (64 hex characters).
pub fn read_public_key(path: &Path) -> Result<VerifyingKey, LicenseError> {
    let bad = |why: &str| LicenseError::Key {
        path: path.to_path_buf(),
        why: why.to_string(),
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(&e.to_string()))?;
    let bytes = decode_hex::<32>(&text).ok_or_else(|| bad("not 64 hex characters"))?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| bad("not an ed25519 public key"))
}

/// Reads an issuer's private key (64 hex characters), refusing a file others may read.
pub fn read_signing_key(path: &Path) -> Result<SigningKey, LicenseError> {
    use std::os::unix::fs::PermissionsExt;
    let bad = |why: String| LicenseError::Key {
        path: path.to_path_buf(),
        why,
    };
    let meta = std::fs::metadata(path).map_err(|e| bad(e.to_string()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(bad(
            "the private key must be readable by its owner only (chmod 600)".into(),
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let bytes = decode_hex::<32>(&text).ok_or_else(|| bad("not 64 hex characters".into()))?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// A new key pair from the kernel's random source: (private hex, public hex).
pub fn generate_key_pair() -> std::io::Result<(String, String)> {
    use std::io::Read;
    let mut seed = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut seed)?;
    let key = SigningKey::from_bytes(&seed);
    Ok((
        encode_hex(&seed),
        encode_hex(&key.verifying_key().to_bytes()),
    ))
}

/// Signs a license (fills `key` and `serial`).
pub fn sign(mut license: License, issuer: &SigningKey) -> License {
    license.key = encode_hex(&issuer.sign(license.payload().as_bytes()).to_bytes());
    license.serial = license
        .key
        .chars()
        .take(16)
        .collect::<String>()
        .to_uppercase();
    license
}

/// Today, local time.
pub fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y%m%d").unwrap()
    }

    fn issuer() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    fn fixed() -> License {
        License {
            serial: String::new(),
            kind: LicenseKind::Fixed,
            product: "XSS10".into(),
            count: 2,
            start: date("20260101"),
            end: Some(date("20261231")),
            user: "sample XSS10".into(),
            key: String::new(),
        }
    }

    #[test]
    fn a_signed_line_round_trips_and_verifies() {
        let signed = sign(fixed(), &issuer());
        let line = signed.to_line();
        assert!(line.starts_with("fixed,"));
        assert!(line.ends_with(",XSS10,2,20260101,20261231,sample XSS10,"));
        let parsed = License::parse_line(&line, "t").unwrap();
        assert_eq!(parsed, signed);
        let trusted = [issuer().verifying_key()];
        assert_eq!(
            parsed.state(date("20260601"), &trusted),
            LicenseState::Valid
        );
        assert_eq!(
            parsed.state(date("20270101"), &trusted),
            LicenseState::Expired
        );
        assert_eq!(
            parsed.state(date("20251231"), &trusted),
            LicenseState::NotYetValid
        );
        let other = [SigningKey::from_bytes(&[8u8; 32]).verifying_key()];
        assert_eq!(
            parsed.state(date("20260601"), &other),
            LicenseState::Invalid
        );
    }

    #[test]
    fn a_tampered_line_does_not_verify() {
        let line = sign(fixed(), &issuer()).to_line().replace(",2,", ",64,");
        let parsed = License::parse_line(&line, "t").unwrap();
        assert_eq!(
            parsed.state(date("20260601"), &[issuer().verifying_key()]),
            LicenseState::Invalid
        );
    }

    #[test]
    fn bad_lines_say_why() {
        assert!(
            License::parse_line("trial,,XSS10", "f")
                .unwrap_err()
                .to_string()
                .contains("3 fields")
        );
        assert!(
            License::parse_line("trial,,NOPE,1,20260101,20260201,u,", "f")
                .unwrap_err()
                .to_string()
                .contains("unknown product")
        );
        assert!(
            License::parse_line("trial,,XSS10,1,2026-01-01,20260201,u,", "f")
                .unwrap_err()
                .to_string()
                .contains("not a date")
        );
    }

    #[test]
    fn the_originals_key_lines_and_ids_are_told_apart() {
        let error = License::parse_line("trial,0A1B,XSSS40,1,20210101,20210331,", "k")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("k: this is a license key file of the original"),
            "{error}"
        );
        assert!(error.contains("key of XSS10"), "{error}");
        let error = License::parse_line("trial,,XSS10,1,20260101,20260301,,", "k")
            .unwrap_err()
            .to_string();
        assert!(error.contains("the user name is empty"), "{error}");
        let line = License::parse_line("trial,,xsss40,1,20260101,20260301,u,", "k").unwrap();
        assert_eq!(line.product, "XSS10");
        assert_eq!(line.serial, "TRIAL-XSS10");
        let trial = License::trial("ALRT40", NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()).unwrap();
        assert_eq!(trial.product, "ALRT10");
        assert!(trial.is_local_trial());
        assert!(product("REPL33").is_none());
    }

    #[test]
    fn only_signed_lines_pass_the_signature_check() {
        let trusted = [issuer().verifying_key()];
        let dir = Path::new("/x/etc/license-issuers");
        let check = |line: &str| {
            License::parse_line(line, "f.key")
                .unwrap()
                .check_signature("f.key", &trusted, dir)
                .map_err(|e| e.to_string())
        };
        // The forged trials: no key, or a big count.
        let error = check("trial,,XSS10,1,20260101,29991231,attacker,").unwrap_err();
        assert!(
            error.starts_with("f.key: the license of XSS10 is not signed"),
            "{error}"
        );
        assert!(check("trial,,XSS10,9999,20260101,29991231,attacker,").is_err());
        // A signed trial whose key was emptied and whose end was moved.
        let mut trial = fixed();
        trial.kind = LicenseKind::Trial;
        let signed = sign(trial, &issuer());
        assert!(check(&signed.to_line()).is_ok());
        let emptied = signed
            .to_line()
            .replace(&signed.key, "")
            .replace("20261231", "29991231");
        assert!(check(&emptied).unwrap_err().contains("is not signed"));
        let moved = signed.to_line().replace("20261231", "29991231");
        let error = check(&moved).unwrap_err();
        assert!(
            error.contains("does not verify with any trusted issuer in /x/etc/license-issuers"),
            "{error}"
        );
        let short = signed.to_line().replace(&signed.key, "abcd");
        assert!(check(&short).unwrap_err().contains("found 4"));
        let none = License::parse_line(&signed.to_line(), "f.key")
            .unwrap()
            .check_signature("f.key", &[], dir)
            .unwrap_err()
            .to_string();
        assert!(none.contains("no trusted license issuer"), "{none}");
    }

    #[test]
    fn an_unsigned_trial_is_valid_only_in_the_shape_clp_makes() {
        let today = date("20261125");
        let trial = License::trial("XSS10", today).unwrap();
        assert_eq!(trial.state(today, &[]), LicenseState::Valid);
        let mut longer = trial.clone();
        longer.end = Some(date("29991231"));
        assert_eq!(longer.state(today, &[]), LicenseState::Invalid);
        let mut more = trial.clone();
        more.count = 9999;
        assert_eq!(more.state(today, &[]), LicenseState::Invalid);
    }

    #[test]
    fn a_trial_starts_once_and_its_record_outlives_the_store() {
        let root = tempfile::tempdir().unwrap();
        let paths = Paths::new(root.path());
        let today = date("20261125");
        {
            let store = crate::store::Store::open(&paths.store_dir()).unwrap();
            let trial = start_trial(&store, &paths, "XSS10", today).unwrap();
            assert_eq!(trial.end, Some(date("20270123")));
            let again = start_trial(&store, &paths, "XSS10", today).unwrap_err();
            assert!(again.to_string().contains("already used"), "{again}");
            start_trial(&store, &paths, "ISAG10", today).unwrap();
            // A forged trial sent as a registration is refused.
            let forged = License::parse_line("trial,,DBAG10,1,20260101,29991231,a,", "x").unwrap();
            assert!(register(&store, &paths, &forged).is_err());
        }
        std::fs::remove_dir_all(paths.store_dir()).unwrap();
        let store = crate::store::Store::open(&paths.store_dir()).unwrap();
        let again = start_trial(&store, &paths, "ISAG10", today).unwrap_err();
        assert!(again.to_string().contains("already used"), "{again}");
        let text = std::fs::read_to_string(paths.license_trials_file()).unwrap();
        assert_eq!(text, "XSS10 20261125\nISAG10 20261125\n");
    }

    #[test]
    fn a_trial_lasts_its_period() {
        let trial = License::trial("ISAG10", date("20261125")).unwrap();
        assert_eq!(trial.end, Some(date("20270123")));
        assert_eq!(trial.state(date("20270123"), &[]), LicenseState::Valid);
        assert_eq!(trial.state(date("20270124"), &[]), LicenseState::Expired);
        let (state, _) = product_state(&[trial], "XSS10", date("20261125"), &[]);
        assert_eq!(state, LicenseState::NotRegistered);
    }

    #[test]
    fn user_names_and_dates_are_refused_unless_they_read_back_the_same() {
        // Found by the fuzzer (fuzz/ license): these were accepted, and the line written
        // back was not the line read (or carried a control character to every screen).
        for (line, why) in [
            (
                "trial,,XSS10,1,20260101,20260201,us\u{18}r,",
                "control character",
            ),
            (
                "trial,,XSS10,1,20260101,20260201,a\u{1b}[31m,",
                "control character",
            ),
            ("trial,,XSS10,1,20260101,20260201, ,", "user name is empty"),
            ("trial,,XSS10,1,2026011,20260201,u,", "not a date"),
            ("trial,,XSS10,1,+20260101,20260201,u,", "not a date"),
            ("trial,,XSS10,1,20260101,020260201,u,", "not a date"),
        ] {
            let error = License::parse_line(line, "f").expect_err(line).to_string();
            assert!(error.contains(why), "{line:?}: {error}");
        }
        let good =
            License::parse_line("trial,,XSS10,1,20260101,20260201,Example Ltd,", "f").unwrap();
        assert_eq!(License::parse_line(&good.to_line(), "f").unwrap(), good);
    }
}
