//! The one rule of what is a secret, shared by everything that shows or ships a
//! configuration: `clpstat -i --detail`, the WebManager's configuration view and the log
//! collection (`clplogcc`), which masks every secret of every configuration it collects and
//! never collects a secret file.

/// What operators see instead of a secret value.
pub const SECRET_MASK: &str = "********";

/// Words that make a configuration key a secret wherever they appear in it.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "credential",
    "private_key",
    "privatekey",
    "apikey",
    "api_key",
];

/// Whether the configuration key `key` (`password`, `smtp_password`, `db.passwd`, `token`,
/// ...) holds a secret: its value is never shown, logged or collected.
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    let last = key.rsplit(['.', '/']).next().unwrap_or(&key);
    SECRET_WORDS.iter().any(|word| key.contains(word))
        || matches!(last, "pass" | "pwd" | "pw" | "key")
        || last.ends_with("_pass")
        || last.ends_with("_pwd")
}

/// Whether a file, by its name, holds a secret and is never collected: TLS and issuer
/// private keys (`*.key`, `*.pem`), `*.secret`, password files.
pub fn is_secret_file(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        ".key",
        ".secret",
        ".pem",
        ".p12",
        ".pfx",
        ".pass",
        ".password",
    ]
    .iter()
    .any(|end| name.ends_with(end))
        || name.contains("password")
        || name.contains("passwd")
        || name.contains("secret")
}

/// `table` with the value of every secret key, at any depth, replaced by [`SECRET_MASK`].
pub fn mask_table(table: &mut toml::Table) {
    for (key, value) in table.iter_mut() {
        if is_secret_key(key) {
            *value = toml::Value::String(SECRET_MASK.to_string());
        } else {
            mask_value(value);
        }
    }
}

fn mask_value(value: &mut toml::Value) {
    match value {
        toml::Value::Table(table) => mask_table(table),
        toml::Value::Array(items) => items.iter_mut().for_each(mask_value),
        _ => {}
    }
}

/// The text of a configuration file with every secret masked. TOML is masked line by line
/// when that keeps its layout and comments and the result, parsed again, has every secret
/// masked; otherwise (a secret in an inline table or a multi-line string) it is parsed,
/// masked key by key and written anew. Any other text (the original's XML, `key=value`
/// files, a TOML file that does not parse) is masked line by line: `key = value`,
/// `key: value` and `<key>value</key>`.
pub fn mask_config_text(text: &str) -> String {
    if let Ok(mut table) = text.parse::<toml::Table>() {
        let by_line = mask_lines(text);
        if by_line
            .parse::<toml::Table>()
            .is_ok_and(|masked| every_secret_masked(&masked))
        {
            return by_line;
        }
        mask_table(&mut table);
        if let Ok(masked) = toml::to_string(&table) {
            return masked;
        }
    }
    mask_lines(text)
}

/// Whether every secret key of `table`, at any depth, holds [`SECRET_MASK`].
fn every_secret_masked(table: &toml::Table) -> bool {
    fn value_masked(value: &toml::Value) -> bool {
        match value {
            toml::Value::Table(table) => every_secret_masked(table),
            toml::Value::Array(items) => items.iter().all(value_masked),
            _ => true,
        }
    }
    table.iter().all(|(key, value)| {
        if is_secret_key(key) {
            value.as_str() == Some(SECRET_MASK)
        } else {
            value_masked(value)
        }
    })
}

/// `text` masked line by line (scripts, files that are not TOML): `key = value`,
/// `key: value`, `export KEY=value` and `<key>value</key>` with a secret key.
pub fn mask_lines(text: &str) -> String {
    let mut masked = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        masked.push_str(&mask_line(line));
    }
    masked
}

/// One line of a configuration with a secret value masked.
fn mask_line(line: &str) -> String {
    let ending = &line[line.trim_end_matches(['\r', '\n']).len()..];
    let body = &line[..line.len() - ending.len()];
    if let Some(open) = body.find('<')
        && let Some(close) = body[open..].find('>').map(|i| open + i)
    {
        let tag = body[open + 1..close]
            .split_whitespace()
            .next()
            .unwrap_or("");
        if is_secret_key(tag.trim_end_matches('/')) && !body[open + 1..close].ends_with('/') {
            let end = body[close..].find("</").map_or(body.len(), |i| close + i);
            return format!("{}{SECRET_MASK}{}{ending}", &body[..=close], &body[end..]);
        }
    }
    if let Some(at) = body.find(['=', ':']) {
        let key = body[..at].trim().trim_matches(['"', '\'']);
        if !key.is_empty() && is_secret_key(key) {
            // Quoted, so that TOML stays TOML and a shell does not expand it; a space after
            // the sign only where there was one (a shell's `KEY=value` has none).
            let gap = if body[at + 1..].starts_with([' ', '\t']) {
                " "
            } else {
                ""
            };
            return format!("{}{gap}\"{SECRET_MASK}\"{ending}", &body[..=at]);
        }
    }
    // A secret this rule cannot see (a bare multi-line string) is left; the tarball's
    // MANIFEST says configurations are masked by key.
    line.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_names_every_kind_of_secret() {
        for key in [
            "password",
            "smtp_password",
            "db.passwd",
            "Token",
            "client_secret",
            "pass",
            "key",
            "api_key",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in ["username", "host", "interval", "keyword", "monkey"] {
            assert!(!is_secret_key(key), "{key}");
        }
        assert!(is_secret_file("webmgr.key"));
        assert!(is_secret_file("smtp.secret"));
        assert!(is_secret_file("ftp.password"));
        assert!(!is_secret_file("clp.conf"));
        assert!(!is_secret_file("XSS10.pub"));
    }

    #[test]
    fn toml_is_masked_at_every_depth() {
        let text = "[cluster]\nname = \"c\"\n[[monitor]]\nname = \"m\"\n[monitor.parameters]\npassword = \"hunter2\"\nnested = { token = \"t0k3n\" }\n";
        let masked = mask_config_text(text);
        assert!(
            !masked.contains("hunter2") && !masked.contains("t0k3n"),
            "{masked}"
        );
        assert!(masked.contains("name = \"m\""), "{masked}");
    }

    #[test]
    fn toml_keeps_its_layout_and_comments_when_it_can() {
        let text = "# the web server\n[[monitor]]\nname = \"m\"   # aligned\n[monitor.parameters]\npassword = \"hunter2\"\n";
        assert_eq!(
            mask_config_text(text),
            "# the web server\n[[monitor]]\nname = \"m\"   # aligned\n[monitor.parameters]\npassword = \"********\"\n"
        );
        let multi = "password = \"\"\"\nhunter2\n\"\"\"\n";
        assert!(!mask_config_text(multi).contains("hunter2"));
    }

    #[test]
    fn other_text_is_masked_line_by_line() {
        let text = "<monitor>\n  <password>hunter2</password>\n  <user>u</user>\n</monitor>\nsecret: s3\nbroken = [\npasswd=pw9\n";
        let masked = mask_config_text(text);
        for secret in ["hunter2", "s3", "pw9"] {
            assert!(!masked.contains(secret), "{secret} in {masked}");
        }
        assert!(masked.contains("<password>********</password>"), "{masked}");
        assert!(masked.contains("<user>u</user>"), "{masked}");
        // A shell assignment stays one.
        assert_eq!(
            mask_lines("export DB_PASSWORD=pw9\nDB_USER=u\n"),
            "export DB_PASSWORD=\"********\"\nDB_USER=u\n"
        );
    }
}
