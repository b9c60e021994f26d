//! `userw`: the user-space stall monitor.
//!
//! Each check measures how late the daemon's own scheduling ran it; past the monitor's
//! timeout that is a fault. With method `softdog` or `keepalive` each check also feeds the
//! watchdog device named by `[os_actions] watchdog_device` (so a stalled daemon lets the
//! kernel reset the machine), and an orderly stop disarms it with the magic close. The
//! default method is `none`: it opens no device (a demo must never arm a watchdog).

use clp_core::monitor::spec::ProbeSettings;
use clp_core::monitor::userw::*;
use clp_core::monitor::{CheckFuture, CheckOutcome, Probe, ProbeContext};
use clp_core::os_action::OsActions;
use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileTypeExt;
use std::path::PathBuf;

/// Builds the probe of a validated monitor ([`clp_core::monitor::spec::BuildProbe`]).
pub fn build(config: &ProbeSettings<'_>, os: &OsActions) -> Result<Box<dyn Probe>, String> {
    let method = config
        .parameters
        .get("method")
        .and_then(toml::Value::as_str)
        .unwrap_or("none");
    let device = if method == "none" {
        None
    } else {
        Some(
            os.watchdog_device()
                .map_err(|error| error.to_string())?
                .to_path_buf(),
        )
    };
    Ok(Box::new(Userw {
        device,
        open: None,
        timeout_secs: config.timeout.as_secs().max(1),
    }))
}

/// The userw probe.
#[derive(Debug)]
pub struct Userw {
    device: Option<PathBuf>,
    open: Option<File>,
    timeout_secs: u64,
}

/// `_IOWR('W', 6, int)`: WDIOC_SETTIMEOUT.
const WDIOC_SETTIMEOUT: libc::c_ulong = 0xC004_5706;

impl Userw {
    fn feed(&mut self) -> Result<(), String> {
        let Some(device) = &self.device else {
            return Ok(());
        };
        if self.open.is_none() {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(device)
                .map_err(|error| {
                    format!("cannot open the watchdog {}: {error}", device.display())
                })?;
            let is_device = file
                .metadata()
                .map(|m| m.file_type().is_char_device())
                .unwrap_or(false);
            if is_device {
                let mut seconds =
                    libc::c_int::try_from(self.timeout_secs).unwrap_or(libc::c_int::MAX);
                // SAFETY: WDIOC_SETTIMEOUT reads and writes one int through a valid pointer.
                unsafe { libc::ioctl(file.as_raw_fd(), WDIOC_SETTIMEOUT, &mut seconds) };
            }
            self.open = Some(file);
        }
        if let Some(file) = &mut self.open {
            file.write_all(b"\0")
                .and_then(|()| file.flush())
                .map_err(|error| {
                    format!("cannot feed the watchdog {}: {error}", device.display())
                })?;
        }
        Ok(())
    }
}

impl Probe for Userw {
    fn check(&mut self, context: ProbeContext) -> CheckFuture<'_> {
        Box::pin(async move {
            if let Err(detail) = self.feed() {
                return CheckOutcome::Failure { code: 2, detail };
            }
            if context.lateness > context.timeout {
                return CheckOutcome::Failure {
                    code: STALL,
                    detail: format!(
                        "The daemon stalled for {:.3} seconds (timeout {} seconds).",
                        context.lateness.as_secs_f64(),
                        context.timeout.as_secs_f64()
                    ),
                };
            }
            CheckOutcome::Normal
        })
    }

    fn stop(&mut self) {
        // The magic close: 'V' then close disarms the watchdog on an orderly stop.
        if let Some(mut file) = self.open.take() {
            let _ = file.write_all(b"V");
            let _ = file.flush();
        }
    }
}
