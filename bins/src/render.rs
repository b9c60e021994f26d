//! The text layouts the original product prints, column for column. Scripts in the field
//! parse these, so every change shows in the snapshot tests.

use std::fmt::Write;

use clp_core::config::Config;
use clp_core::license::{self, License, LicenseState};
use clp_core::status::{MonitorState, StatusSummary};

/// The width of the rules, after their leading space.
const RULE: usize = 69;

/// ` =====  TITLE  =====`, 69 characters after the leading space, the title centred as the
/// original centres it.
pub fn header(title: &str) -> String {
    let inner = format!("  {title}  ");
    // The original's rules are hand-drawn, not centred by a formula: keep its offsets.
    let left = match title {
        "CLUSTER STATUS" => 24,
        "GROUPMAP INFORMATION" => 22,
        "CLUSTER INFORMATION" => 23,
        _ => (RULE - inner.len()) / 2,
    };
    let right = RULE - inner.len() - left;
    format!(" {}{inner}{}", "=".repeat(left), "=".repeat(right))
}

/// The closing rule.
pub fn footer() -> String {
    format!(" {}", "=".repeat(RULE))
}

/// A name in a field of `width`: cut to `width - 1`, then a space, then `fill` to the end.
#[cfg(test)]
fn field(name: &str, width: usize, fill: char, cut: bool) -> String {
    let mut out = String::new();
    push_field(&mut out, name, width, fill, cut);
    out
}

/// Appends `name` in a field of `width` to `out`: cut to `width - 1` characters (when
/// `cut`), then a space, then `fill` (`.` or a blank) to the end of the field.
fn push_field(out: &mut String, name: &str, width: usize, fill: char, cut: bool) {
    let mut used = 1;
    if cut && name.len() >= width {
        // Maybe longer than the field (in characters): cut.
        for c in name.chars().take(width - 1) {
            out.push(c);
            used += 1;
        }
    } else {
        out.push_str(name);
        used += name.chars().count();
    }
    out.push(' ');
    let fill = if fill == '.' { '.' } else { ' ' };
    for _ in used..width {
        out.push(fill);
    }
}

/// Appends `status` padded to 17, then the comment (nothing after the status when there is
/// no comment).
fn push_status_and_comment(out: &mut String, status: &str, comment: &str) {
    out.push_str(status);
    if !comment.is_empty() {
        for _ in status.chars().count()..17 {
            out.push(' ');
        }
        out.push_str(comment);
    }
}

/// Ends the line that began at `start` in `text`: no trailing blanks, a newline.
fn end_line(text: &mut String, start: usize) {
    let kept = text[start..].trim_end().len();
    text.truncate(start + kept);
    text.push('\n');
}

/// Appends one line of `indent`, a name field and a status with its comment.
#[allow(clippy::too_many_arguments)]
fn push_item(
    text: &mut String,
    indent: &str,
    name: &str,
    width: usize,
    fill: char,
    cut: bool,
    status: &str,
    comment: &str,
) {
    let start = text.len();
    text.push_str(indent);
    push_field(text, name, width, fill, cut);
    text.push_str(": ");
    push_status_and_comment(text, status, comment);
    end_line(text, start);
}

/// The widths of the name fields: (server/group/monitor, sub-items).
fn widths(long: bool) -> (usize, usize) {
    if long { (34, 32) } else { (17, 15) }
}

