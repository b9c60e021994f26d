//! Groups and their exec and fip resources, with their activation and deactivation
//! policies.

use super::converter::Converter;
use super::element::Element;
use super::model::{OutGroup, OutResource};
use super::values::{monitor_final_action, resource_final_action};

/// The resource types converted; the others are reported.
const CONVERTED: &[&str] = &["exec", "fip"];

impl Converter {
    pub(super) fn groups(&mut self, root: &Element) -> Vec<OutGroup> {
        let resources = root.peek("resource");
        if let Some(resources) = resources {
            resources.mark();
            for types in resources.all("types") {
                types.mark();
            }
        }
        let mut grouped: Vec<String> = Vec::new();
        let mut groups = Vec::new();
        for group in root.all("group") {
            group.mark();
            let name = group.key.clone().unwrap_or_default();
            let mut out = OutGroup {
                name: name.clone(),
                comment: group.take_text("comment").filter(|c| !c.is_empty()),
                ..OutGroup::default()
            };
            group.take("gid");
            self.accept_at(
                group,
                "type",
                &["failover"],
                "only failover groups exist here",
            );
            if let Some(start) = group.take("start") {
                match start.value() {
                    "1" => out.auto_start = Some(true),
                    "0" => out.auto_start = Some(false),
                    _ => self.report(start, "not 0 or 1"),
                }
            }
            let policies: Vec<&Element> = group.all("policy").collect();
            if policies.len() == 1 {
                policies[0].mark_all();
            } else {
                for policy in policies {
                    self.report(
                        policy,
                        "a startup server list is for clusters of several servers",
                    );
                }
            }
            for member in group.all("resource") {
                member.mark();
                let key = member.key.clone().unwrap_or_default();
                let (kind, resource_name) = key.split_once('@').unwrap_or(("", key.as_str()));
                if !CONVERTED.contains(&kind) {
                    self.report(
                        member,
                        format!("resource type \"{kind}\" is not supported; this version has exec and fip resources"),
                    );
                    continue;
                }
                let definition = resources.and_then(|r| {
                    r.all(kind)
                        .find(|e| e.key.as_deref() == Some(resource_name))
                });
                let Some(definition) = definition else {
                    self.report(member, "the resource is not defined under /root/resource");
                    continue;
                };
                grouped.push(resource_name.to_string());
                let resource = if kind == "fip" {
                    self.fip(definition, resource_name)
                } else {
                    self.exec(definition, resource_name)
                };
                out.resources.push(resource);
            }
            // What the rest of the group says (failover, failback, exclusive, dependencies
            // between groups) is reported by the walk of unused elements, unless it is the
            // behaviour of a single server anyway.
            self.accept_at(group, "failover", &["1"], "not supported");
            self.accept_at(group, "failback", &["0"], "not supported");
            self.accept_at(group, "exclusive", &["0"], "not supported");
            groups.push(out);
        }
        if let Some(resources) = resources {
            for definition in &resources.children {
                if definition.tag == "types" {
                    continue;
                }
                let listed = CONVERTED.contains(&definition.tag.as_str())
                    && definition
                        .key
                        .as_ref()
                        .is_some_and(|name| grouped.contains(name));
                if !listed && !definition.used.get() {
                    let reason = if CONVERTED.contains(&definition.tag.as_str()) {
                        "the resource belongs to no group".to_string()
                    } else {
                        format!(
                            "resource type \"{}\" is not supported; this version has exec and fip resources",
                            definition.tag
                        )
                    };
                    self.report(definition, reason);
                }
            }
        }
        groups
    }

    pub(super) fn exec(&mut self, exec: &Element, name: &str) -> OutResource {
        exec.mark();
        let mut out = OutResource {
            name: name.to_string(),
            comment: exec.take_text("comment").filter(|c| !c.is_empty()),
            start: exec.take_text("parameters/act/path"),
            stop: exec.take_text("parameters/deact/path"),
            ..OutResource::default()
        };
        if let Some(sync) = exec.take("parameters/act/sync") {
            match sync.value() {
                "1" => out.mode = Some("sync"),
                "0" => out.mode = Some("async"),
                _ => self.report(sync, "not 0 or 1"),
            }
        }
        self.accept_at(
            exec,
            "parameters/deact/sync",
            &["1"],
            "stop scripts always run synchronously here",
        );
        out.timeout = self.integer(exec.take("parameters/timeout/start"));
        out.stop_timeout = self.integer(exec.take("parameters/timeout/stop"));
        for (path, reason) in [
            (
                "parameters/act/postrunothers",
                "runs on standby servers: one server here",
            ),
            (
                "parameters/deact/prerunothers",
                "runs on standby servers: one server here",
            ),
        ] {
            self.accept_at(exec, path, &["0"], reason);
        }
        // The overall activation/deactivation timeouts (script timeout + 180 s) add
        // nothing to the script's own timeout on one server.
        for (path, script_timeout) in [
            ("act/timeout", out.timeout),
            ("deact/timeout", out.stop_timeout),
        ] {
            if let Some(element) = exec.take(path) {
                let enough = element
                    .value()
                    .parse::<i64>()
                    .is_ok_and(|overall| overall >= script_timeout.unwrap_or(1800));
                if !enough {
                    self.report(
                        element,
                        "shorter than the script timeout; the script timeout alone applies here",
                    );
                }
            }
        }
        self.policies(exec, &mut out);
        out
    }

    /// A floating IP: `parameters/ip` (checked with the rest of the configuration).
    pub(super) fn fip(&mut self, fip: &Element, name: &str) -> OutResource {
        fip.mark();
        let mut out = OutResource {
            name: name.to_string(),
            kind: "fip",
            comment: fip.take_text("comment").filter(|c| !c.is_empty()),
            ..OutResource::default()
        };
        if let Some(ip) = fip.take_text("parameters/ip") {
            out.parameters
                .insert("ip".to_string(), toml::Value::String(ip));
        }
        self.policies(fip, &mut out);
        out
    }

    /// The activation and deactivation policies and the dependencies of any resource.
    fn policies(&mut self, resource: &Element, out: &mut OutResource) {
        out.activation.retry = self.integer(resource.take("act/retry"));
        out.activation.failover_threshold = self.integer(resource.take("act/fo"));
        out.activation.final_action = self.final_action(resource.take("act/action"), true);
        out.deactivation.retry = self.integer(resource.take("deact/retry"));
        out.deactivation.final_action = self.final_action(resource.take("deact/action"), true);
        for depend in resource.all("depend") {
            depend.mark();
            match &depend.key {
                Some(other) if !other.is_empty() => out.depends_on.push(other.clone()),
                _ => {}
            }
        }
    }

    pub(super) fn final_action(
        &mut self,
        element: Option<&Element>,
        resource: bool,
    ) -> Option<&'static str> {
        let element = element?;
        let mapped = if resource {
            resource_final_action(element.value())
        } else {
            monitor_final_action(element.value())
        };
        match mapped {
            Ok(word) => Some(word),
            Err(name) => {
                self.report(
                    element,
                    format!("final action {name} is not supported; the default applies"),
                );
                None
            }
        }
    }
}
