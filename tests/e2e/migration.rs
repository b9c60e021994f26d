//! A migrating operator's day: the server is the host (status, alerts, `clpgrp -n`, log
//! tarballs) while the cluster keeps its name, and a configuration exported from the
//! original product, with its scripts as the original wrote them, is pushed onto a host of
//! another name (`--force`) and its groups come Online.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::harness::*;

/// The original's default `start.sh` template: branch on `CLP_EVENT`, check `CLP_DISK`,
/// then `CLP_SERVER`; anything else is "not started by CLUSTERPRO" and fails. `app` runs
/// where the template says to start the application.
fn original_start_sh(app: &str) -> String {
    format!(
        r#"#! /bin/sh
#***************************************
#*              start.sh               *
#***************************************

echo "START"
if [ "$CLP_EVENT" = "START" ]
then
	if [ "$CLP_DISK" = "SUCCESS" ]
	then
		echo "NORMAL1"
		if [ "$CLP_SERVER" = "HOME" ]
		then
			echo "NORMAL2"
			{app}
		else
			echo "ON_OTHER1"
		fi
	else
		echo "ERROR_DISK from START"
		exit 1
	fi
elif [ "$CLP_EVENT" = "FAILOVER" ]
then
	if [ "$CLP_DISK" = "SUCCESS" ]
	then
		echo "FAILOVER1"
		{app}
	else
		echo "ERROR_DISK from FAILOVER"
		exit 1
	fi
else
	echo "NO_CLP"
	echo "no action"
	exit 1
fi

echo "EXIT"
exit 0
"#
    )
}

/// The original's default `stop.sh` template.
fn original_stop_sh() -> &'static str {
    r#"#! /bin/sh
#***************************************
#*               stop.sh               *
#***************************************

echo "START"
if [ "$CLP_EVENT" = "START" ] || [ "$CLP_EVENT" = "FAILOVER" ]
then
	if [ "$CLP_DISK" = "SUCCESS" ]
	then
		echo "NORMAL1"
	else
		echo "ERROR_DISK from $CLP_EVENT"
		exit 1
	fi
else
	echo "NO_CLP"
	echo "no action"
	exit 1
fi

echo "EXIT"
exit 0
"#
}

/// A `clp.conf` as the original's Cluster WebUI exports it for SingleServerSafe (the
/// reference's §11 shape): one server with the loopback heartbeat, two groups of one exec
/// resource each (one synchronous, one asynchronous watched by pidw), the default userw.
fn exported_clp_conf(server: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="ASCII"?>
<root>
  <all>
    <charset>ASCII</charset>
    <serveros>linux</serveros>
    <encode>ASCII</encode>
  </all>
  <cluster>
    <name>sss-cluster</name>
    <comment>exported from the original</comment>
  </cluster>
  <server name="{server}">
    <priority>0</priority>
    <comment>the old machine</comment>
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
  <group name="failover1">
    <comment/>
    <gid>0</gid>
    <resource name="exec@exec1"/>
  </group>
  <group name="failover2">
    <comment/>
    <gid>1</gid>
    <resource name="exec@exec2"/>
  </group>
  <resource>
    <types name="exec"/>
    <exec name="exec1">
      <comment/>
      <parameters>
        <act>
          <path>start.sh</path>
        </act>
        <deact>
          <path>stop.sh</path>
        </deact>
      </parameters>
    </exec>
    <exec name="exec2">
      <comment/>
      <parameters>
        <act>
          <path>start.sh</path>
          <sync>0</sync>
        </act>
        <deact>
          <path>stop.sh</path>
        </deact>
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
    <pidw name="pidw1">
      <comment/>
      <target>exec2</target>
      <relation>
        <type>rsc</type>
        <name>exec2</name>
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
  <rm>
    <errordetect>
      <norecovery>0</norecovery>
    </errordetect>
  </rm>
  <webmgr>
    <client>
      <objectnumber>8</objectnumber>
    </client>
  </webmgr>
</root>
"#
    )
}