/// `clpstat` (and `-s`): the cluster status.
pub fn cluster_status(status: &StatusSummary<'_>, long: bool) -> String {
    let (wide, narrow) = widths(long);
    let cut = !long;
    // Written straight into one string (at 1,000 monitors, ~1,800 lines): a line is ~50
    // bytes, a group three lines or more.
    let lines = 16 + status.monitors.len() + 3 * status.groups.len();
    let mut text = String::with_capacity(lines * 56);
    let line = |text: &mut String, s: &str| {
        text.push_str(s.trim_end());
        text.push('\n');
    };
    line(&mut text, &header("CLUSTER STATUS"));
    line(&mut text, &format!("  Cluster : {}", status.cluster));
    line(&mut text, "  <server>");
    // An HA cluster lists every server, `*` on this one; one server is just this one.
    let servers = match &status.ha {
        Some(ha) => ha.servers.as_slice(),
        None => std::slice::from_ref(&status.server),
    };
    for server in servers {
        let mark = if clp_core::config::same_host(&server.name, &status.server.name) {
            "   *"
        } else {
            "    "
        };
        let (name, state, comment) = (&server.name, server.status.as_str(), &server.comment);
        push_item(&mut text, mark, name, wide, '.', cut, state, comment);
        let heartbeat = &server.heartbeat;
        let (name, state, comment) = (&heartbeat.name, &heartbeat.status, &heartbeat.comment);
        push_item(&mut text, "      ", name, narrow, ' ', cut, state, comment);
    }
    line(&mut text, "  <group>");
    for group in &status.groups {
        let (name, state, comment) = (&group.name, group.status.as_str(), &group.comment);
        push_item(&mut text, "    ", name, wide, '.', cut, state, comment);
        let current = group.current.as_deref().unwrap_or("None");
        push_item(
            &mut text, "      ", "current", narrow, ' ', cut, current, "",
        );
        for resource in &group.resources {
            let (name, state) = (&resource.name, resource.status.as_str());
            push_item(
                &mut text,
                "      ",
                name,
                narrow,
                ' ',
                cut,
                state,
                &resource.comment,
            );
        }
    }
    line(&mut text, "  <monitor>");
    for monitor in &status.monitors {
        let state = monitor.status.as_str();
        if monitor.dummy_failure {
            let comment = format!("[dummy failure] {}", monitor.comment);
            push_item(
                &mut text,
                "    ",
                &monitor.name,
                wide,
                ' ',
                cut,
                state,
                &comment,
            );
        } else {
            let comment = &monitor.comment;
            push_item(
                &mut text,
                "    ",
                &monitor.name,
                wide,
                ' ',
                cut,
                state,
                comment,
            );
        }
    }
    if let Some(problem) = &status.alert_log_problem {
        line(&mut text, "  <alert log>");
        line(&mut text, &format!("    Error: {problem}"));
    }
    if let Some(ha) = &status.ha
        && (ha.problem.is_some() || ha.alerts_not_copied > 0)
    {
        line(&mut text, "  <cluster>");
        if let Some(problem) = &ha.problem {
            line(&mut text, &format!("    Error: {problem}"));
        }
        if ha.alerts_not_copied > 0 {
            line(
                &mut text,
                &format!(
                    "    Warning: {} alerts of this server were not copied to the other servers (etcd did not take them); this server's alert log has them",
                    ha.alerts_not_copied
                ),
            );
        }
    }
    line(&mut text, &footer());
    text
}

/// `clpstat -g`: the group map.
pub fn group_map(status: &StatusSummary<'_>) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "{}", header("GROUPMAP INFORMATION"));
    let _ = writeln!(text, "  Cluster : {}", status.cluster);
    let _ = writeln!(text, "   *server0 : {}", status.server.name);
    let _ = writeln!(text);
    let _ = writeln!(text, "  {}", "-".repeat(RULE - 1));
    let groups: Vec<String> = status
        .groups
        .iter()
        .filter(|g| g.current.is_some())
        .map(|g| format!("{}[{}]", g.name, g.status.letter()))
        .collect();
    let line = format!(
        "    server0 [{}] : {}",
        status.server.status.letter(),
        groups.join("  ")
    );
    let _ = writeln!(text, "{}", line.trim_end());
    let _ = writeln!(text, "{}", footer());
    text
}

/// `clpstat -m`: each monitor and its status on the server.
pub fn monitor_map(status: &StatusSummary<'_>) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "{}", header("MONITOR RESOURCE STATUS"));
    let _ = writeln!(text, "  Cluster : {}", status.cluster);
    let _ = writeln!(text, "   *server0 : {}", status.server.name);
    for (index, monitor) in status.monitors.iter().enumerate() {
        let _ = writeln!(text);
        let _ = writeln!(
            text,
            "  Monitor{index} [{} : {}]",
            monitor.name,
            monitor.status.as_str()
        );
        let _ = writeln!(text, "  {}", "-".repeat(RULE - 1));
        let _ = writeln!(
            text,
            "    server0 [{}] : {}",
            status.server.status.letter(),
            monitor.status.as_str()
        );
    }
    let _ = writeln!(text, "{}", footer());
    text
}

