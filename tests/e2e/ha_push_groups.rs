//! An HA push that changes the groups while the cluster runs them, in the HA bed
//! ([`crate::ha_bed`]): one group added, one removed, one whose server list changes. Every
//! server takes it; the removed group stops, the added one starts on one server, the
//! changed one ends on a server its new list allows, and the journal's checker finds no
//! overlap.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::ha_bed::Bed;
use crate::harness::wait_until;

/// The heartbeat timeout of this test.
const TIMEOUT: Duration = Duration::from_secs(3);

/// How long etcd may take to form its cluster and each clppm to join it.
const FORM: Duration = Duration::from_secs(30);

/// How long the servers may take to apply a push (stop, start again).
const APPLY: Duration = Duration::from_secs(40);

/// A group named `name` on `servers` (in order), one async resource `service`.
fn group(name: &str, servers: &[&str]) -> String {
    let servers: Vec<String> = servers.iter().map(|s| format!("\"{s}\"")).collect();
    format!(
        "[[group]]\nname = \"{name}\"\nservers = [{}]\n\n\
         [[group.resource]]\nname = \"service-{name}\"\nmode = \"async\"\n\n",
        servers.join(", ")
    )
}

/// The groups and their ports.
const PORTS: [(&str, u16); 3] = [("web", 8080), ("old", 8081), ("new", 8082)];

/// Writes the journal's scripts of every group of [`PORTS`] under `scripts` (the same on
/// every server: the server's name is its host name).
fn write_scripts(bed: &Bed, scripts: &Path) {
    for (name, port) in PORTS {
        let dir = scripts.join(name).join(format!("service-{name}"));
        std::fs::create_dir_all(&dir).expect("a script folder");
        let host = |text: String| text.replace("'@HOST@'", "\"$(hostname)\"");
        for (file, body) in [
            (
                "start.sh",
                host(bed.journal.start_script("@HOST@", name, port)),
            ),
            ("stop.sh", host(bed.journal.stop_script("@HOST@", name))),
        ] {
            let path = dir.join(file);
            std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("a script");
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .expect("chmod a script");
        }
    }
}

/// The servers where `group` runs now (from the journal).
fn running(bed: &Bed, group: &str) -> Vec<String> {
    bed.journal.servers_running(group)
}

/// `clpgrp -n GROUP` on server `index`: where it is active, as that server says.
fn active_on(bed: &Bed, index: usize, group: &str) -> String {
    bed.run(index, "clpgrp", &["-n", group])
        .stdout()
        .trim()
        .to_string()
}

/// The pushed folder on server `index`: `config` and every script.
fn folder(bed: &Bed, index: usize, config: &str) -> PathBuf {
    let dir = bed.clp(index).path("push");
    write_scripts(bed, &dir.join("scripts"));
    std::fs::write(dir.join("clp.conf"), config).expect("clp.conf to push");
    dir
}

#[test]
fn a_push_that_adds_removes_and_changes_groups_is_taken_by_every_server_while_they_run() {
    let Some(mut bed) = Bed::create("pg", 2) else {
        return;
    };
    let before = bed.config(
        TIMEOUT,
        &format!(
            "{}{}",
            group("web", &["node1", "node2"]),
            group("old", &["node2", "node1"])
        ),
    );
    bed.write_config(&before);
    for index in 0..2 {
        write_scripts(&bed, &bed.clp(index).path("etc/scripts"));
    }
    bed.start_clppm(0);
    wait_until("web on node1", FORM, || running(&bed, "web") == ["node1"]);
    bed.start_clppm(1);
    bed.wait_formed(FORM);
    // old prefers node2, but node1 came first and failback is off: both run on node1.
    wait_until("old on one server", FORM, || {
        running(&bed, "old").len() == 1
    });

    // web may no longer run on node1, old is gone, new prefers node2.
    let after = bed.config(
        TIMEOUT,
        &format!(
            "{}{}",
            group("web", &["node2"]),
            group("new", &["node2", "node1"])
        ),
    );
    let dir = folder(&bed, 0, &after);
    let text = bed
        .run(
            0,
            "clpcfctrl",
            &["--push", "-x", &dir.display().to_string()],
        )
        .success();
    for line in ["Upload node1 : Success", "Upload node2 : Success"] {
        assert!(text.lines().any(|l| l == line), "{line:?} not in\n{text}");
    }
    wait_until("old stopped everywhere", APPLY, || {
        running(&bed, "old").is_empty()
    });
    wait_until("new on one server", APPLY, || {
        running(&bed, "new").len() == 1
    });
    wait_until("web on node2 alone", APPLY, || {
        running(&bed, "web") == ["node2"]
    });
    for index in 0..2 {
        wait_until("both servers agree", APPLY, || {
            active_on(&bed, index, "web") == "node2"
                && running(&bed, "new")
                    .first()
                    .is_some_and(|server| active_on(&bed, index, "new") == *server)
        });
    }
    // Settled: still so a while later, and nothing ever overlapped.
    std::thread::sleep(TIMEOUT * 2);
    assert!(running(&bed, "old").is_empty());
    assert_eq!(running(&bed, "web"), ["node2"]);
    assert_eq!(running(&bed, "new").len(), 1);
    bed.journal.assert_no_overlap();
}
