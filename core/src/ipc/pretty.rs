//! Compact JSON re-indented byte for byte as `serde_json::to_writer_pretty` writes it, without
//! reading it into values: `clpstat --json` passes the daemon's status (~0.5 MB at 1,000
//! monitors) through this instead of decoding it into structs and encoding them again.
//!
//! The input is what `serde_json` writes compactly (no whitespace between tokens; any that
//! is there is dropped); strings and scalars are copied as they are, so the output equals
//! what serde's pretty printer makes of the same value: two spaces per level, `": "` after
//! a key, `{}` and `[]` for empty containers. The structure is checked as far as indenting
//! needs it (brackets match, strings end, one value, no stray comma or colon): a truncated
//! or mangled answer is an error, not half-indented output. It is not a validator of
//! scalars: the daemon that wrote them is serde_json.

use std::io::Write;

/// Why the input is not one well-formed JSON value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("malformed JSON at byte {offset}: {problem}")]
pub struct PrettyError {
    /// Where in the input (all chunks counted) the problem was seen.
    pub offset: usize,
    /// What is wrong.
    pub problem: &'static str,
}

/// Re-indents compact JSON fed in chunks ([`Pretty::feed`]) into a writer; [`Pretty::finish`]
/// checks that one whole value was read.
pub struct Pretty<W: Write> {
    out: W,
    /// Output not yet handed to `out`.
    buffer: Vec<u8>,
    /// The open containers, innermost last (`{` or `[`).
    open: Vec<u8>,
    /// A container was just opened and holds nothing yet: its first item (or its close,
    /// when empty) decides whether a line break comes.
    just_opened: bool,
    in_string: bool,
    /// Inside a string, the previous byte was an unescaped backslash.
    escaped: bool,
    /// The top-level value is complete; only whitespace may follow.
    done: bool,
    /// Bytes consumed before the current chunk.
    offset: usize,
}

/// How much output is gathered before it is written.
const FLUSH_AT: usize = 64 << 10;

impl<W: Write> Pretty<W> {
    /// A re-indenter writing into `out`.
    pub fn new(out: W) -> Pretty<W> {
        Pretty {
            out,
            buffer: Vec::with_capacity(FLUSH_AT + 4096),
            open: Vec::new(),
            just_opened: false,
            in_string: false,
            escaped: false,
            done: false,
            offset: 0,
        }
    }

