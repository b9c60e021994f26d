//! clpcfctrl: push (validated whole, the changes shown, switched atomically), pull,
//! rollback, apply to a running clppm (suspend/resume keeps the resources running; restart
//! stops the groups), and migration from the original's XML.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::harness::*;

/// A folder to push: `clp.conf` and `scripts/`.
struct Folder {
    dir: tempfile::TempDir,
}

impl Folder {
    fn new(conf: &str) -> Folder {
        let folder = Folder {
            dir: tempfile::Builder::new()
                .prefix("clp-push-")
                .tempdir()
                .unwrap(),
        };
        folder.conf(conf);
        folder
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn arg(&self) -> String {
        self.path().display().to_string()
    }

    fn conf(&self, conf: &str) {
        std::fs::write(self.path().join("clp.conf"), conf).unwrap();
    }

    fn script(&self, group: &str, resource: &str, name: &str, body: &str) {
        let dir = self.path().join("scripts").join(group).join(resource);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// The start script records its event in `$CLP_ROOT/events` (outside the scripts, which a
/// push replaces) and runs `sleep`.
fn exec_scripts(folder: &Folder) {
    folder.script(
        "failover",
        "exec",
        "start.sh",
        "echo \"$CLP_EVENT\" >> \"$CLP_ROOT/events\"\nexec sleep 600",
    );
    folder.script(
        "failover",
        "exec",
        "stop.sh",
        "echo \"stop $CLP_FACTOR\" >> \"$CLP_ROOT/events\"",
    );
}

fn conf(extra: &str) -> String {
    format!(
        r#"[cluster]
name = "zabi"

[[group]]
name = "failover"

[[group.resource]]
name = "exec"
mode = "async"

[[monitor]]
name = "pidw"
type = "pidw"
target = "exec"
interval = 0.5
{extra}"#
    )
}

fn root_events(cluster: &Cluster) -> Vec<String> {
    std::fs::read_to_string(cluster.path("events"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn monitor_json(cluster: &Cluster, name: &str) -> serde_json::Value {
    cluster.status()["monitors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .cloned()
        .unwrap_or(serde_json::Value::Null)
}

/// A cluster whose configuration came through a push (the daemon not started).
fn pushed_cluster() -> (Cluster, Folder) {
    let cluster = Cluster::new();
    let folder = Folder::new(&conf(""));
    exec_scripts(&folder);
    cluster
        .run("clpcfctrl", &["--push", "-x", &folder.arg()])
        .success();
    (cluster, folder)
}

#[test]
fn a_bad_folder_is_refused_with_every_problem_and_nothing_changes() {
    let cluster = Cluster::new();
    let folder = Folder::new(
        r#"[cluster]
name = "zabi"
[[group]]
name = "failover"
[[group.resource]]
name = "exec"
mode = "async"
[[monitor]]
name = "pidw"
type = "pidw"
target = "exec"
intervall = 1
[[monitor]]
name = "w"
type = "nosuchw"
"#,
    );
    let stderr = cluster
        .run("clpcfctrl", &["--push", "-x", &folder.arg()])
        .failure(4);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(
        lines.iter().all(|l| l.starts_with("clpcfctrl: ")),
        "{stderr}"
    );
    assert!(stderr.contains("key \"start\": script"), "{stderr}");
    assert!(
        stderr.contains("unknown key \"intervall\" (did you mean \"interval\"?)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("unknown monitor type \"nosuchw\""),
        "{stderr}"
    );
    assert!(!cluster.path("etc/clp.conf").exists());
    assert!(!cluster.path("etc/generations").exists());
    assert_eq!(cluster.count_alerts("cfmgr 1"), 0);
}

#[test]
fn a_push_shows_the_changes_and_switches_configuration_and_scripts_together() {
    let (cluster, folder) = pushed_cluster();
    assert!(cluster.path("etc/clp.conf").is_symlink());
    assert_eq!(
        std::fs::read_to_string(cluster.path("etc/clp.conf")).unwrap(),
        conf("")
    );
    assert!(cluster.path("etc/scripts/failover/exec/start.sh").is_file());
    assert_eq!(
        cluster
            .count_alerts("cfmgr 1 The cluster configuration data has been uploaded by clpcfctrl."),
        1
    );

    folder.conf(&conf("[monitor.recovery]\nreactivation_threshold = 5\n"));
    folder.script("failover", "exec", "stop.sh", "exit 0");
    let out = cluster
        .run("clpcfctrl", &["--push", "-l", "-x", &folder.arg()])
        .success();
    insta::with_settings!({ snapshot_suffix => "", prepend_module_to_snapshot => false }, {
        snapshot_settings(&cluster).bind(|| insta::assert_snapshot!("clpcfctrl_push_changes", out));
    });
    assert!(
        std::fs::read_to_string(cluster.path("etc/scripts/failover/exec/stop.sh"))
            .unwrap()
            .contains("exit 0")
    );
    // The same folder again: nothing to push.
    let again = cluster
        .run("clpcfctrl", &["--push", "-x", &folder.arg()])
        .success();
    assert!(
        again.starts_with("No change to the active configuration; nothing pushed."),
        "{again}"
    );
}

#[test]
fn a_monitor_only_change_applied_keeps_the_resource_process() {
    let (cluster, folder) = pushed_cluster();
    cluster.start();
    wait_until("pidw normal", WAIT, || {
        cluster.monitor_status("pidw") == "Normal"
    });
    let resource = cluster.resource_pid("exec").unwrap();
    let daemon = cluster.daemon_pid().unwrap();
    assert_eq!(monitor_json(&cluster, "pidw")["reactivation_threshold"], 3);

    folder.conf(&conf(
        "[monitor.recovery]\nreactivation_threshold = 5\n\n[[monitor]]\nname = \"userw2\"\ntype = \"userw\"\n",
    ));
    let out = cluster
        .run("clpcfctrl", &["--push", "-x", &folder.arg(), "--apply"])
        .success();
    assert!(
        out.contains("Applied by suspend/resume: the resources kept running"),
        "{out}"
    );
    let new_daemon = cluster.daemon_pid().unwrap();
    assert_ne!(
        new_daemon, daemon,
        "a new clppm reads the new configuration"
    );
    assert!(!alive(daemon));
    // The resource was adopted, not started again.
    wait_until("userw2 normal", WAIT, || {
        cluster.monitor_status("userw2") == "Normal"
    });
    assert!(alive(resource));
    assert_eq!(cluster.resource_pid("exec"), Some(resource));
    assert_eq!(cluster.resource_status("exec"), "Online");
    assert_eq!(root_events(&cluster), ["START"]);
    assert_eq!(monitor_json(&cluster, "pidw")["reactivation_threshold"], 5);
    let alerts = cluster.alerts();
    for expected in [
        "cfmgr 1 The cluster configuration data has been uploaded by clpcfctrl.",
        &format!(
            "cl 3 There was a request to suspend {} from the clpcfctrl.",
            host()
        ),
        "rm 2 Monitoring pidw has stopped.",
        &format!(
            "cl 4 There was a request to resume {} from the clpcfctrl.",
            host()
        ),
        "rm 1 Monitoring userw2 has started.",
    ] {
        assert!(
            alerts.contains(expected),
            "missing {expected:?} in\n{alerts}"
        );
    }
    assert_eq!(
        cluster.count_alerts("rc 30 Activating exec resource has started."),
        1
    );
    // The new clppm watches the adopted process: its death is recovered at once.
    signal(resource, libc::SIGKILL);
    wait_until("reactivated", WAIT, || {
        root_events(&cluster).contains(&"RECOVER".to_string())
    });
    cluster.stop();
    assert_eq!(cluster.processes(), Vec::<u32>::new());
}

#[test]
fn a_script_change_applied_restarts_the_groups() {
    let (cluster, folder) = pushed_cluster();
    cluster.start();
    wait_until("exec online", WAIT, || {
        cluster.resource_status("exec") == "Online"
    });
    let resource = cluster.resource_pid("exec").unwrap();
    folder.script(
        "failover",
        "exec",
        "start.sh",
        "echo \"$CLP_EVENT v2\" >> \"$CLP_ROOT/events\"\nexec sleep 600",
    );
    let out = cluster
        .run("clpcfctrl", &["--push", "-x", &folder.arg(), "--apply"])
        .success();
    assert!(out.contains("file start.sh: changed"), "{out}");
    assert!(out.contains("Applied by restart"), "{out}");
    wait_until("exec online again, its start script run", WAIT, || {
        cluster.resource_status("exec") == "Online" && root_events(&cluster).len() >= 3
    });
    assert!(!alive(resource));
    assert_eq!(
        root_events(&cluster),
        ["START", "stop CLUSTERSHUTDOWN", "START v2"]
    );
    cluster.stop();
}

#[test]
fn without_apply_the_daemon_keeps_running_and_is_told_what_it_needs() {
    let (cluster, folder) = pushed_cluster();
    cluster.start();
    wait_until("exec online", WAIT, || {
        cluster.resource_status("exec") == "Online"
    });
    let daemon = cluster.daemon_pid().unwrap();
    folder.conf(&conf("timeout = 30\n"));
    let out = cluster
        .run("clpcfctrl", &["--push", "-x", &folder.arg()])
        .success();
    assert!(
        out.contains(
            "needs a suspend/resume (the resources keep running): run 'clpcfctrl --apply'"
        ),
        "{out}"
    );
    // A second push adds a group change to what the running clppm lacks: a restart now.
    folder.conf(&conf("timeout = 30\n").replace(
        "mode = \"async\"",
        "mode = \"async\"\ncomment = \"the application\"",
    ));
    let out = cluster
        .run("clpcfctrl", &["--push", "-x", &folder.arg()])
        .success();
    assert!(out.contains("needs a restart"), "{out}");
    assert!(out.contains("runs generation 2"), "{out}");
    assert_eq!(cluster.daemon_pid(), Some(daemon));
    assert_eq!(cluster.status()["groups"][0]["resources"][0]["comment"], "");
    let out = cluster.run("clpcfctrl", &["--apply"]).success();
    assert!(out.contains("Applied by restart"), "{out}");
    wait_until("exec online again", WAIT, || {
        cluster.resource_status("exec") == "Online"
    });
    assert_eq!(
        cluster.status()["groups"][0]["resources"][0]["comment"],
        "the application"
    );
    let out = cluster.run("clpcfctrl", &["--apply"]).success();
    assert!(out.contains("runs the active configuration"), "{out}");
    cluster.stop();
    let stderr = cluster.run("clpcfctrl", &["--apply"]).failure(10);
    assert!(stderr.contains("clppm is not running"), "{stderr}");
}

#[test]
fn rollback_returns_to_the_previous_generation_and_n_are_kept() {
    let (cluster, folder) = pushed_cluster();
    for interval in ["1", "2", "3"] {
        folder.conf(&conf("").replace("interval = 0.5", &format!("interval = {interval}")));
        cluster
            .run("clpcfctrl", &["--push", "-x", &folder.arg(), "--keep", "3"])
            .success();
    }
    let list = cluster.run("clpcfctrl", &["--list"]).success();
    let numbers: Vec<&str> = list
        .lines()
        .skip(1)
        .filter_map(|line| line.get(2..).and_then(|l| l.split_whitespace().next()))
        .collect();
    assert_eq!(numbers, ["3", "4", "5"], "{list}");
    assert!(list.lines().last().unwrap().starts_with("* 5"), "{list}");

    let out = cluster.run("clpcfctrl", &["--rollback"]).success();
    assert!(out.contains("interval: 3 -> 2"), "{out}");
    assert!(out.contains("Generation 4 is active."), "{out}");
    assert!(
        std::fs::read_to_string(cluster.path("etc/clp.conf"))
            .unwrap()
            .contains("interval = 2")
    );
    cluster.run("clpcfctrl", &["--rollback"]).success();
    let stderr = cluster.run("clpcfctrl", &["--rollback"]).failure(255);
    assert!(
        stderr.contains("generation 3 is the oldest kept"),
        "{stderr}"
    );
    // A push after a rollback is the newest generation.
    folder.conf(&conf(""));
    let out = cluster
        .run("clpcfctrl", &["--push", "-x", &folder.arg()])
        .success();
    assert!(out.contains("Generation 6 is active."), "{out}");
}

#[test]
fn pull_writes_the_active_configuration_back() {
    let (cluster, _folder) = pushed_cluster();
    let target = tempfile::tempdir().unwrap();
    let pulled = target.path().join("conf");
    cluster
        .run(
            "clpcfctrl",
            &["--pull", "-l", "-x", &pulled.display().to_string()],
        )
        .success();
    assert_eq!(
        std::fs::read_to_string(pulled.join("clp.conf")).unwrap(),
        conf("")
    );
    let start = pulled.join("scripts/failover/exec/start.sh");
    assert!(start.is_file());
    assert_eq!(
        std::fs::metadata(&start).unwrap().permissions().mode() & 0o111,
        0o111
    );
    // Pulling again replaces what is there.
    cluster
        .run(
            "clpcfctrl",
            &["--pull", "-x", &pulled.display().to_string()],
        )
        .success();
    let out = cluster
        .run(
            "clpcfctrl",
            &["--push", "-x", &pulled.display().to_string()],
        )
        .success();
    assert!(out.starts_with("No change"), "{out}");
    // A fresh installation pulls the default configuration.
    let fresh = Cluster::new();
    let pulled = target.path().join("fresh");
    fresh
        .run(
            "clpcfctrl",
            &["--pull", "-x", &pulled.display().to_string()],
        )
        .success();
    assert_eq!(
        std::fs::read_to_string(pulled.join("clp.conf")).unwrap(),
        clp_core::config::DEFAULT_CONFIG
    );
}

#[test]
fn the_cluster_can_be_renamed_its_server_stays_the_host() {
    let (cluster, folder) = pushed_cluster();
    folder.conf(&conf("").replace("zabi", "other"));
    let out = cluster
        .run("clpcfctrl", &["--push", "-x", &folder.arg()])
        .success();
    assert!(out.contains("name: zabi -> other"), "{out}");
    let status = cluster.status();
    assert_eq!(status["cluster"], "other");
    assert_eq!(status["server"]["name"], host());
}

#[test]
fn a_configuration_made_for_another_server_needs_force_and_becomes_this_hosts() {
    let (cluster, folder) = pushed_cluster();
    folder.conf(&conf(
        "\n[[server]]\nname = \"old-server\"\ncomment = \"the machine before\"\n",
    ));
    let stderr = cluster
        .run("clpcfctrl", &["--push", "-x", &folder.arg()])
        .failure(4);
    assert!(
        stderr.contains(&format!(
            "the configuration was made for server \"old-server\"; this server is \"{}\"",
            host()
        )) && stderr.contains("push it anyway with --force"),
        "{stderr}"
    );
    let out = cluster
        .run("clpcfctrl", &["--push", "-x", &folder.arg(), "--force"])
        .success();
    assert!(
        out.starts_with(&format!(
            "The configuration was made for server \"old-server\"; with --force its server is now this host, \"{}\".\n",
            host()
        )),
        "{out}"
    );
    let active = std::fs::read_to_string(cluster.path("etc/clp.conf")).unwrap();
    assert!(
        active.contains(&format!(
            "[[server]]\nname = \"{}\"\ncomment = \"the machine before\"",
            host()
        )),
        "{active}"
    );
    cluster.start();
    let text = cluster.run("clpstat", &[]).success();
    let line = text
        .lines()
        .find(|l| l.contains(&format!("*{} ", host())))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.ends_with("the machine before"), "{line}");
    cluster.stop();
}

#[test]
fn clppm_refuses_a_configuration_of_another_server_written_by_hand() {
    let cluster =
        Cluster::with_config("[cluster]\nname = \"zabi\"\n\n[[server]]\nname = \"old-server\"\n");
    let run = cluster.run("clpcl", &["-s"]);
    assert_ne!(run.code(), 0, "{}", run.stdout());
    let stderr = run.stderr();
    assert!(
        stderr.contains(&format!(
            "the configuration's server is \"old-server\", not this host \"{}\" (pm 15)",
            host()
        )),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------
// Migration from the original

/// The original's clp.conf for this server: an async exec resource watched by pidw, the
/// default userw, Japanese comments, and settings this version does not have.
fn original_conf(server: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="EUC-JP"?>
<root>
  <all>
    <charset>EUC-JP</charset>
    <serveros>linux</serveros>
    <encode>EUC-JP</encode>
  </all>
  <cluster>
    <name>zabi</name>
    <comment>移行元のクラスタ</comment>
  </cluster>
  <webmgr>
    <client>
      <objectnumber>7</objectnumber>
    </client>
  </webmgr>
  <server name="{server}">
    <priority>0</priority>
    <device id="0">
      <type>lan</type>
      <info>127.0.0.1</info>
    </device>
  </server>
  <heartbeat>
    <types name="lanhb"/>
    <lanhb name="lanhb1">
      <priority>0</priority>
      <device>0</device>
    </lanhb>
  </heartbeat>
  <group name="failover">
    <comment>業務</comment>
    <gid>0</gid>
    <resource name="exec@exec"/>
  </group>
  <resource>
    <types name="exec"/>
    <exec name="exec">
      <comment/>
      <parameters>
        <act>
          <path>start.sh</path>
          <sync>0</sync>
        </act>
        <deact>
          <path>stop.sh</path>
        </deact>
        <userlog>/opt/nec/clusterpro/log/exec.log</userlog>
      </parameters>
    </exec>
  </resource>
  <monitor>
    <types name="userw"/>
    <userw name="userw">
      <comment/>
      <relation>
        <type>cls</type>
        <name>LocalServer</name>
      </relation>
    </userw>
    <types name="pidw"/>
    <pidw name="pidw">
      <comment>プロセス監視</comment>
      <target>exec</target>
      <relation>
        <type>rsc</type>
        <name>exec</name>
      </relation>
      <emergency>
        <action>1</action>
        <threshold>
          <restart>2</restart>
        </threshold>
      </emergency>
      <polling>
        <interval>1</interval>
        <timeout>60</timeout>
      </polling>
    </pidw>
  </monitor>
  <rc>
    <errordetect>
      <rscact>
        <norecovery>1</norecovery>
      </rscact>
    </errordetect>
  </rc>
</root>
"#
    )
}

/// An exported folder of the original: EUC-JP clp.conf, scripts in the original's layout.
fn original_folder(server: &str) -> Folder {
    let folder = Folder::new("");
    let text = original_conf(server);
    let (bytes, _, had_errors) = encoding_rs::EUC_JP.encode(&text);
    assert!(!had_errors);
    std::fs::write(folder.path().join("clp.conf"), &bytes).unwrap();
    exec_scripts(&folder);
    folder
}

#[test]
fn the_original_configuration_is_converted_pushed_and_run() {
    let cluster = Cluster::new();
    let original = original_folder(&clp_core::config::host_name());
    let destination = tempfile::tempdir().unwrap();
    let converted: PathBuf = destination.path().join("converted");
    let out = cluster
        .run(
            "clpcfctrl",
            &[
                "--convert",
                "-l",
                "-x",
                &original.arg(),
                "-o",
                &converted.display().to_string(),
            ],
        )
        .success();
    assert!(
        out.contains("The original's clp.conf (EUC-JP) was converted."),
        "{out}"
    );
    assert!(
        out.contains("  /root/resource/exec@exec/parameters/userlog = \"/opt/nec/clusterpro/log/exec.log\": not supported"),
        "{out}"
    );
    assert!(
        out.contains("  /root/rc/errordetect/rscact/norecovery = \"1\""),
        "{out}"
    );
    let text = std::fs::read_to_string(converted.join("clp.conf")).unwrap();
    assert!(text.contains("comment = \"移行元のクラスタ\""), "{text}");
    assert!(converted.join("scripts/failover/exec/start.sh").is_file());
    // --convert never applies.
    assert!(!cluster.path("etc/clp.conf").exists());

    let out = cluster
        .run(
            "clpcfctrl",
            &["--push", "-x", &converted.display().to_string()],
        )
        .success();
    assert!(out.contains("added    monitor \"pidw\""), "{out}");
    cluster.start();
    wait_until("pidw normal", WAIT, || {
        cluster.monitor_status("pidw") == "Normal"
    });
    let status = cluster.status();
    assert_eq!(status["cluster"], "zabi");
    assert_eq!(status["groups"][0]["comment"], "業務");
    assert_eq!(monitor_json(&cluster, "pidw")["comment"], "プロセス監視");
    assert_eq!(monitor_json(&cluster, "pidw")["reactivation_threshold"], 2);
    assert_eq!(cluster.monitor_status("userw"), "Normal");
    assert_eq!(root_events(&cluster), ["START"]);
    cluster.stop();
}

#[test]
fn the_original_folder_can_be_pushed_directly() {
    let cluster = Cluster::new();
    let original = original_folder(&clp_core::config::host_name());
    let out = cluster
        .run("clpcfctrl", &["--push", "-x", &original.arg()])
        .success();
    assert!(
        out.contains("Not supported (left out of the configuration):"),
        "{out}"
    );
    assert!(out.contains("Generation 2 is active."), "{out}");
    let generation = cluster.path("etc/generations/2");
    assert!(generation.join("original-clp.conf").is_file());
    let list = cluster.run("clpcfctrl", &["--list"]).success();
    assert!(
        list.contains("(converted from the original's XML, EUC-JP)"),
        "{list}"
    );
}

#[test]
fn an_original_configuration_of_another_server_needs_force() {
    let cluster = Cluster::new();
    let original = original_folder("old-server");
    let stderr = cluster
        .run("clpcfctrl", &["--push", "-x", &original.arg()])
        .failure(4);
    assert!(
        stderr.contains("the configuration was made for server \"old-server\"")
            && stderr.contains("push it anyway with --force"),
        "{stderr}"
    );
    cluster
        .run("clpcfctrl", &["--push", "-x", &original.arg(), "--force"])
        .success();
}

#[test]
fn convert_refuses_a_folder_of_ours_and_an_occupied_destination() {
    let cluster = Cluster::new();
    let ours = Folder::new(&conf(""));
    let stderr = cluster
        .run(
            "clpcfctrl",
            &["--convert", "-x", &ours.arg(), "-o", "/tmp/never-written"],
        )
        .failure(2);
    assert!(
        stderr.contains("is already a clp configuration (TOML)"),
        "{stderr}"
    );
    let original = original_folder("x");
    let stderr = cluster
        .run(
            "clpcfctrl",
            &["--convert", "-x", &original.arg(), "-o", &ours.arg()],
        )
        .failure(2);
    assert!(stderr.contains("exists and is not empty"), "{stderr}");
}

#[test]
fn what_was_suspended_stays_suspended_across_an_applied_change() {
    let (cluster, folder) = pushed_cluster();
    cluster.start();
    wait_until("pidw normal", WAIT, || {
        cluster.monitor_status("pidw") == "Normal"
    });
    cluster.run("clpmonctrl", &["-s", "-m", "pidw"]).success();
    folder.conf(&conf("[monitor.recovery]\nreactivation_threshold = 5\n"));
    cluster
        .run("clpcfctrl", &["--push", "-x", &folder.arg(), "--apply"])
        .success();
    wait_until("the new daemon answers", WAIT, || {
        monitor_json(&cluster, "pidw")["reactivation_threshold"] == 5
    });
    assert_eq!(cluster.monitor_status("pidw"), "Suspend");
    // The whole daemon suspended: after the next change it is still suspended.
    cluster.run("clpmonctrl", &["-r", "-m", "pidw"]).success();
    cluster.run("clpcl", &["--suspend"]).success();
    folder.conf(&conf("[monitor.recovery]\nreactivation_threshold = 6\n"));
    cluster
        .run("clpcfctrl", &["--push", "-x", &folder.arg(), "--apply"])
        .success();
    wait_until("the newer daemon answers", WAIT, || {
        monitor_json(&cluster, "pidw")["reactivation_threshold"] == 6
    });
    // The new process answers while it is still taking over ("starting"); once it has, it
    // is suspended as its predecessor was.
    wait_until("the newer daemon has taken over", WAIT, || {
        cluster.status()["daemon"] != "starting"
    });
    assert_eq!(cluster.status()["daemon"], "suspended");
    cluster.run("clpcl", &["--resume"]).success();
    cluster.stop();
}

#[test]
fn a_clpcfctrl_that_finds_the_lock_held_waits_briefly_then_says_who_holds_it() {
    use std::os::fd::AsRawFd;
    use std::time::Duration;
    let (cluster, folder) = pushed_cluster();
    let lock = cluster.path("etc/.clpcfctrl.lock");
    // This test holds the lock as another clpcfctrl would (flock on its own open file).
    let hold = || {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&lock)
            .expect("clpcfctrl's lock file");
        // SAFETY: flock on a valid fd owned by `file`.
        assert_eq!(unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) }, 0);
        file
    };
    // Held a moment: the push waits for it and goes through.
    let held = hold();
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(1));
        drop(held);
    });
    folder.conf(&conf("comment = \"after the wait\"\n"));
    cluster
        .run("clpcfctrl", &["--push", "-x", &folder.arg()])
        .success();
    release.join().expect("the holder");
    // Held longer than clpcfctrl waits: refused, naming the holder's pid.
    std::fs::write(&lock, "4242\n").expect("a holder's pid in the lock file");
    let held = hold();
    let refused = cluster.run("clpcfctrl", &["--rollback"]);
    let message = refused.failure(128);
    assert!(
        message.contains(
            "another clpcfctrl (pid 4242) is changing the configuration on this server (waited 5 s)"
        ),
        "{message}"
    );
    drop(held);
}
