//! `genw`: the custom monitor — a script of the operator's says how the target is.
//!
//! Parameters (the original's names, reference §4, unless marked "ours"):
//! - `path` (required): the script. A relative path is resolved against
//!   `$CLP_ROOT/etc/scripts/monitor.s/<monitor>/`, where the original keeps monitor scripts;
//!   an absolute path is used as it is. The script runs in the folder that holds it.
//! - `sync` (default `1`): `1`/`true` runs the script at every interval and its exit code
//!   decides; `0`/`false` (async) starts it once and it must keep running: its end is the fault.
//! - `normalval` (default `0`, 0–255): the exit code that means Normal (sync).
//! - `warningval` (ours; unset by default, 0–255, not `normalval`): an exit code that means
//!   Warning (rm 4, then rm 49 when the script says Normal again) rather than a fault (sync).
//! - `waitmonstart` (default `0`, 0–9999 s, async): after the script is (re)started, checks
//!   report Normal for this long without looking at it; a death in that time is reported by
//!   the first check after it.
//!
//! Defaults: interval 60 s, timeout 120 s, retry 1 are the reference's recollection \[M\].
//!
//! How the script runs, like an exec resource's scripts: a clean environment (`PATH` with the
//! clp commands first, `LANG=C`, `HOME=/`, `CLP_PATH` and `CLP_ROOT`, and the OS-action lock
//! when the daemon has it), stdin from /dev/null, stdout and stderr appended to
//! `$CLP_ROOT/log/monitor.<monitor>.log`, as the leader of its own process group, at the
//! monitor's `nice` value (best effort: a nice value the daemon may not set is ignored).
//! When a sync check ends — or is abandoned at the timeout, which drops it — the script's
//! whole process group is killed, so nothing it started outlives its check.
//!
//! Async: the script is started by the first check. A background task waits for it, so its
//! death is known at once and reported by the next check (the engine runs a probe only at
//! its interval; see the report of the `psw` type for the hook that would report at once).
//! After a death the monitor reports the failure `retry + 1` times — enough for the engine to
//! put it in Error and run the recovery ladder — and the check after that starts the script
//! again (Normal again: rm 26). When the monitor is switched off (suspension, the target
//! resource stopped for a reactivation with `timing = "active"`, the daemon stopping) the
//! script's process group is killed, and the next check after it is switched on again starts
//! it anew.
//!
//! Detail codes (ours; the original's table of detail codes was not available):
//! 11 the script exited with a code other than `normalval` (sync), 12 a signal killed it
//! (sync), 13 it could not be started, 14 the async script ended; warning 15 it exited with
//! `warningval`.
//!
//! The install root comes from `$CLP_ROOT` when the probe is built ([`Paths::from_env`]):
//! the daemon runs with it set, and the build function has no other way to learn it.

use clp_core::monitor::genw::*;
use clp_core::monitor::params::valid;
use clp_core::monitor::spec::ProbeSettings;
use clp_core::monitor::{CheckFuture, CheckOutcome, Probe, ProbeContext};
use clp_core::os_action::OsActions;
use clp_core::paths::Paths;
use clp_core::process::{script_path_var, signal_group};
use nix::sys::signal::Signal;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::process::Command;
use tokio::task::JoinHandle;

/// Builds the probe of a validated monitor ([`clp_core::monitor::spec::BuildProbe`]).
pub fn build(config: &ProbeSettings<'_>, _: &OsActions) -> Result<Box<dyn Probe>, String> {
    let params = valid(parse(config.parameters))?;
    Ok(Box::new(Genw::new(
        &Paths::from_env(),
        config.name,
        config.nice,
        config.retry,
        params,
    )))
}

/// Kills a process group when dropped: a check that ends or is abandoned takes everything
/// its script started with it.
struct GroupGuard(u32);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        signal_group(self.0, Signal::SIGKILL);
    }
}

/// How a script ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    Exited(i32),
    Signalled(i32),
}

impl Ended {
    fn of(status: ExitStatus) -> Ended {
        match (status.code(), status.signal()) {
            (Some(code), _) => Ended::Exited(code),
            (None, Some(signal)) => Ended::Signalled(signal),
            (None, None) => Ended::Exited(-1),
        }
    }

