//! `clpcfset`: a configuration built step by step from the shell, with the original's
//! sub-commands. The steps build the original's XML model (kept beside `clp.conf` as
//! [`MODEL_FILE`]); after each step the model goes through the one XML migration
//! ([`super::original::convert`]) and the one validation ([`super::parse_str`]), and the
//! step is refused when it brings a path the migration does not carry over or a new
//! problem. The TOML `clp.conf` written next to the model is what `clpcfctrl --push -x`
//! takes.

use std::path::{Path, PathBuf};

use super::original::{self, Unsupported};
use super::xml_tree::Node;
use crate::paths::ConfigFolder;
use crate::suggest::closest;

/// The file beside `clp.conf` holding the original's model that `clpcfset` builds.
pub const MODEL_FILE: &str = "clpcfset.xml";

/// The original's paths the migration maps, under a monitor (`/root/monitor/<type>@<name>/`),
/// an exec resource (`/root/resource/exec@<name>/`), a group (`/root/group@<name>/`) and the
/// root (`clsparam`), each with the key of our `clp.conf` it becomes. The one table of
/// these paths: `clpcfset` suggests from it, `clpcfget` answers by it, and a test checks
/// each entry against the migration.
pub const MONITOR_PATHS: &[(&str, &str)] = &[
    ("comment", "comment"),
    ("target", "target"),
    ("polling/interval", "interval"),
    ("polling/timeout", "timeout"),
    ("polling/reconfirmation", "retry"),
    ("polling/timing", "timing"),
    ("firstmonwait", "wait_before_start"),
    ("relation/type", "recovery.target"),
    ("relation/name", "recovery.target"),
    (
        "emergency/threshold/restart",
        "recovery.reactivation_threshold",
    ),
    ("emergency/threshold/fo", "recovery.failover_threshold"),
    ("emergency/action", "recovery.final_action"),
    ("parameters", "parameters"),
];

/// See [`MONITOR_PATHS`]: an exec resource's paths.
pub const EXEC_PATHS: &[(&str, &str)] = &[
    ("comment", "comment"),
    ("parameters/act/path", "start"),
    ("parameters/deact/path", "stop"),
    ("parameters/act/sync", "mode"),
    ("parameters/timeout/start", "timeout"),
    ("parameters/timeout/stop", "stop_timeout"),
    ("act/retry", "activation.retry"),
    ("act/fo", "activation.failover_threshold"),
    ("act/action", "activation.final_action"),
    ("deact/retry", "deactivation.retry"),
    ("deact/action", "deactivation.final_action"),
];

/// See [`MONITOR_PATHS`]: a group's paths.
pub const GROUP_PATHS: &[(&str, &str)] = &[
    ("comment", "comment"),
    ("start", "auto_start"),
    ("type", "(failover)"),
];

/// See [`MONITOR_PATHS`]: the cluster's paths (`clsparam`).
pub const CLUSTER_PATHS: &[(&str, &str)] = &[
    ("cluster/name", "cluster.name"),
    ("cluster/comment", "cluster.comment"),
    (
        "rm/errordetect/norecovery",
        "cluster.disable_monitor_recovery",
    ),
];

