//! Reading `[monitor.parameters]`: typed getters that collect every problem, so one parse
//! function per type serves both the validator (the problems) and the constructor (the
//! values).

/// A password read from the parameters: usable as a `&str`, shown by `Debug` only as
/// `(hidden)`, and without `Display`, so it cannot slip into a log line or a detail text.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a password.
    pub fn new(password: impl Into<String>) -> Secret {
        Secret(password.into())
    }
}

impl From<String> for Secret {
    fn from(password: String) -> Secret {
        Secret(password)
    }
}

impl From<&str> for Secret {
    fn from(password: &str) -> Secret {
        Secret(password.to_string())
    }
}

impl std::ops::Deref for Secret {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("(hidden)")
    }
}

/// Reads one parameters table, collecting problems instead of stopping at the first.
#[derive(Debug)]
pub struct ParamReader<'a> {
    table: &'a toml::Table,
    problems: Vec<String>,
}

impl<'a> ParamReader<'a> {
    /// A reader of `table`.
    pub fn new(table: &'a toml::Table) -> Self {
        Self {
            table,
            problems: Vec::new(),
        }
    }

    /// Records a problem of a key (`key "port": ...`).
    pub fn problem(&mut self, key: &str, message: impl std::fmt::Display) {
        self.problems.push(format!("key \"{key}\": {message}"));
    }

    /// A string, or `default` when absent.
    pub fn string(&mut self, key: &str, default: &str) -> String {
        match self.table.get(key) {
            None => default.to_string(),
            Some(toml::Value::String(value)) => value.clone(),
            Some(other) => {
                self.problem(key, format!("{other} is not a string"));
                default.to_string()
            }
        }
    }

    /// A string that must be given.
    pub fn required_string(&mut self, key: &str) -> String {
        if !self.table.contains_key(key) {
            self.problems.push(format!("key \"{key}\" is missing"));
        }
        self.string(key, "")
    }

    /// An integer within `min..=max`, or `default` when absent.
    pub fn integer(&mut self, key: &str, default: i64, min: i64, max: i64) -> i64 {
        match self.table.get(key) {
            None => default,
            Some(toml::Value::Integer(value)) if (min..=max).contains(value) => *value,
            Some(toml::Value::Integer(value)) => {
                self.problem(key, format!("{value} is out of range ({min} to {max})"));
                default
            }
            Some(other) => {
                self.problem(key, format!("{other} is not an integer"));
                default
            }
        }
    }

    /// A switch, written `true`/`false` or the original's `1`/`0`.
    pub fn flag(&mut self, key: &str, default: bool) -> bool {
        match self.table.get(key) {
            None => default,
            Some(toml::Value::Boolean(value)) => *value,
            Some(toml::Value::Integer(0)) => false,
            Some(toml::Value::Integer(1)) => true,
            Some(other) => {
                self.problem(key, format!("{other} is not true/false (or 1/0)"));
                default
            }
        }
    }

    /// One of `choices`, or `default` when absent.
    pub fn choice(&mut self, key: &str, default: &str, choices: &[&str]) -> String {
        let value = self.string(key, default);
        if !choices.contains(&value.as_str()) {
            self.problem(
                key,
                format!("\"{value}\" is not one of {}", choices.join(", ")),
            );
            return default.to_string();
        }
        value
    }

    /// A list of strings (a single string is a list of one).
    pub fn string_list(&mut self, key: &str) -> Vec<String> {
        match self.table.get(key) {
            None => Vec::new(),
            Some(toml::Value::String(value)) => vec![value.clone()],
            Some(toml::Value::Array(items)) => {
                let mut list = Vec::new();
                for item in items {
                    match item {
                        toml::Value::String(value) => list.push(value.clone()),
                        other => self.problem(key, format!("{other} is not a string")),
                    }
                }
                list
            }
            Some(other) => {
                self.problem(key, format!("{other} is not a list of strings"));
                Vec::new()
            }
        }
    }

    /// `ipaddress` (default `127.0.0.1`) and `port` (default `default_port`): where a
    /// network monitor's `server` (`"SMTP server"`) answers.
    pub fn server(&mut self, server: &str, default_port: u16) -> (String, u16) {
        let ipaddress = self.string("ipaddress", "127.0.0.1");
        if ipaddress.trim().is_empty() {
            self.problem(
                "ipaddress",
                format!("is empty; name the {server}'s address"),
            );
        }
        let port = u16::try_from(self.integer("port", i64::from(default_port), 1, 65535))
            .unwrap_or(default_port);
        (ipaddress, port)
    }

    /// `username` and `password` (default empty) sent on a line protocol: a line break or
    /// NUL in either would end the command early, so it is a problem.
    pub fn line_credentials(&mut self) -> (String, String) {
        let username = self.string("username", "");
        let password = self.string("password", "");
        for (key, value) in [("username", &username), ("password", &password)] {
            if value.contains(['\r', '\n', '\0']) {
                self.problem(key, "must not contain a line break or a NUL character");
            }
        }
        (username, password)
    }

    /// `encrypwd`: the original's flag for a password encrypted by its tool, which this
    /// version cannot read; a set flag is a problem saying what to write instead.
    pub fn refuse_encrypted_password(&mut self) {
        if self.flag("encrypwd", false) {
            self.problem(
                "encrypwd",
                "encrypted passwords are not supported by this version; write the password itself and set encrypwd = 0",
            );
        }
    }

    /// The problems, including every key not in `known` (with a suggestion).
    pub fn finish(mut self, known: &[&str]) -> Vec<String> {
        let mut problems = super::spec::unknown_parameters(self.table, known);
        problems.append(&mut self.problems);
        problems
    }
}

/// The values of a parse whose problems are none, or the first problem: what a type's
/// build function needs (the validator has already reported them all).
pub fn valid<P>((params, problems): (P, Vec<String>)) -> Result<P, String> {
    match problems.into_iter().next() {
        Some(problem) => Err(problem),
        None => Ok(params),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_usable_but_never_shown() {
        let secret = Secret::new("hunter2");
        assert_eq!(&*secret, "hunter2");
        assert_eq!(format!("{secret:?}"), "(hidden)");
        assert_eq!(format!("{:?}", Some(secret)), "Some((hidden))");
    }

    #[test]
    fn every_problem_is_collected() {
        let table: toml::Table = "port = 70000\nhttps = 2\nservername = 1\nrequsturi = \"/\""
            .parse()
            .unwrap();
        let mut reader = ParamReader::new(&table);
        assert_eq!(reader.integer("port", 80, 1, 65535), 80);
        assert!(!reader.flag("https", false));
        assert_eq!(reader.string("servername", "localhost"), "localhost");
        let problems = reader.finish(&["port", "https", "servername", "requesturi"]);
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].contains("did you mean \"requesturi\""));
    }
}
