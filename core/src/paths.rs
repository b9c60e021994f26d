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
        ConfigFolder(&self.etc_dir()).config_file()
    }

    /// `etc/ftp.toml`: where `clp_mlftp` uploads log tarballs.
    pub fn ftp_config(&self) -> PathBuf {
        self.etc_dir().join("ftp.toml")
    }

    /// `etc/scripts/`: the exec resources' script folders.
    pub fn scripts_dir(&self) -> PathBuf {
        ConfigFolder(&self.etc_dir()).scripts_dir()
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
        self.etc_dir().join(CURRENT_GENERATION)
    }

    /// `etc/license-issuers/`: the trusted license issuers' public keys.
    pub fn license_issuers_dir(&self) -> PathBuf {
        self.etc_dir().join("license-issuers")
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

    /// `bin/SHA256SUMS`: the installer's checksums of the installed binaries.
    pub fn binary_checksums(&self) -> PathBuf {
        self.bin_dir().join("SHA256SUMS")
    }

    /// `var/store/`: the store's folder (`clp.redb`), opened by one process at a time.
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

    /// `run/.clpwebmgr.addr.partial`: where the address is written before it is renamed to
    /// [`Paths::webmgr_addr_file`], so a reader never sees half.
    pub fn webmgr_addr_partial_file(&self) -> PathBuf {
        self.run_dir().join(".clpwebmgr.addr.partial")
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
        self.script_log_dir()
            .join(format!("{group}.{resource}.log"))
    }

    /// `log/scripts/`: the exec resources' script logs.
    pub fn script_log_dir(&self) -> PathBuf {
        self.log_dir().join("scripts")
    }

    /// `tmp/`: work and output folder (log collection).
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }
}

/// The name of the link to the active generation in `etc/` (see
/// [`Paths::current_generation_link`]); `etc/clp.conf` and `etc/scripts` point through it.
pub const CURRENT_GENERATION: &str = "current";

/// The layout of one configuration folder: `clp.conf` beside `scripts/`. `etc/` is one,
/// every generation is one, and so is the folder `clpcfctrl` pushes from or pulls into.
#[derive(Debug, Clone, Copy)]
pub struct ConfigFolder<'a>(pub &'a Path);

impl ConfigFolder<'static> {
    /// The active generation as the links in `etc/` name it: `current/`, relative to `etc/`.
    pub fn current() -> Self {
        ConfigFolder(Path::new(CURRENT_GENERATION))
    }
}

impl ConfigFolder<'_> {
    /// `clp.conf`: the configuration.
    pub fn config_file(self) -> PathBuf {
        self.0.join("clp.conf")
    }

    /// `clp.conf (converted from the original)`: the name errors give a configuration
    /// converted from the original's XML (no such file is written).
    pub fn converted_config_name(self) -> PathBuf {
        self.0.join("clp.conf (converted from the original)")
    }

    /// `original-clp.conf`: the original's XML as pushed, kept beside its conversion.
    pub fn original_config_file(self) -> PathBuf {
        self.0.join("original-clp.conf")
    }

    /// `scripts/`: the exec resources' script folders.
    pub fn scripts_dir(self) -> PathBuf {
        self.0.join("scripts")
    }

    /// `scripts.old`: where the scripts being replaced are set aside for a moment.
    pub fn scripts_aside(self) -> PathBuf {
        self.0.join("scripts.old")
    }
}

/// `start.sh`: an exec resource's start script in its script folder, when the configuration
/// names none.
pub fn default_start_script(script_dir: &Path) -> PathBuf {
    script_dir.join("start.sh")
}

/// The binary `name` beside the running command (the bare name, for PATH, when the running
/// binary's folder is unknown).
pub fn beside_me(name: &str) -> PathBuf {
    crate::process::own_bin_dir()
        .map(|dir| dir.join(name))
        .unwrap_or_else(|| PathBuf::from(name))
}

/// `<store_dir>/clp.redb`: the store's one file (redb locks it: one process at a time).
pub fn store_file(store_dir: &Path) -> PathBuf {
    store_dir.join("clp.redb")
}

/// `<store_dir>/clp.redb.new`: a store being moved from sled, renamed into place when whole.
pub fn store_file_being_moved(store_dir: &Path) -> PathBuf {
    store_dir.join("clp.redb.new")
}

