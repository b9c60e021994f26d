//! `[cluster] language`: what it changes, what a push says about it, and the language of a
//! configuration of the original (its `<all><charset>`).
//!
//! The language is the WebManager's, as the original's cluster property is: `ja` gives its
//! pages, its alert-log viewer and its integrated viewer in Japanese. The commands print
//! English in either language, as the original's commands do (its Japanese manuals show
//! `clpstat` and `clpcl` in English), and the alert texts and mails stay English: the
//! original's Japanese alert catalogue is not known to clp.

use super::Config;

/// The languages clp has.
pub const LANGUAGES: &[&str] = &["en", "ja"];

/// What `language = "ja"` changes and what it leaves in English.
pub const JAPANESE_SCOPE: &str = "language \"ja\" shows the WebManager's pages in Japanese; the commands' output, the alert texts and mails stay in English (the original's commands print English too, and its Japanese alert texts are not known to clp)";

/// What a push says of the language: the scope of Japanese when the pushed configuration
/// turns it on.
pub fn push_note(before: Option<&Config>, after: &Config) -> Option<String> {
    let was = before.map_or("en", |config| config.cluster.language.as_str());
    (after.cluster.language == "ja" && was != "ja").then(|| JAPANESE_SCOPE.to_string())
}

/// The language of the original's `<all><charset>` and what to say about it: Japanese
/// character sets mean the original's language was Japanese; Chinese is not one of clp's.
pub fn from_original_charset(charset: &str) -> (Option<&'static str>, Option<String>) {
    let upper = charset.trim().to_ascii_uppercase();
    match upper.as_str() {
        "EUC-JP" | "EUCJP" | "EUC-JP-MS" | "SJIS" | "SHIFT_JIS" | "SHIFT-JIS" | "CP932"
        | "WINDOWS-31J" | "MS932" => (
            Some("ja"),
            Some(format!(
                "<all><charset> {charset}: the original was set to Japanese, so [cluster] language = \"ja\": {JAPANESE_SCOPE}"
            )),
        ),
        "" | "ASCII" | "US-ASCII" => (None, None),
        "GB2312" | "GBK" | "GB18030" => (
            None,
            Some(format!(
                "<all><charset> {charset}: the original was set to Chinese, which clp does not have (it has {}): the WebManager is in English",
                LANGUAGES.join(", ")
            )),
        ),
        _ => (
            None,
            Some(format!(
                "<all><charset> {charset} does not tell the original's language: the WebManager is in English; set [cluster] language = \"ja\" for Japanese"
            )),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_charsets_give_japanese_and_say_what_it_changes() {
        let (language, note) = from_original_charset("EUC-JP");
        assert_eq!(language, Some("ja"));
        assert!(note.unwrap().contains("WebManager's pages in Japanese"));
        assert_eq!(from_original_charset("sjis").0, Some("ja"));
        assert_eq!(from_original_charset("ASCII"), (None, None));
        let (language, note) = from_original_charset("GB2312");
        assert_eq!(language, None);
        assert!(note.unwrap().contains("Chinese"));
    }

    #[test]
    fn a_push_turning_japanese_on_says_its_scope_once() {
        let dir = tempfile::tempdir().unwrap();
        let paths = crate::paths::Paths::new(dir.path());
        let english = Config::default_for(&paths);
        let mut japanese = english.clone();
        japanese.cluster.language = "ja".into();
        assert!(push_note(None, &japanese).is_some());
        assert!(push_note(Some(&english), &japanese).is_some());
        assert!(push_note(Some(&japanese), &japanese).is_none());
        assert!(push_note(Some(&japanese), &english).is_none());
    }
}
