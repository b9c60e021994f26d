//! `clplcncs` (and its later spelling `clplcnsc`): register, list and delete licenses.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use clap::{ArgGroup, Parser};
use clp_core::client::Session;
use clp_core::license::{self, License, Removal};

use crate::cli::{self, CliError, Refusal};
use crate::render::{self, license_listing as listing};

/// Register, list or delete licenses.
#[derive(Debug, Parser)]
#[command(
    name = "clplcncs",
    version,
    about = "Register, list or delete licenses"
)]
#[command(group(ArgGroup::new("op").required(true).args(["install", "files", "list", "delete", "trial"])))]
pub struct Args {
    /// Register the license key file KEYFILE (with -P, as the original's first versions).
    #[arg(short = 'I', value_name = "KEYFILE")]
    install: Option<PathBuf>,
    /// Register license key files (later versions' form; -p optional).
    #[arg(short = 'i', value_name = "FILE", num_args = 1..)]
    files: Vec<PathBuf>,
    /// The product id (XSS10, ISAG10, DBAG10, FSAG10, ALRT10, BASE10, or the original's XSSS40,
    /// ISAG40, DBAG40, FSAG40, ALRT40, BASE40): of the key file, of the trial, or, with -l, of the
    /// licenses listed.
    #[arg(short = 'P', short_alias = 'p', value_name = "PRODUCT")]
    product: Option<String>,
    /// List the registered licenses.
    #[arg(short = 'l')]
    list: bool,
    /// All (with -l: accepted; with -d: delete every license).
    #[arg(short = 'a')]
    all: bool,
    /// Delete the license with serial number SERIAL (or with -t every trial, with -a all).
    #[arg(short = 'd', value_name = "SERIAL", num_args = 0..=1, default_missing_value = "")]
    delete: Option<String>,
    /// With -d: every trial license.
    #[arg(short = 't')]
    trials: bool,
    /// Register the trial license of -P PRODUCT (once per product on this server).
    #[arg(long)]
    trial: bool,
    /// JSON instead of the text listing (with -l).
    #[arg(long)]
    json: bool,
}

/// Runs `clplcncs`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
    let paths = cli::paths();
    let session = Session::new(&paths, "clplcncs");
    let issuers = license::trusted_issuers(&paths);
    let today = license::today();
    if args.trial {
        let Some(product) = args.product.as_deref() else {
            return Err(Refusal::BadOption(
                "name the product of the trial with -P PRODUCT".to_string(),
            )
            .into());
        };
        // An unknown product is a bad option, before anything is recorded; the original's id
        // (XSSS40) starts the trial of clp's (XSS10).
        let product = License::trial(product, today)
            .map_err(|e| Refusal::BadOption(e.to_string()))?
            .product;
        let trial = session.start_trial(&product)?;
        out.write_all(listing(&trial, trial.state(today, &issuers)).as_bytes())?;
        return cli::succeeded(out);
    }
    let files: Vec<PathBuf> = args
        .install
        .iter()
        .cloned()
        .chain(args.files.iter().cloned())
        .collect();
    if !files.is_empty() {
        if args.install.is_some() && args.product.is_none() {
            return Err(Refusal::BadOption("-I KEYFILE needs -P PRODUCT".to_string()).into());
        }
        for file in &files {
            let license =
                License::read_file(file).map_err(|e| Refusal::BadOption(e.to_string()))?;
            if let Some(product) = &args.product
                && license::product(product).is_none_or(|p| p.id != license.product)
            {
                return Err(Refusal::Failed(
                    license::LicenseError::ProductMismatch {
                        file: license.product.clone(),
                        given: product.clone(),
                    }
                    .to_string(),
                )
                .into());
            }
            license
                .check_signature(
                    &file.display().to_string(),
                    &issuers,
                    &license::issuers_dir(&paths),
                )
                .map_err(|error| Refusal::Failed(error.to_string()))?;
            session.register_license(license.clone())?;
            out.write_all(listing(&license, license.state(today, &issuers)).as_bytes())?;
        }
        return cli::succeeded(out);
    }
    if let Some(serial) = args.delete {
        let removal = if args.all {
            Removal::All
        } else if args.trials {
            Removal::Trials
        } else if !serial.is_empty() {
            Removal::Serial(serial)
        } else {
            return Err(Refusal::BadOption(
                "-d needs a serial number, -t (trials) or -a (all)".to_string(),
            )
            .into());
        };
        session.remove_licenses(removal)?;
        return cli::succeeded(out);
    }
    // -l (with -P: that product's licenses only)
    let only = args
        .product
        .as_deref()
        .map(|given| {
            license::product(given).map(|p| p.id).ok_or_else(|| {
                Refusal::BadOption(
                    license::LicenseError::UnknownProduct(given.to_string()).to_string(),
                )
            })
        })
        .transpose()?;
    let mut licenses = session.licenses()?;
    if let Some(only) = only {
        licenses.retain(|l| l.product == only);
    }
    if args.json {
        let view: Vec<serde_json::Value> = licenses
            .iter()
            .map(|l| {
                let mut value = serde_json::to_value(l).unwrap_or_default();
                value["status"] =
                    serde_json::Value::String(l.state(today, &issuers).as_str().to_string());
                value
            })
            .collect();
        let text = serde_json::to_string_pretty(&view)?;
        writeln!(out, "{text}")?;
        return Ok(());
    }
    let text = render::license_list(&licenses, |license| license.state(today, &issuers));
    out.write_all(text.as_bytes())?;
    Ok(())
}