/// `clpstat -n` (and its `--json`): what each server sees of every server's heartbeats.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HeartbeatMatrix {
    /// The cluster's name.
    pub cluster: String,
    /// Every server (`server<N>` is its index), in the configuration's order.
    pub servers: Vec<String>,
    /// The index of the server that answered (`*`).
    pub local: usize,
    /// The heartbeats (`HB<N>`): the etcd lease plays `lanhb1`.
    pub heartbeats: Vec<String>,
    /// One block per server: what it sees.
    pub blocks: Vec<HeartbeatBlock>,
}

/// What one server sees of every server's heartbeats (`[on server<N> : <status>]`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HeartbeatBlock {
    /// The server whose view this is.
    pub server: String,
    /// Its status as the answering server sees it.
    pub status: String,
    /// Per server (in order): per heartbeat, `o` heard, `x` not heard, `-` not known.
    pub rows: Vec<Vec<char>>,
}

/// The heartbeat matrix of `status`. The answering server's block is its own view; another
/// Online server's is what it published in etcd that it hears (`ha.heard`: `o` for a
/// server it hears, `x` for one it does not), or, from a clppm that publishes nothing,
/// the answering server's view (every Online server watches the same leases); a server
/// not Online sees nothing the answering server can know (`-`).
pub fn heartbeat_matrix(status: &StatusSummary<'_>) -> HeartbeatMatrix {
    let servers = match &status.ha {
        Some(ha) => ha.servers.as_slice(),
        None => std::slice::from_ref(&status.server),
    };
    let heard: Vec<char> = servers
        .iter()
        .map(|server| match server.heartbeat.status.as_str() {
            "Normal" => 'o',
            "Offline" => 'x',
            _ => '-',
        })
        .collect();
    let published = |server: &str| {
        let local = clp_core::config::same_host(server, &status.server.name);
        status
            .ha
            .as_ref()
            .and_then(|ha| ha.heard.get(&server.to_ascii_lowercase()))
            .filter(|_| !local)
    };
    let blocks = servers
        .iter()
        .map(|server| {
            let online = server.status == clp_core::status::ObjectStatus::Online;
            let hears = published(&server.name);
            HeartbeatBlock {
                server: server.name.clone(),
                status: server.status.as_str().to_string(),
                rows: servers
                    .iter()
                    .zip(&heard)
                    .map(|(other, &seen)| {
                        vec![match hears {
                            _ if !online => '-',
                            Some(hears)
                                if hears.iter().any(|h| h.eq_ignore_ascii_case(&other.name)) =>
                            {
                                'o'
                            }
                            Some(_) => 'x',
                            None => seen,
                        }]
                    })
                    .collect(),
            }
        })
        .collect();
    HeartbeatMatrix {
        cluster: status.cluster.to_string(),
        servers: servers.iter().map(|s| s.name.clone()).collect(),
        local: servers
            .iter()
            .position(|s| clp_core::config::same_host(&s.name, &status.server.name))
            .unwrap_or(0),
        heartbeats: vec![status.server.heartbeat.name.clone()],
        blocks,
    }
}

