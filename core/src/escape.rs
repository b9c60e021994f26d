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
        if is_escaped(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Appends the visible escape of `c` (one that [`is_escaped`] names) to `out`.
fn push_escape(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c => {
            use std::fmt::Write;
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// Whether `byte` is shown as it is without a look at its character: printable ASCII or a
/// line break (nearly every byte of a rendered table).
fn is_plain(byte: u8) -> bool {
    (b' '..=b'~').contains(&byte) || byte == b'\n'
}

/// The first byte at or after `from` that is not [`is_plain`]. Sixteen bytes are looked at
/// a time without a branch per byte (the compiler makes it a vector compare).
fn next_unplain(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(block) = bytes.get(at..at + 16) {
        if block
            .iter()
            .fold(true, |plain, &byte| plain & is_plain(byte))
        {
            at += 16;
        } else {
            break;
        }
    }
    bytes
        .get(at..)?
        .iter()
        .position(|&byte| !is_plain(byte))
        .map(|offset| at + offset)
}

/// Multi-line `text` (a rendered table, an error of several lines) with each line escaped
/// and the line breaks kept; borrowed when there is nothing to escape. Runs of printable
/// ASCII are passed over (and copied) at once; only the other characters are looked at.
pub fn escape_lines(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    // How much of `text` is in `out` (or needs no copy yet).
    let mut copied = 0;
    let mut next = next_unplain(bytes, 0);
    while let Some(at) = next {
        // `at` starts a character: every byte before it since the last one was ASCII.
        let Some(c) = text.get(at..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        let end = at + c.len_utf8();
        if is_escaped(c) {
            let out = out.get_or_insert_with(|| String::with_capacity(text.len() + 16));
            out.push_str(&text[copied..at]);
            push_escape(out, c);
            copied = end;
        }
        next = next_unplain(bytes, end);
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut out) => {
            out.push_str(&text[copied..]);
            Cow::Owned(out)
        }
    }
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

    /// Each line escaped as [`escape`] escapes it, the breaks kept: for text of every kind
    /// of character, at every position against the sixteen-byte blocks.
    #[test]
    fn lines_are_escaped_as_each_line_alone() {
        let pieces = [
            "a",
            "~",
            " ",
            "\n",
            "\r",
            "\t",
            "\u{1b}",
            "\u{7f}",
            "\u{85}",
            "é",
            "日本",
            "\u{2028}",
            "\u{202e}",
            "\u{10ffff}",
            "\\",
            "0123456789abcdef",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..3000 {
            let mut text = String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut bits = seed;
            for _ in 0..(seed % 40) {
                text.push_str(pieces[(bits % pieces.len() as u64) as usize]);
                bits = bits.rotate_right(5) ^ seed;
            }
            let expected: Vec<Cow<'_, str>> = text.split('\n').map(escape).collect();
            let got = escape_lines(&text);
            assert_eq!(got, expected.join("\n"), "{text:?}");
            let plain = !text.chars().any(|c| c != '\n' && is_escaped(c));
            assert_eq!(matches!(got, Cow::Borrowed(_)), plain, "{text:?}");
        }
    }
}
