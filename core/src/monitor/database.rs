//! What the database monitors (`psqlw`, `mysqlw`) share: their detail codes, the
//! original's `docreatedrop` levels and the rule for a watch table's name.

use super::params::ParamReader;

/// The detail code of a server that cannot be reached.
pub const CONNECT_FAILED: u32 = 1;
/// The detail code of a session the server refused.
pub const SESSION_REFUSED: u32 = 2;
/// The detail code of a statement that failed.
pub const STATEMENT_FAILED: u32 = 3;
/// The detail code of a value read back that is not the one written.
pub const WRONG_VALUE: u32 = 4;

/// What each check does (`docreatedrop`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `3`: select only.
    Select,
    /// `0`: update, then select (the default).
    UpdateSelect,
    /// `1`: create, insert, select and drop the table each time.
    CreateDrop,
}

/// Reads `docreatedrop` (default 0); `2` (the original's level for other databases) is a
/// problem naming the monitor type `kind`.
pub fn read_level(reader: &mut ParamReader<'_>, kind: &str) -> Level {
    match reader.integer("docreatedrop", 0, 0, 3) {
        3 => Level::Select,
        1 => Level::CreateDrop,
        2 => {
            reader.problem(
                "docreatedrop",
                format!(
                    "2 is not a {kind} level; use 3 (select), 0 (update/select) or 1 (create/drop)"
                ),
            );
            Level::UpdateSelect
        }
        _ => Level::UpdateSelect,
    }
}

/// Whether `name` is `identifier` or `qualifier.identifier` in unquoted SQL, each part at
/// most `longest` characters.
pub fn is_sql_name(name: &str, longest: usize) -> bool {
    let identifier = |part: &str| {
        let mut chars = part.chars();
        part.len() <= longest
            && chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    };
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() <= 2 && parts.iter().all(|part| identifier(part))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_the_originals_numbers() {
        for (text, level, problems) in [
            ("", Level::UpdateSelect, 0),
            ("docreatedrop = 3", Level::Select, 0),
            ("docreatedrop = 0", Level::UpdateSelect, 0),
            ("docreatedrop = 1", Level::CreateDrop, 0),
            ("docreatedrop = 2", Level::UpdateSelect, 1),
            ("docreatedrop = 4", Level::UpdateSelect, 1),
        ] {
            let table: toml::Table = text.parse().unwrap();
            let mut reader = ParamReader::new(&table);
            assert_eq!(read_level(&mut reader, "psqlw"), level, "{text}");
            assert_eq!(reader.finish(&["docreatedrop"]).len(), problems, "{text}");
        }
    }

    #[test]
    fn table_names() {
        assert!(is_sql_name("psqlwatch", 63));
        assert!(is_sql_name("public.psqlwatch", 63));
        assert!(is_sql_name("_w$1", 63));
        assert!(!is_sql_name("1watch", 63));
        assert!(!is_sql_name("a.b.c", 63));
        assert!(!is_sql_name("drop table x", 63));
        assert!(!is_sql_name(&"w".repeat(64), 63));
        assert!(is_sql_name(&"w".repeat(64), 64));
    }
}