/// Why a step was refused.
#[derive(Debug, thiserror::Error)]
pub enum CfsetError {
    /// No `create` ran in this folder.
    #[error(
        "{} is not found: run 'clpcfset create CLUSTER ENCODE' first in this folder",
        .0.display()
    )]
    NotCreated(PathBuf),
    /// The arguments are wrong (a name, a path, a value).
    #[error("{0}")]
    BadArgument(String),
    /// The step adds something the configuration does not have or refuses.
    #[error("{0}")]
    Refused(String),
    /// Reading or writing the folder failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// One `clpcfset add ...`, with the original's arguments in the original's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Add {
    /// `add srv NAME PRIORITY`.
    Server {
        /// The server (host) name.
        name: String,
        /// 0 for the master server.
        priority: String,
    },
    /// `add device SERVER TYPE ID INFO [EXTEND]`.
    Device {
        /// The server.
        server: String,
        /// `lan`, `disk`, `witness`, ...
        kind: String,
        /// The device id.
        id: String,
        /// The address or setting.
        info: String,
        /// The extra value.
        extend: Option<String>,
    },
    /// `add hb TYPE ID PRIORITY`.
    Heartbeat {
        /// `lankhb`, `lanhb`, `diskhb`, ...
        kind: String,
        /// The device id.
        id: String,
        /// The priority.
        priority: String,
    },
    /// `add grp TYPE NAME`.
    Group {
        /// `failover`.
        kind: String,
        /// The group's name.
        name: String,
    },
    /// `add grpparam TYPE NAME PATH VALUE`.
    GroupParam {
        /// `failover`.
        kind: String,
        /// The group.
        name: String,
        /// The original's path under the group.
        path: String,
        /// The value.
        value: String,
    },
    /// `add rsc GROUP TYPE NAME`.
    Resource {
        /// The group it joins.
        group: String,
        /// `exec`.
        kind: String,
        /// The resource's name.
        name: String,
    },
    /// `add rscparam TYPE NAME PATH VALUE`.
    ResourceParam {
        /// The resource type.
        kind: String,
        /// The resource.
        name: String,
        /// The original's path under the resource.
        path: String,
        /// The value.
        value: String,
    },
    /// `add rscdep TYPE NAME DEPENDS_ON`: `NAME` starts after `DEPENDS_ON`.
    ResourceDependency {
        /// The type of `name`.
        kind: String,
        /// The dependent resource.
        name: String,
        /// The resource it depends on.
        depends_on: String,
    },
    /// `add mon TYPE NAME`.
    Monitor {
        /// The monitor type.
        kind: String,
        /// The monitor's name.
        name: String,
    },
    /// `add monparam TYPE NAME PATH VALUE`.
    MonitorParam {
        /// The monitor type.
        kind: String,
        /// The monitor.
        name: String,
        /// The original's path under the monitor.
        path: String,
        /// The value.
        value: String,
    },
    /// `add clsparam PATH VALUE`.
    ClusterParam {
        /// The original's path under `/root`.
        path: String,
        /// The value.
        value: String,
    },
    /// `add webmgr clientlist ADDRESS`: a client allowed to reach the WebManager.
    ClientList {
        /// `clientlist`.
        what: String,
        /// An IP address or a CIDR block.
        address: String,
    },
    /// `add smtpsrv`, `add snmpsrv`, `add objnum`:
    /// the original's element is written and the migration decides (what it does not carry
    /// over is refused by its path).
    Other {
        /// The original's path under `/root`.
        path: String,
        /// The value.
        value: String,
    },
}

/// What a step did, for the command to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The TOML `clp.conf` written.
    pub config_file: PathBuf,
    /// Problems the configuration still has (a monitor without its target, a script not
    /// written yet): `clpcfctrl --push` refuses it until they are solved.
    pub pending: Vec<String>,
}

/// `clpcfset create NAME ENCODE [WEBUI_ENCODE] [OS]`: a new model in `dir` (replacing one).
pub fn create(
    dir: &Path,
    name: &str,
    encode: &str,
    os: Option<&str>,
) -> Result<Outcome, CfsetError> {
    check_name("cluster name", name)?;
    let mut root = Node::new("root", None);
    root.set("all/charset", encode);
    root.set("all/encode", encode);
    root.set("all/serveros", os.unwrap_or("linux"));
    root.set("cluster/name", name);
    let evaluation = evaluate(&root, dir)?;
    refuse_unsupported(&[], &evaluation.unsupported, "")?;
    save(dir, &root, &evaluation)
}

/// `clpcfset add ...`: one step on the model in `dir`.
pub fn add(dir: &Path, step: &Add) -> Result<Outcome, CfsetError> {
    let mut root = load(dir)?;
    let before = evaluate(&root, dir)?;
    let (changed, creates) = apply(&mut root, step)?;
    let after = evaluate(&root, dir)?;
    refuse_unsupported(&before.unsupported, &after.unsupported, &changed)?;
    // Creating an object leaves what it still needs (a target, a script) to the next
    // steps; a value that brings a new problem is refused.
    if !creates {
        let new: Vec<&String> = after
            .problems
            .iter()
            .filter(|p| !before.problems.contains(p))
            .collect();
        if !new.is_empty() {
            let lines: Vec<String> = new.iter().map(|p| p.to_string()).collect();
            return Err(CfsetError::Refused(format!(
                "{changed}: {}",
                lines.join("; ")
            )));
        }
    }
    save(dir, &root, &after)
}

