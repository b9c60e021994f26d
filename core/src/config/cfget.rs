//! `clpcfget`: a configuration read by the original's XML paths (`/root/cluster/name`,
//! `/root/monitor/types`, `/root/monitor/genw@genw1/polling/interval`), so scripts written
//! against the original's `clp.conf` keep working. The validated [`Config`] is written as
//! the original's model by the paths of [`super::cfset`]'s tables (the ones the migration
//! reads: a test converts the result back and compares), every default filled in; secrets
//! are masked as everywhere else.

use super::cfset::{CLUSTER_PATHS, EXEC_PATHS, GROUP_PATHS, MONITOR_PATHS};
use super::original::{monitor_final_action, resource_final_action};
use super::xml_tree::Node;
use super::{Config, ExecMode, FinalAction, MonitorConfig, RecoveryTarget, ResourceConfig, Timing};

/// Why a path has no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CfgetError {
    /// Not a path of the original (`/root/...`).
    #[error(
        "\"{0}\" is not a path of the configuration: paths start with /root/ (e.g. /root/cluster/name)"
    )]
    BadPath(String),
    /// Nothing in the configuration at this path.
    #[error("{0} is not in the configuration{1}")]
    NotFound(String, String),
    /// `-g` on an element that holds other elements.
    #[error("{0} holds elements, not a value; list them with -e")]
    NotAValue(String),
}

/// The original's value of the element at `path` (`-g`).
pub fn get(root: &Node, path: &str) -> Result<String, CfgetError> {
    let node = locate(root, path)?;
    if !node.children.is_empty() {
        return Err(CfgetError::NotAValue(path.to_string()));
    }
    Ok(node.text.clone())
}

/// The names of the elements under `path` (`-e`): for `/root/monitor/types` or
/// `/root/monitor/genw`, the `name` of every such element; for an element, its children.
pub fn elements(root: &Node, path: &str) -> Result<Vec<String>, CfgetError> {
    let relative = relative(path)?;
    let (parent_path, last) = relative.rsplit_once('/').unwrap_or(("", relative));
    if !last.contains('@') {
        let parent = if parent_path.is_empty() {
            Some(root)
        } else {
            root.find(parent_path)
        };
        if let Some(parent) = parent {
            let named: Vec<String> = parent
                .children
                .iter()
                .filter(|c| c.tag == last)
                .filter_map(|c| c.key.clone())
                .collect();
            if !named.is_empty() {
                return Ok(named);
            }
        }
    }
    Ok(locate(root, path)?.names())
}

fn relative(path: &str) -> Result<&str, CfgetError> {
    let trimmed = path.trim_end_matches('/');
    if trimmed == "/root" {
        return Ok("");
    }
    trimmed
        .strip_prefix("/root/")
        .filter(|rest| !rest.split('/').any(str::is_empty))
        .ok_or_else(|| CfgetError::BadPath(path.to_string()))
}

