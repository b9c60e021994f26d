//! What changes between two configurations, object by object and key by key (script files
//! included), and what a running clppm needs to use the new one.
//!
//! clppm reads its configuration only when it starts, so every change needs a new daemon
//! process. The question is whether the resources must stop for it:
//! - changes limited to monitors, alert settings, OS actions and the cluster's comment,
//!   language or monitor-recovery switch: **suspend/resume** — the daemon hands its running
//!   resources over to the next one, which adopts them (nothing is stopped);
//! - any change to groups, resources, their scripts, or the cluster name: **restart** — an
//!   orderly stop of every group and a start with the new configuration.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Config, FailurePolicy, RecoveryTarget, ResourceConfig};

/// What applying a change to a running clppm takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ApplyClass {
    /// Monitors, alerts, OS actions, cluster comment: the resources keep running.
    SuspendResume,
    /// Groups, resources, scripts or the cluster name: every group stops and starts again.
    Restart,
}

impl ApplyClass {
    /// The words operators read: `suspend/resume` or `restart`.
    pub fn as_str(self) -> &'static str {
        match self {
            ApplyClass::SuspendResume => "suspend/resume",
            ApplyClass::Restart => "restart",
        }
    }
}

/// One key of an object that differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyChange {
    /// The key (`interval`, `recovery.final_action`, `file start.sh`).
    pub key: String,
    /// The value before, when the key was there.
    pub old: Option<String>,
    /// The value after, when the key is there.
    pub new: Option<String>,
    /// Whether the values are contents to compare, not to show (script files).
    pub opaque: bool,
    /// What applying this key's change takes.
    pub class: ApplyClass,
}

/// How one object changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// It is new.
    Added,
    /// It is gone.
    Removed,
    /// These keys differ.
    Changed(Vec<KeyChange>),
}

/// One object that differs: `monitor "pidw"`, `group "failover"`, `resource "exec"`, ...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectChange {
    /// The object.
    pub object: String,
    /// How.
    pub change: Change,
    /// What applying it takes.
    pub class: ApplyClass,
}

/// Every difference between two configurations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigDiff {
    /// The objects that differ, in configuration order (removed ones after).
    pub changes: Vec<ObjectChange>,
}

impl ConfigDiff {
    /// The differences from `old` to `new`, script files included (each configuration's own
    /// `scripts_dir`).
    pub fn between(old: &Config, new: &Config) -> ConfigDiff {
        let before = describe(old);
        let after = describe(new);
        let mut changes = Vec::new();
        for object in &after {
            match before.iter().find(|o| o.id == object.id) {
                None => changes.push(ObjectChange {
                    object: object.id.clone(),
                    change: Change::Added,
                    class: object.class,
                }),
                Some(previous) => {
                    let keys = diff_entries(previous, object);
                    if let Some(class) = keys.iter().map(|k| k.class).max() {
                        changes.push(ObjectChange {
                            object: object.id.clone(),
                            change: Change::Changed(keys),
                            class,
                        });
                    }
                }
            }
        }
        for object in &before {
            if !after.iter().any(|o| o.id == object.id) {
                changes.push(ObjectChange {
                    object: object.id.clone(),
                    change: Change::Removed,
                    class: object.class,
                });
            }
        }
        ConfigDiff { changes }
    }

    /// Nothing differs.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// What applying every change takes; `None` when nothing differs.
    pub fn class(&self) -> Option<ApplyClass> {
        self.changes.iter().map(|change| change.class).max()
    }
}

/// One object's keys and values, as compared.
struct Described {
    id: String,
    class: ApplyClass,
    entries: Vec<Entry>,
}

struct Entry {
    key: String,
    value: String,
    opaque: bool,
    class: ApplyClass,
}

impl Described {
    fn new(id: String, class: ApplyClass) -> Self {
        Self {
            id,
            class,
            entries: Vec::new(),
        }
    }

    fn set(&mut self, key: &str, value: impl ToString) {
        self.entries.push(Entry {
            key: key.to_string(),
            value: value.to_string(),
            opaque: false,
            class: self.class,
        });
    }

