//! Groups and their resources: failure policies, scripts, dependencies, unique names.

use super::*;

fn build_failure_policy(
    problems: &mut Problems,
    location: &str,
    key: &str,
    raw: Option<&toml::Value>,
    default_action: FinalAction,
) -> FailurePolicy {
    let location = format!("{location}.{key}");
    let raw: RawFailurePolicy = match raw {
        Some(value) => problems.deserialize(&location, value, RawFailurePolicy::KEYS),
        None => RawFailurePolicy::default(),
    };
    let retry = raw.retry.unwrap_or(0);
    if retry > 99 {
        problems.add(
            &location,
            format!("key \"retry\": {retry} is out of range (0 to 99)"),
        );
    }
    FailurePolicy {
        retry: retry.min(99),
        failover_threshold: raw.failover_threshold.unwrap_or(1),
        final_action: final_action(
            problems,
            &location,
            "final_action",
            raw.final_action.as_deref(),
            default_action,
            true,
        ),
    }
}

fn resolve_script(
    problems: &mut Problems,
    location: &str,
    key: &str,
    script_dir: &Path,
    given: Option<&str>,
    default: &str,
    required: bool,
) -> Option<PathBuf> {
    let path = script_dir.join(given.unwrap_or(default));
    if path.is_file() {
        if let Err(error) = crate::process::launch_of(&path)
            && error.kind() == std::io::ErrorKind::InvalidData
        {
            problems.add(
                location,
                format!("key \"{key}\": script {}: {error}", path.display()),
            );
        }
        return Some(path);
    }
    if required || given.is_some() {
        problems.add(
            location,
            format!(
                "key \"{key}\": script {} is not found; create it or name an existing file",
                path.display()
            ),
        );
    }
    None
}

pub(super) fn build_group(
    problems: &mut Problems,
    index: usize,
    value: &toml::Value,
    scripts_dir: &Path,
) -> GroupConfig {
    let raw: RawGroup =
        problems.deserialize(&location_of("group", index, value), value, RawGroup::KEYS);
    let location = match &raw.name {
        Some(name) => format!("group \"{name}\""),
        None => format!("group #{}", index + 1),
    };
    let name = check_name(problems, &location, &raw.name);
    let mut resources = Vec::new();
    for (position, item) in raw.resource.iter().flatten().enumerate() {
        let resource_location = format!("{location}.{}", location_of("resource", position, item));
        let raw_resource: RawResource =
            problems.deserialize(&resource_location, item, RawResource::KEYS);
        let table = item.as_table();
        resources.push(build_resource(
            problems,
            &location,
            &name,
            raw_resource,
            table,
            position,
            scripts_dir,
        ));
    }
    let resources = sort_by_dependencies(problems, &location, resources);
    GroupConfig {
        name,
        comment: raw.comment.unwrap_or_default(),
        auto_start: raw.auto_start.unwrap_or(true),
        servers: raw.servers.unwrap_or_default(),
        failback: raw.failback.unwrap_or(false),
        resources,
    }
}

