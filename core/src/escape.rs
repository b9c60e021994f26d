//! The one escaping of text that reaches a log line or a terminal.
//!
//! Whatever a user, a client or a configuration puts in a message (`clplogcmd -m`, a
//! `Hello`'s client name, a group name) must not start a new line in `alert.log`, move a
//! terminal's cursor, or reorder what an operator reads. [`escape`] turns every character that
//! could — newline, carriage return, ESC and every other C0 and C1 control, DEL, and the
//! Unicode bidirectional and line-separator controls — into a visible escape (`\n`, `\r`,
//! `\t`, `\u{1b}`, `\u{202e}`); everything else, backslashes included, stays as it is.

use std::borrow::Cow;

/// Whether `c` is shown escaped: controls (C0, DEL, C1), bidi controls (U+061C, U+200E,
/// U+200F, U+202A–U+202E, U+2066–U+2069) and the line and paragraph separators.
pub fn is_escaped(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every character [`is_escaped`] names written as a visible escape; borrowed
/// when there is nothing to escape.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_escaped) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_escaped(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Multi-line `text` (a rendered table, an error of several lines) with each line escaped
/// and the line breaks kept.
pub fn escape_lines(text: &str) -> Cow<'_, str> {
    // Printable ASCII and line breaks (nearly every table) need no look at characters.
    if text
        .bytes()
        .all(|b| b == b'\n' || (b' '..=b'~').contains(&b))
        || !text.chars().any(|c| c != '\n' && is_escaped(c))
    {
        return Cow::Borrowed(text);
    }
    let lines: Vec<Cow<'_, str>> = text.split('\n').map(escape).collect();
    Cow::Owned(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_become_visible_escapes() {
        assert_eq!(
            escape("x\n2026/12/02 17:00:00.000 Error"),
            "x\\n2026/12/02 17:00:00.000 Error"
        );
        assert_eq!(
            escape("a\rb\tc\u{1b}[2Jd\u{7f}"),
            "a\\rb\\tc\\u{1b}[2Jd\\u{7f}"
        );
        assert_eq!(escape("\u{85}\u{9b}"), "\\u{85}\\u{9b}");
        assert_eq!(
            escape("evil\u{202e}txt.exe\u{2066}\u{2069}\u{200e}\u{200f}\u{2028}"),
            "evil\\u{202e}txt.exe\\u{2066}\\u{2069}\\u{200e}\\u{200f}\\u{2028}"
        );
        assert!(matches!(escape("plain – ünïcode \\n"), Cow::Borrowed(_)));
    }

    #[test]
    fn lines_keep_their_breaks() {
        assert_eq!(escape_lines("a\u{1b}\nb\r\n"), "a\\u{1b}\nb\\r\n");
        assert!(matches!(escape_lines("a\nb\n"), Cow::Borrowed(_)));
        // Past the printable ASCII of the quick look: DEL, and text that needs none.
        assert_eq!(escape_lines("a\u{7f}\n~ \n"), "a\\u{7f}\n~ \n");
        assert!(matches!(escape_lines("é – ü\n"), Cow::Borrowed(_)));
    }
}
