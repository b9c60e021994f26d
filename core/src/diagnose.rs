//! Read-only checks `clp_mltool` runs: the kernel drivers the configured userw methods need,
//! and the installed binaries against the installer's checksum manifest. Nothing here opens
//! a watchdog device or loads a module.

use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::config::Config;

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// What was checked.
    pub subject: String,
    /// Whether it is as needed.
    pub ok: bool,
    /// What was found.
    pub detail: String,
}

fn finding(subject: impl Into<String>, ok: bool, detail: impl Into<String>) -> Finding {
    Finding {
        subject: subject.into(),
        ok,
        detail: detail.into(),
    }
}

/// Whether the kernel has the soft watchdog: loaded, loadable, or built in.
fn softdog_availability() -> (bool, String) {
    if std::fs::read_to_string("/proc/modules")
        .is_ok_and(|m| m.lines().any(|l| l.starts_with("softdog ")))
    {
        return (true, "softdog module loaded".into());
    }
    let release = nix::sys::utsname::uname()
        .ok()
        .and_then(|u| u.release().to_str().map(str::to_string))
        .unwrap_or_default();
    let module_dir = PathBuf::from(format!("/lib/modules/{release}/kernel/drivers/watchdog"));
    if let Ok(entries) = std::fs::read_dir(&module_dir)
        && entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("softdog.ko"))
    {
        return (
            true,
            format!("softdog module available in {}", module_dir.display()),
        );
    }
    if let Ok(file) = std::fs::File::open("/proc/config.gz") {
        let mut text = String::new();
        if flate2::read::GzDecoder::new(file)
            .read_to_string(&mut text)
            .is_ok()
        {
            if text.lines().any(|l| l == "CONFIG_SOFT_WATCHDOG=y") {
                return (true, "softdog built into the kernel".into());
            }
            if text
                .lines()
                .any(|l| l == "# CONFIG_SOFT_WATCHDOG is not set")
            {
                return (
                    false,
                    "the kernel has no softdog (CONFIG_SOFT_WATCHDOG is not set)".into(),
                );
            }
        }
    }
    (
        false,
        format!(
            "no softdog module found (looked in /proc/modules, {})",
            module_dir.display()
        ),
    )
}

/// The drivers the configured userw methods need.
pub fn drivers(config: &Config) -> Vec<Finding> {
    let mut findings = Vec::new();
    for monitor in config.monitors.iter().filter(|m| m.kind == "userw") {
        let method = monitor
            .parameters
            .get("method")
            .and_then(toml::Value::as_str)
            .unwrap_or("none");
        let subject = format!("userw {} (method {method})", monitor.name);
        if method == "none" {
            findings.push(finding(
                subject,
                true,
                "no driver needed: the daemon measures its own stalls",
            ));
            continue;
        }
        let device = &config.os_actions.watchdog_device;
        let device_state = match std::fs::metadata(device) {
            Ok(meta) if meta.file_type().is_char_device() => {
                (true, format!("{} is a character device", device.display()))
            }
            Ok(_) => (
                false,
                format!("{} is not a character device", device.display()),
            ),
            Err(error) => (false, format!("{}: {error}", device.display())),
        };
        findings.push(finding(
            format!("{subject}: device"),
            device_state.0,
            device_state.1,
        ));
        let registered: Vec<String> = std::fs::read_dir("/sys/class/watchdog")
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let (softdog, detail) = softdog_availability();
        let ok = !registered.is_empty() || softdog;
        let detail = if registered.is_empty() {
            detail
        } else {
            format!(
                "watchdog drivers registered: {}; {detail}",
                registered.join(", ")
            )
        };
        findings.push(finding(format!("{subject}: driver"), ok, detail));
    }
    if findings.is_empty() {
        findings.push(finding("userw", true, "no userw monitor is configured"));
    }
    findings
}

/// The SHA-256 of a file, in hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = [0u8; 64 * 1024];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Verifies the files of a `sha256sum`-format manifest (paths relative to its folder).
pub fn verify_manifest(manifest: &Path) -> std::io::Result<Vec<Finding>> {
    let text = std::fs::read_to_string(manifest)?;
    let base = manifest.parent().unwrap_or(Path::new("."));
    let mut findings = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Some((expected, name)) = line.split_once("  ").or_else(|| line.split_once(" *")) else {
            findings.push(finding(
                line,
                false,
                "not a line of the form '<sha256>  <file>'",
            ));
            continue;
        };
        let path = base.join(name.trim());
        match sha256_file(&path) {
            Ok(actual) if actual == expected.trim() => {
                findings.push(finding(name.trim(), true, "OK"))
            }
            Ok(_) => findings.push(finding(name.trim(), false, "FAILED (checksum differs)")),
            Err(error) => findings.push(finding(name.trim(), false, format!("FAILED ({error})"))),
        }
    }
    Ok(findings)
}
