//! A JSON writer for the answers the daemon writes by hand (the status, [`crate::status`]'s
//! encoder): byte for byte what serde_json writes, compact or pretty (two spaces), into one
//! buffer, without serde's per-field calls.
//!
//! What it writes as serde_json does: a string's `"` and `\` and its control characters
//! (U+0000–U+001F) escaped, `\b` `\t` `\n` `\f` `\r` by name and the others as `\u00xx` in
//! lower-case hex; everything else (DEL, non-ASCII, U+2028) as it is. Numbers in decimal.
//! Pretty: each key and element on a line of its own indented by two spaces a level, `": "`
//! after a key, an empty object or array as `{}` / `[]`.

/// Writes JSON values into a byte buffer; the caller opens and closes the containers in
/// order (the encoder's structure says where each goes).
pub(crate) struct JsonWriter<'b> {
    out: &'b mut Vec<u8>,
    pretty: bool,
    /// How many containers are open.
    depth: usize,
    /// Whether the innermost open container has nothing in it yet.
    empty: bool,
}

/// What separates two members in pretty form: a comma, a new line and the indentation,
/// cut to the depth (from the second byte when there is no comma); one copy for the three.
static COMMA_NEW_LINE: [u8; 66] = {
    let mut bytes = [b' '; 66];
    bytes[0] = b',';
    bytes[1] = b'\n';
    bytes
};

/// The deepest indentation [`COMMA_NEW_LINE`] holds, in spaces.
const INDENT_HELD: usize = COMMA_NEW_LINE.len() - 2;