fn locate<'a>(root: &'a Node, path: &str) -> Result<&'a Node, CfgetError> {
    let relative = relative(path)?;
    if relative.is_empty() {
        return Ok(root);
    }
    root.find(relative).ok_or_else(|| {
        // Name the deepest part that exists, so a typo is found at once.
        let steps: Vec<&str> = relative.split('/').collect();
        let mut known = String::new();
        let mut node = root;
        for step in &steps {
            match node.child(step) {
                Some(next) => {
                    node = next;
                    known.push('/');
                    known.push_str(step);
                }
                None => break,
            }
        }
        let hint = if node.children.is_empty() {
            String::new()
        } else {
            format!(
                "; under /root{known}: {}",
                node.children
                    .iter()
                    .map(|c| match &c.key {
                        Some(key) => format!("{}@{key}", c.tag),
                        None => c.tag.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        CfgetError::NotFound(path.to_string(), hint)
    })
}

/// The configuration as the original's model.
pub fn export(config: &Config) -> Node {
    let mut root = Node::new("root", None);
    let charset = match config.cluster.language.as_str() {
        "ja" => "EUC-JP",
        _ => "ASCII",
    };
    root.set("all/charset", charset);
    root.set("all/serveros", "linux");
    let cluster = |key: &str| path_of(CLUSTER_PATHS, key);
    root.set(cluster("cluster.name"), &config.cluster.name);
    root.set(cluster("cluster.comment"), &config.cluster.comment);
    root.set(
        cluster("cluster.disable_monitor_recovery"),
        flag(config.cluster.disable_monitor_recovery),
    );
    root.set(
        "webmgr/security/clientlist/iprest",
        flag(!config.webmanager.allow.is_empty()),
    );
    for net in &config.webmanager.allow {
        root.ensure_named("webmgr/security/clientlist", "ip", &client_address(net));
    }
    let server = config.server_name();
    root.set(&format!("server@{server}/priority"), "0");
    root.set(&format!("server@{server}/comment"), config.server_comment());
    for group in &config.groups {
        let base = format!("group@{}", group.name);
        let at = |key: &str| format!("{base}/{}", path_of(GROUP_PATHS, key));
        root.set(&at("(failover)"), "failover");
        root.set(&at("comment"), &group.comment);
        root.set(&at("auto_start"), flag(group.auto_start));
        for resource in &group.resources {
            root.ensure(&format!(
                "{base}/resource@{}@{}",
                resource.kind, resource.name
            ));
        }
    }
    for group in &config.groups {
        for resource in &group.resources {
            root.ensure(&format!("resource/types@{}", resource.kind));
            export_resource(&mut root, resource);
        }
    }
    for monitor in &config.monitors {
        root.ensure(&format!("monitor/types@{}", monitor.kind));
    }
    for monitor in &config.monitors {
        export_monitor(&mut root, monitor);
    }
    root
}

/// A client-list entry as written: an address alone when the block is one address.
fn client_address(net: &ipnet::IpNet) -> String {
    if net.prefix_len() == net.max_prefix_len() {
        net.addr().to_string()
    } else {
        net.to_string()
    }
}

/// The original's path of our key `key` in `table`.
fn path_of(table: &[(&'static str, &str)], key: &str) -> &'static str {
    table
        .iter()
        .find(|(_, ours)| *ours == key)
        .map_or("", |(path, _)| path)
}

fn flag(on: bool) -> &'static str {
    if on { "1" } else { "0" }
}

fn export_resource(root: &mut Node, resource: &ResourceConfig) {
    let base = format!("resource/{}@{}", resource.kind, resource.name);
    let at = |key: &str| format!("{base}/{}", path_of(EXEC_PATHS, key));
    let script = |path: &std::path::Path| {
        path.strip_prefix(&resource.script_dir)
            .unwrap_or(path)
            .display()
            .to_string()
    };
    root.set(&at("comment"), &resource.comment);
    root.set(&at("start"), &script(&resource.start));
    if let Some(stop) = &resource.stop {
        root.set(&at("stop"), &script(stop));
    }
    let sync = match resource.mode {
        ExecMode::Sync => "1",
        ExecMode::Async => "0",
    };
    root.set(&at("mode"), sync);
    root.set(&at("timeout"), &resource.timeout.as_secs().to_string());
    root.set(
        &at("stop_timeout"),
        &resource.stop_timeout.as_secs().to_string(),
    );
    for (prefix, policy) in [
        ("activation", &resource.activation),
        ("deactivation", &resource.deactivation),
    ] {
        root.set(&at(&format!("{prefix}.retry")), &policy.retry.to_string());
        if prefix == "activation" {
            root.set(
                &at("activation.failover_threshold"),
                &policy.failover_threshold.to_string(),
            );
        }
        root.set(
            &at(&format!("{prefix}.final_action")),
            action_code(policy.final_action, true),
        );
    }
    for other in &resource.depends_on {
        root.ensure(&format!("{base}/depend@{other}"));
    }
}

fn export_monitor(root: &mut Node, monitor: &MonitorConfig) {
    let base = format!("monitor/{}@{}", monitor.kind, monitor.name);
    let at = |key: &str| format!("{base}/{}", path_of(MONITOR_PATHS, key));
    root.set(&at("comment"), &monitor.comment);
    if let Some(target) = &monitor.target {
        root.set(&at("target"), target);
    }
    root.set(&at("interval"), &monitor.interval.as_secs().to_string());
    root.set(&at("timeout"), &monitor.timeout.as_secs().to_string());
    root.set(&at("retry"), &monitor.retry.to_string());
    let timing = match monitor.timing {
        Timing::Always => "0",
        Timing::Active => "1",
    };
    root.set(&at("timing"), timing);
    root.set(
        &at("wait_before_start"),
        &monitor.wait_before_start.as_secs().to_string(),
    );
    let (kind, name) = match &monitor.recovery.target {
        RecoveryTarget::LocalServer => ("cls", "LocalServer"),
        RecoveryTarget::Group(name) => ("grp", name.as_str()),
        RecoveryTarget::Resource(name) => ("rsc", name.as_str()),
    };
    root.set(&format!("{base}/relation/type"), kind);
    root.set(&format!("{base}/relation/name"), name);
    root.set(
        &at("recovery.reactivation_threshold"),
        &monitor.recovery.reactivation_threshold.to_string(),
    );
    root.set(
        &at("recovery.failover_threshold"),
        &monitor.recovery.failover_threshold.to_string(),
    );
    root.set(
        &at("recovery.final_action"),
        action_code(monitor.recovery.final_action, false),
    );
    let mut parameters = monitor.parameters.clone();
    super::secrets::mask_table(&mut parameters);
    let node = root.ensure(&format!("{base}/{}", path_of(MONITOR_PATHS, "parameters")));
    export_table(node, &parameters);
}

fn export_table(node: &mut Node, table: &toml::Table) {
    for (key, value) in table {
        match value {
            toml::Value::Table(inner) => export_table(node.child_mut(key), inner),
            toml::Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    let element = node.child_mut(&format!("{key}@{index}"));
                    match item {
                        toml::Value::Table(inner) => export_table(element, inner),
                        other => element.text = scalar(other),
                    }
                }
            }
            other => node.child_mut(key).text = scalar(other),
        }
    }
}

fn scalar(value: &toml::Value) -> String {
    match value {
        toml::Value::String(text) => text.clone(),
        toml::Value::Boolean(on) => flag(*on).to_string(),
        other => other.to_string(),
    }
}

/// The original's code of a final action, by the migration's own table.
fn action_code(action: FinalAction, resource: bool) -> &'static str {
    const CODES: &[&str] = &["0", "1", "2", "3", "4", "5", "8", "9", "10"];
    CODES
        .iter()
        .find(|code| {
            let word = if resource {
                resource_final_action(code)
            } else {
                monitor_final_action(code)
            };
            word == Ok(action.as_str())
        })
        .copied()
        .unwrap_or("1")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
[cluster]
name = "web"
comment = "the web cluster"

[webmanager]
allow = ["192.168.100.1", "10.0.0.0/24"]

[[group]]
name = "failover1"

[[group.resource]]
name = "exec1"
type = "exec"
mode = "async"
[group.resource.activation]
retry = 2
final_action = "stop-group"

[[group.resource]]
name = "exec2"
type = "exec"
depends_on = ["exec1"]

[[monitor]]
name = "pidw1"
type = "pidw"
target = "exec1"
interval = 7
[monitor.recovery]
target = "exec1"
reactivation_threshold = 2
final_action = "stop-daemon"

[[monitor]]
name = "userw"
type = "userw"
"#;

    fn scripts() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for resource in ["exec1", "exec2"] {
            let folder = dir.path().join("failover1").join(resource);
            std::fs::create_dir_all(&folder).expect("folder");
            std::fs::write(folder.join("start.sh"), "#!/bin/sh\nexit 0\n").expect("start");
            std::fs::write(folder.join("stop.sh"), "#!/bin/sh\nexit 0\n").expect("stop");
        }
        dir
    }

    #[test]
    fn the_originals_paths_answer() {
        let dir = scripts();
        let config = super::super::parse_str(CONFIG, dir.path()).expect("config");
        let root = export(&config);
        assert_eq!(get(&root, "/root/cluster/name").as_deref(), Ok("web"));
        assert_eq!(
            elements(&root, "/root/monitor/types").expect("types"),
            ["pidw", "userw"]
        );
        assert_eq!(
            elements(&root, "/root/monitor/pidw").expect("names"),
            ["pidw1"]
        );
        assert_eq!(
            get(&root, "/root/monitor/pidw@pidw1/polling/interval").as_deref(),
            Ok("7")
        );
        assert_eq!(
            get(&root, "/root/monitor/pidw@pidw1/emergency/action").as_deref(),
            Ok("3")
        );
        assert_eq!(
            get(&root, "/root/resource/exec@exec1/parameters/act/path").as_deref(),
            Ok("start.sh")
        );
        assert_eq!(
            elements(&root, "/root/group@failover1/resource").expect("members"),
            ["exec@exec1", "exec@exec2"]
        );
        let missing = get(&root, "/root/monitor/pidw@nosuch/target").expect_err("missing");
        assert!(
            missing
                .to_string()
                .contains("under /root/monitor: types@pidw"),
            "{missing}"
        );
        assert!(matches!(
            get(&root, "cluster/name"),
            Err(CfgetError::BadPath(_))
        ));
    }

    /// The export and the migration read the same paths: exported, converted back and
    /// validated, the configuration is the same.
    #[test]
    fn the_export_converts_back_to_the_same_configuration() {
        let dir = scripts();
        let config = super::super::parse_str(CONFIG, dir.path()).expect("config");
        let xml = export(&config).to_xml();
        let conversion =
            super::super::original::convert(xml.as_bytes(), None, "export").expect("converts");
        assert_eq!(conversion.unsupported, [], "{}", conversion.text);
        let again = super::super::parse_str(&conversion.text, dir.path()).expect("valid");
        let mut expected = config.clone();
        // The export names this host's server explicitly.
        expected.servers = again.servers.clone();
        assert_eq!(again, expected, "{}", conversion.text);
    }
}