    fn describe(self) -> String {
        match self {
            Ended::Exited(code) => format!("exited with code {code}"),
            Ended::Signalled(signal) => format!("was killed by signal {signal}"),
        }
    }
}

/// The async script while it runs.
#[derive(Debug)]
struct Running {
    pgid: u32,
    started: Instant,
    ended: Arc<Mutex<Option<Ended>>>,
    waiter: JoinHandle<()>,
}

impl Running {
    fn ended(&self) -> Option<Ended> {
        *self
            .ended
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn kill(self) {
        if !self.waiter.is_finished() {
            signal_group(self.pgid, Signal::SIGKILL);
        }
        self.waiter.abort();
    }
}

/// The genw probe.
#[derive(Debug)]
pub struct Genw {
    script: PathBuf,
    shown: String,
    dir: PathBuf,
    log: PathBuf,
    env: Vec<(String, String)>,
    nice: i32,
    retry: u32,
    params: GenwParams,
    running: Option<Running>,
    reported: u32,
    /// Fired when the async script ends, so the engine checks at once.
    ended: Arc<tokio::sync::Notify>,
}

impl Genw {
    /// The probe of monitor `name` in the installation `paths`.
    pub fn new(paths: &Paths, name: &str, nice: i32, retry: u32, params: GenwParams) -> Genw {
        let configured = Path::new(&params.path);
        let script = if configured.is_absolute() {
            configured.to_path_buf()
        } else {
            paths.monitor_script_dir(name).join(configured)
        };
        let dir = script
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| paths.monitor_script_dir(name));
        let root = paths.root().display().to_string();
        let mut env = vec![
            ("PATH".to_string(), script_path_var()),
            ("LANG".to_string(), "C".to_string()),
            ("HOME".to_string(), "/".to_string()),
            ("CLP_PATH".to_string(), root.clone()),
            (clp_core::paths::ROOT_ENV.to_string(), root),
        ];
        if clp_core::os_action::forbidden_by_env() {
            env.push((clp_core::os_action::FORBID_ENV.to_string(), "1".to_string()));
        }
        Genw {
            shown: params.path.clone(),
            script,
            dir,
            log: paths.monitor_log(name),
            env,
            nice,
            retry,
            params,
            running: None,
            reported: 0,
            ended: Arc::new(tokio::sync::Notify::new()),
        }
    }

    fn command(&self) -> std::io::Result<Command> {
        let script = clp_core::process::Script {
            path: self.script.clone(),
            dir: self.dir.clone(),
            env: self.env.clone(),
            log: self.log.clone(),
        };
        let mut command = script.command()?;
        command.kill_on_drop(true);
        let nice = self.nice;
        if nice != 0 {
            // SAFETY: the hook runs in the forked child before exec and only makes the
            // async-signal-safe setpriority system call.
            unsafe {
                command.pre_exec(move || {
                    libc::setpriority(libc::PRIO_PROCESS, 0, nice);
                    Ok(())
                });
            }
        }
        Ok(command)
    }

    fn cannot_start(&self, error: std::io::Error) -> CheckOutcome {
        CheckOutcome::Failure {
            code: CANNOT_START,
            detail: format!("cannot run {}: {error}", self.script.display()),
        }
    }

    async fn check_sync(&self) -> CheckOutcome {
        let mut child = match self.command().and_then(|mut command| command.spawn()) {
            Ok(child) => child,
            Err(error) => return self.cannot_start(error),
        };
        // Declared after the child, so dropped before it: the group dies first, then the
        // child's kill_on_drop hands the leader to tokio's reaper.
        let _group = GroupGuard(child.id().unwrap_or(0));
        let status = match child.wait().await {
            Ok(status) => status,
            Err(error) => return self.cannot_start(error),
        };
        match Ended::of(status) {
            Ended::Exited(code) if code == self.params.normalval => CheckOutcome::Normal,
            Ended::Exited(code) if Some(code) == self.params.warningval => CheckOutcome::Warning {
                code: WARNING_EXIT,
                detail: format!("{} exited with code {code} (warningval).", self.shown),
            },
            Ended::Exited(code) => CheckOutcome::Failure {
                code: ABNORMAL_EXIT,
                detail: format!(
                    "{} exited with code {code} (normalval {}).",
                    self.shown, self.params.normalval
                ),
            },
            ended @ Ended::Signalled(_) => CheckOutcome::Failure {
                code: KILLED,
                detail: format!("{} {}.", self.shown, ended.describe()),
            },
        }
    }

