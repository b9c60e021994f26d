//! Writing the converted configuration as TOML, with the report of what was left out.

use std::fmt::{self, Write as _};

use super::Conversion;
use super::model::{Model, OutPolicy};

pub(super) fn quoted(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

pub(super) fn key(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare { name.to_string() } else { quoted(name) }
}

pub(super) fn line(out: &mut String, name: &str, value: impl fmt::Display) {
    let _ = writeln!(out, "{} = {value}", key(name));
}

pub(super) fn optional_text(out: &mut String, name: &str, value: &Option<String>) {
    if let Some(value) = value {
        line(out, name, quoted(value));
    }
}

pub(super) fn optional_number(out: &mut String, name: &str, value: Option<i64>) {
    if let Some(value) = value {
        line(out, name, value);
    }
}

pub(super) fn optional_word(out: &mut String, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        line(out, name, quoted(value));
    }
}

pub(super) fn write_table(out: &mut String, header: &str, table: &toml::Table) {
    let _ = writeln!(out, "[{header}]");
    for (name, value) in table {
        if !value.is_table() {
            line(out, name, value);
        }
    }
    for (name, value) in table {
        if let toml::Value::Table(inner) = value {
            write_table(out, &format!("{header}.{}", key(name)), inner);
        }
    }
}

pub(super) fn write_policy(out: &mut String, header: &str, policy: &OutPolicy) {
    if policy.is_empty() {
        return;
    }
    let _ = writeln!(out, "[{header}]");
    optional_number(out, "retry", policy.retry);
    optional_number(out, "failover_threshold", policy.failover_threshold);
    optional_word(out, "final_action", policy.final_action);
}

/// Text for a TOML comment: a control character (a newline above all, which would end the
/// comment and start a line of TOML) is written escaped.
pub(super) fn comment_text(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

pub(super) fn render(model: &Model, conversion: &Conversion, source: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Converted by clpcfctrl from the original product's {} ({}).",
        comment_text(source),
        conversion.encoding
    );
    if let Some(server) = &model.server {
        let _ = writeln!(out, "# Made for server \"{}\".", comment_text(server));
    }
    for note in &conversion.notes {
        let _ = writeln!(out, "# {}", comment_text(note));
    }
    if !conversion.unsupported.is_empty() {
        let _ = writeln!(out, "# Not carried over:");
        for item in &conversion.unsupported {
            let _ = writeln!(out, "#   {}", comment_text(&item.to_string()));
        }
    }
    out.push('\n');
    if model.cluster_name.is_some()
        || model.cluster_comment.is_some()
        || model.language.is_some()
        || model.disable_monitor_recovery.is_some()
    {
        out.push_str("[cluster]\n");
        optional_text(&mut out, "name", &model.cluster_name);
        optional_text(&mut out, "comment", &model.cluster_comment);
        optional_word(&mut out, "language", model.language);
        if let Some(disabled) = model.disable_monitor_recovery {
            line(&mut out, "disable_monitor_recovery", disabled);
        }
        out.push('\n');
    }
    if !model.webmanager_allow.is_empty() {
        out.push_str("[webmanager]\n");
        let list: Vec<String> = model.webmanager_allow.iter().map(|a| quoted(a)).collect();
        line(&mut out, "allow", format!("[{}]", list.join(", ")));
        out.push('\n');
    }
    if model.server.is_some() {
        out.push_str("[[server]]\n");
        optional_text(&mut out, "name", &model.server);
        optional_text(&mut out, "comment", &model.server_comment);
        out.push('\n');
    }
    for group in &model.groups {
        out.push_str("[[group]]\n");
        line(&mut out, "name", quoted(&group.name));
        optional_text(&mut out, "comment", &group.comment);
        if let Some(auto_start) = group.auto_start {
            line(&mut out, "auto_start", auto_start);
        }
        out.push('\n');
        for resource in &group.resources {
            out.push_str("[[group.resource]]\n");
            line(&mut out, "name", quoted(&resource.name));
            let kind = if resource.kind.is_empty() {
                "exec"
            } else {
                resource.kind
            };
            line(&mut out, "type", quoted(kind));
            optional_text(&mut out, "comment", &resource.comment);
            optional_word(&mut out, "mode", resource.mode);
            optional_text(&mut out, "start", &resource.start);
            optional_text(&mut out, "stop", &resource.stop);
            optional_number(&mut out, "timeout", resource.timeout);
            optional_number(&mut out, "stop_timeout", resource.stop_timeout);
            if !resource.depends_on.is_empty() {
                let list: Vec<String> = resource.depends_on.iter().map(|d| quoted(d)).collect();
                line(&mut out, "depends_on", format!("[{}]", list.join(", ")));
            }
            if !resource.parameters.is_empty() {
                write_table(&mut out, "group.resource.parameters", &resource.parameters);
            }
            write_policy(&mut out, "group.resource.activation", &resource.activation);
            write_policy(
                &mut out,
                "group.resource.deactivation",
                &resource.deactivation,
            );
            out.push('\n');
        }
    }
    for monitor in &model.monitors {
        out.push_str("[[monitor]]\n");
        line(&mut out, "name", quoted(&monitor.name));
        line(&mut out, "type", quoted(&monitor.kind));
        optional_text(&mut out, "comment", &monitor.comment);
        optional_text(&mut out, "target", &monitor.target);
        optional_number(&mut out, "interval", monitor.interval);
        optional_number(&mut out, "timeout", monitor.timeout);
        optional_number(&mut out, "retry", monitor.retry);
        optional_number(&mut out, "wait_before_start", monitor.wait_before_start);
        optional_word(&mut out, "timing", monitor.timing);
        if !monitor.parameters.is_empty() {
            write_table(&mut out, "monitor.parameters", &monitor.parameters);
        }
        let recovery = &monitor.recovery;
        if recovery.target.is_some()
            || recovery.reactivation_threshold.is_some()
            || recovery.failover_threshold.is_some()
            || recovery.final_action.is_some()
        {
            out.push_str("[monitor.recovery]\n");
            optional_text(&mut out, "target", &recovery.target);
            optional_number(
                &mut out,
                "reactivation_threshold",
                recovery.reactivation_threshold,
            );
            optional_number(&mut out, "failover_threshold", recovery.failover_threshold);
            optional_word(&mut out, "final_action", recovery.final_action);
        }
        out.push('\n');
    }
    out
}