    fn set_with_class(&mut self, key: &str, value: impl ToString, class: ApplyClass) {
        self.entries.push(Entry {
            key: key.to_string(),
            value: value.to_string(),
            opaque: false,
            class,
        });
    }

    fn file(&mut self, key: String, digest: String) {
        self.entries.push(Entry {
            key,
            value: digest,
            opaque: true,
            class: self.class,
        });
    }
}

fn diff_entries(before: &Described, after: &Described) -> Vec<KeyChange> {
    let mut keys = Vec::new();
    for entry in &after.entries {
        match before.entries.iter().find(|e| e.key == entry.key) {
            Some(old) if old.value == entry.value => {}
            old => keys.push(KeyChange {
                key: entry.key.clone(),
                old: old.map(|o| o.value.clone()),
                new: Some(entry.value.clone()),
                opaque: entry.opaque,
                class: entry.class,
            }),
        }
    }
    for entry in &before.entries {
        if !after.entries.iter().any(|e| e.key == entry.key) {
            keys.push(KeyChange {
                key: entry.key.clone(),
                old: Some(entry.value.clone()),
                new: None,
                opaque: entry.opaque,
                class: entry.class,
            });
        }
    }
    keys
}

/// Seconds as written in the configuration (`5`, `0.5`).
pub fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{}", duration.as_secs())
    } else {
        format!("{secs}")
    }
}