    fn start_async(&mut self) -> std::io::Result<()> {
        let mut child = self.command()?.spawn()?;
        let pgid = child.id().unwrap_or(0);
        let ended = Arc::new(Mutex::new(None));
        let slot = Arc::clone(&ended);
        let wake = Arc::clone(&self.ended);
        let waiter = tokio::spawn(async move {
            // Aborting this task (the monitor switched off) drops the guard and the child:
            // the whole group is killed.
            let _group = GroupGuard(pgid);
            let outcome = match child.wait().await {
                Ok(status) => Ended::of(status),
                Err(_) => Ended::Exited(-1),
            };
            *slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(outcome);
            wake.notify_one();
        });
        self.running = Some(Running {
            pgid,
            started: Instant::now(),
            ended,
            waiter,
        });
        self.reported = 0;
        Ok(())
    }

    fn check_async(&mut self) -> CheckOutcome {
        let Some(running) = &self.running else {
            return match self.start_async() {
                Ok(()) => CheckOutcome::Normal,
                Err(error) => self.cannot_start(error),
            };
        };
        if running.started.elapsed() < self.params.waitmonstart {
            return CheckOutcome::Normal;
        }
        let Some(ended) = running.ended() else {
            return CheckOutcome::Normal;
        };
        self.reported += 1;
        if self.reported > self.retry {
            // Reported often enough to reach Error: the next check starts it again.
            if let Some(running) = self.running.take() {
                running.kill();
            }
        } else {
            // A dead script stays dead: the retries are checked at once, not an interval
            // apart each.
            self.ended.notify_one();
        }
        CheckOutcome::Failure {
            code: ASYNC_ENDED,
            detail: format!("{} {}.", self.shown, ended.describe()),
        }
    }
}

impl Probe for Genw {
    fn check(&mut self, _: ProbeContext) -> CheckFuture<'_> {
        Box::pin(async move {
            if self.params.sync {
                self.check_sync().await
            } else {
                self.check_async()
            }
        })
    }

    fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.kill();
        }
    }

    fn wake(&self) -> Option<Arc<tokio::sync::Notify>> {
        (!self.params.sync).then(|| Arc::clone(&self.ended))
    }
}

impl Drop for Genw {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn table(text: &str) -> toml::Table {
        text.parse().unwrap()
    }

