//! `userw`: the user-space stall monitor.
//!
//! Each check measures how late the daemon's own scheduling ran it; past the monitor's
//! timeout that is a fault. With method `softdog` or `keepalive` each check also feeds the
//! watchdog device named by `[os_actions] watchdog_device` (so a stalled daemon lets the
//! kernel reset the machine), and an orderly stop disarms it with the magic close. The
//! default method is `none`: it opens no device (a demo must never arm a watchdog).

use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileTypeExt;
use std::path::PathBuf;

use super::spec::{DefaultRecovery, MonitorSpec, ProbeSettings, TargetRule, unknown_parameters};
use super::{CheckFuture, CheckOutcome, Probe, ProbeContext};
use crate::os_action::OsActions;

/// The userw type.
pub static SPEC: MonitorSpec = MonitorSpec {
    kind: "userw",
    interval: 3.0,
    timeout: 90.0,
    retry: 0,
    default_comment: "",
    forced_timing: None,
    target_rule: TargetRule::Optional,
    default_recovery: DefaultRecovery::LocalServer,
    check_parameters,
    build,
};

const KEYS: &[&str] = &["method", "action", "usehb"];
const METHODS: &[&str] = &["none", "softdog", "keepalive"];

/// The detail code of a stall.
pub const STALL: u32 = 1;

fn check_parameters(parameters: &toml::Table) -> Vec<String> {
    let mut problems = unknown_parameters(parameters, KEYS);
    match parameters.get("method") {
        None => {}
        Some(toml::Value::String(method)) if METHODS.contains(&method.as_str()) => {}
        Some(toml::Value::String(method)) if method == "ipmi" => problems.push(
            "key \"method\": \"ipmi\" is not supported by this version; use \"softdog\", \"keepalive\" or \"none\"".into(),
        ),
        Some(other) => problems.push(format!(
            "key \"method\": {other} is not a method; use one of {}",
            METHODS.join(", ")
        )),
    }
    match parameters.get("action") {
        None => {}
        Some(toml::Value::String(action)) if action == "RESET" || action == "PANIC" => {}
        Some(other) => problems.push(format!(
            "key \"action\": {other} is not an action; use \"RESET\" or \"PANIC\""
        )),
    }
    match parameters.get("usehb") {
        None | Some(toml::Value::Boolean(_)) => {}
        Some(toml::Value::Integer(0 | 1)) => {}
        Some(other) => problems.push(format!("key \"usehb\": {other} is not 0 or 1")),
    }
    problems
}

fn build(config: &ProbeSettings<'_>, os: &OsActions) -> Result<Box<dyn Probe>, String> {
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