fn build_resource(
    problems: &mut Problems,
    group_location: &str,
    group: &str,
    raw: RawResource,
    table: Option<&toml::Table>,
    position: usize,
    scripts_dir: &Path,
) -> ResourceConfig {
    let location = match &raw.name {
        Some(name) => format!("{group_location}.resource \"{name}\""),
        None => format!("{group_location}.resource #{}", position + 1),
    };
    let name = check_name(problems, &location, &raw.name);
    let kind = raw.kind.unwrap_or_else(|| "exec".to_string());
    let parameters = raw.parameters.clone().unwrap_or_default();
    match kind.as_str() {
        "exec" => {
            if !parameters.is_empty() {
                problems.unknown_keys(&format!("{location}.parameters"), &parameters, &[]);
            }
        }
        crate::resource::fip::KIND => {
            for problem in crate::resource::fip::parse(&parameters).1 {
                problems.add(&format!("{location}.parameters"), problem);
            }
            for key in ["start", "stop", "mode"] {
                if table.is_some_and(|t| t.contains_key(key)) {
                    problems.add(
                        &location,
                        format!("key \"{key}\": a fip resource runs no script; remove it"),
                    );
                }
            }
        }
        _ => problems.add(
            &location,
            format!(
                "key \"type\": resource type \"{kind}\" is not supported; this version has \"exec\" and \"fip\""
            ),
        ),
    }
    let mode = match raw.mode.as_deref() {
        None | Some("sync") => ExecMode::Sync,
        Some("async") => ExecMode::Async,
        Some(other) => {
            problems.add(
                &location,
                format!("key \"mode\": \"{other}\" is not a mode; use \"sync\" or \"async\""),
            );
            ExecMode::Sync
        }
    };
    let script_dir = scripts_dir.join(group).join(&name);
    let scripted = kind != crate::resource::fip::KIND;
    let start = scripted
        .then(|| {
            resolve_script(
                problems,
                &location,
                "start",
                &script_dir,
                raw.start.as_deref(),
                "start.sh",
                true,
            )
        })
        .flatten()
        .unwrap_or_else(|| crate::paths::default_start_script(&script_dir));
    let stop = scripted
        .then(|| {
            resolve_script(
                problems,
                &location,
                "stop",
                &script_dir,
                raw.stop.as_deref(),
                "stop.sh",
                false,
            )
        })
        .flatten();
    let activation = build_failure_policy(
        problems,
        &location,
        "activation",
        table.and_then(|t| t.get("activation")),
        FinalAction::None,
    );
    let deactivation = build_failure_policy(
        problems,
        &location,
        "deactivation",
        table.and_then(|t| t.get("deactivation")),
        FinalAction::StopDaemonShutdown,
    );
    ResourceConfig {
        name,
        group: group.to_string(),
        comment: raw.comment.unwrap_or_default(),
        kind,
        parameters,
        start,
        stop,
        script_dir,
        mode,
        timeout: seconds(problems, &location, "timeout", raw.timeout, 1800.0, false),
        stop_timeout: seconds(
            problems,
            &location,
            "stop_timeout",
            raw.stop_timeout,
            1800.0,
            false,
        ),
        depends_on: raw.depends_on.unwrap_or_default(),
        activation,
        deactivation,
    }
}

/// Orders resources so that each comes after what it depends on, keeping config order
/// otherwise; reports unknown dependencies and cycles.
fn sort_by_dependencies(
    problems: &mut Problems,
    location: &str,
    resources: Vec<ResourceConfig>,
) -> Vec<ResourceConfig> {
    let names: HashSet<&str> = resources.iter().map(|r| r.name.as_str()).collect();
    let mut broken = false;
    for resource in &resources {
        for dependency in &resource.depends_on {
            if !names.contains(dependency.as_str()) {
                problems.add(
                    &format!("{location}.resource \"{}\"", resource.name),
                    format!("key \"depends_on\": \"{dependency}\" is not a resource of this group"),
                );
                broken = true;
            }
        }
    }
    if broken {
        return resources;
    }
    let mut placed: Vec<ResourceConfig> = Vec::with_capacity(resources.len());
    let mut pending = resources;
    while !pending.is_empty() {
        let ready = pending.iter().position(|candidate| {
            candidate
                .depends_on
                .iter()
                .all(|dependency| placed.iter().any(|p| &p.name == dependency))
        });
        match ready {
            Some(index) => placed.push(pending.remove(index)),
            None => {
                let cycle: Vec<&str> = pending.iter().map(|r| r.name.as_str()).collect();
                problems.add(
                    location,
                    format!(
                        "resources {} depend on each other in a cycle",
                        cycle.join(", ")
                    ),
                );
                placed.append(&mut pending);
            }
        }
    }
    placed
}

pub(super) fn check_unique_names(problems: &mut Problems, groups: &[GroupConfig]) {
    let mut groups_seen = HashSet::new();
    let mut resources_seen: HashMap<&str, &str> = HashMap::new();
    for group in groups {
        if !groups_seen.insert(group.name.as_str()) {
            problems.add(
                &format!("group \"{}\"", group.name),
                "the name is used by another group",
            );
        }
        for resource in &group.resources {
            if let Some(other) = resources_seen.insert(resource.name.as_str(), group.name.as_str())
            {
                problems.add(
                    &format!("group \"{}\".resource \"{}\"", group.name, resource.name),
                    format!("the name is used by a resource of group \"{other}\""),
                );
            }
        }
    }
}