/// The original's model in `dir`.
pub fn load(dir: &Path) -> Result<Node, CfsetError> {
    let file = dir.join(MODEL_FILE);
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(CfsetError::NotCreated(file));
        }
        Err(source) => return Err(CfsetError::Io { path: file, source }),
    };
    Node::parse(&text).map_err(|error| {
        CfsetError::Refused(format!(
            "{}: not well-formed XML: {error}; run 'clpcfset create' again",
            file.display()
        ))
    })
}

/// The model converted and validated.
struct Evaluation {
    text: String,
    unsupported: Vec<Unsupported>,
    problems: Vec<String>,
}

fn evaluate(root: &Node, dir: &Path) -> Result<Evaluation, CfsetError> {
    let xml = root.to_xml();
    let conversion = original::convert(xml.as_bytes(), None, MODEL_FILE)
        .map_err(|error| CfsetError::Refused(error.to_string()))?;
    let problems = match super::parse_str(&conversion.text, &ConfigFolder(dir).scripts_dir()) {
        Ok(_) => Vec::new(),
        Err(super::ConfigError::Invalid { problems, .. }) => {
            problems.iter().map(ToString::to_string).collect()
        }
        Err(error) => vec![error.to_string()],
    };
    let mut text = String::from("# Built by clpcfset (its steps are kept in clpcfset.xml).\n");
    // The migration's own first line names its source; ours says what made the file.
    text.push_str(
        conversion
            .text
            .split_once('\n')
            .map_or("", |(_, rest)| rest),
    );
    Ok(Evaluation {
        text,
        unsupported: conversion.unsupported,
        problems,
    })
}

/// Refuses what the migration does not carry over and was not there before the step.
fn refuse_unsupported(
    before: &[Unsupported],
    after: &[Unsupported],
    changed: &str,
) -> Result<(), CfsetError> {
    let new: Vec<&Unsupported> = after.iter().filter(|u| !before.contains(u)).collect();
    let Some(first) = new.first() else {
        return Ok(());
    };
    let mut message = first.to_string();
    if first.reason == "not supported"
        && let Some(hint) = suggestion(changed)
    {
        message.push_str(&format!(" (did you mean \"{hint}\"?)"));
    }
    Err(CfsetError::Refused(message))
}

/// The known path closest to an unknown one, from the table of its kind of object.
fn suggestion(changed: &str) -> Option<String> {
    let (table, base): (&[(&str, &str)], String) = if changed.starts_with("/root/monitor/") {
        (MONITOR_PATHS, object_base(changed, 4))
    } else if changed.starts_with("/root/resource/") {
        (EXEC_PATHS, object_base(changed, 4))
    } else if changed.starts_with("/root/group@") {
        (GROUP_PATHS, object_base(changed, 3))
    } else {
        (CLUSTER_PATHS, "/root/".to_string())
    };
    let relative = changed.strip_prefix(&base)?;
    let known: Vec<&str> = table.iter().map(|(p, _)| *p).collect();
    closest(relative, &known).map(str::to_string)
}

/// The first `steps` steps of a path (`/root/monitor/genw@g`), with a trailing `/`.
fn object_base(path: &str, steps: usize) -> String {
    let mut parts: Vec<&str> = path.split('/').take(steps).collect();
    parts.push("");
    parts.join("/")
}

