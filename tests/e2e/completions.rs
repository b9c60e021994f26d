//! The committed completions and man pages are what the clap definitions generate, and the
//! completions know the cluster: bash, zsh and fish, each driven as an operator's shell
//! would be, complete group, resource and monitor names (from the daemon when it runs, else
//! from the configuration), log types and product ids — never the file names of the folder.

use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::harness::*;

#[test]
fn completions_and_man_pages_are_fresh() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let files = clp_bins::generate::files().unwrap();
    let mut stale = Vec::new();
    for (relative, contents) in &files {
        if std::fs::read(dir.join(relative)).ok().as_deref() != Some(contents.as_slice()) {
            stale.push(relative.clone());
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files {stale:?}: run `cargo run --bin clp-gen` and commit completions/"
    );
}

/// The shells whose completion the tests drive.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shell {
    Bash,
    Zsh,
    Fish,
}

const SHELLS: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

fn completions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("completions")
}

/// PATH with the built commands first: the completion files call the command back by name.
fn search_path() -> String {
    let built = bin("clppm").parent().unwrap().to_path_buf();
    format!(
        "{}:{}",
        built.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn installed(shell: &str) -> bool {
    Command::new(shell)
        .arg("-c")
        .arg("exit 0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// A folder of decoy files: a completion that falls back to file names offers them.
fn decoys() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "decoy-file",
        "web-decoy",
        "XSS10-decoy",
        "type1-decoy",
        "ps1-decoy",
    ] {
        std::fs::write(dir.path().join(name), "").unwrap();
    }
    dir
}

/// What `shell` offers when TAB is pressed after `line` (its last word is completed: an
/// empty one when `line` ends with a space), run in `cwd` against `cluster`.
fn complete(shell: Shell, cluster: &Cluster, cwd: &Path, line: &str) -> Vec<String> {
    let command = line.split_whitespace().next().unwrap();
    match shell {
        Shell::Bash => bash(cluster, cwd, command, line),
        Shell::Fish => fish(cluster, cwd, command, line),
        Shell::Zsh => zsh(cluster, cwd, command, line),
    }
}

fn bash(cluster: &Cluster, cwd: &Path, command: &str, line: &str) -> Vec<String> {
    let mut words: Vec<&str> = line.split_whitespace().collect();
    if line.ends_with(' ') {
        words.push("");
    }
    // The function `complete -p` names, called as readline calls it.
    let script = r#"
source "$FILE" || exit 3
spec=$(complete -p "$1") || exit 4
fn=${spec##*-F }; fn=${fn%% *}
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMP_TYPE=9
"$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"#;
    let output = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", script, "bash"])
        .args(&words)
        .current_dir(cwd)
        .env("FILE", completions_dir().join("bash").join(command))
        .env("PATH", search_path())
        .env("CLP_ROOT", cluster.root())
        .output()
        .unwrap();
    assert!(output.status.success(), "bash: {output:?}");
    lines(&output.stdout)
}

fn fish(cluster: &Cluster, cwd: &Path, command: &str, line: &str) -> Vec<String> {
    let file = completions_dir().join(format!("fish/{command}.fish"));
    let output = Command::new("fish")
        .args(["--no-config", "-c"])
        .arg(format!(
            "source {}; complete -C {}",
            file.display(),
            quote(line)
        ))
        .current_dir(cwd)
        .env("PATH", search_path())
        .env("CLP_ROOT", cluster.root())
        .output()
        .unwrap();
    assert!(output.status.success(), "fish: {output:?}");
    lines(&output.stdout)
        .into_iter()
        .map(|line| line.split('\t').next().unwrap_or_default().to_string())
        .collect()
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect()
}

/// zsh on a pseudo-terminal: an interactive `zsh -f` with compinit and the completion files
/// on `fpath` (autoloaded, as installed), `compadd` wrapped to print each match; the line is
/// typed, then TAB.
fn zsh(cluster: &Cluster, cwd: &Path, _command: &str, line: &str) -> Vec<String> {
    let setup = tempfile::tempdir().unwrap();
    let rc = setup.path().join("setup.zsh");
    std::fs::write(
        &rc,
        format!(
            r#"PS1='> '
fpath=({} $fpath)
autoload -U compinit && compinit -u -D
compadd() {{
  if [[ ${{@[1,(i)(-|--)]}} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi
  local -a hits; builtin compadd -A hits "$@"
  local hit; for hit in $hits; do print -r -- "<match>$hit</match>" >&2; done
  builtin compadd "$@"
}}
"#,
            completions_dir().join("zsh").display()
        ),
    )
    .unwrap();
    let pty = nix::pty::openpty(None, None).unwrap();
    let slave: OwnedFd = pty.slave;
    let mut child = Command::new("zsh")
        .args(["-f", "-i"])
        .current_dir(cwd)
        .env("PATH", search_path())
        .env("CLP_ROOT", cluster.root())
        .env("TERM", "dumb")
        .stdin(Stdio::from(slave.as_fd().try_clone_to_owned().unwrap()))
        .stdout(Stdio::from(slave.as_fd().try_clone_to_owned().unwrap()))
        .stderr(Stdio::from(slave))
        .spawn()
        .unwrap();
    let mut master = std::fs::File::from(pty.master);
    let screen = Arc::new(Mutex::new(String::new()));
    let mut reader = master.try_clone().unwrap();
    let sink = Arc::clone(&screen);
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(read) = reader.read(&mut buffer) {
            if read == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buffer[..read]));
        }
    });
    // Each marker is typed split and printed whole: seeing it whole means zsh got there.
    let wait_for = |marker: &str| {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = screen.lock().unwrap().clone();
            if text.contains(marker) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "zsh never printed {marker}; screen:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let setup_line = format!("source {}; print set''up-done\n", rc.display());
    master.write_all(setup_line.as_bytes()).unwrap();
    wait_for("setup-done");
    // The rest of the line is typed once the completion has shown its matches (or after
    // 15 s): keys already waiting when TAB runs are typeahead, and zsh's completion may give
    // up on typeahead, which made this test fail on a loaded machine.
    master.write_all(format!("{line}\t").as_bytes()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline && !screen.lock().unwrap().contains("</match>") {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    master
        .write_all("\u{15}print completion-en''d\n".as_bytes())
        .unwrap();
    let text = wait_for("completion-end");
    let _ = child.kill();
    let _ = child.wait();
    let mut matches = Vec::new();
    for piece in text.split("<match>").skip(1) {
        if let Some((hit, _)) = piece.split_once("</match>")
            && !matches.iter().any(|m| m == hit)
        {
            matches.push(hit.to_string());
        }
    }
    matches
}

const CONFIG: &str = r#"
[[group]]
name = "web"
comment = "front end"
[[group.resource]]
name = "httpd"
[[group]]
name = "db"
[[group.resource]]
name = "postgres"
[[monitor]]
name = "ps1"
type = "userw"
[[monitor]]
name = "httpd-watch"
type = "userw"
"#;

#[track_caller]
fn assert_offers(shell: Shell, offered: &[String], expected: &[&str], line: &str) {
    for value in expected {
        assert!(
            offered.iter().any(|o| o == value),
            "{shell:?} `{line}<TAB>` does not offer {value}: {offered:?}"
        );
    }
    assert!(
        !offered.iter().any(|o| o.contains("decoy")),
        "{shell:?} `{line}<TAB>` offers file names: {offered:?}"
    );
}

#[test]
fn every_shell_completes_names_types_and_products_from_clp() {
    let cluster = Cluster::unlicensed();
    cluster.write_config(CONFIG);
    let cwd = decoys();
    let host = clp_core::config::host_name();
    let products: Vec<&str> = clp_core::license::PRODUCTS.iter().map(|p| p.id).collect();
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("clpgrp -s ", vec!["web", "db"]),
        ("clpgrp -t w", vec!["web"]),
        ("clprsc -s ", vec!["httpd", "postgres"]),
        ("clprsc -t p", vec!["postgres"]),
        ("clpmonctrl -s -m ", vec!["ps1", "httpd-watch"]),
        ("clpstat --mon ", vec!["ps1", "httpd-watch"]),
        (
            "clplogcc -t ",
            clp_core::logcollect::COLLECT_TYPE_NAMES.to_vec(),
        ),
        ("clplcncs -P ", products.clone()),
        ("clplcnsc -P ", products),
        ("clpstat --sv ", vec![host.as_str()]),
    ];
    for shell in SHELLS {
        let name = format!("{shell:?}").to_lowercase();
        if !installed(&name) {
            eprintln!("{name} is not installed (.ci/setup.d/shells.sh): skipping it");
            continue;
        }
        for (line, expected) in &cases {
            let offered = complete(shell, &cluster, cwd.path(), line);
            assert_offers(shell, &offered, expected, line);
        }
        // A prefix narrows the names: no group but `web` starts with `w`.
        let narrowed = complete(shell, &cluster, cwd.path(), "clpgrp -s w");
        assert!(
            !narrowed.iter().any(|o| o == "db"),
            "{shell:?}: {narrowed:?}"
        );
    }
}

#[test]
fn names_come_from_the_running_daemon_and_from_the_configuration_when_it_stops() {
    let cluster = Cluster::with_config("[[group]]\nname = \"running\"\n");
    cluster.start();
    // The file changes but is not applied: the daemon still runs `running`.
    cluster.write_config("[[group]]\nname = \"staged\"\n");
    let cwd = decoys();
    for shell in SHELLS {
        let name = format!("{shell:?}").to_lowercase();
        if !installed(&name) {
            continue;
        }
        let offered = complete(shell, &cluster, cwd.path(), "clpgrp -s ");
        assert_offers(shell, &offered, &["running"], "clpgrp -s ");
        assert!(!offered.iter().any(|o| o == "staged"), "{offered:?}");
    }
    cluster.stop();
    for shell in SHELLS {
        let name = format!("{shell:?}").to_lowercase();
        if !installed(&name) {
            continue;
        }
        let offered = complete(shell, &cluster, cwd.path(), "clpgrp -s ");
        assert_offers(shell, &offered, &["staged"], "clpgrp -s ");
    }
}

#[test]
fn a_daemon_that_never_answers_does_not_hold_the_tab() {
    let cluster = Cluster::unlicensed();
    cluster.write_config(CONFIG);
    // A socket that takes connections and never answers: a stuck daemon.
    let socket = clp_core::paths::Paths::new(cluster.root()).socket();
    std::fs::create_dir_all(socket.parent().unwrap()).unwrap();
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let cwd = decoys();
    let started = Instant::now();
    let offered = complete(Shell::Bash, &cluster, cwd.path(), "clpgrp -s ");
    let took = started.elapsed();
    assert_offers(Shell::Bash, &offered, &["web", "db"], "clpgrp -s ");
    assert!(
        // 0.4 s of waiting plus starting bash and the command; a hang would be 10 s or more.
        took < Duration::from_secs(5),
        "a TAB took {took:?} with a stuck daemon"
    );
}