/// `clpstat -n`: the heartbeat matrix, a block per server.
pub fn heartbeat_map(matrix: &HeartbeatMatrix) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "{}", header("HEARTBEAT RESOURCE STATUS"));
    let _ = writeln!(text, "  Cluster : {}", matrix.cluster);
    for (index, server) in matrix.servers.iter().enumerate() {
        let mark = if index == matrix.local { '*' } else { ' ' };
        let _ = writeln!(text, "   {mark}server{index} : {server}");
    }
    for (index, heartbeat) in matrix.heartbeats.iter().enumerate() {
        let _ = writeln!(text, "  HB{index} : {heartbeat}");
    }
    let columns: String = (0..matrix.heartbeats.len())
        .map(|index| format!("{index:>5}"))
        .collect();
    for (index, block) in matrix.blocks.iter().enumerate() {
        let _ = writeln!(text);
        let _ = writeln!(text, "  [on server{index} : {}]", block.status);
        let _ = writeln!(text, "{:>12}{columns}", "HB");
        let _ = writeln!(text, "  {}", "-".repeat(RULE - 1));
        for (row, seen) in block.rows.iter().enumerate() {
            let cells: String = seen.iter().map(|cell| format!("{cell:>5}")).collect();
            let _ = writeln!(text, "  {:<9}:{cells}", format!("server{row}"));
        }
    }
    let _ = writeln!(text, "{}", footer());
    text
}

/// The column where `clpstat -i` puts its colons.
const LABEL_WIDTH: usize = 52;

fn item(text: &mut String, indent: usize, label: &str, value: &str) {
    let pad = LABEL_WIDTH.saturating_sub(indent);
    let line = format!("{}{label:<pad$}: {value}", " ".repeat(indent));
    let _ = writeln!(text, "{}", line.trim_end());
}

/// `clpstat -i`'s rule: flush left, 69 wide, as in the original's captures (the status
/// layouts' rules have a leading space; this one has none).
fn info_rule(title: &str) -> String {
    header(title).trim_start().to_string()
}

/// `clpstat -i`'s closing rule, flush left.
fn info_footer() -> String {
    footer().trim_start().to_string()
}

/// One `Label : value` line of `clpstat -i`. The original's captures put the colon at column
/// 57 for a line indented 2 (`--hb`) and at 61 for one indented 4 (`--mon`, `--cl
/// --detail`): 53 plus twice the indent.
fn info_item(text: &mut String, indent: usize, label: &str, value: &str) {
    let pad = 53 + indent;
    let line = format!("{}{label:<pad$}: {value}", " ".repeat(indent));
    let _ = writeln!(text, "{}", line.trim_end());
}

fn secs(duration: std::time::Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0}")
    } else {
        format!("{secs}")
    }
}

fn on_off(value: bool) -> &'static str {
    if value { "On" } else { "Off" }
}

/// What `clpstat -i` shows: everything, or one kind of object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InfoScope {
    /// `-i`: everything.
    All,
    /// `--cl`.
    Cluster,
    /// `--sv`.
    Server,
    /// `--hb`.
    Heartbeat,
    /// `--grp`.
    Group,
    /// `--rsc`.
    Resource,
    /// `--mon`.
    Monitor,
}

