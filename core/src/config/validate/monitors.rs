//! Monitors: each type's parameters through its spec, recovery and targets.

use super::*;

pub(super) fn build_monitor(
    problems: &mut Problems,
    index: usize,
    value: &toml::Value,
    groups: &[GroupConfig],
) -> Option<MonitorConfig> {
    let first_location = location_of("monitor", index, value);
    let raw: RawMonitor = problems.deserialize(&first_location, value, RawMonitor::KEYS);
    let location = match &raw.name {
        Some(name) => format!("monitor \"{name}\""),
        None => first_location,
    };
    let name = check_name(problems, &location, &raw.name);
    let Some(kind) = raw.kind.clone() else {
        problems.add(&location, "key \"type\" is missing");
        return None;
    };
    let Some(spec) = registry::spec(&kind) else {
        let kinds = registry::kinds();
        let hint = closest(&kind, &kinds)
            .map(|s| format!(" (did you mean \"{s}\"?)"))
            .unwrap_or_default();
        problems.add(
            &location,
            format!(
                "key \"type\": unknown monitor type \"{kind}\"{hint}; known types: {}",
                kinds.join(", ")
            ),
        );
        return None;
    };
    let find_resource = |name: &str| {
        groups
            .iter()
            .flat_map(|g| g.resources.iter())
            .find(|r| r.name == name)
    };

    let timing = match (raw.timing.as_deref(), spec.forced_timing) {
        (_, Some(forced)) => forced,
        (None | Some("always"), None) => Timing::Always,
        (Some("active"), None) => Timing::Active,
        (Some(other), None) => {
            problems.add(
                &location,
                format!(
                    "key \"timing\": \"{other}\" is not a timing; use \"always\" or \"active\""
                ),
            );
            Timing::Always
        }
    };
    match (&raw.target, spec.target_rule) {
        (None, TargetRule::AsyncExecResource) => {
            problems.add(
                &location,
                format!("key \"target\" is missing: a {kind} monitor watches an exec resource with mode = \"async\""),
            );
        }
        (Some(target), TargetRule::AsyncExecResource) => match find_resource(target) {
            None => problems.add(
                &location,
                format!("key \"target\": \"{target}\" is not a resource of this configuration"),
            ),
            Some(resource) if resource.mode != ExecMode::Async => problems.add(
                &location,
                format!(
                    "key \"target\": resource \"{target}\" has mode \"sync\"; {kind} watches the process of an async exec resource"
                ),
            ),
            Some(_) => {}
        },
        (None, TargetRule::FipResource) => problems.add(
            &location,
            format!("key \"target\" is missing: a {kind} monitor watches a fip resource"),
        ),
        (Some(target), TargetRule::FipResource) => match find_resource(target) {
            None => problems.add(
                &location,
                format!("key \"target\": \"{target}\" is not a resource of this configuration"),
            ),
            Some(resource) if !resource.is_floating_ip() => problems.add(
                &location,
                format!(
                    "key \"target\": resource \"{target}\" is of type \"{}\"; {kind} watches a fip resource",
                    resource.kind
                ),
            ),
            Some(_) => {}
        },
        (Some(target), TargetRule::Optional) => {
            if find_resource(target).is_none() {
                problems.add(
                    &location,
                    format!("key \"target\": \"{target}\" is not a resource of this configuration"),
                );
            }
        }
        (None, TargetRule::Optional) if timing == Timing::Active => problems.add(
            &location,
            "key \"target\" is missing: timing = \"active\" needs the resource it follows",
        ),
        (None, TargetRule::Optional) => {}
    }

    let parameters = raw.parameters.clone().unwrap_or_default();
    for problem in (spec.check_parameters)(&parameters) {
        problems.add(&format!("{location}.parameters"), problem);
    }

    let recovery_location = format!("{location}.recovery");
    let raw_recovery: RawRecovery = match value.as_table().and_then(|t| t.get("recovery")) {
        Some(recovery) => problems.deserialize(&recovery_location, recovery, RawRecovery::KEYS),
        None => RawRecovery::default(),
    };
    let recovery_target = match raw_recovery.target.as_deref() {
        Some("local-server" | "LocalServer") => RecoveryTarget::LocalServer,
        Some(target) => {
            let is_group = groups.iter().any(|g| g.name == target);
            let is_resource = find_resource(target).is_some();
            match (is_group, is_resource) {
                (true, true) => {
                    problems.add(
                        &recovery_location,
                        format!("key \"target\": \"{target}\" names both a group and a resource; rename one"),
                    );
                    RecoveryTarget::LocalServer
                }
                (true, false) => RecoveryTarget::Group(target.to_string()),
                (false, true) => RecoveryTarget::Resource(target.to_string()),
                (false, false) => {
                    problems.add(
                        &recovery_location,
                        format!(
                            "key \"target\": \"{target}\" is not a group, a resource or \"local-server\""
                        ),
                    );
                    RecoveryTarget::LocalServer
                }
            }
        }
        None => match (spec.default_recovery, &raw.target) {
            (DefaultRecovery::Target, Some(target)) => RecoveryTarget::Resource(target.clone()),
            _ => RecoveryTarget::LocalServer,
        },
    };
    let reactivation_threshold = raw_recovery.reactivation_threshold.unwrap_or(3);
    if reactivation_threshold > 99 {
        problems.add(
            &recovery_location,
            format!(
                "key \"reactivation_threshold\": {reactivation_threshold} is out of range (0 to 99)"
            ),
        );
    }
    let recovery = RecoveryPolicy {
        target: recovery_target,
        reactivation_threshold: reactivation_threshold.min(99),
        failover_threshold: raw_recovery.failover_threshold.unwrap_or(0),
        final_action: final_action(
            problems,
            &recovery_location,
            "final_action",
            raw_recovery.final_action.as_deref(),
            FinalAction::None,
            false,
        ),
    };
    let retry = raw.retry.unwrap_or(spec.retry);
    if retry > 999 {
        problems.add(
            &location,
            format!("key \"retry\": {retry} is out of range (0 to 999)"),
        );
    }
    let nice = raw.nice.unwrap_or(0);
    if !(-20..=19).contains(&nice) {
        problems.add(
            &location,
            format!("key \"nice\": {nice} is out of range (-20 to 19)"),
        );
    }
    let target_parameters = raw
        .target
        .as_deref()
        .and_then(find_resource)
        .map(|resource| resource.parameters.clone())
        .unwrap_or_default();
    Some(MonitorConfig {
        target_parameters,
        comment: raw
            .comment
            .unwrap_or_else(|| spec.default_comment.to_string()),
        target: raw.target,
        interval: seconds(
            problems,
            &location,
            "interval",
            raw.interval,
            spec.interval,
            false,
        ),
        timeout: seconds(
            problems,
            &location,
            "timeout",
            raw.timeout,
            spec.timeout,
            false,
        ),
        retry,
        wait_before_start: seconds(
            problems,
            &location,
            "wait_before_start",
            raw.wait_before_start,
            0.0,
            true,
        ),
        timing,
        nice,
        recovery,
        parameters,
        name,
        kind,
    })
}