/// `<store_dir>/db`: the file of a store that an earlier clp wrote with sled.
pub fn sled_store_file(store_dir: &Path) -> PathBuf {
    store_dir.join("db")
}

/// `<store_dir>/sled-moved/`: where the files of a sled store go once they are in redb.
pub fn sled_store_moved_dir(store_dir: &Path) -> PathBuf {
    store_dir.join("sled-moved")
}

/// `<server>-log.tar.gz` in `dir`: the tarball `clplogcc` writes.
pub fn log_tarball(dir: &Path, server: &str) -> PathBuf {
    dir.join(format!("{server}-log.tar.gz"))
}

/// `.<server>-log.tar.gz.partial` in `dir`: the tarball while it is written, renamed to
/// [`log_tarball`] once whole.
pub fn log_tarball_partial(dir: &Path, server: &str) -> PathBuf {
    dir.join(format!(".{server}-log.tar.gz.partial"))
}

/// `<log_dir>/<program>.startup-error`: where a long start-up error of `program` is saved.
pub fn startup_error_file(log_dir: &Path, program: &str) -> PathBuf {
    log_dir.join(format!("{program}.startup-error"))
}

/// The temporary file a write of `file` goes through before it is renamed over `file`:
/// `file` with the extension `tag` (`clp.conf` → `clp.tmp`), in the same folder, so the
/// rename is atomic.
pub fn temporary_for(file: &Path, tag: &str) -> PathBuf {
    file.with_extension(tag)
}

/// Writes `bytes` as `file`'s whole new content: through [`temporary_for`]`(file, tag)`,
/// renamed over `file`, so a reader sees the old content or the new, never half.
pub fn write_replacing(file: &Path, tag: &str, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = temporary_for(file, tag);
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, file)
}

/// `.<stem>-<pid>` in `dir`: a name private to this process (a staging folder, a link being
/// swapped, a write check), so two processes never write the same one.
pub fn private_to_this_process(dir: &Path, stem: &str) -> PathBuf {
    dir.join(format!(".{stem}-{}", std::process::id()))
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
            paths.license_issuers_dir(),
            paths.binary_checksums(),
            paths.webmgr_addr_partial_file(),
            paths.script_log_dir(),
        ] {
            assert!(path.starts_with("/tmp/x"), "{path:?}");
        }
    }

    #[test]
    fn a_configuration_folder_has_one_layout_everywhere() {
        let paths = Paths::new("/tmp/x");
        let etc = ConfigFolder(Path::new("/tmp/x/etc"));
        assert_eq!(paths.config_file(), etc.config_file());
        assert_eq!(paths.scripts_dir(), etc.scripts_dir());
        assert_eq!(
            paths.current_generation_link().join("clp.conf"),
            paths.etc_dir().join(ConfigFolder::current().config_file())
        );
        assert_eq!(
            paths.script_log("g", "r").parent(),
            Some(paths.script_log_dir().as_path())
        );
    }

    /// Every other file's code (tests aside) asks this file for its paths: no literal path
    /// fragment is joined, no name formatted into a path and no extension swapped anywhere
    /// else, in any crate of the workspace.
    #[test]
    fn no_other_file_joins_a_path_fragment() {
        fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    rust_files(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in [
            "src",
            "../bins/src",
            "../engine/src",
            "../monitors/src",
            "../webmgr/src",
            "../ftp/src",
            "../cluster/src",
        ] {
            rust_files(&crate_dir.join(dir), &mut files);
        }
        // The generator of completions writes into the source tree, not an installation.
        let allowed = ["paths.rs", "clp-gen.rs"];
        let mut found = Vec::new();
        for file in files {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            if allowed.contains(&name.as_str()) || name.ends_with("tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            for (at, _) in code.match_indices(".join(\"") {
                let literal = &code[at + 7..];
                let literal = &literal[..literal.find('"').unwrap()];
                let fragment = literal.chars().any(|c| c.is_ascii_alphanumeric())
                    && literal
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c));
                if fragment {
                    found.push(format!("{}: {literal}", file.display()));
                }
            }
            for built in [".join(format!(", ".with_extension(", ".with_file_name("] {
                if code.contains(built) {
                    found.push(format!("{}: {built}", file.display()));
                }
            }
        }
        assert!(found.is_empty(), "joined outside paths.rs: {found:#?}");
    }
}
