//! The scripts of exec resources: their environment (the original's `CLP_*` variables) and
//! where their output goes.

use clp_core::config::ResourceConfig;
use clp_core::process::{self, Script};

use super::Engine;

impl Engine {
    /// The environment of a script, clean of the daemon's own.
    pub(super) fn script_env(
        &self,
        resource: &ResourceConfig,
        event: &str,
        factor: Option<&str>,
    ) -> Vec<(String, String)> {
        let (path, os_version) = unchanging_vars();
        let mut env = vec![
            ("PATH".to_string(), path.clone()),
            ("LANG".to_string(), "C".to_string()),
            ("HOME".to_string(), "/".to_string()),
            ("CLP_EVENT".to_string(), event.to_string()),
            (
                "CLP_SERVER".to_string(),
                self.server_role(&resource.group).to_string(),
            ),
            ("CLP_DISK".to_string(), "SUCCESS".to_string()),
            ("CLP_PRIORITY".to_string(), "1".to_string()),
            ("CLP_GROUPNAME".to_string(), resource.group.clone()),
            ("CLP_RESOURCENAME".to_string(), resource.name.clone()),
            (
                "CLP_SCRIPT_PATH".to_string(),
                resource.script_dir.display().to_string(),
            ),
            (
                "CLP_PATH".to_string(),
                self.paths.root().display().to_string(),
            ),
            (
                clp_core::paths::ROOT_ENV.to_string(),
                self.paths.root().display().to_string(),
            ),
            (
                "CLP_VERSION_FULL".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            ),
            (
                "CLP_VERSION_MAJOR".to_string(),
                env!("CARGO_PKG_VERSION_MAJOR").to_string(),
            ),
            ("CLP_OSNAME".to_string(), "Linux".to_string()),
            ("CLP_OSVER".to_string(), os_version.clone()),
        ];
        // In an HA cluster: the owner key's revision, larger for every new owner.
        if let Some(fence) = self.fence_of(&resource.group) {
            env.push(("CLP_FENCE".to_string(), fence.to_string()));
        }
        if let Some(factor) = factor {
            env.push(("CLP_FACTOR".to_string(), factor.to_string()));
        }
        // The safety lock is the one thing of the daemon's environment scripts inherit, so a
        // script calling clpdown in a test can never reach the real shutdown.
        if clp_core::os_action::forbidden_by_env() {
            env.push((clp_core::os_action::FORBID_ENV.to_string(), "1".to_string()));
        }
        env
    }

    pub(super) fn script(
        &self,
        resource: &ResourceConfig,
        path: &std::path::Path,
        env: Vec<(String, String)>,
    ) -> Script {
        Script {
            path: path.to_path_buf(),
            dir: resource.script_dir.clone(),
            env,
            log: self.paths.script_log(&resource.group, &resource.name),
        }
    }
}

/// What no script's environment changes while the daemon runs, read once (a restart does not
/// read `/proc/self/exe` and ask the kernel its release on its way): `PATH`, which finds the
/// running binaries first, and `CLP_OSVER`.
fn unchanging_vars() -> &'static (String, String) {
    static VARS: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
    VARS.get_or_init(|| (process::script_path_var(), os_release()))
}

fn os_release() -> String {
    nix::sys::utsname::uname()
        .ok()
        .and_then(|u| u.release().to_str().map(str::to_string))
        .unwrap_or_default()
}