/// Applies one step: the original's path it changed, and whether it creates an object.
fn apply(root: &mut Node, step: &Add) -> Result<(String, bool), CfsetError> {
    match step {
        Add::Server { name, priority } => {
            check_name("server name", name)?;
            check_number("priority", priority)?;
            if root.find(&format!("server@{name}")).is_some() {
                return Err(duplicate("server", name));
            }
            root.set(&format!("server@{name}/priority"), priority);
            Ok((format!("/root/server@{name}"), true))
        }
        Add::Device {
            server,
            kind,
            id,
            info,
            extend,
        } => {
            check_name("server name", server)?;
            check_name("device type", kind)?;
            check_number("device id", id)?;
            if root.find(&format!("server@{server}")).is_none() {
                return Err(missing("server", server, "add srv"));
            }
            let base = format!("server@{server}/device@{id}");
            root.set(&format!("{base}/type"), kind);
            root.set(&format!("{base}/info"), info);
            if let Some(extend) = extend {
                root.set(&format!("{base}/extend"), extend);
            }
            Ok((format!("/root/{base}"), false))
        }
        Add::Heartbeat { kind, id, priority } => {
            check_name("heartbeat type", kind)?;
            check_number("device id", id)?;
            check_number("priority", priority)?;
            root.ensure(&format!("heartbeat/types@{kind}"));
            let name = format!("{kind}{}", id.parse::<u32>().unwrap_or(0) + 1);
            root.set(&format!("heartbeat/{kind}@{name}/priority"), priority);
            root.set(&format!("heartbeat/{kind}@{name}/device"), id);
            Ok((format!("/root/heartbeat/{kind}@{name}"), true))
        }
        Add::Group { kind, name } => {
            check_name("group type", kind)?;
            check_name("group name", name)?;
            if root.find(&format!("group@{name}")).is_some() {
                return Err(duplicate("group", name));
            }
            root.set(&format!("group@{name}/type"), kind);
            Ok((format!("/root/group@{name}"), true))
        }
        Add::GroupParam {
            kind: _,
            name,
            path,
            value,
        } => {
            check_path(path)?;
            if root.find(&format!("group@{name}")).is_none() {
                return Err(missing("group", name, "add grp"));
            }
            root.set(&format!("group@{name}/{path}"), value);
            Ok((format!("/root/group@{name}/{path}"), false))
        }
        Add::Resource { group, kind, name } => {
            check_name("resource type", kind)?;
            check_name("resource name", name)?;
            if root.find(&format!("group@{group}")).is_none() {
                return Err(missing("group", group, "add grp"));
            }
            if resource_exists(root, name) {
                return Err(duplicate("resource", name));
            }
            root.ensure(&format!("group@{group}/resource@{kind}@{name}"));
            root.ensure(&format!("resource/types@{kind}"));
            root.ensure(&format!("resource/{kind}@{name}"));
            Ok((format!("/root/resource/{kind}@{name}"), true))
        }
        Add::ResourceParam {
            kind,
            name,
            path,
            value,
        } => {
            check_path(path)?;
            if root.find(&format!("resource/{kind}@{name}")).is_none() {
                return Err(missing(&format!("{kind} resource"), name, "add rsc"));
            }
            root.set(&format!("resource/{kind}@{name}/{path}"), value);
            Ok((format!("/root/resource/{kind}@{name}/{path}"), false))
        }
        Add::ResourceDependency {
            kind,
            name,
            depends_on,
        } => {
            check_name("resource name", depends_on)?;
            if root.find(&format!("resource/{kind}@{name}")).is_none() {
                return Err(missing(&format!("{kind} resource"), name, "add rsc"));
            }
            root.ensure(&format!("resource/{kind}@{name}/depend@{depends_on}"));
            Ok((
                format!("/root/resource/{kind}@{name}/depend@{depends_on}"),
                false,
            ))
        }
        Add::Monitor { kind, name } => {
            check_name("monitor type", kind)?;
            check_name("monitor name", name)?;
            if crate::monitor::registry::spec(kind).is_none() {
                let kinds = crate::monitor::registry::kinds();
                return Err(CfsetError::Refused(format!(
                    "monitor type \"{kind}\" is not known{}",
                    closest(kind, &kinds)
                        .map(|k| format!(" (did you mean \"{k}\"?)"))
                        .unwrap_or_else(|| format!("; the types: {}", kinds.join(", ")))
                )));
            }
            if monitor_exists(root, name) {
                return Err(duplicate("monitor", name));
            }
            root.ensure(&format!("monitor/types@{kind}"));
            root.ensure(&format!("monitor/{kind}@{name}"));
            Ok((format!("/root/monitor/{kind}@{name}"), true))
        }
        Add::MonitorParam {
            kind,
            name,
            path,
            value,
        } => {
            check_path(path)?;
            if root.find(&format!("monitor/{kind}@{name}")).is_none() {
                return Err(missing(&format!("{kind} monitor"), name, "add mon"));
            }
            root.set(&format!("monitor/{kind}@{name}/{path}"), value);
            Ok((format!("/root/monitor/{kind}@{name}/{path}"), false))
        }
        Add::ClientList { what, address } => {
            if what != "clientlist" {
                return Err(CfsetError::BadArgument(format!(
                    "'add webmgr {}' is not a step; the step is 'add webmgr clientlist ADDRESS'",
                    crate::escape::escape(what)
                )));
            }
            let valid = address.parse::<std::net::IpAddr>().is_ok()
                || address.parse::<ipnet::IpNet>().is_ok();
            if !valid {
                return Err(CfsetError::BadArgument(format!(
                    "\"{}\" is not an IP address or a CIDR block, e.g. 192.168.100.1 or 192.168.100.0/24",
                    crate::escape::escape(address)
                )));
            }
            root.set("webmgr/security/clientlist/iprest", "1");
            root.ensure_named("webmgr/security/clientlist", "ip", address);
            Ok((
                format!("/root/webmgr/security/clientlist/ip@{address}"),
                false,
            ))
        }
        Add::ClusterParam { path, value } | Add::Other { path, value } => {
            check_path(path)?;
            root.set(path, value);
            Ok((format!("/root/{path}"), false))
        }
    }
}

