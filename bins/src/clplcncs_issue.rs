//! `clplcncs-issue`: the issuer's tool. Makes a key pair, and signs license key files with
//! a private key given at run time (never stored by clp).

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{ArgGroup, Parser};
use clp_core::license::{self, License, LicenseKind};

use crate::cli::{self, CliError, Refusal};

/// Issue license key files.
#[derive(Debug, Parser)]
#[command(
    name = "clplcncs-issue",
    version,
    about = "Make an issuer key pair, or sign a license key file"
)]
#[command(group(ArgGroup::new("op").required(true).args(["new_key", "key"])))]
pub struct Args {
    /// Write a new private key to PRIVATE (mode 0600) and its public key to PRIVATE.pub.
    #[arg(long, value_name = "PRIVATE")]
    new_key: Option<PathBuf>,
    /// Sign with this private key.
    #[arg(long, value_name = "PRIVATE", requires = "product")]
    key: Option<PathBuf>,
    /// The product id.
    #[arg(short = 'P', value_name = "PRODUCT")]
    product: Option<String>,
    /// product (perpetual), fixed (between dates) or trial.
    #[arg(long, default_value = "product")]
    kind: String,
    /// Licensed count.
    #[arg(long, default_value_t = 1)]
    count: u32,
    /// First valid day, YYYYMMDD (default today).
    #[arg(long)]
    start: Option<String>,
    /// Last valid day, YYYYMMDD (fixed and trial).
    #[arg(long)]
    end: Option<String>,
    /// The licensee.
    #[arg(long, default_value = "")]
    user: String,
}

fn date(text: &str) -> Result<NaiveDate, CliError> {
    NaiveDate::parse_from_str(text, "%Y%m%d")
        .map_err(|_| Refusal::BadOption(format!("\"{text}\" is not a date YYYYMMDD")).into())
}

fn write_new(path: &std::path::Path, text: &str, mode: u32) -> Result<(), CliError> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| Refusal::Failed(format!("cannot create {}: {e}", path.display())))?;
    writeln!(file, "{text}")
        .map_err(|e| Refusal::Failed(format!("cannot write {}: {e}", path.display())).into())
}

/// Runs `clplcncs-issue`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
    if let Some(private) = args.new_key {
        let (secret, public) = license::generate_key_pair()?;
        let public_path = PathBuf::from(format!("{}.pub", private.display()));
        write_new(&private, &secret, 0o600)?;
        write_new(&public_path, &public, 0o644)?;
        writeln!(out, "{}", public_path.display())?;
        return Ok(());
    }
    let (Some(key), Some(product)) = (args.key, args.product) else {
        return Ok(());
    };
    let issuer = license::read_signing_key(&key).map_err(|e| Refusal::BadOption(e.to_string()))?;
    // The original's id (XSSS40) is signed as clp's (XSS10), as clplcncs reads it.
    let Some(product) = license::product(&product).map(|p| p.id.to_string()) else {
        return Err(
            Refusal::BadOption(license::LicenseError::UnknownProduct(product).to_string()).into(),
        );
    };
    let kind = match args.kind.as_str() {
        "product" => LicenseKind::Product,
        "fixed" => LicenseKind::Fixed,
        "trial" => LicenseKind::Trial,
        other => {
            return Err(Refusal::BadOption(format!(
                "kind \"{other}\" is not product, fixed or trial"
            ))
            .into());
        }
    };
    let start = match &args.start {
        Some(text) => date(text)?,
        None => license::today(),
    };
    let end = args.end.as_deref().map(date).transpose()?;
    if kind != LicenseKind::Product && end.is_none() {
        return Err(Refusal::BadOption(
            "a fixed or trial license needs --end YYYYMMDD".to_string(),
        )
        .into());
    }
    if args.user.contains(',') {
        return Err(Refusal::BadOption("the user name may not contain a comma".to_string()).into());
    }
    let signed = license::sign(
        License {
            serial: String::new(),
            kind,
            product,
            count: args.count,
            start,
            end,
            user: args.user,
            key: String::new(),
        },
        &issuer,
    );
    writeln!(out, "{}", signed.to_line())?;
    Ok(())
}
