//! The keeper's sweep: after it killed what clppm registered, every process-group leader
//! whose environment says it is a resource script of this root (`CLP_ROOT=<root>` and a
//! `CLP_RESOURCENAME`) goes too — what clppm started but had not yet told (it died between
//! the spawn and the line), and start or stop scripts in flight. The same environment marks
//! the processes a restarted clppm adopts. Reads `/proc` and allocates: it runs only when
//! the keeper kills.

/// Kills (SIGKILL) the process group of every resource script of `root` but those `killed`
/// already; the groups it killed.
pub fn sweep(root: &str, killed_already: &[i32]) -> Vec<i32> {
    let mut killed = Vec::new();
    let Ok(pids) = clp_core::process::pids() else {
        return killed;
    };
    let me = std::process::id();
    let wanted_root = format!("{}={root}", clp_core::paths::ROOT_ENV);
    for pid in pids {
        let Ok(pid) = i32::try_from(pid) else {
            continue;
        };
        if pid <= 1
            || u32::try_from(pid) == Ok(me)
            || killed_already.contains(&pid)
            || !leads_its_group(pid)
        {
            continue;
        }
        let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        let mut has_root = false;
        let mut has_resource = false;
        for variable in environ.split(|byte| *byte == 0) {
            has_root |= variable == wanted_root.as_bytes();
            has_resource |= variable.starts_with(b"CLP_RESOURCENAME=");
        }
        if has_root && has_resource {
            // SAFETY: kill takes two integers; -pid names the group this process leads.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
            killed.push(pid);
        }
    }
    killed
}

/// Whether `pid` runs (is no zombie) and leads its process group (`/proc/PID/stat`).
fn leads_its_group(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let Some(rest) = stat.rfind(')').map(|end| &stat[end + 1..]) else {
        return false;
    };
    // After the command: state, ppid, pgrp.
    let mut fields = rest.split_whitespace();
    let state = fields.next();
    let pgrp = fields.nth(1).and_then(|field| field.parse::<i32>().ok());
    state != Some("Z") && pgrp == Some(pid)
}