fn resource_exists(root: &Node, name: &str) -> bool {
    root.find("resource").is_some_and(|resources| {
        resources
            .children
            .iter()
            .any(|r| r.tag != "types" && r.key.as_deref() == Some(name))
    })
}

fn monitor_exists(root: &Node, name: &str) -> bool {
    root.find("monitor").is_some_and(|monitors| {
        monitors
            .children
            .iter()
            .any(|m| m.tag != "types" && m.key.as_deref() == Some(name))
    })
}

fn duplicate(what: &str, name: &str) -> CfsetError {
    CfsetError::Refused(format!("{what} \"{name}\" already exists"))
}

fn missing(what: &str, name: &str, step: &str) -> CfsetError {
    CfsetError::Refused(format!(
        "{what} \"{name}\" is not in the configuration; add it first with 'clpcfset {step}'"
    ))
}

/// A name the original allows: not empty, at most 31 characters, no path separators,
/// no `@`, no control characters, not starting with `.` or `-`.
fn check_name(what: &str, name: &str) -> Result<(), CfsetError> {
    let bad = name.is_empty()
        || name.chars().count() > 31
        || name.starts_with('.')
        || name.starts_with('-')
        || name
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || "/\\@<>&\"'".contains(c));
    if bad {
        return Err(CfsetError::BadArgument(format!(
            "{what} \"{}\" is not a valid name: 1 to 31 characters, no '/', '\\', '@', spaces, quotes or control characters, not starting with '.' or '-'",
            crate::escape::escape(name)
        )));
    }
    Ok(())
}

/// A path of the original (`parameters/act/path`): steps of letters, digits, `_`, `-`, `.`
/// and `@key`, no empty step, no `..`.
fn check_path(path: &str) -> Result<(), CfsetError> {
    let step_ok = |step: &str| {
        !step.is_empty()
            && step != "."
            && step != ".."
            && step
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.@".contains(c))
    };
    if path.is_empty() || !path.split('/').all(step_ok) {
        return Err(CfsetError::BadArgument(format!(
            "\"{}\" is not a parameter path: steps of letters, digits, '_', '-', '.' and '@NAME', separated by '/' (e.g. polling/interval)",
            crate::escape::escape(path)
        )));
    }
    Ok(())
}

fn check_number(what: &str, value: &str) -> Result<(), CfsetError> {
    if value.parse::<u32>().is_err() {
        return Err(CfsetError::BadArgument(format!(
            "{what} \"{}\" is not a number",
            crate::escape::escape(value)
        )));
    }
    Ok(())
}

/// Writes the model and the TOML `clp.conf`, each through a temporary file and a rename.
fn save(dir: &Path, root: &Node, evaluation: &Evaluation) -> Result<Outcome, CfsetError> {
    let config_file = ConfigFolder(dir).config_file();
    write_replacing(&dir.join(MODEL_FILE), root.to_xml().as_bytes())?;
    write_replacing(&config_file, evaluation.text.as_bytes())?;
    Ok(Outcome {
        config_file,
        pending: evaluation.problems.clone(),
    })
}