/// `clpstat -i` and `--cl/--sv/--hb/--grp/--rsc/--mon [NAME]` with optional `--detail`.
pub fn configuration(
    config: &Config,
    scope: InfoScope,
    name: Option<&str>,
    detail: bool,
) -> String {
    let show = |wanted: InfoScope| scope == InfoScope::All || scope == wanted;
    let named = |object: &str| name.is_none_or(|n| n == object);
    let mut text = String::new();
    let _ = writeln!(text, "{}", info_rule("CLUSTER INFORMATION"));
    if show(InfoScope::Cluster) {
        let _ = writeln!(text, "[Cluster Name: {}]", config.cluster.name);
        info_item(&mut text, 4, "Comment", &config.cluster.comment);
        if detail {
            info_item(&mut text, 4, "Language", &config.cluster.language);
            info_item(
                &mut text,
                4,
                "Max Alert Records",
                &config.alert.max_records.to_string(),
            );
            info_item(&mut text, 4, "Alert To Syslog", on_off(config.alert.syslog));
            info_item(
                &mut text,
                4,
                "Disable Recovery Action Caused By Monitor Error",
                on_off(config.cluster.disable_monitor_recovery),
            );
            info_item(
                &mut text,
                4,
                "Monitor Delay Warning Rate (%)",
                &config.cluster.monitor_delay_warning.to_string(),
            );
            info_item(
                &mut text,
                4,
                "Shutdown Command",
                &config.os_actions.shutdown.join(" "),
            );
            info_item(
                &mut text,
                4,
                "Reboot Command",
                &config.os_actions.reboot.join(" "),
            );
            info_item(
                &mut text,
                4,
                "Sysrq Trigger",
                &config.os_actions.sysrq_trigger.display().to_string(),
            );
            info_item(
                &mut text,
                4,
                "Watchdog Device",
                &config.os_actions.watchdog_device.display().to_string(),
            );
        }
    }
    let server = config.server_name();
    if show(InfoScope::Server) && name.is_none_or(|n| clp_core::config::same_host(n, &server)) {
        let _ = writeln!(text, "[Server0 : {server}]");
        info_item(&mut text, 2, "Comment", config.server_comment());
        info_item(&mut text, 2, "Priority", "0");
    }
    if show(InfoScope::Heartbeat) && named("lanhb1") {
        let _ = writeln!(text, "[HB0 : lanhb1]");
        info_item(&mut text, 2, "Type", "lanhb");
        info_item(&mut text, 2, "Comment", "LAN Heartbeat");
    }
    for (index, group) in config.groups.iter().enumerate() {
        let group_selected = show(InfoScope::Group) && named(&group.name);
        if group_selected {
            let _ = writeln!(text, "[Group{index} : {}]", group.name);
            info_item(&mut text, 2, "Type", "failover");
            info_item(&mut text, 2, "Comment", &group.comment);
            if detail {
                info_item(
                    &mut text,
                    2,
                    "Startup Attribute",
                    if group.auto_start {
                        "Auto Startup"
                    } else {
                        "Manual Startup"
                    },
                );
            }
        }
        for (position, resource) in group.resources.iter().enumerate() {
            let selected =
                group_selected || (scope == InfoScope::Resource && named(&resource.name));
            if !selected {
                continue;
            }
            let _ = writeln!(text, "  [Resource{position} : {}]", resource.name);
            info_item(&mut text, 4, "Type", &resource.kind);
            info_item(&mut text, 4, "Comment", &resource.comment);
            if detail && resource.is_floating_ip() {
                let address = resource
                    .parameters
                    .get("ip")
                    .and_then(|ip| ip.as_str())
                    .unwrap_or_default();
                info_item(&mut text, 4, "IP Address", address);
            }
            if detail {
                if !resource.is_floating_ip() {
                    info_item(
                        &mut text,
                        4,
                        "Start Script",
                        &resource.start.display().to_string(),
                    );
                    info_item(
                        &mut text,
                        4,
                        "Stop Script",
                        &resource
                            .stop
                            .as_ref()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default(),
                    );
                    info_item(
                        &mut text,
                        4,
                        "Start Type",
                        if resource.mode == clp_core::config::ExecMode::Async {
                            "Asynchronous"
                        } else {
                            "Synchronous"
                        },
                    );
                    info_item(
                        &mut text,
                        4,
                        "Start Script Timeout (sec)",
                        &secs(resource.timeout),
                    );
                    info_item(
                        &mut text,
                        4,
                        "Stop Script Timeout (sec)",
                        &secs(resource.stop_timeout),
                    );
                }
                info_item(&mut text, 4, "Dependency", &resource.depends_on.join(", "));
                info_item(
                    &mut text,
                    4,
                    "Retry Count at Activation Failure",
                    &resource.activation.retry.to_string(),
                );
                info_item(
                    &mut text,
                    4,
                    "Failover Threshold",
                    &resource.activation.failover_threshold.to_string(),
                );
                info_item(
                    &mut text,
                    4,
                    "Final Action at Activation Failure",
                    resource.activation.final_action.label(),
                );
                info_item(
                    &mut text,
                    4,
                    "Retry Count at Deactivation Failure",
                    &resource.deactivation.retry.to_string(),
                );
                info_item(
                    &mut text,
                    4,
                    "Final Action at Deactivation Failure",
                    resource.deactivation.final_action.label(),
                );
            }
        }
    }
    if show(InfoScope::Monitor) {
        for (index, monitor) in config
            .monitors
            .iter()
            .enumerate()
            .filter(|(_, m)| named(&m.name))
        {
            let _ = writeln!(text, "[Monitor{index} : {}]", monitor.name);
            info_item(&mut text, 4, "Type", &monitor.kind);
            info_item(&mut text, 4, "Comment", &monitor.comment);
            if detail {
                info_item(
                    &mut text,
                    4,
                    "Monitor Timing",
                    match monitor.timing {
                        clp_core::config::Timing::Always => "Always",
                        clp_core::config::Timing::Active => "Active",
                    },
                );
                info_item(
                    &mut text,
                    4,
                    "Target Resource",
                    monitor.target.as_deref().unwrap_or(""),
                );
                info_item(&mut text, 4, "Interval (sec)", &secs(monitor.interval));
                info_item(&mut text, 4, "Timeout (sec)", &secs(monitor.timeout));
                info_item(&mut text, 4, "Retry Count", &monitor.retry.to_string());
                info_item(
                    &mut text,
                    4,
                    "Wait Time to Start Monitoring (sec)",
                    &secs(monitor.wait_before_start),
                );
                info_item(&mut text, 4, "Nice Value", &monitor.nice.to_string());
                info_item(
                    &mut text,
                    4,
                    "Recovery Target",
                    monitor.recovery.target.display_name(),
                );
                info_item(
                    &mut text,
                    4,
                    "Reactivation Threshold",
                    &monitor.recovery.reactivation_threshold.to_string(),
                );
                info_item(
                    &mut text,
                    4,
                    "Failover Threshold",
                    &monitor.recovery.failover_threshold.to_string(),
                );
                info_item(
                    &mut text,
                    4,
                    "Final Action",
                    monitor.recovery.final_action.label(),
                );
                for (key, value) in monitor.shown_parameters() {
                    info_item(&mut text, 4, &format!("Parameter {key}"), &value);
                }
            }
        }
    }
    let _ = writeln!(text, "{}", info_footer());
    text
}