fn write_script(dir: &Path, name: &str, body: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The exported folder: `clp.conf` and `scripts/<group>/<resource>/`, as the original lays
/// it out.
fn exported_folder(server: &str) -> tempfile::TempDir {
    let folder = tempfile::Builder::new()
        .prefix("clp-export-")
        .tempdir()
        .unwrap();
    std::fs::write(folder.path().join("clp.conf"), exported_clp_conf(server)).unwrap();
    let scripts = folder.path().join("scripts");
    let exec1 = scripts.join("failover1/exec1");
    write_script(
        &exec1,
        "start.sh",
        &original_start_sh("clplogcmd -m \"start your application\""),
    );
    write_script(&exec1, "stop.sh", original_stop_sh());
    // Operators' own copies often lost the `#!` line: the original runs them with the shell.
    let without_shebang = |text: &str| text.split_once('\n').unwrap().1.to_string();
    let exec2 = scripts.join("failover2/exec2");
    write_script(
        &exec2,
        "start.sh",
        &without_shebang(&original_start_sh("exec sleep 600")),
    );
    write_script(&exec2, "stop.sh", &without_shebang(original_stop_sh()));
    folder
}

#[test]
fn an_exported_configuration_of_another_host_is_pushed_with_force_and_comes_online() {
    let cluster = Cluster::new();
    let host = host();
    let folder = exported_folder("old-host");
    let dir = folder.path().display().to_string();

    let refused = cluster.run("clpcfctrl", &["--push", "-x", &dir]).failure(4);
    assert!(
        refused.contains(&format!(
            "the configuration was made for server \"old-host\"; this server is \"{host}\""
        )) && refused.contains("push it anyway with --force"),
        "{refused}"
    );

    let out = cluster
        .run("clpcfctrl", &["--push", "-x", &dir, "--force"])
        .success();
    assert!(
        out.contains(&format!(
            "The configuration was made for server \"old-host\"; with --force its server is now this host, \"{host}\"."
        )),
        "{out}"
    );

    cluster.start();
    wait_until("both groups online", WAIT, || {
        let status = cluster.status();
        status["groups"].as_array().is_some_and(|groups| {
            groups.len() == 2 && groups.iter().all(|g| g["status"] == "Online")
        })
    });
    wait_until("pidw1 normal", WAIT, || {
        cluster.monitor_status("pidw1") == "Normal"
    });
    let status = cluster.status();
    assert_eq!(status["cluster"], "sss-cluster");
    assert_eq!(status["server"]["name"], host.as_str());
    assert_eq!(status["server"]["comment"], "the old machine");
    assert_eq!(cluster.resource_status("exec1"), "Online");
    assert_eq!(cluster.resource_status("exec2"), "Online");
    assert_eq!(
        cluster.run("clpgrp", &["-n", "failover2"]).success(),
        format!("{host}\n")
    );
    assert!(
        cluster.alerts().contains("logcmd 1 start your application"),
        "the original's start.sh ran its START branch:\n{}",
        cluster.alerts()
    );
    cluster.stop();
    assert!(
        cluster
            .alerts()
            .contains("rc 21 Stopping group failover2 has completed."),
        "{}",
        cluster.alerts()
    );
}

#[test]
fn the_server_is_the_host_and_the_cluster_keeps_its_name() {
    let cluster = Cluster::with_config(
        r#"[cluster]
name = "demo"
comment = "the cluster's comment"

[[group]]
name = "failover"

[[group.resource]]
name = "exec"
mode = "async"

[[monitor]]
name = "userw"
type = "userw"
interval = 0.5
"#,
    );
    cluster.script("failover", "exec", "start.sh", "exec sleep 600");
    let host = host();
    cluster.start();
    wait_until("exec online", WAIT, || {
        cluster.resource_status("exec") == "Online"
    });
    let text = cluster.run("clpstat", &[]).success();
    assert!(text.contains("  Cluster : demo\n"), "{text}");
    let server = text
        .lines()
        .find(|l| l.trim_start().starts_with('*'))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        server.trim_start().starts_with(&format!("*{host} ")),
        "{server}"
    );
    assert!(
        server.trim_end().ends_with(": Online"),
        "the cluster's comment is not the server's: {server}"
    );
    assert_eq!(
        cluster.run("clpgrp", &["-n", "failover"]).success(),
        format!("{host}\n")
    );
    // The alert log's server column.
    let started = cluster
        .alerts()
        .lines()
        .find(|l| l.contains("rc 11 Activating group failover has completed."))
        .map(str::to_string)
        .unwrap_or_default();
    assert!(started.contains(&format!(" {host} rc 11 ")), "{started}");
    assert!(!cluster.alerts().contains(" demo "), "{}", cluster.alerts());
    // The log tarball.
    let out_dir = cluster.path("collected");
    std::fs::create_dir(&out_dir).unwrap();
    let run = cluster.run(
        "clplogcc",
        &["-t", "type3", "-o", out_dir.to_str().unwrap()],
    );
    assert_eq!(run.success(), format!("Collect Log {host} : Success\n"));
    assert!(out_dir.join(format!("{host}-log.tar.gz")).is_file());
    // `clpstat --sv` names the host; the cluster's name is not a server's.
    let info = cluster.run("clpstat", &["--sv", &host]).success();
    assert!(info.contains(&format!("[Server0 : {host}]")), "{info}");
    cluster.run("clpstat", &["--sv", "demo"]).failure(5);
    cluster.stop();
}