fn write_replacing(file: &Path, bytes: &[u8]) -> Result<(), CfsetError> {
    let io = |source| CfsetError::Io {
        path: file.to_path_buf(),
        source,
    };
    crate::paths::write_replacing(file, "tmp-clpcfset", bytes).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = dir.path().join("scripts/failover1/exec1");
        std::fs::create_dir_all(&script).expect("scripts");
        std::fs::write(script.join("start.sh"), "#!/bin/sh\nexit 0\n").expect("start");
        std::fs::write(script.join("stop.sh"), "#!/bin/sh\nexit 0\n").expect("stop");
        dir
    }

    fn step(dir: &Path, step: Add) -> Result<Outcome, CfsetError> {
        add(dir, &step)
    }

    fn documented(dir: &Path) {
        create(dir, "cluster", "ASCII", Some("linux")).expect("create");
        step(
            dir,
            Add::Server {
                name: "server1".into(),
                priority: "0".into(),
            },
        )
        .expect("srv");
        step(
            dir,
            Add::Group {
                kind: "failover".into(),
                name: "failover1".into(),
            },
        )
        .expect("grp");
        step(
            dir,
            Add::Resource {
                group: "failover1".into(),
                kind: "exec".into(),
                name: "exec1".into(),
            },
        )
        .expect("rsc");
        for (path, value) in [
            ("parameters/act/path", "start.sh"),
            ("parameters/deact/path", "stop.sh"),
        ] {
            step(
                dir,
                Add::ResourceParam {
                    kind: "exec".into(),
                    name: "exec1".into(),
                    path: path.into(),
                    value: value.into(),
                },
            )
            .expect(path);
        }
        step(
            dir,
            Add::Monitor {
                kind: "userw".into(),
                name: "userw".into(),
            },
        )
        .expect("mon");
    }

    #[test]
    fn the_documented_steps_make_a_valid_configuration() {
        let dir = folder();
        documented(dir.path());
        let text = std::fs::read_to_string(dir.path().join("clp.conf")).expect("clp.conf");
        let config =
            super::super::parse_str(&text, &dir.path().join("scripts")).expect("valid config");
        assert_eq!(config.cluster.name, "cluster");
        assert_eq!(config.groups[0].resources[0].name, "exec1");
        assert_eq!(config.monitors[0].kind, "userw");
    }

    #[test]
    fn a_step_before_create_is_refused() {
        let dir = folder();
        let error = step(
            dir.path(),
            Add::Group {
                kind: "failover".into(),
                name: "g".into(),
            },
        )
        .expect_err("no create");
        assert!(matches!(error, CfsetError::NotCreated(_)), "{error}");
    }

    #[test]
    fn hostile_steps_are_refused_naming_what() {
        let dir = folder();
        documented(dir.path());
        let refused = |s: Add| step(dir.path(), s).expect_err("refused").to_string();
        assert!(
            refused(Add::Monitor {
                kind: "genww".into(),
                name: "g".into()
            })
            .contains("did you mean \"genw\"")
        );
        assert!(
            refused(Add::Group {
                kind: "failover".into(),
                name: "failover1".into()
            })
            .contains("group \"failover1\" already exists")
        );
        assert!(
            refused(Add::Resource {
                group: "failover1".into(),
                kind: "exec".into(),
                name: "../../etc".into()
            })
            .contains("not a valid name")
        );
        assert!(
            refused(Add::MonitorParam {
                kind: "userw".into(),
                name: "userw".into(),
                path: "polling/intervall".into(),
                value: "3".into()
            })
            .contains(
                "/root/monitor/userw@userw/polling/intervall = \"3\": not supported (did you mean \"polling/interval\"?)"
            )
        );
        assert!(
            refused(Add::MonitorParam {
                kind: "userw".into(),
                name: "userw".into(),
                path: "polling/interval".into(),
                value: "-5".into()
            })
            .contains("interval")
        );
        assert!(
            refused(Add::Resource {
                group: "failover1".into(),
                kind: "disk".into(),
                name: "disk1".into()
            })
            .contains("resource type \"disk\" is not supported")
        );
    }
}