/// What each byte becomes inside a JSON string: 0 itself, `u` as `\u00xx`, another letter
/// as a backslash and that letter (serde_json's table).
static ESCAPE: [u8; 256] = {
    let mut table = [0_u8; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

const HEX: &[u8; 16] = b"0123456789abcdef";

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any of the eight bytes of `word` needs an escape (below U+0020, `"` or `\`): the
/// word tests of "Bit Twiddling Hacks" (`hasless`, `haszero`), exact for the word as a whole.
#[inline]
fn needs_escape(word: u64) -> bool {
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    (below_space
        | has_zero(word ^ (ONES * u64::from(b'"')))
        | has_zero(word ^ (ONES * u64::from(b'\\'))))
        != 0
}

impl<'b> JsonWriter<'b> {
    /// A writer appending to `out`; `pretty` as `serde_json::to_writer_pretty`.
    pub(crate) fn new(out: &'b mut Vec<u8>, pretty: bool) -> Self {
        JsonWriter {
            out,
            pretty,
            depth: 0,
            empty: true,
        }
    }

    /// In pretty form, a new line indented to the depth, after a comma when `comma`.
    #[inline]
    fn line_start(&mut self, comma: bool) {
        let spaces = 2 * self.depth;
        let first = spaces.min(INDENT_HELD);
        self.out
            .extend_from_slice(&COMMA_NEW_LINE[usize::from(!comma)..2 + first]);
        let mut spaces = spaces - first;
        while spaces > 0 {
            let now = spaces.min(INDENT_HELD);
            self.out.extend_from_slice(&COMMA_NEW_LINE[2..2 + now]);
            spaces -= now;
        }
    }

    /// What goes before the next key or element: a comma after the first, and in pretty
    /// form a new line.
    #[inline]
    fn separate(&mut self) {
        let comma = !self.empty;
        self.empty = false;
        if self.pretty {
            self.line_start(comma);
        } else if comma {
            self.out.push(b',');
        }
    }

    #[inline]
    fn open(&mut self, bracket: u8) {
        self.out.push(bracket);
        self.depth += 1;
        self.empty = true;
    }

    #[inline]
    fn close(&mut self, bracket: u8) {
        self.depth -= 1;
        if self.pretty && !self.empty {
            self.line_start(false);
        }
        self.out.push(bracket);
        self.empty = false;
    }

    /// Where the next byte goes: the start of what [`Self::since`] returns.
    #[inline]
    pub(crate) fn position(&self) -> usize {
        self.out.len()
    }

    /// What was written since `start` (a [`Self::position`]).
    #[inline]
    pub(crate) fn since(&self, start: usize) -> &[u8] {
        self.out.get(start..).unwrap_or_default()
    }

    /// Members of the open object written before (by a writer of the same form, at the
    /// same depth), appended as they are: the object is then not empty.
    #[inline]
    pub(crate) fn written_members(&mut self, members: &[u8]) {
        self.out.extend_from_slice(members);
        self.empty = false;
    }

    /// `{`.
    #[inline]
    pub(crate) fn begin_object(&mut self) {
        self.open(b'{');
    }

    /// `}`.
    #[inline]
    pub(crate) fn end_object(&mut self) {
        self.close(b'}');
    }

    /// `[`.
    #[inline]
    pub(crate) fn begin_array(&mut self) {
        self.open(b'[');
    }

    /// `]`.
    #[inline]
    pub(crate) fn end_array(&mut self) {
        self.close(b']');
    }

    /// Starts the next element of an array (its value follows).
    #[inline]
    pub(crate) fn element(&mut self) {
        self.separate();
    }

    /// Starts a member of an object whose key is a plain word (nothing to escape: the
    /// encoder's field names), its value to follow.
    #[inline]
    pub(crate) fn key(&mut self, key: &'static str) {
        debug_assert!(key.bytes().all(|b| ESCAPE[usize::from(b)] == 0));
        self.separate();
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out
            .extend_from_slice(if self.pretty { b"\": " } else { b"\":" });
    }

    /// Starts a member whose key is any text (a map's key), escaped.
    #[inline]
    pub(crate) fn key_text(&mut self, key: &str) {
        self.separate();
        self.string(key);
        self.out
            .extend_from_slice(if self.pretty { b": " } else { b":" });
    }

    /// A string value, escaped; runs that need no escape are found eight bytes at a time
    /// and copied at once.
    #[inline]
    pub(crate) fn string(&mut self, text: &str) {
        let bytes = text.as_bytes();
        self.out.reserve(bytes.len() + 2);
        self.out.push(b'"');
        let mut copied = 0;
        let mut at = 0;
        while at < bytes.len() {
            if let Some(word) = bytes.get(at..at + 8)
                && !needs_escape(u64::from_le_bytes(
                    <[u8; 8]>::try_from(word).unwrap_or([0; 8]),
                ))
            {
                at += 8;
                continue;
            }
            let byte = bytes[at];
            let escape = ESCAPE[usize::from(byte)];
            if escape != 0 {
                self.out.extend_from_slice(&bytes[copied..at]);
                copied = at + 1;
                if escape == b'u' {
                    self.out.extend_from_slice(&[
                        b'\\',
                        b'u',
                        b'0',
                        b'0',
                        HEX[usize::from(byte >> 4)],
                        HEX[usize::from(byte & 0xf)],
                    ]);
                } else {
                    self.out.extend_from_slice(&[b'\\', escape]);
                }
            }
            at += 1;
        }
        self.out.extend_from_slice(&bytes[copied..]);
        self.out.push(b'"');
    }

    /// A string that is known to need no escape (an enum's word), copied as it is.
    #[inline]
    pub(crate) fn word(&mut self, word: &'static str) {
        debug_assert!(word.bytes().all(|b| ESCAPE[usize::from(b)] == 0));
        self.out.push(b'"');
        self.out.extend_from_slice(word.as_bytes());
        self.out.push(b'"');
    }

    /// A number.
    #[inline]
    pub(crate) fn number(&mut self, number: u64) {
        self.out
            .extend_from_slice(itoa::Buffer::new().format(number).as_bytes());
    }

    /// `true` or `false`.
    #[inline]
    pub(crate) fn boolean(&mut self, value: bool) {
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    /// `null`.
    #[inline]
    pub(crate) fn null(&mut self) {
        self.out.extend_from_slice(b"null");
    }

    /// A number, or `null`.
    #[inline]
    pub(crate) fn optional_number(&mut self, number: Option<u64>) {
        match number {
            Some(number) => self.number(number),
            None => self.null(),
        }
    }

    /// A string, or `null`.
    #[inline]
    pub(crate) fn optional_string(&mut self, text: Option<&str>) {
        match text {
            Some(text) => self.string(text),
            None => self.null(),
        }
    }

    /// An array of strings.
    #[inline]
    pub(crate) fn strings<'s>(&mut self, texts: impl IntoIterator<Item = &'s str>) {
        self.begin_array();
        for text in texts {
            self.element();
            self.string(text);
        }
        self.end_array();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The eight-byte test says what the table says of each byte, wherever it stands
    /// among others.
    #[test]
    fn a_word_needs_an_escape_when_one_of_its_bytes_does() {
        for byte in 0..=255_u8 {
            for at in 0..8 {
                for fill in [b'a', 0x80, 0xff, b' ', b'!', b'#', b'[', b']'] {
                    let mut word = [fill; 8];
                    word[at] = byte;
                    assert_eq!(
                        needs_escape(u64::from_le_bytes(word)),
                        ESCAPE[usize::from(byte)] != 0,
                        "{byte:#x} at {at} among {fill:#x}"
                    );
                }
            }
        }
    }

    /// Every byte a string can hold, single and in runs, and every nesting shape, as serde
    /// writes them, compact and pretty.
    #[test]
    fn strings_and_shapes_are_what_serde_writes() {
        let mut every: String = (0_u8..0x80).map(char::from).collect();
        every.push_str("é\u{2028}\u{2029}\u{7f}\u{85}\u{10ffff}日本");
        let deep = "x".repeat(40);
        for pretty in [false, true] {
            let mut out = Vec::new();
            let mut json = JsonWriter::new(&mut out, pretty);
            json.begin_object();
            json.key_text("a \"key\"\n");
            json.strings(["", "\\", "\u{1}"]);
            json.key("deep");
            for _ in 0..40 {
                json.begin_array();
                json.element();
            }
            json.string(&deep);
            for _ in 0..40 {
                json.end_array();
            }
            json.key("empty_array");
            json.begin_array();
            json.end_array();
            json.key("empty_object");
            json.begin_object();
            json.end_object();
            json.key("every");
            json.string(&every);
            json.key("numbers");
            json.begin_array();
            for n in [Some(0), Some(u64::MAX), None] {
                json.element();
                json.optional_number(n);
            }
            json.element();
            json.boolean(true);
            json.element();
            json.boolean(false);
            json.element();
            json.optional_string(None);
            json.end_array();
            json.end_object();
            let mut nested = serde_json::json!(deep);
            for _ in 0..40 {
                nested = serde_json::json!([nested]);
            }
            let mut value = serde_json::Map::new();
            // In the keys' order: the order of serde_json's map, whether or not it keeps
            // insertion order.
            value.insert("a \"key\"\n".into(), serde_json::json!(["", "\\", "\u{1}"]));
            value.insert("deep".into(), nested);
            value.insert("empty_array".into(), serde_json::json!([]));
            value.insert("empty_object".into(), serde_json::json!({}));
            value.insert("every".into(), every.clone().into());
            value.insert(
                "numbers".into(),
                serde_json::json!([0, u64::MAX, null, true, false, null]),
            );
            let expected = if pretty {
                serde_json::to_string_pretty(&value)
            } else {
                serde_json::to_string(&value)
            }
            .expect("encodes");
            assert_eq!(String::from_utf8(out).expect("utf-8"), expected);
        }
    }
}
