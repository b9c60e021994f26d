//! The install root and every path under it.
//!
//! Every file clp reads or writes derives from one root: `$CLP_ROOT`, default `/opt/clp`.
//! Nothing else in the code base joins path fragments, so tests that set `CLP_ROOT` to a
//! temporary folder are guaranteed to write nowhere else.

use std::path::{Path, PathBuf};

/// The environment variable that moves the install root.
pub const ROOT_ENV: &str = "CLP_ROOT";
/// The install root when `CLP_ROOT` is not set.
pub const DEFAULT_ROOT: &str = "/opt/clp";

/// All paths of one installation, derived from its root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    root: PathBuf,
}

impl Paths {
    /// The paths of the installation at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The paths of the installation named by `$CLP_ROOT` (or `/opt/clp`).
    pub fn from_env() -> Self {
        match std::env::var_os(ROOT_ENV) {
            // A relative root is made absolute once, so the daemon may change its folder.
            Some(root) if !root.is_empty() => match std::path::absolute(&root) {
                Ok(absolute) => Self::new(absolute),
                Err(_) => Self::new(root),
            },
            _ => Self::new(DEFAULT_ROOT),
        }
    }

    /// The install root itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `etc/`: the configuration folder.
    pub fn etc_dir(&self) -> PathBuf {
        self.root.join("etc")
    }

    /// `etc/clp.conf`: the active configuration.
    pub fn config_file(&self) -> PathBuf {
        self.etc_dir().join("clp.conf")
    }

    /// `etc/ftp.toml`: where `clp_mlftp` uploads log tarballs.
    pub fn ftp_config(&self) -> PathBuf {
        self.etc_dir().join("ftp.toml")
    }

    /// `etc/scripts/`: the exec resources' script folders.
    pub fn scripts_dir(&self) -> PathBuf {
        self.etc_dir().join("scripts")
    }

    /// `etc/scripts/<group>/<resource>/`: where one exec resource's scripts live and run.
    pub fn resource_script_dir(&self, group: &str, resource: &str) -> PathBuf {
        self.scripts_dir().join(group).join(resource)
    }

    /// `etc/scripts/monitor.s/<monitor>/`: where a custom monitor's (genw) relative script
    /// path is resolved and where the script runs, as in the original's layout.
    pub fn monitor_script_dir(&self, monitor: &str) -> PathBuf {
        self.scripts_dir().join("monitor.s").join(monitor)
    }

    /// `log/monitor.<monitor>.log`: the output of a custom monitor's (genw) script.
    pub fn monitor_log(&self, monitor: &str) -> PathBuf {
        self.log_dir().join(format!("monitor.{monitor}.log"))
    }

    /// `etc/generations/`: every configuration pushed by `clpcfctrl`, one numbered folder
    /// (`clp.conf`, `scripts/`) each.
    pub fn generations_dir(&self) -> PathBuf {
        self.etc_dir().join("generations")
    }

    /// `etc/current`: the symbolic link to the active generation. Once `clpcfctrl` manages
    /// the configuration, `etc/clp.conf` and `etc/scripts` are links through it, so that one
    /// atomic rename switches both.
    pub fn current_generation_link(&self) -> PathBuf {
        self.etc_dir().join("current")
    }

    /// `etc/.clpcfctrl.lock`: one `clpcfctrl` at a time changes the configuration.
    pub fn cfctrl_lock(&self) -> PathBuf {
        self.etc_dir().join(".clpcfctrl.lock")
    }

    /// `run/clppm.generation`: the generation a running clppm still uses after a push that
    /// was not applied to it (written by `clpcfctrl`).
    pub fn running_generation_file(&self) -> PathBuf {
        self.run_dir().join("clppm.generation")
    }

    /// `bin/`: installed binaries (the daemon also puts the folder of its own binary first
    /// on a script's PATH).
    pub fn bin_dir(&self) -> PathBuf {
        self.root.join("bin")
    }

    /// `var/store/`: the sled store, opened by one process at a time.
    pub fn store_dir(&self) -> PathBuf {
        self.root.join("var").join("store")
    }

    /// `var/license-trials`: which products' trials were started on this server (kept
    /// outside the store, and not removed by the installer's uninstall).
    pub fn license_trials_file(&self) -> PathBuf {
        self.root.join("var").join("license-trials")
    }

    /// `run/`: the socket and the pid file.
    pub fn run_dir(&self) -> PathBuf {
        self.root.join("run")
    }

    /// `run/clppm.sock`: the control socket.
    pub fn socket(&self) -> PathBuf {
        self.run_dir().join("clppm.sock")
    }

    /// `run/clppm.pid`: the daemon's pid file (also its single-instance lock).
    pub fn pid_file(&self) -> PathBuf {
        self.run_dir().join("clppm.pid")
    }

    /// `run/clpwebmgr.pid`: the WebManager's pid file (also its single-instance lock).
    pub fn webmgr_pid_file(&self) -> PathBuf {
        self.run_dir().join("clpwebmgr.pid")
    }

    /// `run/clpwebmgr.addr`: the address the WebManager listens on, written once it does
    /// (`127.0.0.1:41234`; tests bind port 0 and read the real port here).
    pub fn webmgr_addr_file(&self) -> PathBuf {
        self.run_dir().join("clpwebmgr.addr")
    }

    /// `etc/webmgr-passwords.toml`: the WebManager's password hashes (mode 0600).
    pub fn webmgr_passwords(&self) -> PathBuf {
        self.etc_dir().join("webmgr-passwords.toml")
    }

    /// `log/clpwebmgr.log`: the WebManager's own log.
    pub fn webmgr_log(&self) -> PathBuf {
        self.log_dir().join("clpwebmgr.log")
    }

    /// `tmp/webmgr/`: log collections started from the WebManager, one folder each.
    pub fn webmgr_collect_dir(&self) -> PathBuf {
        self.tmp_dir().join("webmgr")
    }

    /// `log/`: daemon logs, script logs and the text alert log.
    pub fn log_dir(&self) -> PathBuf {
        self.root.join("log")
    }

    /// `log/clppm.log`: the daemon's own log.
    pub fn daemon_log(&self) -> PathBuf {
        self.log_dir().join("clppm.log")
    }

    /// `log/alert.log`: the text alert log (rotated to `alert.log.1`).
    pub fn alert_log(&self) -> PathBuf {
        self.log_dir().join("alert.log")
    }

    /// `log/scripts/<group>.<resource>.log`: the output of one exec resource's scripts.
    pub fn script_log(&self, group: &str, resource: &str) -> PathBuf {
        self.log_dir()
            .join("scripts")
            .join(format!("{group}.{resource}.log"))
    }

    /// `tmp/`: work and output folder (log collection).
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_is_under_the_root() {
        let paths = Paths::new("/tmp/x");
        for path in [
            paths.config_file(),
            paths.ftp_config(),
            paths.resource_script_dir("g", "r"),
            paths.store_dir(),
            paths.socket(),
            paths.pid_file(),
            paths.alert_log(),
            paths.script_log("g", "r"),
            paths.tmp_dir(),
            paths.webmgr_pid_file(),
            paths.webmgr_addr_file(),
            paths.webmgr_passwords(),
            paths.webmgr_log(),
            paths.webmgr_collect_dir(),
            paths.generations_dir(),
            paths.current_generation_link(),
            paths.running_generation_file(),
        ] {
            assert!(path.starts_with("/tmp/x"), "{path:?}");
        }
    }
}