/// `clpmonctrl -v`: the recovery counters, one block per monitor (`Resource : NAME`, so
/// `grep Resource | awk '{print $3}'` lists the monitors as with the original).
pub fn counters(monitors: &[MonitorState]) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "{}", header("MONITOR RESOURCE COUNTERS"));
    for monitor in monitors {
        let _ = writeln!(text, "  Resource : {}", monitor.name);
        item(&mut text, 4, "Type", &monitor.kind);
        item(&mut text, 4, "Status", monitor.status.as_str());
        item(&mut text, 4, "Recovery Target", &monitor.recovery_target);
        item(
            &mut text,
            4,
            "Reactivation Count",
            &format!(
                "{} / {}",
                monitor.reactivations, monitor.reactivation_threshold
            ),
        );
        item(
            &mut text,
            4,
            "Failover Count",
            &format!("{} / {}", monitor.failovers, monitor.failover_threshold),
        );
        item(
            &mut text,
            4,
            "Final Action Count",
            &format!(
                "{} / 1 ({})",
                u8::from(monitor.final_action_done),
                monitor.final_action
            ),
        );
    }
    let _ = writeln!(text, "{}", footer());
    text
}

/// One license as `clplcncs -l` lists it: product, name, serial, user, count, dates, state.
pub fn license_listing(license: &License, state: LicenseState) -> String {
    let name = license::product(&license.product).map_or("Unknown License", |p| p.name);
    let trial = license.kind == license::LicenseKind::Trial;
    let mut text = format!(
        "----- {}{} -----\n< {name}{} >\n",
        license.product,
        if trial { " TRIAL" } else { "" },
        if trial { " <TRIAL>" } else { "" }
    );
    text.push_str(&format!("  Serial No..... {}\n", license.serial));
    text.push_str(&format!("  User name..... {}\n", license.user));
    text.push_str(&format!("  Count..... {}\n", license.count));
    text.push_str(&format!(
        "  Start date..... {}\n",
        license.start.format("%Y/%m/%d")
    ));
    if let Some(end) = license.end {
        text.push_str(&format!("  End date..... {}\n", end.format("%Y/%m/%d")));
    }
    text.push_str(&format!("  Status..... {}\n", state.as_str()));
    text
}

