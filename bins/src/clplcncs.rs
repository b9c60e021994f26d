//! `clplcncs` (and its later spelling `clplcnsc`): register, list and delete licenses.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use clap::{ArgGroup, Parser};
use clp_core::exit_code;
use clp_core::ipc::{Request, Response};
use clp_core::license::{self, License, LicenseState, Removal};
use clp_core::paths::Paths;
use clp_core::store::Store;

use crate::cli::{self, CliError};

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
    /// The product id (XSS10, ISAG10, DBAG10, FSAG10, ALRT10, or the original's XSSS40,
    /// ISAG40, DBAG40, FSAG40, ALRT40): of the key file, of the trial, or, with -l, of the
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

/// Sends a request to the daemon, or runs `offline` on the store when the daemon is down.
fn with_store<T>(
    paths: &Paths,
    request: Request,
    online: impl FnOnce(Response) -> Result<T, CliError>,
    offline: impl FnOnce(&Store) -> Result<T, CliError>,
) -> Result<T, CliError> {
    match cli::connect(paths, "clplcncs").and_then(|mut client| Ok(client.request(&request, None)?))
    {
        Ok(response) => online(response),
        Err(error) if error.code == exit_code::NOT_RUNNING => {
            let store = Store::open(&paths.store_dir())
                .map_err(|e| CliError::new(exit_code::INIT_ERROR, e.to_string()))?;
            offline(&store)
        }
        Err(error) => Err(error),
    }
}

fn failed(error: impl std::fmt::Display) -> CliError {
    CliError::new(exit_code::OTHER, error.to_string())
}

fn register(paths: &Paths, license: License) -> Result<(), CliError> {
    with_store(
        paths,
        Request::RegisterLicense {
            license: license.clone(),
        },
        |_| Ok(()),
        |store| license::register(store, paths, &license).map_err(failed),
    )
}

/// Starts the trial of `product` through the daemon (or on the store when it is down).
fn start_trial(paths: &Paths, product: &str) -> Result<License, CliError> {
    with_store(
        paths,
        Request::StartTrial {
            product: product.to_string(),
        },
        |response| match response {
            Response::Licenses { mut licenses } if licenses.len() == 1 => Ok(licenses.remove(0)),
            other => Err(failed(format!("clppm answered {other:?}"))),
        },
        |store| license::start_trial(store, paths, product, license::today()).map_err(failed),
    )
}

fn listing(license: &License, state: LicenseState) -> String {
    let name = license::product(&license.product).map_or("Unknown License", |p| p.name);
    let trial = license.kind == license::LicenseKind::Trial;
    let mut text = format!(
        "----- {}{} -----\n< {name}{} >\n",
        license.product,
        if trial { " TRIAL" } else { "" },
        if trial { " <TRIAL>" } else { "" }
    );
    text.push_str(&format!("  Serial No..... {}\n", license.serial));
    text.push_str(&format!("  User name..... {}\n", license.user));
    text.push_str(&format!("  Count..... {}\n", license.count));
    text.push_str(&format!(
        "  Start date..... {}\n",
        license.start.format("%Y/%m/%d")
    ));
    if let Some(end) = license.end {
        text.push_str(&format!("  End date..... {}\n", end.format("%Y/%m/%d")));
    }
    text.push_str(&format!("  Status..... {}\n", state.as_str()));
    text
}

/// Runs `clplcncs`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
    let paths = cli::paths();
    let issuers = license::trusted_issuers(&paths);
    let today = license::today();
    if args.trial {
        let Some(product) = args.product.as_deref() else {
            return Err(CliError::new(
                exit_code::BAD_OPTION,
                "name the product of the trial with -P PRODUCT",
            ));
        };
        // An unknown product is a bad option, before anything is recorded; the original's id
        // (XSSS40) starts the trial of clp's (XSS10).
        let product = License::trial(product, today)
            .map_err(|e| CliError::new(exit_code::BAD_OPTION, e.to_string()))?
            .product;
        let trial = start_trial(&paths, &product)?;
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
            return Err(CliError::new(
                exit_code::BAD_OPTION,
                "-I KEYFILE needs -P PRODUCT",
            ));
        }
        for file in &files {
            let license = License::read_file(file)
                .map_err(|e| CliError::new(exit_code::BAD_OPTION, e.to_string()))?;
            if let Some(product) = &args.product
                && license::product(product).is_none_or(|p| p.id != license.product)
            {
                return Err(failed(license::LicenseError::ProductMismatch {
                    file: license.product.clone(),
                    given: product.clone(),
                }));
            }
            license
                .check_signature(
                    &file.display().to_string(),
                    &issuers,
                    &license::issuers_dir(&paths),
                )
                .map_err(failed)?;
            register(&paths, license.clone())?;
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
            return Err(CliError::new(
                exit_code::BAD_OPTION,
                "-d needs a serial number, -t (trials) or -a (all)",
            ));
        };
        with_store(
            &paths,
            Request::RemoveLicenses {
                removal: removal.clone(),
            },
            |_| Ok(()),
            |store| {
                license::remove(store, &removal)
                    .map(|_| ())
                    .map_err(|error| match error {
                        license::RegistryError::NoSuchSerial(_) => {
                            CliError::new(exit_code::NOT_REGISTERED, error.to_string())
                        }
                        other => failed(other),
                    })
            },
        )?;
        return cli::succeeded(out);
    }
    // -l (with -P: that product's licenses only)
    let only = args
        .product
        .as_deref()
        .map(|given| {
            license::product(given).map(|p| p.id).ok_or_else(|| {
                CliError::new(
                    exit_code::BAD_OPTION,
                    license::LicenseError::UnknownProduct(given.to_string()).to_string(),
                )
            })
        })
        .transpose()?;
    let mut licenses = with_store(
        &paths,
        Request::Licenses,
        |response| match response {
            Response::Licenses { licenses } => Ok(licenses),
            other => Err(failed(format!("clppm answered {other:?}"))),
        },
        |store| store.licenses().map_err(failed),
    )?;
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
        let text = serde_json::to_string_pretty(&view).map_err(failed)?;
        writeln!(out, "{text}")?;
        return Ok(());
    }
    for license in &licenses {
        out.write_all(listing(license, license.state(today, &issuers)).as_bytes())?;
    }
    Ok(())
}
