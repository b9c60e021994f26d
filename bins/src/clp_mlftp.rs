//! `clp_mlftp [FILE]`: upload a log tarball (by default the newest `*-log.tar.gz` in
//! `$CLP_ROOT/tmp`) to the FTP server of `$CLP_ROOT/etc/ftp.toml`, under a name that keeps
//! every night's upload (`<server>-log-<YYYYMMDD-HHMMSS>.tar.gz`) unless `-n` chooses one.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::Parser;
use clp_core::logcollect;
use clp_ftp::{FtpConfig, Upload, UploadEvent, naming};

use crate::cli::{self, CliError, Refusal};

/// Upload a log tarball.
#[derive(Debug, Parser)]
#[command(
    name = "clp_mlftp",
    version,
    about = "Upload a log tarball (default: the newest *-log.tar.gz in $CLP_ROOT/tmp) to the FTP server of $CLP_ROOT/etc/ftp.toml"
)]
pub struct Args {
    /// The file to upload (default: the newest *-log.tar.gz that clplogcc wrote to $CLP_ROOT/tmp).
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    /// The file's name on the server (default: the file's name with the server's name and the time it was written, such as <server>-log-<YYYYMMDD-HHMMSS>.tar.gz, so that each upload is kept).
    #[allow(rustdoc::invalid_html_tags)] // the help text shows the placeholders as they are
    #[arg(short = 'n', long = "name", value_name = "NAME")]
    name: Option<String>,
}

/// Runs `clp_mlftp`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
    let paths = cli::paths();
    let config = FtpConfig::load(&paths.ftp_config(), &paths.etc_dir())
        .map_err(|error| Refusal::BadConfig(error.to_string()))?;
    let password = config
        .read_password()
        .map_err(|error| Refusal::BadConfig(error.to_string()))?;
    let file = match args.file {
        Some(file) => file,
        None => logcollect::newest_tarball(&paths.tmp_dir()).ok_or_else(|| {
            Refusal::Failed(format!(
                "no *-log.tar.gz in {}: run clplogcc first, or name the file to upload",
                paths.tmp_dir().display()
            ))
        })?,
    };
    let upload_error = |error: clp_ftp::UploadError| Refusal::Failed(error.to_string());
    let remote_name = match args.name {
        Some(name) => {
            naming::check_name(&name).map_err(|why| Refusal::BadOption(format!("-n {why}")))?;
            name
        }
        None => default_remote_name(&file),
    };
    let upload = Upload::new(&config, &password, &file)
        .and_then(|upload| upload.named(&remote_name))
        .map_err(upload_error)?;

    // A bar on a terminal; nothing from cron.
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let shown = file.display().to_string();
    let mut write_error = None;
    let result = upload.run(&mut |event| match event {
        UploadEvent::Sending { offset, total, .. } => {
            if let Some(bar) = &bar {
                bar.set_length(total);
                bar.set_position(offset);
                bar.set_message(if offset > 0 { "resumed" } else { "" });
            }
        }
        UploadEvent::Progress { sent, .. } => {
            if let Some(bar) = &bar {
                bar.set_position(sent);
            }
        }
        UploadEvent::AttemptFailed {
            attempt,
            attempts,
            error,
            retry_in,
        } => {
            let line = format!(
                "Upload {shown} : attempt {attempt} of {attempts} failed: {error}; retrying in {} s",
                retry_in.as_secs()
            );
            let mut print = || {
                if let Err(error) = writeln!(out, "{line}").and_then(|()| out.flush()) {
                    write_error.get_or_insert(error);
                }
            };
            match &bar {
                Some(bar) => bar.suspend(print),
                None => print(),
            }
        }
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if let Some(error) = write_error {
        return Err(error.into());
    }
    match result {
        Ok(uploaded) => {
            let remote_path = match config.remote_dir.trim_end_matches('/') {
                "" if config.remote_dir.is_empty() => uploaded.remote_name.clone(),
                dir => format!("{dir}/{}", uploaded.remote_name),
            };
            writeln!(
                out,
                "Upload {shown} : Success (stored as {remote_path} on {})",
                config.server()
            )?;
            Ok(())
        }
        Err(error) => {
            writeln!(out, "Upload {shown} : Failed")?;
            Err(Refusal::Failed(error.to_string()).into())
        }
    }
}

/// The name of `file` on the server: this server's name and the time the file was written
/// (when it was collected; now if that cannot be read), so that each night's tarball is
/// kept and uploading the same tarball again replaces only itself.
fn default_remote_name(file: &std::path::Path) -> String {
    let file_name = file
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let written = std::fs::metadata(file)
        .and_then(|meta| meta.modified())
        .map(chrono::DateTime::<chrono::Local>::from)
        .unwrap_or_else(|_| chrono::Local::now());
    naming::history_name(&file_name, &clp_core::config::host_name(), written)
}
