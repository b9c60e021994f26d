//! A migrating operator's folder: the original's XML configuration (EUC-JP, set to
//! Japanese) with its scripts as the original's users wrote them (no `#!` line), pushed and
//! run; the language it carries is said and shown by the WebManager.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::harness::*;
use crate::webmgr_http::{get, start_webmgr};

/// The original's clp.conf for `server`: one group with a sync exec resource.
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
    <comment>移行元</comment>
  </cluster>
  <server name="{server}">
    <priority>0</priority>
  </server>
  <group name="failover">
    <comment>業務</comment>
    <gid>0</gid>
    <resource name="exec@exec"/>
  </group>
  <resource>
    <types name="exec"/>
    <exec name="exec">
      <parameters>
        <act>
          <path>start.sh</path>
        </act>
        <deact>
          <path>stop.sh</path>
        </deact>
      </parameters>
    </exec>
  </resource>
</root>
"#
    )
}

/// Writes a script with no `#!` line, executable, as the original's exports carry them.
fn plain_script(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn an_original_folder_in_japanese_with_scripts_without_a_shebang_is_pushed_and_runs() {
    let cluster = Cluster::new();
    let folder = tempfile::Builder::new()
        .prefix("clp-original-")
        .tempdir()
        .unwrap();
    let text = original_conf(&clp_core::config::host_name());
    let (bytes, _, had_errors) = encoding_rs::EUC_JP.encode(&text);
    assert!(!had_errors);
    std::fs::write(folder.path().join("clp.conf"), &bytes).unwrap();
    let scripts = folder.path().join("scripts/failover/exec");
    plain_script(
        &scripts.join("start.sh"),
        "# start.sh\necho \"start $CLP_EVENT\" >> \"$CLP_ROOT/events\"\n",
    );
    plain_script(
        &scripts.join("stop.sh"),
        "echo \"stop $CLP_EVENT\" >> \"$CLP_ROOT/events\"\n",
    );
    let out = cluster
        .run(
            "clpcfctrl",
            &["--push", "-x", &folder.path().display().to_string()],
        )
        .success();
    assert!(
        out.contains("  note: <all><charset> EUC-JP: the original was set to Japanese, so [cluster] language = \"ja\""),
        "the conversion says what it did with the language: {out}"
    );
    assert!(
        out.contains("Note: language \"ja\" shows the WebManager's pages in Japanese; the commands' output, the alert texts and mails stay in English"),
        "the push says what Japanese changes: {out}"
    );
    cluster.start();
    // The group is Online once its start is over, a moment after its resource.
    wait_until("exec and its group online", WAIT, || {
        cluster.resource_status("exec") == "Online"
            && cluster.status()["groups"][0]["status"] == "Online"
    });
    // The commands print English, as the original's do.
    assert!(
        cluster
            .run("clpgrp", &["-t", "failover"])
            .success()
            .contains("Command succeeded.")
    );
    let events = std::fs::read_to_string(cluster.path("events")).unwrap();
    assert_eq!(events, "start START\nstop START\n");
    // The WebManager speaks the configured language.
    let addr = start_webmgr(&cluster);
    let page = get(addr, "/").text();
    assert!(page.contains("<html lang=\"ja\">"), "{page}");
    assert!(page.contains("アラートログ"), "{page}");
    cluster.run("clpwebmgr", &["--stop"]).success();
    cluster.stop();
}
