//! The "did you mean" of every unknown word: one rule for the configuration, the FTP
//! settings and the monitor types' parameters.

/// `unknown key "intervall" (did you mean "interval"?)`.
pub fn unknown_key_message(key: &str, known: &[&str]) -> String {
    match closest(key, known) {
        Some(suggestion) => format!("unknown key \"{key}\" (did you mean \"{suggestion}\"?)"),
        None => format!(
            "unknown key \"{key}\" (known keys: {})",
            known
                .iter()
                .map(|k| format!("\"{k}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The known word closest to `word`, when it is close enough to be a typo.
pub(crate) fn closest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|candidate| (strsim::jaro_winkler(word, candidate), *candidate))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}