fn list(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

/// A script path as the configuration would name it: relative to the resource's folder
/// when it lies there.
fn script_name(resource: &ResourceConfig, path: &Path) -> String {
    path.strip_prefix(&resource.script_dir)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn policy(object: &mut Described, prefix: &str, policy: &FailurePolicy) {
    object.set(&format!("{prefix}.retry"), policy.retry);
    object.set(
        &format!("{prefix}.failover_threshold"),
        policy.failover_threshold,
    );
    object.set(
        &format!("{prefix}.final_action"),
        policy.final_action.as_str(),
    );
}

fn flatten(object: &mut Described, prefix: &str, table: &toml::Table) {
    for (key, value) in table {
        let key = format!("{prefix}.{key}");
        match value {
            toml::Value::Table(inner) => flatten(object, &key, inner),
            other => object.set(&key, other),
        }
    }
}

fn describe(config: &Config) -> Vec<Described> {
    use ApplyClass::{Restart, SuspendResume};
    let mut objects = Vec::new();

    let mut cluster = Described::new("cluster".into(), SuspendResume);
    cluster.set_with_class("name", &config.cluster.name, Restart);
    cluster.set("comment", &config.cluster.comment);
    cluster.set("language", &config.cluster.language);
    cluster.set(
        "disable_monitor_recovery",
        config.cluster.disable_monitor_recovery,
    );
    cluster.set(
        "monitor_delay_warning",
        config.cluster.monitor_delay_warning,
    );
    objects.push(cluster);

    for server in &config.servers {
        let mut described = Described::new(format!("server \"{}\"", server.name), Restart);
        described.set_with_class("comment", &server.comment, SuspendResume);
        objects.push(described);
    }

    let mut alert = Described::new("alert".into(), SuspendResume);
    alert.set("max_records", config.alert.max_records);
    alert.set("file_max_bytes", config.alert.file_max_bytes);
    alert.set("syslog", config.alert.syslog);
    objects.push(alert);

    let mut os = Described::new("os_actions".into(), SuspendResume);
    os.set("shutdown", list(&config.os_actions.shutdown));
    os.set("reboot", list(&config.os_actions.reboot));
    os.set("sysrq_trigger", config.os_actions.sysrq_trigger.display());
    os.set(
        "watchdog_device",
        config.os_actions.watchdog_device.display(),
    );
    objects.push(os);

    let files = script_files(&config.scripts_dir);
    let mut claimed: Vec<&PathBuf> = Vec::new();
    for group in &config.groups {
        let mut described = Described::new(format!("group \"{}\"", group.name), Restart);
        described.set("comment", &group.comment);
        described.set("auto_start", group.auto_start);
        let names: Vec<String> = group.resources.iter().map(|r| r.name.clone()).collect();
        described.set("resources", list(&names));
        objects.push(described);
        for resource in &group.resources {
            let mut described = Described::new(format!("resource \"{}\"", resource.name), Restart);
            described.set("group", &resource.group);
            described.set("comment", &resource.comment);
            described.set("type", &resource.kind);
            described.set(
                "mode",
                match resource.mode {
                    super::ExecMode::Sync => "sync",
                    super::ExecMode::Async => "async",
                },
            );
            described.set("start", script_name(resource, &resource.start));
            described.set(
                "stop",
                resource
                    .stop
                    .as_deref()
                    .map_or_else(|| "(none)".to_string(), |s| script_name(resource, s)),
            );
            described.set("timeout", seconds(resource.timeout));
            described.set("stop_timeout", seconds(resource.stop_timeout));
            described.set("depends_on", list(&resource.depends_on));
            policy(&mut described, "activation", &resource.activation);
            policy(&mut described, "deactivation", &resource.deactivation);
            let folder = PathBuf::from(&group.name).join(&resource.name);
            for (path, digest) in &files {
                if let Ok(inside) = path.strip_prefix(&folder) {
                    described.file(format!("file {}", inside.display()), digest.clone());
                    claimed.push(path);
                }
            }
            objects.push(described);
        }
    }
    let mut others = Described::new("scripts".into(), Restart);
    for (path, digest) in &files {
        if !claimed.contains(&path) {
            others.file(format!("file {}", path.display()), digest.clone());
        }
    }
    objects.push(others);

    for monitor in &config.monitors {
        let mut described = Described::new(format!("monitor \"{}\"", monitor.name), SuspendResume);
        described.set("type", &monitor.kind);
        described.set("comment", &monitor.comment);
        described.set("target", monitor.target.as_deref().unwrap_or("(none)"));
        described.set("interval", seconds(monitor.interval));
        described.set("timeout", seconds(monitor.timeout));
        described.set("retry", monitor.retry);
        described.set("wait_before_start", seconds(monitor.wait_before_start));
        described.set(
            "timing",
            match monitor.timing {
                super::Timing::Always => "always",
                super::Timing::Active => "active",
            },
        );
        described.set("nice", monitor.nice);
        described.set(
            "recovery.target",
            match &monitor.recovery.target {
                RecoveryTarget::LocalServer => "local-server",
                RecoveryTarget::Resource(name) | RecoveryTarget::Group(name) => name,
            },
        );
        described.set(
            "recovery.reactivation_threshold",
            monitor.recovery.reactivation_threshold,
        );
        described.set(
            "recovery.failover_threshold",
            monitor.recovery.failover_threshold,
        );
        described.set(
            "recovery.final_action",
            monitor.recovery.final_action.as_str(),
        );
        flatten(&mut described, "parameters", &monitor.parameters);
        objects.push(described);
    }
    objects
}

/// Every file under the scripts folder (relative path → a digest of its content, or of a
/// symbolic link's target).
fn script_files(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut files = BTreeMap::new();
    walk(root, Path::new(""), &mut files);
    files
}

fn walk(root: &Path, relative: &Path, files: &mut BTreeMap<PathBuf, String>) {
    let Ok(entries) = std::fs::read_dir(root.join(relative)) else {
        return;
    };
    for entry in entries.flatten() {
        let path = relative.join(entry.file_name());
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            walk(root, &path, files);
        } else if kind.is_symlink() {
            let target = std::fs::read_link(entry.path()).unwrap_or_default();
            files.insert(path, format!("link to {}", target.display()));
        } else {
            let digest = match std::fs::read(entry.path()) {
                Ok(bytes) => {
                    let mut hasher = std::collections::hash_map::DefaultHasher::new();
                    bytes.hash(&mut hasher);
                    format!("{} bytes, {:016x}", bytes.len(), hasher.finish())
                }
                Err(error) => format!("unreadable: {error}"),
            };
            files.insert(path, digest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str, scripts: &Path) -> Config {
        super::super::parse_str(text, scripts).unwrap()
    }

    fn scripts(dir: &Path, start: &str) {
        let folder = dir.join("g").join("r");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("start.sh"), start).unwrap();
    }

    const BASE: &str = r#"
[cluster]
name = "zabi"
[[group]]
name = "g"
[[group.resource]]
name = "r"
mode = "async"
[[monitor]]
name = "p"
type = "pidw"
target = "r"
"#;

    #[test]
    fn nothing_changed_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        scripts(dir.path(), "#!/bin/sh\n");
        let a = config(BASE, dir.path());
        let diff = ConfigDiff::between(&a, &a.clone());
        assert!(diff.is_empty(), "{diff:#?}");
        assert_eq!(diff.class(), None);
    }

    #[test]
    fn a_monitor_change_is_a_suspend_resume_key_by_key() {
        let dir = tempfile::tempdir().unwrap();
        scripts(dir.path(), "#!/bin/sh\n");
        let old = config(BASE, dir.path());
        let new = config(
            &format!(
                "{BASE}interval = 2\n[monitor.recovery]\nfinal_action = \"stop-group\"\n[[monitor]]\nname = \"u\"\ntype = \"userw\"\n[alert]\nsyslog = true\n"
            ),
            dir.path(),
        );
        let diff = ConfigDiff::between(&old, &new);
        assert_eq!(diff.class(), Some(ApplyClass::SuspendResume));
        let objects: Vec<&str> = diff.changes.iter().map(|c| c.object.as_str()).collect();
        assert_eq!(objects, ["alert", "monitor \"p\"", "monitor \"u\""]);
        let Change::Changed(keys) = &diff.changes[1].change else {
            panic!("{diff:#?}");
        };
        let keys: Vec<(&str, Option<&str>, Option<&str>)> = keys
            .iter()
            .map(|k| (k.key.as_str(), k.old.as_deref(), k.new.as_deref()))
            .collect();
        assert_eq!(
            keys,
            [
                ("interval", Some("5"), Some("2")),
                ("recovery.final_action", Some("none"), Some("stop-group")),
            ]
        );
        assert_eq!(diff.changes[2].change, Change::Added);
    }

    #[test]
    fn scripts_groups_and_the_cluster_name_need_a_restart() {
        let old_dir = tempfile::tempdir().unwrap();
        scripts(old_dir.path(), "#!/bin/sh\nexec sleep 1\n");
        let new_dir = tempfile::tempdir().unwrap();
        scripts(new_dir.path(), "#!/bin/sh\nexec sleep 2\n");
        let old = config(BASE, old_dir.path());
        let new = config(BASE, new_dir.path());
        let diff = ConfigDiff::between(&old, &new);
        assert_eq!(diff.class(), Some(ApplyClass::Restart));
        assert_eq!(diff.changes.len(), 1, "{diff:#?}");
        let Change::Changed(keys) = &diff.changes[0].change else {
            panic!("{diff:#?}");
        };
        assert_eq!(keys[0].key, "file start.sh");
        assert!(keys[0].opaque);

        let renamed = config(&BASE.replace("zabi", "other"), old_dir.path());
        let diff = ConfigDiff::between(&old, &renamed);
        assert_eq!(diff.class(), Some(ApplyClass::Restart));
        let commented = config(
            &BASE.replace("name = \"zabi\"", "name = \"zabi\"\ncomment = \"x\""),
            old_dir.path(),
        );
        assert_eq!(
            ConfigDiff::between(&old, &commented).class(),
            Some(ApplyClass::SuspendResume)
        );
        let without_monitor = config(
            "[cluster]\nname = \"zabi\"\n[[group]]\nname = \"g\"\n[[group.resource]]\nname = \"r\"\nmode = \"async\"\n",
            old_dir.path(),
        );
        let diff = ConfigDiff::between(&old, &without_monitor);
        assert_eq!(diff.changes[0].change, Change::Removed);
        assert_eq!(diff.class(), Some(ApplyClass::SuspendResume));
        let no_group = config("[cluster]\nname = \"zabi\"\n", old_dir.path());
        assert_eq!(
            ConfigDiff::between(&old, &no_group).class(),
            Some(ApplyClass::Restart)
        );
    }
}