/// Every license as `clplcncs -l` lists them, each with its `state`.
pub fn license_list(licenses: &[License], state: impl Fn(&License) -> LicenseState) -> String {
    licenses
        .iter()
        .map(|license| license_listing(license, state(license)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clp_core::status::ClusterStatus;

    /// What the text layouts read of `status`.
    fn summary(status: &ClusterStatus) -> StatusSummary<'_> {
        StatusSummary::from(status)
    }

    /// A three-server cluster seen from node1: node2 Offline, node3 not known (or nobody,
    /// with a `problem`).
    fn cluster_of_three(problem: Option<&str>) -> ClusterStatus {
        use clp_cluster::{Presence, View};
        let config = clp_core::config::parse_str(
            "[cluster]\nname = \"ha\"\n[[server]]\nname = \"node1\"\ncomment = \"first\"\n[[server]]\nname = \"node2-with-a-long-name\"\n[[server]]\nname = \"node3\"\n[etcd]\nendpoints = [\"http://192.0.2.11:2379\"]\n[[group]]\nname = \"web\"\n",
            std::path::Path::new("/nonexistent"),
        )
        .unwrap();
        let mut status = clp_core::status::offline_status(&config, None);
        status.server.name = "node1".into();
        status.server.status = clp_core::status::ObjectStatus::Online;
        let names: Vec<String> = config.servers.iter().map(|s| s.name.clone()).collect();
        let view = match problem {
            Some(problem) => View::unknown(&names, problem),
            None => View {
                servers: vec![
                    (names[0].clone(), Presence::Online),
                    (names[1].clone(), Presence::Offline),
                    (names[2].clone(), Presence::Unknown),
                ],
                problem: None,
                heard: Default::default(),
            },
        };
        status.ha = Some(Box::new(clp_core::membership::servers_view(
            &config, "node1", &view,
        )));
        status
    }

    #[test]
    fn a_cluster_lists_every_server_with_its_heartbeat() {
        insta::assert_snapshot!(cluster_status(&summary(&cluster_of_three(None)), false));
    }

    #[test]
    fn a_cluster_shows_each_groups_current_server_on_every_server() {
        // Seen from node1, the group owned by node3 in etcd: its current server is node3.
        let mut status = cluster_of_three(None);
        status.groups[0].current = Some("node3".into());
        insta::assert_snapshot!(cluster_status(&summary(&status), false));
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(json["groups"][0]["current"], "node3");
    }

    #[test]
    fn another_servers_block_is_what_it_published_that_it_hears() {
        let mut status = cluster_of_three(None);
        let ha = status.ha.as_mut().unwrap();
        ha.servers[2].status = clp_core::status::ObjectStatus::Online;
        ha.servers[2].heartbeat.status = "Normal".into();
        // node3 says it hears only itself (node1 sees it: its lease lives).
        ha.heard.insert("node3".into(), vec!["node3".into()]);
        // What node1 said of itself is not read: its own view is.
        ha.heard.insert("node1".into(), Vec::new());
        let json = serde_json::to_value(heartbeat_matrix(&summary(&status))).unwrap();
        assert_eq!(
            json["blocks"][0]["rows"],
            serde_json::json!([["o"], ["x"], ["o"]])
        );
        assert_eq!(
            json["blocks"][1]["rows"],
            serde_json::json!([["-"], ["-"], ["-"]])
        );
        assert_eq!(
            json["blocks"][2]["rows"],
            serde_json::json!([["x"], ["x"], ["o"]])
        );
        // Without what node3 published: inferred from node1's view.
        status.ha.as_mut().unwrap().heard.clear();
        let json = serde_json::to_value(heartbeat_matrix(&summary(&status))).unwrap();
        assert_eq!(json["blocks"][2]["rows"], json["blocks"][0]["rows"]);
    }

    #[test]
    fn the_heartbeat_matrix_shows_what_each_server_sees() {
        // node1 answers: node2 Offline (its lease gone), node3 not known.
        let matrix = heartbeat_matrix(&summary(&cluster_of_three(None)));
        insta::assert_snapshot!(heartbeat_map(&matrix));
        let json = serde_json::to_value(&matrix).unwrap();
        assert_eq!(
            json["blocks"][0]["rows"],
            serde_json::json!([["o"], ["x"], ["-"]])
        );
        assert_eq!(json["blocks"][1]["status"], "Offline");
        assert_eq!(json["local"], 0);
    }

    #[test]
    fn the_heartbeat_matrix_without_etcd_knows_nobody() {
        let matrix = heartbeat_matrix(&summary(&cluster_of_three(Some("etcd cannot be reached"))));
        insta::assert_snapshot!(heartbeat_map(&matrix));
    }

    #[test]
    fn on_one_server_the_heartbeat_matrix_is_one_block() {
        let config = clp_core::config::parse_str("", std::path::Path::new("/nonexistent")).unwrap();
        let mut status = clp_core::status::offline_status(&config, None);
        status.server.name = "server1".into();
        status.server.status = clp_core::status::ObjectStatus::Online;
        status.server.heartbeat.status = "Normal".into();
        insta::assert_snapshot!(heartbeat_map(&heartbeat_matrix(&summary(&status))));
    }

    #[test]
    fn a_cluster_that_cannot_reach_etcd_says_so() {
        let status = cluster_of_three(Some(
            "etcd cannot be reached at http://192.0.2.11:2379: connection refused",
        ));
        insta::assert_snapshot!(cluster_status(&summary(&status), true));
    }

    #[test]
    fn rules_are_69_wide_after_the_leading_space() {
        assert_eq!(
            header("CLUSTER STATUS"),
            " ========================  CLUSTER STATUS  ==========================="
        );
        assert_eq!(footer().len(), 70);
        assert_eq!(
            header("CLUSTER INFORMATION"),
            " =======================  CLUSTER INFORMATION  ======================="
        );
        assert_eq!(
            info_rule("CLUSTER INFORMATION"),
            "=======================  CLUSTER INFORMATION  ======================="
        );
        assert_eq!(info_footer().len(), 69);
        assert_eq!(
            header("GROUPMAP INFORMATION"),
            " ======================  GROUPMAP INFORMATION  ======================="
        );
    }

    #[test]
    fn info_values_sit_where_the_originals_captures_put_them() {
        // `clpstat --hb` and `clpstat --mon userw` of the original (EXPRESSCLUSTER/Tools).
        let mut text = String::new();
        info_item(&mut text, 2, "Type", "lanhb");
        info_item(&mut text, 4, "Use HB interval and timeout", "On");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "  Type                                                   : lanhb"
        );
        assert_eq!(
            lines[1],
            "    Use HB interval and timeout                              : On"
        );
        assert_eq!(lines[0].find(':'), Some(57));
        assert_eq!(lines[1].find(':'), Some(61));
    }

    #[test]
    fn names_are_cut_at_16_and_dot_filled() {
        assert_eq!(field("zabi", 17, '.', true), "zabi ............");
        assert_eq!(
            field("container-recovery", 17, '.', true),
            "container-recove "
        );
        assert_eq!(field("mariadb-sss-0", 17, '.', true), "mariadb-sss-0 ...");
        assert_eq!(field("current", 15, ' ', true), "current        ");
    }

    #[test]
    fn licenses_are_listed_as_clplcncs_lists_them() {
        let date = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let product = License {
            serial: "XSS1000001".into(),
            kind: license::LicenseKind::Product,
            product: "XSS10".into(),
            count: 1,
            start: date(2026, 1, 2),
            end: None,
            user: "ops".into(),
            key: "secret".into(),
        };
        let trial = License {
            serial: "TRIAL-ALRT10".into(),
            kind: license::LicenseKind::Trial,
            product: "ALRT10".into(),
            end: Some(date(2026, 2, 1)),
            ..product.clone()
        };
        let states = [LicenseState::Valid, LicenseState::Expired];
        let text = license_list(&[product, trial], |l| {
            states[usize::from(l.kind == license::LicenseKind::Trial)]
        });
        insta::assert_snapshot!(text);
    }
}