    #[test]
    fn defaults() {
        let (params, problems) = parse(&table("path = \"genw.sh\""));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            params,
            GenwParams {
                path: "genw.sh".into(),
                sync: true,
                normalval: 0,
                warningval: None,
                waitmonstart: Duration::ZERO,
            }
        );
    }

    #[test]
    fn the_original_spellings_are_accepted() {
        let (params, problems) = parse(&table(
            "path = \"/opt/app/check.sh\"\nsync = 0\nnormalval = 3\nwaitmonstart = 10",
        ));
        assert!(problems.is_empty(), "{problems:?}");
        assert!(!params.sync);
        assert_eq!(params.normalval, 3);
        assert_eq!(params.waitmonstart, Duration::from_secs(10));
    }

    #[test]
    fn bad_values_are_each_reported() {
        let (_, problems) = parse(&table(
            "sync = 2\nnormalval = 256\nwaitmonstart = 10000\npaht = \"x\"",
        ));
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(
            problems[0].contains("did you mean \"path\""),
            "{problems:?}"
        );
        assert!(problems.iter().any(|p| p == "key \"path\" is missing"));
        assert!(problems.iter().any(|p| p.contains("\"sync\"")));
        assert!(problems.iter().any(|p| p.contains("256 is out of range")));
        assert!(problems.iter().any(|p| p.contains("10000 is out of range")));
    }

    #[test]
    fn a_warning_code_must_differ_and_needs_sync() {
        let (_, problems) = parse(&table("path = \"a\"\nwarningval = 0"));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("also normalval"));
        let (_, problems) = parse(&table("path = \"a\"\nsync = false\nwarningval = 2"));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("only a sync script"));
        let (_, problems) = parse(&table("path = \" \""));
        assert_eq!(problems, ["key \"path\": the script path is empty"]);
    }

    #[test]
    fn a_relative_path_is_under_the_monitor_script_folder() {
        let paths = Paths::new("/opt/clp");
        let (params, _) = parse(&table("path = \"genw.sh\""));
        let genw = Genw::new(&paths, "genw1", 0, 1, params);
        assert_eq!(
            genw.script,
            Path::new("/opt/clp/etc/scripts/monitor.s/genw1/genw.sh")
        );
        assert_eq!(genw.log, Path::new("/opt/clp/log/monitor.genw1.log"));
        let (params, _) = parse(&table("path = \"/usr/local/bin/check\""));
        let genw = Genw::new(&paths, "genw1", 0, 1, params);
        assert_eq!(genw.script, Path::new("/usr/local/bin/check"));
        assert_eq!(genw.dir, Path::new("/usr/local/bin"));
    }

    fn probe(dir: &Path, body: &str, params: &str) -> Genw {
        let script = dir.join("check.sh");
        std::fs::write(&script, format!("#!/bin/sh\n{body}\n")).unwrap();
        let (params, problems) = parse(&table(&format!(
            "path = \"{}\"\n{params}",
            script.display()
        )));
        assert!(problems.is_empty(), "{problems:?}");
        Genw::new(&Paths::new(dir), "genw", 0, 0, params)
    }

    fn context() -> ProbeContext {
        ProbeContext {
            lateness: Duration::ZERO,
            timeout: Duration::from_secs(5),
            target_process: None,
        }
    }

    #[tokio::test]
    async fn exit_codes_decide() {
        let dir = tempfile::tempdir().unwrap();
        let mut genw = probe(dir.path(), "exit $(cat code)", "warningval = 3");
        for (code, expected) in [
            ("0", CheckOutcome::Normal),
            (
                "3",
                CheckOutcome::Warning {
                    code: WARNING_EXIT,
                    detail: format!(
                        "{}/check.sh exited with code 3 (warningval).",
                        dir.path().display()
                    ),
                },
            ),
        ] {
            std::fs::write(dir.path().join("code"), code).unwrap();
            assert_eq!(genw.check(context()).await, expected);
        }
        std::fs::write(dir.path().join("code"), "1").unwrap();
        assert!(matches!(
            genw.check(context()).await,
            CheckOutcome::Failure { code: ABNORMAL_EXIT, detail } if detail.ends_with("exited with code 1 (normalval 0).")
        ));
        let log = std::fs::read_to_string(dir.path().join("log/monitor.genw.log")).unwrap();
        assert!(log.is_empty(), "{log}");
    }

    #[tokio::test]
    async fn a_missing_script_cannot_start() {
        let dir = tempfile::tempdir().unwrap();
        let mut genw = probe(dir.path(), "", "");
        std::fs::remove_file(dir.path().join("check.sh")).unwrap();
        assert!(matches!(
            genw.check(context()).await,
            CheckOutcome::Failure { code: CANNOT_START, detail } if detail.contains("No such file")
        ));
    }

    #[tokio::test]
    async fn an_abandoned_check_kills_the_script_group() {
        let dir = tempfile::tempdir().unwrap();
        let mut genw = probe(dir.path(), "sleep 30 &\necho $! > child\nsleep 30", "");
        let abandoned =
            tokio::time::timeout(Duration::from_millis(500), genw.check(context())).await;
        assert!(abandoned.is_err());
        let child: u32 = std::fs::read_to_string(dir.path().join("child"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while clp_core::process::ProcessIdentity::of(child).is_some_and(|p| p.is_alive()) {
            assert!(Instant::now() < deadline, "child {child} survived");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
