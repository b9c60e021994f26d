//! The name an upload gets on the FTP server: the server's name and the collection's time
//! in it, so that a nightly `clplogcc && clp_mlftp` keeps every night's tarball instead of
//! replacing yesterday's.

use chrono::{DateTime, Local};

/// The extensions kept whole at the end of a name (`vm-log.tar.gz` → `vm-log` + `.tar.gz`).
const EXTENSIONS: &[&str] = &[".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst", ".tgz", ".tar"];

/// `file_name` with `server` (unless the name already starts with it) and `time` in it:
/// `vm-log.tar.gz` of server `vm` collected at 2026-12-03 03:15:00 becomes
/// `vm-log-20261203-031500.tar.gz`; `notes.txt` becomes `vm-notes-20261203-031500.txt`.
pub fn history_name(file_name: &str, server: &str, time: DateTime<Local>) -> String {
    let lower = file_name.to_ascii_lowercase();
    let split = EXTENSIONS
        .iter()
        .find(|extension| lower.ends_with(*extension) && lower.len() > extension.len())
        .map(|extension| file_name.len() - extension.len())
        .or_else(|| file_name.rfind('.').filter(|&dot| dot > 0))
        .unwrap_or(file_name.len());
    let (stem, extension) = file_name.split_at(split);
    let named_after_server = stem == server
        || stem
            .strip_prefix(server)
            .is_some_and(|rest| rest.starts_with('-'));
    let stem = if named_after_server || server.is_empty() {
        stem.to_string()
    } else {
        format!("{server}-{stem}")
    };
    format!("{stem}-{}{extension}", time.format("%Y%m%d-%H%M%S"))
}

/// Checks a name chosen with `clp_mlftp -n`: one file name, no folder (that is `remote_dir`).
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name == "." || name == ".." {
        return Err(format!("\"{name}\" is not a file name"));
    }
    if name.contains('/') {
        return Err(format!(
            "\"{name}\" is a path: give a file name, and set the folder with remote_dir in ftp.toml"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(format!(
            "{name:?} has a control character: an FTP server cannot be sent it"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at() -> DateTime<Local> {
        Local
            .with_ymd_and_hms(2026, 12, 3, 3, 15, 0)
            .single()
            .expect("a plain local time")
    }

    #[test]
    fn the_server_and_the_time_are_in_the_name() {
        assert_eq!(
            history_name("vm-log.tar.gz", "vm", at()),
            "vm-log-20261203-031500.tar.gz"
        );
        assert_eq!(
            history_name("demo-log.tar.gz", "vm", at()),
            "vm-demo-log-20261203-031500.tar.gz"
        );
        assert_eq!(
            history_name("vmx-log.tgz", "vm", at()),
            "vm-vmx-log-20261203-031500.tgz"
        );
        assert_eq!(
            history_name("notes.txt", "vm", at()),
            "vm-notes-20261203-031500.txt"
        );
        assert_eq!(history_name("core", "vm", at()), "vm-core-20261203-031500");
        assert_eq!(
            history_name(".hidden", "vm", at()),
            "vm-.hidden-20261203-031500"
        );
    }

    #[test]
    fn a_chosen_name_is_one_file_name() {
        assert!(check_name("support-case-42.tar.gz").is_ok());
        for bad in ["", ".", "..", "a/b.tar.gz", "a\nb"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