    /// Re-indents the next chunk of the input.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), std::io::Error> {
        let mut at = 0;
        while at < chunk.len() {
            if self.in_string {
                at = self.string_run(chunk, at);
                continue;
            }
            let byte = chunk[at];
            match byte {
                b' ' | b'\n' | b'\r' | b'\t' => at += 1,
                _ if self.done => return Err(self.malformed(at, "more after the value")),
                b'{' | b'[' => {
                    self.value_starts();
                    self.buffer.push(byte);
                    self.open.push(byte);
                    self.just_opened = true;
                    at += 1;
                }
                b'}' | b']' => {
                    let opener = if byte == b'}' { b'{' } else { b'[' };
                    if self.open.pop() != Some(opener) {
                        return Err(self.malformed(at, "a bracket closes what it did not open"));
                    }
                    if !std::mem::take(&mut self.just_opened) {
                        self.line_break();
                    }
                    self.buffer.push(byte);
                    self.done = self.open.is_empty();
                    at += 1;
                }
                b',' => {
                    if self.just_opened || self.open.is_empty() {
                        return Err(self.malformed(at, "a comma where no item precedes it"));
                    }
                    self.buffer.push(b',');
                    self.line_break();
                    at += 1;
                }
                b':' => {
                    if self.open.last() != Some(&b'{') || self.just_opened {
                        return Err(self.malformed(at, "a colon outside an object's key"));
                    }
                    self.buffer.extend_from_slice(b": ");
                    at += 1;
                }
                b'"' => {
                    self.value_starts();
                    self.buffer.push(b'"');
                    self.in_string = true;
                    at += 1;
                }
                _ => {
                    // A number, true, false or null: copied up to the next structural byte.
                    self.value_starts();
                    let end = chunk[at..]
                        .iter()
                        .position(|b| matches!(b, b',' | b'}' | b']' | b':' | b' ' | b'\n'))
                        .map_or(chunk.len(), |n| at + n);
                    self.buffer.extend_from_slice(&chunk[at..end]);
                    at = end;
                    if self.open.is_empty() && end < chunk.len() {
                        self.done = true;
                    }
                }
            }
            if self.buffer.len() >= FLUSH_AT {
                self.out.write_all(&self.buffer)?;
                self.buffer.clear();
            }
        }
        self.offset += chunk.len();
        Ok(())
    }

    /// Checks that one whole value was read, writes what is left and hands the writer back.
    pub fn finish(mut self) -> Result<W, std::io::Error> {
        if self.in_string || !self.open.is_empty() || (self.buffer.is_empty() && !self.done) {
            return Err(self.malformed(0, "the value ends early"));
        }
        self.out.write_all(&self.buffer)?;
        Ok(self.out)
    }

    /// Copies string bytes from `at` up to and including the closing quote (or the chunk's
    /// end); returns where it stopped. Runs without a quote or a backslash (nearly all of a
    /// status) are found by one scan and copied at once.
    fn string_run(&mut self, chunk: &[u8], at: usize) -> usize {
        let mut end = at;
        if std::mem::take(&mut self.escaped) {
            // The byte after a backslash that ended the previous chunk.
            end += 1;
        }
        while end < chunk.len() {
            match chunk[end..]
                .iter()
                .position(|byte| matches!(byte, b'"' | b'\\'))
            {
                None => end = chunk.len(),
                Some(offset) if chunk[end + offset] == b'"' => {
                    end += offset + 1;
                    self.in_string = false;
                    break;
                }
                Some(offset) => {
                    // A backslash and the byte it escapes (when this chunk holds it).
                    end += offset + 2;
                    if end > chunk.len() {
                        end = chunk.len();
                        self.escaped = true;
                    }
                }
            }
        }
        self.buffer.extend_from_slice(&chunk[at..end]);
        end
    }

    /// A key or a value begins: the first item of a container goes on a line of its own.
    fn value_starts(&mut self) {
        if std::mem::take(&mut self.just_opened) {
            self.line_break();
        }
    }

    /// A new line, indented to the current depth.
    fn line_break(&mut self) {
        const SPACES: &[u8] = &[b' '; 64];
        self.buffer.push(b'\n');
        let mut indent = self.open.len() * 2;
        while indent > 0 {
            let step = indent.min(SPACES.len());
            self.buffer.extend_from_slice(&SPACES[..step]);
            indent -= step;
        }
    }

    fn malformed(&self, at: usize, problem: &'static str) -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            PrettyError {
                offset: self.offset + at,
                problem,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pretty_in_chunks(compact: &[u8], chunk: usize) -> Result<String, std::io::Error> {
        let mut pretty = Pretty::new(Vec::new());
        for part in compact.chunks(chunk.max(1)) {
            pretty.feed(part)?;
        }
        Ok(String::from_utf8(pretty.finish()?).expect("UTF-8 in, UTF-8 out"))
    }

    /// Whatever serde_json writes compactly comes out as its pretty printer writes it, fed
    /// whole or a few bytes at a time.
    #[test]
    fn equals_serde_jsons_pretty_printer() {
        let values = [
            serde_json::json!({
                "a": 1, "b": [], "c": {}, "d": [1, [2, []], {"e": null}],
                "s": "quote \" backslash \\ brace { bracket ] comma , colon : é \u{1f} \n",
                "t": true, "f": false, "n": -1.5e-7, "u": 18446744073709551615_u64,
                "nested": {"x": {"y": {"z": [{"k": "v"}, {}]}}}
            }),
            serde_json::json!([]),
            serde_json::json!({}),
            serde_json::json!("\\"),
            serde_json::json!([["\\\\\""], 0]),
            (0..40).fold(serde_json::json!("deep"), |inner, _| {
                serde_json::json!([inner])
            }),
        ];
        for value in values {
            let compact = serde_json::to_vec(&value).expect("encodes");
            let expected = serde_json::to_string_pretty(&value).expect("encodes");
            for chunk in [1, 2, 3, 7, 1 << 20] {
                assert_eq!(
                    pretty_in_chunks(&compact, chunk).expect("re-indents"),
                    expected
                );
            }
        }
    }

    /// A status as the daemon sends it re-indents to what `clpstat --json` printed from the
    /// decoded struct.
    #[test]
    fn a_status_re_indents_as_its_struct_prints() {
        let text = "[cluster]\nname = \"c\"\n\n[[group]]\nname = \"g\"\n\n[[group.resource]]\nname = \"r\"\nstart = \"/bin/true\"\n\n[[monitor]]\nname = \"u\"\ntype = \"userw\"\ncomment = \"a \\\"quoted\\\" \\u00e9\"\n";
        let config = crate::config::parse_str(text, std::path::Path::new("/nonexistent"))
            .expect("a valid test configuration");
        let status = crate::status::offline_status(&config, None);
        let compact = serde_json::to_vec(&status).expect("encodes");
        let expected = serde_json::to_string_pretty(&status).expect("encodes");
        assert_eq!(
            pretty_in_chunks(&compact, 4096).expect("re-indents"),
            expected
        );
    }

    /// A damaged answer is an error, whichever way it is damaged.
    #[test]
    fn malformed_input_is_an_error() {
        for bad in [
            &b"{\"a\":1"[..],
            b"{\"a\":\"open",
            b"{\"a\":1]",
            b"[1,]x",
            b"{},{}",
            b"[,1]",
            b":1",
            b"",
            b"]",
        ] {
            assert!(
                pretty_in_chunks(bad, 3).is_err(),
                "{:?} should be refused",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
